package spec

import (
	"encoding/json"
	"flag"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock"
)

var update = flag.Bool("update", false, "rewrite openapi.compiled.json from openapi.yaml")

// TestCompiledJSON_UpToDate: openapi.compiled.json is what Load compiles from the build's
// openapi.yaml (the document loads and validates, and the file is not stale).
func TestCompiledJSON_UpToDate(t *testing.T) {
	sp, err := Load(smartappmock.OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	want, err := json.MarshalIndent(sp.c, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, '\n')
	if *update {
		if err := os.WriteFile("openapi.compiled.json", want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if diff := cmp.Diff(string(want), string(compiledJSON)); diff != "" {
		t.Errorf("openapi.compiled.json is stale (openapi.yaml changed?); run go test ./internal/spec -run TestCompiledJSON -update (-want +got):\n%s", diff)
	}
}

// TestEmbedded_SameAsLoad: the Spec that Embedded builds from the compiled form serves like the
// one Load builds from the document, and loads the document when asked for it.
func TestEmbedded_SameAsLoad(t *testing.T) {
	t.Parallel()
	loaded, err := Load(smartappmock.OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	emb, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	opts := cmp.AllowUnexported(compiled{}, sendChecker{}, propCheck{}, form{}, condition{})
	if diff := cmp.Diff(loaded.c, emb.c, opts); diff != "" {
		t.Errorf("Embedded() differs from Load (-Load +Embedded):\n%s", diff)
	}
	if doc := emb.Document(); doc == nil || len(doc.Servers) != 0 || doc.Paths.Len() != loaded.Document().Paths.Len() {
		t.Errorf("Embedded().Document() = %v, want the loaded document without servers", doc)
	}
}

// TestFromCompiled_StaleFileIgnored: a compiled form of another document (openapi.yaml edited, the
// file not written again) is ignored and the document is loaded as Load does; a broken document
// is then an error.
func TestFromCompiled_StaleFileIgnored(t *testing.T) {
	t.Parallel()
	edited := append([]byte(nil), smartappmock.OpenAPI()...)
	edited = append(edited, "\n# edited\n"...)
	sp, err := fromCompiled(edited, compiledJSON)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := sp.c.Source, sourceHash(edited); got != want {
		t.Errorf("Source = %s, want the edited document's %s", got, want)
	}
	loaded, err := Load(smartappmock.OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	sp.c.Source = loaded.c.Source
	if diff := cmp.Diff(loaded.c, sp.c, cmp.AllowUnexported(compiled{}, sendChecker{}, propCheck{}, form{}, condition{})); diff != "" {
		t.Errorf("compiled from the edited document differs (-Load +fromCompiled):\n%s", diff)
	}
	if _, err := fromCompiled([]byte("openapi: 3.0.3\n"), compiledJSON); err == nil {
		t.Error("fromCompiled accepted a broken document with a stale compiled form")
	}
}
