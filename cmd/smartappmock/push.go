package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/smartappmock/smartappmock/baidupush"
	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/mockserver/admin"
)

const pushUsage = `usage:
  smartappmock push [flags] text TEXT        user --user writes TEXT to app --app: pushed to its bot
  smartappmock push [flags] image URL        user --user sends an image (PicUrl URL)
  smartappmock push [flags] event NAME       an event (MsgType event, Event NAME) [inf: Baidu documents
                                             no event for a mini program's message URL]
  smartappmock push [flags] type MSGTYPE     any other MsgType, with its fields from --set [inf]
  smartappmock push --dry-run --url URL --token T [...] text TEXT
                                             print the signed (and encrypted) push as a curl command
  smartappmock push --platform KEY ticket    push a third-party platform its ticket now
  smartappmock push --platform KEY --app APP event AUTHORIZED|UNAUTHORIZED|UPDATE_AUTHORIZED
                                             push a platform an authorization event of app APP

Without --dry-run, push asks the running fake at --addr (its admin API) to push, with the app's
push configuration (PUT /__admin/apps/{app}/push), and prints each attempt and the bot's answer;
it exits 0 when the bot acknowledged, 1 when not (or the fake refused), 2 on a usage error. A
text or image without --set, or with only --set FromUserName, is "the user writes" (POST
/__admin/apps/{app}/users/{open_id}/messages); anything else is a free-form push (POST
/__admin/apps/{app}/push/fields).

--dry-run asks no fake: it encodes the push locally from --url, --token, --aes-key, --mode,
--format, --envelope and --client-id (the fake's admin API never reveals a token or a key), and
prints one curl command on stdout that sends exactly those bytes.

--set NAME=VALUE (repeated) sets or adds a field of the push: CreateTime and MsgId are numbers,
every other field a string (ToUserName, FromUserName, Content, PicUrl, Event, or any name).
`

// setFlags collects --set NAME=VALUE.
type setFlags []baidupush.Field

func (s *setFlags) String() string { return "" }

// numericFields are the fields --set renders as numbers.
var numericFields = map[string]bool{"CreateTime": true, "MsgId": true}

func (s *setFlags) Set(v string) error {
	name, value, ok := strings.Cut(v, "=")
	if !ok || name == "" {
		return fmt.Errorf("%q: want NAME=VALUE, e.g. FromUserName=user-2", v)
	}
	f := baidupush.Field{Name: name, Value: value}
	if numericFields[name] {
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			return fmt.Errorf("%s=%q: want an integer", name, value)
		}
		f = baidupush.Field{Name: name, Number: n, IsNumber: true}
	}
	*s = append(*s, f)
	return nil
}

// faultFlags collects --fault KIND[=DELAY].
type faultFlags []config.PushFault

func (f *faultFlags) String() string { return "" }

func (f *faultFlags) Set(v string) error {
	kind, arg, hasArg := strings.Cut(v, "=")
	pf := config.PushFault{Kind: kind}
	switch kind {
	case config.PushFaultDuplicate, config.PushFaultWrongSignature:
		if hasArg {
			return fmt.Errorf("%q: %s takes no value", v, kind)
		}
	case config.PushFaultDelay:
		var d config.Duration
		if err := d.UnmarshalText([]byte(arg)); err != nil || !hasArg {
			return fmt.Errorf("%q: want delay=1500ms", v)
		}
		pf.Delay = d
	default:
		return fmt.Errorf("%q: want duplicate, wrong_signature or delay=DURATION", v)
	}
	*f = append(*f, pf)
	return nil
}

// pushFlags are the settings of one push command.
type pushFlags struct {
	addr, token, tokenFile, app, user string
	platform                          string
	sets                              setFlags
	faults                            faultFlags
	asJSON, dryRun                    bool
	local                             baidupush.Config
}

