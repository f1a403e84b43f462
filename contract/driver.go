package contract

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/smartappmock/smartappmock/contract/internal/procgroup"
)

// driver runs one kind of client.
type driver interface {
	open(c Conn) (session, error)
}

// session is one client, for the messages of one case.
type session interface {
	send(ctx context.Context, m Message) Outcome
	close()
}

// goDriver runs a Go Client.
type goDriver struct {
	newClient func(Conn) Client
}

func (d goDriver) open(c Conn) (s session, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("newClient panicked: %v", p)
		}
	}()
	cl := d.newClient(c)
	if cl == nil {
		return nil, errors.New("newClient returned nil")
	}
	return goSession{cl}, nil
}

type goSession struct{ c Client }

// sendGrace is how long the kit waits for a Go client to return after its context is done.
const sendGrace = 5 * time.Second

func (s goSession) send(ctx context.Context, m Message) Outcome {
	start := time.Now()
	done := make(chan Outcome, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- Outcome{Crash: fmt.Sprintf("Send panicked: %v", p)}
			}
		}()
		done <- outcomeOf(s.c.Send(ctx, m))
	}()
	var o Outcome
	select {
	case o = <-done:
	case <-ctx.Done():
		t := time.NewTimer(sendGrace)
		select {
		case o = <-done:
		case <-t.C:
			o = Outcome{Crash: fmt.Sprintf("Send did not return %s after its context was done (it must honour ctx)", sendGrace)}
		}
		t.Stop()
	}
	o.Elapsed = time.Since(start)
	return o
}

func (s goSession) close() {}

// CommandEnv returns the environment variables the kit gives a client command for one message:
//
//	SMARTAPP_BASE_URL       what replaces https://openapi.baidu.com
//	SMARTAPP_CLIENT_ID      the App Key
//	SMARTAPP_CLIENT_SECRET  the App Secret
//	SMARTAPP_USER_TYPE      1 or 2
//	SMARTAPP_OPEN_ID        the user
//	SMARTAPP_MSG_TYPE       text or image
//	SMARTAPP_CONTENT        the text (empty for an image)
//	SMARTAPP_PIC_URL        the image link (empty for a text)
//	SMARTAPP_TOKEN_CACHE    a file the command may keep its access token in between messages
//	SMARTAPP_CASE           the case name, for the command's own logs
//	SMARTAPP_ENDPOINT       send or sendbytp (Conn.Endpoint)
//	SMARTAPP_TP_CLIENT_ID   sendbytp: the platform key
//	SMARTAPP_TP_TICKET      sendbytp: the platform's ticket
//	SMARTAPP_AUTH_CODE      sendbytp: the app's authorization code (exchange it once)
//	SMARTAPP_TIMEOUT        how long to wait for one answer, in whole seconds (Conn.AnswerTimeout; absent when 0)
//	SMARTAPP_TEMPLATE_ID    messages family: the template of the user's consent (fall back on 90001)
//	SMARTAPP_SUBSCRIBE_ID   messages family: the subscribe id of that consent
//	SMARTAPP_CHECK_TEXT     messages family: 1 when each text must pass syncCheckText first
func CommandEnv(c Conn, m Message, caseName string) []string {
	endpoint := c.Endpoint
	if endpoint == "" {
		endpoint = EndpointSend
	}
	env := []string{
		"SMARTAPP_BASE_URL=" + c.BaseURL,
		"SMARTAPP_CLIENT_ID=" + c.ClientID,
		"SMARTAPP_CLIENT_SECRET=" + c.ClientSecret,
		"SMARTAPP_USER_TYPE=" + strconv.Itoa(m.UserType),
		"SMARTAPP_OPEN_ID=" + m.OpenID,
		"SMARTAPP_MSG_TYPE=" + m.MsgType,
		"SMARTAPP_CONTENT=" + m.Content,
		"SMARTAPP_PIC_URL=" + m.PicURL,
		"SMARTAPP_TOKEN_CACHE=" + c.TokenCache,
		"SMARTAPP_CASE=" + caseName,
		"SMARTAPP_ENDPOINT=" + endpoint,
		"SMARTAPP_TP_CLIENT_ID=" + c.PlatformKey,
		"SMARTAPP_TP_TICKET=" + c.PlatformTicket,
		"SMARTAPP_AUTH_CODE=" + c.AuthorizationCode,
	}
	if c.TemplateID != "" {
		env = append(env, "SMARTAPP_TEMPLATE_ID="+c.TemplateID, "SMARTAPP_SUBSCRIBE_ID="+c.SubscribeID)
	}
	if c.CheckText {
		env = append(env, "SMARTAPP_CHECK_TEXT=1")
	}
	if secs := int(c.AnswerTimeout / time.Second); secs > 0 {
		env = append(env, "SMARTAPP_TIMEOUT="+strconv.Itoa(secs))
	}
	return env
}

