package tlsca

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLeaf_VerifiesForEveryDefaultHost(t *testing.T) {
	t.Parallel()
	ca, err := New()
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.Leaf()
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"localhost", "127.0.0.1", "::1", "openapi.baidu.com"} {
		if _, err := leaf.Leaf.Verify(x509.VerifyOptions{DNSName: h, Roots: ca.CertPool()}); err != nil {
			t.Errorf("leaf does not verify for %s: %v", h, err)
		}
	}
	for _, h := range []string{"example.com", "baidu.com", "10.0.0.1"} {
		if _, err := leaf.Leaf.Verify(x509.VerifyOptions{DNSName: h, Roots: ca.CertPool()}); err == nil {
			t.Errorf("leaf verifies for %s; it must not", h)
		}
	}
	other, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := leaf.Leaf.Verify(x509.VerifyOptions{DNSName: "localhost", Roots: other.CertPool()}); err == nil {
		t.Error("leaf verifies against another CA")
	}
}

func TestParse_RoundTripsThroughFiles(t *testing.T) {
	t.Parallel()
	ca, err := New()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cf, kf := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca-key.pem")
	if err := ca.WriteFiles(cf, kf); err != nil {
		t.Fatal(err)
	}
	got, err := Load(cf, kf)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(ca.CertPEM()), string(got.CertPEM())); diff != "" {
		t.Errorf("loaded CA mismatch (-want +got):\n%s", diff)
	}
	leaf, err := got.Leaf("openapi.baidu.com")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := leaf.Leaf.Verify(x509.VerifyOptions{DNSName: "openapi.baidu.com", Roots: ca.CertPool()}); err != nil {
		t.Errorf("a leaf of the loaded CA does not verify against the original: %v", err)
	}
}

func TestParse_RejectsBadInput(t *testing.T) {
	t.Parallel()
	a, err := New()
	if err != nil {
		t.Fatal(err)
	}
	b, err := New()
	if err != nil {
		t.Fatal(err)
	}
	aKey, _ := a.KeyPEM()
	bKey, _ := b.KeyPEM()
	leaf, _ := a.Leaf()
	leafPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Certificate[0]})
	tests := []struct {
		name      string
		cert, key []byte
		want      string
	}{
		{"NotPEM", []byte("hello"), aKey, "not a PEM CERTIFICATE"},
		{"KeyNotPEM", a.CertPEM(), []byte("hello"), "key is not PEM"},
		{"KeyOfAnotherCA", a.CertPEM(), bKey, "does not match"},
		{"LeafIsNotCA", leafPEM, aKey, "not a CA"},
		{"CertGivenAsKey", a.CertPEM(), a.CertPEM(), "want PRIVATE KEY"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.cert, tc.key)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestServerConfig_StandardClientTrustsIt(t *testing.T) {
	t.Parallel()
	ca, err := New()
	if err != nil {
		t.Fatal(err)
	}
	sc, err := ca.ServerConfig()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello "+r.Proto)
	}))
	srv.TLS = sc
	srv.StartTLS()
	defer srv.Close()
	tr := &http.Transport{TLSClientConfig: ca.ClientConfig(), ForceAttemptHTTP2: true}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatalf("GET %s with only the CA trusted: %v", srv.URL, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if got := string(body); got != "hello HTTP/1.1" {
		t.Errorf("body = %q, want hello HTTP/1.1", got)
	}
	if _, err := (&http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: x509.NewCertPool()}}}).Get(srv.URL); err == nil {
		t.Error("a client that does not trust the CA connected")
	}
}
