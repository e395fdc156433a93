#!/usr/bin/env bash
# The conformance suite on a real network filesystem: two sshfs clients of one
# export served by a private sshd on 127.0.0.1 (scripts/sshfs-rig.sh), then
# the same cross-client stress tests through a client with sshfs's default
# caching, as a report. Installs openssh-server, sshfs and fuse3 if missing.
# Extra arguments go to go test (for example -race).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v sshfs >/dev/null || missing+=(sshfs)
command -v fusermount3 >/dev/null || missing+=(fuse3)
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
if [ ${#missing[@]} -gt 0 ]; then
	sudo=""
	if [ "$(id -u)" -ne 0 ]; then sudo=sudo; fi
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# go test -json through tools/testlog: -v's output, less the RUN lines and
# rapid's draws, then each failed test's output again at the end.
quiet() { go run ./tools/testlog; }

rig=scripts/sshfs-rig.sh
trap 'bash "$rig" down' EXIT
eval "$(bash "$rig" up)"

# Trimmed to keep CI under 45 minutes: the property tests (the exclusive
# lock's, the shared lock's and the semaphore's) run 15 random cases each,
# not the 100 TestDirectory gives a network filesystem (their depth is on
# memfs, where a case costs microseconds), and Counter runs 4 processes x
# 100 cycles, not 8 x 200.
echo "-- the whole suite through two caching-off clients (property tests: 15 cases each); Counter with 4 processes x 100 cycles split over them"
NFSLOCK_STRESS_PROCS=4 NFSLOCK_STRESS_CYCLES=100 \
	go test "$@" -count=1 -timeout 15m -json github.com/nfslock/nfslock/conformance -run '^TestDirectory$' \
	-args -rapid.checks=15 -dir "$NFSLOCK_SSHFS_A" -dir2 "$NFSLOCK_SSHFS_B" | quiet

# FairCounter is left out across a caching client: the queue's head can see
# a lock file long gone there, and all wait behind it (the test skips itself
# where the probe sees the caching; this does not rely on the probe).
echo "-- the stress tests across a caching-off client and one with sshfs's default caching (a report of what caching does)"
go test "$@" -count=1 -timeout 10m -json github.com/nfslock/nfslock/conformance -run '^TestDirectory$/^Stress$' \
	-skip '^TestDirectory$/^Stress$/^FairCounter$' \
	-args -dir "$NFSLOCK_SSHFS_A" -dir2 "$NFSLOCK_SSHFS_CACHED" | quiet

echo "-- nfslock check on the sshfs mount (NFSLOCK_SSHFS_A is set, so the test runs)"
out=$(go test "$@" -count=1 -json github.com/nfslock/nfslock/cmd/nfslock -run '^TestCheckSSHFS$' | quiet) || { echo "$out"; exit 1; }
echo "$out"
# Here a skip is a failure: the rig is up.
grep -q -- '--- PASS: TestCheckSSHFS' <<<"$out" || { echo "TestCheckSSHFS did not pass"; exit 1; }
