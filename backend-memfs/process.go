package memfs

import "github.com/nfslock/nfslock/locker"

// firstPID is the pid of the first process spawned on each host.
const firstPID = 100

// Process is a simulated process on a Host: a pid that is alive until
// killed. It runs no code; a test plays its part, passing Options to
// locker.New so that the lock's claim names this process.
type Process struct {
	host *Host
	pid  int
	dead bool // guarded by host.fsys.mu
}

// Spawn starts a new, live process on the host. Pids are unique on a host
// and never reused: the first is 100, and each later one is one more.
func (h *Host) Spawn() *Process {
	h.fsys.mu.Lock()
	defer h.fsys.mu.Unlock()
	h.lastPID++
	p := &Process{host: h, pid: h.lastPID}
	h.procs[p.pid] = p
	return p
}

// ProcessAlive reports whether process pid on the host called host has been
// spawned and not killed. It reports false, and no error, for a host or pid
// that does not exist. Any Host of the FS answers for every host.
func (h *Host) ProcessAlive(host string, pid int) (bool, error) {
	h.fsys.mu.Lock()
	defer h.fsys.mu.Unlock()
	other, ok := h.fsys.hosts[host]
	if !ok {
		return false, nil
	}
	p, ok := other.procs[pid]
	return ok && !p.dead, nil
}

// PID returns the process's id.
func (p *Process) PID() int { return p.pid }

// Host returns the host the process runs on.
func (p *Process) Host() *Host { return p.host }

// Kill marks the process dead: from now on ProcessAlive reports false for
// it. Killing a dead process does nothing. Kill does not touch the
// filesystem, so any lock the process held stays behind, as after a crash.
func (p *Process) Kill() {
	p.host.fsys.mu.Lock()
	defer p.host.fsys.mu.Unlock()
	p.dead = true
}

// Alive reports whether the process has not been killed.
func (p *Process) Alive() bool {
	p.host.fsys.mu.Lock()
	defer p.host.fsys.mu.Unlock()
	return !p.dead
}

// Options returns the locker options that make a lock act for this process:
// locker.WithHostname with the host's name, locker.WithPID with the pid and
// locker.WithClock with the host's clock. The Host itself is the backend:
//
//	lk, err := locker.New(path, p.Host(), p.Options()...)
func (p *Process) Options() []locker.Option {
	return []locker.Option{
		locker.WithHostname(p.host.name),
		locker.WithPID(p.pid),
		locker.WithClock(p.host.Clock()),
	}
}
