package contract_test

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
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/smartappmock/smartappmock/contract"
	"github.com/smartappmock/smartappmock/contract/report"
	"github.com/smartappmock/smartappmock/examples/go/sender"
	"github.com/smartappmock/smartappmock/internal/testenv"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/mockserver/admin"
	"github.com/smartappmock/smartappmock/mockserver/mockservertest"
	"github.com/smartappmock/smartappmock/mockserver/sandbox"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(testenv.Reporting(m)) }

// good is the example Go client, adapted to contract.Client.
func good(c contract.Conn) contract.Client {
	s := sender.New(c.BaseURL, c.ClientID, c.ClientSecret)
	return contract.ClientFunc(func(ctx context.Context, m contract.Message) error {
		return s.Send(ctx, sender.Message{UserType: m.UserType, OpenID: m.OpenID, MsgType: m.MsgType, Content: m.Content, PicURL: m.PicURL})
	})
}

// flaw configures a small client of this test with one bug at a time.
type flaw struct {
	jsonBody      bool          // sends the fields as JSON
	ignoreBody    bool          // HTTP 200 means delivered
	tokenPerSend  bool          // no token cache
	retries       int           // retries any failure this many times (-1: forever, honouring ctx)
	pause         time.Duration // between retries
	noTimeout     bool          // no client timeout
	panics        bool          // panics on an error answer
	wrongCode     int           // names this code instead of the one seen
	noCode        bool          // does not name the code
	tokenInBody   bool          // access_token in the form body (the Java SDK's way)
	textWithImage bool          // sends msg_type=image without pic_url
}

type codeErr struct{ code int }

func (e codeErr) Error() string { return fmt.Sprintf("code %d", e.code) }
func (e codeErr) Code() int     { return e.code }

