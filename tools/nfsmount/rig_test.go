//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nfslock/nfslock/tools/nfsmount/internal/nfs3"
	"github.com/nfslock/nfslock/tools/nfsmount/internal/sunrpc"
)

// runClientEnv makes the test binary run as nfsmount: the rig and the
// tests start clients that way, so that the client under test is the one
// this test binary was built from.
const runClientEnv = "NFSMOUNT_TEST_RUN_CLIENT"

func TestMain(m *testing.M) {
	if os.Getenv(runClientEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// rig is a running scripts/nfs-rig.sh.
type rig struct {
	a, b, cached string // the mounts
	export       string // the exported directory, on the server's side
	server       string // host:/export
	ports        string // port=N,mountport=N
	env          []string
}

// startRig brings up scripts/nfs-rig.sh with this test binary as the
// client, and takes it down when the test ends. It skips the test where
// the rig cannot run.
func startRig(t *testing.T) *rig {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: not starting an NFS server")
	}
	const install = "it needs root and: apt-get install nfs-ganesha nfs-ganesha-vfs rpcbind fuse3"
	if os.Geteuid() != 0 {
		t.Skip("not root: the NFS rig (Ganesha's VFS backend, FUSE mounts) needs root; " + install)
	}
	for _, cmd := range []string{"ganesha.nfsd", "rpcbind", "fusermount3"} {
		if _, err := exec.LookPath(cmd); err != nil {
			if _, err := os.Stat("/usr/sbin/" + cmd); err != nil {
				t.Skipf("%s is not installed; %s", cmd, install)
			}
		}
	}
	if libs, _ := filepath.Glob("/usr/lib/*/ganesha/libfsalvfs.so"); len(libs) == 0 {
		t.Skip("Ganesha's VFS backend is not installed; " + install)
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Skip("/dev/fuse is missing: no FUSE here")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "NFSLOCK_NFS_") {
			r.env = append(r.env, kv)
		}
	}
	r.env = append(r.env, "NFSLOCK_NFS_RIG_DIR="+filepath.Join(t.TempDir(), "rig"), "NFSLOCK_NFS_CLIENT="+exe, runClientEnv+"=1")
	rigCmd := func(arg string) (string, error) {
		cmd := exec.Command("bash", "../../scripts/nfs-rig.sh", arg)
		cmd.Env = r.env
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if s := strings.TrimSpace(stderr.String()); s != "" {
			t.Logf("nfs-rig.sh %s:\n%s", arg, s)
		}
		return string(out), err
	}
	t.Cleanup(func() {
		if _, err := rigCmd("down"); err != nil {
			t.Errorf("nfs-rig.sh down: %v", err)
		}
	})
	out, err := rigCmd("up")
	if err != nil {
		t.Fatalf("nfs-rig.sh up: %v", err)
	}
	vars := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(strings.TrimPrefix(line, "export "), "="); ok {
			vars[k] = v
		}
	}
	r.a, r.b, r.cached = vars["NFSLOCK_NFS_A"], vars["NFSLOCK_NFS_B"], vars["NFSLOCK_NFS_CACHED"]
	r.export, r.server, r.ports = vars["NFSLOCK_NFS_EXPORT"], vars["NFSLOCK_NFS_SERVER"], vars["NFSLOCK_NFS_PORTS"]
	if r.a == "" || r.b == "" || r.cached == "" || r.server == "" || r.ports == "" {
		t.Fatalf("nfs-rig.sh up printed %q; want the mounts, the server and its ports", out)
	}
	return r
}

