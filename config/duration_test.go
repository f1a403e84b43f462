package config_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock/baidupush"
	"github.com/smartappmock/smartappmock/config"
)

// TestDuration_PushReadsAsConfig: apps[].push's durations (baidupush.Duration, in a package that
// imports nothing of this module) read every text and JSON value as config.Duration does, errors
// included.
func TestDuration_PushReadsAsConfig(t *testing.T) {
	t.Parallel()
	type duration interface {
		fmt.Stringer
		UnmarshalText([]byte) error
		json.Unmarshaler
	}
	read := func(d duration, in string) string {
		errText, errJSON := d.UnmarshalText([]byte(in)), d.UnmarshalJSON([]byte(in))
		return fmt.Sprintf("%s; text: %v; JSON: %v", d, errText, errJSON)
	}
	for _, in := range []string{"2s", " 500ms ", "1.5s", "48h", "0", "2", "2.5", "-3", `"2s"`, `"2"`, "soon", "", "2 s"} {
		if diff := cmp.Diff(read(new(config.Duration), in), read(new(baidupush.Duration), in)); diff != "" {
			t.Errorf("%q: config (-) and baidupush (+) read it differently:\n%s", in, diff)
		}
	}
}
