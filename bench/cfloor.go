//go:build linux

package main

import (
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// cfloorSource is the floor in C, a worker like the others (csrc/cfloor.c:
// not beside the Go files, where the go command would take it for cgo).
//
//go:embed csrc/cfloor.c
var cfloorSource []byte

// buildCFloor compiles cfloor.c into dir with gcc and returns the program.
// Without gcc it returns an error that says what to install: the C floor's
// column then stays empty, and the rest of the run goes on.
func buildCFloor(dir string) (string, error) {
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		return "", fmt.Errorf("gcc is not installed (Debian: apt-get install gcc)")
	}
	src, exe := filepath.Join(dir, "cfloor.c"), filepath.Join(dir, "cfloor")
	if err := os.WriteFile(src, cfloorSource, 0o644); err != nil {
		return "", err
	}
	out, err := exec.Command(gcc, "-O2", "-std=c11", "-Wall", "-o", exe, src).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("gcc cfloor.c: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return exe, nil
}
