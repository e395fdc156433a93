package nfslock

import "github.com/nfslock/nfslock/locker"

// New is like [locker.New] with the backend of the platform the program is
// built for, [FS]: it returns a lock on the lock file path, configured by
// opts. The lock file is created by the lock and must not be a file of
// yours; New refuses bad input with an error wrapping [locker.ErrInvalid].
func New(path string, opts ...locker.Option) (*locker.Lock, error) {
	return locker.New(path, FS(), opts...)
}
