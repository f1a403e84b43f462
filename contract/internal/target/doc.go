// Package target is the contract kit's hold on a running fake (`contract run --target URL`): it
// puts a run's rules, faults and sandbox apps there through the admin API, reads back each app's
// journal (and the requests it records), and puts the fake's own rules and faults back when the
// run ends.
//
// Its only user is package contract; the admin API's wire shapes and typed client are package
// mockserver/admin's.
package target