// pushCmd is `smartappmock push …`.
func pushCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("push", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, pushUsage+"\nflags:\n"); fs.PrintDefaults() }
	var f pushFlags
	fs.StringVar(&f.addr, "addr", envOr(getenv, "SMARTAPPMOCK_ADDR", defaultAddr), "HTTP address of the running fake (env SMARTAPPMOCK_ADDR)")
	fs.StringVar(&f.token, "admin-token", getenv("SMARTAPPMOCK_ADMIN_TOKEN"), "the fake's admin token, if it has one (env SMARTAPPMOCK_ADMIN_TOKEN)")
	fs.StringVar(&f.tokenFile, "admin-token-file", "", "read the admin token from this file (keeps it out of the process list)")
	fs.StringVar(&f.app, "app", "", "the app's id (required; the pushes' ToUserName)")
	fs.StringVar(&f.user, "user", "user-1", "the user's open_id (FromUserName)")
	fs.StringVar(&f.platform, "platform", "", "push to this third-party platform (platforms[].push): ticket, or event AUTHORIZED|UNAUTHORIZED|UPDATE_AUTHORIZED")
	fs.Var(&f.sets, "set", "NAME=VALUE: set or add a field of the push (repeated)")
	fs.Var(&f.faults, "fault", "a push fault for this push: duplicate, wrong_signature or delay=DURATION (repeated)")
	fs.Var(boolValue{&f.asJSON}, "json", "print the admin API's answer as JSON instead of the attempts")
	fs.Var(boolValue{&f.dryRun}, "dry-run", "print the push as a curl command; send nothing, ask no fake")
	fs.StringVar(&f.local.URL, "url", "", "--dry-run: the bot's URL")
	fs.StringVar(&f.local.Token, "token", "", "--dry-run: the push Token that signs")
	fs.StringVar(&f.local.EncodingAESKey, "aes-key", "", "--dry-run: the 43-character EncodingAESKey (secure, compatible)")
	fs.StringVar((*string)(&f.local.Mode), "mode", "plain", "--dry-run: plain, secure or compatible")
	fs.StringVar((*string)(&f.local.Format), "format", "xml", "--dry-run: xml or json")
	fs.StringVar((*string)(&f.local.Envelope), "envelope", "query", "--dry-run: the secure envelope, query or body [inf]")
	fs.StringVar(&f.local.ClientID, "client-id", "", "--dry-run: the trailing id of the encrypted block (the app's client_id)")
	fs.Var(boolValue{&f.local.UnsignedPlain}, "unsigned-plain", "--dry-run: leave signature, timestamp and nonce out of a plain push [inf]")
	// Flags may come before and after the message: parse again after each positional argument.
	var pos []string
	for rest := args; ; {
		if help, err := parseFlags(fs, rest, stderr); help || err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if f.platform != "" {
		return pushPlatformCmd(ctx, f, pos, stdout)
	}
	if len(pos) != 2 {
		return usageError{fmt.Sprintf("push: want a kind and its value (text TEXT, image URL, event NAME or type MSGTYPE); got %d arguments", len(pos))}
	}
	kind, value := pos[0], pos[1]
	fields := baidupush.Fields{}
	switch kind {
	case "text":
		fields = append(fields, baidupush.Field{Name: "MsgType", Value: baidupush.MsgTypeText}, baidupush.Field{Name: "Content", Value: value})
	case "image":
		fields = append(fields, baidupush.Field{Name: "MsgType", Value: baidupush.MsgTypeImage}, baidupush.Field{Name: "PicUrl", Value: value})
	case "event":
		fields = append(fields, baidupush.Field{Name: "MsgType", Value: mockserver.EventMsgType}, baidupush.Field{Name: "Event", Value: value})
	case "type":
		fields = append(fields, baidupush.Field{Name: "MsgType", Value: value})
	default:
		if s := suggestCommand(kind, "text", "image", "event", "type"); s != "" {
			return usageError{fmt.Sprintf("push: unknown kind %q%s", kind, s)}
		}
		return usageError{fmt.Sprintf("push: unknown kind %q (want text, image, event or type)", kind)}
	}
	if value == "" {
		return usageError{fmt.Sprintf("push: %s: empty value", kind)}
	}
	if f.app == "" {
		return usageError{"push: --app is required (the app's id)"}
	}
	if f.user == "" {
		return usageError{"push: --user is empty (the user's open_id)"}
	}
	for _, s := range f.sets {
		fields = fields.Set(s)
	}
	if f.dryRun {
		return pushDryRun(f, fields, stdout, stderr)
	}
	c, err := f.client()
	if err != nil {
		return err
	}
	return pushLive(ctx, c, f, fields, stdout)
}

