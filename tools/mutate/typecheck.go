package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"maps"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
)

// lockerPkg is the import path of the package the mutations change.
const lockerPkg = "github.com/nfslock/nfslock/locker"

// checker type-checks mutants of the locker package as the compiler
// would, in process: a mutant that does not compile is found in
// milliseconds, before the suite is built for it.
type checker struct {
	pkg   *pkgSource
	fset  *token.FileSet
	imp   types.Importer
	files map[string]*ast.File // the unchanged files, parsed once
}

// newChecker asks the go command, once, where the compiled export data
// of the locker's dependencies is (building what is not in the build
// cache).
func newChecker(ctx context.Context, root string, pkg *pkgSource) (*checker, error) {
	cmd := exec.CommandContext(ctx, "go", "list", "-export", "-deps", "-f", "{{if .Export}}{{.ImportPath}}={{.Export}}{{end}}", lockerPkg)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list -export %s: %v\n%s", lockerPkg, err, stderr.Bytes())
	}
	export := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if path, file, ok := strings.Cut(sc.Text(), "="); ok {
			export[path] = file
		}
	}
	fset := token.NewFileSet()
	lookup := func(path string) (io.ReadCloser, error) {
		file, ok := export[path]
		if !ok {
			return nil, fmt.Errorf("no export data for %s (not a dependency of %s?)", path, lockerPkg)
		}
		return os.Open(file)
	}
	c := &checker{pkg: pkg, fset: fset, imp: importer.ForCompiler(fset, "gc", lookup), files: map[string]*ast.File{}}
	for name, src := range pkg.files {
		f, err := parser.ParseFile(fset, lockerDir+"/"+name, src, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		c.files[name] = f
	}
	return c, nil
}

// check type-checks the package with the changed files in place of the
// originals, and returns the first few errors.
func (c *checker) check(changed map[string][]byte) error {
	var files []*ast.File
	for _, name := range slices.Sorted(maps.Keys(c.files)) {
		f := c.files[name]
		if src, ok := changed[name]; ok {
			var err error
			if f, err = parser.ParseFile(c.fset, lockerDir+"/"+name, src, parser.SkipObjectResolution); err != nil {
				return err
			}
		}
		files = append(files, f)
	}
	var errs []string
	conf := types.Config{
		Importer: c.imp,
		Sizes:    types.SizesFor("gc", runtime.GOARCH),
		Error: func(err error) {
			if len(errs) < 3 {
				errs = append(errs, err.Error())
			}
		},
	}
	conf.Check(lockerPkg, c.fset, files, nil)
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}
