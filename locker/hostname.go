package locker

import (
	"context"
	"net"
	"os"
	"strings"
	"sync"
	"time"
)

// hostnameTimeout bounds the DNS lookups of defaultHostname: a host whose
// resolver does not answer still gets a name (os.Hostname's) in that time.
const hostnameTimeout = 2 * time.Second

// defaultHostname returns the host name New writes into claims unless
// WithHostname says otherwise: the value Python's socket.getfqdn() gives, so
// that a Go and a flufl.lock process on one host agree on whose lock is whose
// (and so on State). If the lookups fail or take longer than hostnameTimeout
// it falls back to os.Hostname().
//
// It is computed once per process: the host's name is an immutable fact
// about the host for the life of the process, and a DNS lookup in every New
// would be slow. This is the one piece of package-level state in locker.
var defaultHostname = sync.OnceValues(func() (string, error) {
	name, err := os.Hostname()
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), hostnameTimeout)
	defer cancel()
	if fqdn, ok := lookupFQDN(ctx, net.DefaultResolver, name); ok {
		return fqdn, nil
	}
	return name, nil
})

// lookupFQDN does what CPython's socket.getfqdn does with name, the result
// of gethostname(): gethostbyaddr(name) resolves name to an address and
// that address back to a host name and aliases, from which fqdnOf picks.
// It reports false where gethostbyaddr would fail, and getfqdn would return
// name itself.
//
// Like gethostbyaddr it uses the first address name resolves to. One
// difference remains: glibc's gethostbyaddr takes the names of the first
// line of /etc/hosts that has the address, Go's resolver the names of every
// such line, so aliases from later lines can be picked here and not by
// Python. The primary name, the usual result, is the same.
func lookupFQDN(ctx context.Context, r *net.Resolver, name string) (string, bool) {
	addrs, err := r.LookupHost(ctx, name)
	if err != nil || len(addrs) == 0 {
		return "", false
	}
	names, err := r.LookupAddr(ctx, addrs[0])
	if err != nil || len(names) == 0 {
		return "", false
	}
	for i, n := range names {
		names[i] = strings.TrimSuffix(n, ".")
	}
	fqdn := fqdnOf(names[0], names[1:])
	if fqdn == "" {
		return "", false
	}
	return fqdn, true
}

// fqdnOf is getfqdn's choice among the names gethostbyaddr returned: the
// first of hostname and then aliases that contains a dot, or hostname if
// none does.
func fqdnOf(hostname string, aliases []string) string {
	for _, n := range append([]string{hostname}, aliases...) {
		if strings.Contains(n, ".") {
			return n
		}
	}
	return hostname
}
