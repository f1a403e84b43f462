package baidupush

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Mode is the encryption mode chosen in Baidu's console.
type Mode string

// The encryption modes.
const (
	// ModePlain (明文, Baidu's default) sends the message fields as they are.
	ModePlain Mode = "plain"
	// ModeSecure (安全) sends only the encrypted message (Encrypt).
	ModeSecure Mode = "secure"
	// ModeCompatible (兼容) sends the plain fields and Encrypt together [inf].
	ModeCompatible Mode = "compatible"
)

// Format is the data format chosen in Baidu's console.
type Format string

// The data formats.
const (
	// FormatXML is Baidu's default.
	FormatXML Format = "xml"
	// FormatJSON is the other choice (always used for third-party platforms).
	FormatJSON Format = "json"
)

// Envelope is the shape of a secure push: where the msg_signature, timestamp and nonce travel.
type Envelope string

// The envelopes of a secure push. Both are inferred: Baidu documents only the body form, and only
// for third-party platforms.
const (
	// EnvelopeQuery (the default) puts msg_signature, timestamp and nonce in the query and only
	// Encrypt (XML: ToUserName and Encrypt) in the body, as the third-party C# SDK parses it.
	EnvelopeQuery Envelope = "query"
	// EnvelopeBody is the documented third-party form: {"Nonce","TimeStamp","Encrypt",
	// "MsgSignature"} in the body (XML: the same elements under <xml>).
	EnvelopeBody Envelope = "body"
)

// HandshakeParams says where the handshake puts signature, timestamp, nonce and echoStr.
type HandshakeParams string

// The placements of the handshake parameters; Baidu does not document which one it uses.
const (
	// HandshakeBoth (the default) sends them in the query and in a form body.
	HandshakeBoth HandshakeParams = "both"
	// HandshakeQuery sends them in the query only.
	HandshakeQuery HandshakeParams = "query"
	// HandshakeForm sends them in a form body only.
	HandshakeForm HandshakeParams = "form"
)

// Defaults of a Config.
const (
	// DefaultTimeout is how long Baidu waits for an answer before it drops the connection.
	DefaultTimeout = 2 * time.Second
	// DefaultRetries is the number of retries after a failed attempt: 3 attempts in all [inf].
	DefaultRetries = 2
	// MaxRetries bounds Retries.
	MaxRetries = 10
	// MaxTimeout bounds Timeout and RetryDelay.
	MaxTimeout = time.Minute
)

// Config is one app's push configuration, as set in Baidu's console plus what the fake decides
// for itself (timeout, retries). Its zero value, once URL and Token are set, is a plain XML push
// with Baidu's defaults. Field names are those of apps[].push in the config file and of
// PUT /__admin/apps/{app}/push.
type Config struct {
	// URL receives the pushes: http:// or https://. Baidu's console allows only ports 80 and
	// 443; Validate accepts any port so that a bot on loopback can be tested.
	URL string `json:"url" yaml:"url"`
	// Token signs every push and the handshake (any non-empty string).
	Token string `json:"token" yaml:"token"`
	// EncodingAESKey is the 43-character key of secure and compatible modes; optional in plain
	// mode, but checked whenever it is set.
	EncodingAESKey string `json:"encoding_aes_key,omitempty" yaml:"encoding_aes_key,omitempty"`
	// Mode is plain (default), secure or compatible.
	Mode Mode `json:"mode,omitempty" yaml:"mode,omitempty"`
	// Format is xml (default, as in Baidu's console) or json.
	Format Format `json:"format,omitempty" yaml:"format,omitempty"`
	// Envelope is the shape of secure pushes: query (default) or body [inf].
	Envelope Envelope `json:"envelope,omitempty" yaml:"envelope,omitempty"`
	// ClientID is the trailing id of the encrypted block, the value Baidu's PHP sample checks
	// against the client id it was built with ($clientId). Which id Baidu really puts there is
	// not documented [inf]: the caller fills in the app's client_id (App Key) when it is empty,
	// see WithDefaults.
	ClientID string `json:"client_id,omitempty" yaml:"client_id,omitempty"`
	// Timeout is how long one attempt may take (default 2s, Baidu's documented limit).
	Timeout Duration `json:"timeout,omitempty" yaml:"timeout,omitempty"`
	// Retries is the number of retries after the first attempt; nil means DefaultRetries (2, so
	// 3 attempts in all [inf]) and 0 means a single attempt.
	Retries *int `json:"retries,omitempty" yaml:"retries,omitempty"`
	// RetryDelay is the pause before each retry (default 0: at once) [inf].
	RetryDelay Duration `json:"retry_delay,omitempty" yaml:"retry_delay,omitempty"`
	// Handshake says where the handshake parameters go: both (default), query or form [inf].
	Handshake HandshakeParams `json:"handshake,omitempty" yaml:"handshake,omitempty"`
	// UnsignedPlain leaves signature, timestamp and nonce out of plain pushes. By default they
	// are in the query of every push, as WeChat does [inf].
	UnsignedPlain bool `json:"unsigned_plain,omitempty" yaml:"unsigned_plain,omitempty"`
}

