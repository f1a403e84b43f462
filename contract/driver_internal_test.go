package contract

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCodeLine(t *testing.T) {
	t.Parallel()
	type got struct {
		Code  int
		Named bool
	}
	for _, tc := range []struct {
		name, stdout string
		want         got
	}{
		{"Errno", "sending...\n{\"errno\":90001,\"msg\":\"x\"}\n", got{90001, true}},
		{"ErrorCode", `{"error_code":110}`, got{110, true}},
		{"Success", `{"errno":0}`, got{0, true}},
		{"TransportError", `{"error":"timeout"}`, got{}},
		{"NotLast", "{\"errno\":3001}\ndone\n", got{}},
		{"NotJSON", "errno 3001", got{}},
		{"StringNumber", `{"errno":"3001"}`, got{}},
		{"Empty", "", got{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, n := codeLine([]byte(tc.stdout))
			if diff := cmp.Diff(tc.want, got{c, n}); diff != "" {
				t.Errorf("codeLine(%q) mismatch (-want +got):\n%s", tc.stdout, diff)
			}
		})
	}
}

func FuzzCodeLine(f *testing.F) {
	for _, s := range []string{`{"errno":3001}`, `{"error_code":110}`, "x\n{\"errno\":0}", "{", ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, stdout []byte) {
		code, named := codeLine(stdout)
		if !named && code != 0 {
			t.Fatalf("codeLine(%q) = %d, false; an unnamed code must be 0", stdout, code)
		}
	})
}
