package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v4"

	"github.com/smartappmock/smartappmock/internal/nearest"
	"github.com/smartappmock/smartappmock/internal/spec"
)

// Error is one problem in a configuration file, with where it is.
type Error struct {
	// File is the name the file was parsed under.
	File string
	// Line is the 1-based line of the problem, 0 if unknown.
	Line int
	// Path is the key path, such as apps[0].client_id, when known.
	Path string
	// Reason says what is wrong.
	Reason string
}

// Error renders "file:line: path: reason".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	b.WriteString(e.Reason)
	return b.String()
}

// Errors is every problem found in one file.
type Errors []*Error

// Error renders one problem per line.
func (es Errors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// Parse decodes and validates a configuration (YAML or JSON) strictly, fills its defaults and
// returns it. name is used in error messages. Every error is an Errors value.
func Parse(name string, data []byte) (*Config, error) {
	var c Config
	err := decodeDocument(name, data, &c, func(errs *Errors) {
		if c.Version == 0 {
			*errs = append(*errs, &Error{Path: "version", Reason: fmt.Sprintf("required: add `version: %d`", Version)})
			return
		}
		*errs = append(*errs, c.profileConflicts()...)
		c.Normalize()
		*errs = append(*errs, c.validate()...)
	})
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// ParseRules decodes a rules document, {"rules": [...]} in JSON or YAML, with the same strictness
// and rule checks as Parse. It is what the admin API uses to replace rules.
func ParseRules(name string, data []byte) ([]Rule, error) {
	var doc struct {
		Rules []Rule `yaml:"rules"`
	}
	err := decodeDocument(name, data, &doc, func(errs *Errors) {
		if doc.Rules == nil {
			doc.Rules = []Rule{}
		}
		c := Config{Rules: doc.Rules}
		c.validateRules(errs)
	})
	if err != nil {
		return nil, err
	}
	return doc.Rules, nil
}

// decodeDocument decodes data strictly into doc (unknown keys are errors; a name ending in .json
// must be strict JSON), runs validate, and gives every problem the file name and its line. Every
// problem is reported in one go: decoding errors do not hide the checks of what did decode.
func decodeDocument(name string, data []byte, doc any, validate func(*Errors)) error {
	if strings.HasSuffix(strings.ToLower(name), ".json") {
		if err := CheckJSON(name, data); err != nil {
			return err
		}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return yamlErrors(name, nil, err)
	}
	var errs Errors
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(doc); err != nil && !errors.Is(err, io.EOF) {
		var decodeErrs Errors
		if !errors.As(yamlErrors(name, &root, err), &decodeErrs) {
			return err
		}
		errs = append(errs, decodeErrs...)
	}
	var checks Errors
	validate(&checks)
	for _, e := range checks {
		e.File = name
		e.Line = lineOf(&root, e.Path)
		if !causedByDecoding(errs, e) {
			errs = append(errs, e)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Line < errs[j].Line })
	return errs
}

// causedByDecoding reports whether the check e is probably a consequence of a value that did not
// decode (a latency that did not parse is not also "missing"): a decoding error on the same line,
// or inside e's path, or a mistyped key that is probably the one reported missing.
func causedByDecoding(decodeErrs Errors, e *Error) bool {
	if e.Reason == "required" {
		key := e.Path[strings.LastIndexAny(e.Path, ".]")+1:]
		for _, x := range decodeErrs { // the key is there, mistyped: "unknown key … (did you mean …)"
			if strings.HasSuffix(x.Reason, fmt.Sprintf("(did you mean %q?)", key)) {
				return true
			}
		}
	}
	for _, x := range decodeErrs {
		if x.Line == e.Line || x.Path != "" && (x.Path == e.Path || strings.HasPrefix(x.Path, e.Path+".") || strings.HasPrefix(x.Path, e.Path+"[")) {
			return true
		}
	}
	return false
}

// CheckJSON checks that data is one JSON value and nothing else, as Parse does for a file named
// *.json: YAML, which Parse reads, would also accept a trailing comma or a comment that JSON tools
// refuse. The error is an Errors value with the line. The admin API can call it on request bodies
// before ParseRules and ParseFaults.
func CheckJSON(name string, data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	var v any
	err := dec.Decode(&v)
	if err == nil {
		_, err = dec.Token()
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case err == nil:
			return Errors{{File: name, Line: lineAt(data, dec.InputOffset()), Reason: "invalid JSON: more than one value (the file must hold one object)"}}
		}
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		reason := "invalid JSON: " + se.Error()
		upto := data[:min(int(se.Offset), len(data))]
		switch {
		case lastNonSpace(upto) == ',':
			reason += " (a trailing comma? JSON allows none)"
		case commentAt(data, int(se.Offset)):
			reason += " (JSON has no comments: write the file as .yaml to keep them)"
		}
		return Errors{{File: name, Line: lineAt(data, se.Offset), Reason: reason}}
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return Errors{{File: name, Line: lineAt(data, int64(len(data))), Reason: "invalid JSON: unexpected end of the file"}}
	}
	return Errors{{File: name, Reason: "invalid JSON: " + err.Error()}}
}

// commentAt reports whether a comment starts at or just before the offset of a syntax error.
func commentAt(data []byte, off int) bool {
	for _, i := range []int{off - 1, off} {
		if i >= 0 && i < len(data) && (data[i] == '#' || data[i] == '/') {
			return true
		}
	}
	return false
}

// lineAt is the 1-based line of a byte offset.
func lineAt(data []byte, off int64) int {
	off = min(max(off, 0), int64(len(data)))
	return bytes.Count(data[:off], []byte("\n")) + 1
}

// lastNonSpace is the last byte of b that is not white space before the final byte (the one
// the JSON decoder stopped at), or 0.
func lastNonSpace(b []byte) byte {
	if len(b) > 0 {
		b = b[:len(b)-1]
	}
	t := bytes.TrimRight(b, " \t\r\n")
	if len(t) == 0 {
		return 0
	}
	return t[len(t)-1]
}

var (
	lineRE    = regexp.MustCompile(`^line (\d+): (.*)$`)
	unknownRE = regexp.MustCompile(`field (\S+) not found in type (\S+)`)
)

// yamlErrors turns the YAML library's errors into Errors with lines, key paths (when root is
// known) and plain reasons.
func yamlErrors(name string, root *yaml.Node, err error) error {
	var out Errors
	var les *yaml.LoadErrors
	var le *yaml.LoadError
	add := func(line, column int, msg string) {
		e := &Error{File: name, Line: line, Reason: plainYAMLReason(msg)}
		if root != nil && !strings.HasPrefix(e.Reason, "unknown key") {
			e.Path = pathAt(root, line, column)
		}
		out = append(out, e)
	}
	switch {
	case errors.As(err, &les):
		for _, e := range les.Errors {
			add(e.Mark.Line, e.Mark.Column, e.Message)
		}
	case errors.As(err, &le):
		add(le.Mark.Line, le.Mark.Column, le.Message)
	default:
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		if m := lineRE.FindStringSubmatch(msg); m != nil {
			line, _ := strconv.Atoi(m[1])
			add(line, 0, m[2])
		} else {
			out = append(out, &Error{File: name, Reason: msg})
		}
	}
	return out
}

var constructRE = regexp.MustCompile("^cannot (?:construct|unmarshal) (!!\\w+)(?: `(.*)`)? into (.+)$")

// plainYAMLReason rewrites the YAML library's messages in the words of the format: no Go types.
func plainYAMLReason(msg string) string {
	if m := unknownRE.FindStringSubmatch(msg); m != nil {
		reason := fmt.Sprintf("unknown key %q", m[1])
		if s := suggest(m[1]); s != "" {
			reason += fmt.Sprintf(" (did you mean %q?)", s)
		}
		return reason
	}
	if m := constructRE.FindStringSubmatch(msg); m != nil {
		got := map[string]string{"!!seq": "a list", "!!map": "a mapping", "!!null": "nothing",
			"!!bool": "a boolean", "!!int": "a number", "!!float": "a number"}[m[1]]
		if m[2] != "" || got == "" {
			got = strconv.Quote(m[2])
		}
		return fmt.Sprintf("want %s, got %s", wantOf(m[3]), got)
	}
	return msg
}

// wantOf names what a Go type reads, for plainYAMLReason.
func wantOf(goType string) string {
	switch {
	case goType == "bool":
		return "true or false"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"):
		return "a whole number"
	case strings.HasPrefix(goType, "float"):
		return "a number"
	case goType == "string" || goType == "config.FaultKind" || goType == "config.AppPolicy" || goType == "config.TokenPolicy" || goType == "config.WindowMode" || goType == "config.Profile":
		return "a string"
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	case strings.HasPrefix(goType, "duration.Duration"): // "duration.Duration (TextUnmarshaler)"
		return "a duration such as 48h"
	}
	return "a mapping (key: value)"
}

// pathAt returns the key path (e.g. policy.window.duration) of the value at line and column
// (column 0: anywhere on the line, the innermost), or "".
func pathAt(root *yaml.Node, line, column int) string {
	at := func(n *yaml.Node) bool { return n.Line == line && (column == 0 || n.Column == column) }
	var walk func(n *yaml.Node, path string) (string, bool)
	walk = func(n *yaml.Node, path string) (string, bool) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				if p, ok := walk(c, path); ok {
					return p, true
				}
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				p := k.Value
				if path != "" {
					p = path + "." + k.Value
				}
				if column > 0 && at(v) {
					return p, true
				}
				if sub, ok := walk(v, p); ok {
					return sub, true
				}
				if column == 0 && (at(k) || at(v) && v.Kind == yaml.ScalarNode) {
					return p, true
				}
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				p := fmt.Sprintf("%s[%d]", path, i)
				if column > 0 && at(c) {
					return p, true
				}
				if sub, ok := walk(c, p); ok {
					return sub, true
				}
			}
		}
		return "", false
	}
	p, _ := walk(root, "")
	return p
}

