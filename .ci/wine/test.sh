#!/bin/sh
# test.sh runs the tests of backend-windows under Wine: it prepares Wine
# with setup.sh, then runs `GOOS=windows go test` with the exec shim on
# PATH. Extra arguments go to go test (e.g. -v, -run).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
shim_dir=$("$here/setup.sh")
cd "$here/../.."
export WINEDEBUG="${WINEDEBUG:--all,err+all}"
unset DISPLAY
PATH="$shim_dir:$PATH" GOOS=windows GOARCH=amd64 \
	go test -count=1 "$@" github.com/nfslock/nfslock/backend-windows/...
