package sandbox

import (
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// TestAnswersGolden pins the exact bytes of every answer the fake can give (field order, numbers,
// Chinese messages), one line per outcome, in testdata/answers.golden. Run with -update after a
// deliberate change to openapi.yaml's catalogue.
func TestAnswersGolden(t *testing.T) {
	f := setup(t, "")
	var b strings.Builder
	line := func(name string, res response) {
		b.WriteString(name + " | " + res.Header.Get("Content-Type") + " | " + string(res.Body) + "\n")
	}
	line("success", f.sendForm("static-token-a", text("user-a", "hi")))
	for _, c := range f.srv.Core.Spec().Catalogue().Business {
		if c.Errno != 0 {
			line("errno_"+itoa(c.Errno), f.sendForm("static-token-a", text("errno_"+itoa(c.Errno), "hi")))
		}
	}
	for _, c := range f.srv.Core.Spec().Catalogue().Gateway {
		line("error_code_"+itoa(c.Code), f.sendForm("error_code_"+itoa(c.Code), text("user-a", "hi")))
	}
	for _, q := range []string{"grant_type=client_credentials&client_id=nobody&client_secret=x", "grant_type=client_credentials&client_id=key-a&client_secret=wrong", "client_id=key-a", "grant_type=password"} {
		res := f.do(httptest.NewRequest(http.MethodGet, smartappmock.TokenPath+"?"+q, nil))
		line("oauth "+q+" | "+itoa(res.Status)+" "+res.Header.Get("Cache-Control"), res)
	}
	got := b.String()
	const golden = "testdata/answers.golden"
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./mockserver -run TestAnswersGolden -update)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("answers differ from %s (-want +got):\n%s", golden, diff)
	}
}
