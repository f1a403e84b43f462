package main

import (
	"bufio"
	"io"
	"sync"
	"time"
)

// bufferedLog batches log lines on their way to w: they are written every interval and on Close,
// so a busy fake makes one write call per batch instead of one per request (measured: the
// per-request write was a tenth of the fake's CPU under load, and the handler's lock was held
// during it).
type bufferedLog struct {
	mu   sync.Mutex
	w    *bufio.Writer
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

func newBufferedLog(w io.Writer, interval time.Duration) *bufferedLog {
	b := &bufferedLog{w: bufio.NewWriterSize(w, 64<<10), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(b.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-b.stop:
				return
			case <-t.C:
				b.mu.Lock()
				_ = b.w.Flush()
				b.mu.Unlock()
			}
		}
	}()
	return b
}

// Write buffers p (a log handler writes whole lines).
func (b *bufferedLog) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.w.Write(p)
}

// Close stops the periodic flush and writes what is left.
func (b *bufferedLog) Close() error {
	var err error
	b.once.Do(func() {
		close(b.stop)
		<-b.done
		b.mu.Lock()
		err = b.w.Flush()
		b.mu.Unlock()
	})
	return err
}
