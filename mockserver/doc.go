// Package mockserver is the fake Baidu Smart Mini Program server: an http.Handler that answers the
// send-customer-service-message API and the OAuth token endpoint the way the real service does, and
// an admin API that lets tests change its state and read what was sent.
//
// # Request pipeline
//
// Every request outside /__admin/ is routed by openapi.yaml (the spec's route finder decides which
// paths exist; an unknown path answers gateway error_code 3). A send then goes through:
//
//  1. Parameters: the query string and the body (urlencoded, multipart; a urlencoded body sent as
//     JSON only with policy.lenient_json) are merged, body first; every value keeps its source.
//  2. Gateway layer, in order: no token (100); a magic token error_code_<N> (N); unknown or refresh
//     token (110); expired on the app's clock (111); gateway rules; QPS limit (18); daily limit (17).
//  3. Business layer, in order: openapi.yaml's SendForm schema and its x-smartapp-required-when rules
//     (3001); business rules; a magic open_id errno_<N> (N); open_id of another app (30022);
//     capability off (90002); the window — 5 replies within 48 hours of the user's last message —
//     checked and counted atomically (90001); success (errno 0).
//  4. Journal, then answer: the entry is recorded before the answer is written. A matching fault
//     plan (config, admin API, magic open_id fault_<kind>) instead turns the decided answer into a
//     network failure and records the entry with what the fault did (fault.go); the decision, and
//     the window it counted, stand.
//
// Every answer is HTTP 200 with one envelope; the reason (which field, which rule, which limit)
// goes in the X-Smartappmock-Reason header, the journal and the log, never in the body. Messages
// come from x-smartapp-codes in openapi.yaml.
//
// # State
//
// All mutable state lives behind Store, one tenant per app: windows, counters, clock offset,
// capability and a bounded journal. MemoryStore is the default; a shared store for several replicas
// implements the same atomic operations.
//
// # Admin routes
//
//	GET  /__admin/health                   liveness (open even with an admin token)
//	GET  /__admin/config                   the configuration in force, secrets hidden
//	GET  /__admin/rules                    rules with their use counts
//	PUT  /__admin/rules                    replace every rule: {"rules":[...]}
//	GET  /__admin/apps                     every app with its state
//	GET  /__admin/apps/{app}               one app: clock, limits, counters, windows, journal size
//	POST /__admin/apps/{app}/messages      the user wrote: {"open_id":"..."} opens a fresh window
//	PUT  /__admin/apps/{app}/capability    {"enabled":false} turns customer service off
//	POST /__admin/apps/{app}/clock         {"advance":"49h"} moves the app's clock forward
//	POST /__admin/apps/{app}/reset         forget the app's windows, counters, journal, clock
//	GET  /__admin/requests                 the journal, newest first: ?app=&open_id=&outcome=&limit=
//	POST /__admin/reset                    reset every app and the rules' use counts
//	GET  /__admin/faults                   fault plans with their state (fault_admin.go)
//	PUT  /__admin/faults                   replace every fault plan: {"faults":[...]}
//	POST /__admin/faults/reset             restart the plans and their seeded random sources
//	GET  /__admin/ca                       the CA certificate (PEM) of the HTTPS listener and proxy
//	GET  /__admin/ui                       the inbox: a live web view of the journal (inbox.go)
//
// Outside the admin API, GET /metrics serves Prometheus metrics (metrics.go), and a CONNECT or
// absolute-URL request for openapi.baidu.com is answered as a proxy (proxy.go).
package mockserver
