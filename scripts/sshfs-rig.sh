#!/usr/bin/env bash
# sshfs-rig.sh: a real network filesystem on this machine, for nfslock's tests.
#
#   bash scripts/sshfs-rig.sh up       start it and print the mount points
#   bash scripts/sshfs-rig.sh env      print them again (as shell assignments)
#   bash scripts/sshfs-rig.sh down     unmount and stop everything "up" started
#
# "up" starts a private sshd on 127.0.0.1 (its own configuration, host key and
# client key under the rig directory; the system's sshd and its configuration
# are not touched) that exports one directory, and mounts that directory three
# times with sshfs, each mount its own sshfs process with its own ssh
# connection, i.e. its own client:
#
#   NFSLOCK_SSHFS_A       caching off (dir_cache=no,attr_timeout=0,entry_timeout=0,negative_timeout=0)
#   NFSLOCK_SSHFS_B       caching off, a second, independent client
#   NFSLOCK_SSHFS_CACHED  sshfs's default caching (attributes and entries cached ~20 s)
#
# The rig lives in $NFSLOCK_RIG_DIR (default: $TMPDIR/nfslock-rig or
# /tmp/nfslock-rig). It needs: openssh-server sshfs fuse3 (Debian packages).
# "down" is safe to run at any time, also after a failed "up" or test.
set -euo pipefail

rig=${NFSLOCK_RIG_DIR:-${TMPDIR:-/tmp}/nfslock-rig}
nocache="dir_cache=no,attr_timeout=0,entry_timeout=0,negative_timeout=0"

say() { printf 'sshfs-rig: %s\n' "$*" >&2; }

print_env() {
	printf 'export NFSLOCK_SSHFS_A=%s\n' "$rig/mnt/a"
	printf 'export NFSLOCK_SSHFS_B=%s\n' "$rig/mnt/b"
	printf 'export NFSLOCK_SSHFS_CACHED=%s\n' "$rig/mnt/cached"
}

need() {
	local missing=()
	for c in sshd:openssh-server ssh:openssh-client ssh-keygen:openssh-client sshfs:sshfs fusermount3:fuse3; do
		local cmd=${c%%:*} pkg=${c#*:}
		if ! command -v "$cmd" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$cmd" ]; then
			missing+=("$pkg")
		fi
	done
	if [ ${#missing[@]} -gt 0 ]; then
		say "missing commands; install them with: apt-get install ${missing[*]}"
		exit 2
	fi
	if [ ! -e /dev/fuse ]; then
		say "/dev/fuse does not exist: FUSE is not available here"
		exit 2
	fi
}

free_port() {
	# A port on 127.0.0.1 that nothing listens on.
	local p
	for p in $(shuf -i 20000-60000 -n 50); do
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return
		fi
	done
	say "no free port found"
	exit 1
}

up() {
	need
	if [ -f "$rig/sshd.pid" ] && kill -0 "$(cat "$rig/sshd.pid")" 2>/dev/null; then
		say "already up in $rig (run down first)"
		print_env
		return
	fi
	down quiet
	mkdir -p "$rig/export" "$rig/mnt/a" "$rig/mnt/b" "$rig/mnt/cached"
	chmod 700 "$rig"
	chmod 1777 "$rig/export"
	ssh-keygen -q -t ed25519 -N '' -f "$rig/host_key" -C nfslock-rig-host
	ssh-keygen -q -t ed25519 -N '' -f "$rig/client_key" -C nfslock-rig-client
	cp "$rig/client_key.pub" "$rig/authorized_keys"
	chmod 600 "$rig/authorized_keys"
	local port user sshd sftp
	port=$(free_port)
	user=$(id -un)
	sshd=$(command -v sshd || echo /usr/sbin/sshd)
	sftp=/usr/lib/openssh/sftp-server
	[ -x "$sftp" ] || sftp=internal-sftp
	# sshd wants its privilege separation directory even when run privately.
	if [ "$(id -u)" -eq 0 ]; then mkdir -p /run/sshd; chmod 755 /run/sshd; fi
	cat >"$rig/sshd_config" <<CONF
Port $port
ListenAddress 127.0.0.1
HostKey $rig/host_key
PidFile $rig/sshd.pid
AuthorizedKeysFile $rig/authorized_keys
AllowUsers $user
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
MaxStartups 50
MaxSessions 50
Subsystem sftp $sftp
CONF
	printf '[127.0.0.1]:%s %s\n' "$port" "$(cut -d' ' -f1,2 "$rig/host_key.pub")" >"$rig/known_hosts"
	cat >"$rig/ssh_config" <<CONF
Host nfslock-rig
	HostName 127.0.0.1
	Port $port
	User $user
	IdentityFile $rig/client_key
	IdentitiesOnly yes
	UserKnownHostsFile $rig/known_hosts
	StrictHostKeyChecking yes
	ControlMaster no
	ControlPath none
	ServerAliveInterval 5
	BatchMode yes
	LogLevel ERROR
CONF
	"$sshd" -f "$rig/sshd_config" -E "$rig/sshd.log"
	for _ in $(seq 50); do
		[ -s "$rig/sshd.pid" ] && break
		sleep 0.1
	done
	if [ ! -s "$rig/sshd.pid" ]; then
		say "sshd did not start; its log:"
		cat "$rig/sshd.log" >&2 || true
		exit 1
	fi
	local m opts
	for m in a b cached; do
		opts="-F $rig/ssh_config -o idmap=none"
		if [ "$m" != cached ]; then opts="$opts -o $nocache"; fi
		# shellcheck disable=SC2086
		if ! sshfs $opts "nfslock-rig:$rig/export" "$rig/mnt/$m"; then
			say "mounting $rig/mnt/$m failed; sshd's log:"
			cat "$rig/sshd.log" >&2 || true
			down quiet
			exit 1
		fi
	done
	print_env >"$rig/env"
	say "up: sshd pid $(cat "$rig/sshd.pid") on 127.0.0.1:$port exports $rig/export"
	print_env
}

down() {
	local quiet=${1:-}
	local m
	for m in a b cached; do
		if mountpoint -q "$rig/mnt/$m" 2>/dev/null; then
			fusermount3 -u "$rig/mnt/$m" 2>/dev/null || fusermount3 -uz "$rig/mnt/$m" 2>/dev/null || umount -l "$rig/mnt/$m" 2>/dev/null || true
		fi
	done
	if [ -f "$rig/sshd.pid" ]; then
		local pid
		pid=$(cat "$rig/sshd.pid")
		if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
			kill "$pid" 2>/dev/null || true
			for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
			kill -9 "$pid" 2>/dev/null || true
		fi
	fi
	# Nothing may be mounted when the directory is removed.
	for m in a b cached; do
		if mountpoint -q "$rig/mnt/$m" 2>/dev/null; then
			say "$rig/mnt/$m is still mounted; leaving $rig in place"
			return 1
		fi
	done
	rm -rf "$rig"
	[ -n "$quiet" ] || say "down: $rig removed"
}

case "${1:-}" in
up) up ;;
down) down ;;
env)
	[ -f "$rig/env" ] || { say "not up"; exit 1; }
	cat "$rig/env"
	;;
*)
	sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
	;;
esac
