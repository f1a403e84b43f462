//go:build unix

// Package procgroup runs a kit's command in a process group of its own, so stopping the command
// stops what it started too (the contract kit's and the webhook kit's programs under test).
package procgroup

import (
	"os/exec"
	"syscall"
)

// Set runs the command in its own process group and kills the whole group when the kit
// stops it, so that a shell script's curl does not outlive it.
func Set(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		if cmd.Process == nil {
			return nil
		}
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
