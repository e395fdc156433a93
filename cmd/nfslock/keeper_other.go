//go:build !unix

package main

// becomeKeeper tells no keepers apart on this system: nfslock keep run
// twice runs two.
func becomeKeeper(abs string, m mode, pid int) (done func(), other int, err error) {
	return func() {}, 0, nil
}
