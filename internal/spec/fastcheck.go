package spec

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// sendChecker is the send schema compiled at load time into a plain check of the keywords the
// schema uses (required, type string or integer, enum, minLength). It answers the common cases,
// valid or not, without building a value map or an error tree; anything it was not compiled for
// it leaves to kin-openapi (ok false). A test proves that both give the same violations.
type sendChecker struct {
	props    []propCheck // sorted by name, the order kin-openapi reports them in
	required []string    // in the schema's order
}

// propCheck is one compiled property.
type propCheck struct {
	name      string
	integer   bool
	enumStr   []string  // string enum values
	enumNum   []float64 // numeric enum values
	hasEnum   bool
	enumText  string // "must be one of ..."
	minLength int
	minText   string
}

// compileSendChecker compiles the send schema, or returns nil when the schema uses a keyword the
// fast checker does not model (then every check goes through kin-openapi).
func compileSendChecker(s *openapi3.Schema) *sendChecker {
	top := *s
	top.Type, top.Required, top.Properties, top.Extensions = nil, nil, nil, nil
	top.AdditionalProperties = openapi3.AdditionalProperties{}
	if !s.Type.Is(openapi3.TypeObject) || !top.IsEmpty() || (s.AdditionalProperties.Has != nil && !*s.AdditionalProperties.Has) || s.AdditionalProperties.Schema != nil {
		return nil
	}
	c := &sendChecker{required: slices.Clone(s.Required)}
	for name, ref := range s.Properties {
		if ref == nil || ref.Value == nil {
			return nil
		}
		p := ref.Value
		pc := propCheck{name: name, integer: p.Type.Is(openapi3.TypeInteger)}
		if !pc.integer && !p.Type.Is(openapi3.TypeString) {
			return nil
		}
		rest := *p
		rest.Type, rest.Enum, rest.MinLength, rest.Description, rest.Extensions = nil, nil, 0, "", nil
		if !rest.IsEmpty() {
			return nil
		}
		if len(p.Enum) > 0 {
			pc.hasEnum = true
			pc.enumText = "must be one of " + enumList(p.Enum)
			for _, v := range p.Enum {
				switch t := v.(type) {
				case string:
					pc.enumStr = append(pc.enumStr, t)
				case float64:
					pc.enumNum = append(pc.enumNum, t)
				default:
					return nil
				}
			}
		}
		if p.MinLength > 0 {
			if pc.integer {
				return nil
			}
			pc.minLength = int(p.MinLength)
			pc.minText = fmt.Sprintf("minimum string length is %d", p.MinLength)
		}
		c.props = append(c.props, pc)
	}
	slices.SortFunc(c.props, func(a, b propCheck) int { return strings.Compare(a.name, b.name) })
	return c
}

// check returns the schema violations of the parameters, and ok false when it cannot tell (the
// caller then asks kin-openapi).
func (c *sendChecker) check(get func(string) (string, bool)) (out []Violation, ok bool) {
	for i := range c.props {
		p := &c.props[i]
		v, present := get(p.name)
		if !present {
			continue
		}
		if p.integer {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				// A string where an integer is due: kin-openapi reports the enum when there is one.
				if !p.hasEnum {
					return nil, false
				}
				out = append(out, Violation{Where: "body", Field: p.name, Reason: p.enumText})
				continue
			}
			if p.hasEnum && !slices.Contains(p.enumNum, float64(n)) {
				out = append(out, Violation{Where: "body", Field: p.name, Reason: p.enumText})
			}
			continue
		}
		if p.hasEnum && !slices.Contains(p.enumStr, v) {
			out = append(out, Violation{Where: "body", Field: p.name, Reason: p.enumText})
			continue
		}
		if p.minLength > 0 && (len(v) < p.minLength || utf8Count(v) < p.minLength) {
			out = append(out, Violation{Where: "body", Field: p.name, Reason: p.minText})
		}
	}
	for _, name := range c.required {
		if _, present := get(name); !present {
			out = append(out, Violation{Where: "body", Field: name, Reason: "required but missing"})
		}
	}
	return out, true
}

// utf8Count counts runes the way kin-openapi measures string length.
func utf8Count(s string) int {
	n := 0
	for range s {
		n++
	}
	return n
}
