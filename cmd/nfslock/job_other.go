//go:build unix && !linux

package main

import (
	"os/exec"
	"syscall"
)

// Only Linux has a death signal and subreapers: elsewhere the job's group
// is ended by the guard when nfslock dies, and processes that leave the
// group are not found.

func setDeathSignal(*syscall.SysProcAttr) {}
func startDying(cmd *exec.Cmd) error      { return cmd.Start() }
func becomeSubreaper()                    {}
func descendants(skip int) []process      { return nil }
func reapOrphans(skip int)                {}

type process struct{ pid, pgrp int }
