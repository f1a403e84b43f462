package spec

import (
	"fmt"
	"sort"

	"github.com/getkin/kin-openapi/openapi3"
)

// Operation ids of the login, UnionID and third-party lookup endpoints.
const (
	OpLoginV1Query  = "jscode2SessionKeyByQuery"
	OpLoginV1Form   = "jscode2SessionKeyByForm"
	OpLoginV2Query  = "getSessionKeyByQuery"
	OpLoginV2Form   = "getSessionKeyByForm"
	OpTPLogin       = "getTPSessionKey"
	OpUnionID       = "getUnionID"
	OpTPUnionID     = "getTPUnionID"
	OpTPUnionIDPost = "getTPUnionIDByPost"
	OpRetrieveCode  = "retrieveAuthCode"
	OpAppInfo       = "getAppInfo"
	formExt         = "x-smartapp-form"
)

// compileForms compiles the form schema each operation names in x-smartapp-form (its merged query
// and body parameters are checked against it), by operation id.
func compileForms(doc *openapi3.T) (map[string]*sendChecker, error) {
	out := map[string]*sendChecker{}
	var paths []string
	for path := range doc.Paths.Map() {
		paths = append(paths, path)
	}
	sort.Strings(paths)
	for _, path := range paths {
		for _, op := range doc.Paths.Value(path).Operations() {
			name, ok := op.Extensions[formExt].(string)
			if !ok {
				continue
			}
			ref, ok := doc.Components.Schemas[name]
			if !ok || ref.Value == nil {
				return nil, fmt.Errorf("openapi: %s %s: schema %s is missing", op.OperationID, formExt, name)
			}
			c := compileSendChecker(ref.Value)
			if c == nil {
				return nil, fmt.Errorf("openapi: schema %s uses a keyword the form check does not model (type string or integer, enum, minLength, required)", name)
			}
			out[op.OperationID] = c
		}
	}
	return out, nil
}

// CheckForm checks the merged query and body parameters of a request to operation opID against the
// form schema its x-smartapp-form names (get returns a parameter's value and whether it was sent).
// It returns nil when they are valid, or when the operation names no form.
func (s *Spec) CheckForm(opID string, get func(name string) (string, bool)) []Violation {
	c := s.c.Forms[opID]
	if c == nil {
		return nil
	}
	out, _ := c.check(get)
	return out
}
