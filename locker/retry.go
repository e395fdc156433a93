package locker

// Retrying what fails for a moment.
//
// On a network filesystem an operation now and then fails for a moment: a
// stale file handle (ESTALE, or another error the backend marks Transient
// or WithRetryErrors names) after another client replaced a file; a file
// that someone else at work in the directory removed between two calls; a
// create whose reply was lost, whose retried request finds the file it made.
// The locker tries such an operation again at once, at most maxTries times
// in all, and then gives up with the last error: a fault that lasts longer
// is not momentary, and the caller's own loop (a waiting Lock's backoff, a
// keep-alive's next refresh) takes over. Every retry in the package goes
// through retry, so that this bound is the only one.

// maxTries bounds the tries of an operation that failed for a moment.
const maxTries = 4

// retry calls f(0), f(1), … until f reports that it is done, at most
// maxTries times, and reports whether it was done.
func retry(f func(try int) (done bool)) bool {
	for try := range maxTries {
		if f(try) {
			return true
		}
	}
	return false
}

// retryErr calls f, again while it fails with an error that retryable
// reports, at most maxTries times in all, and returns f's last error.
func (l *Lock) retryErr(f func(try int) error) error {
	var err error
	retry(func(try int) bool {
		err = f(try)
		return err == nil || !l.retryable(err)
	})
	return err
}

// retrying is retryErr for an f that also returns a value.
func retrying[T any](l *Lock, f func() (T, error)) (T, error) {
	var v T
	err := l.retryErr(func(int) error {
		var err error
		v, err = f()
		return err
	})
	return v, err
}
