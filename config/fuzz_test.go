package config

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"go.yaml.in/yaml/v4"
)

// FuzzParse feeds arbitrary documents to the one config parser, as .yaml and as .json: it never
// panics, every failure is an Errors value naming the file with a reason, and every configuration it accepts survives a
// round trip through YAML unchanged (nil and empty lists aside).
func FuzzParse(f *testing.F) {
	f.Add([]byte(DefaultYAML()))
	f.Add([]byte("version: 1\n"))
	f.Add([]byte("version: 1\napps:\n  - {id: a, client_id: c, client_secret: s, tokens: [t], limits: {daily: 3, qps: 2}}\n"))
	f.Add([]byte("version: 1\npolicy: {window: {duration: 90s, max_replies: 2}, journal_cap: 5}\nrules:\n  - {match: {open_id: x, msg_type: text}, answer: {errno: 90001}, times: 2}\n"))
	f.Add([]byte(`{"version":1,"policy":{"apps":"sandbox"},"apps":[{"client_id":"c","client_secret":"s"}]}`))
	f.Add([]byte("version: 2\npolicy: {apps: maybe}\nunknown: 1\n"))
	f.Add([]byte("version: 1\napps: [{id: 'a b', client_id: c}]\n"))
	f.Add([]byte("\t- : [\n"))
	f.Add([]byte("{\"version\": 1,}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		// As a .json file: strict JSON first; failures are Errors naming the file too.
		if _, err := Parse("fuzz.json", data); err != nil {
			var errs Errors
			if !errors.As(err, &errs) || len(errs) == 0 || errs[0].File != "fuzz.json" || errs[0].Reason == "" {
				t.Fatalf("fuzz.json: error is not a non-empty Errors naming the file: %T %v", err, err)
			}
		}
		c, err := Parse("fuzz.yaml", data)
		if err != nil {
			var errs Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("error is not a non-empty Errors: %T %v", err, err)
			}
			for _, e := range errs {
				if e.File != "fuzz.yaml" || e.Reason == "" {
					t.Fatalf("error without file or reason: %+v", e)
				}
			}
			return
		}
		out, err := yaml.Marshal(c)
		if err != nil {
			t.Fatalf("accepted config does not marshal: %v", err)
		}
		again, err := Parse("again.yaml", out)
		if err != nil {
			t.Fatalf("accepted config does not parse after a round trip: %v\n%s", err, out)
		}
		if diff := cmp.Diff(c, again, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("round trip changed the config (-first +again):\n%s\n%s", diff, out)
		}
	})
}
