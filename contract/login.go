package contract

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/contract/report"
	"github.com/smartappmock/smartappmock/internal/spec"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/store"
)

// The login kit: the cases of a back end's login (a swan.login code for the user's open_id and
// session_key, on v1 jscode2sessionkey, v2 getsessionkey or the platform's getsessionkeybycode:
// the client's choice) and its UnionID lookup (getunionid). Each case starts its own fake with its
// own app, makes the user and the code through the fake's core, hands them to the client, and
// judges what the client sent (the fake's journal, the raw requests against openapi.yaml) and
// what it said.

// Session is what a login answers: the user's open_id and the session_key.
type Session struct {
	OpenID, SessionKey string
}

// LoginClient is what a Go user implements around their own login code. Login exchanges a code
// of swan.login (once) for the user's session; UnionID looks the UnionID of one of the app's
// open_ids up. Each returns an error when the service did not answer success (a Coder error names
// the code). Both must honour ctx. Conn.BaseURL replaces https://openapi.baidu.com and, for the
// v1 login, https://spapi.baidu.com.
type LoginClient interface {
	Login(ctx context.Context, code string) (Session, error)
	UnionID(ctx context.Context, openID string) (string, error)
}

// PlatformClient is what a third-party platform's back end implements, besides LoginClient, to
// run the platform cases: RetrieveAuthCode gets the platform token (Conn.PlatformKey and
// PlatformTicket at /public/2.0/smartapp/auth/tp/token) and asks
// /rest/2.0/smartapp/auth/retrieve/authorizationcode for an app's authorization code; AppInfo asks
// /rest/2.0/smartapp/app/info with an authorizer token (45.) and returns data.app_id. A client
// without it has those cases skipped.
type PlatformClient interface {
	RetrieveAuthCode(ctx context.Context, appID string) (string, error)
	AppInfo(ctx context.Context, authorizerToken string) (int64, error)
}

// LoginCase is one named check of the login kit.
type LoginCase struct {
	// Name identifies the case in reports.
	Name string
	// Grade is report.GradeMust or report.GradeShould.
	Grade report.Grade
	// Doc says in one sentence what the case proves.
	Doc string

	// play runs the case on a fresh fake (lt) and judges it; nil for the aggregate case.
	play func(ctx context.Context, lt *loginTrial) []report.Finding
}

// LoginCases returns the login kit's catalogue, in report order.
func LoginCases() []LoginCase {
	return []LoginCase{
		{Name: "login_exchanges_code", Grade: report.GradeMust,
			Doc:  "A fresh code is exchanged once (v1, v2 or the platform's login) for the open_id and session_key the service issued for it, and the client hands back exactly those.",
			play: playLoginOK},
		{Name: "login_used_code_fails", Grade: report.GradeMust,
			Doc:  "A code that was exchanged already is reported as a failure, after at most two tries: codes work once, and a back end that claims a session for one logs in nobody.",
			play: func(ctx context.Context, lt *loginTrial) []report.Finding { return playLoginRefused(ctx, lt, "used") }},
		{Name: "login_expired_code_fails", Grade: report.GradeMust,
			Doc: "A code older than 10 minutes is reported as a failure, after at most two tries: swan.login codes expire.",
			play: func(ctx context.Context, lt *loginTrial) []report.Finding {
				return playLoginRefused(ctx, lt, "expired")
			}},
		{Name: "unionid_answered", Grade: report.GradeMust,
			Doc:  "The UnionID of a logged-in Baidu account is looked up (getunionid) and handed back as the service answered it.",
			play: playUnionIDOK},
		{Name: "unionid_guest_fails", Grade: report.GradeMust,
			Doc:  "A guest's UnionID lookup (errno 400: a guest has no Baidu account) is reported as a failure, not as an empty UnionID, after at most two tries.",
			play: playUnionIDGuest},
		{Name: "platform_retrieve_auth_code", Grade: report.GradeMust,
			Doc:  "A platform retrieves an authorization code of an app that authorized it (RetrieveAuthCode) and hands back the code the service answered, which exchanges for the app's authorizer token.",
			play: playRetrieveOK},
		{Name: "platform_retrieve_unauthorized_fails", Grade: report.GradeMust,
			Doc:  "RetrieveAuthCode for an app that did not authorize the platform (errno 50032) is reported as a failure, after at most two tries.",
			play: playRetrieveRefused},
		{Name: "platform_app_info", Grade: report.GradeShould,
			Doc:  "GetAppInfo with the app's authorizer token is answered with the app's id, as the service answered it.",
			play: playAppInfo},
		{Name: "login_requests_match_openapi", Grade: report.GradeMust,
			Doc: "Every login and UnionID request the client sent in every case is valid against openapi.yaml: a known operation, every required field present."},
	}
}

