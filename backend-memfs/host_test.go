package memfs

import (
	"context"
	"testing"
	"time"
)

func TestHostIdentity(t *testing.T) {
	fsys := New()
	a := fsys.Host("alpha")
	if fsys.Host("alpha") != a {
		t.Error("Host(alpha) returned a different *Host the second time")
	}
	if fsys.Host("beta") == a {
		t.Error("Host(beta) returned the *Host of alpha")
	}
	if a.Name() != "alpha" || a.FS() != fsys {
		t.Errorf("Name() = %q, FS() = %p; want alpha, %p", a.Name(), a.FS(), fsys)
	}
}

func TestHostsShareFiles(t *testing.T) {
	fsys := New()
	a, b := fsys.Host("alpha"), fsys.Host("beta")
	check(t, a.WriteFile("/claim", []byte("a"), 0o644))
	check(t, b.Link("/claim", "/lock"))
	fi, err := a.Stat("/lock")
	check(t, err)
	if fi.Links != 2 || fi.Size != 1 || fi.IsDir {
		t.Errorf("alpha's Stat of beta's link = %+v, want 2 links, size 1, not a directory", fi)
	}
}

func TestHostClockOffset(t *testing.T) {
	ctx := waitCtx(t)
	fsys := New()
	h := fsys.Host("skewed")
	clk := h.Clock()
	server := fsys.Clock()

	if got := clk.Now(); !got.Equal(server.Now()) {
		t.Errorf("with no offset, host Now() = %v, want server time %v", got, server.Now())
	}
	h.SetClockOffset(-3 * time.Second)
	if got, want := clk.Now(), server.Now().Add(-3*time.Second); !got.Equal(want) {
		t.Errorf("with offset -3s, host Now() = %v, want %v", got, want)
	}
	if got := h.ClockOffset(); got != -3*time.Second {
		t.Errorf("ClockOffset() = %v, want -3s", got)
	}
	server.Advance(time.Minute)
	if got, want := clk.Now(), server.Now().Add(-3*time.Second); !got.Equal(want) {
		t.Errorf("after advancing the server, host Now() = %v, want %v", got, want)
	}

	// The host's Sleep is the server clock's.
	done := make(chan error, 1)
	go func() { done <- clk.Sleep(context.Background(), 5*time.Second) }()
	check(t, server.BlockUntilSleepers(ctx, 1))
	server.Advance(5 * time.Second)
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("host clock Sleep = %v, want nil", err)
		}
	case <-ctx.Done():
		t.Fatal("host clock Sleep did not return when the server clock passed its deadline")
	}
}

func TestProcesses(t *testing.T) {
	fsys := New()
	a, b := fsys.Host("alpha"), fsys.Host("beta")
	p1, p2, q := a.Spawn(), a.Spawn(), b.Spawn()
	if p1.PID() != 100 || p2.PID() != 101 || q.PID() != 100 {
		t.Errorf("pids = %d, %d on alpha and %d on beta; want 100, 101 and 100", p1.PID(), p2.PID(), q.PID())
	}
	if p1.Host() != a || q.Host() != b {
		t.Error("Process.Host() is not the host that spawned it")
	}

	p1.Kill()
	p1.Kill() // killing twice is harmless
	if p1.Alive() || !p2.Alive() {
		t.Errorf("after killing p1: p1.Alive() = %v, p2.Alive() = %v; want false, true", p1.Alive(), p2.Alive())
	}

	tests := []struct {
		asker *Host
		host  string
		pid   int
		want  bool
	}{
		{b, "alpha", 100, false}, // killed
		{b, "alpha", 101, true},
		{a, "alpha", 101, true},
		{a, "beta", 100, true},
		{a, "beta", 101, false},  // never spawned
		{a, "gamma", 100, false}, // no such host
	}
	for _, tt := range tests {
		alive, err := tt.asker.ProcessAlive(tt.host, tt.pid)
		if alive != tt.want || err != nil {
			t.Errorf("%s.ProcessAlive(%s, %d) = %v, %v; want %v, nil", tt.asker.Name(), tt.host, tt.pid, alive, err, tt.want)
		}
	}
	if _, ok := fsys.hosts["gamma"]; ok {
		t.Error("ProcessAlive created the host it was asked about")
	}

	if r := a.Spawn(); r.PID() != 102 {
		t.Errorf("pid after a kill = %d, want 102 (pids are not reused)", r.PID())
	}
}

func TestProcessOptions(t *testing.T) {
	p := New().Host("alpha").Spawn()
	opts := p.Options()
	if len(opts) != 3 {
		t.Fatalf("Options() returned %d options, want 3 (hostname, pid, clock)", len(opts))
	}
	for i, opt := range opts {
		if opt == nil {
			t.Errorf("Options()[%d] is nil", i)
		}
	}
}
