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

// hostNames is what New needs to know of this host's names.
type hostNames struct {
	// name is the host name New writes into claims unless WithHostname
	// says otherwise.
	name string
	// loopbackFQDN is the name Python's socket.getfqdn() gives here when
	// name is not it because it is a loopback name (see chooseHostname),
	// so that flufl.lock processes of this host write it into their claims.
	loopbackFQDN string
}

// defaultHostname returns this host's names: the name is the value Python's
// socket.getfqdn() gives, so that a Go and a flufl.lock process on one host
// agree on whose lock is whose (and so on State), unless that is a loopback
// name such as localhost, which names every host and so none; then it is
// os.Hostname(). If the lookups fail or take longer than hostnameTimeout it
// is os.Hostname() too.
//
// It is computed once per process: the host's name is an immutable fact
// about the host for the life of the process, and a DNS lookup in every New
// would be slow. This is the one piece of package-level state in locker.
var defaultHostname = sync.OnceValues(func() (hostNames, error) {
	name, err := os.Hostname()
	if err != nil {
		return hostNames{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), hostnameTimeout)
	defer cancel()
	return chooseHostname(ctx, net.DefaultResolver, name), nil
})

// resolver is what the host name lookups need of a *net.Resolver.
type resolver interface {
	LookupHost(ctx context.Context, host string) ([]string, error)
	LookupAddr(ctx context.Context, addr string) ([]string, error)
}

// chooseHostname returns the names of the host whose kernel calls it
// kernelName: getfqdn's name, unless that is a loopback name, when the
// kernel's name is used and getfqdn's is kept as loopbackFQDN.
//
// A loopback name is one of the names every host gives its loopback
// address (localhost, ip6-localhost and the like), or a name that resolves
// only to loopback addresses and is neither the kernel's name nor that name
// with a domain: Debian's "127.0.1.1 node1.example.org node1" line names
// the host, though its address is a loopback one, and stays flufl.lock's.
func chooseHostname(ctx context.Context, r resolver, kernelName string) hostNames {
	fqdn, ok := lookupFQDN(ctx, r, kernelName)
	if !ok {
		return hostNames{name: kernelName}
	}
	if fqdn == kernelName || strings.HasPrefix(fqdn, kernelName+".") || !resolvesToLoopbackOnly(ctx, r, fqdn) {
		return hostNames{name: fqdn}
	}
	return hostNames{name: kernelName, loopbackFQDN: fqdn}
}

// loopbackNames are the names hosts commonly give their loopback addresses
// in /etc/hosts.
var loopbackNames = map[string]bool{
	"localhost":               true,
	"localhost.localdomain":   true,
	"localhost4":              true,
	"localhost4.localdomain4": true,
	"localhost6":              true,
	"localhost6.localdomain6": true,
	"ip6-localhost":           true,
	"ip6-loopback":            true,
}

// isLoopbackName reports whether name is one of loopbackNames, which every
// host may write into its claims, so that a claim naming it may come from
// any host.
func isLoopbackName(name string) bool { return loopbackNames[strings.ToLower(name)] }

// resolvesToLoopbackOnly reports whether name is a loopback name or
// resolves to loopback addresses only. A name that does not resolve is not
// known to be one.
func resolvesToLoopbackOnly(ctx context.Context, r resolver, name string) bool {
	if isLoopbackName(name) {
		return true
	}
	addrs, err := r.LookupHost(ctx, name)
	if err != nil || len(addrs) == 0 {
		return false
	}
	for _, a := range addrs {
		ip := net.ParseIP(a)
		if ip == nil || !ip.IsLoopback() {
			return false
		}
	}
	return true
}

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
func lookupFQDN(ctx context.Context, r resolver, name string) (string, bool) {
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
