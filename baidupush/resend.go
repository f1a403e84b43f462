package baidupush

import (
	"context"
	"net/http"
	"slices"
)

// OnRequest calls f with each attempt's request, exactly as it is about to be sent (after the
// fault hooks), before the attempt starts, so that a caller can keep the bytes of every attempt.
// f must not change r.
func OnRequest(f func(msgID int64, attempt int, r *Request)) Option {
	return func(s *settings) { s.requests = append(s.requests, f) }
}

func (s *settings) sending(msgID int64, n int, r *Request) {
	for _, f := range s.requests {
		f(msgID, n, r)
	}
}

// Resend delivers an already encoded push again, as Deliver delivers a message: the same
// attempts, timeout and acknowledgement rule, and the same bytes on every attempt (req is not
// re-encoded: its timestamp, nonce and signatures are the ones it carries). The Delay, Duplicate
// and request-hook options apply as in Deliver.
func Resend(ctx context.Context, client *http.Client, c Config, req *Request, opts ...Option) Result {
	s := newSettings(opts)
	client = noRedirects(client)
	c = c.WithDefaults(c.ClientID)
	res := Result{MsgID: req.MsgID, Faults: slices.Clone(s.faults), Attempts: []Attempt{}, Sequence: 1}
	if err := c.Validate(); err != nil {
		res.Outcome, res.Reason = OutcomeInvalid, err.Error()
		return res
	}
	return s.send(ctx, client, c, req.Clone(), res)
}
