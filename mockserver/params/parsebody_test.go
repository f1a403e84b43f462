package params

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestParseBody_AsParse: ParseBody reads what Parse reads, and what it gave stays the same after
// the Params are released and reused by another request.
func TestParseBody_AsParse(t *testing.T) {
	t.Parallel()
	mpType, mpBody := multipartBody(t, [][2]string{{"open_id", "u"}, {"content", "hé"}})
	tests := []struct{ query, contentType, body string }{
		{"access_token=t", "application/x-www-form-urlencoded", "user_type=1&open_id=u&msg_type=text&content=hello%20there&access_token=b"},
		{"access_token=t&open_id=q", "application/json", `{"open_id":"j"}`},
		{"access_token=t", "application/json", "open_id=lenient&content=x"},
		{"", "", "open_id=nobody"},
		{"a=%zz&b=1", "application/x-www-form-urlencoded", "c=%&d=2"},
		{"access_token=t", mpType, string(mpBody)},
	}
	for _, tt := range tests {
		want := Parse(tt.query, tt.contentType, []byte(tt.body), true)
		p := ParseBody(tt.query, tt.contentType, []byte(tt.body), true)
		got, gotJournal, gotNotes := p.SendRequest(), p.Journal(), p.Notes()
		if diff := cmp.Diff(want.SendRequest(), got); diff != "" {
			t.Errorf("%q: SendRequest mismatch (-Parse +ParseBody):\n%s", tt.body, diff)
		}
		if diff := cmp.Diff(want.Journal(), gotJournal); diff != "" {
			t.Errorf("%q: Journal mismatch (-Parse +ParseBody):\n%s", tt.body, diff)
		}
		if diff := cmp.Diff(want.Notes(), gotNotes); diff != "" {
			t.Errorf("%q: Notes mismatch (-Parse +ParseBody):\n%s", tt.body, diff)
		}
		p.Release()
		other := ParseBody("access_token=other", "application/x-www-form-urlencoded", []byte("open_id=other&content=other"), false)
		if diff := cmp.Diff(want.SendRequest(), got); diff != "" {
			t.Errorf("%q: SendRequest changed after Release (-want +got):\n%s", tt.body, diff)
		}
		if diff := cmp.Diff(want.Journal(), gotJournal); diff != "" {
			t.Errorf("%q: Journal changed after Release (-want +got):\n%s", tt.body, diff)
		}
		other.Release()
	}
}
