package mockserver_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/smartappmock/smartappmock/mockserver"
)

func TestErrorCodeOf(t *testing.T) {
	t.Parallel()
	cause := errors.New("connection refused")
	tests := []struct {
		name string
		err  error
		want mockserver.ErrorCode
	}{
		{"Nil_NoCode", nil, ""},
		{"OtherError_NoCode", cause, ""},
		{"Error_ItsCode", &mockserver.Error{Code: mockserver.ErrNotFound, Message: "unknown app"}, mockserver.ErrNotFound},
		{"WrappedError_ItsCode", fmt.Errorf("setting up: %w", &mockserver.Error{Code: mockserver.ErrStore, Message: "store: down", Err: cause}), mockserver.ErrStore},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := mockserver.ErrorCodeOf(tt.err); got != tt.want {
				t.Errorf("ErrorCodeOf(%v) = %q; want %q", tt.err, got, tt.want)
			}
		})
	}
	e := &mockserver.Error{Code: mockserver.ErrStore, Message: "store: down", Err: cause}
	if e.Error() != "store: down" || !errors.Is(e, cause) {
		t.Errorf("Error %v: want its message, unwrapping to its cause", e)
	}
}
