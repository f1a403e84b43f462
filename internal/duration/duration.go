// Package duration is the one rule for a duration written in the configuration file, the admin
// API or a flag: a number with its unit ("48h", "30m", "90s", "250ms"). A number alone is
// refused with the fix, since 48 could be hours, minutes or seconds; "0" alone is zero.
//
// Package config's Duration is this package's; the flags and the admin API's clock read theirs
// with it too.
package duration

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Parse reads a duration with its unit, such as "48h", "30m", "90s" or "1.5s". A number without
// a unit, other than 0, is an error that suggests the three readings.
func Parse(text string) (time.Duration, error) {
	s := strings.TrimSpace(text)
	if _, err := strconv.ParseFloat(s, 64); err == nil && s != "0" {
		return 0, fmt.Errorf("duration %s has no unit: write %sh, %sm or %ss (hours, minutes, seconds)", s, s, s, s)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q (want e.g. 48h, 30m, 90s)", s)
	}
	return v, nil
}

// ParseJSON reads a JSON value as Parse does: a string ("2s"), or a number, which has no unit and
// is refused with Parse's fix rather than read as nanoseconds.
func ParseJSON(b []byte) (time.Duration, error) {
	s := strings.TrimSpace(string(b))
	if uq, err := strconv.Unquote(s); err == nil && strings.HasPrefix(s, `"`) {
		s = uq
	}
	return Parse(s)
}

// Duration is a time.Duration read with Parse from a file (YAML or JSON) and from JSON, and
// written as time.Duration writes it ("48h0m0s"). Its zero value is zero.
type Duration time.Duration

// String renders the duration as time.Duration does.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText renders the duration as String does, "48h0m0s".
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads the duration with Parse.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := Parse(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// UnmarshalJSON reads the duration with ParseJSON: "timeout": 2 is refused with the fix instead
// of meaning two nanoseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	v, err := ParseJSON(b)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}
