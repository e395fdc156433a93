#!/bin/sh
# setup.sh prepares Wine to run Go windows/amd64 test binaries on a Debian 12
# (bookworm) amd64 host. It is idempotent: each step is skipped when done.
#
#   1. installs wine64, wine and binutils-mingw-w64-x86-64 if missing;
#   2. creates the Wine prefix ($WINEPREFIX, default
#      $HOME/.cache/nfslock-wine/prefix);
#   3. builds and installs bcryptprimitives.dll, a forwarding DLL whose only
#      export is ProcessPrng = advapi32.SystemFunction036 (RtlGenRandom).
#      Go >= 1.24 calls ProcessPrng at start-up and Wine 8.0 has no
#      bcryptprimitives.dll, so without it every Go binary dies at once;
#   4. writes the exec shim go_windows_amd64_exec into $SHIM_DIR (default
#      $HOME/.cache/nfslock-wine/bin), and prints that directory on stdout
#      at the end. With it on PATH, `GOOS=windows go test` runs the test
#      binary under Wine (go test looks for go_$GOOS_$GOARCH_exec on PATH);
#   5. runs a small Go program through the shim, and makes the prefix
#      afresh (once) when it does not run.
#
# Usage: PATH="$(.ci/wine/setup.sh):$PATH" GOOS=windows go test ./...
# Progress goes to stderr; only the shim directory goes to stdout.
set -eu

WINE=/usr/lib/wine/wine64
export WINEDEBUG="${WINEDEBUG:--all,err+all}"
unset DISPLAY
CACHE="$HOME/.cache/nfslock-wine"
# A prefix of our own by default: a ~/.wine that other programs made (or a
# half-made one) is none of our business, and ours may be made afresh.
WINEPREFIX="${WINEPREFIX:-$CACHE/prefix}"
export WINEPREFIX
SHIM_DIR="${SHIM_DIR:-$CACHE/bin}"

log() { echo "wine-setup: $*" >&2; }

# 1. Packages: installed, and fully (a machine image made while an
# installation ran can have the files of a package that is not configured).
pkgs="wine64 wine libwine binutils-mingw-w64-x86-64"
installed() {
	for p in $pkgs; do
		[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || return 1
	done
}
if [ ! -x "$WINE" ] || ! command -v x86_64-w64-mingw32-ld >/dev/null 2>&1 || ! installed; then
	log "installing $pkgs"
	SUDO=
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	$SUDO apt-get update >&2
	DEBIAN_FRONTEND=noninteractive $SUDO dpkg --configure -a >&2 || true
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --reinstall --no-install-recommends $pkgs >&2
fi

# 2. Prefix.
if [ ! -f "$WINEPREFIX/system.reg" ]; then
	log "creating Wine prefix $WINEPREFIX"
	mkdir -p "$(dirname "$WINEPREFIX")"
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
export WINEDEBUG="\${WINEDEBUG:--all,err+all}"
export WINEPREFIX="\${WINEPREFIX:-$WINEPREFIX}"
unset DISPLAY
exec $WINE "\$@"
SHIM
chmod +x "$shim.tmp"
mv "$shim.tmp" "$shim"

# 5. A smoke test: a Go windows/amd64 program must run through the shim,
# as go test will run the tests. A prefix that a crash or a copied machine
# image left half-made can make every program exit at once, silently (seen
# in CI: "exit status 1" after 5 ms); then say what Wine reports, make the
# prefix afresh and try once more.
smoke_dir="$CACHE/smoke"
mkdir -p "$smoke_dir"
if [ ! -f "$smoke_dir/smoke.exe" ]; then
	printf 'module smoke\n\ngo 1.21\n' >"$smoke_dir/go.mod"
	printf 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("wine runs Go programs") }\n' >"$smoke_dir/main.go"
	(cd "$smoke_dir" && GOWORK=off GOOS=windows GOARCH=amd64 go build -o smoke.exe .) >&2
fi
# Run from the temporary directory, where go test puts its test binaries.
smoke() {
	d=$(mktemp -d)
	cp "$smoke_dir/smoke.exe" "$d/"
	"$shim" "$d/smoke.exe" 2>&1 && r=0 || r=$?
	rm -rf "$d"
	[ "$r" -eq 0 ] || echo "exit status $r"
	return "$r"
}
if ! out=$(smoke) || [ "$out" = "${out%wine runs Go programs*}" ]; then
	log "a Go program does not run under Wine; what it printed:"
	printf '%s\n' "$out" >&2
	log "wine: $("$WINE" --version 2>&1); prefix: $(ls -ld "$WINEPREFIX" 2>&1); id: $(id)"
	log "disk: $(df -h "$WINEPREFIX" /tmp 2>&1 | tr '\n' ';')"
	log "wineserver directory: $(ls -la "/tmp/.wine-$(id -u)" 2>&1 | tr '\n' ';')"
	log "the shim, traced, with Wine's loader and process messages (last 40 lines):"
	d=$(mktemp -d)
	cp "$smoke_dir/smoke.exe" "$d/"
	WINEDEBUG=err+all,+process,+loaddll sh -x "$shim" "$d/smoke.exe" 2>&1 | tail -n 40 >&2 || true
	rm -rf "$d"
	if [ -n "${NFSLOCK_WINE_REMADE:-}" ]; then
		log "still failing with a prefix made afresh: giving up"
		exit 1
	fi
	case "$WINEPREFIX" in
	"$CACHE"/*) ;;
	*) log "$WINEPREFIX is not ours to remake (unset WINEPREFIX to use $CACHE/prefix)"; exit 1 ;;
	esac
	log "making the prefix $WINEPREFIX afresh"
	wineserver -k 2>/dev/null || true
	rm -rf "$WINEPREFIX"
	"$WINE" wineboot -i >&2 2>&1 || true
	wineserver -w
	rm -f "$SYS32/bcryptprimitives.dll"
	NFSLOCK_WINE_REMADE=1 exec sh "$0" "$@"
fi
log "smoke test: $(printf "%s\n" "$out" | tail -n 1)"

echo "$SHIM_DIR"
