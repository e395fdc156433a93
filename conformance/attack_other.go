//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package conformance

import "runtime"

const attackerAvailable = false

var attackerUnavailable = "the attacker swaps FIFOs among the objects it plants, and " + runtime.GOOS + " has no FIFOs"

func (a *attack) startAttacker() (stop func() (swaps int64, names int)) {
	return func() (int64, int) { return 0, 0 }
}
