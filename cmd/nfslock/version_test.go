package main

import (
	"runtime/debug"
	"testing"
)

func TestVersionOf(t *testing.T) {
	for _, tc := range []struct {
		name     string
		version  string
		settings map[string]string
		want     string
	}{
		{"installed at a release", "v0.3.0", nil, "nfslock v0.3.0"},
		{"no version recorded", "", nil, "nfslock (devel)"},
		{"built in a clean checkout", "(devel)", map[string]string{
			"vcs.revision": "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b",
			"vcs.time":     "2026-12-05T14:37:28Z",
			"vcs.modified": "false",
		}, "nfslock (devel) 1a2b3c4d5e6f 2026-12-05T14:37:28Z"},
		{"built in a checkout with changes", "(devel)", map[string]string{
			"vcs.revision": "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b",
			"vcs.modified": "true",
		}, "nfslock (devel) 1a2b3c4d5e6f (modified)"},
		{"stamped with a pseudo-version in a checkout", "v0.3.1-0.20261205144100-608818e513e0+dirty", map[string]string{
			"vcs.revision": "608818e513e0c2b5a41f2fd7c7b3c0e0a1b2c3d4",
			"vcs.time":     "2026-12-05T14:41:00Z",
			"vcs.modified": "true",
		}, "nfslock v0.3.1-0.20261205144100-608818e513e0+dirty"},
	} {
		info := &debug.BuildInfo{Main: debug.Module{Path: "github.com/nfslock/nfslock/cmd/nfslock", Version: tc.version}}
		for k, v := range tc.settings {
			info.Settings = append(info.Settings, debug.BuildSetting{Key: k, Value: v})
		}
		if got := versionOf(info); got != tc.want {
			t.Errorf("%s: versionOf = %q; want %q", tc.name, got, tc.want)
		}
	}
}