// LoginSuite runs the login kit against one client, each case on an in-process fake.
type LoginSuite struct {
	// Cases are the names of the cases to run; empty runs them all.
	Cases []string
	// Timeout bounds one case (default 30s).
	Timeout time.Duration
}

// RunClient runs the login kit against a Go client and returns the report. newClient is called
// once per case with that case's Conn.
func (s LoginSuite) RunClient(ctx context.Context, title string, newClient func(Conn) LoginClient) (*report.Report, error) {
	start := time.Now()
	cases, err := s.selected()
	if err != nil {
		return nil, err
	}
	sp, err := spec.Embedded()
	if err != nil {
		return nil, err
	}
	rep := &report.Report{Title: title}
	var all []recorded
	for _, c := range cases {
		if c.play == nil {
			continue
		}
		res, reqs := s.runOne(ctx, c, newClient)
		rep.Results = append(rep.Results, res)
		all = append(all, reqs...)
	}
	for _, c := range cases {
		if c.play != nil {
			continue
		}
		var fs []report.Finding
		for _, r := range all {
			if vs := sp.CheckRequest(r.req, r.body); len(vs) > 0 {
				fs = append(fs, report.Finding{Reason: fmt.Sprintf("%s %s breaks openapi.yaml: %s", r.req.Method, r.req.URL.Path, spec.Join(vs))})
			}
		}
		if len(all) == 0 {
			fs = append(fs, report.Finding{Reason: "the client sent no request at all"})
		}
		rep.Results = append(rep.Results, report.ResultOf(report.Result{Case: c.Name, Grade: c.Grade, Doc: c.Doc}, fs, 0))
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rep.Elapsed = time.Since(start)
	return rep, nil
}

// Test runs the login kit inside the caller's go test: a failed must-case fails the test.
func (s LoginSuite) Test(t *testing.T, newClient func(Conn) LoginClient) {
	t.Helper()
	rep, err := s.RunClient(t.Context(), t.Name(), newClient)
	if err != nil {
		t.Fatalf("contract: %v", err)
	}
	for _, r := range rep.Results {
		switch {
		case r.Status == report.StatusFail && r.Grade == report.GradeMust:
			t.Errorf("must case %s failed: %s\n%s", r.Case, r.Doc, r.Details)
		case r.Status == report.StatusFail:
			t.Logf("should-case %s failed (not fatal): %s\n%s", r.Case, r.Doc, r.Details)
		}
	}
}

func (s LoginSuite) selected() ([]LoginCase, error) {
	all := LoginCases()
	if len(s.Cases) == 0 {
		return all, nil
	}
	var out []LoginCase
	for _, name := range s.Cases {
		i := slices.IndexFunc(all, func(c LoginCase) bool { return c.Name == name })
		if i < 0 {
			return nil, fmt.Errorf("unknown login case %q", name)
		}
		out = append(out, all[i])
	}
	return out, nil
}

// The app of every login case (its id is its client_id), an app that did not authorize the
// platform, and the platform.
const (
	loginApp      = "contract-login"
	loginOtherApp = "contract-login-other"
	loginPlatform = "contract-platform"
	loginTicket   = "contract-ticket"
)

// loginTrial is one case on its fake: the core, the client, what the client sent.
type loginTrial struct {
	core   *mockserver.Server
	client LoginClient
	rec    *requestLog
	tag    string // the platform's authorization code of loginApp, made by the kit (platform cases)
}

// authorize stands in for loginApp's consent to the platform, as the admin API's shortcut does.
func (lt *loginTrial) authorize(ctx context.Context) (string, error) {
	code, _, err := lt.core.AuthorizePlatform(ctx, loginPlatform, loginApp)
	return code, err
}

// authorizerToken exchanges an authorization code for loginApp's authorizer token (45.), as the
// platform would, through the fake's own endpoints; "" with the reason when it does not.
func (lt *loginTrial) authorizerToken(ctx context.Context, code string) (string, string) {
	get := func(target string) (map[string]any, string) {
		rw := httptest.NewRecorder()
		lt.core.ServeHTTP(rw, httptest.NewRequestWithContext(ctx, http.MethodGet, target, nil))
		var m map[string]any
		if err := json.Unmarshal(rw.Body.Bytes(), &m); err != nil {
			return nil, rw.Body.String()
		}
		return m, rw.Body.String()
	}
	m, body := get("/public/2.0/smartapp/auth/tp/token?client_id=" + loginPlatform + "&ticket=" + loginTicket)
	data, _ := m["data"].(map[string]any)
	pt, _ := data["access_token"].(string)
	if pt == "" {
		return "", "platform token: " + body
	}
	m, body = get("/rest/2.0/oauth/token?grant_type=app_to_tp_authorization_code&access_token=" + url.QueryEscape(pt) + "&code=" + url.QueryEscape(code))
	at, _ := m["access_token"].(string)
	if at == "" {
		return "", "authorizer token: " + body
	}
	return at, ""
}

// runOne runs one case on a fresh fake.
func (s LoginSuite) runOne(ctx context.Context, c LoginCase, newClient func(Conn) LoginClient) (report.Result, []recorded) {
	start := time.Now()
	head := report.Result{Case: c.Name, Grade: c.Grade, Doc: c.Doc}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cfg := &config.Config{Version: config.Version,
		Policy:    config.Policy{Profile: config.ProfileBaidu, LenientJSON: true},
		Platforms: []config.Platform{{Key: loginPlatform, Secret: "platform-secret", Ticket: loginTicket}},
		Apps: []config.App{{ID: loginApp, ClientID: loginApp, ClientSecret: "secret-" + c.Name},
			{ID: loginOtherApp, ClientID: loginOtherApp, ClientSecret: "secret-other"}}}
	core, err := mockserver.New(mockserver.Options{Config: cfg})
	if err != nil {
		return report.ResultOf(head, []report.Finding{{Reason: "the kit could not start its fake: " + err.Error()}}, time.Since(start)), nil
	}
	rec := &requestLog{}
	srv := httptest.NewServer(rec.wrap(core))
	defer srv.Close()
	lt := &loginTrial{core: core, rec: rec,
		client: newClient(Conn{BaseURL: srv.URL, ClientID: loginApp, ClientSecret: "secret-" + c.Name, AnswerTimeout: timeout / 2,
			PlatformKey: loginPlatform, PlatformTicket: loginTicket})}
	if strings.HasPrefix(c.Name, "platform_") {
		if _, ok := lt.client.(PlatformClient); !ok {
			res := head
			res.Status, res.Reason = report.StatusSkip, "the client does not implement contract.PlatformClient"
			return res, nil
		}
		if lt.tag, err = lt.authorize(ctx); err != nil {
			return report.ResultOf(head, []report.Finding{{Reason: "the kit could not authorize its platform: " + err.Error()}}, time.Since(start)), nil
		}
	}
	fs := c.play(ctx, lt)
	return report.ResultOf(head, fs, time.Since(start)), rec.all()
}

// exchanges counts the client's login requests in the fake's journal.
func (lt *loginTrial) exchanges(ctx context.Context) int {
	es, _ := lt.core.Store().Journal(ctx, store.Query{App: loginApp})
	n := 0
	for _, e := range es {
		if e.Endpoint == "login_v1" || e.Endpoint == "login_v2" || e.Endpoint == "tp_login" {
			n++
		}
	}
	return n
}

// endpointCount counts the client's requests of one journal endpoint.
func (lt *loginTrial) endpointCount(ctx context.Context, endpoint string) int {
	es, _ := lt.core.Store().Journal(ctx, store.Query{App: loginApp, Endpoint: endpoint})
	return len(es)
}

func playLoginOK(ctx context.Context, lt *loginTrial) []report.Finding {
	l, err := lt.core.CreateUser(ctx, loginApp, config.User{Nickname: "contract"})
	if err != nil {
		return []report.Finding{{Reason: "the kit could not create the user: " + err.Error()}}
	}
	got, err := lt.client.Login(ctx, l.Code)
	var fs []report.Finding
	if err != nil {
		fs = append(fs, report.Finding{Reason: "the client reported failure on a fresh code: " + err.Error()})
	} else if got.OpenID != l.User.OpenID || got.SessionKey != l.SessionKey {
		fs = append(fs, report.Finding{Reason: fmt.Sprintf("the client handed back open_id %q and session_key %q; the service issued %q and %q", got.OpenID, got.SessionKey, l.User.OpenID, l.SessionKey)})
	}
	if n := lt.exchanges(ctx); n != 1 {
		fs = append(fs, report.Finding{Reason: fmt.Sprintf("the client made %d login requests, want exactly 1 (a code works once)", n)})
	}
	return fs
}

// playLoginRefused hands the client a code the service refuses: used already, or expired.
func playLoginRefused(ctx context.Context, lt *loginTrial, why string) []report.Finding {
	l, err := lt.core.CreateUser(ctx, loginApp, config.User{})
	if err != nil {
		return []report.Finding{{Reason: "the kit could not create the user: " + err.Error()}}
	}
	switch why {
	case "used":
		req := httptest.NewRequest(http.MethodGet, "/oauth/jscode2sessionkey?code="+l.Code+"&client_id="+loginApp+"&sk="+lt.secret(ctx), nil)
		rw := httptest.NewRecorder()
		lt.core.ServeHTTP(rw, req)
		if !strings.Contains(rw.Body.String(), `"openid"`) {
			return []report.Finding{{Reason: "the kit could not use the code first: " + rw.Body.String()}}
		}
	case "expired":
		if _, err := lt.core.Store().UpdateApp(ctx, loginApp, nil, 11*time.Minute); err != nil {
			return []report.Finding{{Reason: "the kit could not move the app's clock: " + err.Error()}}
		}
	}
	before := lt.exchanges(ctx)
	got, err := lt.client.Login(ctx, l.Code)
	var fs []report.Finding
	if err == nil {
		fs = append(fs, report.Finding{Reason: fmt.Sprintf("the client reported a session (open_id %q) for a code the service refused (%s)", got.OpenID, why)})
	}
	if n := lt.exchanges(ctx) - before; n < 1 || n > 2 {
		fs = append(fs, report.Finding{Reason: fmt.Sprintf("the client made %d login requests, want 1 or 2", n)})
	}
	return fs
}

// secret is the case's app secret.
func (lt *loginTrial) secret(ctx context.Context) string {
	a, _, _ := lt.core.Store().App(ctx, loginApp)
	return a.ClientSecret
}

func playUnionIDOK(ctx context.Context, lt *loginTrial) []report.Finding {
	l, err := lt.core.CreateUser(ctx, loginApp, config.User{Account: "contract-account"})
	if err != nil {
		return []report.Finding{{Reason: "the kit could not create the user: " + err.Error()}}
	}
	got, err := lt.client.UnionID(ctx, l.User.OpenID)
	var fs []report.Finding
	if err != nil {
		fs = append(fs, report.Finding{Reason: "the client reported failure for a Baidu account's UnionID: " + err.Error()})
	} else if got != l.User.UnionID {
		fs = append(fs, report.Finding{Reason: fmt.Sprintf("the client handed back UnionID %q; the service answered %q", got, l.User.UnionID)})
	}
	if n := lt.endpointCount(ctx, "unionid"); n != 1 {
		fs = append(fs, report.Finding{Reason: fmt.Sprintf("the client made %d getunionid requests, want 1", n)})
	}
	return fs
}

func playUnionIDGuest(ctx context.Context, lt *loginTrial) []report.Finding {
	l, err := lt.core.CreateUser(ctx, loginApp, config.User{Guest: true})
	if err != nil {
		return []report.Finding{{Reason: "the kit could not create the user: " + err.Error()}}
	}
	got, err := lt.client.UnionID(ctx, l.User.OpenID)
	var fs []report.Finding
	if err == nil {
		fs = append(fs, report.Finding{Reason: fmt.Sprintf("the client reported UnionID %q for a guest; the service answered errno 400", got)})
	} else if c := (Coder)(nil); errors.As(err, &c) && c.Code() != 400 {
		fs = append(fs, report.Finding{Reason: fmt.Sprintf("the client named code %d; the service answered errno 400", c.Code())})
	}
	if n := lt.endpointCount(ctx, "unionid"); n < 1 || n > 2 {
		fs = append(fs, report.Finding{Reason: fmt.Sprintf("the client made %d getunionid requests, want 1 or 2", n)})
	}
	return fs
}

// recorded is one raw request a client sent.
type recorded struct {
	req  *http.Request
	body []byte
}

// requestLog keeps the raw requests a client sent to a case's fake.
type requestLog struct {
	mu   sync.Mutex
	reqs []recorded
}

func (l *requestLog) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, mockserver.MaxBodyBytes+1))
		r.Body = io.NopCloser(bytes.NewReader(body))
		if !strings.HasPrefix(r.URL.Path, "/oauth/2.0/token") { // the token is the send kit's business
			l.mu.Lock()
			l.reqs = append(l.reqs, recorded{req: r.Clone(context.Background()), body: body})
			l.mu.Unlock()
		}
		next.ServeHTTP(w, r)
	})
}

