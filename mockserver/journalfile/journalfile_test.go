package journalfile

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// checkNDJSON fails unless every line of the file at path is a JSON value and the file ends with
// a newline (or is empty). It returns the lines.
func checkNDJSON(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		t.Fatalf("%s does not end with a newline: ...%q", path, data[max(0, len(data)-40):])
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if !json.Valid(sc.Bytes()) {
			t.Fatalf("line %d of %s is not JSON: %.80q", len(lines)+1, path, sc.Bytes())
		}
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// TestOpen_TornLastLine reopens files as a crash leaves them: the torn fragment goes to .torn,
// the file stays valid NDJSON and the next line starts on its own line.
func TestOpen_TornLastLine(t *testing.T) {
	t.Parallel()
	long := `{"content":"` + strings.Repeat("x", 200<<10) // a fragment longer than one read-back chunk
	tests := []struct {
		name      string
		before    string
		tornFile  string // .torn before Open
		wantFile  string // after Open and one Write
		wantTorn  string // .torn after Open ("" and no file when nothing moved)
		wantBytes int64
	}{
		{name: "Empty_Untouched", before: "", wantFile: `{"next":1}` + "\n"},
		{name: "WholeLines_Untouched", before: `{"a":1}` + "\n", wantFile: `{"a":1}` + "\n" + `{"next":1}` + "\n"},
		{name: "TornLastLine_MovedAside", before: `{"a":1}` + "\n" + `{"b":`, wantFile: `{"a":1}` + "\n" + `{"next":1}` + "\n", wantTorn: `{"b":` + "\n", wantBytes: 5},
		{name: "OnlyAFragment_FileEmptied", before: `{"b":2`, wantFile: `{"next":1}` + "\n", wantTorn: `{"b":2` + "\n", wantBytes: 6},
		{name: "LongFragment_MovedAside", before: `{"a":1}` + "\n" + long, wantFile: `{"a":1}` + "\n" + `{"next":1}` + "\n", wantTorn: long + "\n", wantBytes: int64(len(long))},
		{name: "TrailingNULs_MovedAside", before: `{"a":1}` + "\n\x00\x00\x00", wantFile: `{"a":1}` + "\n" + `{"next":1}` + "\n", wantTorn: "\x00\x00\x00\n", wantBytes: 3},
		{name: "SecondCrash_TornFragmentsAppended", before: `{"a":1}` + "\n" + `{"c"`, tornFile: `{"b":` + "\n", wantFile: `{"a":1}` + "\n" + `{"next":1}` + "\n", wantTorn: `{"b":` + "\n" + `{"c"` + "\n", wantBytes: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "journal.ndjson")
			if err := os.WriteFile(path, []byte(tt.before), 0o644); err != nil {
				t.Fatal(err)
			}
			if tt.tornFile != "" {
				if err := os.WriteFile(path+".torn", []byte(tt.tornFile), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			j, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			if got := j.TornBytes(); got != tt.wantBytes {
				t.Errorf("TornBytes() = %d, want %d", got, tt.wantBytes)
			}
			if err := j.Write([]byte(`{"next":1}`)); err != nil {
				t.Fatal(err)
			}
			if err := j.Close(); err != nil {
				t.Fatal(err)
			}
			checkNDJSON(t, path)
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantFile, string(got)); diff != "" {
				t.Errorf("file mismatch (-want +got):\n%.2000s", diff)
			}
			torn, err := os.ReadFile(path + ".torn")
			if tt.wantTorn == "" {
				if !errors.Is(err, os.ErrNotExist) {
					t.Errorf(".torn exists (%v): %.80q", err, torn)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(torn) != tt.wantTorn {
				t.Errorf(".torn = %.80q (%d bytes), want %.80q (%d bytes)", torn, len(torn), tt.wantTorn, len(tt.wantTorn))
			}
		})
	}
}

// flakyDisk is a sink that refuses writes while full, after accepting partial bytes, as a disk
// that fills up mid-line does.
type flakyDisk struct {
	mu      sync.Mutex
	data    bytes.Buffer
	full    bool
	partial int // bytes accepted by the next write while full
	synced  bool
	closed  bool
}

func (d *flakyDisk) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.full {
		n := min(d.partial, len(p))
		d.partial -= n
		d.data.Write(p[:n])
		return n, syscall.ENOSPC
	}
	return d.data.Write(p)
}

func (d *flakyDisk) Sync() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.full {
		return syscall.ENOSPC
	}
	d.synced = true
	return nil
}

