package main

import (
	"fmt"
	"os"
	"os/exec"
	"path"
	"strings"
)

// tagName is the tag Go looks for to find module m at version v: the
// module's directory, then the version.
func (m *mod) tagName(v string) string {
	if m.dir == "." {
		return v
	}
	return path.Join(m.dir, v)
}

// tag tags HEAD with v for every module. HEAD must hold the go.mod files
// and go.work as they are now (requiring v), and no tag may exist yet.
func (ws *workspace) tag(v string) error {
	files := []string{"go.work"}
	for _, m := range ws.modules {
		files = append(files, m.goMod())
	}
	if ws.git(append([]string{"diff", "--quiet", "HEAD", "--"}, files...)...) != nil {
		return fmt.Errorf("go.work or a go.mod differs from HEAD's: commit them at %s, then tag", v)
	}
	var tags []string
	for _, m := range ws.modules {
		t := m.tagName(v)
		if ws.git("rev-parse", "--quiet", "--verify", "refs/tags/"+t) == nil {
			return fmt.Errorf("tag %s exists already", t)
		}
		tags = append(tags, t)
	}
	for _, t := range tags {
		if err := ws.git("tag", t, "HEAD"); err != nil {
			return err
		}
	}
	fmt.Printf("tagged HEAD: %s\npublish with: git push origin %s\n", strings.Join(tags, " "), strings.Join(tags, " "))
	return nil
}

// git runs git in the checkout.
func (ws *workspace) git(args ...string) error {
	cmd := exec.Command("git", args...)
	cmd.Dir = ws.root
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("git %s: %w", strings.Join(args, " "), err)
	}
	return nil
}
