package mockserver

import (
	"context"

	"github.com/smartappmock/smartappmock/store"
)

// Record appends an entry made outside the API core (a push attempt or a user's message, made
// by the admin API) to the journal, hands it to the observer (metrics) and logs it, as the core
// does with the requests it answers. Unlike the core's own entries, LatencyMicros stays as given.
// It returns the entry with its sequence number.
func (s *Server) Record(ctx context.Context, e store.Entry) (store.Entry, error) {
	seq, err := s.store.Append(ctx, e)
	if err != nil {
		return e, err
	}
	e.Seq = seq
	s.recorded(ctx, &e)
	return e, nil
}