// client returns the admin client of the running fake at --addr, with the admin token.
func (f pushFlags) client() (*admin.Client, error) {
	if f.tokenFile != "" {
		b, err := os.ReadFile(f.tokenFile)
		if err != nil {
			return nil, usageError{fmt.Sprintf("push: --admin-token-file: %v", err)}
		}
		f.token = strings.TrimSpace(string(b))
	}
	if err := checkListenAddr("--addr", f.addr); err != nil {
		return nil, err
	}
	host, port, _ := net.SplitHostPort(f.addr)
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return &admin.Client{BaseURL: "http://" + net.JoinHostPort(host, port), Token: f.token,
		HTTP: &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 5 * time.Minute}}, nil
}

// pushPlatformCmd is `smartappmock push --platform KEY ticket|event NAME`.
func pushPlatformCmd(ctx context.Context, f pushFlags, pos []string, stdout io.Writer) error {
	var in admin.PlatformPushRequest
	switch {
	case len(pos) == 1 && pos[0] == "ticket":
		in.Event = mockserver.PlatformEventTicket
	case len(pos) == 2 && pos[0] == "event":
		in.Event, in.App = pos[1], f.app
		if f.app == "" {
			return usageError{fmt.Sprintf("push --platform: --app is required for %s (the mini program of the authorization)", pos[1])}
		}
	default:
		return usageError{"push --platform: want ticket, or event AUTHORIZED|UNAUTHORIZED|UPDATE_AUTHORIZED with --app"}
	}
	if f.dryRun || len(f.sets) > 0 || len(f.faults) > 0 {
		return usageError{"push --platform: --dry-run, --set and --fault apply to a mini program's pushes only"}
	}
	c, err := f.client()
	if err != nil {
		return err
	}
	a, err := c.PlatformPush(ctx, f.platform, in)
	if err != nil {
		return fmt.Errorf("push: %w", err)
	}
	if f.asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(a); err != nil {
			return err
		}
	} else {
		var msg bytes.Buffer
		_ = json.Compact(&msg, a.Message)
		fmt.Fprintf(stdout, "push %s to platform %s: id %d, encrypted\n  message %s\n", a.Event, a.Platform, a.ID, msg.String())
		for _, at := range a.Result.Attempts {
			fmt.Fprintln(stdout, "  "+attemptLine(at, 0))
		}
		fmt.Fprintf(stdout, "%s (getmsg status %d)\n", a.Outcome, a.Status)
	}
	if a.Outcome != string(baidupush.OutcomeDelivered) {
		return fmt.Errorf("push: not delivered (%s)", a.Outcome)
	}
	return nil
}

// pushLive has the running fake push, and prints what was delivered.
func pushLive(ctx context.Context, c *admin.Client, f pushFlags, fields baidupush.Fields, stdout io.Writer) error {
	view, err := c.Push(ctx, f.app)
	if admin.IsStatus(err, http.StatusNotFound) {
		return fmt.Errorf("push: %w", err)
	}
	if err != nil {
		return fmt.Errorf("push: is the fake running on %s? %w", f.addr, err)
	}
	msgType, _ := fields.Get("MsgType")
	userWrites := msgType == baidupush.MsgTypeText || msgType == baidupush.MsgTypeImage
	for _, s := range f.sets {
		userWrites = userWrites && s.Name == "FromUserName"
	}
	openID := f.user
	if v, ok := fields.Get("FromUserName"); ok {
		openID = v
	}
	var outcome, summary string
	var res baidupush.Result
	var answer any
	if userWrites {
		in := admin.UserWrites{PushMessage: admin.PushMessage{MsgType: msgType}, Faults: f.faults}
		in.Content, _ = fields.Get("Content")
		in.PicURL, _ = fields.Get("PicUrl")
		a, err := c.UserWrites(ctx, f.app, openID, in)
		if err != nil {
			return fmt.Errorf("push: %w", err)
		}
		answer, outcome, summary = a, a.Outcome, a.Summary
		if len(a.Results) > 0 {
			res = a.Results[0]
		}
	} else {
		in := admin.PushFields{OpenID: f.user, Fields: map[string]json.RawMessage{}, Faults: f.faults}
		for _, x := range fields {
			var v any = x.Value
			if x.IsNumber {
				v = x.Number
			}
			in.Fields[x.Name], _ = json.Marshal(v)
		}
		a, err := c.PushFields(ctx, f.app, in)
		if err != nil {
			return fmt.Errorf("push: %w", err)
		}
		answer, outcome, summary, res = a, a.Outcome, a.Summary, a.Result
	}
	if f.asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(answer); err != nil {
			return err
		}
	} else {
		p := view.Push.Config
		fmt.Fprintf(stdout, "push %s to app %s (%s %s), from %s: MsgId %d\n", msgType, f.app, p.Mode, p.Format, openID, res.MsgID)
		for _, a := range res.Attempts {
			fmt.Fprintln(stdout, "  "+attemptLine(a, p.Attempts()))
		}
		fmt.Fprintf(stdout, "%s: %s\n", outcome, summary)
	}
	if outcome != string(baidupush.OutcomeDelivered) {
		return fmt.Errorf("push: not delivered (%s)", outcome)
	}
	return nil
}

