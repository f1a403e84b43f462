package mockserver

import "sync"

// hub fans journal entries out to live subscribers (the inbox UI, tests). A slow subscriber misses
// entries rather than slowing the server down; the journal itself keeps them.
type hub struct {
	mu   sync.Mutex
	subs map[chan Entry]struct{}
}

// Subscribe returns a channel that receives every entry recorded from now on, and a function that
// ends the subscription. The channel is buffered; when it is full, entries are skipped for that
// subscriber only.
func (s *Server) Subscribe(buffer int) (<-chan Entry, func()) {
	if buffer <= 0 {
		buffer = 64
	}
	ch := make(chan Entry, buffer)
	s.hub.mu.Lock()
	if s.hub.subs == nil {
		s.hub.subs = map[chan Entry]struct{}{}
	}
	s.hub.subs[ch] = struct{}{}
	s.hub.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			s.hub.mu.Lock()
			delete(s.hub.subs, ch)
			s.hub.mu.Unlock()
			close(ch)
		})
	}
}

func (h *hub) publish(e Entry) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		select {
		case ch <- e:
		default:
		}
	}
}