func (l *requestLog) all() []recorded {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.reqs)
}

func playRetrieveOK(ctx context.Context, lt *loginTrial) []report.Finding {
	got, err := lt.client.(PlatformClient).RetrieveAuthCode(ctx, loginApp)
	var fs []report.Finding
	if err != nil {
		return append(fs, report.Finding{Reason: "the client reported failure for an app that authorized the platform: " + err.Error()})
	}
	if _, why := lt.authorizerToken(ctx, got); why != "" {
		fs = append(fs, report.Finding{Reason: fmt.Sprintf("the code the client handed back (%q) does not exchange for the app's token: %s", got, why)})
	}
	if n := lt.endpointCountAll(ctx, "tp_retrieve_code"); n != 1 {
		fs = append(fs, report.Finding{Reason: fmt.Sprintf("the client made %d RetrieveAuthCode requests, want 1", n)})
	}
	return fs
}

func playRetrieveRefused(ctx context.Context, lt *loginTrial) []report.Finding {
	got, err := lt.client.(PlatformClient).RetrieveAuthCode(ctx, loginOtherApp)
	var fs []report.Finding
	if err == nil {
		fs = append(fs, report.Finding{Reason: fmt.Sprintf("the client reported code %q for an app that did not authorize the platform; the service answered errno 50032", got)})
	} else if c := (Coder)(nil); errors.As(err, &c) && c.Code() != 50032 {
		fs = append(fs, report.Finding{Reason: fmt.Sprintf("the client named code %d; the service answered errno 50032", c.Code())})
	}
	if n := lt.endpointCountAll(ctx, "tp_retrieve_code"); n < 1 || n > 2 {
		fs = append(fs, report.Finding{Reason: fmt.Sprintf("the client made %d RetrieveAuthCode requests, want 1 or 2", n)})
	}
	return fs
}

