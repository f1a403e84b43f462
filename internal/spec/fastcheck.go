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
// it leaves to kin-openapi (ok false). A test proves that both give the same violations. Its fields
// are exported for openapi.compiled.json (compiled.go).
type sendChecker struct {
	Props    []propCheck `json:"props"`    // sorted by name, the order kin-openapi reports them in
	Required []string    `json:"required"` // in the schema's order
}

// propCheck is one compiled property.
type propCheck struct {
	Name      string    `json:"name"`
	Integer   bool      `json:"integer,omitempty"`
	EnumStr   []string  `json:"enum_str,omitempty"` // string enum values
	EnumNum   []float64 `json:"enum_num,omitempty"` // numeric enum values
	HasEnum   bool      `json:"has_enum,omitempty"`
	EnumText  string    `json:"enum_text,omitempty"` // "must be one of ..."
	MinLength int       `json:"min_length,omitempty"`
	MinText   string    `json:"min_text,omitempty"`
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
	c := &sendChecker{Required: slices.Clone(s.Required)}
	for name, ref := range s.Properties {
		if ref == nil || ref.Value == nil {
			return nil
		}
		p := ref.Value
		pc := propCheck{Name: name, Integer: p.Type.Is(openapi3.TypeInteger)}
		if !pc.Integer && !p.Type.Is(openapi3.TypeString) {
			return nil
		}
		rest := *p
		rest.Type, rest.Enum, rest.MinLength, rest.Description, rest.Extensions = nil, nil, 0, "", nil
		if !rest.IsEmpty() {
			return nil
		}
		if len(p.Enum) > 0 {
			pc.HasEnum = true
			pc.EnumText = "must be one of " + enumList(p.Enum)
			for _, v := range p.Enum {
				switch t := v.(type) {
				case string:
					pc.EnumStr = append(pc.EnumStr, t)
				case float64:
					pc.EnumNum = append(pc.EnumNum, t)
				default:
					return nil
				}
			}
		}
		if p.MinLength > 0 {
			if pc.Integer {
				return nil
			}
			pc.MinLength = int(p.MinLength)
			pc.MinText = fmt.Sprintf("minimum string length is %d", p.MinLength)
		}
		c.Props = append(c.Props, pc)
	}
	slices.SortFunc(c.Props, func(a, b propCheck) int { return strings.Compare(a.Name, b.Name) })
	return c
}

// check returns the schema violations of the parameters, and ok false when it cannot tell (the
// caller then asks kin-openapi).
func (c *sendChecker) check(get func(string) (string, bool)) (out []Violation, ok bool) {
	// One allocation for the usual few violations, made with the first.
	add := func(v Violation) {
		if out == nil {
			out = make([]Violation, 0, 4)
		}
		out = append(out, v)
	}
	for i := range c.Props {
		p := &c.Props[i]
		v, present := get(p.Name)
		if !present {
			continue
		}
		if p.Integer {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				// A string where an integer is due: kin-openapi reports the enum when there is one.
				if !p.HasEnum {
					return nil, false
				}
				add(Violation{Where: "body", Field: p.Name, Reason: p.EnumText})
				continue
			}
			if p.HasEnum && !slices.Contains(p.EnumNum, float64(n)) {
				add(Violation{Where: "body", Field: p.Name, Reason: p.EnumText})
			}
			continue
		}
		if p.HasEnum && !slices.Contains(p.EnumStr, v) {
			add(Violation{Where: "body", Field: p.Name, Reason: p.EnumText})
			continue
		}
		if p.MinLength > 0 && (len(v) < p.MinLength || utf8Count(v) < p.MinLength) {
			add(Violation{Where: "body", Field: p.Name, Reason: p.MinText})
		}
	}
	for _, name := range c.Required {
		if _, present := get(name); !present {
			add(Violation{Where: "body", Field: name, Reason: "required but missing"})
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
