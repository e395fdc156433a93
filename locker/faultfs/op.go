package faultfs

import "fmt"

// Op names one method of locker.FS, or of the optional capabilities that
// FS forwards and can fail (locker.DirReader), for FS.Fail, LoseReply,
// Calls and the hook.
type Op int

// The operations of locker.FS, and locker.DirReader's.
const (
	OpWriteFile Op = iota + 1
	OpReadFile
	OpLink
	OpStat
	OpChtimes
	OpRename
	OpRemove
	OpReadDirNames // locker.DirReader's ReadDirNames
)

// numOps bounds the valid Op values.
const numOps = int(OpReadDirNames) + 1

// String returns the name of the locker.FS method, such as "Link".
func (op Op) String() string {
	switch op {
	case OpWriteFile:
		return "WriteFile"
	case OpReadFile:
		return "ReadFile"
	case OpLink:
		return "Link"
	case OpStat:
		return "Stat"
	case OpChtimes:
		return "Chtimes"
	case OpRename:
		return "Rename"
	case OpRemove:
		return "Remove"
	case OpReadDirNames:
		return "ReadDirNames"
	}
	return fmt.Sprintf("Op(%d)", int(op))
}
