package redisstore

import (
	"fmt"
	"runtime"
	"testing"
)

// verdictTB records how a helper ended the test.
type verdictTB struct {
	testing.TB
	fatal, skip string
}

func (v *verdictTB) Helper() {}

func (v *verdictTB) Fatal(args ...any) { v.fatal = fmt.Sprint(args...); runtime.Goexit() }

func (v *verdictTB) Skip(args ...any) { v.skip = fmt.Sprint(args...); runtime.Goexit() }

func TestNeedRedisServer_WithoutTheBinary(t *testing.T) {
	for _, tc := range []struct {
		name, ci  string
		wantFatal string
		wantSkip  string
	}{
		{"SkipsLocally", "", "", skipReason},
		{"FailsUnderCI", "true", skipReason, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("PATH", t.TempDir()) // no redis-server there
			t.Setenv("CI", tc.ci)
			v := &verdictTB{TB: t}
			done := make(chan struct{})
			go func() { defer close(done); needRedisServer(v) }()
			<-done
			if v.fatal != tc.wantFatal || v.skip != tc.wantSkip {
				t.Errorf("fatal %q skip %q, want fatal %q skip %q", v.fatal, v.skip, tc.wantFatal, tc.wantSkip)
			}
		})
	}
}
