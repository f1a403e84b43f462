package contract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/mockserver/admin"
	"github.com/smartappmock/smartappmock/store"
)

// adminClient talks to a running fake's admin API through its typed client (admin.Client), and
// remembers what the kit changed there so that it can put it back.
type adminClient struct {
	c    admin.Client
	base string
	hc   *http.Client
	// saved are the target's own rules, put back when the run ends.
	saved []config.Rule
	// pushed is set once the kit's rules are in place.
	pushed bool
	// created are the sandbox apps the kit made (one per case), deleted when the run ends.
	created []string
	// faults is true when the target injects faults (PUT /__admin/faults); savedFaults are its own.
	faults      bool
	savedFaults []config.Fault
}

// targetFault maps the kit's faults to the fake's own fault kinds.
func targetFault(f Fault) config.FaultKind {
	switch f {
	case FaultHTTP502:
		return config.FaultHTTP502
	case FaultHTTP503:
		return config.FaultHTTP503
	case FaultDrop:
		return config.FaultEmpty
	case FaultMalformed:
		return config.FaultTruncated
	case FaultSlow:
		return config.FaultTimeout
	case FaultLostAck:
		return config.FaultReset
	}
	return ""
}

// faultPlan is the fault plan of a case's transport fault: its kind, and the phase where the kind's
// default is not the case's (a lost acknowledgement resets after the service acted).
func faultPlan(f Fault) config.Fault {
	p := config.Fault{Kind: targetFault(f)}
	if f == FaultLostAck {
		p.Phase = config.FaultPhaseAfter
	}
	return p
}

// faultPhase is where the case's fault strikes.
func faultPhase(f Fault) string {
	p := faultPlan(f)
	return p.PhaseFor(p.Kind)
}

// deleteCreated deletes the sandbox apps the kit made, so that a shared sandbox keeps no trace of
// the run (an older fake without DELETE /__admin/apps/{app} keeps them).
func (a *adminClient) deleteCreated(ctx context.Context) {
	for _, app := range a.created {
		_ = a.c.DeleteApp(ctx, app)
	}
	a.created = nil
}

// newAdminClient is the admin client of a target at base.
func newAdminClient(base, token string) *adminClient {
	hc := &http.Client{Timeout: 10 * time.Second}
	return &adminClient{c: admin.Client{BaseURL: base, Token: token, HTTP: hc}, base: base, hc: hc}
}

// pushFaults puts the kit's faults (each scoped to one case's app) in front of the target's own,
// when the target can inject faults; otherwise the fault cases are skipped.
func (a *adminClient) pushFaults(ctx context.Context, faults []config.Fault) error {
	cur, err := a.c.Faults(ctx)
	if admin.IsStatus(err, http.StatusNotFound) {
		return nil // an older fake without fault injection
	}
	if err != nil {
		return a.explain(err)
	}
	a.savedFaults = []config.Fault{}
	for _, f := range cur.Faults {
		a.savedFaults = append(a.savedFaults, f.Fault)
	}
	if _, err := a.c.PutFaults(ctx, append(append([]config.Fault{}, faults...), a.savedFaults...)); err != nil {
		return a.explain(err)
	}
	a.faults = true
	return nil
}

func (a *adminClient) restoreFaults(ctx context.Context) error {
	if !a.faults {
		return nil
	}
	_, err := a.c.PutFaults(ctx, a.savedFaults)
	return a.explain(err)
}

// explain words an admin API error for a contract run: a 401 says how to pass the token.
func (a *adminClient) explain(err error) error {
	var e *admin.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &e) && e.Status == http.StatusUnauthorized:
		return fmt.Errorf("target admin API: %s %s: HTTP 401: the target has an admin token: pass it with --admin-token T (env SMARTAPPMOCK_ADMIN_TOKEN; Suite.AdminToken in Go)", e.Method, e.Path)
	case errors.As(err, &e):
		return fmt.Errorf("target admin API: %s %s: HTTP %d: %s", e.Method, e.Path, e.Status, e.Message)
	}
	return fmt.Errorf("target %w", err)
}

func (a *adminClient) health(ctx context.Context) error {
	if _, err := a.c.Health(ctx); err != nil {
		return fmt.Errorf("%w (is %s a running smartappmock? --target needs its admin API)", a.explain(err), a.base)
	}
	return nil
}

// pushRules puts the kit's rules (each scoped to one case's app) in front of the target's own.
func (a *adminClient) pushRules(ctx context.Context, rules []config.Rule) error {
	cur, err := a.c.Rules(ctx)
	if err != nil {
		return a.explain(err)
	}
	a.saved = []config.Rule{}
	for _, r := range cur.Rules {
		a.saved = append(a.saved, r.Rule)
	}
	if _, err := a.c.PutRules(ctx, append(append([]config.Rule{}, rules...), a.saved...)); err != nil {
		return a.explain(err)
	}
	a.pushed = true
	return nil
}

