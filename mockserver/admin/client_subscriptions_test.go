package admin_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/mockserver/admin"
)

// TestClient_Subscriptions: the typed client's consents and scenes against a real admin API (the
// embedded default: any template, app 10001); a repeated consent is not created again, and an
// unknown app is an *admin.Error with status 404.
func TestClient_Subscriptions(t *testing.T) {
	core, err := mockserver.New(mockserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(admin.New(core, admin.Options{}).Wrap(core))
	defer hs.Close()
	ctx := context.Background()
	c := &admin.Client{BaseURL: hs.URL}

	in := admin.Consent{TemplateID: "tpl", SubscribeID: "s/1"}
	first, err := c.Subscribe(ctx, "10001", "user 1", in)
	if err != nil || !first.Created || first.OpenID != "user 1" || first.SubscribeID != "s/1" {
		t.Fatalf("Subscribe = %+v, %v", first, err)
	}
	if again, err := c.Subscribe(ctx, "10001", "user 1", in); err != nil || again.Created {
		t.Fatalf("Subscribe again = %+v, %v; want not created", again, err)
	}
	for _, openID := range []string{"user 1", ""} {
		list, err := c.Subscriptions(ctx, "10001", openID)
		if err != nil || len(list.Subscriptions) != 1 || list.Subscriptions[0].TemplateID != "tpl" {
			t.Errorf("Subscriptions(%q) = %+v, %v", openID, list, err)
		}
	}
	if list, err := c.Subscriptions(ctx, "10001", "user 2"); err != nil || len(list.Subscriptions) != 0 {
		t.Errorf("Subscriptions of another user = %+v, %v", list, err)
	}
	sc, err := c.NewScene(ctx, "10001", "user 1", admin.SceneInput{SceneType: 3, Guest: true})
	if err != nil || sc.Messages != 3 || !sc.Guest || sc.ID[len(sc.ID)-1] != '0' {
		t.Fatalf("NewScene = %+v, %v", sc, err)
	}
	var ae *admin.Error
	if _, err := c.Subscribe(ctx, "nope", "u", in); !errors.As(err, &ae) || ae.Status != http.StatusNotFound {
		t.Fatalf("Subscribe in an unknown app: %v", err)
	}
	if err := c.Unsubscribe(ctx, "10001", "user 1", in); err != nil {
		t.Fatalf("Unsubscribe: %v", err)
	}
	if err := c.Unsubscribe(ctx, "10001", "user 1", in); !errors.As(err, &ae) || ae.Status != http.StatusNotFound {
		t.Fatalf("Unsubscribe of a consent no longer held: %v", err)
	}
}
