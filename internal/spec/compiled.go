package spec

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"sync"

	"github.com/smartappmock/smartappmock"
)

// compiled is what serving needs of openapi.yaml: the operation of each path and method, the send
// checks and the code catalogue. For the build's own openapi.yaml it is read from
// openapi.compiled.json, so that the fake answers its first request without kin-openapi loading the
// document (about 5 ms of a start-up that bench/startup measures): kin-openapi loads it when a
// check first needs it (CheckRequest, CheckResponse, Document, or a send the compiled check cannot
// judge).
type compiled struct {
	// Source is the SHA-256 of the openapi.yaml it was compiled from; Embedded ignores a file
	// compiled from another one.
	Source string                       `json:"source"`
	Routes map[string]map[string]string `json:"routes"` // path -> method -> operation id, paths without templates
	// Templated says some path has a template: FindOperation asks the router for what Routes lacks.
	Templated bool         `json:"templated,omitempty"`
	Codes     Catalogue    `json:"codes"`
	When      []condition  `json:"when,omitempty"`
	Send      *sendChecker `json:"send,omitempty"` // nil: every send check goes through kin-openapi
	// Forms are the form schemas of the operations that name one (x-smartapp-form), by id.
	Forms map[string]form `json:"forms,omitempty"`
}

// compiledJSON is openapi.yaml compiled (compiled, as JSON). TestCompiledJSON_UpToDate fails when
// it is stale; `go test ./internal/spec -run TestCompiledJSON -update` writes it again.
//
//go:embed openapi.compiled.json
var compiledJSON []byte

// sourceHash identifies a document for compiled.Source.
func sourceHash(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// fromCompiled returns the Spec of data from its compiled form when that was compiled from data,
// with kin-openapi's load deferred to first use; otherwise (openapi.yaml changed and the file was
// not written again) it loads data now, as Load does.
func fromCompiled(data, compiledData []byte) (*Spec, error) {
	full := sync.OnceValues(func() (*document, error) { return loadDocument(data) })
	var c compiled
	if err := json.Unmarshal(compiledData, &c); err == nil && c.Source == sourceHash(data) {
		return newSpec(c, full), nil
	}
	d, err := full()
	if err != nil {
		return nil, err
	}
	if c, err = compile(d, data); err != nil {
		return nil, err
	}
	return newSpec(c, full), nil
}

// embedded is the build's openapi.yaml, once per process.
var embedded = sync.OnceValues(func() (*Spec, error) { return fromCompiled(smartappmock.OpenAPI(), compiledJSON) })

// Embedded returns the build's own openapi.yaml, loaded and checked once per process. A Spec is
// read-only, so every server and the config parser share it. Serving starts from the compiled form
// (openapi.compiled.json); kin-openapi loads the document on first use.
func Embedded() (*Spec, error) { return embedded() }