func (d *flakyDisk) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	return nil
}

func (d *flakyDisk) set(full bool, partial int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.full, d.partial = full, partial
}

func (d *flakyDisk) String() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.data.String()
}

// TestFile_WriteErrorThenRecovery fills the disk, keeps writing, empties it: the file is degraded
// while full, keeps the lines (within its bound), and resumes with every kept line in order.
func TestFile_WriteErrorThenRecovery(t *testing.T) {
	t.Parallel()
	line := func(i int) string { return fmt.Sprintf(`{"seq":%d}`, i) }
	tests := []struct {
		name        string
		partial     int // bytes the full disk accepts before refusing
		limit       int
		linesFull   int // lines written while the disk is full
		wantDropped uint64
	}{
		{name: "DiskFull_LinesKept_Resumed", linesFull: 5},
		{name: "DiskFullMidLine_ResumedMidLine", partial: 13, linesFull: 5},
		{name: "BacklogFull_NewLinesDropped", limit: 40, linesFull: 6, wantDropped: 2}, // 4 lines of 10 bytes fit
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			disk := &flakyDisk{}
			j := newFile("test.ndjson", disk, 0)
			if tt.limit > 0 {
				j.limit = tt.limit
			}
			if err := j.Write([]byte(line(0))); err != nil {
				t.Fatal(err)
			}
			if err := j.Flush(); err != nil {
				t.Fatal(err)
			}
			disk.set(true, tt.partial)
			var want []string
			want = append(want, line(0))
			for i := 1; i <= tt.linesFull; i++ {
				err := j.Write([]byte(line(i)))
				switch {
				case errors.Is(err, ErrBacklogFull):
					if !errors.Is(err, syscall.ENOSPC) {
						t.Errorf("Write() = %v, want the disk's error as the cause", err)
					}
				case err != nil:
					t.Fatalf("Write(%d) = %v", i, err)
				default:
					want = append(want, line(i))
				}
				if i == 1 {
					if err := j.Flush(); !errors.Is(err, syscall.ENOSPC) {
						t.Fatalf("Flush() on a full disk = %v, want ENOSPC", err)
					}
				}
			}
			if err := j.Err(); !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("Err() while full = %v, want ENOSPC", err)
			}
			if err := j.Flush(); err == nil {
				t.Fatal("Flush() on a full disk succeeded")
			}
			disk.set(false, 0)
			if err := j.Flush(); err != nil {
				t.Fatalf("Flush() after the disk recovered = %v", err)
			}
			if err := j.Err(); err != nil {
				t.Fatalf("Err() after recovery = %v, want nil", err)
			}
			if err := j.Write([]byte(line(99))); err != nil {
				t.Fatal(err)
			}
			want = append(want, line(99))
			closeErr := j.Close()
			if diff := cmp.Diff(strings.Join(want, "\n")+"\n", disk.String()); diff != "" {
				t.Errorf("file mismatch (-want +got):\n%s", diff)
			}
			if got := j.Written(); got != uint64(len(want)) {
				t.Errorf("Written() = %d, want %d", got, len(want))
			}
			if got := j.Dropped(); got != tt.wantDropped {
				t.Errorf("Dropped() = %d, want %d", got, tt.wantDropped)
			}
			if (closeErr != nil) != (tt.wantDropped > 0) {
				t.Errorf("Close() = %v; want an error exactly when lines were dropped", closeErr)
			}
			if !disk.synced || !disk.closed {
				t.Errorf("Close() synced %v, closed %v; want both", disk.synced, disk.closed)
			}
		})
	}
}

