package inbox

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/config/configtest"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/mockserver/admin"
	"github.com/smartappmock/smartappmock/store"
)

// blockingWriter is a stream's ResponseWriter whose client stops reading: every write after the
// first (the stream's preamble) blocks until release is closed, as a full socket would.
type blockingWriter struct {
	h       http.Header
	mu      sync.Mutex
	writes  int
	got     bytes.Buffer
	blocked chan struct{} // closed when a write blocks
	release chan struct{}
	once    sync.Once
}

func (w *blockingWriter) Header() http.Header { return w.h }
func (w *blockingWriter) WriteHeader(int)     {}
func (w *blockingWriter) Flush()              {}
func (w *blockingWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.writes++
	n := w.writes
	w.got.Write(p)
	w.mu.Unlock()
	if n > 1 {
		w.once.Do(func() { close(w.blocked) })
		<-w.release
	}
	return len(p), nil
}

func newTestCore(t *testing.T) *mockserver.Server {
	t.Helper()
	core, err := mockserver.New(mockserver.Options{Config: configtest.Parse(t, configtest.Strict)})
	if err != nil {
		t.Fatal(err)
	}
	return core
}

// send records one journal entry of app 1001 through the core.
func send(core *mockserver.Server) {
	req := httptest.NewRequest(http.MethodPost, smartappmock.SendPath+"?access_token=static-token-a",
		strings.NewReader("user_type=1&open_id=errno_3001&msg_type=text&content=hi"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	core.ServeHTTP(httptest.NewRecorder(), req)
}

// TestStream_ClientThatStopsReading_DroppedNotWaitedFor: a stream whose client stops reading
// (its write blocks) does not hold the sends up; once more entries than the ring holds went by
// and its write was blocked longer than streamSlow, the stream ends when its write returns, and
// the drop is counted.
func TestStream_ClientThatStopsReading_DroppedNotWaitedFor(t *testing.T) {
	core := newTestCore(t)
	var drops atomic.Int32
	a := admin.New(core, admin.Options{StreamDropped: func() { drops.Add(1) }})
	in := New(a).(*inbox)
	w := &blockingWriter{h: http.Header{}, blocked: make(chan struct{}), release: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, admin.UIPath+"/events?app=1001", nil)
	done := make(chan struct{})
	go func() {
		in.ServeHTTP(w, req)
		close(done)
	}()
	for deadline := time.Now().Add(10 * time.Second); ; { // the stream has subscribed and read the head
		w.mu.Lock()
		n := w.writes
		w.mu.Unlock()
		if n >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the stream never started")
		}
		time.Sleep(time.Millisecond)
	}
	for range 10 { // until the stream blocks on its first entries
		send(core)
	}
	select {
	case <-w.blocked:
	case <-time.After(10 * time.Second):
		t.Fatal("the stream never wrote its entries")
	}
	blockedAt := time.Now()
	start := time.Now()
	for range hubRing + 2000 {
		send(core) // none of these waits for the blocked stream
	}
	t.Logf("%d sends while the stream was blocked: %s", hubRing+2000, time.Since(start))
	// Wait until the hub has published past the ring (it reads the feed on its own goroutine).
	for deadline := time.Now().Add(10 * time.Second); ; {
		in.hub.mu.Lock()
		pos := in.hub.pos
		in.hub.mu.Unlock()
		if pos > hubRing+100 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the hub published %d events", pos)
		}
		time.Sleep(time.Millisecond)
	}
	// Its write stays blocked longer than streamSlow: the stream is slow, not merely throttled.
	time.Sleep(streamSlow + 100*time.Millisecond - time.Since(blockedAt))
	close(w.release)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the stream did not end after falling behind")
	}
	if drops.Load() != 1 {
		t.Errorf("%d drops counted, want 1", drops.Load())
	}
}

