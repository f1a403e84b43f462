package admin

import (
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestLoginDelay_FreeThenDoublingUpToAMinute(t *testing.T) {
	t.Parallel()
	var got []time.Duration
	for n := 1; n <= 12; n++ {
		got = append(got, loginDelay(n))
	}
	s := time.Second
	want := []time.Duration{0, 0, 0, s, 2 * s, 4 * s, 8 * s, 16 * s, 32 * s, time.Minute, time.Minute, time.Minute}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("loginDelay mismatch (-want +got):\n%s", diff)
	}
	if loginDelay(1000) != time.Minute {
		t.Errorf("loginDelay(1000) = %s", loginDelay(1000))
	}
}

func TestLoginThrottle_MemoryBounded(t *testing.T) {
	t.Parallel()
	var th loginThrottle
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range loginMaxAddrs * 3 {
		th.failed(fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), now)
	}
	if n := th.size(); n > loginMaxAddrs {
		t.Errorf("the throttle remembers %d addresses, want at most %d", n, loginMaxAddrs)
	}
}

func TestLoginThrottle_QuietAddressForgotten(t *testing.T) {
	t.Parallel()
	var th loginThrottle
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for range 5 {
		th.failed("192.0.2.1", now)
	}
	if d := th.wait("192.0.2.1", now); d != 2*time.Second {
		t.Fatalf("wait after 5 failures = %s, want 2s", d)
	}
	later := now.Add(loginForget + time.Second)
	if n, d := th.failed("192.0.2.1", later); n != 1 || d != 0 {
		t.Errorf("a failure after %s of quiet: failures %d, wait %s; want 1 and 0", loginForget, n, d)
	}
}

func TestClientKey_IPv6ByItsSlash64(t *testing.T) {
	t.Parallel()
	tests := []struct{ remote, want string }{
		{"192.0.2.7:4000", "192.0.2.7"},
		{"[2001:db8:1:2:aaaa::1]:4000", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2:bbbb::9]:4001", "2001:db8:1:2::/64"},
		{"[::1]:80", "::1"},
		{"pipe", "pipe"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tt.remote
		if got := clientKey(r); got != tt.want {
			t.Errorf("clientKey(%q) = %q, want %q", tt.remote, got, tt.want)
		}
	}
}
