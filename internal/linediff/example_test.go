package linediff_test

import (
	"fmt"

	"github.com/smartappmock/smartappmock/internal/linediff"
)

func ExampleDiff() {
	want := []string{
		"POST /oauth/2.0/token -> oauth ok",
		"POST /rest/2.0/smartapp/message/custom/send -> gateway 110",
		"POST /rest/2.0/smartapp/message/custom/send -> business 0",
	}
	got := []string{
		"POST /oauth/2.0/token -> oauth ok",
		"POST /rest/2.0/smartapp/message/custom/send -> gateway 110",
		"POST /rest/2.0/smartapp/message/custom/send -> gateway 110",
	}
	fmt.Print(linediff.Diff(linediff.Quote(want), linediff.Quote(got)))
	// Output:
	//   "POST /oauth/2.0/token -> oauth ok"
	//   "POST /rest/2.0/smartapp/message/custom/send -> gateway 110"
	// - "POST /rest/2.0/smartapp/message/custom/send -> business 0"
	// + "POST /rest/2.0/smartapp/message/custom/send -> gateway 110"
}
