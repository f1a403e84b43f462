package mockserver

import "testing"

func TestBaiduShaped(t *testing.T) {
	t.Parallel()
	tests := []struct {
		token string
		want  bool
	}{
		{"24.0123456789abcdef0123456789abcdef.2592000.1795000000.282335-10001", true},
		{"45.0123456789abcdef0123456789abcdef.2592000.1.282335-my-app", true},
		{"24.0123456789ABCDEF0123456789abcdef.2592000.1.282335-1", false},
		{"24.0123456789abcdef.2592000.1.282335-1", false},
		{"24.0123456789abcdef0123456789abcdef.2592000.1.282335", false},
		{"any-token", false},
		{"error_code_110", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := baiduShaped(tt.token); got != tt.want {
			t.Errorf("baiduShaped(%q) = %v, want %v", tt.token, got, tt.want)
		}
	}
}
