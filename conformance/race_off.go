//go:build !race

package conformance

// raceDetector reports whether the race detector is on (go test -race).
const raceDetector = false