// WithDefaults returns a copy of c with every empty setting replaced by its default; clientID
// (the app's client_id) fills in ClientID.
func (c Config) WithDefaults(clientID string) Config {
	if c.Mode == "" {
		c.Mode = ModePlain
	}
	if c.Format == "" {
		c.Format = FormatXML
	}
	if c.Envelope == "" {
		c.Envelope = EnvelopeQuery
	}
	if c.ClientID == "" {
		c.ClientID = clientID
	}
	if c.Timeout == 0 {
		c.Timeout = Duration(DefaultTimeout)
	}
	if c.Retries == nil {
		r := DefaultRetries
		c.Retries = &r
	} else {
		r := *c.Retries // do not share the caller's int
		c.Retries = &r
	}
	if c.Handshake == "" {
		c.Handshake = HandshakeBoth
	}
	return c
}

// Attempts is the number of attempts of one delivery: 1 + Retries.
func (c Config) Attempts() int {
	if c.Retries == nil {
		return 1 + DefaultRetries
	}
	return 1 + *c.Retries
}

// Encrypted reports whether pushes carry Encrypt (secure and compatible modes).
func (c Config) Encrypted() bool { return c.Mode == ModeSecure || c.Mode == ModeCompatible }

// Validate reports every problem of c, one per line, naming the field as in the config file.
// Empty settings are accepted (they take their defaults), except that an encrypted mode needs a
// key and, after WithDefaults, a client_id.
func (c Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	switch u, err := url.Parse(c.URL); {
	case c.URL == "":
		add("url: empty; want the http:// or https:// address of the bot")
	case err != nil:
		add("url: %v", err)
	case u.Scheme != "http" && u.Scheme != "https":
		add("url: scheme %q; want http or https", u.Scheme)
	case u.Host == "":
		add("url: %q has no host", c.URL)
	case u.Fragment != "" || u.User != nil:
		add("url: %q must not carry a fragment or user info", c.URL)
	default:
		if p := u.Port(); p != "" {
			if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
				add("url: port %q is not 1 to 65535", p)
			}
		}
	}
	if c.Token == "" {
		add("token: empty; Baidu signs every push with it")
	}
	switch c.Mode {
	case "", ModePlain:
		if c.EncodingAESKey != "" {
			if err := CheckKey(c.EncodingAESKey); err != nil {
				errs = append(errs, err)
			}
		}
	case ModeSecure, ModeCompatible:
		if c.EncodingAESKey == "" {
			add("encoding_aes_key: empty; mode %s needs the 43-character key", c.Mode)
		} else if err := CheckKey(c.EncodingAESKey); err != nil {
			errs = append(errs, err)
		}
		if c.ClientID == "" {
			add("client_id: empty; mode %s puts it at the end of the encrypted block (the app's client_id fills it in by default)", c.Mode)
		}
	default:
		add("mode: %q; want plain, secure or compatible", c.Mode)
	}
	switch c.Format {
	case "", FormatXML, FormatJSON:
	default:
		add("format: %q; want xml or json", c.Format)
	}
	switch c.Envelope {
	case "", EnvelopeQuery, EnvelopeBody:
	default:
		add("envelope: %q; want query or body", c.Envelope)
	}
	switch c.Handshake {
	case "", HandshakeBoth, HandshakeQuery, HandshakeForm:
	default:
		add("handshake: %q; want both, query or form", c.Handshake)
	}
	if c.Timeout < 0 || time.Duration(c.Timeout) > MaxTimeout {
		add("timeout: %s; want 0 (default %s) up to %s", c.Timeout, DefaultTimeout, MaxTimeout)
	}
	if c.RetryDelay < 0 || time.Duration(c.RetryDelay) > MaxTimeout {
		add("retry_delay: %s; want 0 up to %s", c.RetryDelay, MaxTimeout)
	}
	if c.Retries != nil && (*c.Retries < 0 || *c.Retries > MaxRetries) {
		add("retries: %d; want 0 to %d", *c.Retries, MaxRetries)
	}
	return errors.Join(errs...)
}

// Duration is a time.Duration written with its unit, "2s" or "500ms", in a file or JSON. A number
// alone (2, or "2") is refused with the fix, as config.Duration refuses it: is 2 hours, minutes or
// seconds? This package imports nothing of the module, so it states the rule of
// internal/duration again; config's TestDuration_PushReadsAsConfig keeps the two alike.
type Duration time.Duration

// String renders the duration as time.Duration does.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText renders the duration as "2s".
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalJSON reads a string ("2s") as UnmarshalText does; a number is refused with the fix
// rather than read as nanoseconds or seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	if uq, err := strconv.Unquote(s); err == nil && strings.HasPrefix(s, `"`) {
		s = uq
	}
	return d.UnmarshalText([]byte(s))
}

// UnmarshalText reads a duration with its unit ("2s", "500ms"); "0" alone is zero.
func (d *Duration) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	if _, err := strconv.ParseFloat(s, 64); err == nil && s != "0" {
		return fmt.Errorf("duration %s has no unit: write %sh, %sm or %ss (hours, minutes, seconds)", s, s, s, s)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("invalid duration %q (want e.g. 48h, 30m, 90s)", s)
	}
	*d = Duration(v)
	return nil
}
