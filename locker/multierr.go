package locker

import (
	"strings"

	"github.com/hashicorp/go-multierror"
)

// appendErr combines errors as multierror.Append does, in one line: the
// library's errors read "nfslock: unlock PATH: a; b", where go-multierror's
// default format would break the message over tab-indented lines.
// errors.Is and errors.As still find every cause. Nil errors are dropped;
// if nothing is left, appendErr returns nil.
func appendErr(err error, errs ...error) error {
	combined := multierror.Append(err, errs...)
	if len(combined.Errors) == 0 {
		return nil
	}
	combined.ErrorFormat = oneLine
	return combined
}

// oneLine formats the causes of a combined error as "a; b".
func oneLine(errs []error) string {
	msgs := make([]string, len(errs))
	for i, err := range errs {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "; ")
}
