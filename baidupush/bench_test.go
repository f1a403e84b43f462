package baidupush

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkDeliver measures one delivery end to end on loopback (encode, POST, read the ack) to a
// bot that only reads the body and answers success: the cost the fake adds to each push.
func BenchmarkDeliver(b *testing.B) {
	bot := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, "success")
	}))
	defer bot.Close()
	for _, bc := range []struct {
		name string
		mode Mode
		f    Format
	}{
		{"PlainJSON", ModePlain, FormatJSON},
		{"PlainXML", ModePlain, FormatXML},
		{"SecureXML", ModeSecure, FormatXML},
	} {
		b.Run(bc.name, func(b *testing.B) {
			c := goldenConfig(bc.mode, bc.f)
			c.URL = bot.URL
			client := bot.Client()
			for b.Loop() {
				if res := Deliver(b.Context(), client, c, docText); !res.Delivered() {
					b.Fatalf("not delivered: %s", res.Reason)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pushes/s")
		})
	}
}

// BenchmarkEncode measures the encoding alone (signature, AES, body).
func BenchmarkEncode(b *testing.B) {
	for _, mode := range []Mode{ModePlain, ModeSecure} {
		b.Run(string(mode), func(b *testing.B) {
			c := goldenConfig(mode, FormatXML)
			for b.Loop() {
				if _, err := Encode(c, docText, fixedParams); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
