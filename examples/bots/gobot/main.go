// Command gobot is a small customer-service bot for a Baidu Smart Mini Program, standard library
// only: it receives Baidu's message push (消息推送), verifies it, decrypts secure pushes, answers
// "success" at once, ignores a MsgId it has already seen, and replies to the user through
// custom/send. It also refuses a push whose timestamp is more than 5 minutes from now, or whose
// timestamp and nonce it saw before with other bytes (a replay: the signature of a plain push does
// not cover the body); Baidu documents neither rule, they are the usual care of a signed webhook.
// Copy it as the start of your own bot.
//
// Environment (see ../README.md):
//
//	SMARTAPPMOCK_BOT_PORT or PORT   port on 127.0.0.1 (default 8080; 0 picks a free one)
//	SMARTAPPMOCK_PUSH_TOKEN         the Token of the push configuration (required)
//	SMARTAPPMOCK_PUSH_AES_KEY       the EncodingAESKey (required for secure pushes)
//	SMARTAPPMOCK_PUSH_CLIENT_ID     optional: refuse encrypted pushes whose trailing id differs
//	SMARTAPPMOCK_BASE_URL           where custom/send is (default https://openapi.baidu.com)
//	SMARTAPPMOCK_ACCESS_TOKEN       the access token for custom/send (required)
//
// It prints "bot listening on http://127.0.0.1:PORT" once it accepts connections.
package main

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// sendPath is Baidu's "send customer-service message" endpoint.
const sendPath = "/rest/2.0/smartapp/message/custom/send"

// userType goes with every reply. The push does not say whether the user is a guest (1) or has
// a Baidu account (2), and Baidu does not say how a bot learns it: we assume 2.
const userType = "2"

// config is what the bot reads from its environment.
type config struct {
	Port        string
	Token       string
	AESKey      []byte // the decoded EncodingAESKey, nil when none was given
	ClientID    string
	BaseURL     string
	AccessToken string
}

func configFromEnv(getenv func(string) string) (config, error) {
	c := config{
		Port:        getenv("SMARTAPPMOCK_BOT_PORT"),
		Token:       getenv("SMARTAPPMOCK_PUSH_TOKEN"),
		ClientID:    getenv("SMARTAPPMOCK_PUSH_CLIENT_ID"),
		BaseURL:     strings.TrimRight(getenv("SMARTAPPMOCK_BASE_URL"), "/"),
		AccessToken: getenv("SMARTAPPMOCK_ACCESS_TOKEN"),
	}
	if c.Port == "" {
		c.Port = getenv("PORT")
	}
	if c.Port == "" {
		c.Port = "8080"
	}
	if c.BaseURL == "" {
		c.BaseURL = "https://openapi.baidu.com"
	}
	var errs []error
	if c.Token == "" {
		errs = append(errs, errors.New("SMARTAPPMOCK_PUSH_TOKEN is empty: set it to the Token of the push configuration"))
	}
	if c.AccessToken == "" {
		errs = append(errs, errors.New("SMARTAPPMOCK_ACCESS_TOKEN is empty: the bot needs it to reply through custom/send"))
	}
	if k := getenv("SMARTAPPMOCK_PUSH_AES_KEY"); k != "" {
		if len(k) != 43 {
			errs = append(errs, fmt.Errorf("SMARTAPPMOCK_PUSH_AES_KEY has %d characters; an EncodingAESKey has 43", len(k)))
		} else {
			// Base64 of 32 bytes without its "=": decode leniently, as Baidu's samples do (the
			// spare bits of the last character are ignored).
			key, err := base64.StdEncoding.DecodeString(k + "=")
			if err != nil {
				errs = append(errs, fmt.Errorf("SMARTAPPMOCK_PUSH_AES_KEY: %v", err))
			}
			c.AESKey = key
		}
	}
	return c, errors.Join(errs...)
}

// pushBody is every field a push body may carry.
type pushBody struct {
	ToUserName   string `json:"ToUserName" xml:"ToUserName"`
	FromUserName string `json:"FromUserName" xml:"FromUserName"`
	CreateTime   int64  `json:"CreateTime" xml:"CreateTime"`
	MsgType      string `json:"MsgType" xml:"MsgType"`
	Content      string `json:"Content" xml:"Content"`
	PicURL       string `json:"PicUrl" xml:"PicUrl"`
	MsgID        int64  `json:"MsgId" xml:"MsgId"`
	Encrypt      string `json:"Encrypt" xml:"Encrypt"`
	MsgSignature string `json:"MsgSignature" xml:"MsgSignature"`
	TimeStamp    string `json:"TimeStamp" xml:"TimeStamp"`
	Nonce        string `json:"Nonce" xml:"Nonce"`
}

// parsePush reads JSON or XML, whichever the body is.
func parsePush(body []byte) (pushBody, error) {
	var p pushBody
	b := bytes.TrimSpace(body)
	var err error
	if bytes.HasPrefix(b, []byte("<")) {
		err = xml.Unmarshal(b, &p)
	} else {
		err = json.Unmarshal(b, &p)
	}
	return p, err
}

