//go:build unix

package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestVersionNamesTheCommit: built in a git checkout with version control
// stamping on, --version names the commit it was built from.
func TestVersionNamesTheCommit(t *testing.T) {
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git is not installed: no commit to name")
	}
	out, err := exec.Command(git, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("not in a git checkout (git rev-parse HEAD: %v)", err)
	}
	head := strings.TrimSpace(string(out))[:12]
	bin := filepath.Join(t.TempDir(), "nfslock")
	build := exec.Command(goTool(), "build", "-buildvcs=true", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build -buildvcs=true: %v\n%s", err, out)
	}
	got, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatalf("nfslock --version: %v", err)
	}
	if !strings.HasPrefix(string(got), "nfslock ") || !strings.Contains(string(got), head) {
		t.Errorf("nfslock --version of a build at %s: got %q, want the version and that commit", head, got)
	}
}
