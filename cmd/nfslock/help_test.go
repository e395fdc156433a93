//go:build unix

package main

import (
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// TestHelpListsEveryOptionAndExitCode: --help names every option of every
// form of the command, and every exit status.
func TestHelpListsEveryOptionAndExitCode(t *testing.T) {
	r := run(t, t.TempDir(), "--help")
	if r.code != 0 {
		t.Fatalf("--help: %v", r)
	}
	sets := map[string]*pflag.FlagSet{"run mode": runFlags(&options{})}
	for _, sc := range subcommands() {
		sets[sc.name] = sc.flags(&options{})
		if !strings.Contains(r.stdout, "nfslock "+sc.synopsis) {
			t.Errorf("--help does not show the subcommand %q", sc.synopsis)
		}
		sub := run(t, t.TempDir(), sc.name, "--help")
		if sub.code != 0 || !strings.Contains(sub.stdout, "Usage: nfslock "+sc.synopsis) {
			t.Errorf("nfslock %s --help: %v", sc.name, sub)
		}
	}
	for name, fs := range sets {
		fs.VisitAll(func(f *pflag.Flag) {
			if f.Hidden {
				return
			}
			want := "--" + f.Name
			if f.Shorthand != "" {
				want = "-" + f.Shorthand + ", --" + f.Name
			}
			if !strings.Contains(r.stdout, want) {
				t.Errorf("--help does not list %s of %s", want, name)
			}
		})
	}
	for _, code := range []int{exitOK, exitConflict, exitUsage, exitDataErr, exitNoInput, exitUnavailable, exitOSErr, exitCantCreat, exitIOErr, exitLost} {
		if !strings.Contains(r.stdout, "\n  "+strconv.Itoa(code)+" ") {
			t.Errorf("--help's exit status table lacks %d", code)
		}
	}
	if r := run(t, t.TempDir(), "--version"); r.code != 0 || !strings.Contains(r.stdout, "nfslock") {
		t.Errorf("--version: %v", r)
	}
}
