package mockserver

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzParseParams checks the invariants of the parameter merge on arbitrary queries, content types
// and bodies: every name sent has exactly one value in use, a body value wins over a query value,
// the first of repeated values wins, and a well-formed urlencoded body is read completely.
func FuzzParseParams(f *testing.F) {
	f.Add("access_token=t&open_id=q", "application/x-www-form-urlencoded", "open_id=b&open_id=c&content=%E4%BD%A0", false)
	f.Add("a=1&a=2", "application/x-www-form-urlencoded;charset=UTF-8", "a=3", false)
	f.Add("", "application/json", "access_token=t&x=1", true)
	f.Add("", "application/json", `{"x":1}`, true)
	f.Add("%zz=1&b=%", "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--x--\r\n", false)
	f.Add("x", "text/plain", "y=1", false)
	f.Fuzz(func(t *testing.T, query, contentType, body string, lenient bool) {
		p := parseParams(query, contentType, []byte(body), lenient)
		used := map[string]int{}
		first := map[string]int{}
		for i, prm := range p.all {
			if prm.Used {
				used[prm.Name]++
			}
			if _, seen := first[prm.Name]; !seen {
				first[prm.Name] = i
			}
		}
		for name := range first {
			if used[name] != 1 {
				t.Fatalf("%q has %d values in use, want 1: %+v", name, used[name], p.all)
			}
			v, ok := p.get(name)
			if !ok {
				t.Fatalf("get(%q) says absent", name)
			}
			// The value in use is the first from the body, else the first from the query.
			want, found := "", false
			for _, src := range []string{"body", "query"} {
				for _, prm := range p.all {
					if prm.Name == name && prm.Source == src {
						want, found = prm.Value, true
						break
					}
				}
				if found {
					break
				}
			}
			if v != want {
				t.Fatalf("get(%q) = %q, want %q (body first, then query; first wins): %+v", name, v, want, p.all)
			}
		}
		// A body the standard library reads without error is read completely.
		if contentType == "application/x-www-form-urlencoded" && !strings.Contains(body, ";") {
			if vals, err := url.ParseQuery(body); err == nil {
				for name, vs := range vals {
					n := 0
					for _, prm := range p.all {
						if prm.Source == "body" && prm.Name == name {
							n++
						}
					}
					if n != len(vs) {
						t.Fatalf("body parameter %q: %d values read, url.ParseQuery reads %d", name, n, len(vs))
					}
				}
			}
		}
	})
}
