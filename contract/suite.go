package contract

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/contract/internal/target"
	"github.com/smartappmock/smartappmock/contract/report"
	"github.com/smartappmock/smartappmock/internal/spec"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/store"
)

// Suite runs the catalogue against one client. Its zero value runs every case against an
// in-process fake with the defaults below.
type Suite struct {
	// Target is the base URL of an already running fake (e.g. the Docker sandbox); empty starts a
	// fake in-process for each case. A target must run with `policy: apps: sandbox` (the default)
	// and no rules or faults that match every app; the kit sets its rules and faults through the
	// admin API and puts the target's own back. Without fault injection on the target, the fault
	// cases are skipped.
	Target string
	// AdminToken is the bearer token of the target's admin API, if it requires one.
	AdminToken string
	// Cases are the names of the cases to run; empty runs them all.
	Cases []string
	// Parallel is how many cases run at once (default 4).
	Parallel int
	// SlowHold is how long the slow-answer fault holds an answer (default 10s): a client must give
	// up sooner.
	SlowHold time.Duration
	// SendTimeout bounds one message: a client still busy after it is stopped (default 30s).
	SendTimeout time.Duration
	// MaxAttempts is how many send requests one message may make before the kit stops the client as
	// an endless loop (default 10).
	MaxAttempts int
	// Strict makes Test fail on should-cases too.
	Strict bool
	// Endpoint is EndpointSend (default) or EndpointSendByTP: the client then sends with
	// custom/sendbytp as a third-party platform, and each case gives it a platform key, ticket and
	// authorization code (Conn).
	Endpoint string
	// Progress, when set, is told of each case as it finishes (report.ProgressLine words it), so a
	// long run is not silent until the report.
	Progress report.Progress
	// Family is the catalogue to run: FamilySend (default: Cases) or FamilyMessages (MessageCases:
	// the fallback to a subscribe message past the window, and the content check before a reply).
	Family string
}

func (s Suite) withDefaults() Suite {
	if s.Parallel <= 0 {
		s.Parallel = 4
	}
	if s.SlowHold <= 0 {
		s.SlowHold = 10 * time.Second
	}
	if s.SendTimeout <= 0 {
		s.SendTimeout = 30 * time.Second
	}
	if s.MaxAttempts <= 0 {
		s.MaxAttempts = 10
	}
	if s.Endpoint == "" {
		s.Endpoint = EndpointSend
	}
	if s.Family == "" {
		s.Family = FamilySend
	}
	return s
}

// checkEndpoint refuses an endpoint the kit cannot drive.
func checkEndpoint(e string) error {
	if e == "" || e == EndpointSend || e == EndpointSendByTP {
		return nil
	}
	return fmt.Errorf("unknown endpoint %q (want %s or %s)", e, EndpointSend, EndpointSendByTP)
}

// Run runs every case of the catalogue against a Go client inside the caller's go test: one
// subtest per case. newClient is called once per case with that case's Conn. A failed must-case
// fails its subtest; a failed should-case is logged.
func Run(t *testing.T, newClient func(Conn) Client) {
	t.Helper()
	Suite{}.Test(t, newClient)
}

// Test is Run with the suite's settings.
func (s Suite) Test(t *testing.T, newClient func(Conn) Client) {
	t.Helper()
	s = s.withDefaults()
	h, err := s.newHarness(t.Context())
	if err != nil {
		t.Fatalf("contract: %v", err)
	}
	t.Cleanup(h.close)
	cases, err := selectFamily(s.Family, s.Cases)
	if err != nil {
		t.Fatalf("contract: %v", err)
	}
	drv := goDriver{newClient: newClient}
	var mu sync.Mutex
	var trials []*trial
	check := func(t *testing.T, res report.Result) {
		t.Helper()
		switch {
		case res.Status == report.StatusSkip:
			t.Skip(res.Reason)
		case res.Status == report.StatusFail && (res.Grade == report.GradeMust || s.Strict):
			t.Errorf("%s case %s failed: %s\n%s", res.Grade, res.Case, res.Doc, res.Details)
		case res.Status == report.StatusFail:
			t.Logf("should-case %s failed (not fatal): %s\n%s", res.Case, res.Doc, res.Details)
		}
	}
	t.Run("cases", func(t *testing.T) {
		for _, c := range cases {
			if c.Aggregate {
				continue
			}
			t.Run(c.Name, func(t *testing.T) {
				t.Parallel()
				tr, res := h.runCase(t.Context(), c, drv)
				if tr != nil {
					mu.Lock()
					trials = append(trials, tr)
					mu.Unlock()
				}
				check(t, res)
			})
		}
	})
	for _, c := range cases {
		if !c.Aggregate {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			check(t, h.aggregate(c, trials))
		})
	}
}