func (a *adminClient) restoreRules(ctx context.Context) error {
	if !a.pushed {
		return nil
	}
	_, err := a.c.PutRules(ctx, a.saved)
	return a.explain(err)
}

// prepareApp registers the case's sandbox app (by fetching a token with its credentials), clears
// its journal and opens the user's customer-service window.
func (a *adminClient) prepareApp(ctx context.Context, app, secret, openID string) error {
	q := url.Values{"grant_type": {"client_credentials"}, "client_id": {app}, "client_secret": {secret}, "scope": {"smartapp_snsapi_base"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.base+smartappmock.TokenPath+"?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return fmt.Errorf("target: %w", err)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("target refused a token to client_id %s (HTTP %d: %s); run it with `policy: apps: sandbox` (the default configuration)",
			app, resp.StatusCode, strings.TrimSpace(string(body)))
	}
	a.created = append(a.created, app)
	if _, err := a.c.ResetApp(ctx, app); err != nil {
		return a.explain(err)
	}
	_, err = a.c.UserMessage(ctx, app, openID)
	return a.explain(err)
}

// authorize asks the target's admin API for an authorization code of app for platform (the
// console consent of sendbytp); the target accepts the kit's made-up platform as a sandbox one.
func (a *adminClient) authorize(ctx context.Context, platform, app string) (string, error) {
	var out admin.Authorization
	if err := a.c.Do(ctx, http.MethodPost, admin.Prefix+"/platforms/"+url.PathEscape(platform)+"/authorize", admin.Authorize{App: app}, &out); err != nil {
		return "", fmt.Errorf("%w (sendbytp needs a target with third-party platforms and `policy: apps: sandbox`)", a.explain(err))
	}
	return out.AuthorizationCode, nil
}

// journal returns the app's entries newer than after, oldest first, and the newest sequence seen.
func (a *adminClient) journal(ctx context.Context, app string, after uint64) ([]store.Entry, uint64, error) {
	all, err := a.c.Requests(ctx, store.Query{App: app, After: after}) // Limit 0: every entry held
	if err != nil {
		return nil, after, a.explain(err)
	}
	var es []store.Entry
	newest := after
	for _, e := range all {
		if e.Seq > after {
			es = append(es, e)
			newest = max(newest, e.Seq)
		}
	}
	sort.Slice(es, func(i, j int) bool { return es[i].Seq < es[j].Seq })
	return es, newest, nil
}

// settledJournal polls the app's journal until two reads 50 ms apart agree (at most 2 s): the fake
// appends an entry after it has answered, so a client can finish before its last request is in the
// journal.
func (a *adminClient) settledJournal(ctx context.Context, app string, after uint64) ([]store.Entry, uint64, error) {
	es, seq, err := a.journal(ctx, app, after)
	for range 40 {
		if err != nil {
			return nil, after, err
		}
		t := time.NewTimer(50 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, after, ctx.Err()
		case <-t.C:
		}
		var es2 []store.Entry
		var seq2 uint64
		es2, seq2, err = a.journal(ctx, app, after)
		if err == nil && seq2 == seq && len(es2) == len(es) {
			return es2, seq2, nil
		}
		es, seq = es2, seq2
	}
	return es, seq, err
}

// rebuild turns a journal entry back into a request, as near as the journal allows: parameters in
// their sources, the Content-Type as sent. A JSON body is not in the journal and comes back empty.
func rebuild(e store.Entry, msg int) exchange {
	query, body := url.Values{}, url.Values{}
	for _, p := range e.Params {
		if p.Source == "query" {
			query.Add(p.Name, p.Value)
		} else {
			body.Add(p.Name, p.Value)
		}
	}
	target := e.Path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	h := http.Header{}
	ct := e.ContentType
	var raw []byte
	switch {
	case strings.HasPrefix(strings.ToLower(ct), "multipart/form-data"):
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		for k, vs := range body {
			for _, v := range vs {
				_ = mw.WriteField(k, v)
			}
		}
		_ = mw.Close()
		raw, ct = b.Bytes(), mw.FormDataContentType()
	case len(body) > 0:
		raw = []byte(body.Encode())
	}
	if ct != "" {
		h.Set("Content-Type", ct)
	}
	ex := exchange{Endpoint: endpointOf(e.Path), Method: e.Method, Target: target, Header: h, Body: raw,
		Start: e.Time, End: e.Time.Add(time.Duration(e.LatencyMicros) * time.Microsecond),
		Status: e.Status, RequestID: e.ID, Message: msg}
	if e.Fault != "" {
		kind, _, _ := strings.Cut(e.Fault, " ")
		ex.Fault = Fault(kind)
	}
	entry := e
	ex.Entry = &entry
	return ex
}
