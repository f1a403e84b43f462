package params

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
	"unsafe"

	"github.com/google/go-cmp/cmp"
)

// manyParams returns n urlencoded pairs named prefix0, prefix1, … with value v.
func manyParams(prefix string, n int, v string) string {
	pairs := make([]string, n)
	for i := range pairs {
		pairs[i] = prefix + strconv.Itoa(i) + "=" + v
	}
	return strings.Join(pairs, "&")
}

// overlaps reports whether two strings share memory.
func overlaps(a, b string) bool {
	if len(a) == 0 || len(b) == 0 {
		return false
	}
	pa := uintptr(unsafe.Pointer(unsafe.StringData(a)))
	pb := uintptr(unsafe.Pointer(unsafe.StringData(b)))
	return pa < pb+uintptr(len(b)) && pb < pa+uintptr(len(a))
}

// sharesWithParams reports whether s shares memory with a name or value of ps: the parsed
// parameters are substrings of the request's body, so a string that shares memory with them
// would keep the whole body alive.
func sharesWithParams(s string, ps []Param) bool {
	for _, prm := range ps {
		if overlaps(s, prm.Name) || overlaps(s, prm.Value) {
			return true
		}
	}
	return false
}

// TestParseParams_Cap checks MaxParams: parsing stops at the cap, the rest is counted, and the
// reason names the cap.
func TestParseParams_Cap(t *testing.T) {
	t.Parallel()
	const form = "application/x-www-form-urlencoded"
	mpType, mpBody := multipartBody(t, func() [][2]string {
		fs := make([][2]string, MaxParams+3)
		for i := range fs {
			fs[i] = [2]string{"m" + strconv.Itoa(i), "v"}
		}
		return fs
	}())
	tests := []struct {
		name        string
		query       string
		contentType string
		body        string
		wantRead    int
		wantTooMany int
	}{
		{name: "AtTheCap_AllRead", contentType: form, body: manyParams("k", MaxParams, "v"), wantRead: MaxParams},
		{name: "OneOver_OneNotRead", contentType: form, body: manyParams("k", MaxParams+1, "v"), wantRead: MaxParams, wantTooMany: 1},
		{name: "EmptyPairsDoNotCount", contentType: form, body: manyParams("k", MaxParams, "v") + "&&&&", wantRead: MaxParams},
		{name: "QueryFills_BodyCountedUnread", query: manyParams("q", MaxParams, "1"), contentType: form, body: "a=1&b=2&&c", wantRead: MaxParams, wantTooMany: 3},
		{name: "QueryAndBodyTogether", query: manyParams("q", 600, "1"), contentType: form, body: manyParams("b", 600, "2"), wantRead: MaxParams, wantTooMany: 200},
		{name: "Multipart_OverCap", contentType: mpType, body: string(mpBody), wantRead: MaxParams, wantTooMany: 3},
		{name: "LenientJSON_OverCap", contentType: "application/json", body: manyParams("k", MaxParams+5, ""), wantRead: MaxParams, wantTooMany: 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := parseParams(tt.query, tt.contentType, []byte(tt.body), true)
			if len(p.all) != tt.wantRead || p.tooMany != tt.wantTooMany {
				t.Fatalf("read %d, tooMany %d; want %d, %d", len(p.all), p.tooMany, tt.wantRead, tt.wantTooMany)
			}
			reason := p.tooManyReason()
			if tt.wantTooMany == 0 {
				if reason != "" {
					t.Fatalf("tooManyReason() = %q, want none", reason)
				}
				return
			}
			want := fmt.Sprintf("too many parameters: more than %d (%d more not read)", MaxParams, tt.wantTooMany)
			if reason != want {
				t.Fatalf("tooManyReason() = %q, want %q", reason, want)
			}
		})
	}
}

