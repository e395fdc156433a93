package locker

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestDefaultHostnameIsPythonGetfqdn(t *testing.T) {
	const python = "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		t.Skipf("%s is missing, so there is no getfqdn to compare with: %v", python, err)
	}
	out, err := exec.Command(python, "-c", "import socket; print(socket.getfqdn())").Output()
	if err != nil {
		t.Fatalf("%s socket.getfqdn(): %v", python, err)
	}
	want := strings.TrimSpace(string(out))
	got, err := defaultHostname()
	if err != nil {
		t.Fatalf("defaultHostname: %v", err)
	}
	if got != want {
		t.Errorf("defaultHostname() = %q, Python's socket.getfqdn() = %q", got, want)
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
