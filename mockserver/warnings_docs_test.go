package mockserver

import (
	"os"
	"strings"
	"testing"
)

// TestDocs_FidelityListsEveryWarning: docs/fidelity.md lists every warning kind with its exact
// sentence, so the header is documented where users look it up.
func TestDocs_FidelityListsEveryWarning(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../docs/fidelity.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range WarningKinds() {
		row := "| `" + string(k) + "` | " + k.Message() + " |"
		if !strings.Contains(string(data), row) {
			t.Errorf("docs/fidelity.md lacks the row %q", row)
		}
	}
}
