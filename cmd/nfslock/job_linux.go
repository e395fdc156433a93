package main

import (
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// setDeathSignal has the kernel send the command SIGKILL when nfslock
// dies: without nfslock the lock is not kept alive.
func setDeathSignal(attr *syscall.SysProcAttr) { attr.Pdeathsig = syscall.SIGKILL }

// startDying starts cmd, whose death signal fires when the thread that
// forked it exits, not the process. Go ends a thread when a goroutine
// locked to it exits, so the fork is made from a locked thread that stays
// locked, and alive, for as long as nfslock runs: the supervising goroutine
// is main's and it never unlocks.
func startDying(cmd *exec.Cmd) error {
	runtime.LockOSThread()
	return cmd.Start()
}

// becomeSubreaper makes nfslock the parent of the processes its
// descendants leave orphaned, so that they can be found and ended.
func becomeSubreaper() { unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) }

// descendants lists the processes descended from nfslock, but the guard
// (skip) and its own, from /proc.
func descendants(skip int) []process {
	procs := processes()
	children := map[int][]int{}
	for pid, p := range procs {
		children[p.ppid] = append(children[p.ppid], pid)
	}
	var out []process
	queue := children[os.Getpid()]
	for len(queue) > 0 {
		pid := queue[0]
		queue = queue[1:]
		if pid == skip {
			continue
		}
		out = append(out, procs[pid])
		queue = append(queue, children[pid]...)
	}
	return out
}

// reapOrphans reaps nfslock's children that have exited but the guard.
func reapOrphans(skip int) {
	self := os.Getpid()
	for pid, p := range processes() {
		if p.ppid == self && p.zombie && pid != skip {
			var ws syscall.WaitStatus
			syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
		}
	}
}

type process struct {
	pid, ppid, pgrp int
	zombie          bool
}

func processes() map[int]process {
	ps := map[int]process{}
	d, err := os.Open("/proc")
	if err != nil {
		return ps
	}
	defer d.Close()
	names, _ := d.Readdirnames(-1)
	for _, n := range names {
		pid, err := strconv.Atoi(n)
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + n + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may hold spaces and parentheses.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 3 {
			continue
		}
		ppid, err1 := strconv.Atoi(f[1])
		pgrp, err2 := strconv.Atoi(f[2])
		if err1 != nil || err2 != nil {
			continue
		}
		ps[pid] = process{pid: pid, ppid: ppid, pgrp: pgrp, zombie: f[0] == "Z"}
	}
	return ps
}
