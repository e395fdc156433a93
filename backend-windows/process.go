//go:build windows

package winfs

import (
	"os"

	"golang.org/x/sys/windows"
)

// stillActive is the exit code GetExitCodeProcess reports for a process
// that has not exited (STILL_ACTIVE).
const stillActive = 259

// ProcessAlive reports whether process pid is running on this machine.
// host is ignored: the locker asks only about processes on its own host.
//
// It opens the process with PROCESS_QUERY_LIMITED_INFORMATION and asks its
// exit code. No process with that id: OpenProcess fails with
// ERROR_INVALID_PARAMETER, dead. A process of another user or a protected
// process: ERROR_ACCESS_DENIED, alive. A process that has exited but whose
// object another handle keeps: an exit code other than STILL_ACTIVE, dead.
// (A process that exits with code 259 is taken for alive while its object
// exists; Windows offers no better test through this API.) A pid that is
// not positive is reported dead.
func (*FS) ProcessAlive(host string, pid int) (bool, error) {
	if pid <= 0 || int64(pid) > int64(^uint32(0)) {
		return false, nil
	}
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, uint32(pid))
	switch err {
	case nil:
	case windows.ERROR_INVALID_PARAMETER:
		return false, nil
	case windows.ERROR_ACCESS_DENIED:
		return true, nil
	default:
		return false, os.NewSyscallError("OpenProcess", err)
	}
	defer windows.CloseHandle(h)
	var code uint32
	if err := windows.GetExitCodeProcess(h, &code); err != nil {
		return false, os.NewSyscallError("GetExitCodeProcess", err)
	}
	return code == stillActive, nil
}
