package inbox

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestHTMLPageEscapes pins that every way a value enters the page escapes it for its place.
func TestHTMLPageEscapes(t *testing.T) {
	const hostile = `<a href='x'>"&amp;" é</a>`
	tests := []struct {
		name  string
		write func(*htmlPage, string)
		want  string
	}{
		{"escaped", (*htmlPage).escaped, `&lt;a href=&#39;x&#39;&gt;&#34;&amp;amp;&#34; é&lt;/a&gt;`},
		{"queryAttr", (*htmlPage).queryAttr, `%3Ca+href%3D%27x%27%3E%22%26amp%3B%22+%C3%A9%3C%2Fa%3E`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p htmlPage
			tt.write(&p, hostile)
			if diff := cmp.Diff(tt.want, string(p.bytes())); diff != "" {
				t.Errorf("%s(%q) (-want +got):\n%s", tt.name, hostile, diff)
			}
		})
	}
}
