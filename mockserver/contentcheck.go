package mockserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/smartappmock/smartappmock"
	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/internal/spec"
	"github.com/smartappmock/smartappmock/mockserver/params"
	"github.com/smartappmock/smartappmock/store"
)

// The content checks: a text (syncCheckText), an image (syncCheckImage, on two paths) and the
// anti-cheat risk level (detectrisk). Baidu's checks are models; the fake's are word lists
// (config.ContentChecks, per app), so that a bot's "check before reply" path can be driven both
// ways: a text that contains a listed word fails its type's check with 82512 "potential risk".
// A magic content errno_<N> (the whole text, or in an image's bytes) answers N for every type.

// The journal's endpoints of the content checks.
const (
	endpointCheckText  = "check_text"
	endpointCheckImage = "check_image"
	endpointDetectRisk = "detectrisk"
)

// maxImage is the largest image the image check takes (5 MB); maxImageBody bounds its body, the
// image and its multipart framing; maxCheckText is the longest text of the text check (10 KB).
const (
	maxImage     = 5 << 20
	maxImageBody = maxImage + 64<<10
	maxCheckText = 10 << 10
)

// riskResult is one type's result of a check (data.res[]).
type riskResult struct {
	Type  string `json:"type"`
	Errno int    `json:"errno"`
	Msg   string `json:"msg"`
}

// riskBody is a check's answer: the top-level errno and msg of the first failing result (0 and
// "success" when every one passed), with the results.
type riskBody struct {
	Errno int      `json:"errno"`
	Msg   string   `json:"msg"`
	Data  riskData `json:"data"`
}

type riskData struct {
	RetrieveID string       `json:"retrieveId"`
	Res        []riskResult `json:"res"`
}

var magicErrno = regexp.MustCompile(`errno_([0-9]{1,9})`)

// checkTypes runs the checks of types on the text (or an image's bytes), each type failing on a
// word of its list. It returns the decision and the body.
func (s *Server) checkTypes(types []string, text []byte, lists map[string][]string, magic bool, appNow time.Time) (Decision, []byte) {
	cat := s.spec.Catalogue()
	out := riskBody{Msg: "success", Data: riskData{RetrieveID: strconv.FormatInt(appNow.UnixMilli(), 10), Res: []riskResult{}}}
	d := business(smartappmock.ErrnoOK, "")
	var found []string
	forced := 0
	if magic {
		if m := magicErrno.FindSubmatch(text); m != nil {
			if n, err := strconv.Atoi(string(m[1])); err == nil {
				if _, ok := cat.RiskMessage(n); ok {
					forced = n
				}
			}
		}
	}
	for _, t := range types {
		res := riskResult{Type: t, Msg: "pass"}
		if forced != 0 {
			res.Errno = forced
			found = append(found, t+": magic errno_"+strconv.Itoa(forced))
		} else if w := firstWord(text, lists[t]); w != "" {
			res.Errno = smartappmock.ErrnoRiskFound
			found = append(found, t+": the word "+strconv.Quote(w)+" is listed")
		}
		if res.Errno != 0 {
			res.Msg, _ = cat.RiskMessage(res.Errno)
			if out.Errno == 0 {
				out.Errno, out.Msg = res.Errno, res.Msg
			}
		} else {
			found = append(found, t+": pass")
		}
		out.Data.Res = append(out.Data.Res, res)
	}
	d.Code = out.Errno
	d.Reason = "checked " + strings.Join(found, "; ")
	if forced != 0 {
		d.Rule = "magic:errno_" + strconv.Itoa(forced)
		d.Warnings = []store.Warning{WarnMagicValue.Warning()}
	}
	return d, mustJSON(out)
}

// firstWord returns the first word of list that text contains, "" when none.
func firstWord(text []byte, list []string) string {
	for _, w := range list {
		if w != "" && bytes.Contains(text, []byte(w)) {
			return w
		}
	}
	return ""
}

// checksOf returns the word lists of app by check type.
func (s *Server) checksOf(app string) config.ContentChecks {
	return s.cfg.ChecksFor(s.apps[app])
}

// The content checks are calls of the pipeline beside the send (call.go), their limits counted
// per endpoint; rules and fault plans match a text check's content. The text and the image checks
// read their bodies themselves (JSON, multipart).
var (
	checkTextEndpoint  = &endpoint{name: endpointCheckText, limits: true, rawBody: true, invalid: riskInvalid, read: readTextCall}
	checkImageEndpoint = &endpoint{name: endpointCheckImage, limits: true, rawBody: true, bodyLimit: maxImageBody, invalid: riskInvalid,
		read: readImageCall}
	detectRiskEndpoint = &endpoint{name: endpointDetectRisk, limits: true, invalid: riskInvalid,
		read: func(*call, *send) endpointCall { return callFunc((*Server).decideDetectRisk) }}
)

