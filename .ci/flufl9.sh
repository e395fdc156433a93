#!/usr/bin/env bash
# Run the interoperability tests (interop/) against flufl.lock 9.x, the
# version users install today, as Debian unstable packages it
# (python3-flufl.lock), with Debian's /usr/bin/python3:
#
#	bash .ci/flufl9.sh [go test flags]        for example: bash .ci/flufl9.sh -race
#
# The package is fetched as a .deb with apt-get download, through a private
# sources list, lists and cache in a temporary directory (the system's apt
# configuration and state are read, never changed), unpacked with dpkg -x,
# and put ahead of Python's path with NFSLOCK_PYTHONPATH. It runs on the
# system's Python packages: those it depends on (python3-psutil,
# python3-public) are installed with apt-get if missing (as root, or with
# sudo). The temporary directory is removed on exit.
#
# Environment: NFSLOCK_DEBIAN_MIRROR (default http://deb.debian.org/debian),
# NFSLOCK_DEBIAN_SUITE (default unstable), NFSLOCK_FLUFL_MAJOR (the major
# version the package must have, default 9).
set -euo pipefail
cd "$(dirname "$0")/.."

mirror=${NFSLOCK_DEBIAN_MIRROR:-http://deb.debian.org/debian}
suite=${NFSLOCK_DEBIAN_SUITE:-unstable}
major=${NFSLOCK_FLUFL_MAJOR:-9}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
python=/usr/bin/python3

for tool in apt-get dpkg dpkg-deb dpkg-query "$python"; do
	if ! command -v "$tool" >/dev/null; then
		echo "flufl9.sh: $tool not found: this script needs a Debian-based system" >&2
		exit 1
	fi
done
if [ ! -r "$keyring" ]; then
	echo "flufl9.sh: $keyring not found: apt-get install debian-archive-keyring" >&2
	exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo=sudo; fi

work=$(mktemp -d "${TMPDIR:-/tmp}/nfslock-flufl9.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/apt/lists/partial" "$work/apt/cache/archives/partial" "$work/deb"
echo "deb [signed-by=$keyring] $mirror $suite main" >"$work/apt/sources.list"
# As root, apt downloads as the user _apt: let it write there.
chmod 755 "$work"
if [ "$(id -u)" -eq 0 ] && id _apt >/dev/null 2>&1; then
	chown -R _apt "$work/apt" "$work/deb"
fi
apt=(apt-get -q
	-o Dir::Etc::SourceList="$work/apt/sources.list"
	-o Dir::Etc::SourceParts=-
	-o Dir::State::Lists="$work/apt/lists"
	-o Dir::Cache="$work/apt/cache")

echo "fetching python3-flufl.lock from $mirror $suite"
"${apt[@]}" update >"$work/update.log" 2>&1 || { cat "$work/update.log"; exit 1; }
(cd "$work/deb" && "${apt[@]}" download python3-flufl.lock)
debs=("$work"/deb/python3-flufl.lock_*.deb)
deb=${debs[0]}
version=$(dpkg-deb -f "$deb" Version)
depends=$(dpkg-deb -f "$deb" Depends)
echo "$(basename "$deb"): version $version, depends: $depends"
case $version in
"$major".*) ;;
*)
	echo "flufl9.sh: $suite has python3-flufl.lock $version, not $major.x" >&2
	exit 1
	;;
esac

# Its dependencies, from this system's apt sources: for each clause
# ("a (>= 1) | b:any"), an installed alternative, or the first one.
missing=()
IFS=, read -ra clauses <<<"$depends"
for clause in "${clauses[@]}"; do
	IFS='|' read -ra alternatives <<<"$clause"
	first=""
	found=""
	for alt in "${alternatives[@]}"; do
		name=$(sed -e 's/([^)]*)//g' -e 's/:any//' -e 's/[[:space:]]//g' <<<"$alt")
		first=${first:-$name}
		if dpkg-query -W -f='${Status}' "$name" 2>/dev/null | grep -q 'install ok installed'; then
			found=$name
			break
		fi
	done
	if [ -z "$found" ]; then missing+=("$first"); fi
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "installing its dependencies: ${missing[*]}"
	$sudo apt-get update -qq
	$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

dpkg -x "$deb" "$work/root"
pythonpath="$work/root/usr/lib/python3/dist-packages"
PYTHONPATH="$pythonpath${PYTHONPATH:+:$PYTHONPATH}" "$python" -c '
import sys, flufl.lock
print("flufl.lock", flufl.lock.__version__, "from", flufl.lock.__file__)
if not flufl.lock.__file__.startswith(sys.argv[1] + "/"):
    sys.exit("flufl9.sh: the installed flufl.lock shadows the unpacked one")
' "$pythonpath"

# -v: the tests log the flufl.lock they run (TestFluflVersion, which also
# checks that it is the unpacked one) and what each version did.
NFSLOCK_INTEROP=required NFSLOCK_PYTHONPATH="$pythonpath" \
	go test -count=1 -v "$@" github.com/nfslock/nfslock/interop
