package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/mockserver/admin"
	"github.com/smartappmock/smartappmock/mockserver/proxy"
	"github.com/smartappmock/smartappmock/tlsca"
)

// tlsFlags are serve's HTTPS, proxy and CA settings.
type tlsFlags struct {
	enabled         bool
	addr            string
	caCert, caKey   string
	writeCA         string
	hosts           string // --tls-hosts: extra names of the certificate and the generated CA
	certPEM         []byte
	warning         string // about the loaded CA, logged at start
	serverTLSConfig *tls.Config
}

// register adds the flags to fs, with defaults from the environment; a variable that does not
// parse is an error that names it.
func (t *tlsFlags) register(fs *flag.FlagSet, getenv func(string) string) error {
	var err error
	if t.enabled, err = envBool(getenv, "SMARTAPPMOCK_TLS", false); err != nil {
		return err
	}
	fs.Var(boolValue{&t.enabled}, "tls", "also serve HTTPS on --tls-addr, with a certificate for localhost, 127.0.0.1, ::1 and openapi.baidu.com (env SMARTAPPMOCK_TLS)")
	fs.StringVar(&t.addr, "tls-addr", getenv("SMARTAPPMOCK_TLS_ADDR"), "HTTPS listen address with --tls; default: --addr's host, port 8443 (env SMARTAPPMOCK_TLS_ADDR)")
	fs.StringVar(&t.caCert, "ca-cert", getenv("SMARTAPPMOCK_CA_CERT"), "CA certificate (PEM) that signs the HTTPS certificate; empty: a CA generated at start-up (env SMARTAPPMOCK_CA_CERT)")
	fs.StringVar(&t.caKey, "ca-key", getenv("SMARTAPPMOCK_CA_KEY"), "private key (PEM) of --ca-cert (env SMARTAPPMOCK_CA_KEY)")
	fs.StringVar(&t.hosts, "tls-hosts", getenv("SMARTAPPMOCK_TLS_HOSTS"), "extra names or IP addresses, comma-separated, that the HTTPS certificate is valid for and the generated CA may sign for (env SMARTAPPMOCK_TLS_HOSTS)")
	fs.StringVar(&t.writeCA, "write-ca", getenv("SMARTAPPMOCK_WRITE_CA"), "write the CA certificate (PEM) to this file once the listeners are up, for clients to trust (env SMARTAPPMOCK_WRITE_CA)")
	return nil
}

// load loads or generates the CA and makes the server's TLS configuration.
func (t *tlsFlags) load() error {
	var (
		ca  *tlsca.CA
		err error
	)
	hosts := splitHosts(t.hosts)
	switch {
	case t.caCert == "" && t.caKey == "":
		ca, err = tlsca.New(hosts...)
		if err != nil {
			return usageError{"--tls-hosts: " + strings.TrimPrefix(err.Error(), "tlsca: ")}
		}
	case t.caCert == "" || t.caKey == "":
		return usageError{"--ca-cert and --ca-key go together (create a pair with 'smartappmock ca new')"}
	default:
		ca, err = tlsca.Load(t.caCert, t.caKey)
		if err != nil {
			return err
		}
		for _, h := range hosts {
			if !ca.Permits(h) {
				return fmt.Errorf("--tls-hosts: the CA of %s may not sign for %q (its name constraints permit %s): create one that does with 'smartappmock ca new --hosts %s'",
					t.caCert, h, strings.Join(ca.PermittedNames(), ", "), t.hosts)
			}
		}
		if len(ca.Cert.PermittedDNSDomains) == 0 && len(ca.Cert.PermittedIPRanges) == 0 {
			t.warning = "the CA of " + t.caCert + " has no name constraints: whoever holds its key can sign for any host, and clients that trust it believe them; create a constrained one with 'smartappmock ca new'"
		}
	}
	if t.serverTLSConfig, err = ca.ServerConfig(hosts...); err != nil {
		return err
	}
	t.certPEM = ca.CertPEM()
	return nil
}

// writeCAFile writes the CA certificate for --write-ca. serve calls it once every listener is up,
// so that a file that exists belongs to a fake that runs.
func (t *tlsFlags) writeCAFile() error {
	if t.writeCA == "" {
		return nil
	}
	if err := os.WriteFile(t.writeCA, t.certPEM, 0o644); err != nil {
		return fmt.Errorf("--write-ca: %w", err)
	}
	return nil
}

// tlsSide is what serve runs besides the HTTP listener: the proxy's tunnels and the optional
// HTTPS listener.
type tlsSide struct {
	srv   *mockserver.Server
	proxy *proxy.Proxy
	https *http.Server
	errc  chan error
	addr  net.Addr // of the HTTPS listener
}

// start wraps the fake in the proxy for the HTTP server hs and opens the HTTPS listener when
// asked.
func (t *tlsFlags) start(fake http.Handler, srv *mockserver.Server, hs *http.Server, logger *slog.Logger) (*tlsSide, error) {
	side := &tlsSide{srv: srv, proxy: proxy.New(fake, srv, t.serverTLSConfig)}
	hs.Handler = side.proxy
	if t.enabled {
		ln, err := listen("--tls-addr", t.addr)
		if err != nil {
			return nil, err
		}
		side.addr = ln.Addr()
		// The same limits as the HTTP listener and the proxy's tunnels (one definition).
		side.https = mockserver.DefaultServerTimeouts().HTTPServer(fake, hs.ErrorLog)
		side.https.TLSConfig = t.serverTLSConfig
		// HTTP/1.1 only: connection faults (reset, empty reply) stay connection faults.
		side.https.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){}
		side.errc = make(chan error, 1)
		go func() { side.errc <- side.https.ServeTLS(ln, "", "") }()
	}
	return side, nil
}

