package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"unicode/utf8"
)

// The admin token's sources, in the order they win: --admin-token, --admin-token-file,
// SMARTAPPMOCK_ADMIN_TOKEN, SMARTAPPMOCK_ADMIN_TOKEN_FILE. The environment and the file are the
// ways the docs show: a flag's value is in the process's command line, which every user of the
// machine can read (ps, /proc/PID/cmdline).

// adminTokenFlagWarning is logged at start when the token came from --admin-token.
const adminTokenFlagWarning = "the admin token was given with --admin-token, which every user of this machine can read in the process list (ps); " +
	"set SMARTAPPMOCK_ADMIN_TOKEN or use --admin-token-file FILE instead"

// maxAdminTokenFile is the largest token file read: a token is a line, not a document.
const maxAdminTokenFile = 4 << 10

// adminTokenSource is where serve's admin token came from.
type adminTokenSource struct {
	flag, file        string // --admin-token, --admin-token-file
	envToken, envFile string // SMARTAPPMOCK_ADMIN_TOKEN, SMARTAPPMOCK_ADMIN_TOKEN_FILE
	flagSet, fileSet  bool   // the flags were on the command line
}

// resolve returns the token and whether it came from the --admin-token flag. Two sources of the
// same kind (both flags, or both variables) are a usage error; a flag wins over a variable.
func (s adminTokenSource) resolve() (token string, fromFlag bool, err error) {
	switch {
	case s.flagSet && s.fileSet:
		return "", false, usageError{"--admin-token and --admin-token-file go alone: give one of them"}
	case s.flagSet:
		return s.flag, s.flag != "", nil
	case s.fileSet:
		t, err := readAdminTokenFile("--admin-token-file", s.file)
		return t, false, err
	case s.envToken != "" && s.envFile != "":
		return "", false, usageError{"SMARTAPPMOCK_ADMIN_TOKEN and SMARTAPPMOCK_ADMIN_TOKEN_FILE are both set: set one of them"}
	case s.envFile != "":
		t, err := readAdminTokenFile("SMARTAPPMOCK_ADMIN_TOKEN_FILE", s.envFile)
		return t, false, err
	}
	return s.envToken, false, nil
}

// readAdminTokenFile reads a token file: its content without the surrounding white space (the
// newline an editor or `echo` adds). An empty file, a token with white space or control characters
// inside, or a file over 4 KiB is refused, naming the setting and the file, never the content.
func readAdminTokenFile(setting, file string) (string, error) {
	if file == "" {
		return "", usageError{setting + " is empty: name the file that holds the admin token"}
	}
	f, err := os.Open(file)
	if err != nil {
		return "", fmt.Errorf("%s: %w", setting, err)
	}
	defer f.Close()
	buf, err := io.ReadAll(io.LimitReader(f, maxAdminTokenFile+1))
	if err != nil {
		return "", fmt.Errorf("%s: reading %s: %w", setting, file, err)
	}
	if len(buf) > maxAdminTokenFile {
		return "", fmt.Errorf("%s: %s is larger than %d bytes: it should hold the admin token alone", setting, file, maxAdminTokenFile)
	}
	tok := bytes.TrimSpace(buf)
	if len(tok) == 0 {
		return "", fmt.Errorf("%s: %s is empty: write the admin token in it", setting, file)
	}
	if !utf8.Valid(tok) || bytes.ContainsFunc(tok, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return "", fmt.Errorf("%s: %s holds more than one token (white space or control characters inside): write the token alone", setting, file)
	}
	return string(tok), nil
}
