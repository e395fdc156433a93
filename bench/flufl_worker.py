"""A worker of nfslock's benchmark for flufl.lock.

It takes the same spec as the Go workers (see worker.go), as JSON in its
first argument, prints "ready", waits for the start time (Unix nanoseconds)
on its standard input, runs, and prints its result as one line of JSON.
"""

import json
import os
import random
import sys
import time
from datetime import timedelta

try:
    import flufl.lock
except ImportError as e:  # the Go side checks first and says what to install
    print(json.dumps({"err": "cannot import flufl.lock: %s" % e}))
    sys.exit(0)


def now_ns():
    return time.time_ns()


def read_counter(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        data = os.read(fd, 32)
    finally:
        os.close(fd)
    digits = len(data) - len(data.lstrip(b"0123456789"))
    return int(data[:digits] or b"x")


def write_counter(path, n):
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, b"%020d\n" % n)
    finally:
        os.close(fd)


def cycle(lock, s, r):
    for _ in range(s.get("warm", 0)):
        lock.lock()
        lock.unlock()
    t0 = time.perf_counter_ns()
    for _ in range(s["n"]):
        lock.lock()
        lock.unlock()
    r["ns"] = time.perf_counter_ns() - t0
    r["cycles"] = s["n"]


def contend(lock, s, start, r):
    end = start + s["span_ns"]
    hold = s["hold_ns"] / 1e9
    while now_ns() < end:
        t0 = now_ns()
        lock.lock()
        r["max_wait_ns"] = max(r["max_wait_ns"], now_ns() - t0)
        n = read_counter(s["counter"])
        time.sleep(hold)
        write_counter(s["counter"], n + 1)
        lock.unlock()
        r["cycles"] += 1


def handoff(lock, s, r):
    fin, fout = os.fdopen(3, "rb", buffering=0), os.fdopen(4, "wb", buffering=0)

    def expect(want):
        got = fin.read(1)
        if got != want:
            raise RuntimeError("peer sent %r, want %r" % (got, want))

    def hold():
        expect(b"w")
        wait = s["wait_ns"] / 1e9
        time.sleep(random.uniform(wait, 2 * wait))
        r["releases"].append(now_ns())
        lock.unlock()
        expect(b"a")

    def wait():
        fout.write(b"w")
        lock.lock()
        r["acquires"].append(now_ns())
        fout.write(b"a")

    if s.get("first"):
        lock.lock()
        fout.write(b"a")
        turns = (hold, wait)
    else:
        expect(b"a")
        turns = (wait, hold)
    for _ in range(s["n"]):
        for turn in turns:
            turn()
    if s.get("first"):
        lock.unlock()


def main():
    s = json.loads(sys.argv[1])
    r = {"cycles": 0, "ns": 0, "max_wait_ns": 0, "releases": [], "acquires": []}
    try:
        lock = flufl.lock.Lock(s["lock"], lifetime=timedelta(seconds=15))
        print("ready", flush=True)
        start = int(sys.stdin.readline())
        delay = (start - now_ns()) / 1e9
        if delay > 0:
            time.sleep(delay)
        mode = s["mode"]
        if mode == "cycle":
            cycle(lock, s, r)
        elif mode == "contend":
            contend(lock, s, start, r)
        elif mode == "handoff":
            handoff(lock, s, r)
        elif mode == "wait":
            try:
                lock.lock(timeout=timedelta(microseconds=s["span_ns"] // 1000))
                r["err"] = "the waiter took a lock that was held"
            except flufl.lock.TimeOutError:
                pass
        else:
            r["err"] = "unknown mode %r" % mode
    except Exception as e:
        r["err"] = "%s: %s" % (type(e).__name__, e)
    print(json.dumps(r), flush=True)


main()
