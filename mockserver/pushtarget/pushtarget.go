// Package pushtarget decides where the fake may send HTTP requests of its own: the message push's
// verification handshake and deliveries go to a URL an admin caller chose, so without a limit the
// fake would POST to any host it can reach on behalf of anyone who reaches its admin API.
//
// An Allow is a list of host names, IP addresses and CIDR ranges, with two shorthands: "loopback"
// (localhost, 127.0.0.0/8, ::1) and "private" (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16,
// fc00::/7), and "any" for no limit. The default is "loopback,private": a bot under test runs on
// the same machine, in the same Compose network or Kubernetes cluster, all of which use those
// ranges; the public internet, and link-local addresses (169.254.169.254 is the cloud's metadata
// service), are refused.
//
// The check happens twice: Check refuses a URL at once with a clear reason (a name that is not
// listed is resolved, and every address it has must be allowed), and DialContext checks the
// address actually dialled, so a name that resolves differently later (DNS rebinding) is still
// refused.
package pushtarget

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strings"
)

// DefaultList is the default allow-list: loopback and private addresses.
const DefaultList = "loopback,private"

var (
	loopbackNets = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	privateNets  = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("172.16.0.0/12"),
		netip.MustParsePrefix("192.168.0.0/16"), netip.MustParsePrefix("fc00::/7")}
	anyNets = []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")}
)

// Allow is an allow-list of push targets. Its zero value allows nothing; use Default or Parse.
type Allow struct {
	list  string         // as given, for messages
	any   bool           // "any": every host
	hosts []string       // names allowed as such (lower case, no trailing dot)
	nets  []netip.Prefix // addresses allowed
}

// Default returns the allow-list DefaultList.
func Default() *Allow {
	a, err := Parse(DefaultList)
	if err != nil {
		panic(err) // a constant that parses
	}
	return a
}

// Parse reads a comma-separated allow-list: host names, IP addresses, CIDR ranges and the words
// loopback, private and any. Blank entries are ignored; an empty list is an error (use "loopback"
// to allow the least).
func Parse(list string) (*Allow, error) {
	a := &Allow{}
	var names []string
	for e := range strings.SplitSeq(list, ",") {
		e = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(e)), ".")
		if e == "" {
			continue
		}
		names = append(names, e)
		switch {
		case e == "any":
			a.any = true
			a.nets = append(a.nets, anyNets...)
		case e == "loopback":
			a.hosts = append(a.hosts, "localhost")
			a.nets = append(a.nets, loopbackNets...)
		case e == "private":
			a.nets = append(a.nets, privateNets...)
		case strings.Contains(e, "/"):
			p, err := netip.ParsePrefix(e)
			if err != nil {
				return nil, fmt.Errorf("%q is not a CIDR range (want e.g. 10.0.0.0/8)", e)
			}
			a.nets = append(a.nets, p.Masked())
		default:
			if ip, err := netip.ParseAddr(strings.Trim(e, "[]")); err == nil {
				a.nets = append(a.nets, netip.PrefixFrom(ip.Unmap(), ip.Unmap().BitLen()))
				continue
			}
			if !validName(e) {
				return nil, fmt.Errorf("%q is neither a host name, an IP address, a CIDR range nor loopback, private or any", e)
			}
			a.hosts = append(a.hosts, e)
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("the list is empty (the default is %q)", DefaultList)
	}
	a.list = strings.Join(names, ",")
	return a, nil
}

