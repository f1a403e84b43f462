package pushtarget

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fakeResolver answers names from a map; any other name does not resolve.
type fakeResolver map[string][]string

func (f fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	addrs, ok := f[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	var out []netip.Addr
	for _, a := range addrs {
		out = append(out, netip.MustParseAddr(a))
	}
	return out, nil
}

var names = fakeResolver{
	"bot":            {"172.18.0.5"},          // a Compose service
	"bot.svc":        {"10.244.1.7"},          // a Kubernetes service
	"example.com":    {"93.184.216.34"},       // the internet
	"split.example":  {"10.0.0.1", "8.8.8.8"}, // one address outside: refused whole
	"rebind.example": {"127.0.0.1"},
}

func TestCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, allow, url string
		want             string // "" : allowed; else part of the error
	}{
		{"Loopback_Default", DefaultList, "http://127.0.0.1:8081/bot", ""},
		{"LoopbackV6_Default", DefaultList, "http://[::1]:8081/bot", ""},
		{"Localhost_DefaultByName", DefaultList, "http://localhost:8081/", ""},
		{"ComposeService_ResolvesPrivate", DefaultList, "http://bot:8081/", ""},
		{"KubernetesService_ResolvesPrivate", DefaultList, "http://bot.svc/", ""},
		{"ULA_Default", DefaultList, "http://[fd00::5]/", ""},
		{"PublicName_Refused", DefaultList, "https://example.com/hook", `host "example.com" resolves to 93.184.216.34, outside the list of allowed push targets (loopback,private)`},
		{"PublicAddress_Refused", DefaultList, "http://8.8.8.8/", `host "8.8.8.8" is outside the list`},
		{"LinkLocalMetadata_Refused", DefaultList, "http://169.254.169.254/", `host "169.254.169.254" is outside the list`},
		{"MappedV4Public_Refused", DefaultList, "http://[::ffff:8.8.8.8]/", `is outside the list`},
		{"OneAddressOutside_RefusedWhole", DefaultList, "http://split.example/", `resolves to 10.0.0.1, 8.8.8.8, outside`},
		{"Unresolvable_Refused", DefaultList, "http://nowhere.invalid/", `host "nowhere.invalid" is not in the list and does not resolve`},
		{"ListedName_NotResolved", "loopback,bot.example.org", "http://bot.example.org/", ""},
		{"ListedNameCaseAndDot", "Bot.Example.Org.", "http://BOT.example.org/", ""},
		{"ListedCIDR", "203.0.113.0/24", "http://203.0.113.9/", ""},
		{"Any", "any", "https://example.com/", ""},
		{"LoopbackOnly_PrivateRefused", "loopback", "http://bot/", `resolves to 172.18.0.5, outside the list of allowed push targets (loopback)`},
		{"NoHost", DefaultList, "/just/a/path", "has no host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, err := Parse(tt.allow)
			if err != nil {
				t.Fatal(err)
			}
			err = a.check(context.Background(), names, tt.url)
			if tt.want == "" {
				if err != nil {
					t.Errorf("check(%q) = %v, want allowed", tt.url, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("check(%q) = %v, want an error with %q", tt.url, err, tt.want)
			}
		})
	}
}

func TestParse_Errors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ list, want string }{
		{"", `the list is empty (the default is "loopback,private")`},
		{" , ", "the list is empty"},
		{"10.0.0.0/33", `"10.0.0.0/33" is not a CIDR range`},
		{"bad host!", `"bad host!" is neither a host name`},
	} {
		if _, err := Parse(tt.list); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) = %v, want %q", tt.list, err, tt.want)
		}
	}
	a, err := Parse(" Loopback , 10.1.0.0/16,bot ")
	if err != nil || a.String() != "loopback,10.1.0.0/16,bot" {
		t.Errorf("Parse = %v, %v", a, err)
	}
}

// TestDialContext_ChecksTheAddressDialled: a name is resolved when the connection is made, and
// only its allowed addresses are dialled; a name that now resolves outside the list (DNS
// rebinding after Check) is refused without a dial.
func TestDialContext_ChecksTheAddressDialled(t *testing.T) {
	t.Parallel()
	a, err := Parse("private,bot.example.org")
	if err != nil {
		t.Fatal(err)
	}
	var dialled []string
	dial := a.dialContext(names, func(_ context.Context, _, addr string) (net.Conn, error) {
		dialled = append(dialled, addr)
		return nil, errors.New("test: not dialling")
	})
	for _, addr := range []string{"bot:8081", "bot.example.org:443", "rebind.example:80", "example.com:443", "8.8.8.8:53", "10.9.9.9:80"} {
		_, _ = dial(context.Background(), "tcp", addr)
	}
	if diff := cmp.Diff([]string{"172.18.0.5:8081", "bot.example.org:443", "10.9.9.9:80"}, dialled); diff != "" {
		t.Errorf("dialled mismatch (-want +got):\n%s", diff)
	}
	_, err = dial(context.Background(), "tcp", "rebind.example:80")
	var re *RefusedError
	if !errors.As(err, &re) || re.Host != "rebind.example" {
		t.Errorf("dial rebind.example = %v, want a *RefusedError", err)
	}
}

func TestCheckAddress_NamesPass(t *testing.T) {
	t.Parallel()
	a := Default()
	for url, ok := range map[string]bool{"http://anything.example/": true, "http://10.0.0.1/": true, "http://8.8.8.8/": false} {
		if err := a.CheckAddress(url); (err == nil) != ok {
			t.Errorf("CheckAddress(%q) = %v, want ok=%v", url, err, ok)
		}
	}
}
