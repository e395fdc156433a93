package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	"golang.org/x/mod/zip"
)

// writeProxy writes every module at version v into dir, laid out as a
// module proxy (GOPROXY=file://dir) serves it: for each module,
// <module path>/@v/ holds v's .info, .mod and .zip, and list names every
// version there. The zips are made from the working tree and follow Go's
// rules for module zips: a module's zip leaves out the directories of the
// modules nested in it (those holding a go.mod), VCS directories and
// irregular files. They differ from the zips the go command makes from a
// tag in two ways that do not change a build: they hold files git does
// not track, and a nested module's zip lacks the repository's LICENSE.
func (ws *workspace) writeProxy(dir string, v string) error {
	info, err := json.Marshal(struct {
		Version string
		Time    time.Time
	}{v, time.Now().UTC().Truncate(time.Second)})
	if err != nil {
		return err
	}
	for _, m := range ws.modules {
		mv := module.Version{Path: m.path(), Version: v}
		escPath, err := module.EscapePath(mv.Path)
		if err != nil {
			return err
		}
		escVers, err := module.EscapeVersion(v)
		if err != nil {
			return err
		}
		at := filepath.Join(dir, filepath.FromSlash(escPath), "@v")
		if err := os.MkdirAll(at, 0o777); err != nil {
			return err
		}
		goMod, err := os.ReadFile(filepath.Join(ws.root, m.goMod()))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(at, escVers+".mod"), goMod, 0o666); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(at, escVers+".info"), info, 0o666); err != nil {
			return err
		}
		if err := writeZip(filepath.Join(at, escVers+".zip"), mv, filepath.Join(ws.root, m.dir)); err != nil {
			return err
		}
		if err := addToList(filepath.Join(at, "list"), v); err != nil {
			return err
		}
	}
	return nil
}

// writeZip writes the zip of module mv, whose files are in dir, to name.
func writeZip(name string, mv module.Version, dir string) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := zip.CreateFromDir(f, mv, dir); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// addToList adds v to the proxy's list of versions in the file name.
func addToList(name, v string) error {
	data, err := os.ReadFile(name)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	versions := strings.Fields(string(data))
	if !slices.Contains(versions, v) {
		versions = append(versions, v)
	}
	semver.Sort(versions)
	return os.WriteFile(name, []byte(strings.Join(versions, "\n")+"\n"), 0o666)
}
