//go:build unix

package webhook

import (
	"os/exec"
	"syscall"
)

// killGroup runs the command in its own process group and kills the whole group when the kit
// stops it, so that a shell script's curl does not outlive it.
func killGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		if cmd.Process == nil {
			return nil
		}
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
