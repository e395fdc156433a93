// Command release sets one version across nfslock's modules, tags it, and
// writes the modules into a file-based module proxy.
//
// The modules require each other at one version, the next one to be
// tagged; go.work replaces that version of each with its directory, for
// development. No go.mod has a replace directive: Go ignores them in a
// dependency. Run it from anywhere in a checkout:
//
//	go run ./tools/release                       # check the modules, print their version
//	go run ./tools/release -version v0.4.0       # make them require each other at v0.4.0
//	go run ./tools/release -version v0.4.0 -tag  # and, once that is committed, tag HEAD
//	go run ./tools/release -proxy DIR            # write every module into DIR
//
// (If go.work and the go.mod files disagree on the version, the workspace
// does not load and go run fails; cd tools && GOWORK=off go run ./release
// still works, since the tools module requires no other.)
//
// -tag makes the tags Go expects in a multi-module repository, one per
// module: v0.4.0 for the root module, locker/v0.4.0, cmd/nfslock/v0.4.0 and
// so on. It pushes nothing; it prints the command that does.
//
// -proxy writes each module's .info, .mod and .zip (made from the working
// tree) into DIR as GOPROXY=file://DIR reads them. .ci/modules.sh builds a
// program outside the workspace against such a proxy.
package main

import (
	"flag"
	"fmt"
	"os"

	"golang.org/x/mod/semver"
)

func main() {
	version := flag.String("version", "", "the `version` every module requires the others at (default: the one they do now)")
	tag := flag.Bool("tag", false, "tag HEAD with the version, once for each module")
	proxy := flag.String("proxy", "", "write every module at the version into the file-based module proxy `dir`")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: go run ./tools/release [-version vX.Y.Z] [-tag] [-proxy dir]\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*version, *tag, *proxy); err != nil {
		fmt.Fprintf(os.Stderr, "release: %v\n", err)
		os.Exit(1)
	}
}

func run(version string, tag bool, proxyDir string) error {
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	ws, err := loadWorkspace(wd)
	if err != nil {
		return err
	}
	if err := ws.check(); err != nil {
		return err
	}
	if version == "" {
		if version, err = ws.version(); err != nil {
			return err
		}
	} else if err := checkVersion(version); err != nil {
		return err
	}
	changed, err := ws.setVersion(version)
	if err != nil {
		return err
	}
	for _, name := range changed {
		fmt.Printf("%s: now at %s\n", name, version)
	}
	fmt.Printf("%d modules at %s\n", len(ws.modules), version)
	if tag {
		if err := ws.tag(version); err != nil {
			return err
		}
	}
	if proxyDir != "" {
		if err := ws.writeProxy(proxyDir, version); err != nil {
			return err
		}
		fmt.Printf("wrote the modules into the module proxy %s\n", proxyDir)
	}
	return nil
}

// checkVersion reports whether v can be every module's version: a
// canonical semantic version (vMAJOR.MINOR.PATCH, with an optional
// pre-release) that the module paths allow. They have no /vN suffix, so
// the major version is v0 or v1.
func checkVersion(v string) error {
	if !semver.IsValid(v) || semver.Canonical(v) != v {
		return fmt.Errorf("%q is not a semantic version: want vMAJOR.MINOR.PATCH, like v0.3.0", v)
	}
	if major := semver.Major(v); major != "v0" && major != "v1" {
		return fmt.Errorf("%s: the module paths end in no /%s, so the major version must be v0 or v1", v, major)
	}
	return nil
}
