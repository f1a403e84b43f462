package webhook

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"time"

	"github.com/smartappmock/smartappmock/baidupush"
	"github.com/smartappmock/smartappmock/mockserver"
)

// The signing cases beyond a wrong signature. Baidu documents the signature itself, and that a
// bot must check it; it documents no freshness rule for timestamp and no rule for nonce [inf].
// Both cases are therefore graded should: a bot that fails them is not wrong by Baidu's rules,
// but whoever captured one signed plain push can replay or forge pushes with it (the signature
// of a plain push covers the token, timestamp and nonce, not the body).

// StaleAfter is the age of a push's timestamp past which a careful bot refuses it [inf]: five
// minutes, the usual window of signed webhooks. The kit's stale push is an hour old.
const StaleAfter = 5 * time.Minute

// staleAge is how old the kit's stale push is.
const staleAge = time.Hour

// openWindow has openID write without a message: the window opens, nothing is pushed, so the
// kit's own pushes can be replied to.
func (k *kit) openWindow(ctx context.Context, openID string) error {
	_, err := k.fake.Fake.UserWrites(ctx, mockserver.UserWrite{App: AppID, OpenID: openID})
	return err
}

// nextMessage returns a text message of openID with a MsgId of the kit's own.
func (k *kit) nextMessage(openID, content string) baidupush.Message {
	k.msgSeq++
	return baidupush.Message{ToUserName: AppID, FromUserName: openID, CreateTime: time.Now().Unix(), MsgType: baidupush.MsgTypeText,
		Content: content, MsgID: mockserver.MsgIDBase + 900_000_000 + k.msgSeq}
}

// staleTimestamp pushes a correctly signed plain push whose timestamp is an hour old, then a
// fresh one: the bot must reply to the fresh one only.
func (k *kit) staleTimestamp(ctx context.Context) []string {
	c, err := k.setPush(ctx, baidupush.ModePlain, baidupush.FormatJSON, 0)
	if err != nil {
		return errs(err)
	}
	const user = "user-stale-timestamp"
	if err := k.openWindow(ctx, user); err != nil {
		return errs(err)
	}
	client := baidupush.NewClient()
	defer client.CloseIdleConnections()
	old := time.Now().Add(-staleAge)
	stale := baidupush.Deliver(ctx, client, c, k.nextMessage(user, "from an hour ago"), baidupush.WithClock(func() time.Time { return old }))
	if fresh := baidupush.Deliver(ctx, client, c, k.nextMessage(user, "fresh")); !fresh.Delivered() {
		return []string{"a fresh push after the stale one was not acknowledged: " + fresh.Reason}
	}
	got := k.waitReplies(ctx, user, 1, ReplyWithin)
	if len(got) == 0 {
		return []string{fmt.Sprintf("no reply to the fresh push within %s", ReplyWithin)}
	}
	time.Sleep(Settle)
	if got = k.replies(ctx, user); len(got) != 1 {
		return []string{fmt.Sprintf("%d replies for a push whose timestamp is %s old and a fresh one; want 1: refuse a timestamp more than %s from now (answered %s)",
			len(got), staleAge, StaleAfter, attemptsText(stale))}
	}
	return nil
}

// replayedNonce pushes a plain push, then another message signed with the same timestamp and
// nonce (the signature is valid: it does not cover the body): the bot must not act on the
// second. The same bytes again would be a retry, which the duplicate case covers.
func (k *kit) replayedNonce(ctx context.Context) []string {
	c, err := k.setPush(ctx, baidupush.ModePlain, baidupush.FormatJSON, 0)
	if err != nil {
		return errs(err)
	}
	const user = "user-replayed-nonce"
	if err := k.openWindow(ctx, user); err != nil {
		return errs(err)
	}
	var seed [4 + baidupush.RandomSize]byte
	if _, err := io.ReadFull(rand.Reader, seed[:]); err != nil {
		return errs(err)
	}
	now := time.Now()
	same := func() []baidupush.Option { // the same timestamp and nonce for each push
		return []baidupush.Option{baidupush.WithClock(func() time.Time { return now }), baidupush.WithRand(bytes.NewReader(seed[:]))}
	}
	client := baidupush.NewClient()
	defer client.CloseIdleConnections()
	if first := baidupush.Deliver(ctx, client, c, k.nextMessage(user, "the real one"), same()...); !first.Delivered() {
		return []string{"the first push was not acknowledged: " + first.Reason}
	}
	if got := k.waitReplies(ctx, user, 1, ReplyWithin); len(got) == 0 {
		return []string{fmt.Sprintf("no reply to the first push within %s", ReplyWithin)}
	}
	forged := baidupush.Deliver(ctx, client, c, k.nextMessage(user, "forged with a captured signature"), same()...)
	time.Sleep(Settle)
	if got := k.replies(ctx, user); len(got) != 1 {
		return []string{fmt.Sprintf("%d replies: the bot acted on another message signed with a timestamp and nonce already used (answered %s); remember the nonces of the last %s and refuse one seen with other bytes",
			len(got), attemptsText(forged), StaleAfter)}
	}
	return nil
}
