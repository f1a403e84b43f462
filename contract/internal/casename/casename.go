// Package casename picks the cases a kit runs from the names a user gave: package contract (the
// client kit) and contract/webhook (the webhook kit) select their cases the same way.
package casename

import (
	"fmt"
	"strings"
)

// Select returns the cases of all named in names, in the order of names, each name trimmed of
// spaces (all of them when names is empty). name reads a case's name. An unknown name is an
// error "unknown <kind> %q; known cases: a, b, …" (kind: "case", "webhook case"), so a command
// can tell the usage mistake by its prefix.
func Select[C any](all []C, name func(C) string, kind string, names []string) ([]C, error) {
	if len(names) == 0 {
		return all, nil
	}
	out := make([]C, 0, len(names))
	for _, n := range names {
		n = strings.TrimSpace(n)
		found := false
		for _, c := range all {
			if name(c) == n {
				out = append(out, c)
				found = true
				break
			}
		}
		if !found {
			known := make([]string, len(all))
			for i, c := range all {
				known[i] = name(c)
			}
			return nil, fmt.Errorf("unknown %s %q; known cases: %s", kind, n, strings.Join(known, ", "))
		}
	}
	return out, nil
}
