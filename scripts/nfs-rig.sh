#!/usr/bin/env bash
# nfs-rig.sh: a real NFS server on this machine, for nfslock's tests.
#
#   bash scripts/nfs-rig.sh up       start it and print the mount points
#   bash scripts/nfs-rig.sh env      print them again (as shell assignments)
#   bash scripts/nfs-rig.sh stats    print what each client counted so far (lost replies)
#   bash scripts/nfs-rig.sh down     unmount and stop everything "up" started
#
# "up" starts NFS-Ganesha (a userspace NFS server) on 127.0.0.1 serving NFSv3
# from one directory, with its own configuration (the system's is not
# touched), and mounts that directory three times with tools/nfsmount (this
# repository's NFSv3 client on FUSE: this kernel has no NFS client), each
# mount its own client process with its own TCP connection, i.e. its own
# client host:
#
#   NFSLOCK_NFS_A       caching off (noac,lookupcache=none: every call goes to the server)
#   NFSLOCK_NFS_B       caching off, a second, independent client
#   NFSLOCK_NFS_CACHED  the Linux client's default caching (acregmin=3..acdirmax=60, lookupcache=all, cto)
#   NFSLOCK_NFS_EXPORT  the exported directory itself, on the server's side
#   NFSLOCK_NFS_STATE   the rig directory: logs, each client's counts (stats-a.json...)
#   NFSLOCK_NFS_SERVER, NFSLOCK_NFS_PORTS   what a further mount needs:
#       go run ./tools/nfsmount -o "$NFSLOCK_NFS_PORTS,noac" "$NFSLOCK_NFS_SERVER" DIR
#
# More client options (see 'go doc ./tools/nfsmount'), e.g. lost replies:
#
#   NFSLOCK_NFS_OPTS          added to every mount's options
#   NFSLOCK_NFS_OPTS_A, NFSLOCK_NFS_OPTS_B, NFSLOCK_NFS_OPTS_CACHED   added to one mount's
#
#   NFSLOCK_NFS_OPTS=lose=LINK:REMOVE:RENAME,loserate=0.1,losexid=mixed bash scripts/nfs-rig.sh up
#
# Every mount has timeo=20 (a call unanswered for 2 s is sent again), not
# Linux's 60 s: Ganesha 4.3 at times answers nothing to a call on a file
# another client is removing ("Not enough memory in nfs3_read_cb" or
# "nfs3_FhandleToCache" in ganesha.log), and a client waits timeo for it.
#
# The rig lives in $NFSLOCK_NFS_RIG_DIR (default: $TMPDIR/nfslock-nfs-rig or
# /tmp/nfslock-nfs-rig). It runs as root (Ganesha's VFS backend opens files
# by handle) and installs what is missing with apt-get: nfs-ganesha
# nfs-ganesha-vfs rpcbind fuse3. The client is built with go build into the
# rig (NFSLOCK_NFS_CLIENT names a client binary to use instead). Ganesha
# needs rpcbind on port 111: one already running is used, else one is
# started (it listens on all addresses: Debian 12's rpcbind crashes with -h)
# and stopped by "down". "down" is safe to run at any time, also after a
# failed "up" or test, and stops only what "up" started, by pid.
set -euo pipefail

rig=${NFSLOCK_NFS_RIG_DIR:-${TMPDIR:-/tmp}/nfslock-nfs-rig}
repo=$(cd "$(dirname "$0")/.." && pwd)
mounts=(a b cached)
nocache="noac,lookupcache=none"

say() { printf 'nfs-rig: %s\n' "$*" >&2; }

print_env() {
	printf 'export NFSLOCK_NFS_A=%s\n' "$rig/mnt/a"
	printf 'export NFSLOCK_NFS_B=%s\n' "$rig/mnt/b"
	printf 'export NFSLOCK_NFS_CACHED=%s\n' "$rig/mnt/cached"
	printf 'export NFSLOCK_NFS_EXPORT=%s\n' "$rig/export"
	printf 'export NFSLOCK_NFS_STATE=%s\n' "$rig"
	if [ -f "$rig/ports" ]; then
		printf 'export NFSLOCK_NFS_SERVER=%s\n' "127.0.0.1:$rig/export"
		printf 'export NFSLOCK_NFS_PORTS=%s\n' "$(cat "$rig/ports")"
	fi
}

