package mockserver

import (
	"strings"
	"testing"
	"unsafe"
)

// TestJournalPathAndMethod_CopiesThatPinNothing: the path and method an entry keeps are the API's
// constants or bounded copies, never pieces of the request line.
func TestJournalPathAndMethod_CopiesThatPinNothing(t *testing.T) {
	line := "BREW /" + strings.Repeat("x", 60<<10) + " HTTP/1.1"
	method, path := line[:4], line[5:len(line)-9]
	gotPath, gotMethod := journalPath(path), journalMethod(method)
	if len(gotPath) > 256+32 || !strings.HasSuffix(gotPath, " bytes, cut)") {
		t.Errorf("path kept %d bytes: %.40q…", len(gotPath), gotPath)
	}
	within := func(s string) bool {
		p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
		base := uintptr(unsafe.Pointer(unsafe.StringData(line)))
		return p >= base && p < base+uintptr(len(line))
	}
	if within(gotPath) || within(gotMethod) {
		t.Error("the kept path or method shares memory with the request line")
	}
	if journalPath("/rest/2.0/smartapp/message/custom/send") == "" || journalMethod("POST") != "POST" {
		t.Error("the API's own path or a usual method changed")
	}
}
