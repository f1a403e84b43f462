// Package mockserver is the API core of the fake Baidu Smart Mini Program server: an http.Handler
// that answers the send-customer-service-message API and the OAuth token endpoint the way the real
// service does. The admin API (package admin), the inbox (inbox), the proxy (proxy), the metrics
// and the journal file (observe) are separate packages that wrap it; package sandbox composes them
// as the command and mockservertest serve them.
//
// # Request pipeline
//
// Every request is routed by openapi.yaml (the spec's route finder decides which paths exist; an
// unknown path answers gateway error_code 3). A send then goes through:
//
//  1. Read and parse: the body (at most 1 MiB; a body that did not fully arrive answers 3001 and
//     counts nothing), then the query string and the body (urlencoded, multipart; a urlencoded
//     body sent as JSON only with policy.lenient_json) merged, body first, into a
//     smartappmock.SendRequest whose every value keeps its source (package params). More than params.MaxParams
//     parameters answer 3001.
//  2. Decide (a Decision: layer, code, reason, rule). Gateway layer, in order: no token (100); a
//     magic token error_code_<N> (N); unknown or refresh token (110); expired on the app's clock
//     (111); gateway rules; QPS limit (18); daily limit (17). Business layer, in order:
//     openapi.yaml's SendForm schema and its x-smartapp-required-when rules (3001); business
//     rules; a magic open_id errno_<N> (N); open_id of another app (30022: the configured lists,
//     then policy.open_ids against the app's users, users.go); capability off
//     (90002); the window — 5 replies within 48 hours of the user's last message — checked and
//     counted atomically (90001); success (errno 0).
//  3. Render and deliver: an HTTP 200 envelope, or, when a fault plan (config, admin API, magic
//     open_id fault_<kind>) picks the send, the same answer through package fault. The decision,
//     and the window it counted, stand.
//  4. Record once, before the answer leaves: the journal entry is appended to the store (and
//     handed to Options.Observe) right before the first byte reaches the client, in one place
//     (deliver), with what the client was told; a send that a fault picked is appended once the
//     fault is delivered (its status is known only then).
//
// Every answer is HTTP 200 with one envelope; the reason (which field, which rule, which limit)
// goes in the X-Smartappmock-Reason header, the journal and the log, never in the body. Messages
// come from x-smartapp-codes in openapi.yaml. When the store does not answer, a send answers
// gateway error_code 2 with the cause in the reason header.
//
// # State
//
// A Server keeps no mutable state of its own: apps, tokens, windows, counters, the rules and fault
// plans with their use counts and sequence steps, and the journal all live behind its
// store.Store, which offers them as atomic primitives and decides nothing of Baidu's. The whole
// decision of a send is written once, in decide.go: the order above, with each stateful step one
// primitive (Lookup reads the token, its app and the plans' versions in one step; TakeCounts the
// rules' uses and the limits; TakeReply the window; TakeFault a plan's step), and every reason
// worded from the facts the store returns (reasons.go). The rules and fault plans are decoded
// once per version (plans.go). Several Servers on one store are replicas: they agree on every window
// and limit, a rule or fault plan changed through one is in force on the others at their next
// request, and starting one never resets what the others counted (the configuration is seeded
// where the store does not hold it yet).
//
// # Warnings
//
// An answer the real service would not give (a sandbox leniency, a magic value, a rule) carries
// one X-Smartappmock-Warning header value per WarningKind, and the journal entry lists them; the
// body never changes (warnings.go, docs/fidelity.md).
//
// # A user writes
//
// Server.UserWrites is the domain action behind "a user writes to the app's customer service"
// (userwrites.go): the window opens on the app's clock, each message gets a MsgId from the
// store's counter and a journal entry, and the messages are pushed to the app's bot with
// package baidupush, the app's and the call's push faults applied and every attempt journaled
// (pushdelivery.go; store.Entry.Push holds the attempt). AppPush and SetPush read and set an
// app's push configuration (SetPush after Baidu's verification handshake). The admin API's
// routes, the inbox's composer (through the admin route), mockservertest and the webhook
// contract kit all call these; their errors are *Error, a code and a message. PushFields
// (pushfields.go) pushes free-form fields (an event, another MsgType, a message with fields
// overridden) the same way.
//
// # The outbox
//
// Once StartDelivery runs a replica's delivery loop (outbox.go; the command always does),
// UserWrites and Redeliver put a delivery job in the store's outbox (store.Outbox) instead of
// delivering within the call: each replica claims jobs with a lease, delivers them with a
// bounded pool of workers, renews the lease, and finishes each job with its results, which the
// caller waiting on any replica reads back; a dead replica's jobs are claimed again when their
// lease expires. Stop drains the loop at shutdown. Pushes, Push and Redeliver read the delivery
// log from the journal (pushlog.go).
//
// # Every endpoint beside the send
//
// Login, UnionID, the platform's lookups, subscribe and template messages and the content checks
// are calls of one pipeline (call.go) and one decision, the send's (decide.go): the credentials
// (an access token as a send's; the v1 login's client_id and sk or the platform token where the
// endpoint declares its own), the fault plans and magic fault_<kind> values, a fault before the
// service, the gateway rules and, where the endpoint declares them, the QPS and daily limits
// counted per endpoint; then the business layer: the operation's form in openapi.yaml
// (x-smartapp-form, internal/spec's CheckForm), then the endpoint's own checks, each endpoint's
// order written in its file. An endpoint is declared once (an endpoint value): its journal name,
// its credentials, whether the limits count it, how it reads its body, and how it renders a
// parameter error; its answers (the v1 login's spapi envelope, OAuth errors with HTTP 400, the
// business errno envelopes with data) are rendered by the call, at the edge, and journaled once.
// subscribe.go sends a subscribe message on a user's consent (a store record taken atomically:
// one message per consent; Subscribe, Unsubscribe and Subscriptions are the admin API's
// actions); templatesend.go sends a legacy template message on a form or payment scene
// (NewScene), its quota a store counter; contentcheck.go checks a text, an image and a user's
// action by the configured word lists.
//
// # Third-party platforms
//
// tp.go serves the endpoints a third-party platform gets its tokens from: the platform token (42.)
// from its key and ticket, a pre-authorization code, and the authorizer tokens (45./46.) for an
// authorization code (AuthorizePlatform stands in for the mini program's consent) or a single-use
// refresh token. An authorizer token sends on custom/sendbytp; CheckPlatformGrant decides whether
// its platform may send for the app. tppush.go pushes a platform (platforms[].push) its ticket,
// on a schedule (RunTicketSchedule) and on demand, and the authorization events (PlatformPush),
// journaling each push pending then delivered or failed; servePushLog answers
// pushmsg/getmsg from that journal.
//
// # Users and login
//
// users.go keeps an app's users (apps[].users, CreateUser) and their one-time login codes as
// store records; User is how the other features read them. The login, UnionID and platform lookup
// endpoints (login.go, tplookup.go) are calls of the pipeline beside the send (call.go).
// EncryptUserData (userdata.go) encrypts a user's data as the client hands it to the back end.
package mockserver
