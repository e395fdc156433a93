#!/usr/bin/env bash
# A soak test of the command's shared locks and semaphores across two
# mounts of one directory: 20 shell loops, half through each mount, run
# `nfslock -s` (readers), `nfslock` (writers) and `nfslock --slots 4`
# (slot holders) for a while, each checking the invariants from inside its
# lock by the marker files the others leave in the shared directory:
#
#   - a reader sees no writer's marker, a writer sees no other marker;
#   - a slot holder sees at most 4 slot markers, its own included.
#
# usage: scripts/shared-soak.sh DIR_A DIR_B [SECONDS]
#   DIR_A and DIR_B: two mounts of one directory (or one directory twice),
#   for example "$NFSLOCK_SSHFS_A" and "$NFSLOCK_SSHFS_B" from
#   scripts/sshfs-rig.sh, or "$NFSLOCK_NFS_A" and "$NFSLOCK_NFS_B".
# It builds the command, runs the loops for SECONDS (default 180), and
# prints how many holds each kind made and every violation seen; it exits 1
# if there was one, or if a kind made no hold.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -lt 2 ]; then
	sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
	exit 2
fi
a=$1 b=$2 seconds=${3:-180}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
go build -o "$work/nfslock" ./cmd/nfslock
sub=nfslock-soak-$$
mkdir "$a/$sub"
[ -d "$b/$sub" ] || { echo "$b does not show $a's $sub: not two mounts of one directory" >&2; exit 1; }
end=$((SECONDS + seconds))
# The command each loop runs under its lock: check, leave a marker, hold a
# moment, check again, take the marker away. $1 is the kind (r, w, s), $2
# the mount the loop uses, $3 the loop's name.
cat >"$work/hold.sh" <<'EOF'
kind=$1 dir=$2 me=$3
marker="$dir/m.$kind.$me.$$"
check() {
	n_w=$(ls "$dir" | grep -c '^m\.w\.' || true)
	n_r=$(ls "$dir" | grep -c '^m\.r\.' || true)
	n_s=$(ls "$dir" | grep -c '^m\.s\.' || true)
	case $kind in
	r) [ "$n_w" -eq 0 ] || echo "VIOLATION: reader $me sees $n_w writer(s) ($1)" ;;
	w) [ $((n_w + n_r)) -eq "$2" ] || echo "VIOLATION: writer $me sees $n_w writer(s) and $n_r reader(s) ($1)" ;;
	s) [ "$n_s" -le "$3" ] || echo "VIOLATION: slot holder $me sees $n_s slot holders, more than 4 ($1)" ;;
	esac
}
check before 0 3
: >"$marker"
check during 1 4
sleep 0.0$((RANDOM % 9 + 1))
check after 1 4
rm -f "$marker"
echo "$kind" >>"$dir/holds.$me"
EOF
loop() { # kind mount name
	local kind=$1 dir=$2/$sub name=$3 args=() lock=rw.lock
	case $kind in
	r) args=(-s) ;;
	s) args=(--slots 4) lock=sem.lock ;;
	esac
	while [ $SECONDS -lt $end ]; do
		"$work/nfslock" "${args[@]}" -l 10s "$dir/$lock" sh "$work/hold.sh" "$kind" "$dir" "$name" >>"$work/out.$name" 2>&1 ||
			echo "nfslock exited $? in $name" >>"$work/out.$name"
	done
}
# 20 loops: on each mount 4 readers, 1 writer of the shared lock, and 5
# holders of the semaphore of 4 slots.
for m in a b; do
	dir=$a
	[ $m = b ] && dir=$b
	for i in 1 2 3 4; do loop r "$dir" "r$m$i" & done
	loop w "$dir" "w${m}1" &
	for i in 1 2 3 4 5; do loop s "$dir" "s$m$i" & done
done
wait
status=0
for kind in r w s; do
	n=$(cat "$a/$sub"/holds.* 2>/dev/null | grep -c "^$kind\$" || true)
	echo "$kind holds: $n"
	[ "$n" -gt 0 ] || { echo "no $kind hold was made"; status=1; }
done
if cat "$work"/out.* | grep -E 'VIOLATION|exited' >"$work/bad"; then
	echo "$(wc -l <"$work/bad") violations or failures; the first:"
	head -20 "$work/bad"
	status=1
else
	echo "no violation in ${seconds}s: 20 loops, half through $a, half through $b"
fi
rm -rf "${a:?}/$sub"
exit $status
