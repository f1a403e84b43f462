package redisstore

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestOpen(t *testing.T) {
	t.Parallel()
	const secret = "s3cr3t-pw"
	m := newAuthMini(t, "user", secret)
	for _, tc := range []struct {
		name    string
		url     string
		opts    Options
		wantErr string // "" for success
		wantDB  int
	}{
		{"PasswordAccepted", "redis://user:" + secret + "@" + m.Addr() + "/2", Options{}, "", 2},
		{"WrongPassword_ErrorWithoutThePassword", "redis://user:not-" + secret + "@" + m.Addr() + "/0", Options{}, "does not answer", 0},
		{"Unreachable_ErrorWithoutThePassword", "redis://user:" + secret + "@127.0.0.1:1/0", Options{}, "does not answer", 0},
		{"UnparsableURL_ErrorWithoutThePassword", "redis://user:" + secret + "@[::1/0", Options{}, "does not parse", 0},
		{"BadDatabase_ErrorWithoutThePassword", "redis://user:" + secret + "@" + m.Addr() + "/two", Options{}, "invalid database", 0},
		{"UnknownScheme", "http://" + m.Addr(), Options{}, "invalid URL scheme", 0},
		{"BraceInPrefix", "redis://" + m.Addr(), Options{Prefix: "x{y}:"}, "brace", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			s, err := Open(ctx, tc.url, tc.opts)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				if strings.Contains(s.String(), secret) || !strings.Contains(s.String(), "xxxxx") {
					t.Errorf("String() = %q, want the password replaced", s.String())
				}
				if db := s.rdb.Options().DB; db != tc.wantDB {
					t.Errorf("database %d, want %d", db, tc.wantDB)
				}
				return
			}
			if err == nil {
				s.Close()
				t.Fatalf("Open(%q) succeeded, want an error with %q", tc.url, tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %q, want it to contain %q", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q shows the password", err)
			}
		})
	}
}

func TestOpen_UnixSocketWithDatabase(t *testing.T) {
	t.Parallel()
	r := startRedisServer(t)
	s := openT(t, r.URL()+"?db=3", Options{})
	if db := s.rdb.Options().DB; db != 3 {
		t.Errorf("database %d, want 3", db)
	}
	if err := s.PutSession(context.Background(), "sid", time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	other := openT(t, r.URL(), Options{}) // database 0
	if ok, _ := other.Session(context.Background(), "sid", time.Now()); ok {
		t.Error("a session written to database 3 is seen in database 0")
	}
	if !strings.HasPrefix(s.String(), "redis store unix://") {
		t.Errorf("String() = %q", s.String())
	}
}