// riskInvalid is a content check's answer to a parameter error: 40001 (inferred).
func riskInvalid(c *call, reason string) reply {
	return c.envelopeReply(business(smartappmock.ErrnoRiskInvalidRequest, reason), nil)
}

// textCall is a text check. Its decision, after the gateway layer: the body a JSON object that
// openapi.yaml's CheckTextBody accepts (40001); then each type (risk, lead; default risk): a magic
// content errno_<N> fails it with N, a listed word with 82512.
type textCall struct {
	content string
	types   []string
	bad     string // why the body is refused, "" when it is not
}

func (tc *textCall) decide(_ context.Context, c *call, app store.App, appNow time.Time) (reply, error) {
	s := c.s
	if tc.bad != "" {
		return riskInvalid(c, tc.bad), nil
	}
	var v any
	_ = json.Unmarshal(c.body, &v) // parsed already (readTextCall)
	if vs := s.spec.CheckValue("CheckTextBody", v); len(vs) > 0 {
		return riskInvalid(c, spec.Join(vs)), nil
	}
	if len(tc.content) > maxCheckText {
		// openapi.yaml's maxLength counts characters; Baidu's limit is 10 KB of the text.
		return riskInvalid(c, fmt.Sprintf("content: %d bytes, more than 10 KB", len(tc.content))), nil
	}
	cc := s.checksOf(app.ID)
	lists := map[string][]string{"risk": cc.RiskWords, "lead": cc.LeadWords}
	magic := s.cfg.Policy.MagicValues && strings.TrimSpace(tc.content) == magicErrno.FindString(tc.content) && tc.content != ""
	d, out := s.checkTypes(tc.types, []byte(tc.content), lists, magic, appNow)
	return c.envelopeReply(d, out), nil
}

// readTextCall reads a text check's JSON body: {"content":"…","type":["risk","lead"]} (type null
// or missing: risk).
func readTextCall(c *call, in *send) endpointCall {
	tc := &textCall{types: []string{"risk"}}
	var b struct {
		Content *string   `json:"content"`
		Type    *[]string `json:"type"`
	}
	switch err := json.Unmarshal(c.body, &b); {
	case len(bytes.TrimSpace(c.body)) == 0:
		tc.bad = `body: empty; want JSON {"content":"…","type":["risk","lead"]}`
	case err != nil:
		tc.bad = "body: not a JSON object of content and type (" + strings.TrimPrefix(err.Error(), "json: ") + ")"
	default:
		if b.Content != nil {
			tc.content = *b.Content
			c.extra = append(c.extra, bodyParam("content", tc.content))
		}
		if b.Type != nil && len(*b.Type) > 0 {
			tc.types = *b.Type // null (Go SDK) or [] (PHP SDK): the default, risk
			c.extra = append(c.extra, bodyParam("type", strings.Join(tc.types, ",")))
		}
	}
	in.content = tc.content
	return tc
}

// imageCall is an image check. Its decision, after the gateway layer: a multipart body with an
// image part of at most 5 MB whose bytes are a PNG or a JPEG, and types of porn, ocr-word and
// ocr-lead (40001); then each type: a magic errno_<N> in the image's bytes fails it with N; porn
// fails on the bytes "smartappmock-porn", ocr-word and ocr-lead on a word of the risk and lead
// lists in the bytes (the fake's stand-in for the text on the image).
type imageCall struct {
	image []byte
	types []string
	bad   string
}

// imageTypes are the image check's types.
var imageTypes = []string{"porn", "ocr-word", "ocr-lead"}

func (ic *imageCall) decide(_ context.Context, c *call, app store.App, appNow time.Time) (reply, error) {
	s := c.s
	if ic.bad != "" {
		return riskInvalid(c, ic.bad), nil
	}
	cc := s.checksOf(app.ID)
	lists := map[string][]string{"porn": {"smartappmock-porn"}, "ocr-word": cc.RiskWords, "ocr-lead": cc.LeadWords}
	d, out := s.checkTypes(ic.types, ic.image, lists, s.cfg.Policy.MagicValues, appNow)
	return c.envelopeReply(d, out), nil
}

