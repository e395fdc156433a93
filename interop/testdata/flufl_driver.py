"""Drive the real flufl.lock for nfslock's interoperability tests.

Run with the Python that has flufl.lock (Debian: /usr/bin/python3 and the
python3-flufl.lock package). Every reply is one line of JSON on stdout.

  flufl_driver.py version
      {"version": ..., "file": flufl.lock.__file__,
       "hostname": socket.getfqdn(), "pid": ...}
  flufl_driver.py serve LOCKFILE LIFETIME
      Make one flufl.lock.Lock (LIFETIME in seconds) and obey commands read
      from stdin, one a line, replying to each:
        lock [TIMEOUT]   is_locked   state   details   unlock   info   exit
      End of file on stdin also exits, without unlocking.
  flufl_driver.py count LOCKFILE COUNTER CYCLES LIFETIME SLEEPMAX
      Wait for "go" on stdin, then CYCLES times: take the lock, read the
      number in COUNTER, write it plus one, release the lock. SLEEPMAX (in
      seconds) replaces flufl's 0.01-2.01 s random wait between tries with
      a random wait of up to SLEEPMAX, so that the test runs in seconds;
      the locking algorithm is flufl's own.
"""

import json
import os
import random
import socket
import sys
import time
from datetime import timedelta

import flufl.lock
from flufl.lock import Lock, TimeOutError


def reply(**kw):
    print(json.dumps(kw), flush=True)


def error(exc):
    reply(ok=False, error=type(exc).__name__, message=str(exc))


def serve(lockfile, lifetime):
    lock = Lock(lockfile, lifetime=timedelta(seconds=float(lifetime)))
    reply(ok=True, pid=os.getpid(), hostname=lock.hostname)
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        cmd, args = words[0], words[1:]
        try:
            if cmd == 'lock':
                timeout = timedelta(seconds=float(args[0])) if args else None
                start = time.monotonic()
                lock.lock(timeout=timeout)
                reply(ok=True, elapsed=time.monotonic() - start)
            elif cmd == 'unlock':
                lock.unlock()
                reply(ok=True)
            elif cmd == 'is_locked':
                reply(ok=True, value=lock.is_locked)
            elif cmd == 'state':
                reply(ok=True, value=lock.state.name)
            elif cmd == 'details':
                host, pid, path = lock.details
                reply(ok=True, hostname=host, pid=pid, lockfile=path)
            elif cmd == 'info':
                reply(ok=True, pid=os.getpid(), hostname=lock.hostname)
            elif cmd == 'exit':
                reply(ok=True)
                return
            else:
                reply(ok=False, error='BadCommand', message=cmd)
        except (TimeOutError, flufl.lock.LockError, OSError) as exc:
            error(exc)


def count(lockfile, counter, cycles, lifetime, sleepmax):
    lock = Lock(lockfile, lifetime=timedelta(seconds=float(lifetime)))
    sleepmax = float(sleepmax)
    lock._sleep = lambda: time.sleep(random.random() * sleepmax)
    reply(ok=True, pid=os.getpid(), ready=True)
    if sys.stdin.readline().strip() != 'go':
        return
    start = time.monotonic()
    done = errors = 0
    first_error = ''
    for _ in range(int(cycles)):
        try:
            lock.lock(timeout=timedelta(seconds=30))
        except TimeOutError as exc:
            errors += 1
            first_error = first_error or repr(exc)
            continue
        try:
            try:
                with open(counter) as fp:
                    n = int(fp.read())
            except FileNotFoundError:
                n = 0
            with open(counter, 'w') as fp:
                fp.write(str(n + 1))
            done += 1
        finally:
            lock.unlock()
    reply(ok=True, pid=os.getpid(), cycles=done, errors=errors,
          first_error=first_error, elapsed=time.monotonic() - start)


def main(argv):
    if argv[1] == 'version':
        reply(ok=True, version=flufl.lock.__version__,
              file=flufl.lock.__file__, hostname=socket.getfqdn(),
              pid=os.getpid())
    elif argv[1] == 'serve':
        serve(*argv[2:])
    elif argv[1] == 'count':
        count(*argv[2:])
    else:
        sys.exit('unknown command %r' % argv[1])


if __name__ == '__main__':
    main(sys.argv)
