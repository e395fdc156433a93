package main

import (
	"archive/zip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckVersion(t *testing.T) {
	for _, tc := range []struct {
		v  string
		ok bool
	}{
		{"v0.3.0", true},
		{"v1.0.0-rc.1", true},
		{"0.3.0", false},
		{"v0.3", false},
		{"v0.3.0+build", false},
		{"v2.0.0", false},
		{"", false},
	} {
		if err := checkVersion(tc.v); (err == nil) != tc.ok {
			t.Errorf("checkVersion(%q) = %v; want ok=%v", tc.v, err, tc.ok)
		}
	}
}

// writeFiles makes the files (slash-separated names) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o666); err != nil {
			t.Fatal(err)
		}
	}
}

// A workspace of two modules: the root requires a, nested in it.
var twoModules = map[string]string{
	"go.work":  "go 1.26.0\n\nuse (\n\t.\n\t./a\n)\n\nreplace (\n\texample.com/r v0.1.0 => ./\n\texample.com/r/a v0.1.0 => ./a\n)\n",
	"go.mod":   "module example.com/r\n\ngo 1.26.0\n\nrequire example.com/r/a v0.1.0\n",
	"r.go":     "package r\n\nimport _ \"example.com/r/a\"\n",
	"a/go.mod": "module example.com/r/a\n\ngo 1.26.0\n",
	"a/a.go":   "package a\n",
}

func TestSetVersionAndProxy(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, twoModules)
	ws, err := loadWorkspace(filepath.Join(dir, "a"))
	if err != nil {
		t.Fatal(err)
	}
	if err := ws.check(); err != nil {
		t.Fatalf("check: %v; want no problem", err)
	}
	if v, err := ws.version(); v != "v0.1.0" || err != nil {
		t.Fatalf("version() = %q, %v; want v0.1.0", v, err)
	}
	changed, err := ws.setVersion("v0.2.0")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(changed, " "); got != "go.mod go.work" {
		t.Errorf("setVersion changed %q; want go.mod go.work", got)
	}

	ws, err = loadWorkspace(dir)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := ws.version(); v != "v0.2.0" || err != nil {
		t.Errorf("after setVersion(v0.2.0), version() = %q, %v", v, err)
	}
	work, _ := os.ReadFile(filepath.Join(dir, "go.work"))
	if !strings.Contains(string(work), "example.com/r/a v0.2.0 => ./a") || strings.Contains(string(work), "v0.1.0") {
		t.Errorf("go.work after setVersion(v0.2.0):\n%s\nwant v0.2.0 of each module replaced with its directory, and no v0.1.0", work)
	}

	proxy := t.TempDir()
	if err := ws.writeProxy(proxy, "v0.2.0"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"example.com/r/@v/list", "example.com/r/@v/v0.2.0.info", "example.com/r/@v/v0.2.0.mod", "example.com/r/a/@v/v0.2.0.zip"} {
		if _, err := os.Stat(filepath.Join(proxy, name)); err != nil {
			t.Errorf("proxy: %v", err)
		}
	}
	z, err := zip.OpenReader(filepath.Join(proxy, "example.com/r/@v/v0.2.0.zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	var names []string
	for _, f := range z.File {
		names = append(names, f.Name)
	}
	if got, want := strings.Join(names, " "), "example.com/r@v0.2.0/go.mod example.com/r@v0.2.0/go.work example.com/r@v0.2.0/r.go"; got != want {
		t.Errorf("the root module's zip holds %s; want %s (not the nested module)", got, want)
	}
}

func TestCheckRefusesReplace(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, twoModules)
	writeFiles(t, dir, map[string]string{"go.mod": twoModules["go.mod"] + "\nreplace example.com/r/a => ./a\n"})
	ws, err := loadWorkspace(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := ws.check(); err == nil || !strings.Contains(err.Error(), "go.mod: replace example.com/r/a") {
		t.Errorf("check() = %v; want it to name the replace directive in go.mod", err)
	}
}
