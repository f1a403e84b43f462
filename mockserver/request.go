package mockserver

import (
	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/store"
)

// sendRequest reads the send's parameters once, each with its source.
func (p *params) sendRequest() smartappmock.SendRequest {
	var r smartappmock.SendRequest
	for i := range p.all {
		prm := &p.all[i]
		if !prm.Used {
			continue
		}
		v := smartappmock.Value{Text: prm.Value, Source: prm.Source}
		switch prm.Name {
		case smartappmock.ParamAccessToken:
			r.AccessToken = v
		case smartappmock.ParamUserType:
			r.UserType = v
		case smartappmock.ParamOpenID:
			r.OpenID = v
		case smartappmock.ParamMsgType:
			r.MsgType = v
		case smartappmock.ParamContent:
			r.Content = v
		case smartappmock.ParamPicURL:
			r.PicURL = v
		}
	}
	return r
}

// Param is one request parameter and where it came from, as the journal keeps it (store.Param).
type Param = store.Param
