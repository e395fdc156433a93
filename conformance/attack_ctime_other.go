//go:build !linux

package conformance

// inodeTimes describes what of path's inode DescribeOnDisk does not, where
// the system's stat structure is known: on Linux only.
func inodeTimes(string) string { return "" }
