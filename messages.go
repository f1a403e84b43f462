package smartappmock

// The paths of the subscribe and template messages and of the content checks, beside the send.
const (
	// SubscribeSendPath sends a subscribe message to a user who consented to its template.
	SubscribeSendPath = "/rest/2.0/smartapp/template/message/subscribe/send"
	// TemplateSendPath sends a legacy template message on a form, order or payment scene.
	TemplateSendPath = "/rest/2.0/smartapp/template/send"
	// CheckTextPath checks a text (JSON body).
	CheckTextPath = "/rest/2.0/smartapp/riskDetection/v2/syncCheckText"
	// CheckImagePath checks an image (multipart), the path of Baidu's Go, PHP and Java SDKs;
	// CheckImageRestPath is the same check on the path of a community SDK (SKIT).
	CheckImagePath     = "/file/2.0/smartapp/riskDetection/v2/syncCheckImage"
	CheckImageRestPath = "/rest/2.0/smartapp/riskDetection/v2/syncCheckImage"
	// DetectRiskPath answers the anti-cheat risk level of a user's action.
	DetectRiskPath = "/rest/2.0/smartapp/detectrisk"
)

// The errnos of the template messages (x-smartapp-codes.template in openapi.yaml).
const (
	ErrnoTemplateParam      = 2002 // 参数错误: a missing or invalid parameter
	ErrnoTemplateID         = 4001 // template_id 不正确
	ErrnoFormInvalid        = 4003 // 表单无效: a form scene expired or used
	ErrnoSceneInvalid       = 4004 // 场景id无效
	ErrnoNotSubscribed      = 4007 // 用户未订阅该消息: no consent left
	ErrnoTemplateOpenID     = 4010 // 不合法的 touser_openId
	ErrnoRiskFound          = 82512
	ErrnoRiskCheckFailed    = 82593
	ErrnoRiskInvalidRequest = 40001 // 参数错误 (inferred: Baidu documents no table)
)
