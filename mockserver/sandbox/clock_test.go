package sandbox

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/config/configtest"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/mockserver/admin"
	"github.com/smartappmock/smartappmock/store/redisstore"
)

// TestReplicaClocks_OnRedisTheStoresClockDecides runs two replicas on one Redis store, one with
// its clock three hours behind and one three hours ahead: a token either issues, a user message
// either records, and a send either serves all take Redis's clock, so the replicas agree.
func TestReplicaClocks_OnRedisTheStoresClockDecides(t *testing.T) {
	ctx := context.Background()
	m := miniredis.RunT(t)
	redisNow := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	m.SetTime(redisNow)
	st, err := redisstore.Open(ctx, "redis://"+m.Addr(), redisstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg := configtest.Parse(t, configtest.Strict)
	replica := func(skew time.Duration) http.Handler {
		sb, err := New(mockserver.Options{Config: cfg, Store: st, Now: func() time.Time { return time.Now().Add(skew) }}, admin.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return sb
	}
	behind, ahead := replica(-3*time.Hour), replica(3*time.Hour)
	do := func(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}

	res := do(behind, httptest.NewRequest(http.MethodGet, smartappmock.TokenPath+"?grant_type=client_credentials&client_id=key-a&client_secret=secret-a", nil))
	var tok smartappmock.TokenResponse
	if err := json.Unmarshal(res.Body.Bytes(), &tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token: %d %s (%v)", res.Code, res.Body, err)
	}
	issued, found, err := st.Token(ctx, tok.AccessToken)
	if err != nil || !found {
		t.Fatalf("the issued token is not in the store (%v)", err)
	}
	if !issued.Issued.Equal(redisNow) {
		t.Errorf("token issued at %s, want Redis's time %s", issued.Issued, redisNow)
	}

	res = do(ahead, httptest.NewRequest(http.MethodPost, admin.Prefix+"/apps/1001/messages", strings.NewReader(`{"open_id":"user-x"}`)))
	if res.Code != http.StatusOK {
		t.Fatalf("user message: %d %s", res.Code, res.Body)
	}
	ws, err := st.Windows(ctx, "1001")
	if err != nil {
		t.Fatal(err)
	}
	var opened time.Time
	for _, w := range ws {
		if w.OpenID == "user-x" {
			opened = w.OpenedAt
		}
	}
	if !opened.Equal(redisNow) {
		t.Errorf("window opened at %s, want Redis's time %s", opened, redisNow)
	}

	send := httptest.NewRequest(http.MethodPost, smartappmock.SendPath+"?access_token="+tok.AccessToken,
		strings.NewReader("user_type=1&open_id=user-x&msg_type=text&content=hi"))
	send.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res = do(behind, send)
	if got := res.Header().Get(smartappmock.HeaderOutcome); got != "business 0" {
		t.Errorf("send through the other replica: outcome %q (%s), want business 0", got, res.Body)
	}
}