// sha1Sorted is Baidu's signature: sha1 of the sorted strings, concatenated, in lowercase hex.
func sha1Sorted(parts ...string) string {
	sort.Strings(parts)
	sum := sha1.Sum([]byte(strings.Join(parts, "")))
	return hex.EncodeToString(sum[:])
}

func sameString(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// decrypt opens Encrypt: AES-256-CBC, iv = key[:16], padding to 32-byte blocks (1 to 32
// bytes: NOT the 16-byte PKCS#7 of most libraries), then 16 random bytes, a 4-byte big-endian
// length, the message and the trailing id.
func decrypt(key []byte, encrypt string) (msg []byte, trailingID string, err error) {
	raw, err := base64.StdEncoding.DecodeString(encrypt)
	if err != nil {
		return nil, "", fmt.Errorf("the Encrypt field is not base64: %w", err)
	}
	if len(raw) == 0 || len(raw)%aes.BlockSize != 0 {
		return nil, "", fmt.Errorf("the Encrypt field has %d bytes, not whole AES blocks", len(raw))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, "", err
	}
	cipher.NewCBCDecrypter(block, key[:aes.BlockSize]).CryptBlocks(raw, raw)
	pad := int(raw[len(raw)-1])
	if pad < 1 || pad > 32 || pad > len(raw) {
		return nil, "", fmt.Errorf("padding %d is not 1 to 32 (wrong key?)", pad)
	}
	plain := raw[:len(raw)-pad]
	if len(plain) < 20 {
		return nil, "", errors.New("decrypted block too short")
	}
	n := binary.BigEndian.Uint32(plain[16:20])
	if uint64(n) > uint64(len(plain)-20) {
		return nil, "", fmt.Errorf("message length %d exceeds the block", n)
	}
	return plain[20 : 20+n], string(plain[20+n:]), nil
}

// bot is the push receiver; ServeHTTP answers Baidu, replies go out in the background.
type bot struct {
	cfg    config
	client *http.Client
	logf   func(format string, args ...any)

	mu     sync.Mutex
	seen   map[string]bool
	order  []string            // seen keys, oldest first, to forget old ones
	nonces map[string][32]byte // "timestamp/nonce" -> sha256 of the push's body
	norder []string            // nonce keys, oldest first

	replies sync.WaitGroup
}

// maxSeen bounds the memory of MsgIds: Baidu retries within seconds, not days.
const maxSeen = 10000

// staleAfter is how far from now a push's timestamp may be.
const staleAfter = 5 * time.Minute

// checkReplay refuses a timestamp more than staleAfter from now, and a timestamp and nonce seen
// before with other bytes (the same bytes are Baidu's retry of one push).
func (b *bot) checkReplay(ts, nonce string, body []byte) error {
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("timestamp %q is not unix seconds", ts)
	}
	if d := time.Since(time.Unix(n, 0)); d > staleAfter || d < -staleAfter {
		return fmt.Errorf("stale timestamp %s (%s from now)", ts, d.Round(time.Second))
	}
	key, sum := ts+"/"+nonce, sha256.Sum256(body)
	b.mu.Lock()
	defer b.mu.Unlock()
	prev, ok := b.nonces[key]
	if ok && prev != sum {
		return fmt.Errorf("timestamp and nonce %s replayed with other bytes", key)
	}
	if !ok {
		b.nonces[key] = sum
		b.norder = append(b.norder, key)
		if len(b.norder) > maxSeen {
			delete(b.nonces, b.norder[0])
			b.norder = b.norder[1:]
		}
	}
	return nil
}

func newBot(cfg config, client *http.Client, logf func(string, ...any)) *bot {
	return &bot{cfg: cfg, client: client, logf: logf, seen: map[string]bool{}, nonces: map[string][32]byte{}}
}

// firstTime records key and reports whether it is new.
func (b *bot) firstTime(key string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.seen[key] {
		return false
	}
	b.seen[key] = true
	b.order = append(b.order, key)
	if len(b.order) > maxSeen {
		delete(b.seen, b.order[0])
		b.order = b.order[1:]
	}
	return true
}

// ServeHTTP answers one POST from Baidu: the handshake or a push.
func (b *bot) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	// The handshake: echoStr with signature, timestamp, nonce, in the query or a form body.
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	if echo := r.Form.Get("echoStr"); echo != "" {
		if !sameString(sha1Sorted(b.cfg.Token, r.Form.Get("timestamp"), r.Form.Get("nonce")), r.Form.Get("signature")) {
			b.logf("handshake refused: bad signature")
			http.Error(w, "bad signature", http.StatusForbidden)
			return
		}
		_, _ = io.WriteString(w, echo)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "cannot read", http.StatusBadRequest)
		return
	}
	msg, status, err := b.open(r.URL.Query(), body)
	if err != nil {
		b.logf("push refused (%d): %v", status, err)
		http.Error(w, err.Error(), status)
		return
	}
	key := strconv.FormatInt(msg.MsgID, 10)
	if msg.MsgID == 0 { // events carry no MsgId: FromUserName + CreateTime
		key = msg.FromUserName + "/" + strconv.FormatInt(msg.CreateTime, 10)
	}
	// Answer first: Baidu gives up after 2 s, and the reply may take longer.
	_, _ = io.WriteString(w, "success")
	if !b.firstTime(key) {
		b.logf("MsgId %s again: already handled", key)
		return
	}
	b.replies.Add(1)
	go func() {
		defer b.replies.Done()
		b.reply(msg)
	}()
}

