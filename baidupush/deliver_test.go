package baidupush

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// received is one push as the fake bot saw it.
type received struct {
	query   string
	body    []byte
	msg     Message
	openErr error
}

// fakeBot is an httptest bot that opens every push with its configuration and answers with
// answer(n) for its n-th request (from 1).
type fakeBot struct {
	srv *httptest.Server
	cfg Config

	mu  sync.Mutex
	got []received
}

type answer struct {
	status int
	body   string
	hang   bool // wait until the client gives up
}

func newFakeBot(t *testing.T, c Config, answerFor func(n int, opened bool) answer) *fakeBot {
	t.Helper()
	b := &fakeBot{}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		o, err := Open(b.cfg, r.URL.Query(), body)
		b.mu.Lock()
		b.got = append(b.got, received{query: r.URL.RawQuery, body: body, msg: o.Message, openErr: err})
		n := len(b.got)
		b.mu.Unlock()
		a := answerFor(n, err == nil)
		if a.hang {
			<-r.Context().Done()
			return
		}
		if a.status != 0 {
			w.WriteHeader(a.status)
		}
		_, _ = io.WriteString(w, a.body)
	}))
	t.Cleanup(b.srv.Close)
	c.URL = b.srv.URL + "/push"
	b.cfg = c
	return b
}

func (b *fakeBot) received() []received {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]received(nil), b.got...)
}

// always answers the same to every request.
func always(a answer) func(int, bool) answer { return func(int, bool) answer { return a } }

// acksValid acknowledges the pushes it can open and refuses the others with 403.
func acksValid(_ int, opened bool) answer {
	if opened {
		return answer{body: "success"}
	}
	return answer{status: http.StatusForbidden, body: "bad signature"}
}

// summary is the comparable part of a Result.
type summary struct {
	Outcome  Outcome
	Statuses []int
	Acked    []bool
	Dups     []bool
}

func summarize(r Result) summary {
	s := summary{Outcome: r.Outcome}
	for _, a := range r.Attempts {
		s.Statuses = append(s.Statuses, a.Status)
		s.Acked = append(s.Acked, a.Acked)
		s.Dups = append(s.Dups, a.Duplicate)
	}
	return s
}

func TestDeliver_Outcomes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		answer     func(n int, opened bool) answer
		edit       func(*Config)
		want       summary
		wantReason string // in the last attempt
	}{
		{"AckedBySuccess", always(answer{body: "success"}), nil,
			summary{OutcomeDelivered, []int{200}, []bool{true}, []bool{false}}, ""},
		{"AckedByEmptyBody", always(answer{}), nil,
			summary{OutcomeDelivered, []int{200}, []bool{true}, []bool{false}}, ""},
		{"AckedBy204", always(answer{status: 204}), nil,
			summary{OutcomeDelivered, []int{204}, []bool{true}, []bool{false}}, ""},
		{"RetriedAfter500_ThenAcked", func(n int, _ bool) answer {
			if n == 1 {
				return answer{status: 500, body: "oops"}
			}
			return answer{body: "success"}
		}, nil, summary{OutcomeDelivered, []int{500, 200}, []bool{false, true}, []bool{false, false}}, ""},
		{"NearMissNewline_FailsAfterThreeAttempts", always(answer{body: "success\n"}), nil,
			summary{OutcomeFailed, []int{200, 200, 200}, []bool{false, false, false}, []bool{false, false, false}}, "near miss"},
		{"OtherBody_Fails", always(answer{body: "ok"}), nil,
			summary{OutcomeFailed, []int{200, 200, 200}, []bool{false, false, false}, []bool{false, false, false}}, `body "ok" is neither success nor empty`},
		{"Success404_IsNoAck", always(answer{status: 404, body: "success"}), func(c *Config) { c.Retries = intp(0) },
			summary{OutcomeFailed, []int{404}, []bool{false}, []bool{false}}, "HTTP 404 Not Found"},
		{"RetriesZero_OneAttempt", always(answer{status: 503}), func(c *Config) { c.Retries = intp(0) },
			summary{OutcomeFailed, []int{503}, []bool{false}, []bool{false}}, "HTTP 503"},
		{"RetriesFour_FiveAttempts", always(answer{status: 502}), func(c *Config) { c.Retries = intp(4) },
			summary{OutcomeFailed, []int{502, 502, 502, 502, 502}, []bool{false, false, false, false, false}, []bool{false, false, false, false, false}}, "HTTP 502"},
		{"Timeout", always(answer{hang: true}), func(c *Config) { c.Retries, c.Timeout = intp(1), Duration(50*time.Millisecond) },
			summary{OutcomeFailed, []int{0, 0}, []bool{false, false}, []bool{false, false}}, "timeout: no answer within 50ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := goldenConfig(ModeSecure, FormatJSON)
			if tc.edit != nil {
				tc.edit(&c)
			}
			bot := newFakeBot(t, c, tc.answer)
			res := Deliver(t.Context(), bot.srv.Client(), bot.cfg, docText)
			if diff := cmp.Diff(tc.want, summarize(res)); diff != "" {
				t.Errorf("Deliver mismatch (-want +got):\n%s\nresult: %+v", diff, res)
			}
			if last := res.Attempts[len(res.Attempts)-1]; !strings.Contains(last.Reason, tc.wantReason) {
				t.Errorf("last reason = %q; want it to contain %q", last.Reason, tc.wantReason)
			}
			if res.Delivered() != (res.Reason == "") {
				t.Errorf("Delivered() = %v with reason %q; want a reason exactly when not delivered", res.Delivered(), res.Reason)
			}
			// Every attempt carried the same bytes, hence the same MsgId.
			got := bot.received()
			if !strings.Contains(tc.wantReason, "timeout") { // a timed-out request may not have reached the handler
				if len(got) != len(tc.want.Statuses) {
					t.Fatalf("bot received %d requests; want %d", len(got), len(tc.want.Statuses))
				}
			}
			for i, r := range got {
				if r.openErr != nil || r.msg.MsgID != docText.MsgID || !bytes.Equal(r.body, got[0].body) {
					t.Errorf("request %d: MsgId %d, open error %v, same body %v; want %d, nil, true", i+1, r.msg.MsgID, r.openErr, bytes.Equal(r.body, got[0].body), docText.MsgID)
				}
			}
		})
	}
}

