//go:build linux || darwin || freebsd || netbsd || openbsd

package conformance

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const attackerAvailable = true

var attackerUnavailable = ""

// What the attacker puts at a name.
const (
	plantNothing = iota
	plantFile
	plantSymlink
	plantFIFO
	plantDirectory
	plantKinds
)

// An attacker swaps objects at the lock's names with raw system calls.
type attacker struct {
	a       *attack
	rng     *rand.Rand
	staging string // a name of its own, where it makes what it renames into place
	names   []string
	known   map[string]bool
	noFIFO  bool // the filesystem refuses FIFOs (sshfs)
	swaps   int64
}

// startAttacker starts the attacker on a goroutine; the function it returns
// stops it and reports how many swaps it made at how many names.
func (a *attack) startAttacker() (stop func() (swaps int64, names int)) {
	at := &attacker{
		a:       a,
		rng:     rand.New(rand.NewPCG(1, uint64(time.Now().UnixNano()))),
		staging: filepath.Join(a.dir, ".attack-staging"),
		known:   map[string]bool{},
	}
	// The names anyone can predict: each lock file, its break lock and
	// counter; the shared lock's and the semaphore's count files and
	// first slots; the first tickets of the fair queue.
	var predictable []string
	for _, base := range []string{attackExclusive, attackShared, attackSemaphore} {
		predictable = append(predictable, base, base+".break", base+".fence")
	}
	for k := range attackSlots {
		predictable = append(predictable,
			slotFile(attackShared, "reader", k), slotFile(attackShared, "reader", k)+".break",
			slotFile(attackSemaphore, "slot", k), slotFile(attackSemaphore, "slot", k)+".break", slotFile(attackSemaphore, "slot", k)+".fence",
			attackExclusive+".queue."+strconv.Itoa(k+1), attackShared+".queue."+strconv.Itoa(k+1), attackSemaphore+".queue."+strconv.Itoa(k+1))
	}
	predictable = append(predictable, attackShared+".readers", attackSemaphore+".slots")
	for _, n := range predictable {
		at.learn(filepath.Join(a.dir, n))
	}
	var quit atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		at.run(&quit)
	}()
	return func() (int64, int) {
		quit.Store(true)
		wg.Wait()
		removeAny(at.staging)
		return at.swaps, len(at.names)
	}
}

// run swaps objects as fast as it can until quit is set, listing the
// directory every 20 ms for new claim names.
func (at *attacker) run(quit *atomic.Bool) {
	lastList := time.Time{}
	for !quit.Load() {
		if time.Since(lastList) > 20*time.Millisecond {
			at.learnNames()
			lastList = time.Now()
		}
		for range 16 {
			name := at.names[at.rng.IntN(len(at.names))]
			at.swap(name, at.rng.IntN(plantKinds))
			at.swaps++
		}
		runtime.Gosched()
	}
}

// claimDerived are the suffixes of the names a lock derives from a claim
// name: where it moves a file aside, looks again at an expired lock, and
// writes a fencing token, a count or a ticket before renaming or linking
// it into place.
var claimDerived = []string{".moved.look", ".moved", ".fence-tmp", ".count-tmp", ".ticket"}

// learn adds name to the names attacked.
func (at *attacker) learn(name string) {
	if !at.known[name] {
		at.known[name] = true
		at.names = append(at.names, name)
	}
}

// learnNames adds the names in the directory that the locks use (every
// name that begins with a lock file's), and for each claim name among them
// the names a lock derives from it, to the names attacked.
func (at *attacker) learnNames() {
	ents, err := os.ReadDir(at.a.dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		n := e.Name()
		if !strings.HasPrefix(n, attackExclusive) && !strings.HasPrefix(n, attackShared) && !strings.HasPrefix(n, attackSemaphore) {
			continue
		}
		if !strings.Contains(n, at.a.sep) {
			// A slot, a ticket, a count file: its break lock too,
			// where it is a lock file.
			at.learn(filepath.Join(at.a.dir, n))
			if !strings.HasSuffix(n, ".break") && !strings.HasSuffix(n, ".fence") && !strings.HasSuffix(n, ".readers") && !strings.HasSuffix(n, ".slots") {
				at.learn(filepath.Join(at.a.dir, n+".break"))
			}
			continue
		}
		for _, suffix := range claimDerived {
			n = strings.TrimSuffix(n, suffix)
		}
		claim := filepath.Join(at.a.dir, n)
		at.learn(claim)
		for _, suffix := range claimDerived {
			at.learn(claim + suffix)
		}
	}
}

