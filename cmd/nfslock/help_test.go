//go:build unix

package main

import (
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// optionSpelling is how a list of options shows f.
func optionSpelling(f *pflag.Flag) string {
	if f.Shorthand != "" {
		return "-" + f.Shorthand + ", --" + f.Name
	}
	return "--" + f.Name
}

// TestHelpIsShort: nfslock --help fits in 40 lines, with a line for each
// subcommand, and says where to read more.
func TestHelpIsShort(t *testing.T) {
	r := run(t, t.TempDir(), "--help")
	if r.code != 0 {
		t.Fatalf("--help: %v", r)
	}
	if n := strings.Count(r.stdout, "\n"); n > 40 {
		t.Errorf("--help is %d lines; want 40 at most:\n%s", n, r.stdout)
	}
	for _, sc := range subcommands() {
		if !strings.Contains(r.stdout, "\n  "+sc.name+" ") || !strings.Contains(r.stdout, sc.brief) {
			t.Errorf("--help has no line for the subcommand %s (%q)", sc.name, sc.brief)
		}
	}
	for _, want := range []string{"-n, --nonblock", "-w, --timeout", "-c, --command", "nfslock help run", "nfslock help SUBCOMMAND", "nfslock man"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("--help does not mention %q", want)
		}
	}
	if h := run(t, t.TempDir(), "help"); h.code != 0 || h.stdout != r.stdout {
		t.Errorf("nfslock help: want what --help shows; got %v", h)
	}
}

// TestHelpRunListsEveryOptionAndExitCode: nfslock help run lists every
// option of run mode and every exit status; each subcommand's help lists
// its options.
func TestHelpRunListsEveryOptionAndExitCode(t *testing.T) {
	r := run(t, t.TempDir(), "help", "run")
	if r.code != 0 {
		t.Fatalf("help run: %v", r)
	}
	runFlags(&options{}).VisitAll(func(f *pflag.Flag) {
		if !f.Hidden && !strings.Contains(r.stdout, optionSpelling(f)) {
			t.Errorf("help run does not list %s", optionSpelling(f))
		}
	})
	for _, code := range []int{exitOK, exitConflict, exitUsage, exitDataErr, exitNoInput, exitUnavailable, exitOSErr, exitCantCreat, exitIOErr, exitLost} {
		if !strings.Contains(r.stdout, "\n  "+strconv.Itoa(code)+" ") {
			t.Errorf("help run's exit status table lacks %d", code)
		}
	}
	for _, sc := range subcommands() {
		sub := run(t, t.TempDir(), sc.name, "--help")
		if sub.code != 0 || !strings.HasPrefix(sub.stdout, "Usage: nfslock "+sc.synopsis+"\n") {
			t.Errorf("nfslock %s --help: want its usage; got %v", sc.name, sub)
			continue
		}
		sc.flags(&options{}).VisitAll(func(f *pflag.Flag) {
			if !f.Hidden && !strings.Contains(sub.stdout, optionSpelling(f)) {
				t.Errorf("nfslock %s --help does not list %s", sc.name, optionSpelling(f))
			}
		})
	}
}

// TestSubcommandHelpCoversThatSubcommandOnly: nfslock help SUBCOMMAND is
// nfslock SUBCOMMAND --help, with no exit status table and no other
// subcommand's usage.
func TestSubcommandHelpCoversThatSubcommandOnly(t *testing.T) {
	dir := t.TempDir()
	for _, sc := range subcommands() {
		h := run(t, dir, "help", sc.name)
		if h.code != 0 {
			t.Errorf("help %s: %v", sc.name, h)
			continue
		}
		if own := run(t, dir, sc.name, "--help"); own.stdout != h.stdout {
			t.Errorf("help %s differs from %s --help:\n%s\n---\n%s", sc.name, sc.name, h.stdout, own.stdout)
		}
		if strings.Contains(h.stdout, "Exit status:") || strings.Contains(h.stdout, "EX_USAGE") {
			t.Errorf("help %s repeats the exit status table:\n%s", sc.name, h.stdout)
		}
		for _, other := range subcommands() {
			if other.name != sc.name && strings.Contains(h.stdout, "nfslock "+other.synopsis) {
				t.Errorf("help %s shows the usage of %s:\n%s", sc.name, other.name, h.stdout)
			}
		}
	}
	wantFiles(t, dir)
}

// TestHelpOfWhatIsNoSubcommand: nfslock help refuses what is not a
// subcommand, suggesting the one meant.
func TestHelpOfWhatIsNoSubcommand(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"help", "lokc"}, "did you mean lock?"},
		{[]string{"help", "frobnicate"}, "no such subcommand"},
		{[]string{"help", "lock", "unlock"}, "one subcommand"},
	} {
		r := run(t, t.TempDir(), tt.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tt.want) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("nfslock %q: want exit %d and one line saying %q; got %v", tt.args, exitUsage, tt.want, r)
		}
	}
}

// TestVersion: --version and -V print the version line of the build
// information.
func TestVersion(t *testing.T) {
	for _, flag := range []string{"--version", "-V"} {
		r := run(t, t.TempDir(), flag)
		if r.code != 0 || !strings.HasPrefix(r.stdout, "nfslock ") || strings.Contains(r.stdout, "development") {
			t.Errorf("%s: want \"nfslock VERSION\"; got %v", flag, r)
		}
	}
}