// knownKeys are every key of the format, for near-miss suggestions.
var knownKeys = []string{
	"version", "apps", "policy", "rules", "id", "client_id", "client_secret", "capability", "open_ids",
	"foreign_open_ids", "user_messages", "tokens", "limits", "daily", "qps", "window", "mode",
	"duration", "max_replies", "magic_values", "lenient_json", "journal_cap", "name", "match",
	"answer", "times", "app", "token", "open_id", "msg_type", "content", "content_contains", "errno",
	"error_code", "faults", "kind", "sequence", "latency", "probability", "seed", "skip", "drip_interval",
	"drip_bytes", "phase", "profile", "platforms", "key", "secret", "ticket", "missing_grant_errno",
	"templates", "subscriptions", "template_id", "subscribe_id", "content_checks", "risk_words", "lead_words", "risk_ips",
}

// suggest returns the known key nearest to a mistyped one; a key known elsewhere in the format (say
// platforms' "secret" under an app) suggests no other.
func suggest(key string) string {
	others := make([]string, 0, len(knownKeys))
	for _, k := range knownKeys {
		if k != key {
			others = append(others, k)
		}
	}
	return nearest.Word(key, others)
}

// lineOf finds the line of a key path such as apps[1].client_id in a parsed document; it falls
// back to the nearest ancestor found.
func lineOf(root *yaml.Node, path string) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := n.Line
	for _, part := range splitPath(path) {
		switch {
		case n.Kind == yaml.MappingNode:
			found := false
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == part {
					line = n.Content[i].Line
					n = n.Content[i+1]
					found = true
					break
				}
			}
			if !found {
				return line
			}
		case n.Kind == yaml.SequenceNode:
			idx, err := strconv.Atoi(part)
			if err != nil || idx < 0 || idx >= len(n.Content) {
				return line
			}
			n = n.Content[idx]
			line = n.Line
		default:
			return line
		}
	}
	return line
}

