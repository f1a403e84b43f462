package baidupush

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// HandshakeEchoBytes is how much of a refused handshake's answer a HandshakeError keeps (the
// rest is not read).
const HandshakeEchoBytes = 64

// HandshakeError is a failed verification handshake: what was sent and what came back.
type HandshakeError struct {
	// URL is where the handshake went.
	URL string
	// Sent holds signature, timestamp, nonce and echoStr.
	Sent url.Values
	// Where is "query and form", "query" or "form".
	Where string
	// Status is the HTTP status of the answer, 0 when none came.
	Status int
	// Body is the first HandshakeEchoBytes bytes of the answer: enough to see what a bot
	// answered instead of echoStr (a 20-digit number at most), too little to read another
	// service's page through the handshake.
	Body string
	// Truncated says the answer was longer than Body.
	Truncated bool
	// Err is the transport error when no answer came.
	Err error
}

// Error says what was sent and what came back, e.g. `push handshake with http://bot/: sent
// echoStr "123" (…); got HTTP 200 with body "ok": want HTTP 2xx with body "123" byte for byte`.
func (e *HandshakeError) Error() string {
	echo := e.Sent.Get(ParamEchoStr)
	sent := fmt.Sprintf("sent echoStr %q (signature=%s timestamp=%s nonce=%s, in the %s)",
		echo, e.Sent.Get(ParamSignature), e.Sent.Get(ParamTimestamp), e.Sent.Get(ParamNonce), e.Where)
	var got string
	switch {
	case e.Err != nil:
		got = "got no answer: " + e.Err.Error()
	default:
		more := ""
		if e.Truncated {
			more = "…"
		}
		got = fmt.Sprintf("got HTTP %d with body %q%s (%d bytes)", e.Status, e.Body, more, len(e.Body))
	}
	return fmt.Sprintf("push handshake with %s: %s; %s: want HTTP 2xx with body %q byte for byte", e.URL, sent, got, echo)
}

// Unwrap returns the transport error, if any.
func (e *HandshakeError) Unwrap() error { return e.Err }

// Handshake runs Baidu's verification handshake against c.URL, as when the configuration is
// saved in the console: one POST carrying signature, timestamp, nonce and echoStr (in the query
// and a form body by default, see Config.Handshake), limited by c.Timeout, not following
// redirects. It returns nil when
// the answer is a 2xx whose body is echoStr byte for byte, a *HandshakeError otherwise, or the
// reasons c is invalid.
func Handshake(ctx context.Context, client *http.Client, c Config, opts ...Option) error {
	s := newSettings(opts)
	client = noRedirects(client)
	c = c.WithDefaults(c.ClientID)
	if err := c.Validate(); err != nil {
		return fmt.Errorf("push configuration: %w", err)
	}
	var b [12]byte
	if _, err := io.ReadFull(s.rand, b[:]); err != nil {
		return fmt.Errorf("push handshake: randomness: %w", err)
	}
	ts := strconv.FormatInt(s.now().Unix(), 10)
	nonce := strconv.FormatUint(uint64(binary.BigEndian.Uint32(b[:4])), 10)
	echo := strconv.FormatUint(binary.BigEndian.Uint64(b[4:]), 10)
	sent := url.Values{
		ParamSignature: {Signature(c.Token, ts, nonce)},
		ParamTimestamp: {ts},
		ParamNonce:     {nonce},
		ParamEchoStr:   {echo},
	}
	herr := &HandshakeError{URL: c.URL, Sent: sent, Where: "query and form"}
	u, err := url.Parse(c.URL)
	if err != nil {
		herr.Err = err
		return herr
	}
	var body io.Reader
	switch c.Handshake {
	case HandshakeQuery:
		herr.Where = "query"
	case HandshakeForm:
		herr.Where = "form"
	}
	if c.Handshake != HandshakeForm {
		q := u.Query()
		for k, v := range sent {
			q[k] = v
		}
		u.RawQuery = q.Encode()
	}
	if c.Handshake != HandshakeQuery {
		body = strings.NewReader(sent.Encode())
	}
	actx, cancel := context.WithTimeout(ctx, time.Duration(c.Timeout))
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, u.String(), body)
	if err != nil {
		herr.Err = err
		return herr
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := client.Do(req)
	if err != nil {
		herr.Err = errors.New(transportReason(actx, ctx, c, err))
		return herr
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(io.LimitReader(resp.Body, HandshakeEchoBytes+1))
	herr.Status = resp.StatusCode
	herr.Body, herr.Truncated = string(got), len(got) > HandshakeEchoBytes
	if herr.Truncated {
		herr.Body = string(got[:HandshakeEchoBytes])
	}
	if err != nil {
		herr.Err = errors.New("reading the answer: " + transportReason(actx, ctx, c, err))
		return herr
	}
	if resp.StatusCode/100 == 2 && string(got) == echo {
		return nil
	}
	return herr
}
