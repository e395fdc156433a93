//go:build unix

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestCompletionScriptsParse: each completion script is accepted by its
// shell's syntax check (bash always; zsh and fish where installed).
func TestCompletionScriptsParse(t *testing.T) {
	for _, sh := range []string{"bash", "zsh", "fish"} {
		t.Run(sh, func(t *testing.T) {
			r := run(t, t.TempDir(), "completion", sh)
			if r.code != 0 || !strings.Contains(r.stdout, "nfslock") {
				t.Fatalf("completion %s: %v", sh, r)
			}
			path, err := exec.LookPath(sh)
			if err != nil {
				if sh == "bash" {
					t.Fatal("bash is not installed: install bash to check the bash completion script")
				}
				t.Skipf("%s is not installed: install it to check its completion script", sh)
			}
			script := filepath.Join(t.TempDir(), "completion."+sh)
			if err := os.WriteFile(script, []byte(r.stdout), 0o644); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(path, "-n", script).CombinedOutput(); err != nil {
				t.Errorf("%s -n of nfslock completion %s: %v\n%s", sh, sh, err, out)
			}
		})
	}
	if r := run(t, t.TempDir(), "completion", "tcsh"); r.code != exitUsage {
		t.Errorf("completion tcsh: want exit %d; got %v", exitUsage, r)
	}
}

// TestBashCompletion: the bash script completes subcommands, options of
// the form being typed, help's topics and a command after LOCKFILE.
func TestBashCompletion(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		line      string // the words typed, the last one being completed
		want, not []string
	}{
		{"nfslock st", []string{"status"}, []string{"lock"}},
		{"nfslock ", []string{"lock", "completion", "man"}, nil},
		{"nfslock lock --ti", []string{"--timeout"}, nil},
		{"nfslock status --", []string{"--json", "--pid"}, []string{"--timeout"}},
		{"nfslock --kill", []string{"--kill-after"}, nil},
		{"nfslock help lo", []string{"lock"}, []string{"status"}},
		{"nfslock completion z", []string{"zsh"}, nil},
		{"nfslock -w 5 x.lock tru", []string{"true"}, nil},
		{"nfslock -w 5 x.lock true x", nil, []string{"true"}},
	} {
		words := strings.Split(tt.line, " ")
		var quoted []string
		for _, w := range words {
			quoted = append(quoted, "'"+w+"'")
		}
		r := bash(t, dir, `source <("$NFSLOCK" completion bash) || exit
			COMP_WORDS=(`+strings.Join(quoted, " ")+`)
			COMP_CWORD=`+strconv.Itoa(len(words)-1)+`
			_nfslock
			printf '%s\n' "${COMPREPLY[@]}"`)
		got := strings.Fields(r.stdout)
		for _, w := range tt.want {
			if !contains(got, w) {
				t.Errorf("completing %q: want %q among %q (%v)", tt.line, w, got, r)
			}
		}
		for _, w := range tt.not {
			if contains(got, w) {
				t.Errorf("completing %q: %q offered among %q", tt.line, w, got)
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
