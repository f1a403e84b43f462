package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/config/configtest"
	"github.com/smartappmock/smartappmock/internal/teststores"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/mockserver/admin"
	"github.com/smartappmock/smartappmock/mockserver/observe"
	"github.com/smartappmock/smartappmock/store"
	"github.com/smartappmock/smartappmock/store/memstore"
	"github.com/smartappmock/smartappmock/store/redisstore"
)

// testClock is a clock tests move by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock {
	return &testClock{t: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fixture is a ready fake with its clock.
type fixture struct {
	t     *testing.T
	srv   *testSandbox
	clock *testClock
}

// setup returns a fake built from a YAML configuration ("" means configtest.Strict).
func setup(t *testing.T, yamlConfig string) *fixture {
	t.Helper()
	return setupOpts(t, yamlConfig, nil)
}

// setupOpts is setup with a chance to change the options before the fake is built.
func setupOpts(t *testing.T, yamlConfig string, change func(*mockserver.Options)) *fixture {
	t.Helper()
	if yamlConfig == "" {
		yamlConfig = configtest.Strict
	}
	cfg := configtest.Parse(t, yamlConfig)
	clock := newTestClock()
	opts := mockserver.Options{Config: cfg, Now: clock.Now}
	if change != nil {
		change(&opts)
	}
	srv, err := newSandbox(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return &fixture{t: t, srv: srv, clock: clock}
}

// response is an answer with its decoded body.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// do serves one request and checks the answer against openapi.yaml: every response the fake
// writes in tests must honour the contract.
func (f *fixture) do(req *http.Request) response {
	f.t.Helper()
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, req)
	res := response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
	if !strings.HasPrefix(req.URL.Path, admin.Prefix) {
		check := httptest.NewRequest(req.Method, req.URL.String(), bytes.NewReader(body))
		check.Header = req.Header.Clone()
		if vs := f.srv.Core.Spec().CheckResponse(check, res.Status, res.Header, res.Body); len(vs) > 0 {
			f.t.Errorf("%s %s: response breaks openapi.yaml: %v\nbody: %s", req.Method, req.URL, vs, res.Body)
		}
	}
	return res
}

// sendForm posts a urlencoded send with the token in the query.
func (f *fixture) sendForm(token string, form url.Values) response {
	f.t.Helper()
	target := smartappmock.SendPath
	if token != "" {
		target += "?access_token=" + url.QueryEscape(token)
	}
	req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return f.do(req)
}

// text is a valid text message form to openID.
func text(openID, content string) url.Values {
	return url.Values{"user_type": {"1"}, "open_id": {openID}, "msg_type": {"text"}, "content": {content}, "pic_url": {""}}
}

// outcome decodes an answer into a comparable form: layer and code, and the message.
type outcome struct {
	Layer smartappmock.Layer
	Code  int
	Msg   string
}

func (r response) outcome(t *testing.T) outcome {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, r.Body)
	}
	if _, ok := m["errno"]; ok {
		return outcome{smartappmock.LayerBusiness, int(m["errno"].(float64)), m["msg"].(string)}
	}
	if _, ok := m["error_code"]; ok {
		return outcome{smartappmock.LayerGateway, int(m["error_code"].(float64)), m["error_msg"].(string)}
	}
	if e, ok := m["error"]; ok {
		return outcome{smartappmock.LayerOAuth, r.Status, e.(string)}
	}
	return outcome{smartappmock.LayerOAuth, r.Status, "ok"}
}

// token fetches an access token for a client with the GET form the SDKs use.
func (f *fixture) token(clientID, secret string) string {
	f.t.Helper()
	q := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret}, "scope": {"smartapp_snsapi_base"}}
	res := f.do(httptest.NewRequest(http.MethodGet, smartappmock.TokenPath+"?"+q.Encode(), nil))
	if res.Status != http.StatusOK {
		f.t.Fatalf("token for %s: %d %s", clientID, res.Status, res.Body)
	}
	var tr smartappmock.TokenResponse
	if err := json.Unmarshal(res.Body, &tr); err != nil {
		f.t.Fatal(err)
	}
	return tr.AccessToken
}

// admin calls the admin API with a JSON body (or none) and decodes the JSON answer into out.
func (f *fixture) admin(method, path, body string, out any) int {
	f.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	res := f.do(req)
	if out != nil {
		if err := json.Unmarshal(res.Body, out); err != nil {
			f.t.Fatalf("%s %s: %v: %s", method, path, err, res.Body)
		}
	}
	return res.Status
}

func (f *fixture) journal(filter store.Query) []store.Entry {
	f.t.Helper()
	es, err := f.srv.Core.Store().Journal(context.Background(), filter)
	if err != nil {
		f.t.Fatal(err)
	}
	return es
}

// multipartBody builds a multipart/form-data body of the given fields.
func multipartBody(t *testing.T, fields [][2]string) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, kv := range fields {
		if err := mw.WriteField(kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return mw.FormDataContentType(), buf.Bytes()
}

func mustUnmarshal(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
}

// testSandbox is a sandbox as the command serves it: with its metrics at /metrics.
type testSandbox struct {
	*Sandbox
	metrics *observe.Metrics
	handler http.Handler
}

func (s *testSandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Metrics returns the sandbox's Prometheus registry.
func (s *testSandbox) Metrics() *prometheus.Registry { return s.metrics.Registry() }

// newSandbox builds a sandbox with the admin API open (no token) and metrics.
func newSandbox(o mockserver.Options) (*testSandbox, error) {
	return newSandboxAdmin(o, admin.Options{})
}

// newSandboxAdmin is newSandbox with admin options.
func newSandboxAdmin(o mockserver.Options, a admin.Options) (*testSandbox, error) {
	if o.Store == nil {
		jc := 0
		if o.Config != nil {
			jc = o.Config.Policy.JournalCap
		}
		o.Store = memstore.New(jc)
	}
	m := observe.NewMetrics(o.Store)
	o.Observe = m.Observe
	if a.StreamDropped == nil {
		a.StreamDropped = m.InboxStreamDropped
	}
	sb, err := New(o, a)
	if err != nil {
		return nil, err
	}
	return &testSandbox{Sandbox: sb, metrics: m, handler: m.Wrap(sb)}, nil
}

// subscribe follows the store's live feed from now on: every entry recorded later arrives on the
// channel, until the test ends or stop is called.
func subscribe(t testing.TB, st store.Store) (<-chan store.Entry, func()) {
	t.Helper()
	head, err := st.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan store.Entry, 256)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(ch)
		for cursor := head; ; {
			es, err := st.Feed(ctx, cursor, 64)
			if err != nil {
				return
			}
			for _, e := range es {
				select {
				case ch <- e:
				case <-ctx.Done():
					return
				}
				cursor = e.Seq
			}
		}
	}()
	stop := func() { cancel(); <-done }
	t.Cleanup(stop)
	return ch, sync.OnceFunc(stop)
}

// sharedStore is a store several replicas of a test share, by name.
type sharedStore struct {
	name     string
	newStore func(t *testing.T) store.Store
}

// sharedStores are the stores of the tests of replicas that push: memory, and Redis (miniredis)
// with its push configuration and outbox, which teststores.Each's clock wrapper hides.
func sharedStores() []sharedStore {
	return []sharedStore{
		{"Memory", func(*testing.T) store.Store { return memstore.New(100) }},
		{"Redis", func(t *testing.T) store.Store {
			m := miniredis.RunT(t)
			s, err := redisstore.Open(context.Background(), "redis://"+m.Addr(), redisstore.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			return teststores.Patient(s)
		}},
	}
}