// TestFile_DevFull_Degraded writes to /dev/full, a disk that is always full.
func TestFile_DevFull_Degraded(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full:", err)
	}
	j, err := Open("/dev/full")
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Write([]byte(`{"a":1}`)); err != nil {
		t.Fatalf("Write() = %v, want the line kept", err)
	}
	if err := j.Flush(); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Flush() = %v, want ENOSPC", err)
	}
	if err := j.Err(); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Err() = %v, want ENOSPC", err)
	}
	if err := j.Close(); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Close() = %v, want ENOSPC", err)
	}
	if got, want := j.Dropped(), uint64(1); got != want {
		t.Fatalf("Dropped() = %d, want %d (the line never written)", got, want)
	}
}

// TestFile_ConcurrentWrites has many goroutines write at once (run with -race): every line
// arrives whole, each writer's lines in its order.
func TestFile_ConcurrentWrites(t *testing.T) {
	t.Parallel()
	const writers, perWriter = 8, 500
	path := filepath.Join(t.TempDir(), "journal.ndjson")
	j, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			pad := strings.Repeat("p", w*50) // lines of different sizes cross the buffer's edges
			for i := range perWriter {
				if err := j.Write(fmt.Appendf(nil, `{"w":%d,"i":%d,"pad":%q}`, w, i, pad)); err != nil {
					t.Error(err)
					return
				}
				if i%100 == 0 {
					_ = j.Flush()
				}
			}
		})
	}
	wg.Wait()
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	lines := checkNDJSON(t, path)
	next := make([]int, writers)
	for _, l := range lines {
		var v struct{ W, I int }
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatal(err)
		}
		if v.I != next[v.W] {
			t.Fatalf("writer %d: line %d after %d", v.W, v.I, next[v.W]-1)
		}
		next[v.W]++
	}
	if len(lines) != writers*perWriter || j.Written() != uint64(writers*perWriter) || j.Dropped() != 0 {
		t.Fatalf("%d lines in the file, Written() %d, Dropped() %d; want %d, %d, 0",
			len(lines), j.Written(), j.Dropped(), writers*perWriter, writers*perWriter)
	}
}

// TestFile_PeriodicFlush_LineInFileAfterFlushEvery checks the periodic flush on a fake clock: a
// line is buffered at first, in the file one FlushEvery later.
func TestFile_PeriodicFlush_LineInFileAfterFlushEvery(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "journal.ndjson")
	synctest.Test(t, func(t *testing.T) {
		j, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer j.Close()
		if err := j.Write([]byte(`{"a":1}`)); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(path); len(got) != 0 {
			t.Fatalf("file holds %q before the flush, want nothing yet", got)
		}
		time.Sleep(FlushEvery)
		synctest.Wait()
		if got, _ := os.ReadFile(path); string(got) != `{"a":1}`+"\n" {
			t.Fatalf("file holds %q one FlushEvery later, want the line", got)
		}
	})
}

// TestFile_Refusals checks what Write refuses and counts as dropped.
func TestFile_Refusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		close   bool
		line    string
		wantErr error
		want    string // the file's content
	}{
		{name: "TrailingNewline_Accepted", line: `{"a":1}` + "\n", want: `{"a":1}` + "\n"},
		{name: "NewlineInside_Refused", line: "{\"a\":\n1}", wantErr: ErrNewline},
		{name: "AfterClose_Refused", close: true, line: `{"a":1}`, wantErr: ErrClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			disk := &flakyDisk{}
			j := newFile("test.ndjson", disk, 0)
			if tt.close {
				if err := j.Close(); err != nil {
					t.Fatal(err)
				}
			}
			err := j.Write([]byte(tt.line))
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("Write() = %v, want %v", err, tt.wantErr)
			}
			if got, want := j.Dropped(), uint64(0); tt.wantErr != nil {
				if got != 1 {
					t.Fatalf("Dropped() = %d, want 1", got)
				}
			} else if got != want {
				t.Fatalf("Dropped() = %d, want %d", got, want)
			}
			first := j.Close()
			if again := j.Close(); again != first {
				t.Fatalf("second Close() = %v, first %v; want the same", again, first)
			}
			if got := disk.String(); got != tt.want {
				t.Fatalf("file = %q, want %q", got, tt.want)
			}
		})
	}
}
