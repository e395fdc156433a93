package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMutationsApply checks, without running the suite, that every
// mutation still applies to the locker as it is: each edit's function is
// found and its pattern matches exactly once in it, and the mutant
// compiles (it is type-checked in process). It fails as soon as a change
// to the locker renames a function a mutation is anchored on, or changes
// the code a pattern matches, naming the mutation to update.
func TestMutationsApply(t *testing.T) {
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	ms, err := prepare(root, mutations, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := typeCheck(root, ms); err != nil {
		t.Error(err)
	}
	// The type check can fail: a mutant with an unused variable.
	bad, err := prepare(root, []Mutation{{ID: "unused", Edits: edit("(*Lock).expired", "return l.serverNow().After(t.Add(l.slop))", "x := 1\nreturn l.serverNow().After(t)")}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := typeCheck(root, bad); err == nil || !strings.Contains(err.Error(), "unused: ") || !strings.Contains(err.Error(), "declared and not used: x") {
		t.Errorf("type check of a mutant that does not compile: %v; want an error naming it and saying why", err)
	}
	planted := 0
	for _, m := range ms {
		if m.Desc == "" {
			t.Errorf("mutation %s says nothing of what it does", m.ID)
		}
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

// TestAnchors checks the rules that let a mutation follow its code when
// the code moves, and make it fail loudly, rather than change something
// else, when the code changes.
func TestAnchors(t *testing.T) {
	dir := t.TempDir()
	for name, src := range map[string]string{
		"a.go": `package p

type T struct{ n int }

func (t *T) get() int {
	if t.n > 0 {
		return t.n
	}
	return 0
}

func f(last int) int {
	next := last + 10
	next = last + 1
	return next
}
`,
		// g, moved into a file of its own and re-indented in a block.
		"b.go": `package p

func g(x int) bool {
	{
		if x > 1 &&
			x < 10 {
			return true
		}
	}
	return x > 1
}

func (T) name() string { return "T" }
`,
		"b_test.go":  "package p\n\nfunc h() {}\n",
		"other.go":   "//go:build ignore\n\npackage p\n\nfunc f() {}\n",
		"g_plan9.go": "package p\n\nfunc f() {}\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pkg, err := loadPackage(dir)
	if err != nil {
		t.Fatal(err)
	}
	base := filepath.Base(dir) // how errors name the package's directory
	for _, tc := range []struct {
		name    string
		edit    Edit
		file    string // the file it changes
		want    string // in that file, after the edit
		wantErr string // or the error
	}{
		{"method", Edit{"(*T).get", "if t.n > 0 {", "if t.n >= 0 {"}, "a.go", "\tif t.n >= 0 {\n\t\treturn t.n", ""},
		{"value receiver", Edit{"(T).name", `return "T"`, `return "U"`}, "b.go", `{ return "U" }`, ""},
		{"whitespace and indentation", Edit{"g", "if x > 1 && x < 10 {\n    return true", "if false {\nreturn true"}, "b.go", "\t\tif false {\nreturn true\n\t\t}", ""},
		{"whole words", Edit{"f", "next = last + 1", "next = last"}, "a.go", "next := last + 10\n\tnext = last\n", ""},
		{"not found", Edit{"f", "last - 1", ""}, "", "", "in f (" + base + `/a.go): pattern found 0 times, want once: "last - 1"`},
		{"found twice", Edit{"f", "next", ""}, "", "", "in f (" + base + `/a.go): pattern found 3 times, want once: "next"`},
		{"only within the function", Edit{"g", "return t.n", ""}, "", "", "in g (" + base + `/b.go): pattern found 0 times`},
		{"no such function", Edit{"(*T).set", "x", ""}, "", "", "function (*T).set not found: no non-test .go file of " + base + `/ declares it (pattern "x")`},
		{"methods by receiver", Edit{"get", "x", ""}, "", "", `function get not found`},
		{"test files ignored", Edit{"h", "x", ""}, "", "", `function h not found`},
		{"empty pattern", Edit{"f", " \n", ""}, "", "", `empty pattern`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			changed, err := pkg.apply(Mutation{ID: "x", Edits: []Edit{tc.edit}})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("apply: %v, want an error saying %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("apply: %v", err)
			}
			if len(changed) != 1 || !strings.Contains(string(changed[tc.file]), tc.want) {
				t.Errorf("apply changed %d files; %s is now:\n%s\nwant it to hold %q", len(changed), tc.file, changed[tc.file], tc.want)
			}
		})
	}

	// Edits in turn: in two files, and twice in one function, the second
	// seeing the first's work.
	changed, err := pkg.apply(Mutation{ID: "x", Edits: []Edit{
		{"f", "next := last + 10", "next := last + 20"},
		{"g", "return x > 1", "return x > 2"},
		{"f", "last + 20", "last + 30"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if a, b := string(changed["a.go"]), string(changed["b.go"]); !strings.Contains(a, "next := last + 30") || !strings.Contains(b, "return x > 2") {
		t.Errorf("after three edits:\na.go:\n%s\nb.go:\n%s", a, b)
	}
}

// TestUnusedImportsMadeBlank checks that a mutant that removes the last use
// of a package in its file compiles: the import is made blank, not left
// for the compiler to refuse.
func TestUnusedImportsMadeBlank(t *testing.T) {
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	src := "package locker\n\nimport (\n\t\"errors\"\n\tstd \"fmt\"\n\t\"io/fs\"\n)\n\nfunc f(err error) bool { return errors.Is(err, fs.ErrNotExist) }\n\nfunc g() string { return std.Sprint(1) }\n"
	if err := os.WriteFile(filepath.Join(dir, "a.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	pkg, err := loadPackage(dir)
	if err != nil {
		t.Fatal(err)
	}
	c, err := newChecker(t.Context(), root, pkg)
	if err != nil {
		t.Fatal(err)
	}
	changed, err := pkg.apply(Mutation{ID: "x", Edits: []Edit{
		{"f", "return errors.Is(err, fs.ErrNotExist)", "return err == nil"},
		{"g", "return std.Sprint(1)", `return "1"`},
	}})
	if err != nil {
		t.Fatal(err)
	}
	fixed, err := c.check(changed)
	if err != nil {
		t.Fatalf("check: %v\n%s", err, fixed["a.go"])
	}
	if want := "import (\n\t_ \"errors\"\n\t_ \"fmt\"\n\t_ \"io/fs\"\n)"; !strings.Contains(string(fixed["a.go"]), want) {
		t.Errorf("the mutant is\n%s\nwant its imports made blank:\n%s", fixed["a.go"], want)
	}
	if _, err := c.check(map[string][]byte{"a.go": []byte(strings.Replace(src, "return std.Sprint(1)", "return 1", 1))}); err == nil {
		t.Errorf("check of a mutant that does not compile passed")
	}
}
