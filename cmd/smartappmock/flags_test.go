package main

import (
	"io"
	"net"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestParseServeFlags_SafeDefaults: the bare binary listens on this machine only, and HTTPS follows
// --addr's host; flags and variables are read strictly.
func TestParseServeFlags_SafeDefaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                  string
		args                  []string
		env                   map[string]string
		wantAddr, wantTLSAddr string
		wantTLS               bool
	}{
		{name: "Bare_LoopbackOnly", wantAddr: "127.0.0.1:8080", wantTLSAddr: "127.0.0.1:8443"},
		{name: "AddrHost_FollowedByTLS", args: []string{"--addr", "0.0.0.0:9000"}, wantAddr: "0.0.0.0:9000", wantTLSAddr: "0.0.0.0:8443"},
		{name: "AnyPort_TLSAnyPortToo", args: []string{"--addr", "127.0.0.1:0"}, wantAddr: "127.0.0.1:0", wantTLSAddr: "127.0.0.1:0"},
		{name: "ImageAddrFromEnv_TLSFollows", env: map[string]string{"SMARTAPPMOCK_ADDR": "0.0.0.0:8080"}, wantAddr: "0.0.0.0:8080", wantTLSAddr: "0.0.0.0:8443"},
		{name: "ExplicitTLSAddr_Kept", args: []string{"--tls-addr", "127.0.0.2:9443"}, wantAddr: "127.0.0.1:8080", wantTLSAddr: "127.0.0.2:9443"},
		{name: "TLSAddrEnv_Kept", env: map[string]string{"SMARTAPPMOCK_TLS_ADDR": "127.0.0.2:9443"}, wantAddr: "127.0.0.1:8080", wantTLSAddr: "127.0.0.2:9443"},
		{name: "TLSEnvYes_On", env: map[string]string{"SMARTAPPMOCK_TLS": "yes"}, wantAddr: "127.0.0.1:8080", wantTLSAddr: "127.0.0.1:8443", wantTLS: true},
		{name: "TLSEnvOnUpperCase_On", env: map[string]string{"SMARTAPPMOCK_TLS": "ON"}, wantAddr: "127.0.0.1:8080", wantTLSAddr: "127.0.0.1:8443", wantTLS: true},
		{name: "TLSEnvOff_Off", env: map[string]string{"SMARTAPPMOCK_TLS": "off"}, wantAddr: "127.0.0.1:8080", wantTLSAddr: "127.0.0.1:8443"},
		{name: "TLSFlagNoOverridesEnv_Off", args: []string{"--tls=no"}, env: map[string]string{"SMARTAPPMOCK_TLS": "1"}, wantAddr: "127.0.0.1:8080", wantTLSAddr: "127.0.0.1:8443"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, err := parseServeFlags("serve", tt.args, func(k string) string { return tt.env[k] }, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			got := []any{f.addr, f.tls.addr, f.tls.enabled}
			if diff := cmp.Diff([]any{tt.wantAddr, tt.wantTLSAddr, tt.wantTLS}, got); diff != "" {
				t.Errorf("addr, tls-addr, tls mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseBool(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"1", "true", "TRUE", "yes", "on", " On "} {
		if v, err := parseBool(s); err != nil || !v {
			t.Errorf("parseBool(%q) = %v, %v; want true", s, v, err)
		}
	}
	for _, s := range []string{"0", "false", "no", "off", "OFF"} {
		if v, err := parseBool(s); err != nil || v {
			t.Errorf("parseBool(%q) = %v, %v; want false", s, v, err)
		}
	}
	for _, s := range []string{"", "maybe", "2", "t", "y", "enabled"} {
		if _, err := parseBool(s); err == nil || !strings.Contains(err.Error(), "is not a boolean") {
			t.Errorf("parseBool(%q) error = %v; want it refused", s, err)
		}
	}
}

// TestExposure: the start line says how far the listener reaches, and only a listener beyond
// loopback without an admin token gets the warning.
func TestExposure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		addr        *net.TCPAddr
		token       string
		wantWhere   string
		wantWarning bool
		wantBound   string
	}{
		{"LoopbackV4_Quiet", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}, "", "", false, "127.0.0.1:8080"},
		{"LoopbackV6_Quiet", &net.TCPAddr{IP: net.IPv6loopback, Port: 8080}, "", "", false, "[::1]:8080"},
		{"EveryInterfaceV4_Warns", &net.TCPAddr{IP: net.IPv4zero, Port: 8080}, "", "every interface; ", true, "0.0.0.0:8080"},
		{"EveryInterfaceV6_Warns", &net.TCPAddr{IP: net.IPv6unspecified, Port: 8080}, "", "every interface; ", true, "[::]:8080"},
		{"EveryInterfaceWithToken_NoWarning", &net.TCPAddr{IP: net.IPv4zero, Port: 8080}, "tk", "every interface; ", false, "0.0.0.0:8080"},
		{"LANAddress_Warns", &net.TCPAddr{IP: net.IPv4(192, 168, 1, 20), Port: 8080}, "", "reachable from the network; ", true, "192.168.1.20:8080"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			where, warning := exposure(tt.addr, tt.token)
			if where != tt.wantWhere {
				t.Errorf("where = %q, want %q", where, tt.wantWhere)
			}
			if (warning != "") != tt.wantWarning || tt.wantWarning && !strings.Contains(warning, "--admin-token") {
				t.Errorf("warning = %q, want one naming --admin-token: %v", warning, tt.wantWarning)
			}
			if got := boundAddr(tt.addr); got != tt.wantBound {
				t.Errorf("boundAddr = %q, want %q", got, tt.wantBound)
			}
		})
	}
}

// TestServe_TLSFromEnvironment: SMARTAPPMOCK_TLS=yes turns HTTPS on, next to HTTP on the same host.
func TestServe_TLSFromEnvironment(t *testing.T) {
	lines, _, stop := runServe(t, 3, map[string]string{"SMARTAPPMOCK_TLS": "yes"}, []string{"serve", "--addr", "127.0.0.1:0"})
	defer stop()
	if !strings.HasPrefix(lines[1], "smartappmock HTTPS on https://127.0.0.1:") {
		t.Errorf("second line = %q, want HTTPS on 127.0.0.1", lines[1])
	}
	if !strings.Contains(lines[0], "listening on http://127.0.0.1:") || strings.Contains(lines[0], "every interface") {
		t.Errorf("start line = %q, want loopback only", lines[0])
	}
}
