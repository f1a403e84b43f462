package sandbox

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/config/configtest"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/mockserver/journalfile"
	"github.com/smartappmock/smartappmock/mockserver/observe"
	"github.com/smartappmock/smartappmock/store"
	"github.com/smartappmock/smartappmock/store/memstore"
)

// readJournalFile decodes an NDJSON journal file.
func readJournalFile(t *testing.T, path string) []store.Entry {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []store.Entry
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 4<<20)
	for sc.Scan() {
		var e store.Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("line %d is not an entry: %v: %s", len(out)+1, err, sc.Bytes())
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestJournalFile_HoldsEveryEntry checks the feed subscriber: every recorded entry reaches the file
// with its sequence number, beyond the in-memory cap and across a reset.
func TestJournalFile_HoldsEveryEntry(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "journal.ndjson")
	jf, err := journalfile.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg := configtest.Parse(t, configtest.Strict)
	cfg.Policy.JournalCap = 3
	st := memstore.New(3)
	srv, err := newSandbox(mockserver.Options{Config: cfg, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	sink, err := observe.StartJournalSink(st, jf, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, srv: srv, clock: newTestClock()}
	var ids []string
	for i := range 10 {
		res := f.sendForm("static-token-a", text("user-a", fmt.Sprint(i)))
		ids = append(ids, res.Header.Get(smartappmock.HeaderRequestID))
		if i == 5 {
			f.admin(http.MethodPost, "/__admin/reset", "", nil)
		}
	}
	if err := sink.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := jf.Close(); err != nil {
		t.Errorf("the file's Close after the sink's: %v", err)
	}
	var gotIDs []string
	var lastSeq uint64
	for _, e := range readJournalFile(t, path) {
		gotIDs = append(gotIDs, e.ID)
		if e.Seq <= lastSeq {
			t.Errorf("entry %s: seq %d after %d", e.ID, e.Seq, lastSeq)
		}
		lastSeq = e.Seq
		if strings.Contains(e.Token, "static-token-a") {
			t.Errorf("entry %s holds the token unredacted", e.ID)
		}
	}
	if diff := cmp.Diff(ids, gotIDs); diff != "" {
		t.Errorf("journal file ids (-sent +file):\n%s", diff)
	}
	if err := jf.Write([]byte(`{"id":"late"}`)); !errors.Is(err, journalfile.ErrClosed) {
		t.Errorf("Write after Close: %v, want journalfile.ErrClosed", err)
	}
	if got := sink.Written(); got != 10 {
		t.Errorf("Written() = %d, want 10", got)
	}
	_ = srv
}
