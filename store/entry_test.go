package store

import "testing"

func TestEntry_FaultKind(t *testing.T) {
	t.Parallel()
	tests := []struct{ fault, want string }{
		{"", ""},
		{"http_503 (faults[0])", "http_503"},
		{"latency 1.2s + reset (faults[1])", "reset"},
		{"latency 200ms (slow)", ""},
		{"timeout (magic:fault_timeout); held 2m0s, then closed", "timeout"},
		{"truncated (a (nested) name)", "truncated"},
		{"a + + b (x)", "+ b"}, // the last part as strings.Split cuts it
		{"reset + latency 1s (x)", ""},
	}
	for _, tt := range tests {
		if got := (&Entry{Fault: tt.fault}).FaultKind(); got != tt.want {
			t.Errorf("FaultKind of %q = %q, want %q", tt.fault, got, tt.want)
		}
	}
}
