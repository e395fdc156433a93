//go:build linux

package nfs3

import (
	"context"
	"fmt"

	"github.com/nfslock/nfslock/tools/nfsmount/internal/sunrpc"
)

// MOUNT procedures.
const (
	mountProcMnt  = 1
	mountProcUmnt = 3
)

// A MountError is a MOUNT status (mountstat3) other than MNT3_OK.
type MountError uint32

func (e MountError) Error() string {
	names := map[MountError]string{1: "MNT3ERR_PERM", 2: "MNT3ERR_NOENT", 5: "MNT3ERR_IO", 13: "MNT3ERR_ACCES",
		20: "MNT3ERR_NOTDIR", 22: "MNT3ERR_INVAL", 63: "MNT3ERR_NAMETOOLONG", 10004: "MNT3ERR_NOTSUPP",
		10006: "MNT3ERR_SERVERFAULT"}
	if n, ok := names[e]; ok {
		return "mount: " + n
	}
	return fmt.Sprintf("mount: status %d", uint32(e))
}

// Mnt asks the MOUNT server at addr for the root handle of the export path.
func Mnt(ctx context.Context, addr, path string, cred sunrpc.Auth) (FH, error) {
	c, err := sunrpc.Dial(ctx, sunrpc.Options{Addr: addr, Prog: MountProg, Vers: MountVers})
	if err != nil {
		return nil, fmt.Errorf("mount server at %s: %w", addr, err)
	}
	defer c.Close()
	var e sunrpc.Encoder
	e.String(path)
	d, err := c.Call(ctx, mountProcMnt, cred, e.Bytes())
	if err != nil {
		return nil, fmt.Errorf("mounting %s: %w", path, err)
	}
	if st := d.Uint32(); st != 0 {
		return nil, fmt.Errorf("mounting %s: %w", path, MountError(st))
	}
	fh := getFH(d)
	if err := d.Err(); err != nil {
		return nil, fmt.Errorf("mounting %s: %w", path, err)
	}
	return fh, nil
}

// Umnt tells the MOUNT server at addr that the export path is no longer
// mounted here.
func Umnt(ctx context.Context, addr, path string, cred sunrpc.Auth) error {
	c, err := sunrpc.Dial(ctx, sunrpc.Options{Addr: addr, Prog: MountProg, Vers: MountVers})
	if err != nil {
		return fmt.Errorf("mount server at %s: %w", addr, err)
	}
	defer c.Close()
	var e sunrpc.Encoder
	e.String(path)
	_, err = c.Call(ctx, mountProcUmnt, cred, e.Bytes())
	return err
}
