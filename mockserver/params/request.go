package params

import (
	"github.com/smartappmock/smartappmock"
)

// SendRequest reads the send's parameters once, each with its source.
func (p *Params) SendRequest() smartappmock.SendRequest {
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
