package spec

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

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

// form is the form schema an operation names in x-smartapp-form: its name, and its compiled check
// (nil: the schema uses a keyword the compiled check does not model, and kin-openapi checks it).
type form struct {
	Schema string       `json:"schema"`
	Check  *sendChecker `json:"check,omitempty"`
}

// compileForms compiles the form schema each operation names in x-smartapp-form (its merged query
// and body parameters are checked against it), by operation id.
func compileForms(doc *openapi3.T) (map[string]form, error) {
	out := map[string]form{}
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
			out[op.OperationID] = form{Schema: name, Check: compileSendChecker(ref.Value)}
		}
	}
	return out, nil
}

// CheckForm checks the merged query and body parameters of a request to operation opID (query and
// body already merged by the caller) against the form schema its x-smartapp-form names: properties
// typed integer are read as integers, the others as strings, and a property not sent is absent.
// get returns a parameter's value and whether it was sent. It returns nil when they are valid, or
// when the operation names no form.
//
// As for the send (CheckSend), the schema is compiled at load time into a plain check, and
// kin-openapi's VisitJSON, the reference, answers what the compiled check was not built for (a
// non-integer in an integer field without an enum, a keyword it does not model).
func (s *Spec) CheckForm(opID string, get func(name string) (string, bool)) []Violation {
	f, ok := s.c.Forms[opID]
	if !ok {
		return nil
	}
	return s.checkForm(f, get)
}

// checkForm is the one check of merged parameters against a form schema (CheckForm, CheckSend).
func (s *Spec) checkForm(f form, get func(name string) (string, bool)) []Violation {
	if f.Check != nil {
		if out, ok := f.Check.check(get); ok {
			return out
		}
	}
	return s.checkFormKin(f.Schema, get)
}

// checkFormKin is CheckForm by kin-openapi's VisitJSON alone, on the component schema named.
func (s *Spec) checkFormKin(schema string, get func(name string) (string, bool)) []Violation {
	sc, err := s.schema(schema)
	if err != nil {
		return []Violation{{Where: "request", Reason: err.Error()}}
	}
	obj := map[string]any{}
	for name, prop := range sc.Properties {
		v, ok := get(name)
		if !ok {
			continue
		}
		if prop.Value != nil && prop.Value.Type.Is(openapi3.TypeInteger) {
			if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
				obj[name] = n
				continue
			}
		}
		obj[name] = v
	}
	return s.visit(sc, obj)
}
