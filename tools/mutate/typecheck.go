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
// originals, and returns the changed files as they must be built, with
// the first few errors. An import that the changes leave unused in its
// file is made a blank import (_ "errors") in what it returns: a mutation
// that removes the last use of a package in its file (as it may, once its
// function has moved to a file of its own) still compiles.
func (c *checker) check(changed map[string][]byte) (map[string][]byte, error) {
	unused, err := c.run(changed)
	if len(unused) == 0 {
		return changed, err
	}
	fixed := maps.Clone(changed)
	for name, specs := range unused {
		src := fixed[name]
		for _, spec := range slices.Backward(specs) { // from the end, so that offsets hold
			from := c.fset.Position(spec.Path.Pos()).Offset
			to := from
			if spec.Name != nil {
				from = c.fset.Position(spec.Name.Pos()).Offset
			}
			src = slices.Concat(src[:from], []byte("_ "), src[to:])
		}
		fixed[name] = src
	}
	_, err = c.run(fixed)
	return fixed, err
}

// run type-checks the package once, with the changed files in place of
// the originals. It returns the imports of the changed files that nothing
// uses, by file and in order, and the first few errors.
func (c *checker) run(changed map[string][]byte) (map[string][]*ast.ImportSpec, error) {
	var files []*ast.File
	parsed := map[string]*ast.File{}
	for _, name := range slices.Sorted(maps.Keys(c.files)) {
		f := c.files[name]
		if src, ok := changed[name]; ok {
			var err error
			if f, err = parser.ParseFile(c.fset, lockerDir+"/"+name, src, parser.SkipObjectResolution); err != nil {
				return nil, err
			}
			parsed[name] = f
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
	info := &types.Info{
		Defs:      map[*ast.Ident]types.Object{},
		Implicits: map[ast.Node]types.Object{},
		Uses:      map[*ast.Ident]types.Object{},
	}
	conf.Check(lockerPkg, c.fset, files, info)
	used := map[types.Object]bool{}
	for _, obj := range info.Uses {
		if _, ok := obj.(*types.PkgName); ok {
			used[obj] = true
		}
	}
	unused := map[string][]*ast.ImportSpec{}
	for name, f := range parsed {
		for _, spec := range f.Imports {
			if spec.Name != nil && (spec.Name.Name == "_" || spec.Name.Name == ".") {
				continue
			}
			if obj := info.PkgNameOf(spec); obj != nil && !used[obj] {
				unused[name] = append(unused[name], spec)
			}
		}
	}
	if len(errs) > 0 {
		return unused, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return unused, nil
}
