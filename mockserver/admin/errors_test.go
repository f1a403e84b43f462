package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/smartappmock/smartappmock/store"
)

func TestStoreFailed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		err    error
		status int
		want   string
	}{
		{"UnknownApp_404", fmt.Errorf("update app: %w %q", store.ErrUnknownApp, "token-1"), 404, `store: update app: unknown app "token-1"`},
		{"OtherFailure_500", errors.New("dial unix /tmp/redis.sock: connect: connection refused"), 500, "store: dial unix /tmp/redis.sock: connect: connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			StoreFailed(rec, tt.err)
			var got ErrorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatalf("body %q: %v", rec.Body, err)
			}
			if rec.Code != tt.status || got.Error != tt.want {
				t.Errorf("StoreFailed(%v) = %d %q, want %d %q", tt.err, rec.Code, got.Error, tt.status, tt.want)
			}
		})
	}
}