func splitPath(path string) []string {
	path = strings.NewReplacer("[", ".", "]", "").Replace(path)
	var out []string
	for _, p := range strings.Split(path, ".") {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// profileConflicts reports the policy fields a file sets against its own profile: under
// ProfileBaidu a lenient value written next to it would be silently overridden.
func (c *Config) profileConflicts() Errors {
	if c.Policy.Profile != ProfileBaidu {
		return nil
	}
	var errs Errors
	add := func(path, value string) {
		errs = append(errs, &Error{Path: path, Reason: fmt.Sprintf("is %s, but policy.profile baidu sets %s: remove one of them", value, strings.TrimPrefix(settingOf(path), path+": "))})
	}
	if c.Policy.Apps == AppsSandbox {
		add("policy.apps", string(AppsSandbox))
	}
	if c.Policy.Tokens == TokensSandbox {
		add("policy.tokens", string(TokensSandbox))
	}
	if c.Policy.Window.Mode == WindowOpenOnFirstSend {
		add("policy.window.mode", string(WindowOpenOnFirstSend))
	}
	if c.Policy.MagicValues {
		add("policy.magic_values", "true")
	}
	if c.Policy.OpenIDs == OpenIDsAny {
		add("policy.open_ids", string(OpenIDsAny))
	}
	if c.Policy.Templates == TemplatesAny {
		add("policy.templates", string(TemplatesAny))
	}
	return errs
}

// settingOf returns the line of ProfileBaidu.Settings that sets path.
func settingOf(path string) string {
	for _, s := range ProfileBaidu.Settings() {
		if strings.HasPrefix(s, path+": ") {
			return s
		}
	}
	return path
}

// validate checks values the decoder cannot: enums, ranges, duplicates, references.
func (c *Config) validate() Errors {
	var errs Errors
	add := func(path, format string, args ...any) {
		errs = append(errs, &Error{Path: path, Reason: fmt.Sprintf(format, args...)})
	}
	if c.Version != Version {
		add("version", "unsupported version %d (this build reads version %d)", c.Version, Version)
	}
	if !c.Policy.Profile.Known() {
		add("policy.profile", "must be %q or %q, got %q", ProfileSandbox, ProfileBaidu, c.Policy.Profile)
	}
	if n := c.Policy.MissingGrantErrno; n <= 0 {
		add("policy.missing_grant_errno", "must be a business errno other than 0, got %d", n)
	} else {
		checkCatalogue("policy", Answer{Errno: &n}, func(_, format string, args ...any) {
			add("policy.missing_grant_errno", "%s", strings.TrimPrefix(fmt.Sprintf(format, args...), fmt.Sprintf("%d ", n)))
		})
	}
	platforms := map[string]int{}
	for i, pl := range c.Platforms {
		p := fmt.Sprintf("platforms[%d]", i)
		if pl.Key == "" {
			add(p+".key", "required")
		} else if j, dup := platforms[pl.Key]; dup {
			add(p+".key", "duplicate platform key %q (also platforms[%d])", pl.Key, j)
		} else {
			platforms[pl.Key] = i
		}
		if pl.Secret == "" {
			add(p+".secret", "required")
		}
		if pl.Ticket == "" {
			add(p+".ticket", "required (the ticket the platform gives /public/2.0/smartapp/auth/tp/token)")
		}
		if pl.Push != nil {
			errs = append(errs, pl.Push.Check(p+".push", pl.Key)...)
		}
	}
	switch c.Policy.Apps {
	case AppsConfigured, AppsSandbox:
	default:
		add("policy.apps", "must be %q or %q, got %q", AppsConfigured, AppsSandbox, c.Policy.Apps)
	}
	switch c.Policy.Tokens {
	case TokensIssued, TokensSandbox:
	default:
		add("policy.tokens", "must be %q or %q, got %q", TokensIssued, TokensSandbox, c.Policy.Tokens)
	}
	switch c.Policy.Templates {
	case TemplatesListed, TemplatesAny:
	default:
		add("policy.templates", "must be %q or %q, got %q", TemplatesListed, TemplatesAny, c.Policy.Templates)
	}
	switch c.Policy.Window.Mode {
	case WindowRequireUserMessage, WindowOpenOnFirstSend:
	default:
		add("policy.window.mode", "must be %q or %q, got %q", WindowRequireUserMessage, WindowOpenOnFirstSend, c.Policy.Window.Mode)
	}
	if c.Policy.Window.Duration < 0 {
		add("policy.window.duration", "must be positive")
	}
	if c.Policy.Window.MaxReplies < 0 {
		add("policy.window.max_replies", "must be positive")
	}
	if c.Policy.JournalCap < 0 || c.Policy.JournalCap > 1_000_000 {
		add("policy.journal_cap", "must be between 1 and 1000000")
	}
	checkLimits := func(path string, l Limits) {
		if l.Daily < 0 {
			add(path+".daily", "must not be negative")
		}
		if l.QPS < 0 {
			add(path+".qps", "must not be negative")
		}
	}
	checkLimits("policy.limits", c.Policy.Limits)
	ids, clients, tokens := map[string]int{}, map[string]int{}, map[string]int{}
	for i, a := range c.Apps {
		p := fmt.Sprintf("apps[%d]", i)
		if a.ClientID == "" {
			add(p+".client_id", "required")
		}
		if a.ClientSecret == "" {
			add(p+".client_secret", "required")
		}
		if strings.ContainsAny(a.ID, " /?#%") {
			add(p+".id", "must not contain spaces, '/', '?', '#' or '%%'")
		}
		if j, dup := ids[a.ID]; dup && a.ID != "" {
			add(p+".id", "duplicate app id %q (also apps[%d])", a.ID, j)
		}
		ids[a.ID] = i
		if j, dup := clients[a.ClientID]; dup && a.ClientID != "" {
			add(p+".client_id", "duplicate client_id %q (also apps[%d])", a.ClientID, j)
		}
		clients[a.ClientID] = i
		for k, t := range a.Tokens {
			if t == "" {
				add(fmt.Sprintf("%s.tokens[%d]", p, k), "must not be empty")
			}
			if j, dup := tokens[t]; dup {
				add(fmt.Sprintf("%s.tokens[%d]", p, k), "token also belongs to apps[%d]", j)
			}
			tokens[t] = i
		}
		checkLimits(p+".limits", a.Limits)
		validateFaults(p+".faults", a.ID, a.Faults, &errs)
		if a.Push != nil {
			errs = append(errs, a.Push.Check(p+".push", a.ClientID)...)
		}
		validateMessages(p, a, c.Policy.Templates, add)
		granted := map[string]bool{}
		for k, key := range a.Platforms {
			pk := fmt.Sprintf("%s.platforms[%d]", p, k)
			switch _, known := platforms[key]; {
			case !known:
				keys := make([]string, len(c.Platforms))
				for j, pl := range c.Platforms {
					keys[j] = strconv.Quote(pl.Key)
				}
				list := "none is configured"
				if len(keys) > 0 {
					list = "configured: " + strings.Join(keys, ", ")
				}
				add(pk, "unknown platform %q (%s)", key, list)
			case granted[key]:
				add(pk, "platform %q is listed twice", key)
			}
			granted[key] = true
		}
	}
	validateChecks("content_checks", c.ContentChecks, add)
	c.validateRules(&errs)
	validateFaults("faults", "", c.Faults, &errs)
	errs = append(errs, c.validateUsers()...)
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Path < errs[j].Path })
	return errs
}

