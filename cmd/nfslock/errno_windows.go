//go:build windows

package main

import (
	"errors"
	"fmt"
	"syscall"
)

// errnoName names the system error in err, with its number.
func errnoName(err error) string {
	var en syscall.Errno
	if errors.As(err, &en) {
		return fmt.Sprintf("error %d (%v)", uint32(en), en)
	}
	return err.Error()
}
