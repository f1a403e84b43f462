package spec

import (
	"testing"

	"github.com/smartappmock/smartappmock"
)

// BenchmarkCheckSend measures the validation of merged send parameters: the common valid case and
// the error path (which builds the violations' text).
func BenchmarkCheckSend(b *testing.B) {
	sp, err := Load(smartappmock.OpenAPI())
	if err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		name  string
		vals  map[string]string
		valid bool
	}{
		{"ValidText", map[string]string{"user_type": "1", "open_id": "u", "msg_type": "text", "content": "hello", "pic_url": ""}, true},
		{"ValidImage", map[string]string{"user_type": "2", "open_id": "u", "msg_type": "image", "content": "", "pic_url": "https://example.com/a.png"}, true},
		{"InvalidThreeFields", map[string]string{"user_type": "3", "open_id": "", "msg_type": "video", "content": "hi"}, false},
		{"InvalidMissingContent", map[string]string{"user_type": "1", "open_id": "u", "msg_type": "text"}, false},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			get := func(name string) (string, bool) { v, ok := c.vals[name]; return v, ok }
			if got := len(sp.CheckSend(get)) == 0; got != c.valid {
				b.Fatalf("valid = %v, want %v", got, c.valid)
			}
			b.ReportAllocs()
			for b.Loop() {
				sp.CheckSend(get)
			}
		})
	}
}
