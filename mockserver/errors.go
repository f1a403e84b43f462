package mockserver

import (
	"errors"
	"fmt"
)

// ErrorCode is the machine-readable kind of an Error: what an adapter (the admin API, a test
// helper) needs to answer it, an HTTP status for instance.
type ErrorCode string

// The codes of the core's domain actions (UserWrites, SetPush).
const (
	// ErrInvalid is an input the action refuses: a message without content, an unknown fault.
	ErrInvalid ErrorCode = "invalid"
	// ErrNotFound is an app the store does not know.
	ErrNotFound ErrorCode = "not_found"
	// ErrUnsupported is a store that lacks what the action needs (store.Pusher).
	ErrUnsupported ErrorCode = "unsupported"
	// ErrRefused is a push configuration the bot refused in the verification handshake; the
	// Error wraps the *baidupush.HandshakeError with what was sent and what came back.
	ErrRefused ErrorCode = "refused"
	// ErrStore is a store that failed.
	ErrStore ErrorCode = "store"
)

// Error is the error of a domain action of the core: a code to act on and a message to show.
type Error struct {
	// Code says what kind of error it is.
	Code ErrorCode
	// Message says what went wrong, in one sentence for a person.
	Message string
	// Err is the cause, if any.
	Err error
}

// Error returns the message.
func (e *Error) Error() string { return e.Message }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// ErrorCodeOf returns the code of the *Error in err's chain; "" for nil or an error of another
// kind.
func ErrorCodeOf(err error) ErrorCode {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// invalid returns an ErrInvalid error.
func invalid(format string, args ...any) *Error {
	return &Error{Code: ErrInvalid, Message: fmt.Sprintf(format, args...)}
}

// storeFailed returns an ErrStore error for a store call that failed.
func storeFailed(err error) *Error {
	return &Error{Code: ErrStore, Message: "store: " + err.Error(), Err: err}
}