// TestRig checks through the rig's mounts what the lock relies on, on a
// real NFS server (NFS-Ganesha) and this client.
func TestRig(t *testing.T) {
	r := startRig(t)
	write := func(path, data string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("LosingLinkGivesEEXIST", func(t *testing.T) {
		// Two clients race to link their claims to one lock name, 50
		// times: one wins each round, the other gets EEXIST.
		for round := range 50 {
			lock := fmt.Sprintf("race%d.lock", round)
			claims := []string{filepath.Join(r.a, lock+"|a"), filepath.Join(r.b, lock+"|b")}
			links := []string{filepath.Join(r.a, lock), filepath.Join(r.b, lock)}
			for _, c := range claims {
				write(c, filepath.Base(c))
			}
			errs := make([]error, 2)
			var wg sync.WaitGroup
			for i := range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs[i] = os.Link(claims[i], links[i])
				}()
			}
			wg.Wait()
			if (errs[0] == nil) == (errs[1] == nil) {
				t.Fatalf("round %d: link errors %v and %v; want one nil and one EEXIST", round, errs[0], errs[1])
			}
			for _, err := range errs {
				if err != nil && !errors.Is(err, syscall.EEXIST) {
					t.Fatalf("round %d: the losing link: %v, want EEXIST", round, err)
				}
			}
			for _, p := range append(claims, links[0]) {
				os.Remove(p)
			}
		}
	})

	t.Run("LinkCount", func(t *testing.T) {
		claim, lock := filepath.Join(r.a, "count|claim"), filepath.Join(r.a, "count.lock")
		write(claim, "count|claim")
		if err := os.Link(claim, lock); err != nil {
			t.Fatal(err)
		}
		if n := nlink(t, filepath.Join(r.b, "count.lock")); n != 2 {
			t.Errorf("link count of the lock seen by the other client after the link: %d, want 2", n)
		}
		if data, err := os.ReadFile(filepath.Join(r.b, "count.lock")); err != nil || string(data) != "count|claim" {
			t.Errorf("the lock's contents seen by the other client: %q, %v; want the claim's name", data, err)
		}
		os.Remove(claim)
		if n := nlink(t, filepath.Join(r.b, "count.lock")); n != 1 {
			t.Errorf("link count after the claim's removal: %d, want 1", n)
		}
		os.Remove(lock)
	})

	t.Run("RenameIsAtomic", func(t *testing.T) {
		// While one client renames new files over a name 200 times, the
		// other always finds a whole file under it, never none. An open
		// or read may fail with ESTALE: the file it looked up was
		// replaced (and so removed) since, as on any NFS client (the
		// kernel looks the name up again once, then gives up).
		target := filepath.Join(r.a, "renamed")
		write(target, "version -1")
		stop := make(chan struct{})
		var bad []string
		var reads, stale int
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				select {
				case <-stop:
					return
				default:
				}
				reads++
				f, err := os.Open(filepath.Join(r.b, "renamed"))
				if errors.Is(err, syscall.ESTALE) {
					stale++
					continue
				}
				if err != nil {
					bad = append(bad, fmt.Sprintf("open: %v", err))
					continue
				}
				buf := make([]byte, 64)
				n, err := f.Read(buf)
				f.Close()
				switch {
				case errors.Is(err, syscall.ESTALE):
					stale++
				case err != nil || !strings.HasPrefix(string(buf[:n]), "version "):
					bad = append(bad, fmt.Sprintf("read: %q, %v", buf[:n], err))
				}
			}
		}()
		for i := range 200 {
			tmp := filepath.Join(r.a, fmt.Sprintf("renamed.tmp%d", i))
			write(tmp, fmt.Sprintf("version %d", i))
			if err := os.Rename(tmp, target); err != nil {
				t.Fatal(err)
			}
		}
		close(stop)
		<-done
		if len(bad) > 0 {
			t.Errorf("%d of %d reads through the other client found no whole file, e.g. %s", len(bad), reads, bad[0])
		}
		t.Logf("%d opens and reads through the other client during 200 renames; %d got ESTALE (replaced since the lookup)", reads, stale)
		os.Remove(target)
	})

	t.Run("ChangesSeenAtOnce", func(t *testing.T) {
		// With caching off, what one client does the other sees at once:
		// contents, times to the nanosecond, removal.
		a, b := filepath.Join(r.a, "seen"), filepath.Join(r.b, "seen")
		write(a, "one")
		if data, err := os.ReadFile(b); err != nil || string(data) != "one" {
			t.Fatalf("contents seen by the other client: %q, %v; want one", data, err)
		}
		for i := range 20 {
			want := time.Date(2031, 1, 2, 3, 4, 5, 123456789+i, time.UTC)
			if err := os.Chtimes(a, want, want); err != nil {
				t.Fatal(err)
			}
			if fi, err := os.Stat(b); err != nil || !fi.ModTime().Equal(want) {
				t.Fatalf("mtime seen by the other client right after Chtimes: %v (%v), want %v", fi.ModTime(), err, want)
			}
			write(a, strings.Repeat("x", i+1))
			if data, _ := os.ReadFile(b); len(data) != i+1 {
				t.Fatalf("contents seen by the other client right after a write: %d bytes, want %d", len(data), i+1)
			}
		}
		// UTIME_NOW is the server's clock (SET_TO_SERVER_TIME).
		before := time.Now()
		ts := []syscall.Timespec{{Nsec: utimeNow}, {Nsec: utimeNow}}
		if err := syscall.UtimesNano(a, ts); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(b); err != nil || fi.ModTime().Before(before.Add(-time.Second)) || fi.ModTime().After(time.Now().Add(time.Second)) {
			t.Errorf("mtime after UTIME_NOW seen by the other client: %v (%v); want about %v", fi.ModTime(), err, before)
		}
		os.Remove(a)
		if _, err := os.Stat(b); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("stat through the other client right after the removal: %v, want ENOENT", err)
		}
	})

	t.Run("FIFO", func(t *testing.T) {
		if err := syscall.Mkfifo(filepath.Join(r.a, "fifo"), 0o644); err != nil {
			t.Fatalf("mkfifo: %v (Ganesha's VFS backend makes FIFOs)", err)
		}
		fi, err := os.Lstat(filepath.Join(r.b, "fifo"))
		if err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
			t.Errorf("the FIFO seen by the other client: %v, %v; want a named pipe", fi, err)
		}
		os.Remove(filepath.Join(r.a, "fifo"))
	})

	t.Run("SillyRename", func(t *testing.T) {
		path := filepath.Join(r.a, "open-victim")
		write(path, "still readable")
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		silly := sillyNames(t, r.b)
		if len(silly) != 1 {
			t.Errorf("after removing a file open on its client, the other client lists %q; want one .nfs name", silly)
		}
		if _, err := os.Stat(filepath.Join(r.b, "open-victim")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the removed name seen by the other client: %v, want ENOENT", err)
		}
		buf := make([]byte, 64)
		if n, err := f.Read(buf); err != nil || string(buf[:n]) != "still readable" {
			t.Errorf("reading the removed file through its open handle: %q, %v", buf[:n], err)
		}
		f.Close()
		// The .nfs name goes when the kernel releases the handle, just
		// after close returns.
		deadline := time.Now().Add(5 * time.Second)
		for len(sillyNames(t, r.b)) > 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if left := sillyNames(t, r.b); len(left) > 0 {
			t.Errorf("5 s after the last close, %q are still there; want them removed", left)
		}
	})

	t.Run("CachedMount", func(t *testing.T) {
		// The default-caching mount keeps attributes (acregmin 3 s) and
		// absent names (lookupcache=all, as long as the directory's
		// attributes, acdirmin 30 s) as the Linux client does; an open
		// revalidates (cto). The checks run well within those 3 s.
		a, c := filepath.Join(r.a, "cached"), filepath.Join(r.cached, "cached")
		write(a, "x")
		old, err := os.Stat(c)
		if err != nil {
			t.Fatal(err)
		}
		later := old.ModTime().Add(time.Hour)
		if err := os.Chtimes(a, later, later); err != nil {
			t.Fatal(err)
		}
		if fi, _ := os.Stat(c); !fi.ModTime().Equal(old.ModTime()) {
			t.Errorf("stat on the caching mount right after another client's change: mtime %v; want the cached %v", fi.ModTime(), old.ModTime())
		}
		f, err := os.Open(c)
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := f.Stat()
		f.Close()
		if !fi.ModTime().Equal(later) {
			t.Errorf("fstat after open on the caching mount: mtime %v; want the new %v (close-to-open)", fi.ModTime(), later)
		}

		negA, negC := filepath.Join(r.a, "absent-then-made"), filepath.Join(r.cached, "absent-then-made")
		if _, err := os.Stat(negC); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("stat of a name not made yet: %v, want ENOENT", err)
		}
		write(negA, "made")
		if _, err := os.Stat(negC); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("stat on the caching mount of a name another client just made: %v; want ENOENT from the cache of absent names", err)
		}
		// An exclusive create there meets the server's EEXIST, and the
		// name is forgotten, as the Linux client drops the dentry.
		if _, err := os.OpenFile(negC, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644); !errors.Is(err, os.ErrExist) {
			t.Errorf("O_EXCL create on the caching mount of a name another client made: %v, want EEXIST", err)
		}
		deadline := time.Now().Add(2 * time.Second)
		for _, err := os.Stat(negC); err != nil && time.Now().Before(deadline); _, err = os.Stat(negC) {
			time.Sleep(10 * time.Millisecond)
		}
		if _, err := os.Stat(negC); err != nil {
			t.Errorf("stat on the caching mount after its failed create: %v; want the file found", err)
		}
		os.Remove(a)
		os.Remove(negA)
	})

	t.Run("LostReplyRawClient", func(t *testing.T) { lostReplyRaw(t, r) })
	t.Run("LostReplyThroughMount", func(t *testing.T) { lostReplyMount(t, r) })

	t.Run("Latency", func(t *testing.T) {
		// Not a test of speed: what one call through a caching-off mount
		// costs here, for the record.
		p := filepath.Join(r.a, "latency")
		write(p, "x")
		const n = 200
		measure := func(what string, f func() error) {
			start := time.Now()
			for range n {
				if err := f(); err != nil {
					t.Fatalf("%s: %v", what, err)
				}
			}
			t.Logf("%-32s %v per call", what, time.Since(start)/n)
		}
		measure("stat", func() error { _, err := os.Stat(p); return err })
		measure("chtimes", func() error { return os.Chtimes(p, time.Now(), time.Now()) })
		measure("link + unlink", func() error {
			if err := os.Link(p, p+".l"); err != nil {
				return err
			}
			return os.Remove(p + ".l")
		})
		measure("read (open, read, close)", func() error { _, err := os.ReadFile(p); return err })
		measure("write (create, write, close)", func() error { return os.WriteFile(p, []byte("y"), 0o644) })
		os.Remove(p)
	})
}

