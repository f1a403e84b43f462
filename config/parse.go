package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v4"
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

// decodeDocument decodes data strictly into doc (unknown keys are errors), runs validate, and
// gives every problem the file name and its line.
func decodeDocument(name string, data []byte, doc any, validate func(*Errors)) error {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return yamlErrors(name, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(doc); err != nil && !errors.Is(err, io.EOF) {
		return yamlErrors(name, err)
	}
	var errs Errors
	validate(&errs)
	if len(errs) == 0 {
		return nil
	}
	for _, e := range errs {
		e.File = name
		e.Line = lineOf(&root, e.Path)
	}
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Line < errs[j].Line })
	return errs
}

var (
	lineRE    = regexp.MustCompile(`^line (\d+): (.*)$`)
	unknownRE = regexp.MustCompile(`field (\S+) not found in type (\S+)`)
)

// yamlErrors turns the YAML library's errors into Errors with lines and plain reasons.
func yamlErrors(name string, err error) error {
	var out Errors
	var les *yaml.LoadErrors
	var le *yaml.LoadError
	switch {
	case errors.As(err, &les):
		for _, e := range les.Errors {
			out = append(out, &Error{File: name, Line: e.Mark.Line, Reason: plainYAMLReason(e.Message)})
		}
	case errors.As(err, &le):
		out = append(out, &Error{File: name, Line: le.Mark.Line, Reason: plainYAMLReason(le.Message)})
	default:
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		e := &Error{File: name, Reason: msg}
		if m := lineRE.FindStringSubmatch(msg); m != nil {
			e.Line, _ = strconv.Atoi(m[1])
			e.Reason = plainYAMLReason(m[2])
		}
		out = append(out, e)
	}
	return out
}

func plainYAMLReason(msg string) string {
	if m := unknownRE.FindStringSubmatch(msg); m != nil {
		reason := fmt.Sprintf("unknown key %q", m[1])
		if s := suggest(m[1]); s != "" {
			reason += fmt.Sprintf(" (did you mean %q?)", s)
		}
		return reason
	}
	return msg
}

// knownKeys are every key of the format, for near-miss suggestions.
var knownKeys = []string{
	"version", "apps", "policy", "rules", "id", "client_id", "client_secret", "capability", "open_ids",
	"foreign_open_ids", "user_messages", "tokens", "limits", "daily", "qps", "window", "mode",
	"duration", "max_replies", "magic_values", "lenient_json", "journal_cap", "name", "match",
	"answer", "times", "app", "token", "open_id", "msg_type", "content", "content_contains", "errno",
	"error_code", "faults", "kind", "sequence", "latency", "probability", "seed", "skip", "drip_interval",
	"drip_bytes",
}

func suggest(key string) string {
	best, bestD := "", 3
	for _, k := range knownKeys {
		if d := distance(key, k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
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

// validate checks values the decoder cannot: enums, ranges, duplicates, references.
func (c *Config) validate() Errors {
	var errs Errors
	add := func(path, format string, args ...any) {
		errs = append(errs, &Error{Path: path, Reason: fmt.Sprintf(format, args...)})
	}
	if c.Version != Version {
		add("version", "unsupported version %d (this build reads version %d)", c.Version, Version)
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
	}
	c.validateRules(&errs)
	validateFaults("faults", "", c.Faults, &errs)
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
		if m := r.Match.MsgType; m != "" && m != "text" && m != "image" {
			add(p+".match.msg_type", "must be text or image, got %q", m)
		}
	}
}
