package tlsca

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Reporting(m).Run()) }

func TestNew_NameConstrainedToTheFakesHosts(t *testing.T) {
	t.Parallel()
	ca, err := New("smartappmock.internal", "10.1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	c := ca.Cert
	if diff := cmp.Diff([]string{"openapi.baidu.com", "spapi.baidu.com", "localhost", "smartappmock.internal"}, c.PermittedDNSDomains); diff != "" {
		t.Errorf("permitted DNS domains mismatch (-want +got):\n%s", diff)
	}
	var ips []string
	for _, n := range c.PermittedIPRanges {
		ips = append(ips, n.String())
	}
	if diff := cmp.Diff([]string{"127.0.0.0/8", "::1/128", "10.1.2.3/32"}, ips); diff != "" {
		t.Errorf("permitted IP ranges mismatch (-want +got):\n%s", diff)
	}
	if !c.PermittedDNSDomainsCritical {
		t.Error("the name constraints are not critical")
	}
	if got := c.NotAfter.Sub(c.NotBefore); got > CAValidity+2*time.Hour {
		t.Errorf("the CA is valid for %s, want at most %s", got, CAValidity)
	}
	leaf, err := ca.Leaf(append(DefaultHosts(), "spapi.baidu.com", "smartappmock.internal", "10.1.2.3", "127.0.0.2")...)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"localhost", "127.0.0.1", "::1", "openapi.baidu.com", "spapi.baidu.com", "smartappmock.internal", "10.1.2.3", "127.0.0.2"} {
		if _, err := leaf.Leaf.Verify(x509.VerifyOptions{DNSName: h, Roots: ca.CertPool()}); err != nil {
			t.Errorf("the leaf does not verify for %s: %v", h, err)
		}
	}
}

// forgeLeaf signs a leaf for names with the CA's key directly, as anyone holding the key could,
// bypassing Leaf's own check.
func forgeLeaf(t *testing.T, ca *CA, names ...string) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(42),
		Subject:      pkix.Name{CommonName: names[0]},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return leaf
}

func TestNew_LeafForAnotherNameFailsVerification(t *testing.T) {
	t.Parallel()
	ca, err := New()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, host string }{
		{"OtherDomain", "www.example.com"},
		{"BaiduItself", "baidu.com"},
		{"SiblingOfOpenAPI", "pan.baidu.com"},
		{"PrivateAddress", "10.0.0.1"},
		{"PublicAddress", "8.8.8.8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leaf := forgeLeaf(t, ca, tt.host)
			_, err := leaf.Verify(x509.VerifyOptions{DNSName: tt.host, Roots: ca.CertPool()})
			var inv x509.CertificateInvalidError
			if !errors.As(err, &inv) || inv.Reason != x509.CANotAuthorizedForThisName {
				t.Errorf("a leaf for %s verified with %v, want CANotAuthorizedForThisName", tt.host, err)
			}
			if _, err := ca.Leaf(tt.host); err == nil || !strings.Contains(err.Error(), "may not sign for") {
				t.Errorf("Leaf(%q) = %v, want a refusal", tt.host, err)
			}
		})
	}
	// The same forging for a permitted name verifies: the refusal above is the constraint's.
	if _, err := forgeLeaf(t, ca, "openapi.baidu.com").Verify(x509.VerifyOptions{DNSName: "openapi.baidu.com", Roots: ca.CertPool()}); err != nil {
		t.Errorf("a leaf for openapi.baidu.com: %v", err)
	}
}

func TestNew_RefusesAnExtraNameThatIsNoHost(t *testing.T) {
	t.Parallel()
	for _, h := range []string{"", "bad name", "-x.example", "a..b", "x_y.example"} {
		if _, err := New(h); err == nil || !strings.Contains(err.Error(), "neither a DNS name") {
			t.Errorf("New(%q) = %v, want a refusal", h, err)
		}
	}
}

func TestPermits_CAWithoutConstraintsPermitsAll(t *testing.T) {
	t.Parallel()
	ca, err := New()
	if err != nil {
		t.Fatal(err)
	}
	legacy := &CA{Cert: &x509.Certificate{}, Key: ca.Key}
	for _, h := range []string{"example.com", "8.8.8.8"} {
		if !legacy.Permits(h) {
			t.Errorf("a CA without constraints does not permit %s", h)
		}
	}
	if diff := cmp.Diff([]string{"any host"}, legacy.PermittedNames()); diff != "" {
		t.Errorf("PermittedNames mismatch (-want +got):\n%s", diff)
	}
}

// TestNew_OpenSSLShowsTheNameConstraints reads the CA certificate with `openssl x509 -text`, as a
// person checking what they are asked to trust would.
func TestNew_OpenSSLShowsTheNameConstraints(t *testing.T) {
	t.Parallel()
	openssl := testenv.Require(t, "openssl", "apt-get install openssl")
	ca, err := New()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(file, ca.CertPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(openssl, "x509", "-in", file, "-noout", "-text").CombinedOutput()
	if err != nil {
		t.Fatalf("openssl: %v\n%s", err, out)
	}
	text := string(out)
	for _, want := range []string{
		"X509v3 Name Constraints: critical",
		"Permitted:",
		"DNS:openapi.baidu.com",
		"DNS:spapi.baidu.com",
		"DNS:localhost",
		"IP:127.0.0.0/255.0.0.0",
		"IP:0:0:0:0:0:0:0:1/FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("openssl x509 -text does not show %q:\n%s", want, text)
		}
	}
	// And openssl verifies a leaf for the fake's hosts against the CA, and refuses one for another.
	dir := t.TempDir()
	for _, tc := range []struct {
		host string
		ok   bool
	}{{"openapi.baidu.com", true}, {"www.example.com", false}} {
		leaf := forgeLeaf(t, ca, tc.host)
		lf := filepath.Join(dir, tc.host+".pem")
		if err := os.WriteFile(lf, pemCert(leaf.Raw), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(openssl, "verify", "-CAfile", file, lf).CombinedOutput()
		if (err == nil) != tc.ok {
			t.Errorf("openssl verify of a leaf for %s: %v, want ok=%v\n%s", tc.host, err, tc.ok, out)
		}
		if !tc.ok && !strings.Contains(string(out), "permitted subtree violation") {
			t.Errorf("openssl verify of a leaf for %s failed for another reason:\n%s", tc.host, out)
		}
	}
}

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