// cmdDriver runs a client command once per message.
type cmdDriver struct {
	argv []string
}

func (d cmdDriver) open(c Conn) (session, error) { return &cmdSession{argv: d.argv, conn: c}, nil }

type cmdSession struct {
	argv []string
	conn Conn
}

func (s *cmdSession) close() {}

// tailLines returns the last n non-empty lines of b.
func tailLines(b []byte, n int) string {
	ls := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(ls) > n {
		ls = ls[len(ls)-n:]
	}
	return strings.TrimSpace(strings.Join(ls, "\n"))
}

// codeLine reads the optional last line of JSON on stdout: {"errno":N} or {"error_code":N}.
func codeLine(stdout []byte) (int, bool) {
	last := tailLines(stdout, 1)
	if !strings.HasPrefix(last, "{") {
		return 0, false
	}
	var v struct {
		Errno     *int `json:"errno"`
		ErrorCode *int `json:"error_code"`
	}
	if json.Unmarshal([]byte(last), &v) != nil {
		return 0, false
	}
	switch {
	case v.Errno != nil && *v.Errno != 0:
		return *v.Errno, true
	case v.ErrorCode != nil:
		return *v.ErrorCode, true
	case v.Errno != nil:
		return 0, true
	}
	return 0, false
}

func (s *cmdSession) send(ctx context.Context, m Message) Outcome {
	start := time.Now()
	cmd := exec.CommandContext(ctx, s.argv[0], s.argv[1:]...)
	cmd.Env = append(os.Environ(), CommandEnv(s.conn, m, caseFromCtx(ctx))...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 2 * time.Second
	procgroup.Set(cmd)
	err := cmd.Run()
	o := Outcome{Elapsed: time.Since(start), Err: tailLines(stderr.Bytes(), 5)}
	o.Code, o.Named = codeLine(stdout.Bytes())
	var ee *exec.ExitError
	switch {
	case err == nil:
		o.Delivered = true
	case ctx.Err() != nil:
		o.Crash = "stopped by the kit"
	case errors.As(err, &ee) && ee.ExitCode() == -1:
		o.Crash = "the command died: " + ee.String()
	case errors.As(err, &ee):
		// A normal "not delivered".
	default:
		o.Crash = "the command could not run: " + err.Error()
	}
	if o.Named && o.Code == 0 && !o.Delivered {
		o.Named = false
	}
	return o
}

type caseKey struct{}

func withCase(ctx context.Context, name string) context.Context {
	return context.WithValue(ctx, caseKey{}, name)
}

func caseFromCtx(ctx context.Context) string {
	s, _ := ctx.Value(caseKey{}).(string)
	return s
}

// NothingSentError stops a run whose client failed its first message without making a single
// HTTP request: the client is broken (a mistyped path, a missing module), not the cases.
type NothingSentError struct {
	// Case is the case whose first message failed.
	Case string
	// Stderr is the tail of the client's stderr (a command), or its error (a Go client).
	Stderr string
	// Crash says how the client failed to answer at all, if it did (see Outcome.Crash).
	Crash string
}

// Error renders "the client failed before sending anything: <its stderr>".
func (e *NothingSentError) Error() string {
	why := e.Stderr
	switch {
	case why == "" && e.Crash != "":
		why = e.Crash
	case why == "":
		why = "(it printed nothing on stderr)"
	}
	return "the client failed before sending anything: " + why
}

// nothingSent returns a *NothingSentError when the trial's client failed its first message without
// a request, or nil.
func nothingSent(tr *trial) error {
	if tr == nil || len(tr.ex) > 0 || len(tr.outcomes) == 0 || tr.outcomes[0].Delivered {
		return nil
	}
	o := tr.outcomes[0]
	return &NothingSentError{Case: tr.c.Name, Stderr: o.Err, Crash: o.Crash}
}
