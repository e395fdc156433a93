#!/usr/bin/env bash
# The README's test command as an unprivileged user (nobody), from a clone of
# this checkout in a directory of its own, with a HOME, module cache and build
# cache of its own. Tests that need root skip there, saying so; this prints
# their skips. Extra arguments go to go test.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
	echo "unprivileged.sh starts as root to become nobody (setpriv)" >&2
	exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git clone -q . "$tmp/src"
mkdir "$tmp/home"
chown -R nobody:nogroup "$tmp"
chmod 755 "$tmp"

as_nobody() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
		env -i PATH="$(dirname "$(command -v go)"):/usr/bin:/bin" HOME="$tmp/home" \
		GOPATH="$tmp/home/go" GOCACHE="$tmp/home/cache" GOPROXY="$(go env GOPROXY)" \
		GOTOOLCHAIN=local NFSLOCK_INTEROP="${NFSLOCK_INTEROP:-}" "$@"
}

repo=$(pwd)
cd "$tmp/src"
echo "as $(as_nobody id -un) (uid $(as_nobody id -u)), in a clone at $tmp/src"
status=0
# go test -json, printed by tools/testlog (as root, from this checkout): the
# output of -v, and at its end each failed test's own output.
as_nobody go test -count=1 -json "$@" github.com/nfslock/nfslock/... >"$tmp/out.json" 2>&1 || status=$?
(cd "$repo" && go run ./tools/testlog) <"$tmp/out.json" >"$tmp/out" 2>/dev/null || true
grep -E '^(ok|FAIL|---|panic)|^\s+--- FAIL' "$tmp/out" | grep -v -- '--- PASS' || true
echo "-- what skipped, with the reason each gave (on the line before or after its SKIP line):"
grep -E -B1 -A1 -- '--- SKIP' "$tmp/out" | grep -v -E '^(--|=== RUN.*)$' | head -150 || true
if [ "$status" -ne 0 ]; then
	echo "-- the tests failed as an unprivileged user; each failed test's output:"
	sed -n '/^== testlog: /,$p' "$tmp/out" | head -300
fi
exit "$status"
