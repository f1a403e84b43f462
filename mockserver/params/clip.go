package params

// MaxJournalValue is the longest parameter value the journal keeps (4 KiB); a longer one is cut at
// a UTF-8 boundary and marked, so the journal's memory is bounded by its entry cap even when every
// request carries a 1 MiB body.
const MaxJournalValue = 4096
