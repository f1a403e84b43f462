package mockserver

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/store"
	"github.com/smartappmock/smartappmock/store/guard"
)

// One truth per answer. A store call whose answer is lost (it missed its deadline, or the
// connection broke before the answer: a Redis shutting down) may have run in the store. The rule
// of the fake: the client's answer stands, and the store is brought to agree with it once it
// answers again, by the send's request id.
//
//   - A send whose reply take (TakeReply) failed is answered error_code 2; the reply it may have
//     counted is given back (store.GiveBack), so the window counts only the successes its clients
//     saw.
//   - A send answered with a success whose journal entry could not be appended is journaled once
//     the store answers (store.AppendOnce: not twice when the lost Append had run), so the journal
//     holds what the client was told.
//
// The sends to reconcile wait in the replica's memory (at most maxPending; the oldest go past
// it, with a log line); a replica that stops meanwhile takes them with it.

// maxPending is how many sends a replica keeps to reconcile.
const maxPending = 10_000

// pending is one send to reconcile.
type pending struct {
	id, app, openID string       // giveBack: the reply of request id in app's window of openID
	giveBack        bool         // give the reply back
	entry           *store.Entry // append the entry once (a copy of its own)
}

// ledger holds the sends to reconcile, oldest first.
type ledger struct {
	mu      sync.Mutex
	items   []pending
	n       atomic.Int32 // len(items), read without the lock on every send
	running atomic.Bool  // a reconciliation is under way
}

func (l *ledger) add(p pending) (dropped bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.items) >= maxPending {
		l.items = append(l.items[:0], l.items[1:]...)
		dropped = true
	}
	l.items = append(l.items, p)
	l.n.Store(int32(len(l.items)))
	return dropped
}

func (l *ledger) first() (pending, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.items) == 0 {
		return pending{}, false
	}
	return l.items[0], true
}

func (l *ledger) done() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.items) > 0 {
		l.items[0] = pending{}
		l.items = l.items[1:]
	}
	l.n.Store(int32(len(l.items)))
}

// lostReply is the error of a send whose reply take failed: the take may have counted.
type lostReply struct {
	app, openID string
	err         error
}

func (e *lostReply) Error() string { return e.err.Error() }
func (e *lostReply) Unwrap() error { return e.err }

// unknownOutcome reports whether a store call that failed with err may have run: the breaker
// refused it unsent, or the caller went away before it was sent, or not.
func unknownOutcome(err error) bool {
	return err != nil && !errors.Is(err, guard.ErrNotSent)
}

// noteLostReply puts a send whose reply take failed (err from the decision) in the ledger.
func (s *Server) noteLostReply(ctx context.Context, err error) {
	var lr *lostReply
	id := store.RequestOf(ctx)
	if id == "" || !errors.As(err, &lr) || !unknownOutcome(lr.err) {
		return
	}
	s.addPending(pending{id: id, app: lr.app, openID: lr.openID, giveBack: true})
}

// noteLostEntry puts a success whose entry could not be journaled (err from Append) in the
// ledger, with a copy of the entry.
func (s *Server) noteLostEntry(e *store.Entry, err error) {
	if err == nil || e.ID == "" || e.Layer != smartappmock.LayerBusiness || e.Code != smartappmock.ErrnoOK {
		return
	}
	b, merr := json.Marshal(e)
	var c store.Entry
	if merr != nil || json.Unmarshal(b, &c) != nil {
		return // an entry is plain data: cannot fail
	}
	c.Seq = 0
	s.addPending(pending{id: e.ID, entry: &c})
}

func (s *Server) addPending(p pending) {
	if s.ledger.add(p) {
		s.log.Warn("store: too many sends to reconcile; the oldest is left as it is", "max", maxPending)
	}
}

// reconcileSoon starts a reconciliation unless one is under way: the store answered a send.
func (s *Server) reconcileSoon() {
	if s.ledger.n.Load() == 0 || !s.ledger.running.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer s.ledger.running.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = s.Reconcile(ctx)
	}()
}

// Reconcile brings the store to agree with what the clients of sends whose store answer was
// lost were told (see the comment at the top of reconcile.go), oldest first, and returns how
// many are left: none, unless the store failed again (its error).
func (s *Server) Reconcile(ctx context.Context) (int, error) {
	for {
		p, ok := s.ledger.first()
		if !ok {
			return 0, nil
		}
		if p.giveBack {
			given, err := s.store.GiveBack(ctx, p.app, p.openID, p.id)
			if err != nil {
				return int(s.ledger.n.Load()), err
			}
			s.log.Info("store: reconciled a send answered error_code 2", "id", p.id, "app", p.app, "reply_given_back", given)
		}
		if p.entry != nil {
			_, appended, err := s.store.AppendOnce(ctx, *p.entry)
			if err != nil {
				return int(s.ledger.n.Load()), err
			}
			s.log.Info("store: reconciled a success whose journal entry was lost", "id", p.id, "app", p.entry.App, "appended", appended)
		}
		s.ledger.done()
	}
}

// Unreconciled returns how many sends wait to be reconciled.
func (s *Server) Unreconciled() int { return int(s.ledger.n.Load()) }
