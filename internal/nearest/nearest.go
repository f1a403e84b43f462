// Package nearest suggests the near miss for a mistyped name: a config key, a flag, a subcommand.
package nearest

// Word returns the candidate closest to word (at most two edits away, or one that starts with
// word), or "" when none is close enough to be a likely typo.
func Word(word string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		d := distance(word, c)
		if d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" && len(word) >= 3 {
		for _, c := range candidates {
			if len(c) > len(word) && c[:len(word)] == word {
				return c
			}
		}
	}
	return best
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