// swap puts an object of kind at name, replacing what is there.
func (at *attacker) swap(name string, kind int) {
	if kind == plantFIFO && at.noFIFO || kind == plantSymlink && at.a.noLinks {
		kind = plantNothing
	}
	switch kind {
	case plantNothing:
		removeAny(name)
		return
	case plantDirectory:
		removeAny(name)
		syscall.Mkdir(name, 0o755)
		return
	}
	removeAny(at.staging)
	var err error
	switch kind {
	case plantFile:
		err = at.writeFile(at.staging, at.contents(name))
	case plantSymlink:
		v := at.a.victims[at.rng.IntN(len(at.a.victims))]
		err = syscall.Symlink(v.path, at.staging)
	case plantFIFO:
		err = syscall.Mkfifo(at.staging, 0o644)
		if refused(err) {
			at.noFIFO = true
		}
	}
	if err != nil {
		return
	}
	// rename replaces a file atomically; a directory in the way goes
	// first.
	if err := syscall.Rename(at.staging, name); err != nil {
		removeAny(name)
		syscall.Rename(at.staging, name)
	}
}

// contents returns what a regular file planted at name holds: junk, or
// what a lock could have written there, dated as it would be.
func (at *attacker) contents(name string) plantedFile {
	fake := func(lockFile string) string {
		return strings.Join([]string{lockFile, "attacker.example.org", strconv.Itoa(1 + at.rng.IntN(99999)), strconv.FormatInt(at.rng.Int64(), 10)}, at.a.sep)
	}
	expired, fresh := time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	base := filepath.Base(name)
	switch {
	case strings.HasSuffix(base, ".fence"), strings.HasSuffix(base, ".readers"), strings.HasSuffix(base, ".slots"):
		// A counter or a count file: junk, a number, or the largest
		// count a lock reads (a writer would pass a million slots).
		switch at.rng.IntN(4) {
		case 0:
			return plantedFile{data: "junk\n", mtime: fresh}
		case 1:
			return plantedFile{data: "1048576\n", mtime: fresh}
		default:
			return plantedFile{data: strconv.Itoa(at.rng.IntN(1000)) + "\n", mtime: fresh}
		}
	case strings.Contains(base, ".queue."):
		// A ticket: it holds a claim name.
		return plantedFile{data: fake(filepath.Join(filepath.Dir(name), strings.Split(base, ".queue.")[0])), mtime: []time.Time{expired, fresh}[at.rng.IntN(2)]}
	case !strings.Contains(base, at.a.sep):
		// A lock file: the lock's, a break lock, a slot.
		switch at.rng.IntN(3) {
		case 0:
			return plantedFile{data: "junk\n", mtime: fresh}
		case 1:
			return plantedFile{data: fake(name), mtime: expired}
		default:
			return plantedFile{data: fake(name), mtime: fresh}
		}
	}
	if at.rng.IntN(2) == 0 {
		return plantedFile{data: "junk\n", mtime: expired}
	}
	return plantedFile{data: name, mtime: expired} // a claim file's contents
}

type plantedFile struct {
	data  string
	mtime time.Time
}

// writeFile makes a new file at name holding f, dated through its
// descriptor.
func (at *attacker) writeFile(name string, f plantedFile) error {
	fd, err := syscall.Open(name, syscall.O_WRONLY|syscall.O_CREAT|syscall.O_EXCL|syscall.O_CLOEXEC, 0o644)
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	if _, err := syscall.Write(fd, []byte(f.data)); err != nil {
		return err
	}
	tv := syscall.NsecToTimeval(f.mtime.UnixNano())
	return syscall.Futimes(fd, []syscall.Timeval{tv, tv})
}

// removeAny removes whatever is at name: a file, a link, a FIFO or an
// empty directory.
func removeAny(name string) {
	if err := syscall.Unlink(name); err == syscall.EISDIR || err == syscall.EPERM {
		syscall.Rmdir(name)
	}
}
