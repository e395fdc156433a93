//go:build linux

package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nfslock/nfslock/tools/nfsmount/internal/nfs3"
	"github.com/nfslock/nfslock/tools/nfsmount/internal/sunrpc"
)

// options are the mount options (see the package documentation).
type options struct {
	acregmin, acregmax time.Duration
	acdirmin, acdirmax time.Duration
	lookupcache        string // "all", "positive" or "none"
	cto                bool

	port, mountport int
	timeo           time.Duration
	rsize, wsize    uint32

	lose     map[uint32]bool
	loserate float64
	losexid  sunrpc.XIDPolicy
	loseseed uint64

	stats      string // file to write the counts to
	allowOther bool
	debug      bool
}

// defaultOptions are the Linux client's defaults.
func defaultOptions() options {
	return options{
		acregmin:    3 * time.Second,
		acregmax:    60 * time.Second,
		acdirmin:    30 * time.Second,
		acdirmax:    60 * time.Second,
		lookupcache: "all",
		cto:         true,
		timeo:       60 * time.Second,
		rsize:       1 << 20,
		wsize:       1 << 20,
		lose:        map[uint32]bool{},
		loseseed:    uint64(time.Now().UnixNano()),
	}
}

// noac reports whether attributes are never cached: then the kernel's
// caches are off too (entry and attribute timeouts 0, direct I/O).
func (o *options) noac() bool { return o.acregmax == 0 && o.acdirmax == 0 }

// parseOptions applies a comma-separated option list to o. The procedures
// of lose= are separated by colons, or by commas as long as they are
// spelled in capitals ("lose=LINK,REMOVE,loserate=0.1").
func parseOptions(o *options, list string) error {
	inLose := false
	for _, opt := range strings.Split(list, ",") {
		if opt == "" {
			continue
		}
		if _, ok := nfs3.ProcByName(opt); ok && inLose {
			p, _ := nfs3.ProcByName(opt)
			o.lose[p] = true
			continue
		}
		inLose = false
		key, val, hasVal := strings.Cut(opt, "=")
		seconds := func() (time.Duration, error) {
			n, err := strconv.ParseUint(val, 10, 32)
			if err != nil || !hasVal {
				return 0, fmt.Errorf("option %s: want a number of seconds", opt)
			}
			return time.Duration(n) * time.Second, nil
		}
		number := func() (uint64, error) {
			n, err := strconv.ParseUint(val, 10, 64)
			if err != nil || !hasVal {
				return 0, fmt.Errorf("option %s: want a number", opt)
			}
			return n, nil
		}
		var err error
		var n uint64
		var d time.Duration
		switch key {
		case "ac":
			*o = withCaches(*o, defaultOptions())
		case "noac":
			o.acregmin, o.acregmax, o.acdirmin, o.acdirmax = 0, 0, 0, 0
		case "actimeo":
			if d, err = seconds(); err == nil {
				o.acregmin, o.acregmax, o.acdirmin, o.acdirmax = d, d, d, d
			}
		case "acregmin":
			o.acregmin, err = seconds()
		case "acregmax":
			o.acregmax, err = seconds()
		case "acdirmin":
			o.acdirmin, err = seconds()
		case "acdirmax":
			o.acdirmax, err = seconds()
		case "lookupcache":
			switch val {
			case "all", "positive", "none":
				o.lookupcache = val
			case "pos":
				o.lookupcache = "positive"
			default:
				err = fmt.Errorf("option %s: want all, positive or none", opt)
			}
		case "cto":
			o.cto = true
		case "nocto":
			o.cto = false
		case "port":
			n, err = number()
			o.port = int(n)
		case "mountport":
			n, err = number()
			o.mountport = int(n)
		case "timeo":
			n, err = number()
			o.timeo = time.Duration(n) * time.Second / 10
		case "rsize":
			n, err = number()
			o.rsize = uint32(max(n, 4096))
		case "wsize":
			n, err = number()
			o.wsize = uint32(max(n, 4096))
		case "lose":
			inLose = true
			o.lose = map[uint32]bool{}
			for _, name := range strings.Split(val, ":") {
				if name == "" {
					continue
				}
				p, ok := nfs3.ProcByName(strings.ToUpper(name))
				if !ok {
					return fmt.Errorf("option lose: no NFSv3 procedure %q", name)
				}
				o.lose[p] = true
			}
		case "loserate":
			o.loserate, err = strconv.ParseFloat(val, 64)
			if err == nil && (o.loserate < 0 || o.loserate > 1) {
				err = fmt.Errorf("option %s: want a rate from 0 to 1", opt)
			}
		case "losexid":
			switch val {
			case "same":
				o.losexid = sunrpc.SameXID
			case "new":
				o.losexid = sunrpc.NewXID
			case "mixed":
				o.losexid = sunrpc.MixedXID
			default:
				err = fmt.Errorf("option %s: want same, new or mixed", opt)
			}
		case "loseseed":
			o.loseseed, err = number()
		case "stats":
			o.stats = val
		case "allow_other":
			o.allowOther = true
		case "debug":
			o.debug = true
		case "hard", "tcp", "proto", "vers", "nfsvers", "nolock", "rw", "intr", "nointr":
			// What this client does anyway: NFSv3 over TCP, hard, no NLM.
		default:
			return fmt.Errorf("unknown option %q", opt)
		}
		if err != nil {
			return fmt.Errorf("option %s: %w", opt, err)
		}
	}
	return nil
}

// withCaches returns o with the attribute cache times of from.
func withCaches(o, from options) options {
	o.acregmin, o.acregmax, o.acdirmin, o.acdirmax = from.acregmin, from.acregmax, from.acdirmin, from.acdirmax
	return o
}

// String lists the options in effect, in mount(8)'s form.
func (o *options) String() string {
	s := []string{"vers=3", "proto=tcp", "hard"}
	if o.noac() {
		s = append(s, "noac")
	} else {
		s = append(s, fmt.Sprintf("acregmin=%d,acregmax=%d,acdirmin=%d,acdirmax=%d",
			int(o.acregmin.Seconds()), int(o.acregmax.Seconds()), int(o.acdirmin.Seconds()), int(o.acdirmax.Seconds())))
	}
	s = append(s, "lookupcache="+o.lookupcache)
	if o.cto {
		s = append(s, "cto")
	} else {
		s = append(s, "nocto")
	}
	s = append(s, fmt.Sprintf("timeo=%d", int(o.timeo/(time.Second/10))))
	if len(o.lose) > 0 && o.loserate > 0 {
		var names []string
		for p := uint32(0); p <= nfs3.ProcCommit; p++ {
			if o.lose[p] {
				names = append(names, nfs3.ProcName(p))
			}
		}
		s = append(s, "lose="+strings.Join(names, ":"), fmt.Sprintf("loserate=%g", o.loserate), "losexid="+o.losexid.String())
	}
	return strings.Join(s, ",")
}
