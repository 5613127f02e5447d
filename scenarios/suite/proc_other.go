//go:build !unix

package suite

import "os/exec"

func setProcAttr(*exec.Cmd) {}