func TestDeliver_AttemptRecordsAnswer(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 400) // 800 bytes
	bot := newFakeBot(t, goldenConfig(ModePlain, FormatXML), always(answer{status: 500, body: long}))
	c := bot.cfg
	c.Retries = intp(0)
	res := Deliver(t.Context(), bot.srv.Client(), c, docText)
	a := res.Attempts[0]
	if a.N != 1 || a.Status != 500 || len(a.Body) != MaxBodyBytes || !a.Truncated || a.Latency <= 0 || a.Start.IsZero() {
		t.Errorf("attempt = N %d, status %d, %d body bytes, truncated %v, latency %v, start %v; want 1, 500, %d, true, > 0, set",
			a.N, a.Status, len(a.Body), a.Truncated, a.Latency, a.Start, MaxBodyBytes)
	}
	if res.MsgID != docText.MsgID || !strings.Contains(res.Reason, "none of 1 attempts acknowledged; last: HTTP 500") {
		t.Errorf("result = MsgID %d, reason %q; want %d and the last attempt's reason", res.MsgID, res.Reason, docText.MsgID)
	}
}

func TestDeliver_ConnectionRefused(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	c := goldenConfig(ModePlain, FormatJSON)
	c.URL = srv.URL
	srv.Close()
	res := Deliver(t.Context(), nil, c, docText)
	if res.Outcome != OutcomeFailed || len(res.Attempts) != 3 {
		t.Fatalf("Deliver to a closed port = %s after %d attempts; want failed after 3", res.Outcome, len(res.Attempts))
	}
	for _, a := range res.Attempts {
		if a.Status != 0 || !strings.HasPrefix(a.Reason, "connection: ") {
			t.Errorf("attempt %d = status %d, reason %q; want 0 and a connection error", a.N, a.Status, a.Reason)
		}
	}
}

func TestDeliver_CanceledContext(t *testing.T) {
	t.Parallel()
	bot := newFakeBot(t, goldenConfig(ModePlain, FormatJSON), always(answer{body: "success"}))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	res := Deliver(ctx, bot.srv.Client(), bot.cfg, docText)
	if res.Outcome != OutcomeCanceled || len(bot.received()) != 0 {
		t.Errorf("Deliver(canceled) = %s with %d requests; want canceled with none", res.Outcome, len(bot.received()))
	}
}

func TestDeliver_InvalidSendsNothing(t *testing.T) {
	t.Parallel()
	bot := newFakeBot(t, goldenConfig(ModePlain, FormatJSON), always(answer{body: "success"}))
	noToken := bot.cfg
	noToken.Token = ""
	for _, tc := range []struct {
		name    string
		c       Config
		m       Message
		wantErr string
	}{
		{"NoToken", noToken, docText, "token: empty"},
		{"BadMessage", bot.cfg, Message{MsgType: "voice"}, `MsgType: "voice"`},
	} {
		res := Deliver(t.Context(), bot.srv.Client(), tc.c, tc.m)
		if res.Outcome != OutcomeInvalid || len(res.Attempts) != 0 || !strings.Contains(res.Reason, tc.wantErr) {
			t.Errorf("%s: Deliver = %s, %d attempts, %q; want invalid, 0, containing %q", tc.name, res.Outcome, len(res.Attempts), res.Reason, tc.wantErr)
		}
	}
	if n := len(bot.received()); n != 0 {
		t.Errorf("bot received %d requests; want none", n)
	}
}

func TestDeliver_InjectedClockAndRand(t *testing.T) {
	t.Parallel()
	bot := newFakeBot(t, goldenConfig(ModeSecure, FormatXML), acksValid)
	at := time.Unix(1714036504, 0)
	res := Deliver(t.Context(), bot.srv.Client(), bot.cfg, docText, WithClock(func() time.Time { return at }), WithRand(bytes.NewReader(make([]byte, 64))))
	if !res.Delivered() {
		t.Fatalf("Deliver = %+v; want delivered", res)
	}
	want, err := Encode(bot.cfg, docText, Params{Timestamp: "1714036504", Nonce: "0"})
	if err != nil {
		t.Fatal(err)
	}
	if got := bot.received()[0]; got.query != want.Query.Encode() || !bytes.Equal(got.body, want.Body) {
		t.Errorf("push = %s %s; want %s %s", got.query, got.body, want.Query.Encode(), want.Body)
	}
	short := Deliver(t.Context(), bot.srv.Client(), bot.cfg, docText, WithRand(bytes.NewReader(nil)))
	if short.Outcome != OutcomeInvalid || !strings.Contains(short.Reason, "randomness") {
		t.Errorf("Deliver with an empty random source = %s, %q; want invalid, randomness", short.Outcome, short.Reason)
	}
}

// sleeps records the pauses asked of WithSleep without waiting.
type sleeps struct {
	mu  sync.Mutex
	got []time.Duration
	err error
}

func (s *sleeps) sleep(_ context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, d)
	return s.err
}

func TestDeliver_RetryDelay(t *testing.T) {
	t.Parallel()
	bot := newFakeBot(t, goldenConfig(ModePlain, FormatJSON), always(answer{status: 500}))
	c := bot.cfg
	c.RetryDelay = Duration(5 * time.Second)
	var s sleeps
	res := Deliver(t.Context(), bot.srv.Client(), c, docText, WithSleep(s.sleep))
	if diff := cmp.Diff([]time.Duration{5 * time.Second, 5 * time.Second}, s.got); diff != "" || len(res.Attempts) != 3 {
		t.Errorf("pauses mismatch (-want +got):\n%s\n(attempts %d; want 3)", diff, len(res.Attempts))
	}
}

func TestDeliver_RedirectIsNoAck(t *testing.T) {
	t.Parallel()
	target := newFakeBot(t, goldenConfig(ModePlain, FormatJSON), acksValid)
	redirect := httptest.NewServer(http.RedirectHandler(target.cfg.URL, http.StatusTemporaryRedirect))
	defer redirect.Close()
	c := target.cfg
	c.URL, c.Retries = redirect.URL, intp(0)
	client := &http.Client{}
	res := Deliver(t.Context(), client, c, docText)
	if res.Delivered() || res.Attempts[0].Status != http.StatusTemporaryRedirect || len(target.received()) != 0 {
		t.Errorf("Deliver to a 307 = %s, HTTP %d, %d requests at the target; want failed, 307, none", res.Outcome, res.Attempts[0].Status, len(target.received()))
	}
	if client.CheckRedirect != nil {
		t.Error("Deliver changed the caller's client")
	}
}

func TestDeliver_OnAttemptSeesEachAttemptInOrder(t *testing.T) {
	t.Parallel()
	bot := newFakeBot(t, goldenConfig(ModePlain, FormatJSON), func(n int, _ bool) answer {
		if n == 1 {
			return answer{status: 500}
		}
		return answer{body: "success"}
	})
	type seen struct {
		MsgID     int64
		N         int
		Duplicate bool
	}
	var got []seen
	res := Deliver(t.Context(), bot.srv.Client(), bot.cfg, docText, Duplicate(), OnAttempt(func(id int64, a Attempt) {
		got = append(got, seen{id, a.N, a.Duplicate})
	}))
	want := []seen{{docText.MsgID, 1, false}, {docText.MsgID, 2, false}, {docText.MsgID, 3, true}}
	if diff := cmp.Diff(want, got); diff != "" || len(res.Attempts) != 3 {
		t.Errorf("OnAttempt calls mismatch (-want +got):\n%s", diff)
	}
}

