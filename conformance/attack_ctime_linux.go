package conformance

import (
	"fmt"
	"os"
	"syscall"
	"time"
)

// inodeTimes describes what of path's inode DescribeOnDisk does not: its
// change time, inode number and link count.
func inodeTimes(path string) string {
	fi, err := os.Lstat(path)
	if err != nil {
		return ", " + err.Error()
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	return fmt.Sprintf(", ctime %s, inode %d, %d link(s)", time.Unix(st.Ctim.Unix()).Format(time.RFC3339Nano), st.Ino, st.Nlink)
}
