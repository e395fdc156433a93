//go:build linux

package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/nfslock/nfslock/tools/nfsmount/internal/nfs3"
	"github.com/nfslock/nfslock/tools/nfsmount/internal/sunrpc"
)

func main() {
	logger := log.New(os.Stderr, "nfsmount: ", log.LstdFlags|log.Lmicroseconds)
	if err := run(os.Args[1:], logger); err != nil {
		logger.Print(err)
		os.Exit(1)
	}
}

func usage(w io.Writer, fl *flag.FlagSet) {
	fmt.Fprintf(w, "usage: nfsmount [-o option,...] server:/export mountpoint\n\n")
	fl.SetOutput(w)
	fl.PrintDefaults()
	fmt.Fprintf(w, "\nOptions are described by 'go doc github.com/nfslock/nfslock/tools/nfsmount'.\n")
}

// run mounts the export and serves the mount until it is unmounted or the
// process is told to stop.
func run(args []string, logger *log.Logger) error {
	fl := flag.NewFlagSet("nfsmount", flag.ContinueOnError)
	fl.SetOutput(io.Discard)
	var optList []string
	fl.Func("o", "mount options, comma-separated (may be repeated)", func(s string) error {
		optList = append(optList, s)
		return nil
	})
	if err := fl.Parse(args); err != nil {
		usage(os.Stderr, fl)
		return err
	}
	// Options may also follow the operands, as mount(8) allows.
	var operands []string
	rest := fl.Args()
	for len(rest) > 0 {
		if rest[0] == "-o" && len(rest) > 1 {
			optList = append(optList, rest[1])
			rest = rest[2:]
			continue
		}
		operands = append(operands, rest[0])
		rest = rest[1:]
	}
	if len(operands) != 2 {
		usage(os.Stderr, fl)
		return errors.New("want server:/export and a mount point")
	}
	host, export, ok := strings.Cut(operands[0], ":")
	if !ok || !strings.HasPrefix(export, "/") {
		return fmt.Errorf("%q is not server:/export", operands[0])
	}
	host = strings.Trim(host, "[]")
	mnt := operands[1]

	opts := defaultOptions()
	if os.Geteuid() == 0 {
		opts.allowOther = true
	}
	for _, o := range optList {
		if err := parseOptions(&opts, o); err != nil {
			return err
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if opts.mountport == 0 {
		p, err := sunrpc.GetPort(ctx, host, nfs3.MountProg, nfs3.MountVers)
		if err != nil {
			return err
		}
		opts.mountport = p
	}
	if opts.port == 0 {
		p, err := sunrpc.GetPort(ctx, host, nfs3.Prog, nfs3.Vers)
		if err != nil {
			return err
		}
		opts.port = p
	}
	rootCred := sunrpc.AuthSys(uint32(time.Now().Unix()), hostname(), 0, 0, nil)
	mountAddr := net.JoinHostPort(host, fmt.Sprint(opts.mountport))
	root, err := nfs3.Mnt(ctx, mountAddr, export, rootCred)
	if err != nil {
		return err
	}
	var loss *sunrpc.Loss
	if len(opts.lose) > 0 && opts.loserate > 0 {
		loss = sunrpc.NewLoss(opts.lose, opts.loserate, opts.losexid, opts.loseseed)
	}
	rpc, err := sunrpc.Dial(ctx, sunrpc.Options{
		Addr:    net.JoinHostPort(host, fmt.Sprint(opts.port)),
		Prog:    nfs3.Prog,
		Vers:    nfs3.Vers,
		Timeout: opts.timeo,
		Loss:    loss,
		Status:  nfs3.StatusOf,
		Logf: func(format string, args ...any) {
			if opts.debug || !strings.HasPrefix(format, "rpc: lost the reply") {
				logger.Printf(format, args...)
			}
		},
	})
	if err != nil {
		return fmt.Errorf("NFS server: %w", err)
	}
	defer rpc.Close()
	client := &nfs3.Client{RPC: rpc}
	info, err := client.Fsinfo(rootCred, root)
	if err != nil {
		return fmt.Errorf("FSINFO of %s: %w", export, err)
	}
	if info.RtMax > 0 {
		opts.rsize = min(opts.rsize, info.RtMax)
	}
	if info.WtMax > 0 {
		opts.wsize = min(opts.wsize, info.WtMax)
	}
	nameMax := uint32(255)
	if pc, err := client.Pathconf(rootCred, root); err == nil && pc.NameMax > 0 {
		nameMax = pc.NameMax
	}

	fs := newFS(client, root, opts, info, nameMax, logger)
	mo := &fuse.MountOptions{
		AllowOther:         opts.allowOther,
		FsName:             operands[0],
		Name:               "nfs",
		MaxWrite:           1 << 20,
		DisableXAttrs:      true,
		DisableReadDirPlus: true,
		DirectMount:        os.Geteuid() == 0,
		Debug:              opts.debug,
		Logger:             logger,
	}
	server, err := fuse.NewServer(fs, mnt, mo)
	if err != nil {
		return fmt.Errorf("mounting on %s: %w", mnt, err)
	}
	go server.Serve()
	if err := server.WaitMount(); err != nil {
		server.Unmount()
		return fmt.Errorf("mounting on %s: %w", mnt, err)
	}
	logger.Printf("%s mounted on %s (%s; NFS port %d, MOUNT port %d, local %v)", operands[0], mnt, opts.String(), opts.port, opts.mountport, rpc.LocalAddr())

	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGUSR1)
	served := make(chan struct{})
	go func() {
		server.Wait()
		close(served)
	}()
	report := func() {
		st := rpc.Stats()
		for _, line := range summary(st) {
			logger.Printf("%s: %s", mnt, line)
		}
		if opts.stats != "" {
			if err := writeStats(opts.stats, mnt, st); err != nil {
				logger.Print(err)
			}
		}
	}
loop:
	for {
		select {
		case <-served:
			break loop
		case s := <-sigs:
			if s == syscall.SIGUSR1 {
				report()
				continue
			}
			logger.Printf("%v: unmounting %s", s, mnt)
			if err := server.Unmount(); err != nil {
				// Busy: detach it, as umount -l does; the kernel finishes
				// the unmount when the last user lets go.
				logger.Printf("unmounting %s: %v; detaching it", mnt, err)
				if err := syscall.Unmount(mnt, syscall.MNT_DETACH); err != nil {
					logger.Printf("detaching %s: %v", mnt, err)
				}
			}
		}
	}
	report()
	uctx, ucancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer ucancel()
	nfs3.Umnt(uctx, mountAddr, export, rootCred)
	return nil
}

func hostname() string {
	h, _ := os.Hostname()
	return h
}

// summary describes the counts of an RPC client in a few lines.
func summary(st sunrpc.Stats) []string {
	var total uint64
	var procs []string
	for p := uint32(0); p <= nfs3.ProcCommit; p++ {
		if n := st.Calls[p]; n > 0 {
			total += n
			procs = append(procs, fmt.Sprintf("%s %d", nfs3.ProcName(p), n))
		}
	}
	lines := []string{fmt.Sprintf("%d calls (%s); %d reconnections, %d calls sent again, %d timeouts",
		total, strings.Join(procs, ", "), st.Reconnects, st.Resent, st.Timeouts)}
	var injected uint64
	var lost []string
	for k, n := range st.Lost {
		injected += n
		xid := "same XID"
		if k.NewXID {
			xid = "new XID"
		}
		lost = append(lost, fmt.Sprintf("%s, %s: %s then %s: %d", nfs3.ProcName(k.Proc), xid, k.First, k.Retry, n))
	}
	sort.Strings(lost)
	lines = append(lines, fmt.Sprintf("lost replies injected: %d", injected))
	for _, l := range lost {
		lines = append(lines, "  "+l)
	}
	return lines
}

// statsFile is the form of the stats= file.
type statsFile struct {
	Mount      string            `json:"mount"`
	Calls      map[string]uint64 `json:"calls"`
	Reconnects uint64            `json:"reconnects"`
	Resent     uint64            `json:"resent"`
	Timeouts   uint64            `json:"timeouts"`
	Injected   uint64            `json:"lost_replies_injected"`
	Lost       []lostEntry       `json:"lost_replies"`
}

type lostEntry struct {
	Proc   string `json:"proc"`
	NewXID bool   `json:"new_xid"`
	First  string `json:"lost_reply"`
	Retry  string `json:"reply_to_resend"`
	Count  uint64 `json:"count"`
}

func writeStats(path, mnt string, st sunrpc.Stats) error {
	f := statsFile{Mount: mnt, Calls: map[string]uint64{}, Reconnects: st.Reconnects, Resent: st.Resent, Timeouts: st.Timeouts, Lost: []lostEntry{}}
	for p, n := range st.Calls {
		f.Calls[nfs3.ProcName(p)] = n
	}
	for k, n := range st.Lost {
		f.Injected += n
		f.Lost = append(f.Lost, lostEntry{nfs3.ProcName(k.Proc), k.NewXID, k.First, k.Retry, n})
	}
	sort.Slice(f.Lost, func(i, j int) bool {
		a, b := f.Lost[i], f.Lost[j]
		return fmt.Sprint(a.Proc, a.NewXID, a.First, a.Retry) < fmt.Sprint(b.Proc, b.NewXID, b.First, b.Retry)
	})
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
