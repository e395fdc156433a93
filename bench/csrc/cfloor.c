/*
 * cfloor: the bench's floor in C, a worker of the bench (see worker.go).
 *
 * The lock algorithm as bare system calls with no checks at all, as the Go
 * floor (contenders.go) makes them: write the claim file (open, write,
 * close), date it (utimensat), link it to the lock file; release by
 * unlinking both; poll a busy lock every 50 us with nanosleep. Without a
 * language runtime (no scheduler, no garbage collector, no timers) it is
 * the physical limit of a lock file on this machine.
 *
 * It takes the same spec as the Go workers, as JSON in its first argument,
 * prints "ready", waits for the start time (Unix nanoseconds) on its
 * standard input, runs, and prints its result as one line of JSON. The
 * bench compiles it with gcc when it runs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define POLL_NS 50000LL               /* between two tries of a busy lock */
#define LIFETIME_NS 15000000000LL     /* locker.DefaultLifetime */
#define QUICK_NS 50000LL              /* a lock call this short took the lock at once */

/* The spec, as far as this worker needs it. */
struct spec {
	char mode[16];
	char lock[4096];
	char counter[4096];
	long long n, warm, hold_ns, span_ns, wait_ns;
	int first;
};

/* The result. */
struct result {
	long long cycles, ns, max_wait_ns, quick;
	long long *releases, *acquires;
	long long nrel, nacq;
	char err[512];
};

static struct result res;

static void fail(const char *format, ...) {
	va_list ap;
	if (res.err[0])
		return;
	va_start(ap, format);
	vsnprintf(res.err, sizeof res.err, format, ap);
	va_end(ap);
}

