//go:build linux

package main

import (
	"testing"
	"time"

	"github.com/nfslock/nfslock/tools/nfsmount/internal/nfs3"
	"github.com/nfslock/nfslock/tools/nfsmount/internal/sunrpc"
)

func TestParseOptions(t *testing.T) {
	tests := []struct {
		list  string
		check func(o options) bool
		want  string
	}{
		{"", func(o options) bool {
			return o.acregmin == 3*time.Second && o.acregmax == time.Minute && o.acdirmin == 30*time.Second &&
				o.acdirmax == time.Minute && o.lookupcache == "all" && o.cto && !o.noac()
		}, "the Linux defaults"},
		{"noac,lookupcache=none", func(o options) bool { return o.noac() && o.lookupcache == "none" }, "caching off"},
		{"actimeo=7", func(o options) bool {
			return o.acregmin == 7*time.Second && o.acregmax == 7*time.Second && o.acdirmin == 7*time.Second && o.acdirmax == 7*time.Second
		}, "all four times 7 s"},
		{"noac,ac", func(o options) bool { return o.acregmax == time.Minute }, "the default times back"},
		{"acregmin=1,acdirmax=2,nocto,lookupcache=pos", func(o options) bool {
			return o.acregmin == time.Second && o.acdirmax == 2*time.Second && !o.cto && o.lookupcache == "positive"
		}, "each option set"},
		{"port=2049,mountport=20048,timeo=15", func(o options) bool {
			return o.port == 2049 && o.mountport == 20048 && o.timeo == 1500*time.Millisecond
		}, "ports and timeo in tenths of a second"},
		{"lose=LINK:REMOVE,loserate=0.25,losexid=mixed", func(o options) bool {
			return o.lose[nfs3.ProcLink] && o.lose[nfs3.ProcRemove] && len(o.lose) == 2 && o.loserate == 0.25 && o.losexid == sunrpc.MixedXID
		}, "LINK and REMOVE lost at 0.25, mixed XIDs"},
		{"lose=LINK,REMOVE,RENAME,loserate=0.1,cto", func(o options) bool {
			return o.lose[nfs3.ProcLink] && o.lose[nfs3.ProcRemove] && o.lose[nfs3.ProcRename] && len(o.lose) == 3 && o.loserate == 0.1 && o.cto
		}, "procedures separated by commas too"},
		{"hard,tcp,vers=3,nolock", func(o options) bool { return true }, "accepted"},
	}
	for _, tt := range tests {
		o := defaultOptions()
		if err := parseOptions(&o, tt.list); err != nil {
			t.Errorf("%q: %v; want %s", tt.list, err, tt.want)
			continue
		}
		if !tt.check(o) {
			t.Errorf("%q gave %s; want %s", tt.list, o.String(), tt.want)
		}
	}
	for _, bad := range []string{"acregmin", "acregmin=x", "lookupcache=some", "lose=FROB", "loserate=2", "losexid=old", "wat"} {
		o := defaultOptions()
		if err := parseOptions(&o, bad); err == nil {
			t.Errorf("%q: no error, want one", bad)
		}
	}
}
