package params

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// fuzzExpand grows a fuzz input so small inputs reach large ones. The low 14 bits of repeat are a
// count n; with the top bit clear, s is written n times, each copy followed by its index and "&"
// ("k" becomes k0&k1&k2&…: many distinct names); with it set, n plain copies (one long name or
// value). It stops past maxBodyBytes, the most a request body can be.
func fuzzExpand(s string, repeat uint16) string {
	n := int(repeat & 0x3fff)
	if n == 0 || s == "" {
		return s
	}
	var b strings.Builder
	for i := 0; i < n && b.Len() <= maxBodyBytes; i++ {
		b.WriteString(s)
		if repeat&0x8000 == 0 {
			b.WriteString(strconv.Itoa(i))
			b.WriteByte('&')
		}
	}
	return b.String()
}

// Bits of FuzzParseParams' repeat beyond fuzzExpand's count.
const (
	fuzzVerbatim    = 0x8000 // plain copies
	fuzzExpandQuery = 0x4000 // expand the query instead of the body
)

// FuzzParseParams checks the invariants of the parameter merge on arbitrary queries, content types
// and bodies, small and (through repeat, see fuzzExpand) large: every name read has exactly one
// value in use, a body value wins over a query value, the first of repeated values wins, at most
// MaxParams are read and the rest counted, a well-formed urlencoded body under the cap is read
// completely, and journal() keeps a bounded number of bounded copies.
func FuzzParseParams(f *testing.F) {
	f.Add("access_token=t&open_id=q", "application/x-www-form-urlencoded", "open_id=b&open_id=c&content=%E4%BD%A0", false, uint16(0))
	f.Add("a=1&a=2", "application/x-www-form-urlencoded;charset=UTF-8", "a=3", false, uint16(0))
	f.Add("", "application/json", "access_token=t&x=1", true, uint16(0))
	f.Add("", "application/json", `{"x":1}`, true, uint16(0))
	f.Add("%zz=1&b=%", "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--x--\r\n", false, uint16(0))
	f.Add("x", "text/plain", "y=1", false, uint16(0))
	// Large: 5000 distinct names (over MaxParams), in the body and in the query; a 100 KB value
	// and name; repeats of one name; a query that fills the cap before the body is read.
	f.Add("access_token=t", "application/x-www-form-urlencoded", "k", false, uint16(5000))
	f.Add("q", "application/x-www-form-urlencoded", "open_id=b", false, uint16(fuzzExpandQuery|5000))
	f.Add("access_token=t", "application/x-www-form-urlencoded", "content="+strings.Repeat("x", 100<<10), false, uint16(0))
	f.Add("", "application/x-www-form-urlencoded", strings.Repeat("n", 100<<10)+"=v&access_token=t", false, uint16(0))
	f.Add("open_id=q", "application/x-www-form-urlencoded", "open_id=b&", false, uint16(fuzzVerbatim|3000))
	f.Add("client_secret=s", "application/x-www-form-urlencoded", "content=0123456789", false, uint16(fuzzVerbatim|12000))
	f.Fuzz(func(t *testing.T, query, contentType, body string, lenient bool, repeat uint16) {
		if repeat&fuzzExpandQuery != 0 {
			query = fuzzExpand(query, repeat)
		} else {
			body = fuzzExpand(body, repeat)
		}
		p := parseParams(query, contentType, []byte(body), lenient)

		if len(p.all) > MaxParams {
			t.Fatalf("%d parameters read, more than MaxParams (%d)", len(p.all), MaxParams)
		}
		if p.tooMany > 0 && len(p.all) != MaxParams {
			t.Fatalf("tooMany %d with only %d parameters read", p.tooMany, len(p.all))
		}
		if (p.tooManyReason() == "") != (p.tooMany == 0) {
			t.Fatalf("tooManyReason() = %q with tooMany %d", p.tooManyReason(), p.tooMany)
		}

		// The value in use is the first from the body, else the first from the query.
		type choice struct {
			body, query     string
			inBody, inQuery bool
			used            int
		}
		want := map[string]*choice{}
		for _, prm := range p.all {
			c := want[prm.Name]
			if c == nil {
				c = &choice{}
				want[prm.Name] = c
			}
			if prm.Used {
				c.used++
			}
			if prm.Source == "body" && !c.inBody {
				c.body, c.inBody = prm.Value, true
			}
			if prm.Source == "query" && !c.inQuery { // the first, even when empty ("a&a=0": "")
				c.query, c.inQuery = prm.Value, true
			}
		}
		for name, c := range want {
			if c.used != 1 {
				t.Fatalf("%q has %d values in use, want 1", name, c.used)
			}
			v, ok := p.get(name)
			if !ok {
				t.Fatalf("get(%q) says absent", name)
			}
			w := c.query
			if c.inBody {
				w = c.body
			}
			if v != w {
				t.Fatalf("get(%.40q) = %.40q, want %.40q (body first, then query; first wins)", name, v, w)
			}
		}

		// A body the standard library reads without error is read completely (under the cap).
		if p.tooMany == 0 && contentType == "application/x-www-form-urlencoded" && !strings.Contains(body, ";") {
			if vals, err := url.ParseQuery(body); err == nil {
				n := map[string]int{}
				for _, prm := range p.all {
					if prm.Source == "body" {
						n[prm.Name]++
					}
				}
				for name, vs := range vals {
					if n[name] != len(vs) {
						t.Fatalf("body parameter %.40q: %d values read, url.ParseQuery reads %d", name, n[name], len(vs))
					}
				}
			}
		}

		// The journal keeps at most MaxJournalParams bounded copies, and says what it left out.
		j := p.journal()
		kept, notes := 0, 0
		for _, prm := range j {
			if prm.Source == "note" {
				notes++
				continue
			}
			kept++
			const mark = len("…(1048576 bytes, cut)")
			if len(prm.Name) > MaxJournalValue+mark || len(prm.Value) > MaxJournalValue+mark {
				t.Fatalf("journal() kept %d name and %d value bytes, over MaxJournalValue", len(prm.Name), len(prm.Value))
			}
			if sharesWithParams(prm.Name, p.all) || sharesWithParams(prm.Value, p.all) {
				t.Fatalf("journal() parameter %.40q shares memory with the body", prm.Name)
			}
			if prm.Name == "client_secret" && prm.Value != "<redacted>" {
				t.Fatalf("journal() kept client_secret %.40q", prm.Value)
			}
		}
		if wantKept := min(len(p.all), MaxJournalParams); kept != wantKept {
			t.Fatalf("journal() kept %d parameters of %d, want %d", kept, len(p.all), wantKept)
		}
		wantNotes := 0
		if len(p.all) > MaxJournalParams || p.tooMany > 0 {
			wantNotes = 1
		}
		if notes != wantNotes || (notes == 1 && j[len(j)-1].Source != "note") {
			t.Fatalf("journal() has %d notes (last %+v), want %d at the end", notes, j[len(j)-1], wantNotes)
		}
	})
}

// maxBodyBytes is mockserver.MaxBodyBytes, the most a request body can be (the API core imports
// this package, so its tests cannot import the core).
const maxBodyBytes = 1 << 20
