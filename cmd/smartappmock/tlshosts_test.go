package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServe_TLSHosts_CertificateAndCAAcceptTheExtraName serves HTTPS with --tls-hosts: a client
// that trusts the written CA reaches the listener under the extra name, and under a name that is
// neither listed nor the fake's it does not.
func TestServe_TLSHosts_CertificateAndCAAcceptTheExtraName(t *testing.T) {
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	lines, _, stop := runServe(t, 3, nil, []string{"serve", "--addr", "127.0.0.1:0", "--tls",
		"--tls-hosts", "smartappmock.internal, 127.0.0.5", "--write-ca", caFile})
	defer stop()
	addr := findAddr(t, lines, `HTTPS on https://(\S+)`)
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	for _, tc := range []struct {
		name string
		ok   bool
	}{{"smartappmock.internal", true}, {"openapi.baidu.com", true}, {"other.internal", false}} {
		conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: tc.name})
		if err == nil {
			conn.Close()
		}
		if (err == nil) != tc.ok {
			t.Errorf("TLS to %s as %s: %v, want ok=%v", addr, tc.name, err, tc.ok)
		}
	}
}

// TestServe_TLSHosts_LoadedCAMustPermitThem: a CA made by "ca new" without the extra name is
// refused at start with the command that makes one that permits it.
func TestServe_TLSHosts_LoadedCAMustPermitThem(t *testing.T) {
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca-key.pem")
	env := func(string) string { return "" }
	if err := run(context.Background(), []string{"ca", "new", "--cert", cert, "--key", key, "--hosts", "smartappmock.internal"}, env, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	err := run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--ca-cert", cert, "--ca-key", key, "--tls-hosts", "other.internal"}, env, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), `may not sign for "other.internal"`) || !strings.Contains(err.Error(), "smartappmock ca new --hosts other.internal") {
		t.Fatalf("serve with a CA that does not permit the name: %v", err)
	}
	lines, stop := startServeLines(t, 2, "--addr", "127.0.0.1:0", "--ca-cert", cert, "--ca-key", key, "--tls-hosts", "api.smartappmock.internal")
	if len(lines) != 2 {
		t.Errorf("serve printed %q", lines)
	}
	if err := stop(); err != nil {
		t.Errorf("serve returned %v", err)
	}
}
