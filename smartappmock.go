// Package smartappmock holds the vocabulary shared by the fake Baidu Smart Mini Program server
// (package mockserver), its contract kit (package contract) and the command-line tool: the API
// paths, the parameters of a send, the two answer envelopes, the codes, and the OpenAPI document
// that is the single source of truth for all of them.
package smartappmock

import (
	_ "embed"
)

//go:embed openapi.yaml
var openAPI []byte

// OpenAPI returns a copy of the embedded openapi.yaml, the contract every other package follows.
func OpenAPI() []byte {
	out := make([]byte, len(openAPI))
	copy(out, openAPI)
	return out
}

// The paths of the API, as in openapi.yaml.
const (
	// SendPath is the path of the "send customer-service message" endpoint.
	SendPath = "/rest/2.0/smartapp/message/custom/send"
	// TokenPath is the path of the OAuth token endpoint.
	TokenPath = "/oauth/2.0/token"
	// SendByTPPath is the third-party platform's twin of SendPath: the same parameters, codes and
	// window, for authorizer tokens (45.) only.
	SendByTPPath = "/rest/2.0/smartapp/message/custom/sendbytp"
	// TPTokenPath mints a third-party platform's token (42.) from its key and ticket.
	TPTokenPath = "/public/2.0/smartapp/auth/tp/token"
	// PreAuthCodePath creates a pre-authorization code with a platform token.
	PreAuthCodePath = "/rest/2.0/smartapp/tp/createpreauthcode"
	// TPOAuthPath exchanges an authorization code, or a refresh token, for authorizer tokens.
	TPOAuthPath = "/rest/2.0/oauth/token"
	// GetMsgPath is a platform's push log (its tickets and authorization events).
	GetMsgPath = "/rest/2.0/smartapp/pushmsg/getmsg"
	// BaiduHost is the host the real service answers on.
	BaiduHost = "openapi.baidu.com"
	// BaiduBaseURL is the base URL Baidu's SDKs hard-code.
	BaiduBaseURL = "https://" + BaiduHost
)

// Names of the send parameters.
const (
	ParamAccessToken = "access_token"
	ParamUserType    = "user_type"
	ParamOpenID      = "open_id"
	ParamMsgType     = "msg_type"
	ParamContent     = "content"
	ParamPicURL      = "pic_url"
)

// Message types accepted in msg_type.
const (
	MsgTypeText  = "text"
	MsgTypeImage = "image"
)

// TokenExpiresIn is the lifetime of an access token in seconds (30 days), as Baidu answers it.
const TokenExpiresIn = 2592000

// RefreshTokenExpiresIn is the lifetime of a refresh token in seconds (10 years).
const RefreshTokenExpiresIn = 315360000

// Lifetimes of the third-party platform's tokens and codes, in seconds.
const (
	// TPTokenExpiresIn is the lifetime of a platform token (42.): 30 days.
	TPTokenExpiresIn = 2592000
	// PreAuthCodeExpiresIn is the lifetime of a pre-authorization code: 20 minutes.
	PreAuthCodeExpiresIn = 1200
	// AuthorizerTokenExpiresIn is the lifetime of an authorizer access token (45.): 1 hour.
	AuthorizerTokenExpiresIn = 3600
	// AuthorizerRefreshExpiresIn is the lifetime of an authorizer refresh token (46.): 10 years,
	// single use.
	AuthorizerRefreshExpiresIn = 315360000
)

// Grant types of TPOAuthPath.
const (
	GrantAppToTPCode    = "app_to_tp_authorization_code"
	GrantAppToTPRefresh = "app_to_tp_refresh_token"
)

// AuthorizerTokenResponse is a successful answer of TPOAuthPath: flat, not an envelope.
type AuthorizerTokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int    `json:"expires_in"`
}

// SendRequest is one "send customer-service message" call as the service reads it: the value in
// use of each parameter and where it came from, after the query and the body were merged.
type SendRequest struct {
	AccessToken, UserType, OpenID, MsgType, Content, PicURL Value
}

// Value is one parameter of a request as the service reads it.
type Value struct {
	// Text is the value in use ("" when the parameter was not sent).
	Text string
	// Source is where it came from: "query" or "body"; "" when it was not sent.
	Source string
}