// attemptLine renders one attempt: `attempt 1 of 3: HTTP 200 "success": acknowledged (2.1ms)`
// (without "of" when of is 0).
func attemptLine(a baidupush.Attempt, of int) string {
	var b strings.Builder
	if a.Duplicate {
		b.WriteString("duplicate (same bytes): ")
	} else if of > 0 {
		fmt.Fprintf(&b, "attempt %d of %d: ", a.N, of)
	} else {
		fmt.Fprintf(&b, "attempt %d: ", a.N)
	}
	if a.Status == 0 {
		b.WriteString("no answer")
	} else {
		fmt.Fprintf(&b, "HTTP %d %q", a.Status, a.Body)
		if a.Truncated {
			b.WriteString("…")
		}
	}
	if a.Acked {
		b.WriteString(": acknowledged")
	} else {
		b.WriteString(": " + a.Reason)
	}
	fmt.Fprintf(&b, " (%.1fms)", float64(a.Latency)/float64(time.Millisecond))
	return b.String()
}

// pushDryRun encodes the push locally and prints it as one curl command.
func pushDryRun(f pushFlags, fields baidupush.Fields, stdout, stderr io.Writer) error {
	c := f.local
	if c.URL == "" || c.Token == "" {
		return usageError{"push --dry-run: --url and --token are required (the fake's admin API never reveals a push token or key)"}
	}
	if c.Encrypted() && c.ClientID == "" {
		return usageError{fmt.Sprintf("push --dry-run: --client-id is required in %s mode (the trailing id of the encrypted block: the app's client_id)", c.Mode)}
	}
	if err := c.Validate(); err != nil {
		return usageError{"push --dry-run: " + strings.ReplaceAll(err.Error(), "\n", "; ")}
	}
	msgType, _ := fields.Get("MsgType")
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return err
	}
	msgID := mockserver.MsgIDBase + int64(binary.BigEndian.Uint64(rnd[:])%mockserver.MsgIDBase)
	all := baidupush.Fields{{Name: "ToUserName", Value: f.app}, {Name: "FromUserName", Value: f.user},
		{Name: "CreateTime", Number: time.Now().Unix(), IsNumber: true}}
	if msgType != mockserver.EventMsgType {
		all = append(all, baidupush.Field{Name: "MsgId", Number: msgID, IsNumber: true})
	}
	for _, x := range fields {
		all = all.Set(x)
	}
	baidupush.SortFields(all)
	p, err := baidupush.NewParams()
	if err != nil {
		return err
	}
	req, err := baidupush.EncodeFields(c, all, msgID, p)
	if err != nil {
		return usageError{"push --dry-run: " + strings.ReplaceAll(err.Error(), "\n", "; ")}
	}
	hr, err := req.HTTPRequest(context.Background(), c.URL)
	if err != nil {
		return usageError{"push --dry-run: --url: " + err.Error()}
	}
	plain, _ := all.MarshalFormat(c.WithDefaults(c.ClientID).Format)
	fmt.Fprintf(stderr, "# a dry run: nothing was sent. timestamp %s, nonce %s; the message inside:\n# %s\n", p.Timestamp, p.Nonce, strings.ReplaceAll(string(plain), "\n", "\n# "))
	_, err = fmt.Fprintf(stdout, "curl -sS -X POST %s -H %s --data-binary %s\n",
		shellQuote(hr.URL.String()), shellQuote("Content-Type: "+req.ContentType), shellQuote(string(req.Body)))
	return err
}

// shellQuote quotes s for a POSIX shell: in single quotes, each single quote inside written as
// a closing quote, an escaped quote and an opening quote.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
