#!/bin/sh
# setup.sh prepares Wine to run Go windows/amd64 test binaries on a Debian 12
# (bookworm) amd64 host. It is idempotent: each step is skipped when done.
#
#   1. installs wine64, wine and binutils-mingw-w64-x86-64 if missing;
#   2. creates the Wine prefix ($WINEPREFIX, default $HOME/.wine);
#   3. builds and installs bcryptprimitives.dll, a forwarding DLL whose only
#      export is ProcessPrng = advapi32.SystemFunction036 (RtlGenRandom).
#      Go >= 1.24 calls ProcessPrng at start-up and Wine 8.0 has no
#      bcryptprimitives.dll, so without it every Go binary dies at once;
#   4. writes the exec shim go_windows_amd64_exec into $SHIM_DIR (default
#      $HOME/.cache/nfslock-wine/bin) and prints that directory on stdout.
#      With it on PATH, `GOOS=windows go test` runs the test binary under
#      Wine (go test looks for go_$GOOS_$GOARCH_exec on PATH).
#
# Usage: PATH="$(.ci/wine/setup.sh):$PATH" GOOS=windows go test ./...
# Progress goes to stderr; only the shim directory goes to stdout.
set -eu

WINE=/usr/lib/wine/wine64
export WINEDEBUG="${WINEDEBUG:--all}"
unset DISPLAY
WINEPREFIX="${WINEPREFIX:-$HOME/.wine}"
export WINEPREFIX
SHIM_DIR="${SHIM_DIR:-$HOME/.cache/nfslock-wine/bin}"

log() { echo "wine-setup: $*" >&2; }

# 1. Packages.
if [ ! -x "$WINE" ] || ! command -v x86_64-w64-mingw32-ld >/dev/null 2>&1; then
	log "installing wine64 wine binutils-mingw-w64-x86-64"
	SUDO=
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	$SUDO apt-get update >&2
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends \
		wine64 wine binutils-mingw-w64-x86-64 >&2
fi

# 2. Prefix.
if [ ! -f "$WINEPREFIX/system.reg" ]; then
	log "creating Wine prefix $WINEPREFIX"
	"$WINE" wineboot -i >&2 2>&1 || true
	wineserver -w
fi
SYS32="$WINEPREFIX/drive_c/windows/system32"
[ -d "$SYS32" ] || { log "no $SYS32 after wineboot"; exit 1; }

# 3. bcryptprimitives.dll forwarding ProcessPrng to RtlGenRandom.
if [ ! -f "$SYS32/bcryptprimitives.dll" ]; then
	log "building bcryptprimitives.dll"
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	cat >"$tmp/bcryptprimitives.def" <<'DEF'
LIBRARY bcryptprimitives.dll
EXPORTS
ProcessPrng = advapi32.SystemFunction036
DEF
	: >"$tmp/empty.s"
	x86_64-w64-mingw32-as -o "$tmp/empty.o" "$tmp/empty.s"
	x86_64-w64-mingw32-ld -shared -nostdlib -o "$tmp/bcryptprimitives.dll" \
		"$tmp/empty.o" "$tmp/bcryptprimitives.def"
	cp "$tmp/bcryptprimitives.dll" "$SYS32/bcryptprimitives.dll"
	wineserver -w || true
fi

# 4. The exec shim.
mkdir -p "$SHIM_DIR"
shim="$SHIM_DIR/go_windows_amd64_exec"
cat >"$shim.tmp" <<SHIM
#!/bin/sh
# Runs a windows/amd64 Go binary under Wine (written by .ci/wine/setup.sh).
export WINEDEBUG="\${WINEDEBUG:--all}"
export WINEPREFIX="\${WINEPREFIX:-$WINEPREFIX}"
unset DISPLAY
exec $WINE "\$@"
SHIM
chmod +x "$shim.tmp"
mv "$shim.tmp" "$shim"

echo "$SHIM_DIR"
