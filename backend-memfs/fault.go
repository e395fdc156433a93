package memfs

import (
	"github.com/nfslock/nfslock/locker"
	"github.com/nfslock/nfslock/locker/faultfs"
)

// FaultFS is the fault-injecting wrapper of package faultfs, which wraps any
// locker.FS, a Host among them. It is an alias, so a *FaultFS is a
// *faultfs.FS and either name may be used.
type FaultFS = faultfs.FS

// NewFaultFS is faultfs.New: it returns a FaultFS that forwards to inner.
func NewFaultFS(inner locker.FS) *FaultFS { return faultfs.New(inner) }

// Op is faultfs.Op, which names an operation a FaultFS can fail.
type Op = faultfs.Op

// The operations a FaultFS can fail, as faultfs names them.
const (
	OpWriteFile    = faultfs.OpWriteFile
	OpReadFile     = faultfs.OpReadFile
	OpLink         = faultfs.OpLink
	OpStat         = faultfs.OpStat
	OpChtimes      = faultfs.OpChtimes
	OpRename       = faultfs.OpRename
	OpRemove       = faultfs.OpRemove
	OpReadDirNames = faultfs.OpReadDirNames
)