func TestDeliver_RetryPauseCanceled(t *testing.T) {
	t.Parallel()
	bot := newFakeBot(t, goldenConfig(ModePlain, FormatJSON), always(answer{status: 500}))
	c := bot.cfg
	c.RetryDelay = Duration(time.Minute)
	s := sleeps{err: context.Canceled}
	res := Deliver(t.Context(), bot.srv.Client(), c, docText, WithSleep(s.sleep))
	if res.Outcome != OutcomeCanceled || len(res.Attempts) != 1 || !strings.Contains(res.Reason, "pause after attempt 1 of 3") {
		t.Errorf("Deliver = %s after %d attempts, %q; want canceled after 1, in the pause", res.Outcome, len(res.Attempts), res.Reason)
	}
}

func TestDeliverAll_ResultsDoNotShareFaults(t *testing.T) {
	t.Parallel()
	bot := newFakeBot(t, goldenConfig(ModePlain, FormatJSON), acksValid)
	second := docText
	second.MsgID++
	res := DeliverAll(t.Context(), bot.srv.Client(), bot.cfg, []Message{docText, second}, Duplicate())
	res[0].Faults[0] = "edited"
	if res[1].Faults[0] != FaultDuplicate {
		t.Errorf("editing one result's Faults changed another's: %q", res[1].Faults[0])
	}
}