// validName reports whether s is a host name: labels of letters, digits, hyphens and underscores
// (Compose service names may hold one).
func validName(s string) bool {
	if len(s) > 253 {
		return false
	}
	for l := range strings.SplitSeq(s, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// String returns the list as given (normalised: lower case, no blanks).
func (a *Allow) String() string { return a.list }

// allowsAddr reports whether an address is in an allowed range.
func (a *Allow) allowsAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	return slices.ContainsFunc(a.nets, func(p netip.Prefix) bool { return p.Contains(ip) })
}

// allowsName reports whether a host name is allowed as such (without looking at its addresses).
func (a *Allow) allowsName(host string) bool {
	return a.any || slices.Contains(a.hosts, strings.TrimSuffix(strings.ToLower(host), "."))
}

// RefusedError is a push target outside the allow-list.
type RefusedError struct {
	// Host is the URL's host (without the port).
	Host string
	// Addrs are the addresses the host resolved to, when it is a name that is not listed.
	Addrs []netip.Addr
	// Allow is the allow-list.
	Allow string
	// Err is why the host could not be resolved, if it could not.
	Err error
}

// Error says which host, what it resolved to, and what is allowed.
func (e *RefusedError) Error() string {
	what := fmt.Sprintf("host %q", e.Host)
	switch {
	case e.Err != nil:
		what += " is not in the list and does not resolve (" + e.Err.Error() + ")"
	case len(e.Addrs) > 0:
		var s []string
		for _, a := range e.Addrs {
			s = append(s, a.String())
		}
		what += " resolves to " + strings.Join(s, ", ") + ", outside the list"
	default:
		what += " is outside the list"
	}
	return fmt.Sprintf("push target refused: %s of allowed push targets (%s)", what, e.Allow)
}

// resolver looks names up; tests replace it.
type resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Check refuses a URL whose host is not allowed: an IP address outside the ranges, or a name that
// is not listed and has an address outside them (it is resolved). It returns a *RefusedError, or
// an error for a URL without a host.
func (a *Allow) Check(ctx context.Context, rawURL string) error {
	return a.check(ctx, net.DefaultResolver, rawURL)
}

func (a *Allow) check(ctx context.Context, r resolver, rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return err
	}
	host := u.Hostname()
	if host == "" {
		return fmt.Errorf("%q has no host", rawURL)
	}
	_, err = a.addrs(ctx, r, host)
	return err
}

// addrs returns the addresses to dial for host: nil for a name allowed as such (dial it as usual),
// the address itself, or the name's addresses, every one of which must be allowed.
func (a *Allow) addrs(ctx context.Context, r resolver, host string) ([]netip.Addr, error) {
	if ip, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		if !a.allowsAddr(ip) {
			return nil, &RefusedError{Host: host, Allow: a.list}
		}
		return []netip.Addr{ip}, nil
	}
	if a.allowsName(host) {
		return nil, nil
	}
	ips, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, &RefusedError{Host: host, Allow: a.list, Err: err}
	}
	for _, ip := range ips {
		if !a.allowsAddr(ip) {
			return nil, &RefusedError{Host: host, Addrs: ips, Allow: a.list}
		}
	}
	if len(ips) == 0 {
		return nil, &RefusedError{Host: host, Allow: a.list, Err: fmt.Errorf("no address")}
	}
	return ips, nil
}

// DialFunc is the shape of net.Dialer.DialContext and http.Transport.DialContext.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// DialContext wraps dial so that it connects only to allowed targets: a name allowed as such is
// dialled as usual; any other host is resolved here, and only its allowed addresses are dialled
// (a name with an address outside the list is refused whole, as Check does).
func (a *Allow) DialContext(dial DialFunc) DialFunc {
	return a.dialContext(net.DefaultResolver, dial)
}

func (a *Allow) dialContext(r resolver, dial DialFunc) DialFunc {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		ips, err := a.addrs(ctx, r, host)
		if err != nil {
			return nil, err
		}
		if ips == nil {
			return dial(ctx, network, addr)
		}
		var errs []error
		for _, ip := range ips {
			c, err := dial(ctx, network, net.JoinHostPort(ip.String(), port))
			if err == nil {
				return c, nil
			}
			errs = append(errs, err)
		}
		return nil, errs[0]
	}
}

// CheckAddress is Check without resolving names: it refuses a URL whose host is an IP address
// outside the ranges, and lets any name pass (DialContext checks it when it connects).
func (a *Allow) CheckAddress(rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return err
	}
	ip, err := netip.ParseAddr(strings.Trim(u.Hostname(), "[]"))
	if err != nil || a.allowsAddr(ip) {
		return nil
	}
	return &RefusedError{Host: u.Hostname(), Allow: a.list}
}
