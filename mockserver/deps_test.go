package mockserver_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/smartappmock/smartappmock/internal/testenv"
)

// TestDependencies_PointOneWay pins the layout: the API core and mockservertest link neither the
// Prometheus client nor chromedp, the stores link no configuration, OpenAPI, YAML or server
// package, and the push wire protocol (baidupush, which config's apps[].push uses) imports nothing
// of this module at all.
func TestDependencies_PointOneWay(t *testing.T) {
	testenv.SkipIfShort(t, "runs go list -deps on each package")
	t.Parallel()
	const mod = "github.com/smartappmock/smartappmock"
	tests := []struct {
		pkg       string
		forbidden []string
	}{
		{mod + "/mockserver", []string{"github.com/prometheus/", "github.com/chromedp/", mod + "/mockserver/admin", mod + "/mockserver/inbox", mod + "/mockserver/observe"}},
		{mod + "/mockserver/mockservertest", []string{"github.com/prometheus/", "github.com/chromedp/"}},
		{mod + "/store", storeForbidden},
		{mod + "/store/memstore", storeForbidden},
		{mod + "/store/redisstore", storeForbidden},
		{mod + "/baidupush", []string{mod, mod + "/"}},
	}
	for _, tt := range tests {
		t.Run(tt.pkg[len(mod):], func(t *testing.T) {
			out, err := exec.Command("go", "list", "-deps", tt.pkg).CombinedOutput()
			if err != nil {
				t.Fatalf("go list -deps %s: %v\n%s", tt.pkg, err, out)
			}
			for _, dep := range strings.Fields(string(out)) {
				if dep == tt.pkg {
					continue
				}
				for _, f := range tt.forbidden {
					if dep == f || (strings.HasSuffix(f, "/") && strings.HasPrefix(dep, f)) {
						t.Errorf("%s depends on %s", tt.pkg, dep)
					}
				}
			}
		})
	}
}

// storeForbidden is what no store may link: the configuration, the OpenAPI machinery, YAML and
// any server package. A store keeps state; the decisions, and what they read, are the core's.
var storeForbidden = append([]string{
	"github.com/smartappmock/smartappmock/config",
	"github.com/smartappmock/smartappmock/internal/spec",
	"github.com/smartappmock/smartappmock/mockserver/",
	"github.com/getkin/",
	"github.com/gorilla/",
	"go.yaml.in/",
	"gopkg.in/yaml",
}, serverPackages...)

// serverPackages are the packages of the server: the API core and its jobs.
var serverPackages = func() []string {
	const mod = "github.com/smartappmock/smartappmock"
	var out []string
	for _, p := range []string{"", "/admin", "/inbox", "/proxy", "/observe", "/sandbox", "/fault", "/mockservertest", "/journalfile"} {
		out = append(out, mod+"/mockserver"+p)
	}
	return out
}()