// utimeNow is UTIME_NOW, for utimensat.
const utimeNow = (1 << 30) - 1

func nlink(t *testing.T, path string) uint64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Nlink
}

func sillyNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".nfs") {
			names = append(names, e.Name())
		}
	}
	return names
}

// rawClient connects to the rig's server as a second, raw NFS client.
func rawClient(t *testing.T, r *rig, loss *sunrpc.Loss) (*nfs3.Client, nfs3.FH, sunrpc.Auth) {
	t.Helper()
	o := defaultOptions()
	if err := parseOptions(&o, r.ports); err != nil {
		t.Fatal(err)
	}
	host, export, _ := strings.Cut(r.server, ":")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cred := sunrpc.AuthSys(0, "nfsmount-test", 0, 0, nil)
	root, err := nfs3.Mnt(ctx, sunrpc.HostPort(host, o.mountport), export, cred)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := sunrpc.Dial(ctx, sunrpc.Options{Addr: sunrpc.HostPort(host, o.port), Prog: nfs3.Prog, Vers: nfs3.Vers, Loss: loss, Status: nfs3.StatusOf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rc.Close() })
	return &nfs3.Client{RPC: rc}, root, cred
}

// lostReplyRaw loses every reply to LINK and REMOVE of a raw client:
// resent with a new XID, the server does the call again and says EEXIST
// and ENOENT; resent with the same XID, its duplicate request cache
// answers with the first reply.
func lostReplyRaw(t *testing.T, r *rig) {
	procs := map[uint32]bool{nfs3.ProcLink: true, nfs3.ProcRemove: true}
	for _, policy := range []sunrpc.XIDPolicy{sunrpc.NewXID, sunrpc.SameXID} {
		c, root, cred := rawClient(t, r, sunrpc.NewLoss(procs, 1, policy, 1))
		claim, lock := "raw-"+policy.String()+"|claim", "raw-"+policy.String()+".lock"
		fh, _, _, err := c.Create(cred, root, claim, true, nfs3.Sattr{})
		if err != nil {
			t.Fatal(err)
		}
		_, _, linkErr := c.Link(cred, fh, root, lock)
		a, err := c.Getattr(cred, fh)
		if err != nil {
			t.Fatal(err)
		}
		_, removeErr := c.Remove(cred, root, lock)
		_, _, _, lookupErr := c.Lookup(cred, root, lock)
		c.Remove(cred, root, claim)

		var wantLink, wantRemove error
		first, retryLink, retryRemove := "NFS3_OK", "NFS3_OK", "NFS3_OK"
		if policy == sunrpc.NewXID {
			wantLink, wantRemove = nfs3.ErrExist, nfs3.ErrNoent
			retryLink, retryRemove = "NFS3ERR_EXIST", "NFS3ERR_NOENT"
		}
		if !errors.Is(linkErr, wantLink) || a.Nlink != 2 {
			t.Errorf("%s XID: LINK whose reply was lost: error %v and link count %d; want error %v and link count 2", policy, linkErr, a.Nlink, wantLink)
		}
		if !errors.Is(removeErr, wantRemove) || !errors.Is(lookupErr, nfs3.ErrNoent) {
			t.Errorf("%s XID: REMOVE whose reply was lost: error %v, then LOOKUP %v; want %v and NFS3ERR_NOENT", policy, removeErr, lookupErr, wantRemove)
		}
		st := c.RPC.Stats()
		for _, want := range []sunrpc.LostReply{
			{Proc: nfs3.ProcLink, NewXID: policy == sunrpc.NewXID, First: first, Retry: retryLink},
			{Proc: nfs3.ProcRemove, NewXID: policy == sunrpc.NewXID, First: first, Retry: retryRemove},
		} {
			if st.Lost[want] == 0 {
				t.Errorf("%s XID: no lost reply counted as %+v; counted %v", policy, want, st.Lost)
			}
		}
		t.Logf("%s XID: lost replies %v", policy, st.Lost)
	}
}

