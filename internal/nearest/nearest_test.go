package nearest

import "testing"

func TestWord(t *testing.T) {
	t.Parallel()
	candidates := []string{"serve", "config", "contract", "healthcheck", "ca", "version"}
	tests := []struct {
		name, word, want string
	}{
		{"OneEdit_Suggested", "serv", "serve"},
		{"Transposition_Suggested", "cnofig", "config"},
		{"Prefix_Suggested", "health", "healthcheck"},
		{"FarAway_NoSuggestion", "frobnicate", ""},
		{"ShortWord_OneEditSuggested", "co", "ca"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Word(tt.word, candidates); got != tt.want {
				t.Errorf("Word(%q) = %q, want %q", tt.word, got, tt.want)
			}
		})
	}
}
