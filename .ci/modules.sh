#!/usr/bin/env bash
# Proves that a Go program outside this repository can depend on nfslock.
#
# It writes every module, at the version the modules require each other
# at, into a file-based module proxy (go run ./tools/release -proxy); then,
# outside the workspace and without the network, a new module gets the
# root module, backend-memfs and conformance at that version, runs a
# program that takes a lock with nfslock.Do, and runs the conformance suite
# on memfs, and go installs the nfslock command. Last, every module is
# built alone from its zip, as a user of it would get it, and must leave
# its go.mod and go.sum as they are (in the workspace, go.work would hide
# a missing requirement).
#
# Usage: bash .ci/modules.sh    (from anywhere in a checkout; needs only Go)
set -euo pipefail
cd "$(dirname "$0")/.."

tmp=$(mktemp -d)
trap 'chmod -R u+w "$tmp" && rm -rf "$tmp"' EXIT
fail() { printf 'modules.sh: FAIL: %s\n' "$*" >&2; exit 1; }

# The third-party modules the nfslock modules need, into the module cache
# (through the usual proxy): the consumer below reads them from there.
go list -deps -test $(go list -m -f '{{.Dir}}/...') >/dev/null ||
	fail "the workspace does not load"
cache=$(go env GOMODCACHE)/cache/download
mapfile -t paths < <(go list -m -f '{{.Path}}')

proxy=$tmp/proxy
go run ./tools/release -proxy "$proxy" | tee "$tmp/release.out" ||
	fail "tools/release refused the modules or could not write them into a module proxy (above)"
version=$(awk '/ modules at / { print $NF; exit }' "$tmp/release.out")
[ -n "$version" ] || fail "tools/release did not say the modules' version"

# Outside the workspace, with a module cache of its own (so a stale copy of
# $version from an earlier run is never used), and no network: nfslock's
# modules come from $proxy, the others from the module cache above.
export GOWORK=off GOTOOLCHAIN=local GOSUMDB=off GOFLAGS='-mod=mod -modcacherw'
export GOPROXY="file://$proxy,file://$cache" GOMODCACHE=$tmp/modcache
export GOPRIVATE= GONOPROXY= GONOSUMDB=

consumer=$tmp/consumer
mkdir "$consumer"
cd "$consumer"
go mod init example.com/consumer >/dev/null 2>&1
go get github.com/nfslock/nfslock@"$version" \
	github.com/nfslock/nfslock/backend-memfs@"$version" \
	github.com/nfslock/nfslock/conformance@"$version" ||
	fail "a module outside the repository cannot get nfslock's modules at $version"

cat >main.go <<'GO'
// Command consumer takes a lock with nfslock.Do, as a user's program would.
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/nfslock/nfslock"
)

func main() {
	dir, err := os.MkdirTemp("", "nfslock-consumer-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	err = nfslock.Do(context.Background(), filepath.Join(dir, "job.lock"), func(ctx context.Context) error {
		fmt.Println("consumer: holding the lock")
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("consumer: released the lock")
}
GO

cat >conformance_test.go <<'GO'
package main

import (
	"testing"

	memfs "github.com/nfslock/nfslock/backend-memfs"
	"github.com/nfslock/nfslock/conformance"
)

// TestConformance runs the suite on memfs as a stranger's backend would,
// with few random cases: this proves the suite can be used from outside,
// the repository's own tests look hard for races.
func TestConformance(t *testing.T) {
	conformance.Run(t, conformance.Backend{
		Name:   "memfs from outside",
		Checks: 20,
		New: func(t testing.TB) *conformance.Env {
			fsys := memfs.New()
			const dir = "/locks"
			if err := fsys.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			return &conformance.Env{
				Dir: dir,
				FS:  fsys.Host(conformance.LocalHost),
				List: func() ([]string, error) {
					d, err := fsys.Open(dir)
					if err != nil {
						return nil, err
					}
					defer d.Close()
					return d.Readdirnames(-1)
				},
				Clock: fsys.Clock(),
			}
		},
	})
}
GO

go run . || fail "a program outside the repository could not take a lock with nfslock.Do"
go test -count=1 . || fail "conformance.Run on memfs failed outside the repository"

# The command, as a user installs it; it reports the version it was built at.
GOBIN=$tmp/bin go install github.com/nfslock/nfslock/cmd/nfslock@"$version" ||
	fail "go install github.com/nfslock/nfslock/cmd/nfslock@$version failed"
got=$("$tmp/bin/nfslock" --version)
[ "$got" = "nfslock $version" ] || fail "nfslock --version printed \"$got\", want \"nfslock $version\""
echo "$got"

# Every module alone, as its zip has it: it must build, tests included,
# and leave its go.mod and go.sum as they are (lines for the nfslock
# modules aside: their sums change with every commit until tagged).
for path in "${paths[@]}"; do
	from=$(go mod download -json "$path@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')
	[ -n "$from" ] || fail "$path@$version could not be downloaded from the module proxy"
	alone=$tmp/alone/$path
	mkdir -p "$alone"
	cp -R "$from"/. "$alone"
	chmod -R u+w "$alone"
	cp "$alone/go.mod" "$tmp/go.mod.orig"
	touch "$alone/go.sum"
	grep -v '^github.com/nfslock/nfslock' "$alone/go.sum" | sort >"$tmp/go.sum.orig" || true
	(cd "$alone" && go vet ./...) ||
		fail "$path@$version does not build alone from its zip (above)"
	diff -u "$tmp/go.mod.orig" "$alone/go.mod" ||
		fail "$path@$version: building it alone changes its go.mod (a requirement missing, or marked // indirect though imported): change its go.mod in the repository as the diff above shows"
	missing=$(grep -v '^github.com/nfslock/nfslock' "$alone/go.sum" | sort | comm -13 "$tmp/go.sum.orig" -)
	[ -z "$missing" ] ||
		fail "$path@$version: add these lines to its go.sum in the repository:"$'\n'"$missing"
	echo "ok  $path@$version builds alone"
done
echo "modules.sh: every module at $version works from outside the repository"
