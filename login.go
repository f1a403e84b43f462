package smartappmock

// The login, UnionID and third-party lookup endpoints: paths, hosts and answer shapes, as
// Baidu documents them (docs/users-and-login.md).

// Paths of the login and UnionID endpoints.
const (
	// JSCode2SessionKeyPath is the v1 login: a swan.login code, the app key (client_id) and secret
	// (sk) for the user's openid and session_key. It is served on SPAPIHost.
	JSCode2SessionKeyPath = "/oauth/jscode2sessionkey"
	// SessionKeyPath is the v2 login: the app's access token and a code for data.open_id and
	// data.session_key.
	SessionKeyPath = "/rest/2.0/smartapp/getsessionkey"
	// TPSessionKeyPath is the third-party platform's login, with the authorizer token (45.).
	TPSessionKeyPath = "/rest/2.0/oauth/getsessionkeybycode"
	// UnionIDPath answers the UnionID of one of the app's open_ids (form field openid).
	UnionIDPath = "/rest/2.0/smartapp/getunionid"
	// TPUnionIDPath is the third-party platform's UnionID lookup (query open_id, authorizer token).
	TPUnionIDPath = "/rest/2.0/smartapp/unionId/get"
	// RetrieveAuthCodePath answers a fresh authorization code of an app that authorized the
	// platform (platform token 42., form or query app_id).
	RetrieveAuthCodePath = "/rest/2.0/smartapp/auth/retrieve/authorizationcode"
	// AppInfoPath answers the authorized mini program's basic information.
	AppInfoPath = "/rest/2.0/smartapp/app/info"
	// SPAPIHost is the host of the v1 login.
	SPAPIHost = "spapi.baidu.com"
)

// Lifetimes of the login, in seconds.
const (
	// LoginCodeExpiresIn is how long a swan.login code can be exchanged, once: 10 minutes.
	LoginCodeExpiresIn = 600
	// RetrievedAuthCodeExpiresIn is the expires_in of a code from RetrieveAuthCodePath (18000).
	RetrievedAuthCodeExpiresIn = 18000
)

// Errnos of the login and UnionID endpoints.
const (
	// ErrnoSPAPIInvalidParameter is the v1 login's errno of the error envelope
	// {"errno":10010100,"error":"parameter is invalid","error_description":"…"}.
	ErrnoSPAPIInvalidParameter = 10010100
	// ErrnoUnionIDInvalidParameter is getunionid's errno for a missing or wrong openid (400).
	ErrnoUnionIDInvalidParameter = 400
	// ErrnoNoAuthorization is RetrieveAuthCode's errno when the app did not authorize the platform.
	ErrnoNoAuthorization = 50032
)

// SessionKeyResponse is a successful answer of the v1 login and the platform's login: flat, no
// errno (Baidu's PHP SDK fails a body that has one).
type SessionKeyResponse struct {
	OpenID     string `json:"openid"`
	SessionKey string `json:"session_key"`
}

// SPAPIError is the v1 login's error envelope (the newer docs' shape).
type SPAPIError struct {
	Errno            int    `json:"errno"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

// SessionKeyData is the data of a successful v2 login: open_id with an underscore, unlike v1.
type SessionKeyData struct {
	OpenID     string `json:"open_id"`
	SessionKey string `json:"session_key"`
}
