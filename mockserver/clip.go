package mockserver

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxJournalValue is the longest parameter value the journal keeps (4 KiB); a longer one is cut at
// a UTF-8 boundary and marked, so the journal's memory is bounded by its entry cap even when every
// request carries a 1 MiB body.
const MaxJournalValue = 4096

// clipCopy returns a copy of v (never a substring that would pin a whole request body), cut to
// MaxJournalValue bytes at a UTF-8 boundary and saying how long it was.
func clipCopy(v string) string {
	if len(v) <= MaxJournalValue {
		return strings.Clone(v)
	}
	cut := MaxJournalValue
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return v[:cut] + "…(" + strconv.Itoa(len(v)) + " bytes, cut)"
}