func (f flaw) client(c contract.Conn) contract.Client {
	hc := &http.Client{Timeout: 2 * time.Second}
	if f.noTimeout {
		hc = &http.Client{}
	}
	var token string
	fetch := func(ctx context.Context) error {
		q := url.Values{"grant_type": {"client_credentials"}, "client_id": {c.ClientID}, "client_secret": {c.ClientSecret}}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.BaseURL+"/oauth/2.0/token?"+q.Encode(), nil)
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var tr struct {
			AccessToken string `json:"access_token"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil {
			return err
		}
		token = tr.AccessToken
		return nil
	}
	once := func(ctx context.Context, m contract.Message) error {
		if token == "" || f.tokenPerSend {
			if err := fetch(ctx); err != nil {
				return err
			}
		}
		u := c.BaseURL + "/rest/2.0/smartapp/message/custom/send"
		form := url.Values{"user_type": {fmt.Sprint(m.UserType)}, "open_id": {m.OpenID}, "msg_type": {m.MsgType}, "content": {m.Content}, "pic_url": {m.PicURL}}
		if f.textWithImage && m.MsgType == "text" {
			form.Set("msg_type", "image")
			form.Del("pic_url")
		}
		if f.tokenInBody {
			form.Set("access_token", token)
		} else {
			u += "?access_token=" + url.QueryEscape(token)
		}
		body, ct := form.Encode(), "application/x-www-form-urlencoded"
		if f.jsonBody {
			b, _ := json.Marshal(map[string]any{"user_type": m.UserType, "open_id": m.OpenID, "msg_type": m.MsgType, "content": m.Content})
			body, ct = string(b), "application/json"
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(body))
		req.Header.Set("Content-Type", ct)
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		data, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		if f.ignoreBody && resp.StatusCode == http.StatusOK {
			return nil
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("HTTP %d", resp.StatusCode)
		}
		var env struct {
			Errno     *int `json:"errno"`
			ErrorCode *int `json:"error_code"`
		}
		if err := json.Unmarshal(data, &env); err != nil {
			return err
		}
		code := 0
		switch {
		case env.ErrorCode != nil:
			code = *env.ErrorCode
		case env.Errno != nil:
			code = *env.Errno
		default:
			return errors.New("no code")
		}
		if code == 0 {
			return nil
		}
		if f.panics {
			panic(fmt.Sprintf("unexpected code %d", code))
		}
		if f.noCode {
			return errors.New("failed")
		}
		if f.wrongCode != 0 {
			code = f.wrongCode
		}
		return codeErr{code}
	}
	return contract.ClientFunc(func(ctx context.Context, m contract.Message) error {
		err := once(ctx, m)
		for i := 0; err != nil && (f.retries < 0 || i < f.retries); i++ {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(f.pause):
			}
			err = once(ctx, m)
		}
		return err
	})
}

// results maps case name to status.
func results(rep *report.Report) map[string]report.Status {
	out := map[string]report.Status{}
	for _, r := range rep.Results {
		out[r.Case] = r.Status
	}
	return out
}

func TestRunClient_CatchesEachFlaw(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		newC  func(contract.Conn) contract.Client
		cases []string
		// want is the status of every case in cases.
		want map[string]report.Status
		// reason must appear in the first failure's details.
		reason string
	}{
		{
			name:  "GoodClient_PassesAll",
			newC:  good,
			cases: []string{"text_delivered", "image_delivered", "errno_90001_fails_without_retry", "token_110_refreshed_once", "window_sixth_send_90001", "requests_match_openapi", "send_form_encoded", "token_in_query", "codes_reported"},
			want: map[string]report.Status{"text_delivered": "pass", "image_delivered": "pass", "errno_90001_fails_without_retry": "pass",
				"token_110_refreshed_once": "pass", "window_sixth_send_90001": "pass", "requests_match_openapi": "pass", "send_form_encoded": "pass",
				"token_in_query": "pass", "codes_reported": "pass"},
		},
		{
			name:   "JSONBody_FailsFormAndDelivery",
			newC:   flaw{jsonBody: true}.client,
			cases:  []string{"text_delivered", "send_form_encoded", "requests_match_openapi"},
			want:   map[string]report.Status{"text_delivered": "fail", "send_form_encoded": "fail", "requests_match_openapi": "fail"},
			reason: "reported failure",
		},
		{
			name:   "HTTP200IsSuccess_FailsErrno",
			newC:   flaw{ignoreBody: true}.client,
			cases:  []string{"text_delivered", "errno_3001_fails_without_retry", "fault_malformed_body", "fault_http_502"},
			want:   map[string]report.Status{"text_delivered": "pass", "errno_3001_fails_without_retry": "fail", "fault_malformed_body": "fail", "fault_http_502": "pass"},
			reason: "reported delivered, but the service answered 3001",
		},
		{
			name:   "RetriesForever_StoppedAsLoop",
			newC:   flaw{retries: -1, pause: 5 * time.Millisecond}.client,
			cases:  []string{"errno_30022_fails_without_retry"},
			want:   map[string]report.Status{"errno_30022_fails_without_retry": "fail"},
			reason: "endless retry loop",
		},
		{
			name:   "RetriesWithoutPause_FailsBackoff",
			newC:   flaw{retries: 2}.client,
			cases:  []string{"fault_http_503", "gateway_18_qps_limit_surfaced"},
			want:   map[string]report.Status{"fault_http_503": "fail", "gateway_18_qps_limit_surfaced": "fail"},
			reason: "backoff",
		},
		{
			name:  "RetriesTwiceWithPause_PassesFaults",
			newC:  flaw{retries: 2, pause: 250 * time.Millisecond}.client,
			cases: []string{"fault_http_502", "fault_dropped_connection"},
			want:  map[string]report.Status{"fault_http_502": "pass", "fault_dropped_connection": "pass"},
		},
		{
			name:  "GoodClient_LostAck_SentOnce",
			newC:  good,
			cases: []string{"lost_ack_not_resent"},
			want:  map[string]report.Status{"lost_ack_not_resent": "pass"},
		},
		{
			name:   "RetriesTransportFailures_LostAck_DoubleSends",
			newC:   flaw{retries: 2, pause: 150 * time.Millisecond}.client,
			cases:  []string{"lost_ack_not_resent", "fault_http_503"},
			want:   map[string]report.Status{"lost_ack_not_resent": "fail", "fault_http_503": "pass"},
			reason: "the user received the message 3 times",
		},
		{
			name:   "NoTimeout_FailsSlowAnswer",
			newC:   flaw{noTimeout: true}.client,
			cases:  []string{"fault_slow_answer"},
			want:   map[string]report.Status{"fault_slow_answer": "fail"},
			reason: "needs a timeout",
		},
		{
			name:   "Panics_ReportedAsCrash",
			newC:   flaw{panics: true}.client,
			cases:  []string{"errno_90002_fails_without_retry"},
			want:   map[string]report.Status{"errno_90002_fails_without_retry": "fail"},
			reason: "Send panicked",
		},
		{
			name:   "WrongCode_Fails",
			newC:   flaw{wrongCode: 3001}.client,
			cases:  []string{"errno_90001_fails_without_retry"},
			want:   map[string]report.Status{"errno_90001_fails_without_retry": "fail"},
			reason: "named code 3001, but the service answered 90001",
		},
		{
			name:   "TokenPerSend_FailsShouldOnly",
			newC:   flaw{tokenPerSend: true, noCode: true}.client,
			cases:  []string{"token_reused", "errno_3001_fails_without_retry", "codes_reported", "token_110_refreshed_once"},
			want:   map[string]report.Status{"token_reused": "fail", "errno_3001_fails_without_retry": "pass", "codes_reported": "fail", "token_110_refreshed_once": "fail"},
			reason: "want 1 (a token lives 30 days",
		},
		{
			name:   "TokenInBody_FailsTokenInQueryOnly",
			newC:   flaw{tokenInBody: true}.client,
			cases:  []string{"text_delivered", "requests_match_openapi", "token_in_query"},
			want:   map[string]report.Status{"text_delivered": "pass", "requests_match_openapi": "pass", "token_in_query": "fail"},
			reason: "access_token is not in the query string",
		},
		{
			name:   "MissingPicURL_FailsOpenAPI",
			newC:   flaw{textWithImage: true}.client,
			cases:  []string{"text_delivered", "requests_match_openapi"},
			want:   map[string]report.Status{"text_delivered": "fail", "requests_match_openapi": "fail"},
			reason: "pic_url",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := contract.Suite{Cases: tc.cases, SlowHold: 2500 * time.Millisecond, SendTimeout: 10 * time.Second}
			rep, err := s.RunClient(t.Context(), tc.name, tc.newC)
			if err != nil {
				t.Fatal(err)
			}
			var text bytes.Buffer
			_ = rep.WriteText(&text)
			if diff := cmp.Diff(tc.want, results(rep)); diff != "" {
				t.Fatalf("statuses mismatch (-want +got):\n%s\n%s", diff, text.String())
			}
			if tc.reason != "" && !strings.Contains(text.String(), tc.reason) {
				t.Errorf("report does not say %q:\n%s", tc.reason, text.String())
			}
		})
	}
}

func TestSuite_UnknownCaseIsAnError(t *testing.T) {
	t.Parallel()
	_, err := contract.Suite{Cases: []string{"text_delivred"}}.RunClient(t.Context(), "x", good)
	if err == nil || !strings.Contains(err.Error(), "known cases: text_delivered") {
		t.Fatalf("err = %v; want the unknown name and the known ones", err)
	}
}

func TestCases_EachDocumentedAndUnique(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	grades := map[report.Grade]int{}
	for _, c := range contract.Cases() {
		if seen[c.Name] {
			t.Errorf("case %s twice", c.Name)
		}
		seen[c.Name] = true
		grades[c.Grade]++
		if c.Doc == "" || !strings.HasSuffix(c.Doc, ".") {
			t.Errorf("case %s: Doc %q is not one sentence", c.Name, c.Doc)
		}
		if !c.Aggregate && len(c.Messages()) == 0 {
			t.Errorf("case %s sends nothing", c.Name)
		}
	}
	if grades[report.GradeMust] == 0 || grades[report.GradeShould] == 0 {
		t.Errorf("grades = %v; want both must and should cases", grades)
	}
}

func TestSuite_Target_RunsEveryKindOfCaseAndRestoresRulesAndFaults(t *testing.T) {
	t.Parallel()
	base := mockservertest.New(t, nil).URL
	s := contract.Suite{Target: base, Cases: []string{"text_delivered", "errno_3001_fails_without_retry", "token_111_refreshed_once",
		"window_sixth_send_90001", "fault_http_502", "fault_slow_answer", "requests_match_openapi", "send_form_encoded"}}
	rep, err := s.RunClient(t.Context(), "target", good)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]report.Status{"text_delivered": "pass", "errno_3001_fails_without_retry": "pass", "token_111_refreshed_once": "pass",
		"window_sixth_send_90001": "pass", "fault_http_502": "pass", "fault_slow_answer": "pass", "requests_match_openapi": "pass", "send_form_encoded": "pass"}
	var text bytes.Buffer
	_ = rep.WriteText(&text)
	if diff := cmp.Diff(want, results(rep)); diff != "" {
		t.Fatalf("statuses mismatch (-want +got):\n%s\n%s", diff, text.String())
	}
	for _, path := range []string{"/__admin/rules", "/__admin/faults"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Rules  []json.RawMessage `json:"rules"`
			Faults []json.RawMessage `json:"faults"`
		}
		err = json.NewDecoder(resp.Body).Decode(&doc)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if n := len(doc.Rules) + len(doc.Faults); n != 0 {
			t.Errorf("GET %s: %d entries after the run; want the target's own 0 back", path, n)
		}
	}
	// The kit's sandbox apps are gone with the run: a shared sandbox keeps no contract-… app.
	apps, err := (&admin.Client{BaseURL: base}).Apps(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range apps.Apps {
		if strings.HasPrefix(a.ID, "contract-") {
			t.Errorf("app %s is still on the target after the run", a.ID)
		}
	}
}

func TestSuite_Target_WithoutFaultInjection_SkipsFaultCases(t *testing.T) {
	t.Parallel()
	srv, err := sandbox.New(mockserver.Options{}, admin.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// An older fake: no /__admin/faults.
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/__admin/faults") {
			http.Error(w, `{"error":"no admin endpoint"}`, http.StatusNotFound)
			return
		}
		srv.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	rep, err := contract.Suite{Target: hs.URL, Cases: []string{"text_delivered", "fault_http_503"}}.RunClient(t.Context(), "target", good)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]report.Status{"text_delivered": "pass", "fault_http_503": "skip"}, results(rep)); diff != "" {
		t.Errorf("statuses mismatch (-want +got):\n%s", diff)
	}
}

func TestSuite_Target_FlawCaughtFromJournal(t *testing.T) {
	t.Parallel()
	base := mockservertest.New(t, nil).URL
	s := contract.Suite{Target: base, Cases: []string{"errno_3001_fails_without_retry", "send_form_encoded"}}
	rep, err := s.RunClient(t.Context(), "target", flaw{ignoreBody: true, jsonBody: true}.client)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"errno_3001_fails_without_retry", "send_form_encoded"}, rep.Failed("")); diff != "" {
		t.Errorf("failed cases mismatch (-want +got):\n%s", diff)
	}
}

func TestSuite_Target_NotAFake(t *testing.T) {
	t.Parallel()
	hs := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(hs.Close)
	_, err := contract.Suite{Target: hs.URL}.RunClient(t.Context(), "x", good)
	if err == nil || !strings.Contains(err.Error(), "admin API") {
		t.Fatalf("err = %v; want it to say the target has no admin API", err)
	}
}

func TestRunCommand_MissingCommandIsAnError(t *testing.T) {
	t.Parallel()
	_, err := contract.Suite{}.RunCommand(t.Context(), []string{"smartappmock-no-such-client"})
	if err == nil || !strings.Contains(err.Error(), "smartappmock-no-such-client") {
		t.Fatalf("err = %v; want it to name the missing command", err)
	}
}

// TestRun_ClientThatSendsNothing_StopsEarly: a client that fails its first message without a single
// HTTP request (a mistyped script path) stops the run with its own stderr, instead of failing every
// case with misleading reasons; a client that sends something gets its report.
func TestRun_ClientThatSendsNothing_StopsEarly(t *testing.T) {
	t.Parallel()
	cases := []string{"text_delivered", "errno_3001_fails_without_retry"}
	command := func(argv ...string) func(context.Context) (*report.Report, error) {
		return func(ctx context.Context) (*report.Report, error) {
			return contract.Suite{Cases: cases}.RunCommand(ctx, argv)
		}
	}
	// The command clients are shell one-liners: without sh on PATH those rows skip (fail in CI).
	needs := map[string]string{"MistypedScript_StderrShown": "sh", "SilentCommand_SaysSo": "sh"}
	goClient := func(send func(c contract.Conn) error) func(context.Context) (*report.Report, error) {
		return func(ctx context.Context) (*report.Report, error) {
			return contract.Suite{Cases: cases}.RunClient(ctx, "go", func(c contract.Conn) contract.Client {
				return contract.ClientFunc(func(context.Context, contract.Message) error { return send(c) })
			})
		}
	}
	tests := []struct {
		name string
		run  func(context.Context) (*report.Report, error)
		want string // the error; "" means a report with every case failed
	}{
		{"MistypedScript_StderrShown", command("sh", "-c", "echo \"python3: can't open file 'sendd.py': [Errno 2] No such file or directory\" >&2; exit 2"),
			"the client failed before sending anything: python3: can't open file 'sendd.py': [Errno 2] No such file or directory"},
		{"SilentCommand_SaysSo", command("sh", "-c", "exit 1"),
			"the client failed before sending anything: (it printed nothing on stderr)"},
		{"GoClientError_Shown", goClient(func(contract.Conn) error { return errors.New("no config file") }),
			"the client failed before sending anything: no config file"},
		{"ClientThatSends_GetsItsReport", goClient(func(c contract.Conn) error {
			resp, err := http.Get(c.BaseURL + "/oauth/2.0/token")
			if err == nil {
				resp.Body.Close()
			}
			return errors.New("gave up after the token")
		}), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if program := needs[tt.name]; program != "" {
				if _, err := exec.LookPath(program); err != nil {
					testenv.Missing(t, "needs "+program+" (a POSIX shell) for the command client")
				}
			}
			rep, err := tt.run(t.Context())
			if tt.want == "" {
				if err != nil {
					t.Fatalf("run error %v; want a report", err)
				}
				if diff := cmp.Diff(cases, rep.Failed("")); diff != "" {
					t.Errorf("failed cases mismatch (-want +got):\n%s", diff)
				}
				return
			}
			var ns *contract.NothingSentError
			if !errors.As(err, &ns) {
				t.Fatalf("run = %v, %v; want a *NothingSentError", rep, err)
			}
			if diff := cmp.Diff(tt.want, err.Error()); diff != "" {
				t.Errorf("error mismatch (-want +got):\n%s", diff)
			}
			if ns.Case != "text_delivered" {
				t.Errorf("Case = %q, want the first case, text_delivered", ns.Case)
			}
		})
	}
}