// printAddrs prints where HTTPS and the proxy are; httpAddr is the HTTP listener's address as a
// client on this machine reaches it.
func (s *tlsSide) printAddrs(stdout io.Writer, httpAddr string) {
	if s.addr != nil {
		fmt.Fprintf(stdout, "smartappmock HTTPS on https://%s\n", boundAddr(s.addr))
	}
	fmt.Fprintf(stdout, "smartappmock proxy for openapi.baidu.com: HTTPS_PROXY=http://%s (CA: 'smartappmock ca --addr %s' or GET /__admin/ca)\n", httpAddr, httpAddr)
}

// shutdown ends requests held by a fault, then stops the HTTPS listener and the tunnels
// gracefully; other in-flight requests finish.
func (s *tlsSide) shutdown(ctx context.Context) error {
	s.srv.ReleaseFaults()
	var errs []error
	if s.https != nil {
		errs = append(errs, s.https.Shutdown(ctx))
		if err := <-s.errc; !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	errs = append(errs, s.proxy.Shutdown(ctx))
	return errors.Join(errs...)
}

// caCmd runs "ca" (print the CA of a running fake) and "ca new" (create a CA pair of files).
func caCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "new" {
		return caNew(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("ca", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage:
  smartappmock ca [--addr :8080] [--admin-token T]   print the CA certificate (PEM) of a running fake
  smartappmock ca new --cert FILE --key FILE         create a CA for serve --ca-cert/--ca-key
`)
		fs.PrintDefaults()
	}
	addr := fs.String("addr", envOr(getenv, "SMARTAPPMOCK_ADDR", defaultAddr), "HTTP address of the running fake (env SMARTAPPMOCK_ADDR)")
	token := fs.String("admin-token", getenv("SMARTAPPMOCK_ADMIN_TOKEN"), "the fake's admin token, if it has one (env SMARTAPPMOCK_ADMIN_TOKEN)")
	if help, err := parseFlags(fs, args, stderr); help || err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("ca: unexpected argument %q%s (want 'ca' or 'ca new')", fs.Arg(0), suggestCommand(fs.Arg(0), "new"))}
	}
	if err := checkListenAddr("--addr", *addr); err != nil {
		return err
	}
	host, port, _ := net.SplitHostPort(*addr)
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+admin.Prefix+"/ca", nil)
	if err != nil {
		return err
	}
	if *token != "" {
		req.Header.Set("Authorization", "Bearer "+*token)
	}
	resp, err := (&http.Client{Transport: &http.Transport{Proxy: nil}}).Do(req)
	if err != nil {
		return fmt.Errorf("ca: is the fake running on %s? %w", *addr, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode == http.StatusUnauthorized {
		return fmt.Errorf("ca: %s: the fake on %s has an admin token: pass it with --admin-token T (env SMARTAPPMOCK_ADMIN_TOKEN)", resp.Status, *addr)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("ca: %s: %s", resp.Status, bytes.TrimSpace(body))
	}
	_, err = stdout.Write(body)
	return err
}

// splitHosts reads a comma-separated list of names, blanks ignored.
func splitHosts(s string) []string {
	var out []string
	for h := range strings.SplitSeq(s, ",") {
		if h = strings.TrimSpace(h); h != "" {
			out = append(out, h)
		}
	}
	return out
}

func caNew(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ca new", flag.ContinueOnError)
	fs.SetOutput(stderr)
	certFile := fs.String("cert", "smartappmock-ca.pem", "where to write the CA certificate (PEM)")
	keyFile := fs.String("key", "smartappmock-ca-key.pem", "where to write the CA private key (PEM, mode 0600)")
	hosts := fs.String("hosts", "", "extra names or IP addresses, comma-separated, the CA may sign for besides openapi.baidu.com, spapi.baidu.com, localhost and the loopback addresses (serve --tls-hosts)")
	force := false
	fs.Var(boolValue{&force}, "force", "overwrite existing files")
	if help, err := parseFlags(fs, args, stderr); help || err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("ca new: unexpected argument %q", fs.Arg(0))}
	}
	if !force {
		for _, f := range []string{*certFile, *keyFile} {
			if _, err := os.Stat(f); err == nil {
				return fmt.Errorf("ca new: %s exists (use --force to overwrite)", f)
			}
		}
	}
	ca, err := tlsca.New(splitHosts(*hosts)...)
	if err != nil {
		return usageError{"ca new: --hosts: " + strings.TrimPrefix(err.Error(), "tlsca: ")}
	}
	if err := ca.WriteFiles(*certFile, *keyFile); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s and %s; serve with --ca-cert %s --ca-key %s and trust %s in clients\n", *certFile, *keyFile, *certFile, *keyFile, *certFile)
	return nil
}
