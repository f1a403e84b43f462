package sandbox

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/store"
	"github.com/smartappmock/smartappmock/store/memstore"
)

// downStore is a memory store that stops answering while down is set, as a Redis that went away.
type downStore struct {
	*memstore.Store
	down atomic.Bool
}

var errDown = errors.New("dial unix /tmp/redis.sock: connect: connection refused")

func (d *downStore) Token(ctx context.Context, v string) (store.Token, bool, error) {
	if d.down.Load() {
		return store.Token{}, false, errDown
	}
	return d.Store.Token(ctx, v)
}

func (d *downStore) App(ctx context.Context, id string) (store.App, bool, error) {
	if d.down.Load() {
		return store.App{}, false, errDown
	}
	return d.Store.App(ctx, id)
}

// Lookup fails while down, as the first step of a send on a Redis that went away.
func (d *downStore) Lookup(ctx context.Context, token, fallback string) (store.Lookup, error) {
	return d.LookupWith(ctx, token, fallback, store.RecordKey{})
}

// LookupWith fails while down, as Lookup does.
func (d *downStore) LookupWith(ctx context.Context, token, fallback string, probe store.RecordKey) (store.Lookup, error) {
	if d.down.Load() {
		return store.Lookup{}, errDown
	}
	return d.Store.LookupWith(ctx, token, fallback, probe)
}

func (d *downStore) Ping(ctx context.Context) error {
	if d.down.Load() {
		return errDown
	}
	return nil
}

// TestStoreDown_GatewayCode2AndNotReady stops the store: sends and token requests answer Baidu's
// "service unavailable" gateway envelope with HTTP 200 and the cause in the reason header, ready
// answers 503; when the store is back, both work again without a restart.
func TestStoreDown_GatewayCode2AndNotReady(t *testing.T) {
	t.Parallel()
	st := &downStore{Store: memstore.New(100)}
	f := setupOpts(t, "", func(o *mockserver.Options) { o.Store = st })
	token := func() *httptest.ResponseRecorder {
		q := url.Values{"grant_type": {"client_credentials"}, "client_id": {"key-a"}, "client_secret": {"secret-a"}}
		rec := httptest.NewRecorder()
		f.srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, smartappmock.TokenPath+"?"+q.Encode(), nil))
		return rec
	}
	ready := func() int {
		rec := httptest.NewRecorder()
		f.srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/__admin/ready", nil))
		return rec.Code
	}
	st.down.Store(true)
	res := f.sendForm("static-token-a", text("user-a", "hi"))
	if got := string(res.Body); res.Status != 200 || got != `{"error_code":2,"error_msg":"Service temporarily unavailable"}` {
		t.Errorf("send with the store down: %d %s", res.Status, got)
	}
	if r := res.Header.Get(smartappmock.HeaderReason); r != "store: "+errDown.Error() {
		t.Errorf("reason %q, want the store's error", r)
	}
	if rec := token(); rec.Code != 200 || rec.Body.String() != `{"error_code":2,"error_msg":"Service temporarily unavailable"}` {
		t.Errorf("token with the store down: %d %s", rec.Code, rec.Body)
	}
	if code := ready(); code != http.StatusServiceUnavailable {
		t.Errorf("ready with the store down: %d, want 503", code)
	}
	st.down.Store(false)
	if got := f.sendForm("static-token-a", text("user-a", "hi")).Header.Get(smartappmock.HeaderOutcome); got != "business 0" {
		t.Errorf("send with the store back: %s", got)
	}
	if rec := token(); rec.Code != 200 || ready() != 200 {
		t.Errorf("with the store back: token %d, ready %d", rec.Code, ready())
	}
}
