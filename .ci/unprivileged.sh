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

cd "$tmp/src"
echo "as $(as_nobody id -un) (uid $(as_nobody id -u)), in a clone at $tmp/src"
status=0
as_nobody go test -count=1 -v "$@" github.com/nfslock/nfslock/... >"$tmp/out" 2>&1 || status=$?
grep -E '^(ok|FAIL|---|panic)|^\s+--- FAIL' "$tmp/out" | grep -v -- '--- PASS' || true
echo "-- what skipped, with the reason each gave (go test -v prints a subtest's reason after its SKIP line, a test's before):"
grep -E -B1 -A1 -- '--- SKIP' "$tmp/out" | grep -v -E '^(--|=== RUN.*)$' | head -150 || true
if [ "$status" -ne 0 ]; then
	echo "-- the tests failed as an unprivileged user; the failures:"
	grep -E -B2 -A20 -- '--- FAIL' "$tmp/out" | head -200
fi
exit "$status"