// RunClient runs the suite against a Go client and returns the report.
func (s Suite) RunClient(ctx context.Context, title string, newClient func(Conn) Client) (*report.Report, error) {
	return s.run(ctx, title, goDriver{newClient: newClient})
}

// RunCommand runs the suite against a client command: argv is run once per message with the
// environment of CommandEnv added to the kit's own.
func (s Suite) RunCommand(ctx context.Context, argv []string) (*report.Report, error) {
	if len(argv) == 0 {
		return nil, fmt.Errorf("no command to run")
	}
	if _, err := selectFamily(s.withDefaults().Family, s.Cases); err != nil { // a usage mistake first, before the command's
		return nil, err
	}
	if _, err := exec.LookPath(argv[0]); err != nil {
		return nil, fmt.Errorf("client command: %w", err)
	}
	return s.run(ctx, strings.Join(argv, " "), cmdDriver{argv: argv})
}

func (s Suite) run(ctx context.Context, title string, drv driver) (*report.Report, error) {
	start := time.Now()
	s = s.withDefaults()
	cases, err := selectFamily(s.Family, s.Cases)
	if err != nil {
		return nil, err
	}
	h, err := s.newHarness(ctx)
	if err != nil {
		return nil, err
	}
	defer h.close()
	results := make([]report.Result, len(cases))
	var trials []*trial
	done := 0 // cases finished, for Progress
	// The first case runs alone: a client that fails before sending anything (a mistyped path, a
	// missing interpreter module) stops the run with its own words instead of failing every case.
	first := -1
	for i, c := range cases {
		if !c.Aggregate {
			first = i
			break
		}
	}
	if first >= 0 {
		tr, res := h.runCase(ctx, cases[first], drv)
		if err := nothingSent(tr); err != nil {
			return nil, err
		}
		results[first] = res
		if tr != nil {
			trials = append(trials, tr)
		}
		s.progress(res, &done, len(cases))
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, s.Parallel)
	for i, c := range cases {
		if c.Aggregate || i == first {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			tr, res := h.runCase(ctx, c, drv)
			mu.Lock()
			results[i] = res
			if tr != nil {
				trials = append(trials, tr)
			}
			s.progress(res, &done, len(cases))
			mu.Unlock()
		}()
	}
	wg.Wait()
	for i, c := range cases {
		if c.Aggregate {
			results[i] = h.aggregate(c, trials)
			s.progress(results[i], &done, len(cases))
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rep := &report.Report{Title: title, Results: results, Elapsed: time.Since(start)}
	addWarnings(rep, trials)
	return rep, nil
}

// progress counts a finished case in done and tells Progress; callers serialize it.
func (s Suite) progress(res report.Result, done *int, total int) {
	*done++
	if s.Progress != nil {
		s.Progress(res, *done, total)
	}
}

// harness runs cases, in-process or against a target.
type harness struct {
	s      Suite
	spec   *spec.Spec
	runID  string
	target *target.Session
	cases  []Case
}

func (s Suite) newHarness(ctx context.Context) (*harness, error) {
	if err := checkEndpoint(s.Endpoint); err != nil {
		return nil, err
	}
	sp, err := spec.Embedded()
	if err != nil {
		return nil, err
	}
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	h := &harness{s: s, spec: sp, runID: hex.EncodeToString(rnd[:])}
	if s.Target != "" {
		cases, err := selectFamily(s.Family, s.Cases)
		if err != nil {
			return nil, err
		}
		h.cases = cases
		if h.target, err = target.Open(ctx, strings.TrimRight(s.Target, "/"), s.AdminToken); err != nil {
			return nil, err
		}
		var rules []config.Rule
		for _, c := range cases {
			for _, r := range c.rules {
				r.Match.App = h.appID(c)
				rules = append(rules, r)
			}
		}
		if err := h.target.PushRules(ctx, rules); err != nil {
			return nil, err
		}
		var faults []config.Fault
		for _, c := range cases {
			if c.Fault != "" {
				f := faultPlan(c.Fault)
				f.Name, f.Match = "contract "+c.Name, config.Match{App: h.appID(c)}
				faults = append(faults, f)
			}
		}
		if len(faults) > 0 {
			if err := h.target.PushFaults(ctx, faults); err != nil {
				h.close()
				return nil, err
			}
		}
	}
	return h, nil
}

func (h *harness) close() {
	if h.target != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = h.target.Restore(ctx)
	}
}

// appID names the case's app: its client_id and, for a sandbox app, its id.
func (h *harness) appID(c Case) string {
	if h.target != nil {
		return "contract-" + h.runID + "-" + c.Name
	}
	return "contract-" + c.Name
}

// runCase runs one non-aggregate case; the trial is nil when the case could not run.
func (h *harness) runCase(ctx context.Context, c Case, drv driver) (*trial, report.Result) {
	start := time.Now()
	if h.target != nil && (c.closed || c.consent) {
		return nil, c.skip("needs a closed window and the user's consent, which the kit sets up in process only; run without --target to check it")
	}
	if h.target != nil && c.Fault != "" && !h.target.InjectsFaults() {
		return nil, c.skip("needs a transport fault (" + string(c.Fault) + "), and the target has no fault injection (PUT /__admin/faults); run without --target to check it")
	}
	tr, err := h.play(ctx, c, drv)
	if err != nil {
		return nil, report.ResultOf(c.head(), []report.Finding{{Reason: "the kit could not run the case: " + err.Error()}}, time.Since(start))
	}
	j := &judge{}
	c.judge(j, tr)
	return tr, report.ResultOf(c.head(), j.findings, time.Since(start))
}

// play sends the case's messages through the client and gathers what it sent.
func (h *harness) play(ctx context.Context, c Case, drv driver) (*trial, error) {
	app := h.appID(c)
	var secretRnd [8]byte
	_, _ = rand.Read(secretRnd[:])
	secret := "secret-" + hex.EncodeToString(secretRnd[:])
	dir, err := os.MkdirTemp("", "smartappmock-contract-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	conn := Conn{ClientID: app, ClientSecret: secret, TokenCache: filepath.Join(dir, "token"), Endpoint: h.s.Endpoint,
		AnswerTimeout: h.s.SlowHold / 2}
	tp := h.s.Endpoint == EndpointSendByTP
	if tp {
		conn.PlatformKey, conn.PlatformTicket = "contract-tp-"+h.runID, "ticket-"+hex.EncodeToString(secretRnd[:4])
	}
	tr := &trial{c: c, msgs: c.Messages(), hold: h.s.SlowHold}

	var rec *recorder
	var srv *mockserver.Server
	closeSrv := func() {}
	if h.target == nil {
		cfg := &config.Config{
			Version: config.Version,
			// Baidu's profile, but forms labelled JSON are read as the embedded default reads them:
			// a client that sends them gets the warning (no_sandbox_warnings) and fails
			// send_form_encoded, rather than failing every case with 3001.
			Policy: config.Policy{Profile: config.ProfileBaidu, Apps: config.AppsConfigured, Tokens: config.TokensIssued,
				Window: config.Window{Mode: config.WindowRequireUserMessage}, LenientJSON: true},
			Apps:  []config.App{{ID: app, ClientID: app, ClientSecret: secret, UserMessages: []string{caseOpenID}, Users: []config.User{{OpenID: caseOpenID}}}},
			Rules: c.rules,
		}
		messagesSetup(c, cfg, &conn)
		if tp {
			cfg.Platforms = []config.Platform{{Key: conn.PlatformKey, Secret: secret, Ticket: conn.PlatformTicket}}
			cfg.Apps[0].Platforms = []string{conn.PlatformKey}
		}
		srv, err = mockserver.New(mockserver.Options{Config: cfg})
		if err != nil {
			return nil, err
		}
		if tp {
			if conn.AuthorizationCode, _, err = srv.AuthorizePlatform(ctx, conn.PlatformKey, app); err != nil {
				return nil, err
			}
		}
		rec = &recorder{next: srv, fault: c.Fault, hold: h.s.SlowHold, maxAttempts: h.s.MaxAttempts}
		hs := httptest.NewServer(rec)
		closeSrv = sync.OnceFunc(hs.Close)
		defer closeSrv()
		conn.BaseURL = hs.URL
	} else {
		conn.BaseURL = h.target.Base()
		if err := h.target.PrepareApp(ctx, app, secret, caseOpenID); err != nil {
			return nil, err
		}
		messagesSetup(c, nil, &conn)
		if tp {
			if conn.AuthorizationCode, err = h.target.Authorize(ctx, conn.PlatformKey, app); err != nil {
				return nil, err
			}
		}
	}

	sess, err := drv.open(conn)
	if err != nil {
		return nil, err
	}
	defer sess.close()
	var lastSeq uint64
	for i, m := range tr.msgs {
		mctx, cancel := context.WithTimeout(withCase(ctx, c.Name), h.s.SendTimeout)
		if rec != nil {
			rec.begin(i, cancel)
		}
		o := sess.send(mctx, m)
		deadline := mctx.Err() == context.DeadlineExceeded
		cancel()
		switch {
		case rec != nil && rec.overflow():
			o.Crash = fmt.Sprintf("the kit stopped the client after %d send requests for one message (an endless retry loop)", h.s.MaxAttempts)
		case deadline && o.Crash == "":
			o.Crash = fmt.Sprintf("the client did not finish within %s", h.s.SendTimeout)
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		tr.outcomes = append(tr.outcomes, o)
		if h.target != nil {
			es, seq, err := h.target.SettledJournal(ctx, app, lastSeq)
			if err != nil {
				return nil, err
			}
			lastSeq = seq
			for _, e := range es {
				tr.ex = append(tr.ex, rebuild(e, i))
			}
		}
	}
	if rec != nil {
		// Closing waits for every handler, so that abandoned requests are recorded too.
		closeSrv()
		entries, err := srv.Store().Journal(ctx, store.Query{})
		if err != nil {
			return nil, err
		}
		byID := make(map[string]*store.Entry, len(entries))
		for k := range entries {
			byID[entries[k].ID] = &entries[k]
		}
		tr.ex = rec.exchanges()
		for k := range tr.ex {
			tr.ex[k].Entry = byID[tr.ex[k].RequestID]
		}
	}
	sort.SliceStable(tr.ex, func(a, b int) bool { return tr.ex[a].Start.Before(tr.ex[b].Start) })
	return tr, nil
}

// aggregate judges an aggregate case over the trials of the run.
func (h *harness) aggregate(c Case, trials []*trial) report.Result {
	start := time.Now()
	sorted := make([]*trial, len(trials))
	copy(sorted, trials)
	order := map[string]int{}
	all, _ := familyCases(h.s.Family)
	for i, cc := range all {
		order[cc.Name] = i
	}
	sort.Slice(sorted, func(a, b int) bool { return order[sorted[a].c.Name] < order[sorted[b].c.Name] })
	if len(sorted) == 0 {
		return c.skip("no other case ran, so there are no requests to judge (select a case that sends, too)")
	}
	return report.ResultOf(c.head(), judgeAggregate(c, h.spec, sorted), time.Since(start))
}