// TestParseParams_ManyParams_MergeAsFew checks that the map merge (more than smallParams
// parameters) chooses the same values as the pairwise merge: body over query, first over repeats.
func TestParseParams_ManyParams_MergeAsFew(t *testing.T) {
	t.Parallel()
	const query = "open_id=q&a=q1&a=q2&token=q"
	const body = "b=1&open_id=b1&open_id=b2&a=b"
	padding := "&" + manyParams("pad", 2*smallParams, "x")
	tests := []struct {
		name string
		pad  string
	}{
		{name: "Few_PairwiseMerge"},
		{name: "Many_MapMerge", pad: padding},
	}
	want := map[string]string{"open_id": "b1", "a": "b", "token": "q", "b": "1"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := parseParams(query, "application/x-www-form-urlencoded", []byte(body+tt.pad), false)
			if (p.index != nil) != (tt.pad != "") {
				t.Fatalf("index built: %v, want %v (%d parameters)", p.index != nil, tt.pad != "", len(p.all))
			}
			got := map[string]string{}
			for name := range want {
				if v, ok := p.get(name); ok {
					got[name] = v
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("get() mismatch (-want +got):\n%s", diff)
			}
			if _, ok := p.get("absent"); ok {
				t.Error(`get("absent") says present`)
			}
			var usedOrder []string
			for _, prm := range p.all {
				if prm.Used && !strings.HasPrefix(prm.Name, "pad") {
					usedOrder = append(usedOrder, prm.Source+":"+prm.Name+"="+prm.Value)
				}
			}
			if diff := cmp.Diff([]string{"query:token=q", "body:b=1", "body:open_id=b1", "body:a=b"}, usedOrder); diff != "" {
				t.Errorf("values in use mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestParamsJournal checks what the journal keeps of a request's parameters: copies, clipped,
// redacted, at most MaxJournalParams and a note of the rest.
func TestParamsJournal(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", MaxJournalValue+10)
	tests := []struct {
		name  string
		query string
		body  string
		want  []Param
	}{
		{
			name:  "Usual_CopiedAsSent",
			query: "access_token=24.0123456789abcdef.2592000.1700000000.282335-1",
			body:  "open_id=u&msg_type=text&content=hi&open_id=again",
			want: []Param{
				{Name: "access_token", Value: RedactToken("24.0123456789abcdef.2592000.1700000000.282335-1"), Source: "query", Used: true},
				{Name: "open_id", Value: "u", Source: "body", Used: true},
				{Name: "msg_type", Value: "text", Source: "body", Used: true},
				{Name: "content", Value: "hi", Source: "body", Used: true},
				{Name: "open_id", Value: "again", Source: "body"},
			},
		},
		{
			name: "Secret_Redacted",
			body: "client_id=c&client_secret=s3cr3t",
			want: []Param{
				{Name: "client_id", Value: "c", Source: "body", Used: true},
				{Name: "client_secret", Value: "<redacted>", Source: "body", Used: true},
			},
		},
		{
			name: "LongNameAndValue_Clipped",
			body: long + "=" + long,
			want: []Param{
				{Name: long[:MaxJournalName] + "…(4106 bytes, cut)", Value: long[:MaxJournalValue] + "…(4106 bytes, cut)", Source: "body", Used: true},
			},
		},
		{
			name: "OverMaxJournalParams_RestCounted",
			body: manyParams("k", MaxJournalParams+6, "v"),
			want: func() []Param {
				var ps []Param
				for i := range MaxJournalParams {
					ps = append(ps, Param{Name: "k" + strconv.Itoa(i), Value: "v", Source: "body", Used: true})
				}
				return append(ps, Param{Name: "…", Value: "6 more parameters not kept", Source: "note"})
			}(),
		},
		{
			// Repeats come first but are not in use: the values in use are kept before them.
			name: "OverMaxJournalParams_ValuesInUseFirst",
			body: manyParams("r", 1, "0") + "&" + strings.Repeat("r0=again&", MaxJournalParams) + "last=1",
			want: []Param{
				{Name: "r0", Value: "0", Source: "body", Used: true},
				{Name: "r0", Value: "again", Source: "body"},
				// … 61 more repeats, then the last value in use.
			},
		},
		{
			name: "OverMaxParams_UnreadCounted",
			body: manyParams("k", MaxParams+7, "v"),
			want: func() []Param {
				var ps []Param
				for i := range MaxJournalParams {
					ps = append(ps, Param{Name: "k" + strconv.Itoa(i), Value: "v", Source: "body", Used: true})
				}
				return append(ps, Param{Name: "…", Value: strconv.Itoa(MaxParams+7-MaxJournalParams) + " more parameters not kept", Source: "note"})
			}(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := []byte(tt.body)
			p := parseParams(tt.query, "application/x-www-form-urlencoded", body, false)
			got := p.journal()
			if len(got) > MaxJournalParams+1 {
				t.Fatalf("journal() kept %d parameters, want at most %d and a note", len(got), MaxJournalParams)
			}
			for _, prm := range got {
				if sharesWithParams(prm.Name, p.all) || sharesWithParams(prm.Value, p.all) {
					t.Fatalf("journal() parameter %.40q shares memory with the body", prm.Name)
				}
				if len(prm.Name) > MaxJournalValue+32 || len(prm.Value) > MaxJournalValue+32 {
					t.Fatalf("journal() parameter %.40q not clipped: name %d, value %d bytes", prm.Name, len(prm.Name), len(prm.Value))
				}
			}
			if tt.name == "OverMaxJournalParams_ValuesInUseFirst" {
				// Check the shape, not all 65 elements.
				if diff := cmp.Diff(tt.want, got[:2]); diff != "" {
					t.Errorf("journal() head mismatch (-want +got):\n%s", diff)
				}
				wantLast := []Param{
					{Name: "last", Value: "1", Source: "body", Used: true},
					{Name: "…", Value: "2 more parameters not kept", Source: "note"},
				}
				if diff := cmp.Diff(wantLast, got[len(got)-2:]); diff != "" {
					t.Errorf("journal() tail mismatch (-want +got):\n%s", diff)
				}
				return
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("journal() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestClipCopy checks the journal's clip: short strings copied whole, long ones cut at a UTF-8
// boundary with their length, never sharing memory with the input.
func TestClipCopy(t *testing.T) {
	t.Parallel()
	ascii := strings.Repeat("a", MaxJournalValue+1)
	// "你" is 3 bytes; 4095 a's then "你" puts the rune across the cut.
	straddle := strings.Repeat("a", MaxJournalValue-1) + "你" + "tail"
	invalid := strings.Repeat("\x80", MaxJournalValue+100)
	tests := []struct {
		name string
		in   string
		want string
	}{
		{name: "Empty_Empty", in: "", want: ""},
		{name: "Short_Whole", in: "open-id", want: "open-id"},
		{name: "ExactlyMax_Whole", in: ascii[:MaxJournalValue], want: ascii[:MaxJournalValue]},
		{name: "OneOver_CutAndMarked", in: ascii, want: ascii[:MaxJournalValue] + "…(4097 bytes, cut)"},
		{name: "RuneAcrossCut_CutBeforeIt", in: straddle, want: straddle[:MaxJournalValue-1] + "…(4102 bytes, cut)"},
		{name: "InvalidUTF8_CutAtMax", in: invalid, want: invalid[:MaxJournalValue] + "…(4196 bytes, cut)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := clipCopy(tt.in)
			if got != tt.want {
				t.Fatalf("clipCopy() = %.60q… (%d bytes), want %.60q… (%d bytes)", got, len(got), tt.want, len(tt.want))
			}
			if overlaps(got, tt.in) {
				t.Fatal("clipCopy() shares memory with its input")
			}
			if utf8.ValidString(tt.in) && !utf8.ValidString(got) {
				t.Fatal("clipCopy() of valid UTF-8 is not valid UTF-8")
			}
		})
	}
}

// TestParams_InvalidUTF8_NameClipped checks that the name invalidUTF8 reports (it goes into a
// reason) is a clipped copy.
func TestParams_InvalidUTF8_NameClipped(t *testing.T) {
	t.Parallel()
	name := strings.Repeat("n", 2*MaxJournalValue)
	body := []byte(name + "=%ff")
	p := parseParams("", "application/x-www-form-urlencoded", body, false)
	got := p.invalidUTF8()
	if want := name[:MaxJournalValue] + "…(8192 bytes, cut)"; got != want {
		t.Fatalf("invalidUTF8() = %.40q… (%d bytes), want %d bytes", got, len(got), len(want))
	}
	if sharesWithParams(got, p.all) {
		t.Fatal("invalidUTF8() shares memory with the body")
	}
}

// TestParamsJournal_EntryTextBounded sends 64 parameters of 4 KiB each: the entry keeps at most
// MaxJournalParamBytes of their text (plus the cut marks), not 64 × 4 KiB.
func TestParamsJournal_EntryTextBounded(t *testing.T) {
	v := strings.Repeat("v", MaxJournalValue)
	var b strings.Builder
	for i := range MaxJournalParams {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString("k" + strconv.Itoa(i) + "=" + v)
	}
	p := parseParams("", "application/x-www-form-urlencoded", []byte(b.String()), false)
	js := p.journal()
	total, marks := 0, 0
	for _, prm := range js {
		total += len(prm.Name) + len(prm.Value)
		if strings.Contains(prm.Value, " bytes, cut)") {
			marks++
		}
	}
	if len(js) != MaxJournalParams {
		t.Fatalf("%d parameters kept, want %d", len(js), MaxJournalParams)
	}
	// Past the budget, each name and value keeps 16 bytes and a mark of at most 24.
	if limit := MaxJournalParamBytes + MaxJournalParams*2*(16+24); total > limit {
		t.Errorf("the entry keeps %d bytes of parameter text, want at most %d", total, limit)
	}
	if marks == 0 {
		t.Error("no value was cut: the budget did not apply")
	}
}
