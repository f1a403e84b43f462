package target

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/mockserver/admin"
	"github.com/smartappmock/smartappmock/store"
)

// Session talks to a running fake's admin API through its typed client (admin.Client), and
// remembers what the run changed there so that Restore can put it back. PrepareApp, Authorize and
// SettledJournal may be called by cases running in parallel; PushRules, PushFaults and Restore run
// once, before and after the cases.
type Session struct {
	c    admin.Client
	base string
	hc   *http.Client
	// saved are the target's own rules, put back when the run ends.
	saved []config.Rule
	// pushed is set once the kit's rules are in place.
	pushed bool
	// created are the sandbox apps the kit made (one per case), deleted when the run ends; cases
	// run in parallel, so mu guards it.
	mu      sync.Mutex
	created []string
	// faults is true when the target injects faults (PUT /__admin/faults); savedFaults are its own.
	faults      bool
	savedFaults []config.Fault
}

// Open is the session with the fake at base (its admin API takes token, if any), once its health
// check answers.
func Open(ctx context.Context, base, token string) (*Session, error) {
	hc := &http.Client{Timeout: 10 * time.Second}
	s := &Session{c: admin.Client{BaseURL: base, Token: token, HTTP: hc}, base: base, hc: hc}
	if _, err := s.c.Health(ctx); err != nil {
		return nil, fmt.Errorf("%w (is %s a running smartappmock? --target needs its admin API)", s.explain(err), base)
	}
	return s, nil
}

// Base is the target's base URL, for the client under test.
func (s *Session) Base() string { return s.base }

// InjectsFaults reports whether the target took the kit's faults (PushFaults): an older fake
// without PUT /__admin/faults cannot run the fault cases.
func (s *Session) InjectsFaults() bool { return s.faults }

// Restore puts back the target's own rules and faults and deletes the sandbox apps the kit made,
// so that a shared sandbox keeps no trace of the run (an older fake without
// DELETE /__admin/apps/{app} keeps them).
func (s *Session) Restore(ctx context.Context) error {
	err := errors.Join(s.restoreRules(ctx), s.restoreFaults(ctx))
	s.mu.Lock()
	created := s.created
	s.created = nil
	s.mu.Unlock()
	for _, app := range created {
		_ = s.c.DeleteApp(ctx, app)
	}
	return err
}

// PushFaults puts the kit's faults (each scoped to one case's app) in front of the target's own,
// when the target can inject faults; otherwise the fault cases are skipped.
func (s *Session) PushFaults(ctx context.Context, faults []config.Fault) error {
	cur, err := s.c.Faults(ctx)
	if admin.IsStatus(err, http.StatusNotFound) {
		return nil // an older fake without fault injection
	}
	if err != nil {
		return s.explain(err)
	}
	s.savedFaults = []config.Fault{}
	for _, f := range cur.Faults {
		s.savedFaults = append(s.savedFaults, f.Fault)
	}
	if _, err := s.c.PutFaults(ctx, append(append([]config.Fault{}, faults...), s.savedFaults...)); err != nil {
		return s.explain(err)
	}
	s.faults = true
	return nil
}

func (s *Session) restoreFaults(ctx context.Context) error {
	if !s.faults {
		return nil
	}
	_, err := s.c.PutFaults(ctx, s.savedFaults)
	return s.explain(err)
}