func playAppInfo(ctx context.Context, lt *loginTrial) []report.Finding {
	at, why := lt.authorizerToken(ctx, lt.tag)
	if why != "" {
		return []report.Finding{{Reason: "the kit could not get the app's authorizer token: " + why}}
	}
	id, err := lt.client.(PlatformClient).AppInfo(ctx, at)
	if err != nil {
		return []report.Finding{{Reason: "the client reported failure for GetAppInfo: " + err.Error()}}
	}
	if n := lt.endpointCount(ctx, "tp_app_info"); n != 1 {
		return []report.Finding{{Reason: fmt.Sprintf("the client made %d GetAppInfo requests, want 1", n)}}
	}
	// What the service answers (the kit asks it the same).
	rw := httptest.NewRecorder()
	lt.core.ServeHTTP(rw, httptest.NewRequestWithContext(ctx, http.MethodGet, "/rest/2.0/smartapp/app/info?access_token="+url.QueryEscape(at), nil))
	var m struct {
		Data struct {
			AppID int64 `json:"app_id"`
		} `json:"data"`
	}
	if err := json.Unmarshal(rw.Body.Bytes(), &m); err != nil || m.Data.AppID == 0 {
		return []report.Finding{{Reason: "the kit could not read the app's info: " + rw.Body.String()}}
	}
	if id != m.Data.AppID {
		return []report.Finding{{Reason: fmt.Sprintf("the client handed back app_id %d; the service answered %d", id, m.Data.AppID)}}
	}
	return nil
}

// endpointCountAll counts the requests of one journal endpoint, of every app (a refused
// RetrieveAuthCode is charged to no app or another).
func (lt *loginTrial) endpointCountAll(ctx context.Context, endpoint string) int {
	es, _ := lt.core.Store().Journal(ctx, store.Query{Endpoint: endpoint})
	return len(es)
}
