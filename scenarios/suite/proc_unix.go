//go:build unix

package suite

import (
	"os/exec"
	"syscall"
)

// setProcAttr puts a spawned service in a process group of its own, so
// that a Ctrl-C at the terminal reaches leakgate, which then stops the
// service itself after the run, rather than the service mid-run.
func setProcAttr(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }
