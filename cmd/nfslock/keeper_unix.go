//go:build unix

package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// keeperDir is where the keepers of this user keep their files: under
// $XDG_RUNTIME_DIR, or a directory of the user's own in the temporary
// directory.
func keeperDir() (string, error) {
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		dir := filepath.Join(d, "nfslock")
		return dir, os.MkdirAll(dir, 0o700)
	}
	dir := filepath.Join(os.TempDir(), "nfslock-"+strconv.Itoa(os.Getuid()))
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return "", err
	}
	// Anyone may have made it first in a shared temporary directory.
	fi, err := os.Lstat(dir)
	if err != nil {
		return "", err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !fi.IsDir() || !ok || int(st.Uid) != os.Getuid() || fi.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("%s is not a directory of this user's alone", dir)
	}
	return dir, nil
}

// becomeKeeper makes this process the keeper of the lock at abs, held in
// mode m in the name of pid, and returns a function that ends that; or, if
// another keeper runs, returns its pid.
func becomeKeeper(abs string, m mode, pid int) (done func(), other int, err error) {
	dir, err := keeperDir()
	if err != nil {
		return nil, 0, err
	}
	name := filepath.Join(dir, keeperName(abs, m, pid))
	for {
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
		if err != nil {
			return nil, 0, err
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			data, _ := os.ReadFile(name)
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				other, _ := strconv.Atoi(strings.TrimSpace(string(data)))
				return nil, other, nil
			}
			return nil, 0, err
		}
		// The keeper before may have removed the name after we opened
		// it: then ours is a file no one else finds.
		fi, err1 := f.Stat()
		now, err2 := os.Lstat(name)
		if err1 != nil || err2 != nil || !os.SameFile(fi, now) {
			f.Close()
			continue
		}
		f.Truncate(0)
		f.WriteString(strconv.Itoa(os.Getpid()) + "\n")
		return func() {
			os.Remove(name)
			f.Close()
		}, 0, nil
	}
}