static long long now_ns(clockid_t clk) {
	struct timespec ts;
	clock_gettime(clk, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleep_ns(long long ns) {
	struct timespec ts = {ns / 1000000000LL, ns % 1000000000LL};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* --- The spec's JSON, as Go's encoding/json writes it: no spaces. --- */

/* field returns the text just after "key": in js, or NULL. */
static const char *field(const char *js, const char *key) {
	char pat[64];
	snprintf(pat, sizeof pat, "\"%s\":", key);
	const char *p = strstr(js, pat);
	return p ? p + strlen(pat) : NULL;
}

static long long int_field(const char *js, const char *key) {
	const char *p = field(js, key);
	return p ? strtoll(p, NULL, 10) : 0;
}

/* string_field copies the JSON string value of key into out, decoded. */
static int string_field(const char *js, const char *key, char *out, size_t size) {
	const char *p = field(js, key);
	size_t n = 0;
	if (!p) {
		out[0] = 0;
		return 0;
	}
	if (*p++ != '"')
		return -1;
	while (*p && *p != '"') {
		unsigned c = (unsigned char)*p++;
		if (c == '\\') {
			switch (c = (unsigned char)*p++) {
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case 'u': {
				char hex[5] = {0};
				memcpy(hex, p, 4);
				p += 4;
				c = (unsigned)strtoul(hex, NULL, 16);
				if (c >= 0x80) { /* UTF-8, two or three bytes (no surrogates in paths we make) */
					if (n + 3 >= size)
						return -1;
					if (c < 0x800) {
						out[n++] = (char)(0xc0 | c >> 6);
					} else {
						out[n++] = (char)(0xe0 | c >> 12);
						out[n++] = (char)(0x80 | (c >> 6 & 0x3f));
					}
					c = 0x80 | (c & 0x3f);
				}
				break;
			}
			case 0: return -1;
			default: break; /* \" \\ \/ */
			}
		}
		if (n + 1 >= size)
			return -1;
		out[n++] = (char)c;
	}
	out[n] = 0;
	return *p == '"' ? 0 : -1;
}

static int parse_spec(const char *js, struct spec *s) {
	memset(s, 0, sizeof *s);
	if (string_field(js, "mode", s->mode, sizeof s->mode) || string_field(js, "lock", s->lock, sizeof s->lock) ||
	    string_field(js, "counter", s->counter, sizeof s->counter))
		return -1;
	s->n = int_field(js, "n");
	s->warm = int_field(js, "warm");
	s->hold_ns = int_field(js, "hold_ns");
	s->span_ns = int_field(js, "span_ns");
	s->wait_ns = int_field(js, "wait_ns");
	const char *f = field(js, "first");
	s->first = f && strncmp(f, "true", 4) == 0;
	return 0;
}

/* --- The lock. --- */

static char claim[4200];
static size_t claim_len;

/* lock takes the lock, polling every 50 us; it gives up at deadline
 * (CLOCK_REALTIME ns) if that is not 0, and then returns 1. */
static int lock(const char *path, long long deadline) {
	int fd = open(claim, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		fail("open %s: %s", claim, strerror(errno));
		return -1;
	}
	if (write(fd, claim, claim_len) != (ssize_t)claim_len) {
		fail("write %s: %s", claim, strerror(errno));
		close(fd);
		return -1;
	}
	if (close(fd) != 0) {
		fail("close %s: %s", claim, strerror(errno));
		return -1;
	}
	long long exp = now_ns(CLOCK_REALTIME) + LIFETIME_NS;
	struct timespec ts[2] = {{exp / 1000000000LL, exp % 1000000000LL}, {exp / 1000000000LL, exp % 1000000000LL}};
	if (utimensat(AT_FDCWD, claim, ts, AT_SYMLINK_NOFOLLOW) != 0) {
		fail("utimensat %s: %s", claim, strerror(errno));
		return -1;
	}
	struct timespec pause = {0, POLL_NS};
	for (;;) {
		if (link(claim, path) == 0)
			return 0;
		/* sshfs reports a link onto an existing name as EPERM. */
		if (errno != EEXIST && errno != EPERM && errno != EINTR) {
			fail("link %s %s: %s", claim, path, strerror(errno));
			unlink(claim);
			return -1;
		}
		if (deadline && now_ns(CLOCK_REALTIME) >= deadline) {
			unlink(claim);
			return 1;
		}
		nanosleep(&pause, NULL);
	}
}

static int unlock(const char *path) {
	int a = unlink(path), b = unlink(claim);
	if (a != 0 || b != 0) {
		fail("unlink: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* --- The workloads, as worker.go's. --- */

static int cycle(const struct spec *s) {
	for (long long i = 0; i < s->warm; i++)
		if (lock(s->lock, 0) || unlock(s->lock))
			return -1;
	long long t0 = now_ns(CLOCK_MONOTONIC);
	for (long long i = 0; i < s->n; i++)
		if (lock(s->lock, 0) || unlock(s->lock))
			return -1;
	res.ns = now_ns(CLOCK_MONOTONIC) - t0;
	res.cycles = s->n;
	return 0;
}

static int read_counter(const char *path, long long *n) {
	char buf[32];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fail("open %s: %s", path, strerror(errno));
		return -1;
	}
	ssize_t k = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (k <= 0 || buf[0] < '0' || buf[0] > '9') {
		fail("counter %s holds no number", path);
		return -1;
	}
	buf[k] = 0;
	*n = strtoll(buf, NULL, 10);
	return 0;
}

static int write_counter(const char *path, long long n) {
	char buf[32];
	int len = snprintf(buf, sizeof buf, "%020lld\n", n);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		fail("open %s: %s", path, strerror(errno));
		return -1;
	}
	ssize_t k = write(fd, buf, (size_t)len);
	if (close(fd) != 0 || k != len) { /* on NFS the write reaches the server at close */
		fail("write %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int contend(const struct spec *s, long long start) {
	long long end = start + s->span_ns;
	while (now_ns(CLOCK_REALTIME) < end) {
		long long t0 = now_ns(CLOCK_MONOTONIC), n;
		if (lock(s->lock, 0))
			return -1;
		long long waited = now_ns(CLOCK_MONOTONIC) - t0;
		if (waited > res.max_wait_ns)
			res.max_wait_ns = waited;
		if (waited < QUICK_NS)
			res.quick++;
		int bad = read_counter(s->counter, &n);
		if (!bad) {
			sleep_ns(s->hold_ns);
			bad = write_counter(s->counter, n + 1);
		}
		if (unlock(s->lock) || bad)
			return -1;
		res.cycles++;
	}
	return 0;
}

static int send_byte(char b) {
	if (write(4, &b, 1) != 1) {
		fail("writing to the peer: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int expect(char want) {
	char b;
	ssize_t k;
	while ((k = read(3, &b, 1)) < 0 && errno == EINTR)
		;
	if (k != 1) {
		fail("waiting for '%c' from the peer: %s", want, k == 0 ? "EOF" : strerror(errno));
		return -1;
	}
	if (b != want) {
		fail("peer sent '%c', want '%c'", b, want);
		return -1;
	}
	return 0;
}

static int hold_turn(const struct spec *s) {
	if (expect('w'))
		return -1;
	/* The waiter has started to wait: keep the lock wait_ns to twice that. */
	sleep_ns(s->wait_ns + (long long)(drand48() * (double)s->wait_ns));
	res.releases[res.nrel++] = now_ns(CLOCK_REALTIME);
	if (unlock(s->lock))
		return -1;
	return expect('a');
}

static int wait_turn(const struct spec *s) {
	if (send_byte('w') || lock(s->lock, 0))
		return -1;
	res.acquires[res.nacq++] = now_ns(CLOCK_REALTIME);
	return send_byte('a');
}

static int handoff(const struct spec *s) {
	res.releases = calloc((size_t)s->n + 1, sizeof(long long));
	res.acquires = calloc((size_t)s->n + 1, sizeof(long long));
	srand48(getpid() ^ now_ns(CLOCK_MONOTONIC));
	int (*turns[2])(const struct spec *) = {wait_turn, hold_turn};
	if (s->first) {
		if (lock(s->lock, 0) || send_byte('a'))
			return -1;
		turns[0] = hold_turn;
		turns[1] = wait_turn;
	} else if (expect('a')) {
		return -1;
	}
	for (long long i = 0; i < s->n; i++)
		for (int t = 0; t < 2; t++)
			if (turns[t](s))
				return -1;
	return s->first ? unlock(s->lock) : 0;
}

/* --- Main. --- */

static void print_list(const char *name, const long long *v, long long n) {
	if (!n)
		return;
	printf(",\"%s\":[", name);
	for (long long i = 0; i < n; i++)
		printf(i ? ",%lld" : "%lld", v[i]);
	printf("]");
}

static void print_result(void) {
	printf("{\"cycles\":%lld,\"ns\":%lld,\"max_wait_ns\":%lld", res.cycles, res.ns, res.max_wait_ns);
	if (res.quick)
		printf(",\"quick\":%lld", res.quick);
	print_list("releases", res.releases, res.nrel);
	print_list("acquires", res.acquires, res.nacq);
	if (res.err[0]) {
		printf(",\"err\":\"");
		for (const char *p = res.err; *p; p++) {
			unsigned char c = (unsigned char)*p;
			if (c == '"' || c == '\\')
				printf("\\%c", c);
			else if (c < 0x20)
				printf("\\u%04x", c);
			else
				putchar(c);
		}
		printf("\"");
	}
	printf("}\n");
	fflush(stdout);
}

int main(int argc, char **argv) {
	struct spec s;
	if (argc != 2 || parse_spec(argv[1], &s)) {
		fail("usage: cfloor SPEC-JSON (got %d arguments)", argc - 1);
		print_result();
		return 0;
	}
	claim_len = (size_t)snprintf(claim, sizeof claim, "%s|cfloor|%d|%lld", s.lock, (int)getpid(), now_ns(CLOCK_REALTIME));
	printf("ready\n");
	fflush(stdout);
	char line[64];
	if (!fgets(line, sizeof line, stdin)) {
		fail("reading the start time: EOF");
		print_result();
		return 0;
	}
	long long start = strtoll(line, NULL, 10);
	struct timespec at = {start / 1000000000LL, start % 1000000000LL};
	while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &at, NULL) == EINTR)
		;
	if (strcmp(s.mode, "cycle") == 0) {
		cycle(&s);
	} else if (strcmp(s.mode, "contend") == 0) {
		contend(&s, start);
	} else if (strcmp(s.mode, "handoff") == 0) {
		handoff(&s);
	} else if (strcmp(s.mode, "wait") == 0) {
		if (lock(s.lock, now_ns(CLOCK_REALTIME) + s.span_ns) == 0)
			fail("the waiter took a lock that was held");
	} else {
		fail("unknown mode \"%s\"", s.mode);
	}
	print_result();
	return 0;
}
