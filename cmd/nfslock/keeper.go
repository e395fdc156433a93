package main

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
)

// A lock held in one process's name needs one keeper: nfslock keep run
// twice finds the first keeper and starts no second one. The keepers of
// a host tell each other apart by a local file each holds locked while it
// runs (see keeper_unix.go), named for the lock file's absolute path, the
// mode and the pid; the lock's directory, shared with other hosts, is not
// the place for it.

// keeperName is the base name of the file of the keeper of the lock at
// abs, held in mode m in the name of pid.
func keeperName(abs string, m mode, pid int) string {
	sum := sha256.Sum256([]byte(abs + "\x00" + strconv.Itoa(int(m)) + "\x00" + strconv.Itoa(pid)))
	return "keep-" + hex.EncodeToString(sum[:12])
}
