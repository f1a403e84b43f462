package store

import (
	"errors"
	"fmt"
)

// Record is a small document the API core keeps under an app, by kind and id: a user, a one-time
// login code, a consent to a subscribe message. The store keeps its bytes as given and reads
// nothing in them.
type Record struct {
	// Kind groups records ("user", "code", …): lower-case letters, digits and '_' only.
	Kind string
	// ID names the record within its kind: any non-empty string.
	ID string
	// Data is the core's encoding of the record.
	Data []byte
}

// RecordKey names a record of an app: its kind and id (both empty: none).
type RecordKey struct {
	Kind, ID string
}

// SeedRecord is a record the configuration holds (App NoApp: a record of no app).
type SeedRecord struct {
	App    string
	Record Record
}

// ErrRecordsFull is returned (wrapped) by PutRecord for a new record when the app holds as many
// records as the store keeps per app.
var ErrRecordsFull = errors.New("too many records")

// CheckRecordKey reports whether kind and id may name a record: kind non-empty, of a-z, 0-9 and
// '_' only; id non-empty. Every store checks it first.
func CheckRecordKey(kind, id string) error {
	if kind == "" || id == "" {
		return fmt.Errorf("store: a record needs a kind and an id (got %q, %q)", kind, id)
	}
	for _, c := range []byte(kind) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return fmt.Errorf("store: record kind %q: only a-z, 0-9 and '_'", kind)
		}
	}
	return nil
}