// Sent reports whether the parameter was sent at all (an empty value counts as sent).
func (v Value) Sent() bool { return v.Source != "" }

// Get returns a parameter of the request by its name, and whether it was sent.
func (r *SendRequest) Get(name string) (string, bool) {
	var v Value
	switch name {
	case ParamAccessToken:
		v = r.AccessToken
	case ParamUserType:
		v = r.UserType
	case ParamOpenID:
		v = r.OpenID
	case ParamMsgType:
		v = r.MsgType
	case ParamContent:
		v = r.Content
	case ParamPicURL:
		v = r.PicURL
	}
	return v.Text, v.Sent()
}

// BusinessEnvelope is the business-layer answer of the send endpoint, success included. As
// Baidu's documentation shows them, a success has no data, {"errno":0,"msg":"success"}, and an
// error an empty one, {"errno":3001,"msg":"请求参数有误","data":{}}: a nil Data is left out.
type BusinessEnvelope struct {
	Errno int            `json:"errno"`
	Msg   string         `json:"msg"`
	Data  map[string]any `json:"data,omitzero"`
}

// GatewayEnvelope is the gateway-layer answer (token problems, request limits):
// {"error_code":110,"error_msg":"Access token invalid or no longer valid"}. It has no errno, msg or
// data fields, which is how clients tell the layers apart.
type GatewayEnvelope struct {
	ErrorCode int    `json:"error_code"`
	ErrorMsg  string `json:"error_msg"`
}

// TokenResponse is a successful answer of the token endpoint.
type TokenResponse struct {
	AccessToken   string `json:"access_token"`
	ExpiresIn     int    `json:"expires_in"`
	RefreshToken  string `json:"refresh_token"`
	Scope         string `json:"scope"`
	SessionKey    string `json:"session_key"`
	SessionSecret string `json:"session_secret"`
}

// OAuthError is an error answer of the token endpoint (HTTP 400, Cache-Control: no-store).
type OAuthError struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

// Layer names which envelope an answer uses.
type Layer string

// The layers of an answer.
const (
	// LayerGateway answers with GatewayEnvelope.
	LayerGateway Layer = "gateway"
	// LayerBusiness answers with BusinessEnvelope.
	LayerBusiness Layer = "business"
	// LayerOAuth answers with TokenResponse or OAuthError.
	LayerOAuth Layer = "oauth"
)

// Business errnos of the send endpoint.
const (
	ErrnoOK                 = 0
	ErrnoInvalidParam       = 3001
	ErrnoInvalidOpenID      = 30022
	ErrnoQuotaExceeded      = 90001
	ErrnoCapabilityDisabled = 90002
)

// ErrnoTPInvalidParameter is the third-party platform's errno for a bad parameter (参数错误): its
// token endpoint answers it for a missing or wrong platform key, ticket or secret.
const ErrnoTPInvalidParameter = 40001

// Gateway error codes.
const (
	CodeUnknown            = 1
	CodeUnavailable        = 2
	CodeUnsupportedMethod  = 3
	CodeRequestLimit       = 4
	CodeNoPermission       = 6
	CodeDailyLimit         = 17
	CodeQPSLimit           = 18
	CodeInvalidParameter   = 100
	CodeInvalidAccessToken = 110
	CodeAccessTokenExpired = 111
)

// Header names the fake adds to its answers. They are extras: the real service does not send them.
const (
	// HeaderOutcome carries the layer and code of an answer, e.g. "business 3001".
	HeaderOutcome = "X-Smartappmock-Outcome"
	// HeaderReason carries why the fake answered as it did, e.g. "open_id: required but missing".
	HeaderReason = "X-Smartappmock-Reason"
	// HeaderRequestID carries the id of the request, also found in the journal.
	HeaderRequestID = "X-Smartappmock-Request-Id"
	// HeaderWarning carries one short sentence per way the answer is one the real service would
	// not give (a sandbox leniency, a magic value, a rule), e.g. "access_token: not issued by
	// this fake; Baidu answers 110". The body never changes.
	HeaderWarning = "X-Smartappmock-Warning"
)
