package main

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/mod/modfile"
)

// A workspace is the checkout: go.work and the modules it uses.
type workspace struct {
	root    string // the directory holding go.work
	work    *modfile.WorkFile
	modules []*mod
}

// A mod is one module of the workspace.
type mod struct {
	dir  string // relative to the root, slash-separated; "." for the root module
	file *modfile.File
}

func (m *mod) path() string { return m.file.Module.Mod.Path }

// goMod is the module's go.mod, relative to the root.
func (m *mod) goMod() string { return path.Join(m.dir, "go.mod") }

// loadWorkspace reads go.work, found in dir or above it, and the go.mod of
// every module it uses.
func loadWorkspace(dir string) (*workspace, error) {
	root := dir
	for {
		if _, err := os.Stat(filepath.Join(root, "go.work")); err == nil {
			break
		}
		up := filepath.Dir(root)
		if up == root {
			return nil, fmt.Errorf("no go.work in %s or above it: run in a checkout of nfslock", dir)
		}
		root = up
	}
	ws := &workspace{root: root}
	data, err := os.ReadFile(filepath.Join(root, "go.work"))
	if err != nil {
		return nil, err
	}
	if ws.work, err = modfile.ParseWork("go.work", data, nil); err != nil {
		return nil, err
	}
	for _, u := range ws.work.Use {
		m := &mod{dir: path.Clean(filepath.ToSlash(u.Path))}
		data, err := os.ReadFile(filepath.Join(root, m.goMod()))
		if err != nil {
			return nil, err
		}
		if m.file, err = modfile.Parse(m.goMod(), data, nil); err != nil {
			return nil, err
		}
		ws.modules = append(ws.modules, m)
	}
	return ws, nil
}

// sibling reports whether p is the path of a module of the workspace.
func (ws *workspace) sibling(p string) bool {
	return slices.ContainsFunc(ws.modules, func(m *mod) bool { return m.path() == p })
}

// check reports what would keep the modules from working as dependencies
// of a program outside the repository: a replace directive (Go ignores it
// there), or go directives that differ.
func (ws *workspace) check() error {
	var problems []string
	for _, m := range ws.modules {
		for _, r := range m.file.Replace {
			problems = append(problems, fmt.Sprintf("%s: replace %s: Go ignores replace directives in a dependency, so a program outside this repository could not build; go.work joins the modules for development", m.goMod(), r.Old.Path))
		}
		if m.file.Go == nil || ws.work.Go == nil || m.file.Go.Version != ws.work.Go.Version {
			problems = append(problems, fmt.Sprintf("%s: the go directive differs from go.work's: every module uses the workspace's", m.goMod()))
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "\n"))
	}
	return nil
}

// version returns the one version at which the modules require each
// other.
func (ws *workspace) version() (string, error) {
	at := map[string][]string{} // version -> the go.mod files requiring it
	for _, m := range ws.modules {
		for _, r := range m.file.Require {
			if ws.sibling(r.Mod.Path) && !slices.Contains(at[r.Mod.Version], m.goMod()) {
				at[r.Mod.Version] = append(at[r.Mod.Version], m.goMod())
			}
		}
	}
	switch len(at) {
	case 0:
		return "", errors.New("no module requires another: give the version with -version")
	case 1:
		for v := range at {
			return v, nil
		}
	}
	var lines []string
	for v, reqs := range at {
		lines = append(lines, fmt.Sprintf("%s in %s", v, strings.Join(reqs, ", ")))
	}
	slices.Sort(lines)
	return "", fmt.Errorf("the modules require each other at different versions: set one with -version\n%s", strings.Join(lines, "\n"))
}

// setVersion makes every module require the others at v, and go.work
// replace that version of each module with its directory. It returns the
// names of the files it changed.
func (ws *workspace) setVersion(v string) ([]string, error) {
	var changed []string
	for _, m := range ws.modules {
		dirty := false
		for _, r := range m.file.Require {
			if ws.sibling(r.Mod.Path) && r.Mod.Version != v {
				if err := m.file.AddRequire(r.Mod.Path, v); err != nil {
					return nil, err
				}
				dirty = true
			}
		}
		if !dirty {
			continue
		}
		m.file.Cleanup()
		data, err := m.file.Format()
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(ws.root, m.goMod()), data, 0o666); err != nil {
			return nil, err
		}
		changed = append(changed, m.goMod())
	}

	dirty := false
	for _, m := range ws.modules {
		has := false
		var others []string
		for _, r := range ws.work.Replace {
			if r.Old.Path == m.path() {
				has = has || r.Old.Version == v
				if r.Old.Version != v {
					others = append(others, r.Old.Version)
				}
			}
		}
		if !has {
			if err := ws.work.AddReplace(m.path(), v, "./"+strings.TrimSuffix(m.dir, "."), ""); err != nil {
				return nil, err
			}
		}
		for _, o := range others {
			if err := ws.work.DropReplace(m.path(), o); err != nil {
				return nil, err
			}
		}
		dirty = dirty || !has || len(others) > 0
	}
	if dirty {
		ws.work.Cleanup()
		if err := os.WriteFile(filepath.Join(ws.root, "go.work"), modfile.Format(ws.work.Syntax), 0o666); err != nil {
			return nil, err
		}
		changed = append(changed, "go.work")
	}
	return changed, nil
}
