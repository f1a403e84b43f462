package casename

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSelect_Outcomes(t *testing.T) {
	t.Parallel()
	all := []string{"a", "b", "c"}
	id := func(s string) string { return s }
	for _, tc := range []struct {
		name    string
		names   []string
		want    []string
		wantErr string
	}{
		{"NoNames_All", nil, all, ""},
		{"InTheGivenOrder", []string{"c", "a"}, []string{"c", "a"}, ""},
		{"SpacesTrimmed", []string{" b "}, []string{"b"}, ""},
		{"Unknown_NamesTheKnown", []string{"a", "d"}, nil, `unknown webhook case "d"; known cases: a, b, c`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Select(all, id, "webhook case", tc.names)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("Select(%q) error = %v; want %q", tc.names, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Select(%q) mismatch (-want +got):\n%s", tc.names, diff)
			}
		})
	}
}
