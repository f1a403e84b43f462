// Package baidupush speaks Baidu's message push (消息推送) to a developer's server: the wire
// protocol of the pushes with which Baidu hands a user's customer-service message to a bot, as
// docs/baidu-push.md describes it byte for byte. Like tlsca, it imports nothing of this module:
// the fake's configuration (config embeds Config in apps[].push), its API core and the webhook
// contract kit build on it, and a Go bot may use Open to verify and decrypt pushes.
//
// # The pieces
//
//   - Config is one app's push configuration (url, token, encoding_aes_key, mode, format, …),
//     checked by Validate and completed by WithDefaults.
//   - Message is what the user wrote; MarshalFormat renders it in Baidu's JSON or XML.
//   - Signature, MsgSignature, Encrypt and Decrypt are Baidu's crypto: sha1 over the sorted
//     strings, AES-256-CBC with iv = key[:16] and a PKCS#7-style padding to 32-byte blocks (so
//     padding runs from 1 to 32 bytes: a 16-byte unpadder fails on 17 to 32).
//   - Encode turns a message into the query and body of one POST (a Request); Open is the
//     reverse, the way a careful bot verifies and decrypts (for tests and Go bots).
//   - Handshake runs the verification handshake of the console; Deliver and DeliverAll send
//     pushes with retries and report every Attempt in a Result.
//   - Fields, EncodeFields and DeliverFields do the same for a free-form push: any fields (an
//     event, a MsgType Baidu does not document), through the same envelopes and crypto.
//   - EncodePlatform, DeliverPlatform and OpenPlatform are a third-party platform's pushes (the
//     ticket, TicketMessage, and the authorization events, AuthorizationEvent): JSON, encrypted,
//     in the documented body envelope, nothing in the query, the platform key as trailing id.
//
// # One delivery
//
//	validate config and message -> draw timestamp, nonce, random prefix (WithClock, WithRand)
//	-> Encode once -> [Delay] -> for each attempt: copy the Request, run the request hooks
//	(WrongSignature, WithRequestHook), POST with Config.Timeout, judge the answer
//	-> on the first acknowledgement stop ([Duplicate]: send the same bytes once more)
//
// An acknowledgement is a 2xx answer whose body is exactly "success" or empty. Anything else, a
// timeout or a connection error is retried, Config.Retries times, with the same bytes and hence
// the same MsgId. Faults are Options: Duplicate, Delay, WrongSignature, OutOfOrder (for
// DeliverAll), and WithRequestHook for faults of a caller's own; their names are recorded in
// Result.Faults.
//
// # Decisions on what Baidu does not document
//
// docs/baidu-push.md marks as [inf] what is inferred rather than documented. Each is the default
// here and, where it makes sense, a setting:
//
//   - Compatible mode (兼容, named but never described): the plain message fields plus Encrypt
//     in the body, as on WeChat; signature, timestamp, nonce and msg_signature in the query.
//     Setting: mode.
//   - Handshake parameters, query or form body: both. Setting: handshake (both, query, form).
//   - Number of retries: 3 attempts in all. Setting: retries (default 2). Their spacing is not
//     documented either: at once. Setting: retry_delay (default 0).
//   - Plain pushes carry signature, timestamp and nonce: yes, in the query, as on WeChat.
//     Setting: unsigned_plain.
//   - The trailing id of the encrypted block: the app's client_id (App Key). Setting: client_id
//     (named after the $clientId of Baidu's PHP sample, which checks it).
//   - The secure envelope for a mini program's own URL: the query form (msg_signature,
//     timestamp, nonce in the query; {"Encrypt"} or <xml><ToUserName/><Encrypt/></xml> in the
//     body), as the third-party C# SDK parses it. Setting: envelope: body gives the documented
//     third-party shape ({"Nonce","TimeStamp","Encrypt","MsgSignature"}; in XML the same
//     elements, also inferred).
//   - The third-party code for a missing customer-service grant (90002) belongs to sendbytp,
//     not to this package.
//
// Smaller choices of this package, also not documented by Baidu (no settings):
//
//   - Secure pushes carry signature in the query too (WeChat does); a bot may ignore it.
//   - Encrypt holds the message in the configured format: JSON for json, XML for xml.
//   - A retry resends the same bytes (same timestamp, nonce and random prefix), so that a
//     retry and a duplicate look alike to the bot; dedup by MsgId as Baidu advises.
//   - The acknowledgement must be exactly "success" or empty: "success\n" or "SUCCESS" are not
//     trimmed, and the failure reason calls them a near miss.
//   - The handshake is one attempt and needs a 2xx status as well as the echoStr body.
//   - Redirects are not followed (handshake and pushes): a 3xx is a failed attempt.
//   - Content-Type is application/json or text/xml; charset=utf-8; the handshake form is
//     application/x-www-form-urlencoded.
//   - Nonces are random decimal numbers (up to 10 digits, like Baidu's "4464221"), echoStr up
//     to 20 digits; the random prefix is 16 random bytes (the PHP sample uses 16 letters and
//     digits; decoders skip it either way).
//   - XML strings are CDATA sections (a "]]>" inside is split), numbers are bare, and there is
//     no XML declaration, as in Baidu's sample.
//   - Validate accepts any port so that a bot on loopback can be tested; Baidu's console allows
//     only 80 and 443 [doc].
//   - MsgId generators should stay at or below MaxSafeMsgID (2^53-1), as docs/baidu-push.md
//     advises; Message itself accepts any positive int64.
package baidupush
