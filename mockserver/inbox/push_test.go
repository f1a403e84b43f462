package inbox

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smartappmock/smartappmock/store"
)

// TestPushFields: the conversation reads a push entry's typed store.PushAttempt; other entries,
// and push entries without one, keep no push part.
func TestPushFields(t *testing.T) {
	t.Parallel()
	const id = 1_000_000_000_000_001
	tests := []struct {
		name   string
		e      store.Entry
		want   *inboxPush
		wantOK bool
	}{
		{
			name:   "UserMessageWithoutPushConfiguration_NotPushed",
			e:      store.Entry{Endpoint: store.EndpointUserMessage, Code: 0, Push: &store.PushAttempt{}},
			want:   &inboxPush{MsgID: "0"},
			wantOK: true,
		},
		{
			name:   "UserMessagePushed_ItsMsgID",
			e:      store.Entry{Endpoint: store.EndpointUserMessage, Push: &store.PushAttempt{MsgID: id}},
			want:   &inboxPush{MsgID: "1000000000000001", Pushed: true},
			wantOK: true,
		},
		{
			name: "AttemptAcknowledged_Acked",
			e: store.Entry{Endpoint: store.EndpointPush, Code: 0, Status: 200, LatencyMicros: 1500,
				Push: &store.PushAttempt{MsgID: id, Attempt: 2, Attempts: 3, Mode: "plain", Answer: "success"}},
			want:   &inboxPush{MsgID: "1000000000000001", Attempt: 2, Attempts: 3, Status: 200, Acked: true, LatencyUS: 1500, Body: "success", Pushed: true},
			wantOK: true,
		},
		{
			name: "DuplicateRefused_NotAckedWithItsFaults",
			e: store.Entry{Endpoint: store.EndpointPush, Code: 1, Status: 403,
				Push: &store.PushAttempt{MsgID: id, Attempt: 2, Attempts: 3, Duplicate: true, Answer: "no", Faults: []string{"duplicate", "delay"}}},
			want: &inboxPush{MsgID: "1000000000000001", Attempt: 2, Attempts: 3, Status: 403, Duplicate: true, Body: "no",
				Faults: "duplicate,delay", Pushed: true},
		},
		{
			name:   "PushEntryWithoutPushAttempt_LeftAsItIs",
			e:      store.Entry{Endpoint: store.EndpointPush, Code: 1},
			wantOK: true,
		},
		{
			name:   "SendEntry_LeftAsItIs",
			e:      store.Entry{Endpoint: "send", Push: &store.PushAttempt{MsgID: 1}},
			wantOK: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			it := inboxItem{OK: true}
			pushFields(&it, &tt.e)
			if diff := cmp.Diff(tt.want, it.Push); diff != "" || it.OK != tt.wantOK {
				t.Errorf("pushFields() push part (-want +got):\n%s\nok %v, want %v", diff, it.OK, tt.wantOK)
			}
		})
	}
}
