//go:build !unix

package probe

import (
	"errors"
	"fmt"
	"syscall"
)

// ErrnoName names the system error in err, with its number, and says "ok"
// for nil.
func ErrnoName(err error) string {
	if err == nil {
		return "ok"
	}
	var en syscall.Errno
	if errors.As(err, &en) {
		return fmt.Sprintf("error %d (%v)", uint32(en), en)
	}
	return err.Error()
}