func (c *Config) validateRules(errs *Errors) {
	add := func(path, format string, args ...any) {
		*errs = append(*errs, &Error{Path: path, Reason: fmt.Sprintf(format, args...)})
	}
	for i, r := range c.Rules {
		p := fmt.Sprintf("rules[%d]", i)
		switch {
		case r.Answer.Errno == nil && r.Answer.ErrorCode == nil:
			add(p+".answer", "needs errno (business layer) or error_code (gateway layer)")
		case r.Answer.Errno != nil && r.Answer.ErrorCode != nil:
			add(p+".answer", "takes errno or error_code, not both")
		case r.Answer.Errno != nil && *r.Answer.Errno < 0:
			add(p+".answer.errno", "must not be negative")
		case r.Answer.ErrorCode != nil && *r.Answer.ErrorCode <= 0:
			add(p+".answer.error_code", "must be positive")
		}
		if r.Times < 0 {
			add(p+".times", "must not be negative")
		}
		checkCatalogue(p, r.Answer, add)
		if m := r.Match.MsgType; m != "" && m != "text" && m != "image" {
			add(p+".match.msg_type", "must be text or image, got %q", m)
		}
	}
}

// catalogue is the code catalogue of the embedded openapi.yaml, loaded once.
var catalogue = sync.OnceValues(func() (spec.Catalogue, error) {
	s, err := spec.Embedded()
	if err != nil {
		return spec.Catalogue{}, err
	}
	return s.Catalogue(), nil
})

