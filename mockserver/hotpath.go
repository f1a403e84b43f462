package mockserver

// isPrintableASCII reports whether every byte of s is printable ASCII (0x20-0x7e): such a string
// goes into a header as it is.
func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}
