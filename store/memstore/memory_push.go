package memstore

import (
	"context"
	"runtime"
	"sync"
	"weak"
)

// The push state of a Store lives beside it, in pushStates, rather than in a field of Store:
// the Store struct belongs to memory.go, and this file adds the Pusher methods without touching
// it. Each Store's state is found by a weak pointer to the Store and dropped when the Store is
// collected, so the map holds no store alive.
var (
	pushMu     sync.Mutex
	pushStates = map[weak.Pointer[Store]]*memoryPush{}
)

type memoryPush struct {
	mu      sync.Mutex
	configs map[string][]byte
	msgID   uint64
}

// push returns m's push state, creating it on first use.
func (m *Store) push() *memoryPush {
	k := weak.Make(m)
	pushMu.Lock()
	defer pushMu.Unlock()
	p := pushStates[k]
	if p == nil {
		p = &memoryPush{configs: map[string][]byte{}}
		pushStates[k] = p
		runtime.AddCleanup(m, func(k weak.Pointer[Store]) {
			pushMu.Lock()
			delete(pushStates, k)
			pushMu.Unlock()
		}, k)
	}
	return p
}

// PutPush implements store.Pusher.
func (m *Store) PutPush(_ context.Context, app string, cfg []byte) error {
	p := m.push()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.configs[app] = append([]byte{}, cfg...)
	return nil
}

// Push implements store.Pusher.
func (m *Store) Push(_ context.Context, app string) ([]byte, bool, error) {
	p := m.push()
	p.mu.Lock()
	defer p.mu.Unlock()
	cfg, ok := p.configs[app]
	if !ok {
		return nil, false, nil
	}
	return append([]byte{}, cfg...), true, nil
}

// DeletePush implements store.Pusher.
func (m *Store) DeletePush(_ context.Context, app string) error {
	p := m.push()
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.configs, app)
	return nil
}

// NextMsgID implements store.Pusher.
func (m *Store) NextMsgID(context.Context) (uint64, error) {
	p := m.push()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.msgID++
	return p.msgID, nil
}
