package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"
)

func completionCommand() subcommand {
	return subcommand{
		name:     "completion",
		synopsis: "completion bash|zsh|fish",
		brief:    "print a completion script for bash, zsh or fish",
		summary: `Print a script that completes nfslock's subcommands, options and
files in the shell named. Load it in the running shell, or install it
where the shell finds completions:

  bash: source <(nfslock completion bash), or save it as
        ~/.local/share/bash-completion/completions/nfslock
  zsh:  nfslock completion zsh > "${fpath[1]}/_nfslock"
  fish: nfslock completion fish > ~/.config/fish/completions/nfslock.fish
`,
		flags: func(o *options) *pflag.FlagSet {
			fs := newFlagSet("completion")
			addHelp(fs, o)
			return fs
		},
		run: runCompletion,
	}
}

func runCompletion(e *env, o *options, args []string) int {
	if len(args) != 1 {
		return e.usageError("completion takes one shell: bash, zsh or fish")
	}
	switch args[0] {
	case "bash":
		writeBash(e.stdout)
	case "zsh":
		fmt.Fprint(e.stdout, "#compdef nfslock\n\n# zsh completion for nfslock, by bash's rules.\nautoload -U +X bashcompinit && bashcompinit\n\n")
		writeBash(e.stdout)
	case "fish":
		writeFish(e.stdout)
	default:
		return e.usageError("completion %s: not a shell nfslock completes (bash, zsh, fish)", args[0])
	}
	return exitOK
}

// form is run mode (name "") or a subcommand, for completion.
type form struct {
	name  string
	brief string
	flags *pflag.FlagSet
}

func forms() []form {
	fs := []form{{"", "", runFlags(&options{})}}
	for _, sc := range subcommands() {
		fs = append(fs, form{sc.name, sc.brief, sc.flags(&options{})})
	}
	return fs
}

// optionWords lists the spellings of the options of fs, and of those that
// take a separate value.
func optionWords(fs *pflag.FlagSet) (all, valued []string) {
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		names := []string{"--" + f.Name}
		if f.Shorthand != "" {
			names = append(names, "-"+f.Shorthand)
		}
		all = append(all, names...)
		if f.Value.Type() != "bool" && f.NoOptDefVal == "" {
			valued = append(valued, names...)
		}
	})
	return all, valued
}

// writeBash writes the bash completion script: the subcommands and files
// as the first word; after a subcommand, its options, and files (DIR for
// check); in run mode, its options, then LOCKFILE, then a command.
func writeBash(w io.Writer) {
	var names []string
	var cases strings.Builder
	// Run mode, "*)", comes last: bash takes the first pattern that
	// matches.
	all := forms()
	for _, f := range append(all[1:], all[0]) {
		all, valued := optionWords(f.flags)
		pattern := "*"
		if f.name != "" {
			names = append(names, f.name)
			pattern = f.name
		}
		words := ""
		switch f.name {
		case "help":
			var subs []string
			for _, sc := range subcommands() {
				subs = append(subs, sc.name)
			}
			words = strings.Join(append(subs, "run"), " ")
		case "completion":
			words = "bash zsh fish"
		}
		run := 0
		if f.name == "" {
			run = 1
		}
		fmt.Fprintf(&cases, "\t%s) opts=%q valued=%q words=%q run=%d ;;\n", pattern, strings.Join(all, " "), strings.Join(valued, " "), words, run)
	}
	fmt.Fprintf(w, `# bash completion for nfslock (nfslock completion bash).
_nfslock() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	local sub=${COMP_WORDS[1]} opts valued words run i args=0 skip=
	if ((COMP_CWORD == 1)) && [[ $cur != -* ]]; then
		COMPREPLY=($(compgen -W %q -- "$cur") $(compgen -f -- "$cur"))
		return
	fi
	case $sub in
%s	esac
	case " $valued " in *" $prev "*) COMPREPLY=($(compgen -f -- "$cur")); return ;; esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
		return
	fi
	if [[ -n $words ]]; then
		COMPREPLY=($(compgen -W "$words" -- "$cur"))
		return
	fi
	# Run mode: options, LOCKFILE, then COMMAND and its arguments.
	for ((i = 1; i < COMP_CWORD; i++)); do
		if [[ -n $skip ]]; then skip=; continue; fi
		case " $valued " in *" ${COMP_WORDS[i]} "*) skip=1; continue ;; esac
		[[ ${COMP_WORDS[i]} == -* ]] || args=$((args + 1))
	done
	if ((run && args == 1)); then
		COMPREPLY=($(compgen -c -- "$cur"))
		return
	fi
	COMPREPLY=($(compgen -f -- "$cur"))
}
complete -o filenames -o bashdefault -F _nfslock nfslock
`, strings.Join(names, " "), cases.String())
}

// writeFish writes the fish completion script.
func writeFish(w io.Writer) {
	var names []string
	for _, sc := range subcommands() {
		names = append(names, sc.name)
	}
	fmt.Fprintf(w, "# fish completion for nfslock (nfslock completion fish).\n")
	fmt.Fprintf(w, "set -l nfslock_subcommands %s\n", strings.Join(names, " "))
	for _, f := range forms() {
		cond := "not __fish_seen_subcommand_from $nfslock_subcommands"
		if f.name != "" {
			cond = "__fish_seen_subcommand_from " + f.name
			fmt.Fprintf(w, "complete -c nfslock -f -n '__fish_use_subcommand' -a %s -d %s\n", f.name, fishQuote(f.brief))
		}
		f.flags.VisitAll(func(fl *pflag.Flag) {
			if fl.Hidden {
				return
			}
			line := fmt.Sprintf("complete -c nfslock -n '%s' -l %s", cond, fl.Name)
			if fl.Shorthand != "" {
				line += " -s " + fl.Shorthand
			}
			if fl.Value.Type() != "bool" && fl.NoOptDefVal == "" {
				line += " -r"
			}
			_, usage := pflag.UnquoteUsage(fl)
			if i := strings.IndexAny(usage, ",;:("); i > 0 {
				usage = usage[:i]
			}
			fmt.Fprintf(w, "%s -d %s\n", line, fishQuote(strings.TrimSpace(usage)))
		})
	}
	fmt.Fprintf(w, "complete -c nfslock -f -n '__fish_seen_subcommand_from help' -a '$nfslock_subcommands run'\n")
	fmt.Fprintf(w, "complete -c nfslock -f -n '__fish_seen_subcommand_from completion' -a 'bash zsh fish'\n")
}

// fishQuote quotes s for fish.
func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
