#!/usr/bin/env bash
# The default host name, and interop with flufl.lock, on two kinds of host
# made with a UTS and a mount namespace (needs root: unshare):
#   fqdn:     /etc/hosts has Debian's "127.0.1.1 node1.example.org node1";
#             getfqdn gives node1.example.org, and nfslock writes the same.
#   loopback: the host name maps to 127.0.0.1 after localhost, as on many
#             containers and cloud images; getfqdn gives localhost, and
#             nfslock writes the kernel's host name instead.
# Each runs the locker's host name test, the interop tests (flufl.lock
# required) and the quickstart, whose holder must be named by the host.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
	echo "hostnames.sh needs root (unshare --uts --mount)" >&2
	exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '127.0.0.1 localhost\n127.0.1.1 node1.example.org node1\n::1 localhost ip6-localhost ip6-loopback\n' >"$tmp/hosts-fqdn"
printf '127.0.0.1 localhost\n127.0.0.1 node2\n::1 localhost ip6-localhost ip6-loopback\n' >"$tmp/hosts-loopback"

# Build first, outside the namespaces.
go test -count=1 -run '^$' github.com/nfslock/nfslock/locker github.com/nfslock/nfslock/interop >/dev/null
go build -o "$tmp/quickstart" ./examples/quickstart

run() { # kind hostname want-holder
	echo "-- a host of kind $1 (kernel host name $2)"
	unshare --uts --mount env TMP="$tmp" KIND="$1" HOST="$2" WANT="$3" sh -euc '
		hostname "$HOST"
		mount --bind "$TMP/hosts-$KIND" /etc/hosts
		echo "getfqdn: $(/usr/bin/python3 -c "import socket; print(socket.getfqdn())")"
		go test -count=1 -v -run "^TestDefaultHostname$" github.com/nfslock/nfslock/locker | grep -E "hostname_test|^(ok|FAIL|---)"
		NFSLOCK_INTEROP=required go test -count=1 github.com/nfslock/nfslock/interop
		out=$("$TMP/quickstart")
		echo "$out" | grep "holder="
		echo "$out" | grep -q "holder=$WANT pid" || { echo "quickstart: the holder is not named $WANT" >&2; exit 1; }
	'
}
run fqdn node1 node1.example.org
run loopback node2 node2
