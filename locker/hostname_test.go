package locker

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestDefaultHostname compares the default host name with Python's
// socket.getfqdn() on this machine: the same, unless getfqdn gives a
// loopback name, which names no host; then it is the kernel's host name.
func TestDefaultHostname(t *testing.T) {
	const python = "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		t.Skipf("%s is missing, so there is no getfqdn to compare with: %v", python, err)
	}
	out, err := exec.Command(python, "-c", "import socket; print(socket.getfqdn())").Output()
	if err != nil {
		t.Fatalf("%s socket.getfqdn(): %v", python, err)
	}
	fqdn := strings.TrimSpace(string(out))
	kernel, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	got, err := defaultHostname()
	if err != nil {
		t.Fatalf("defaultHostname: %v", err)
	}
	t.Logf("kernel host name %q, Python's socket.getfqdn() %q, default host name %q", kernel, fqdn, got.name)
	want := hostNames{name: fqdn}
	if fqdn != kernel && !strings.HasPrefix(fqdn, kernel+".") && resolvesToLoopbackOnly(t.Context(), net.DefaultResolver, fqdn) {
		want = hostNames{name: kernel, loopbackFQDN: fqdn}
	}
	if got != want {
		t.Errorf("defaultHostname() = %+v, want %+v", got, want)
	}
	if isLoopbackName(got.name) && !isLoopbackName(kernel) {
		t.Errorf("defaultHostname() = %q, a loopback name, though the kernel's is %q", got.name, kernel)
	}
}

// fakeResolver answers from tables, as /etc/hosts would.
type fakeResolver struct {
	hosts map[string][]string // name -> addresses
	addrs map[string][]string // address -> names, the first the primary
}

var errNoSuchHost = errors.New("no such host")

func (r fakeResolver) LookupHost(_ context.Context, name string) ([]string, error) {
	if a, ok := r.hosts[name]; ok {
		return a, nil
	}
	return nil, errNoSuchHost
}

func (r fakeResolver) LookupAddr(_ context.Context, addr string) ([]string, error) {
	if n, ok := r.addrs[addr]; ok {
		return n, nil
	}
	return nil, errNoSuchHost
}

func TestChooseHostname(t *testing.T) {
	tests := []struct {
		what   string
		kernel string
		hosts  map[string][]string
		addrs  map[string][]string
		want   hostNames
	}{
		{"getfqdn is localhost: the host name is mapped to 127.0.0.1 after localhost (containers, cloud images)", "vm",
			map[string][]string{"vm": {"127.0.0.1"}, "localhost": {"127.0.0.1"}},
			map[string][]string{"127.0.0.1": {"localhost", "vm"}},
			hostNames{name: "vm", loopbackFQDN: "localhost"}},
		{"getfqdn is localhost.localdomain", "box",
			map[string][]string{"box": {"127.0.0.1"}},
			map[string][]string{"127.0.0.1": {"localhost.localdomain", "localhost", "box"}},
			hostNames{name: "box", loopbackFQDN: "localhost.localdomain"}},
		{"getfqdn is ip6-localhost", "v6",
			map[string][]string{"v6": {"::1"}},
			map[string][]string{"::1": {"ip6-localhost", "ip6-loopback", "v6"}},
			hostNames{name: "v6", loopbackFQDN: "ip6-localhost"}},
		{"getfqdn is another name that resolves only to loopback addresses", "c7",
			map[string][]string{"c7": {"127.0.0.1"}, "loop.example.internal": {"127.0.0.1", "::1"}},
			map[string][]string{"127.0.0.1": {"loop.example.internal", "c7"}},
			hostNames{name: "c7", loopbackFQDN: "loop.example.internal"}},
		{"Debian's 127.0.1.1 line names the host: flufl.lock's name is kept", "node1",
			map[string][]string{"node1": {"127.0.1.1"}, "node1.example.org": {"127.0.1.1"}},
			map[string][]string{"127.0.1.1": {"node1.example.org", "node1"}},
			hostNames{name: "node1.example.org"}},
		{"a name in DNS", "web",
			map[string][]string{"web": {"192.0.2.5"}, "web.corp.example": {"192.0.2.5"}},
			map[string][]string{"192.0.2.5": {"web.corp.example."}},
			hostNames{name: "web.corp.example"}},
		{"another name of a routable address", "c8",
			map[string][]string{"c8": {"192.0.2.8"}, "gw.example.org": {"192.0.2.8"}},
			map[string][]string{"192.0.2.8": {"gw.example.org"}},
			hostNames{name: "gw.example.org"}},
		{"the host name does not resolve", "lonely", nil, nil, hostNames{name: "lonely"}},
		{"the address has no name", "anon",
			map[string][]string{"anon": {"192.0.2.9"}}, nil, hostNames{name: "anon"}},
	}
	for _, tt := range tests {
		got := chooseHostname(t.Context(), fakeResolver{tt.hosts, tt.addrs}, tt.kernel)
		if got != tt.want {
			t.Errorf("%s: chooseHostname(%q) = %+v, want %+v", tt.what, tt.kernel, got, tt.want)
		}
	}
}

func TestFQDNOf(t *testing.T) {
	tests := []struct {
		hostname string
		aliases  []string
		want     string
	}{
		{"localhost", nil, "localhost"},
		{"vm", []string{"vm.example.com"}, "vm.example.com"},
		{"vm.example.com", []string{"vm"}, "vm.example.com"},
		{"a", []string{"b", "c.d", "e.f"}, "c.d"},
		{"a", []string{"b", "c"}, "a"},
	}
	for _, tt := range tests {
		if got := fqdnOf(tt.hostname, tt.aliases); got != tt.want {
			t.Errorf("fqdnOf(%q, %q) = %q, want %q", tt.hostname, tt.aliases, got, tt.want)
		}
	}
}
