package spec

import (
	"errors"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
)

// schemaViolations turns a kin-openapi schema error (possibly a MultiError) into violations that
// name the field by its JSON pointer and give the schema's reason, never the whole schema.
func schemaViolations(where string, err error) []Violation {
	var out []Violation
	var me openapi3.MultiError
	if errors.As(err, &me) {
		for _, e := range me {
			out = append(out, schemaViolations(where, e)...)
		}
		return out
	}
	var se *openapi3.SchemaError
	if errors.As(err, &se) {
		field := strings.Join(se.JSONPointer(), "/")
		reason := se.Reason
		if se.SchemaField == "required" {
			// The reason names the property: `property "open_id" is missing`.
			if name, ok := quoted(reason); ok && field == "" {
				field = name
			}
			reason = "required but missing"
		}
		if se.SchemaField == "enum" && se.Schema != nil {
			reason = "must be one of " + enumList(se.Schema.Enum)
		}
		return []Violation{{Where: where, Field: field, Reason: reason}}
	}
	return []Violation{{Where: where, Reason: err.Error()}}
}

func quoted(s string) (string, bool) {
	i := strings.IndexByte(s, '"')
	if i < 0 {
		return "", false
	}
	j := strings.IndexByte(s[i+1:], '"')
	if j < 0 {
		return "", false
	}
	return s[i+1 : i+1+j], true
}

func enumList(vals []any) string {
	parts := make([]string, len(vals))
	for i, v := range vals {
		switch t := v.(type) {
		case string:
			parts[i] = t
		case float64:
			parts[i] = strconv.FormatFloat(t, 'f', -1, 64)
		default:
			parts[i] = "?"
		}
	}
	return strings.Join(parts, "|")
}

// requestViolations flattens openapi3filter's layered request errors.
func requestViolations(err error) []Violation {
	var out []Violation
	var me openapi3.MultiError
	if errors.As(err, &me) && len(me) > 0 {
		if _, single := err.(openapi3.MultiError); single {
			for _, e := range me {
				out = append(out, requestViolations(e)...)
			}
			return out
		}
	}
	var re *openapi3filter.RequestError
	if errors.As(err, &re) {
		where, field := "body", ""
		if re.Parameter != nil {
			where, field = re.Parameter.In, re.Parameter.Name
		}
		var inner openapi3.MultiError
		if errors.As(re.Err, &inner) {
			for _, e := range inner {
				for _, v := range schemaViolations(where, e) {
					if v.Field == "" {
						v.Field = field
					}
					out = append(out, v)
				}
			}
			return out
		}
		var se *openapi3.SchemaError
		if errors.As(re.Err, &se) {
			for _, v := range schemaViolations(where, se) {
				if v.Field == "" {
					v.Field = field
				}
				out = append(out, v)
			}
			return out
		}
		reason := re.Reason
		if re.Err != nil {
			if reason == "" {
				reason = re.Err.Error()
			} else {
				reason += ": " + re.Err.Error()
			}
		}
		return []Violation{{Where: where, Field: field, Reason: reason}}
	}
	return []Violation{{Where: "request", Reason: err.Error()}}
}

// responseViolations flattens openapi3filter's response errors.
func responseViolations(err error) []Violation {
	var out []Violation
	var me openapi3.MultiError
	if errors.As(err, &me) {
		if _, single := err.(openapi3.MultiError); single {
			for _, e := range me {
				out = append(out, responseViolations(e)...)
			}
			return out
		}
	}
	var re *openapi3filter.ResponseError
	if errors.As(err, &re) {
		where := "body"
		if strings.Contains(strings.ToLower(re.Reason), "header") {
			where = "header"
		}
		if strings.Contains(strings.ToLower(re.Reason), "status") {
			where = "status"
		}
		if re.Err != nil {
			vs := schemaViolations(where, re.Err)
			for i := range vs {
				if re.Reason != "" && !strings.Contains(vs[i].Reason, re.Reason) {
					vs[i].Reason = re.Reason + ": " + vs[i].Reason
				}
			}
			return vs
		}
		return []Violation{{Where: where, Reason: re.Reason}}
	}
	return []Violation{{Where: "response", Reason: err.Error()}}
}

// mergedForm returns a lookup over the query and the form body of a request, body first, the way
// the real service merges them.
func mergedForm(r *http.Request, body []byte) func(string) (string, bool) {
	query := r.URL.Query()
	form := url.Values{}
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "application/x-www-form-urlencoded":
		form, _ = url.ParseQuery(string(body))
	case "multipart/form-data":
		mr := multipart.NewReader(strings.NewReader(string(body)), params["boundary"])
		if f, err := mr.ReadForm(1 << 20); err == nil {
			form = f.Value
		}
	}
	return func(name string) (string, bool) {
		if v, ok := form[name]; ok && len(v) > 0 {
			return v[0], true
		}
		if v, ok := query[name]; ok && len(v) > 0 {
			return v[0], true
		}
		return "", false
	}
}
