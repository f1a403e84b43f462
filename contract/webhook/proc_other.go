//go:build !unix

package webhook

import "os/exec"

// killGroup leaves the default: the kit kills the command itself.
func killGroup(*exec.Cmd) {}
