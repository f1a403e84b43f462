package contract_test

import (
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock/contract"
)

// TestREADME_TestingYourClient keeps docs/contract-kit.md honest: the
// environment variables it documents are exactly those CommandEnv sets, and every case it names
// exists.
func TestREADME_TestingYourClient(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../docs/contract-kit.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?s)<!-- section: testing-your-client -->(.*?)<!-- /section: testing-your-client -->`).FindSubmatch(data)
	if m == nil {
		t.Fatal("docs/contract-kit.md has no testing-your-client section")
	}
	section := string(m[1])

	var want []string
	every := contract.Conn{AnswerTimeout: 5 * time.Second, TemplateID: "t", SubscribeID: "s", CheckText: true} // every variable set
	for _, kv := range contract.CommandEnv(every, contract.Message{}, "") {
		name, _, _ := strings.Cut(kv, "=")
		want = append(want, name)
	}
	sort.Strings(want)
	seen := map[string]bool{}
	for _, v := range regexp.MustCompile(`SMARTAPP_[A-Z_]+`).FindAllString(section, -1) {
		seen[v] = true
	}
	var got []string
	for v := range seen {
		got = append(got, v)
	}
	sort.Strings(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("README environment variables mismatch (-CommandEnv +README):\n%s", diff)
	}

	known := map[string]bool{}
	for _, c := range append(contract.Cases(), contract.MessageCases()...) {
		known[c.Name] = true
	}
	for _, name := range regexp.MustCompile(`\b(?:text|image|errno|token|gateway|window|fault|requests|send|codes|verify|fallback|check_text)_[a-z0-9_]+\b`).FindAllString(section, -1) {
		if !known[name] && !strings.HasPrefix(name, "verify_") {
			t.Errorf("README names case %q, which is not in the catalogue", name)
		}
	}
}