// open verifies the push and returns the user's message, or an HTTP status and why.
func (b *bot) open(q url.Values, body []byte) (pushBody, int, error) {
	p, err := parsePush(body)
	if err != nil {
		return pushBody{}, http.StatusBadRequest, fmt.Errorf("body is neither JSON nor XML: %w", err)
	}
	if p.Encrypt == "" {
		if !sameString(sha1Sorted(b.cfg.Token, q.Get("timestamp"), q.Get("nonce")), q.Get("signature")) {
			return pushBody{}, http.StatusForbidden, errors.New("bad signature")
		}
		if err := b.checkReplay(q.Get("timestamp"), q.Get("nonce"), body); err != nil {
			return pushBody{}, http.StatusForbidden, err
		}
		return p, 0, nil
	}
	// Encrypted: msg_signature covers Encrypt. It travels in the query, or in the body with
	// TimeStamp and Nonce (the documented third-party envelope).
	ts, nonce, sig := q.Get("timestamp"), q.Get("nonce"), q.Get("msg_signature")
	if p.MsgSignature != "" {
		ts, nonce, sig = p.TimeStamp, p.Nonce, p.MsgSignature
	}
	if !sameString(sha1Sorted(b.cfg.Token, ts, nonce, p.Encrypt), sig) {
		return pushBody{}, http.StatusForbidden, errors.New("bad msg_signature")
	}
	if err := b.checkReplay(ts, nonce, body); err != nil {
		return pushBody{}, http.StatusForbidden, err
	}
	if b.cfg.AESKey == nil {
		return pushBody{}, http.StatusInternalServerError, errors.New("an encrypted push, but SMARTAPPMOCK_PUSH_AES_KEY is not set")
	}
	plain, id, err := decrypt(b.cfg.AESKey, p.Encrypt)
	if err != nil {
		return pushBody{}, http.StatusBadRequest, err
	}
	if b.cfg.ClientID != "" && id != b.cfg.ClientID {
		return pushBody{}, http.StatusForbidden, fmt.Errorf("trailing id %q is not ours", id)
	}
	inner, err := parsePush(plain)
	if err != nil {
		return pushBody{}, http.StatusBadRequest, fmt.Errorf("decrypted message: %w", err)
	}
	return inner, 0, nil
}

// reply answers the user through custom/send, once: a business error (90001: no replies left
// in the window) is final, and retrying a transport failure could reply twice.
func (b *bot) reply(m pushBody) {
	form := url.Values{"user_type": {userType}, "open_id": {m.FromUserName}, "msg_type": {"text"}}
	switch m.MsgType {
	case "text":
		form.Set("content", "You wrote: "+m.Content)
	case "image":
		form.Set("content", "Thanks for the picture!")
	default:
		return
	}
	u := b.cfg.BaseURL + sendPath + "?" + url.Values{"access_token": {b.cfg.AccessToken}}.Encode()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		b.logf("reply to %s: %v", m.FromUserName, err)
		return
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := b.client.Do(req)
	if err != nil {
		b.logf("reply to %s: %v", m.FromUserName, err)
		return
	}
	defer resp.Body.Close()
	var answer struct {
		Errno     *int   `json:"errno"`
		Msg       string `json:"msg"`
		ErrorCode *int   `json:"error_code"`
		ErrorMsg  string `json:"error_msg"`
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	switch err := json.Unmarshal(body, &answer); {
	case err != nil:
		b.logf("reply to %s: HTTP %d, answer not JSON: %.100s", m.FromUserName, resp.StatusCode, body)
	case answer.ErrorCode != nil:
		b.logf("reply to %s: error_code %d: %s", m.FromUserName, *answer.ErrorCode, answer.ErrorMsg)
	case answer.Errno != nil && *answer.Errno != 0:
		b.logf("reply to %s: errno %d: %s (not retried)", m.FromUserName, *answer.Errno, answer.Msg)
	default:
		b.logf("replied to %s", m.FromUserName)
	}
}

// run serves until ctx ends, then waits for the replies in flight.
func run(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := configFromEnv(getenv)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", cfg.Port))
	if err != nil {
		return err
	}
	logger := log.New(stderr, "bot: ", log.LstdFlags)
	b := newBot(cfg, &http.Client{}, logger.Printf)
	srv := &http.Server{Handler: b, ReadHeaderTimeout: 5 * time.Second}
	fmt.Fprintf(stdout, "bot listening on http://%s\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = srv.Shutdown(sctx)
	b.replies.Wait()
	return err
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bot:", err)
		os.Exit(1)
	}
}
