//go:build unix

package main

import (
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// TestManPage: nfslock man prints a page of the man macros, made of the
// same definitions as the help: every option of every form, every
// subcommand and exit status. (It does not need groff: see docs/cli.md
// for rendering it with man -l.)
func TestManPage(t *testing.T) {
	r := run(t, t.TempDir(), "man")
	if r.code != 0 {
		t.Fatalf("nfslock man: %v", r)
	}
	page := r.stdout
	if !strings.HasPrefix(page, ".TH NFSLOCK 1 ") {
		t.Errorf("the page does not begin with .TH NFSLOCK 1: %.60q", page)
	}
	known := map[string]bool{".TH": true, ".SH": true, ".SS": true, ".PP": true, ".TP": true, ".B": true, ".br": true, ".RS": true, ".RE": true, ".nf": true, ".fi": true, ".nh": true}
	for i, line := range strings.Split(page, "\n") {
		if strings.HasPrefix(line, ".") || strings.HasPrefix(line, "'") {
			if name, _, _ := strings.Cut(line, " "); !known[name] {
				t.Errorf("line %d is a request the page should not make: %q", i+1, line)
			}
			continue
		}
		// A hyphen in roff prints as a typographic one: options could
		// not be pasted from the page.
		if strings.Contains(strings.ReplaceAll(line, `\-`, ""), "-") {
			t.Errorf("line %d has an unescaped hyphen: %q", i+1, line)
		}
	}
	for _, sec := range []string{"NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "SUBCOMMANDS", "EXIT STATUS", "ENVIRONMENT", "SEE ALSO"} {
		if !strings.Contains(page, "\n.SH "+sec+"\n") && !strings.Contains(page, "\n.SH \""+sec+"\"\n") {
			t.Errorf("the page has no section %s", sec)
		}
	}
	roffName := func(f *pflag.Flag) string { return roff(strings.TrimSpace(flagName(f))) }
	runFlags(&options{}).VisitAll(func(f *pflag.Flag) {
		if !f.Hidden && !strings.Contains(page, roffName(f)) {
			t.Errorf("the page does not list %s of run mode", optionSpelling(f))
		}
	})
	for _, sc := range subcommands() {
		if !strings.Contains(page, ".SS "+roffArg("nfslock "+sc.synopsis)) {
			t.Errorf("the page has no section for %s", sc.name)
		}
		sc.flags(&options{}).VisitAll(func(f *pflag.Flag) {
			if !f.Hidden && !strings.Contains(page, roffName(f)) {
				t.Errorf("the page does not list %s of %s", optionSpelling(f), sc.name)
			}
		})
	}
	for _, row := range exitTable {
		if !strings.Contains(page, ".B "+roff(row.status)+"\n") {
			t.Errorf("the page lacks exit status %s", row.status)
		}
	}
}

func TestRoffEscapes(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"-w, --timeout", `\-w, \-\-timeout`},
		{`a\b`, `a\eb`},
		{".hidden request", `\&.hidden request`},
		{"'quoted", `\&'quoted`},
	} {
		if got := roff(tt.in); got != tt.want {
			t.Errorf("roff(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}
