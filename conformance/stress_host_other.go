//go:build !linux

package conformance

import (
	"errors"
	"os/exec"
)

// inOwnHost reports false: only Linux gives a process a host name of its
// own; the workers then write their host names with locker.WithHostname.
func inOwnHost(*exec.Cmd) bool { return false }

func setHostname(string) error { return errors.ErrUnsupported }