// explain words an admin API error for a contract run: a 401 says how to pass the token.
func (s *Session) explain(err error) error {
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

// PushRules puts the kit's rules (each scoped to one case's app) in front of the target's own.
func (s *Session) PushRules(ctx context.Context, rules []config.Rule) error {
	cur, err := s.c.Rules(ctx)
	if err != nil {
		return s.explain(err)
	}
	s.saved = []config.Rule{}
	for _, r := range cur.Rules {
		s.saved = append(s.saved, r.Rule)
	}
	if _, err := s.c.PutRules(ctx, append(append([]config.Rule{}, rules...), s.saved...)); err != nil {
		return s.explain(err)
	}
	s.pushed = true
	return nil
}

func (s *Session) restoreRules(ctx context.Context) error {
	if !s.pushed {
		return nil
	}
	_, err := s.c.PutRules(ctx, s.saved)
	return s.explain(err)
}

// PrepareApp registers the case's sandbox app (by fetching a token with its credentials), clears
// its journal and opens the user's customer-service window.
func (s *Session) PrepareApp(ctx context.Context, app, secret, openID string) error {
	q := url.Values{"grant_type": {"client_credentials"}, "client_id": {app}, "client_secret": {secret}, "scope": {"smartapp_snsapi_base"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.base+smartappmock.TokenPath+"?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		return fmt.Errorf("target: %w", err)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("target refused a token to client_id %s (HTTP %d: %s); run it with `policy: apps: sandbox` (the default configuration)",
			app, resp.StatusCode, strings.TrimSpace(string(body)))
	}
	s.mu.Lock()
	s.created = append(s.created, app)
	s.mu.Unlock()
	if _, err := s.c.ResetApp(ctx, app); err != nil {
		return s.explain(err)
	}
	// The user is one the target issued, as a user who logged in (policy.open_ids); one the app
	// has already (409) is as good.
	var ae *admin.Error
	if _, err := s.c.CreateUser(ctx, app, config.User{OpenID: openID}); err != nil && !(errors.As(err, &ae) && ae.Status == http.StatusConflict) {
		return s.explain(err)
	}
	_, err = s.c.UserMessage(ctx, app, openID)
	return s.explain(err)
}

// Authorize asks the target's admin API for an authorization code of app for platform (the
// console consent of sendbytp); the target accepts the kit's made-up platform as a sandbox one.
func (s *Session) Authorize(ctx context.Context, platform, app string) (string, error) {
	var out admin.Authorization
	if err := s.c.Do(ctx, http.MethodPost, admin.Prefix+"/platforms/"+url.PathEscape(platform)+"/authorize", admin.Authorize{App: app}, &out); err != nil {
		return "", fmt.Errorf("%w (sendbytp needs a target with third-party platforms and `policy: apps: sandbox`)", s.explain(err))
	}
	return out.AuthorizationCode, nil
}

// journal returns the app's entries newer than after, oldest first, and the newest sequence seen.
func (s *Session) journal(ctx context.Context, app string, after uint64) ([]store.Entry, uint64, error) {
	all, err := s.c.Requests(ctx, store.Query{App: app, After: after}) // Limit 0: every entry held
	if err != nil {
		return nil, after, s.explain(err)
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

// SettledJournal polls the app's journal until two reads 50 ms apart agree (at most 2 s): the fake
// appends an entry after it has answered, so a client can finish before its last request is in the
// journal.
func (s *Session) SettledJournal(ctx context.Context, app string, after uint64) ([]store.Entry, uint64, error) {
	es, seq, err := s.journal(ctx, app, after)
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
		es2, seq2, err = s.journal(ctx, app, after)
		if err == nil && seq2 == seq && len(es2) == len(es) {
			return es2, seq2, nil
		}
		es, seq = es2, seq2
	}
	return es, seq, err
}

// Request rebuilds the request a journal entry records, as near as the journal allows: its URI
// (path and the query parameters), its Content-Type as sent, and its body (the body parameters,
// form-encoded or multipart as sent). A JSON body is not in the journal and comes back empty.
func Request(e store.Entry) (uri string, h http.Header, body []byte) {
	query, form := url.Values{}, url.Values{}
	for _, p := range e.Params {
		if p.Source == "query" {
			query.Add(p.Name, p.Value)
		} else {
			form.Add(p.Name, p.Value)
		}
	}
	uri = e.Path
	if len(query) > 0 {
		uri += "?" + query.Encode()
	}
	h = http.Header{}
	ct := e.ContentType
	switch {
	case strings.HasPrefix(strings.ToLower(ct), "multipart/form-data"):
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		for k, vs := range form {
			for _, v := range vs {
				_ = mw.WriteField(k, v)
			}
		}
		_ = mw.Close()
		body, ct = b.Bytes(), mw.FormDataContentType()
	case e.Path == smartappmock.CheckTextPath && len(form) > 0:
		// The text check's JSON body, as the journal keeps it: content, and type joined by commas.
		doc := map[string]any{"content": form.Get("content")}
		if t := form.Get("type"); t != "" {
			doc["type"] = strings.Split(t, ",")
		}
		body, _ = json.Marshal(doc)
	case len(form) > 0:
		body = []byte(form.Encode())
	}
	if ct != "" {
		h.Set("Content-Type", ct)
	}
	return uri, h, body
}
