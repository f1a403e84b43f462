package inbox

import (
	"strings"

	"github.com/smartappmock/smartappmock/internal/spec"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/store"
)

// messageFields fills in the detail of an item made from an entry of the subscribe and template
// messages, a consent, or a content check: what it carried, in one line. Other entries are left
// as they are.
func messageFields(it *inboxItem, e *store.Entry) {
	get := func(name string) string {
		for _, p := range e.Params {
			if p.Used && p.Name == name {
				return p.Value
			}
		}
		return ""
	}
	switch e.Endpoint {
	case mockserver.EndpointSubscription:
		it.Detail = e.Reason
	case "subscribe_send":
		it.Detail = "subscribe message: template " + get("template_id") + ", subscribe_id " + get("subscribe_id") + ", data " + get("data")
	case "template_send":
		to := get("touser_openId")
		if to == "" {
			to = get("touser") + " (guest)"
		}
		it.Detail = "template message to " + to + ": template " + get("template_id") + ", scene " + get("scene_id") + " (type " + get("scene_type") + "), data " + get("data")
	case "check_text", "check_image", "detectrisk":
		it.Detail = e.Reason
		if img := get("image"); img != "" {
			it.Detail = "image " + img + ": " + it.Detail
		}
	}
	if len(it.Detail) > 600 {
		it.Detail = strings.ToValidUTF8(it.Detail[:600], "") + "…"
	}
}

// businessMessage is Baidu's text for a business errno: the send's table, then the template
// messages' and the content checks'.
func businessMessage(cat spec.Catalogue, errno int) string {
	if m, ok := cat.BusinessMessage(errno); ok {
		return m
	}
	if m, ok := cat.TemplateMessage(errno); ok {
		return m
	}
	m, _ := cat.RiskMessage(errno)
	return m
}
