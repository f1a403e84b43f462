package mockserver

import (
	"strings"
	"testing"
)

// TestRedactions_AsRedactToken: the remembered redactions are RedactToken's, for repeated tokens,
// tokens that share a slot, the empty token and tokens too long to keep.
func TestRedactions_AsRedactToken(t *testing.T) {
	t.Parallel()
	var c redactions
	tokens := []string{"", "a", "bench-token", "24.0123456789abcdef0123456789abcdef.2592000.1700000000.282335-20001",
		"45.x", "x.54", strings.Repeat("t", 257), strings.Repeat("t", 256)}
	for i := range 40 {
		tokens = append(tokens, "tok-"+strings.Repeat("z", i%7)+string(rune('a'+i%26)))
	}
	for round := range 3 {
		for _, tok := range tokens {
			if got, want := c.get(tok), RedactToken(tok); got != want {
				t.Errorf("round %d: get(%q) = %q, want %q", round, tok, got, want)
			}
		}
	}
}
