// Package report is the verdict model that the contract kits share: graded case results, the
// report that gathers them, and its renderings.
//
// Each kit (the client suite of package contract, contract/verify for a server, contract/webhook
// for a bot's receiver) judges its cases into Findings, turns them into Results with ResultOf, and
// hands back a Report.
//
// A Report renders as a readable summary (WriteText: case, grade, pass/fail, and for a failure the
// reason with a line diff of expected against actual) and as JUnit XML (WriteJUnit); ExitCode is 0
// when every must-case passed and 1 otherwise.
package report