need() {
	if [ "$(id -u)" -ne 0 ]; then
		say "run me as root: Ganesha's VFS backend needs it (open_by_handle_at)"
		exit 2
	fi
	local missing=()
	command -v ganesha.nfsd >/dev/null 2>&1 || missing+=(nfs-ganesha)
	compgen -G "/usr/lib/*/ganesha/libfsalvfs.so" >/dev/null || compgen -G "/usr/lib/ganesha/libfsalvfs.so" >/dev/null || missing+=(nfs-ganesha-vfs)
	command -v rpcbind >/dev/null 2>&1 || [ -x /usr/sbin/rpcbind ] || [ -x /sbin/rpcbind ] || missing+=(rpcbind)
	command -v fusermount3 >/dev/null 2>&1 || missing+=(fuse3)
	if [ ${#missing[@]} -gt 0 ]; then
		say "installing ${missing[*]}"
		if ! { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" ||
			{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; }; } >&2; then
			say "could not install ${missing[*]}; install them with: apt-get install ${missing[*]}"
			exit 2
		fi
	fi
	if [ ! -e /dev/fuse ]; then
		say "/dev/fuse does not exist: FUSE is not available here"
		exit 2
	fi
	if [ -z "${NFSLOCK_NFS_CLIENT:-}" ] && ! command -v go >/dev/null 2>&1; then
		say "go is needed to build the client (tools/nfsmount), or NFSLOCK_NFS_CLIENT naming a built one"
		exit 2
	fi
}

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
	# A port on 127.0.0.1 that nothing listens on.
	local p
	for p in $(shuf -i 20000-60000 -n 50); do
		if ! listening "$p"; then
			echo "$p"
			return
		fi
	done
	say "no free port found"
	exit 1
}

alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# stop PIDFILE: TERM the process, wait up to 5 s, then KILL it.
stop() {
	local pidfile=$1 pid
	[ -s "$pidfile" ] || return 0
	pid=$(cat "$pidfile")
	if kill -0 "$pid" 2>/dev/null; then
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$pid" 2>/dev/null || true
	fi
	rm -f "$pidfile"
}

up() {
	need
	if alive "$rig/ganesha.pid"; then
		say "already up in $rig (run down first)"
		print_env
		return
	fi
	down quiet
	mkdir -p "$rig/export" "$rig/recovery" "$rig/ccache" "$rig/mnt/a" "$rig/mnt/b" "$rig/mnt/cached"
	chmod 755 "$rig"
	chmod 1777 "$rig/export"

	if listening 111; then
		say "using the rpcbind already listening on port 111"
	else
		local rpcbind
		rpcbind=$(command -v rpcbind || echo /usr/sbin/rpcbind)
		mkdir -p /run/rpcbind
		setsid "$rpcbind" -f </dev/null >"$rig/rpcbind.log" 2>&1 &
		echo $! >"$rig/rpcbind.pid"
		for _ in $(seq 50); do listening 111 && break; sleep 0.1; done
		if ! listening 111; then
			say "rpcbind did not start; its log:"
			cat "$rig/rpcbind.log" >&2 || true
			down quiet
			exit 1
		fi
	fi

	local nfsport mntport
	nfsport=$(free_port)
	mntport=$(free_port)
	while [ "$mntport" = "$nfsport" ]; do mntport=$(free_port); done
	cat >"$rig/ganesha.conf" <<CONF
NFS_CORE_PARAM {
	Bind_addr = 127.0.0.1;
	NFS_Port = $nfsport;
	MNT_Port = $mntport;
	Protocols = 3, 4;
	Enable_NLM = false;
	Enable_RQUOTA = false;
	Enable_UDP = false;
}
NFSV4 {
	Graceless = true;
	RecoveryRoot = "$rig/recovery";
}
NFS_KRB5 {
	Active_krb5 = false;
	CCacheDir = "$rig/ccache";
}
EXPORT {
	Export_Id = 1;
	Path = "$rig/export";
	Pseudo = "/nfslock";
	Access_Type = RW;
	Squash = No_Root_Squash;
	SecType = sys;
	Protocols = 3;
	Transports = TCP;
	FSAL {
		Name = VFS;
	}
}
CONF
	echo "port=$nfsport,mountport=$mntport" >"$rig/ports"
	setsid ganesha.nfsd -F -f "$rig/ganesha.conf" -L "$rig/ganesha.log" -p "$rig/ganesha.nfsd.pid" </dev/null >"$rig/ganesha.out" 2>&1 &
	echo $! >"$rig/ganesha.pid"
	for _ in $(seq 200); do
		listening "$nfsport" && listening "$mntport" && break
		alive "$rig/ganesha.pid" || break
		sleep 0.1
	done
	if ! listening "$nfsport" || ! listening "$mntport"; then
		say "Ganesha did not start; its log:"
		grep -v DBUS "$rig/ganesha.log" "$rig/ganesha.out" >&2 || true
		down quiet
		exit 1
	fi

	local client=${NFSLOCK_NFS_CLIENT:-}
	if [ -z "$client" ]; then
		client=$rig/nfsmount
		if ! (cd "$repo" && go build -o "$client" ./tools/nfsmount) >&2; then
			say "building tools/nfsmount failed"
			down quiet
			exit 1
		fi
	fi

	local m opts var
	for m in "${mounts[@]}"; do
		opts="port=$nfsport,mountport=$mntport,timeo=20,stats=$rig/stats-$m.json"
		if [ "$m" != cached ]; then opts="$opts,$nocache"; fi
		var=NFSLOCK_NFS_OPTS_${m^^}
		opts="$opts${NFSLOCK_NFS_OPTS:+,$NFSLOCK_NFS_OPTS}${!var:+,${!var}}"
		setsid "$client" -o "$opts" "127.0.0.1:$rig/export" "$rig/mnt/$m" </dev/null >"$rig/nfsmount-$m.log" 2>&1 &
		echo $! >"$rig/nfsmount-$m.pid"
		for _ in $(seq 100); do
			mountpoint -q "$rig/mnt/$m" && break
			alive "$rig/nfsmount-$m.pid" || break
			sleep 0.1
		done
		if ! mountpoint -q "$rig/mnt/$m"; then
			say "mounting $rig/mnt/$m failed; the client's log:"
			cat "$rig/nfsmount-$m.log" >&2 || true
			down quiet
			exit 1
		fi
	done
	print_env >"$rig/env"
	say "up: Ganesha pid $(cat "$rig/ganesha.pid") on 127.0.0.1:$nfsport (MOUNT $mntport) exports $rig/export"
	for m in "${mounts[@]}"; do
		say "  $rig/mnt/$m: nfsmount pid $(cat "$rig/nfsmount-$m.pid"), $(sed -n 's/.*mounted on [^ ]* (\([^;]*\);.*/\1/p' "$rig/nfsmount-$m.log" | head -1)"
	done
	print_env
}

stats() {
	local m
	for m in "${mounts[@]}"; do
		if alive "$rig/nfsmount-$m.pid"; then
			kill -USR1 "$(cat "$rig/nfsmount-$m.pid")"
		fi
	done
	sleep 0.3
	for m in "${mounts[@]}"; do
		[ -f "$rig/stats-$m.json" ] && cat "$rig/stats-$m.json"
	done
}

down() {
	local quiet=${1:-}
	local m
	# Each client unmounts its mount when told to stop.
	for m in "${mounts[@]}"; do
		stop "$rig/nfsmount-$m.pid"
		if mountpoint -q "$rig/mnt/$m" 2>/dev/null; then
			fusermount3 -u "$rig/mnt/$m" 2>/dev/null || fusermount3 -uz "$rig/mnt/$m" 2>/dev/null || umount -l "$rig/mnt/$m" 2>/dev/null || true
		fi
		if [ -z "$quiet" ] && [ -f "$rig/nfsmount-$m.log" ]; then
			# What the client counted, lost replies above all.
			awk '/: [0-9]+ calls \(/ { last = "" } /: [0-9]+ calls \(|: lost replies injected|:   [A-Z]+, / { last = last $0 "\n" }
				END { printf "%s", last }' "$rig/nfsmount-$m.log" | sed 's/^nfsmount: [0-9/]* [0-9:.]* /nfs-rig: /' >&2 || true
		fi
	done
	stop "$rig/ganesha.pid"
	stop "$rig/rpcbind.pid"
	# Nothing may be mounted when the directory is removed.
	for m in "${mounts[@]}"; do
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
stats) stats ;;
env)
	[ -f "$rig/env" ] || { say "not up"; exit 1; }
	cat "$rig/env"
	;;
*)
	sed -n '2,45p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
	;;
esac
