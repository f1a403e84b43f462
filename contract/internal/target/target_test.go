package target_test

import (
	"io"
	"mime"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock/contract/internal/target"
	"github.com/smartappmock/smartappmock/store"
)

func TestRequest(t *testing.T) {
	t.Parallel()
	params := []store.Param{
		{Name: "access_token", Value: "tok", Source: "query"},
		{Name: "open_id", Value: "u 1&", Source: "body"},
	}
	t.Run("Form_ParamsInTheirSources", func(t *testing.T) {
		t.Parallel()
		uri, h, body := target.Request(store.Entry{Path: "/send", ContentType: "application/x-www-form-urlencoded", Params: params})
		got := []string{uri, h.Get("Content-Type"), string(body)}
		want := []string{"/send?access_token=tok", "application/x-www-form-urlencoded", "open_id=u+1%26"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Request() mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("Multipart_RebuiltWithItsOwnBoundary", func(t *testing.T) {
		t.Parallel()
		_, h, body := target.Request(store.Entry{Path: "/send", ContentType: "multipart/form-data; boundary=old", Params: params})
		mt, ps, err := mime.ParseMediaType(h.Get("Content-Type"))
		if err != nil || mt != "multipart/form-data" || ps["boundary"] == "old" {
			t.Fatalf("Content-Type = %q (%v); want multipart/form-data with a new boundary", h.Get("Content-Type"), err)
		}
		req := &http.Request{Method: http.MethodPost, Header: h, Body: io.NopCloser(strings.NewReader(string(body)))}
		if err := req.ParseMultipartForm(1 << 20); err != nil {
			t.Fatal(err)
		}
		if got := req.MultipartForm.Value["open_id"]; len(got) != 1 || got[0] != "u 1&" {
			t.Errorf("open_id = %q; want [\"u 1&\"]", got)
		}
	})
	t.Run("JSON_NoBody", func(t *testing.T) {
		t.Parallel()
		uri, h, body := target.Request(store.Entry{Path: "/send", ContentType: "application/json"})
		if uri != "/send" || h.Get("Content-Type") != "application/json" || body != nil {
			t.Errorf("Request() = %q, %v, %q; want the path, the Content-Type as sent and no body", uri, h, body)
		}
	})
}
