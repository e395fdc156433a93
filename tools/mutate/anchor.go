package main

import (
	"errors"
	"fmt"
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// lockerDir is the package the mutations change, relative to the checkout.
const lockerDir = "locker"

// pkgSource is the source of one package as the go command would build it
// here: its non-test .go files whose build constraints match this platform.
type pkgSource struct {
	dir   string            // absolute
	rel   string            // as errors show it: locker
	files map[string][]byte // by base name
	// funcs lists, for each function by its anchor name (see funcName),
	// the files that declare it: one, unless the package does not build.
	funcs map[string][]string
}

// loadPackage reads and parses the package in dir.
func loadPackage(dir string) (*pkgSource, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	p := &pkgSource{dir: dir, rel: filepath.Base(dir), files: map[string][]byte{}, funcs: map[string][]string{}}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		if ok, err := build.Default.MatchFile(dir, name); err != nil {
			return nil, err
		} else if !ok {
			continue
		}
		src, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, src, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		p.files[name] = src
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Name.Name != "init" {
				p.funcs[funcName(fd)] = append(p.funcs[funcName(fd)], name)
			}
		}
	}
	if len(p.files) == 0 {
		return nil, fmt.Errorf("no Go files in %s", dir)
	}
	return p, nil
}

// funcName is how an Edit names a function: "breakLock" for a function,
// "(*Lock).expired" or "(waiting).busy" for a method (without the type
// parameters of a generic receiver).
func funcName(fd *ast.FuncDecl) string {
	if fd.Recv == nil || len(fd.Recv.List) == 0 {
		return fd.Name.Name
	}
	t, star := fd.Recv.List[0].Type, ""
	if s, ok := t.(*ast.StarExpr); ok {
		t, star = s.X, "*"
	}
	switch x := t.(type) {
	case *ast.IndexExpr:
		t = x.X
	case *ast.IndexListExpr:
		t = x.X
	}
	id, _ := t.(*ast.Ident)
	if id == nil {
		return fd.Name.Name // not valid Go; the compiler will say so
	}
	return "(" + star + id.Name + ")." + fd.Name.Name
}

// apply returns the files of p that the mutation changes, by base name,
// with its edits done in order (an edit sees the earlier ones' work).
func (p *pkgSource) apply(m Mutation) (map[string][]byte, error) {
	if len(m.Edits) == 0 {
		return nil, errors.New("no edits")
	}
	changed := map[string][]byte{}
	for _, e := range m.Edits {
		file, err := p.fileOf(e.Func)
		if err != nil {
			return nil, fmt.Errorf("%v (pattern %q)", err, e.Old)
		}
		src, ok := changed[file]
		if !ok {
			src = p.files[file]
		}
		out, err := e.apply(src, file)
		if err != nil {
			return nil, fmt.Errorf("in %s (%s): %v", e.Func, p.rel+"/"+file, err)
		}
		changed[file] = out
	}
	return changed, nil
}

// fileOf says which file declares the function fn.
func (p *pkgSource) fileOf(fn string) (string, error) {
	switch files := p.funcs[fn]; len(files) {
	case 1:
		return files[0], nil
	case 0:
		return "", fmt.Errorf("function %s not found: no non-test .go file of %s/ declares it", fn, p.rel)
	default:
		return "", fmt.Errorf("function %s is declared %d times, in %s", fn, len(files), strings.Join(files, ", "))
	}
}

// apply returns src, the file declaring e.Func, with the one span of that
// function's source that e.Old matches replaced by e.New.
func (e Edit) apply(src []byte, filename string) ([]byte, error) {
	re, err := anchorRE(e.Old)
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filename, src, parser.SkipObjectResolution)
	if err != nil {
		return nil, fmt.Errorf("the file no longer parses after an earlier edit: %v", err)
	}
	var fd *ast.FuncDecl
	for _, d := range f.Decls {
		if x, ok := d.(*ast.FuncDecl); ok && funcName(x) == e.Func {
			fd = x
		}
	}
	if fd == nil {
		return nil, errors.New("the function is gone after an earlier edit")
	}
	start, end := fset.Position(fd.Pos()).Offset, fset.Position(fd.End()).Offset
	switch found := re.FindAllIndex(src[start:end], -1); len(found) {
	case 1:
		from, to := start+found[0][0], start+found[0][1]
		return slices.Concat(src[:from], []byte(e.New), src[to:]), nil
	default:
		return nil, fmt.Errorf("pattern found %d times, want once: %q", len(found), e.Old)
	}
}

// anchorRE compiles a pattern: its text, in which each run of white space
// matches any run of white space, with leading and trailing white space
// ignored. A pattern that starts or ends with a letter, digit or
// underscore matches only a whole word there: "last + 1" does not match
// within "last + 10".
func anchorRE(old string) (*regexp.Regexp, error) {
	fields := strings.Fields(old)
	if len(fields) == 0 {
		return nil, errors.New("empty pattern")
	}
	for i, f := range fields {
		fields[i] = regexp.QuoteMeta(f)
	}
	expr := strings.Join(fields, `\s+`)
	if isWordByte(fields[0][0]) {
		expr = `\b` + expr
	}
	if last := fields[len(fields)-1]; isWordByte(last[len(last)-1]) {
		expr += `\b`
	}
	return regexp.Compile(expr)
}

func isWordByte(b byte) bool {
	return b == '_' || 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9'
}

// sameTokens reports whether a and b differ at most in white space.
func sameTokens(a, b string) bool {
	return slices.Equal(strings.Fields(a), strings.Fields(b))
}