// TestFrames_FloodKeepsTheNewestAndCountsTheRest: a write carries at most streamMaxFrames entries
// of the view's app, the newest, after a "skipped" event with how many it left out; entries of
// other apps and those already seen are not counted.
func TestFrames_FloodKeepsTheNewestAndCountsTheRest(t *testing.T) {
	t.Parallel()
	in := &inbox{core: newTestCore(t)}
	var evs []*event
	for seq := uint64(1); seq <= 100; seq++ {
		app := "1001"
		if seq%10 == 0 {
			app = "1002"
		}
		evs = append(evs, in.encode(&store.Entry{Seq: seq, App: app, Endpoint: "send", OpenID: "u"}))
	}
	q := inboxQuery{App: "1001"}
	out := string(in.frames(nil, evs, q, q.filter(), 5, streamMaxFrames)) // 1..5 seen: 95 left, 10 of them of app 1002
	if !strings.HasPrefix(out, "event: skipped\ndata: {\"skipped\":69}\n\n") {
		t.Errorf("the write does not start with the skipped count:\n%.200s", out)
	}
	if n := strings.Count(out, "event: entry\n"); n != streamMaxFrames {
		t.Errorf("%d entries in one write, want %d", n, streamMaxFrames)
	}
	if !strings.Contains(out, "id: 99\n") || strings.Contains(out, "id: 100\n") || strings.Contains(out, "id: 82\n") || !strings.Contains(out, "id: 83\n") {
		t.Errorf("the write does not keep the newest entries of the app:\n%s", out)
	}
	if out := string(in.frames(nil, evs[:10], q, q.filter(), 0, streamMaxFrames)); strings.Contains(out, "skipped") || strings.Count(out, `"match":true}`) != 9 {
		t.Errorf("a small batch: %s", out)
	}
}

func TestFrameCap_SharedBeyond250Streams(t *testing.T) {
	t.Parallel()
	got := []int{frameCap(0), frameCap(1), frameCap(250), frameCap(251), frameCap(500), frameCap(5000)}
	if want := []int{16, 16, 16, 15, 8, 4}; !slices.Equal(got, want) {
		t.Errorf("frameCap = %v, want %v", got, want)
	}
}

// recordingWriter is a stream's ResponseWriter whose client reads everything.
type recordingWriter struct {
	h   http.Header
	mu  sync.Mutex
	got bytes.Buffer
}

func (w *recordingWriter) Header() http.Header { return w.h }
func (w *recordingWriter) WriteHeader(int)     {}
func (w *recordingWriter) Flush()              {}
func (w *recordingWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.got.Write(p)
}

func (w *recordingWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.got.String()
}

// TestStream_QuietAppOutlastsAFloodOfAnother: a tab on app 1002 sleeps through more entries of
// app 1001 than the ring holds, is not dropped, and still shows the next entry of its app.
func TestStream_QuietAppOutlastsAFloodOfAnother(t *testing.T) {
	core := newTestCore(t)
	var drops atomic.Int32
	in := New(admin.New(core, admin.Options{StreamDropped: func() { drops.Add(1) }})).(*inbox)
	w := &recordingWriter{h: http.Header{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		in.ServeHTTP(w, httptest.NewRequestWithContext(ctx, http.MethodGet, admin.UIPath+"/events?app=1002", nil))
		close(done)
	}()
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(w.String(), "retry:"); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the stream never started")
		}
	}
	for range hubRing + 1000 {
		send(core)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		in.hub.mu.Lock()
		pos := in.hub.pos
		in.hub.mu.Unlock()
		if pos > hubRing+10 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the hub published %d events", pos)
		}
	}
	req := httptest.NewRequest(http.MethodPost, smartappmock.SendPath+"?access_token=static-token-b",
		strings.NewReader("user_type=1&open_id=user-b&msg_type=text&content=hi"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	core.ServeHTTP(httptest.NewRecorder(), req)
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(w.String(), `"app":"1002"`); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the entry of app 1002 never came; the stream wrote:\n%.500s", w.String())
		}
	}
	cancel()
	<-done
	if drops.Load() != 0 || strings.Contains(w.String(), `"app":"1001"`) {
		t.Errorf("drops %d; the stream of app 1002 shows app 1001: %v", drops.Load(), strings.Contains(w.String(), `"app":"1001"`))
	}
}
