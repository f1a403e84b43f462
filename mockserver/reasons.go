package mockserver

import (
	"strconv"
	"sync/atomic"
	"time"

	"github.com/smartappmock/smartappmock/mockserver/fault"
	"github.com/smartappmock/smartappmock/store"
)

// The reasons of a send's answers: every sentence the decision gives (the X-Smartappmock-Reason
// header, the journal, the log) is worded here, from the typed facts the steps found, so that
// every store and replica says the same words.

// The token's reasons that carry no fact.
const (
	reasonTokenMissing   = "access_token: missing from the query and the body"
	reasonRefreshToken   = "access_token: this is a refresh token; send the access_token"
	reasonTokenNotIssued = "access_token: not issued by this fake (policy tokens: issued)"
	reasonTokenStale     = "access_token: has Baidu's shape but was not issued by this fake (stale from an earlier run?); get a new one"
	reasonTPTokenWanted  = "access_token: sendbytp takes an authorizer token (45.) of a third-party platform"
	reasonTPTokenRefused = "access_token: an authorizer token (45.) is for sendbytp, not custom/send"
	reasonForeignOpenID  = "open_id: belongs to another mini program (foreign_open_ids)"
	reasonNoWindow       = "window: no user message opened a window for this open_id (policy require_user_message)"
)

// beijing is the time zone of the real service's daily limits (UTC+8, no DST).
var beijing = time.FixedZone("CST", 8*3600)

func reasonTokenAppGone(app string) string { return "access_token: its app " + app + " is gone" }

func reasonTokenExpired(expires, appNow time.Time) string {
	return "access_token: expired at " + expires.Format(time.RFC3339) + " (app clock " + appNow.Format(time.RFC3339) + ")"
}

func reasonFaultBefore(p *fault.Plan) string {
	return "fault " + p.Describe() + " struck before the service: nothing was counted"
}

func reasonQPS(n, limit int, second string) string {
	return "qps limit: " + strconv.Itoa(n) + " of " + strconv.Itoa(limit) + " requests used in second " + second + " (app clock)"
}

func reasonDaily(n, limit int, day string) string {
	return "daily limit: " + strconv.Itoa(n) + " of " + strconv.Itoa(limit) + " requests used on " + day + " (Beijing time, app clock)"
}

func reasonCapabilityOff(app string) string {
	return "customer-service capability is off for app " + app
}

func reasonNotAUser(app string) string { return "open_id: not a user of app " + app + " (open_ids)" }

// reasonWindowRefused words a reply the window refused.
func reasonWindowRefused(t store.ReplyTake, rule store.WindowRule) string {
	opened := t.Window.OpenedAt.Format(time.RFC3339)
	switch t.Refusal {
	case store.ReplyExpired:
		return "window: the window opened at " + opened + " expired at " + t.Window.OpenedAt.Add(rule.Duration).Format(time.RFC3339) + " (app clock)"
	case store.ReplyFull:
		return "window: " + strconv.Itoa(t.Window.Replies) + " of " + strconv.Itoa(rule.MaxReplies) + " replies already sent in the window opened at " + opened + " (app clock)"
	default:
		return reasonNoWindow
	}
}

// reasonReply words a reply the window counted: the success path of every send, appended in a
// stack buffer, one allocation.
func reasonReply(n, limit int) string {
	var buf [80]byte
	b := append(buf[:0], "window: reply "...)
	b = strconv.AppendInt(b, int64(n), 10)
	b = append(b, " of "...)
	b = strconv.AppendInt(b, int64(limit), 10)
	return string(b)
}

// lastOnly holds the one-warning slice onlyWarning gave last.
var lastOnly atomic.Pointer[[]store.Warning]

// onlyWarning returns []store.Warning{w}, shared with the sends that got the same warning alone
// before (open_on_first_send: every reply under that policy), so that it costs neither an
// allocation per send nor an object per journal entry. The slice is read-only; its capacity is
// its length, so an append copies.
func onlyWarning(w store.Warning) []store.Warning {
	if p := lastOnly.Load(); p != nil && (*p)[0] == w {
		return *p
	}
	ws := []store.Warning{w}
	lastOnly.Store(&ws)
	return ws
}
