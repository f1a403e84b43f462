package params

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// distinctNamesBody returns a urlencoded body of about size bytes made of distinct, valueless
// names (k0&k1&k2&…): the worst case of a merge that compares every name with every other.
func distinctNamesBody(size int) []byte {
	var b strings.Builder
	b.Grow(size + 16)
	for i := 0; b.Len() < size; i++ {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString("k")
		b.WriteString(strconv.Itoa(i))
	}
	return []byte(b.String())
}

// BenchmarkParseParamsDistinctNames parses bodies of distinct parameter names, the input that made
// the merge quadratic (34 s of CPU for 1 MB before the merge was linear). Run it with -benchtime=3x.
func BenchmarkParseParamsDistinctNames(b *testing.B) {
	for _, size := range []int{256 << 10, 1 << 20} {
		body := distinctNamesBody(size)
		b.Run(fmt.Sprintf("%dKB", size>>10), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				parseParams("access_token=t", "application/x-www-form-urlencoded", body, false)
			}
		})
	}
}

// BenchmarkParseParamsUsual parses the request an official SDK sends: the allocation count of the
// common case must not grow.
func BenchmarkParseParamsUsual(b *testing.B) {
	body := []byte("user_type=1&open_id=k4Vb9fMOcZ2x&msg_type=text&content=%E4%BD%A0%E5%A5%BD&pic_url=")
	b.ReportAllocs()
	for b.Loop() {
		parseParams("access_token=24.abc.2592000.1700000000.282335-1&sp_sdk_ver=1.0&sp_sdk_lang=go", "application/x-www-form-urlencoded", body, false)
	}
}

// BenchmarkResolveDistinctNames merges long lists of distinct names directly, past MaxParams, to
// show that the merge itself is linear (the cap alone would hide a quadratic merge).
func BenchmarkResolveDistinctNames(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		all := make([]Param, n)
		for i := range all {
			all[i] = Param{Name: "k" + strconv.Itoa(i), Source: "body"}
		}
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p := &Params{all: all}
				for i := range p.all {
					p.all[i].Used = false
				}
				p.resolve()
			}
		})
	}
}