func TestDeliver_Faults(t *testing.T) {
	t.Parallel()
	secureBody := goldenConfig(ModeSecure, FormatXML)
	secureBody.Envelope = EnvelopeBody
	t.Run("Duplicate_SameBytesTwice", func(t *testing.T) {
		t.Parallel()
		bot := newFakeBot(t, goldenConfig(ModeSecure, FormatJSON), acksValid)
		res := Deliver(t.Context(), bot.srv.Client(), bot.cfg, docText, Duplicate())
		want := summary{OutcomeDelivered, []int{200, 200}, []bool{true, true}, []bool{false, true}}
		if diff := cmp.Diff(want, summarize(res)); diff != "" {
			t.Errorf("Deliver mismatch (-want +got):\n%s", diff)
		}
		got := bot.received()
		if len(got) != 2 || got[0].query != got[1].query || !bytes.Equal(got[0].body, got[1].body) || got[1].msg.MsgID != docText.MsgID {
			t.Errorf("bot received %d requests; want the same push twice", len(got))
		}
		if diff := cmp.Diff([]string{FaultDuplicate}, res.Faults); diff != "" {
			t.Errorf("Faults mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("Duplicate_NotSentWhenUndelivered", func(t *testing.T) {
		t.Parallel()
		bot := newFakeBot(t, goldenConfig(ModePlain, FormatJSON), always(answer{status: 500}))
		res := Deliver(t.Context(), bot.srv.Client(), bot.cfg, docText, Duplicate())
		if len(res.Attempts) != 3 || res.Attempts[2].Duplicate {
			t.Errorf("attempts = %+v; want 3 retries and no duplicate", res.Attempts)
		}
	})
	t.Run("Delay_BeforeFirstAttempt", func(t *testing.T) {
		t.Parallel()
		bot := newFakeBot(t, goldenConfig(ModePlain, FormatXML), acksValid)
		var s sleeps
		res := Deliver(t.Context(), bot.srv.Client(), bot.cfg, docText, Delay(3*time.Second), WithSleep(s.sleep))
		if diff := cmp.Diff([]time.Duration{3 * time.Second}, s.got); diff != "" || !res.Delivered() {
			t.Errorf("pauses mismatch (-want +got):\n%s\n(outcome %s; want delivered)", diff, res.Outcome)
		}
	})
	t.Run("Delay_CanceledSendsNothing", func(t *testing.T) {
		t.Parallel()
		bot := newFakeBot(t, goldenConfig(ModePlain, FormatXML), acksValid)
		s := sleeps{err: context.Canceled}
		res := Deliver(t.Context(), bot.srv.Client(), bot.cfg, docText, Delay(time.Hour), WithSleep(s.sleep))
		if res.Outcome != OutcomeCanceled || len(bot.received()) != 0 {
			t.Errorf("Deliver = %s with %d requests; want canceled with none", res.Outcome, len(bot.received()))
		}
	})
	t.Run("Delay_RealTimer", func(t *testing.T) {
		t.Parallel()
		bot := newFakeBot(t, goldenConfig(ModePlain, FormatXML), acksValid)
		start := time.Now()
		res := Deliver(t.Context(), bot.srv.Client(), bot.cfg, docText, Delay(30*time.Millisecond))
		if el := res.Attempts[0].Start.Sub(start); el < 30*time.Millisecond || !res.Delivered() {
			t.Errorf("first attempt after %v, outcome %s; want ≥ 30ms, delivered", el, res.Outcome)
		}
	})
	for _, c := range []struct {
		name string
		cfg  Config
	}{
		{"Plain", goldenConfig(ModePlain, FormatJSON)},
		{"SecureQueryEnvelope", goldenConfig(ModeSecure, FormatXML)},
		{"SecureBodyEnvelope", secureBody},
		{"Compatible", goldenConfig(ModeCompatible, FormatJSON)},
	} {
		t.Run("WrongSignature_"+c.name, func(t *testing.T) {
			t.Parallel()
			bot := newFakeBot(t, c.cfg, acksValid)
			res := Deliver(t.Context(), bot.srv.Client(), bot.cfg, docText, WrongSignature())
			if res.Outcome != OutcomeFailed || len(res.Attempts) != 3 {
				t.Errorf("Deliver = %s after %d attempts; want failed after 3 (the bot refuses)", res.Outcome, len(res.Attempts))
			}
			for i, r := range bot.received() {
				if !errors.Is(r.openErr, ErrSignature) {
					t.Errorf("request %d: Open = %v; want ErrSignature", i+1, r.openErr)
				}
			}
		})
	}
	t.Run("OutOfOrder_LaterMessageFirst", func(t *testing.T) {
		t.Parallel()
		bot := newFakeBot(t, goldenConfig(ModePlain, FormatJSON), acksValid)
		first, second := docText, docText
		second.MsgID, second.CreateTime, second.Content = docText.MsgID+1, docText.CreateTime+1, "second"
		res := DeliverAll(t.Context(), bot.srv.Client(), bot.cfg, []Message{first, second}, OutOfOrder())
		var order []int64
		for _, r := range bot.received() {
			order = append(order, r.msg.MsgID)
		}
		if diff := cmp.Diff([]int64{second.MsgID, first.MsgID}, order); diff != "" {
			t.Errorf("arrival order mismatch (-want +got):\n%s", diff)
		}
		if res[0].MsgID != first.MsgID || res[0].Sequence != 2 || res[1].Sequence != 1 || !res[0].Delivered() || !res[1].Delivered() {
			t.Errorf("results = %+v; want them in input order with sequences 2, 1, both delivered", res)
		}
	})
	t.Run("InOrderByDefault", func(t *testing.T) {
		t.Parallel()
		bot := newFakeBot(t, goldenConfig(ModePlain, FormatJSON), acksValid)
		second := docText
		second.MsgID++
		res := DeliverAll(t.Context(), bot.srv.Client(), bot.cfg, []Message{docText, second})
		if got := bot.received(); len(got) != 2 || got[0].msg.MsgID != docText.MsgID || res[0].Sequence != 1 {
			t.Errorf("first arrival %d, sequence %d; want %d, 1", got[0].msg.MsgID, res[0].Sequence, docText.MsgID)
		}
	})
	t.Run("RequestHook_CustomFault", func(t *testing.T) {
		t.Parallel()
		bot := newFakeBot(t, goldenConfig(ModePlain, FormatJSON), acksValid)
		var attempts []int
		res := Deliver(t.Context(), bot.srv.Client(), bot.cfg, docText, WithRequestHook("stale_timestamp", func(n int, r *Request) {
			attempts = append(attempts, n)
			if n == 1 {
				r.Query.Set(ParamTimestamp, "1")
			}
		}))
		want := summary{OutcomeDelivered, []int{403, 200}, []bool{false, true}, []bool{false, false}}
		if diff := cmp.Diff(want, summarize(res)); diff != "" {
			t.Errorf("Deliver mismatch (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]int{1, 2}, attempts); diff != "" {
			t.Errorf("hook calls mismatch (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"stale_timestamp"}, res.Faults); diff != "" {
			t.Errorf("Faults mismatch (-want +got):\n%s", diff)
		}
	})
}
