package config

import (
	"strings"
	"testing"
)

func TestParse_Users(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, yaml, wantErr string
	}{
		{"Valid", "version: 1\npolicy: {open_ids: issued}\napps:\n  - {client_id: k, client_secret: s, entity: acme, users: [{open_id: u1, account: a}, {guest: true}]}\n", ""},
		{"DuplicateOpenID", "version: 1\napps:\n  - {client_id: k, client_secret: s, users: [{open_id: u1}, {open_id: u1}]}\n", `apps[0].users[1].open_id: duplicate open_id "u1"`},
		{"GuestWithAccount", "version: 1\napps:\n  - {client_id: k, client_secret: s, users: [{guest: true, account: a}]}\n", "apps[0].users[0].account: a guest has no Baidu account"},
		{"MagicOpenID", "version: 1\napps:\n  - {client_id: k, client_secret: s, users: [{open_id: errno_3001}]}\n", "is a magic value"},
		{"BadSex", "version: 1\napps:\n  - {client_id: k, client_secret: s, users: [{sex: 3}]}\n", "apps[0].users[0].sex: must be 0"},
		{"UnknownPolicy", "version: 1\npolicy: {open_ids: some}\n", `policy.open_ids: must be "any" or "issued", got "some"`},
		{"ProfileBaiduWithAny", "version: 1\npolicy: {profile: baidu, open_ids: any}\n", "policy.open_ids: is any, but policy.profile baidu sets issued"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Parse("users.yaml", []byte(tt.yaml))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Parse: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Parse error %v, want one containing %q", err, tt.wantErr)
			case tt.wantErr == "" && c.Policy.OpenIDs != OpenIDsIssued:
				t.Errorf("policy.open_ids %q, want issued", c.Policy.OpenIDs)
			}
		})
	}
}
