package main

import (
	"runtime/debug"
	"strings"
)

// version is what --version prints: the module version the binary was
// built at (v0.3.0 when installed with go install ...@v0.3.0; in a
// checkout, a pseudo-version or "(devel)") and, if the build recorded one
// that the version does not show, the commit it was built from, with its
// time and whether the tree had changes.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "nfslock (development)"
	}
	return versionOf(info)
}

// versionOf formats the version of a binary with build information info.
func versionOf(info *debug.BuildInfo) string {
	v := info.Main.Version
	if v == "" {
		v = "(devel)"
	}
	parts := []string{"nfslock", v}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	// Go 1.24 and later stamp a binary built in a checkout with a
	// pseudo-version that holds the revision, its time, and +dirty.
	if rev := settings["vcs.revision"]; rev != "" && !strings.Contains(v, rev[:min(len(rev), 12)]) {
		parts = append(parts, rev[:min(len(rev), 12)])
		if t := settings["vcs.time"]; t != "" {
			parts = append(parts, t)
		}
		if settings["vcs.modified"] == "true" {
			parts = append(parts, "(modified)")
		}
	}
	return strings.Join(parts, " ")
}
