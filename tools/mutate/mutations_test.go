package main

import (
	"go/parser"
	"go/token"
	"strings"
	"testing"
)

// TestMutationsApply checks, without running any, that every mutation still
// applies to the locker as it is: each anchor is found exactly once, and
// the mutated file still parses. It fails as soon as a change to the locker
// moves code a mutation is anchored on, naming the mutation to update.
func TestMutationsApply(t *testing.T) {
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	ms, err := prepare(root, mutations, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if _, err := parser.ParseFile(token.NewFileSet(), m.path, m.mutated, parser.SkipObjectResolution); err != nil {
			t.Errorf("mutation %s: the mutated %s does not parse: %v", m.ID, m.File, err)
		}
		if !strings.HasPrefix(m.File, "locker/") || strings.HasSuffix(m.File, "_test.go") {
			t.Errorf("mutation %s mutates %s; mutations are of the locker module's code", m.ID, m.File)
		}
		if m.Desc == "" {
			t.Errorf("mutation %s says nothing of what it does", m.ID)
		}
	}
	planted := 0
	for _, m := range ms {
		if m.Planted {
			planted++
			if m.Equivalent != "" {
				t.Errorf("mutation %s is planted and equivalent", m.ID)
			}
		}
	}
	if planted == 0 {
		t.Errorf("no planted bugs for the search report")
	}
}

// TestApplyRefusesAmbiguousAnchors checks the rule that makes mutations fail
// loudly rather than silently change something else.
func TestApplyRefusesAmbiguousAnchors(t *testing.T) {
	src := []byte("a := 1\nb := 1\n")
	for _, tc := range []struct {
		old     string
		wantErr string
	}{
		{":= 1", "found 2 times"},
		{"c := 1", "not found"},
	} {
		_, err := Mutation{ID: "x", Edits: edit(tc.old, "")}.apply(src)
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("apply with anchor %q: %v, want an error saying %q", tc.old, err, tc.wantErr)
		}
	}
	got, err := Mutation{ID: "x", Edits: edit("b := 1", "b := 2")}.apply(src)
	if err != nil || string(got) != "a := 1\nb := 2\n" {
		t.Errorf("apply: %q, %v; want the one anchor replaced", got, err)
	}
}