// readImageCall reads an image check's multipart body: the part "image" (any filename and part
// type: Baidu's Go SDK sends filename "image" and application/octet-stream, PHP the file's name,
// SKIT image/jpeg) and the text part "type", comma-separated.
func readImageCall(c *call, _ *send) endpointCall {
	ic := &imageCall{types: []string{"porn"}}
	ic.bad = readImageForm(c.contentType, c.body, ic, &c.extra)
	if ic.bad == "" {
		switch {
		case ic.image == nil:
			ic.bad = "image: required but missing (a multipart file part named image)"
		case len(ic.image) > maxImage:
			ic.bad = fmt.Sprintf("image: %d bytes, larger than 5 MB", len(ic.image))
		case imageFormat(ic.image) == "":
			ic.bad = "image: neither a PNG nor a JPEG (read from its first bytes, not its name)"
		}
	}
	if ic.bad == "" {
		for _, t := range ic.types {
			if !slices.Contains(imageTypes, t) {
				ic.bad = "type: " + strconv.Quote(t) + " is not one of porn, ocr-word, ocr-lead (case-sensitive)"
				break
			}
		}
	}
	return ic
}

// readImageForm reads the parts of an image check into c, and says why the body is refused ("":
// it is not).
func readImageForm(contentType string, body []byte, c *imageCall, extra *[]store.Param) string {
	mt, ps, err := mime.ParseMediaType(strings.TrimSpace(contentType))
	if err != nil || mt != "multipart/form-data" || ps["boundary"] == "" {
		return "body: want multipart/form-data with a boundary, got Content-Type " + strconv.Quote(params.ClipCopy(contentType))
	}
	mr := multipart.NewReader(bytes.NewReader(body), ps["boundary"])
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return ""
		}
		if err != nil {
			return "body: multipart: " + err.Error()
		}
		v, err := io.ReadAll(io.LimitReader(part, maxImage+1))
		if err != nil {
			return "body: multipart: " + err.Error()
		}
		switch part.FormName() {
		case "image":
			c.image = v
			*extra = append(*extra, bodyParam("image", fmt.Sprintf("(%d bytes, %s, filename %q)", len(v), orUnknown(imageFormat(v)), part.FileName())))
		case "type":
			if t := strings.TrimSpace(string(v)); t != "" {
				c.types = strings.Split(t, ",")
			}
			*extra = append(*extra, bodyParam("type", string(v)))
		}
	}
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown format"
	}
	return s
}

// imageFormat names the format of an image from its first bytes: "png", "jpeg", or "".
func imageFormat(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return "png"
	case bytes.HasPrefix(b, []byte{0xff, 0xd8, 0xff}):
		return "jpeg"
	}
	return ""
}

// decideDetectRisk decides detectrisk, after the gateway layer and openapi.yaml's DetectRiskForm
// (40001): appkey the app's App Key, xtoken a JSON object of key and value (40001); then the
// level: a magic xtoken value level_<1-4> gives it; a client IP of content_checks.risk_ips is "1"
// (高危); any other "4" (正常).
func (s *Server) decideDetectRisk(_ context.Context, c *call, app store.App, appNow time.Time) (reply, error) {
	if key := c.get("appkey"); app.ClientID != "" && key != app.ClientID {
		return riskInvalid(c, "appkey: "+strconv.Quote(key)+" is not the App Key of app "+app.ID), nil
	}
	x, err := jsonObject(c.get("xtoken"))
	if err == nil {
		if _, ok := x["key"].(string); !ok {
			err = fmt.Errorf(`no "key" string`)
		} else if _, ok := x["value"].(string); !ok {
			err = fmt.Errorf(`no "value" string`)
		}
	}
	if err != nil {
		return riskInvalid(c, "xtoken: "+err.Error()+`; want {"key":"…","value":"…"} from swan.getSystemRiskInfo`), nil
	}
	ip := c.get("clientip")
	level, tags, d := "4", []string{}, business(smartappmock.ErrnoOK, "")
	value := x["value"].(string)
	switch {
	case s.cfg.Policy.MagicValues && len(value) == len("level_1") && strings.HasPrefix(value, "level_") && value[6] >= '1' && value[6] <= '4':
		level = value[6:]
		d.Reason, d.Rule, d.Warnings = "magic xtoken value "+value, "magic:"+value, []store.Warning{WarnMagicValue.Warning()}
	case slices.Contains(s.checksOf(app.ID).RiskIPs, ip):
		level, tags = "1", []string{"risk_ips"}
		d.Reason = "clientip " + ip + " is listed (content_checks.risk_ips): level 1"
	default:
		d.Reason = "clientip " + params.ClipCopy(ip) + " is not listed: level 4"
	}
	out := mustJSON(map[string]any{"errno": 0, "errmsg": "succ", "msg": "succ", "data": map[string]any{"level": level, "tag": tags},
		"request_id": strconv.FormatInt(appNow.UnixNano(), 10), "timestamp": appNow.Unix()})
	return c.envelopeReply(d, out), nil
}