// checkCatalogue refuses a rule answer whose code openapi.yaml does not document, and lists the
// codes it does: the fake answers only documented codes.
func checkCatalogue(path string, a Answer, add func(path, format string, args ...any)) {
	cat, err := catalogue()
	if err != nil {
		add(path+".answer", "cannot check the code: %v", err)
		return
	}
	if a.Errno != nil && *a.Errno >= 0 {
		if _, ok := cat.BusinessMessage(*a.Errno); !ok {
			codes := make([]string, len(cat.Business))
			for i, b := range cat.Business {
				codes[i] = strconv.Itoa(b.Errno)
			}
			add(path+".answer.errno", "%d is not in the catalogue of openapi.yaml (errno is one of %s)", *a.Errno, strings.Join(codes, ", "))
		}
	}
	if a.ErrorCode != nil && *a.ErrorCode > 0 {
		if _, ok := cat.GatewayMessage(*a.ErrorCode); !ok {
			codes := make([]string, len(cat.Gateway))
			for i, g := range cat.Gateway {
				codes[i] = strconv.Itoa(g.Code)
			}
			add(path+".answer.error_code", "%d is not in the catalogue of openapi.yaml (error_code is one of %s)", *a.ErrorCode, strings.Join(codes, ", "))
		}
	}
}
