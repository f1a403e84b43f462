// Package contract is the contract kit of smartappmock: it runs a real client of Baidu's
// "send customer-service message" API through every outcome the real service can give, and checks a
// server against openapi.yaml.
//
// # Client side
//
// The catalogue (Cases) holds named cases, each graded GradeMust (what Baidu requires) or
// GradeShould (good practice). For each case the kit starts its own fake (package mockserver) on a
// loopback port with its own app, forces the outcome the case needs with config rules, or injects a
// transport fault (HTTP 502/503, a dropped connection, a malformed body, a slow answer) in a handler
// in front of the fake, asks the client to send one or more messages, and then judges what the client
// SENT, from the fake's journal and the kit's own record of the raw requests, and what the client
// SAID (delivered or not, and which code it saw). The client's word is never enough: a client that
// says "delivered" when the fake answered errno 3001 fails.
//
// A Go client plugs in with Run inside the user's own go test:
//
//	func TestContract(t *testing.T) {
//		contract.Run(t, func(c contract.Conn) contract.Client {
//			return mysender.New(c.BaseURL, c.ClientID, c.ClientSecret)
//		})
//	}
//
// A client in any language plugs in as a command (Suite.RunCommand, or the CLI
// `smartappmock contract run -- <command…>`): the kit runs the command once per message with the
// case's inputs in environment variables (see CommandEnv) and reads the outcome from the exit status
// (0 delivered, non-zero not delivered) and an optional last line of JSON on stdout naming the code
// the client saw: {"errno":3001} or {"error_code":110}.
//
// With Suite.Target set, the cases run against an already running fake (e.g. the Docker sandbox):
// rules and faults are set (each scoped to one case's app) and the journal read through its admin
// API (contract/internal/target); the target's own rules and faults are put back afterwards. On a
// target without fault injection the fault cases are skipped with the reason.
//
// # Server side
//
// Package contract/verify sends safe probes (a token, a wrong secret, a bad grant, a send without a
// token, a send with a bad token, a send with missing fields, and one valid send) to a server and
// checks every response (status, headers, body) against openapi.yaml, in a report.Report.
// Against the real service it fetches one token, sends one real message (unless Options.NoSend) and
// counts toward the app's limits. The webhook kit (contract/webhook) drives a bot's receiver.
//
// # Reports
//
// Every kit hands back a report.Report (package contract/report): WriteText renders the readable
// summary, WriteJUnit the JUnit XML, and ExitCode is 0 when every must-case passed and 1 otherwise.
package contract
