package main

import (
	"bufio"
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock/internal/testenv"
)

// TestBinaryKeepsUnusedMethodsOut pins that nothing linked into the smartappmock binary calls
// reflect's Method or MethodByName with a name known only at run time. The linker marks such a
// caller <ReflectMethod> and, from then on, keeps every exported method of every type in the
// binary: text/template and go-cmp's diff each made the image 2.6 MB larger, over the Docker
// image's 15 MB target (scripts/container-test.sh measures the image itself). Keep them in tests.
func TestBinaryKeepsUnusedMethodsOut(t *testing.T) {
	testenv.SkipIfShort(t, "builds the command with go build -ldflags=-dumpdep")
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command to build with: %v", err)
	}
	// The build flags of the other tests that build the command (process_test.go): -ldflags only
	// changes the link, so every package comes from the same build cache. -trimpath or
	// CGO_ENABLED=0, as the Dockerfile has them, would compile every dependency once more (minutes
	// on a busy 2-core machine, which put the package over go test's 10-minute limit); neither
	// changes which functions call reflect's Method.
	cmd := exec.Command(goTool, "build", "-ldflags=-dumpdep", "-o", filepath.Join(t.TempDir(), "smartappmock"), ".")
	var stdout, deps bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &deps
	if err := cmd.Run(); err != nil {
		t.Fatalf("go build -ldflags=-dumpdep: %v\n%s%.2000s", err, &stdout, &deps)
	}
	if !strings.Contains(deps.String(), " -> main.main") {
		t.Fatalf("go build -ldflags=-dumpdep printed no dependency graph (%d bytes); has the flag changed?", deps.Len())
	}
	if culprits := reflectMethodCallers(deps.String()); len(culprits) > 0 {
		t.Errorf("the binary calls reflect Method/MethodByName, so the linker keeps every exported method (a few MB). "+
			"The marked functions and what reaches them (go build -ldflags=-dumpdep ./cmd/smartappmock):\n%s",
			strings.Join(culprits, "\n"))
	}
}

// reflectMethodCallers returns the edges of a -dumpdep graph that lead to a function marked
// <ReflectMethod>, those outside package reflect first (they are the ones to remove), at most 20.
func reflectMethodCallers(graph string) []string {
	var outside, inside []string
	sc := bufio.NewScanner(strings.NewReader(graph))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		from, to, ok := strings.Cut(sc.Text(), " -> ")
		if !ok || !strings.HasSuffix(to, " <ReflectMethod>") || strings.Contains(from, "<ReflectMethod>") {
			continue
		}
		if strings.HasPrefix(to, "reflect.") {
			inside = append(inside, "  "+sc.Text())
		} else {
			outside = append(outside, "  "+sc.Text())
		}
	}
	all := append(outside, inside...)
	return all[:min(len(all), 20)]
}

func TestReflectMethodCallers(t *testing.T) {
	const graph = `runtime.main -> main.main
main.main -> fmt.Println
text/template.(*Template).Execute -> text/template.(*state).evalField <ReflectMethod>
text/template.(*state).evalField <ReflectMethod> -> reflect.Value.MethodByName
type:reflect.Value <UsedInIface> -> reflect.(*Value).Method <ReflectMethod>
`
	tests := []struct {
		name, graph string
		want        []string
	}{
		{"clean", "runtime.main -> main.main\nmain.main -> fmt.Println\n", nil},
		{"template", graph, []string{
			"  text/template.(*Template).Execute -> text/template.(*state).evalField <ReflectMethod>",
			"  type:reflect.Value <UsedInIface> -> reflect.(*Value).Method <ReflectMethod>",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, reflectMethodCallers(tt.graph)); diff != "" {
				t.Errorf("reflectMethodCallers (-want +got):\n%s", diff)
			}
		})
	}
}