// lostReplyMount mounts the export once more, losing every LINK reply and
// resending with a new XID: the link is made, and the program sees EEXIST.
func lostReplyMount(t *testing.T, r *rig) {
	dir := t.TempDir()
	mnt, stats := filepath.Join(dir, "mnt"), filepath.Join(dir, "stats.json")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	exe, _ := os.Executable()
	cmd := exec.Command(exe, "-o", r.ports+",noac,lookupcache=none,lose=LINK,loserate=1,losexid=new,loseseed=1,stats="+stats, r.server, mnt)
	cmd.Env = append(os.Environ(), runClientEnv+"=1")
	var log bytes.Buffer
	cmd.Stderr = &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			t.Errorf("the client did not exit 10 s after SIGTERM")
		}
		if mounted(t, mnt) {
			syscall.Unmount(mnt, syscall.MNT_DETACH)
			t.Errorf("%s still mounted after the client exited", mnt)
		}
		t.Logf("the client's log:\n%s", log.String())
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !mounted(t, mnt) {
		select {
		case err := <-exited:
			t.Fatalf("the client exited: %v\n%s", err, log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("not mounted after 20 s:\n%s", log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}

	claim := filepath.Join(mnt, "lossy|claim")
	if err := os.WriteFile(claim, []byte("lossy|claim"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := os.Link(claim, filepath.Join(mnt, "lossy.lock"))
	if !errors.Is(err, syscall.EEXIST) {
		t.Errorf("link through a mount whose LINK reply was lost (new XID): %v; want EEXIST", err)
	}
	// The link was made all the same: flufl.lock's check (the lock's link
	// count is 2 and it holds our claim's name) is what tells.
	if n := nlink(t, filepath.Join(r.b, "lossy.lock")); n != 2 {
		t.Errorf("the lock's link count seen by another client: %d, want 2", n)
	}
	if data, _ := os.ReadFile(filepath.Join(r.b, "lossy.lock")); string(data) != "lossy|claim" {
		t.Errorf("the lock's contents: %q, want the claim's name", data)
	}
	os.Remove(filepath.Join(r.b, "lossy.lock"))
	os.Remove(filepath.Join(r.b, "lossy|claim"))

	cmd.Process.Signal(syscall.SIGUSR1)
	var st statsFile
	deadline = time.Now().Add(5 * time.Second)
	for {
		data, err := os.ReadFile(stats)
		if err == nil && json.Unmarshal(data, &st) == nil && st.Injected > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	want := lostEntry{Proc: "LINK", NewXID: true, First: "NFS3_OK", Retry: "NFS3ERR_EXIST", Count: 1}
	if st.Injected != 1 || len(st.Lost) != 1 || st.Lost[0] != want {
		t.Errorf("the client's stats file: %d lost replies %+v; want 1: %+v", st.Injected, st.Lost, want)
	}
}

func mounted(t *testing.T, dir string) bool {
	f, err := os.Open("/proc/self/mounts")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if fields := strings.Fields(s.Text()); len(fields) > 1 && fields[1] == dir {
			return true
		}
	}
	return false
}
