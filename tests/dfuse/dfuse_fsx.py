#!/usr/bin/env python3
"""dfuse_fsx.py FILE REF [SEED] [OPS]: an fsx-style random exerciser.

Applies the same random sequence of writes, reads, truncations (down and up), writes past the
end (holes), fsyncs, page-cache drops and close/reopen to FILE (on the mount) and to REF (a
local reference file), and compares every read and the size after every operation. "seqread"
reads a run of consecutive pieces (up to 1.5 MiB each, from a random offset or where the
last run ended) through a second, read-only descriptor, opened before the read-write one
(with dfuse's --direct-read both are then direct I/O, and those runs go through dfuse's
prefetch, which every write and truncation must invalidate). The file
grows to a few MiB so that operations cross the 1 MiB chunks of DFS. Prints the seed, one
"ok:" line at the end or a "FAIL:" line with the step, the operation and the first differing
byte; exit 1 on failure.
"""
import os
import random
import sys

MAXLEN = 3 * 1024 * 1024 + 12345
MAXIO = 256 * 1024


def fail(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)


def main():
    path, ref = sys.argv[1], sys.argv[2]
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else random.randrange(1 << 30)
    ops = int(sys.argv[4]) if len(sys.argv) > 4 else 3000
    print("fsx seed %d, %d operations on %s" % (seed, ops, path), flush=True)
    rnd = random.Random(seed)
    flags = os.O_RDWR | os.O_CREAT | os.O_TRUNC
    os.close(os.open(path, flags, 0o644))
    ro = os.open(path, os.O_RDONLY)  # first: no writer yet (--direct-read makes it direct)
    fd = os.open(path, os.O_RDWR)
    rf = os.open(ref, flags, 0o644)
    seq_next = 0
    counts = {}
    log = []

    def first_diff(a, b):
        for i in range(min(len(a), len(b))):
            if a[i] != b[i]:
                return i
        return min(len(a), len(b))

    def compare(step, what, off, n, got, want, last):
        if got != want:
            fail("step %d (seed %d): %s %d at %d: %d bytes, want %d; first difference at "
                 "file offset %d; last ops %s" % (step, seed, what, n, off, len(got),
                                                  len(want), off + first_diff(got, want),
                                                  log[-last:]))

    for step in range(ops):
        size = os.fstat(rf).st_size
        op = rnd.choices(["write", "read", "truncate", "hole", "fsync", "drop", "reopen",
                          "seqread"], [35, 30, 8, 6, 4, 6, 6, 10])[0]
        counts[op] = counts.get(op, 0) + 1
        if op == "write" or op == "hole":
            if op == "hole":
                off = size + rnd.randrange(1, 2 * 1024 * 1024)
                off = min(off, MAXLEN - 1)
            else:
                off = rnd.randrange(0, max(1, min(size + 4096, MAXLEN - 1)))
            n = rnd.randrange(1, MAXIO)
            n = min(n, MAXLEN - off)
            data = rnd.randbytes(n)
            log.append((step, op, off, n))
            if os.pwrite(fd, data, off) != n:
                fail("step %d: short write %d at %d (seed %d)" % (step, n, off, seed))
            os.pwrite(rf, data, off)
        elif op == "read":
            off = rnd.randrange(0, size + 100) if size else 0
            n = rnd.randrange(1, MAXIO)
            log.append((step, op, off, n))
            compare(step, "read", off, n, os.pread(fd, n, off), os.pread(rf, n, off), 6)
        elif op == "seqread":
            off = seq_next if rnd.random() < 0.5 else rnd.randrange(0, size + 100)
            for _ in range(rnd.randrange(1, 9)):
                n = rnd.choice([1 << 20, 1 << 20, 128 * 1024, 4096,
                                rnd.randrange(1, 3 << 19)])
                log.append((step, op, off, n))
                compare(step, "read-only read", off, n, os.pread(ro, n, off),
                        os.pread(rf, n, off), 12)
                off += n
            seq_next = off
        elif op == "truncate":
            n = rnd.randrange(0, MAXLEN)
            log.append((step, op, n, 0))
            os.ftruncate(fd, n)
            os.ftruncate(rf, n)
        elif op == "fsync":
            os.fsync(fd)
        elif op == "drop":
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        elif op == "reopen":
            os.close(fd)
            fd = os.open(path, os.O_RDWR)
        got = os.fstat(fd).st_size
        want = os.fstat(rf).st_size
        if got != want:
            fail("step %d (seed %d): size %d after %s, want %d; last ops %s" %
                 (step, seed, got, op, want, log[-6:]))
    os.close(fd)
    os.close(ro)
    os.close(rf)
    with open(path, "rb") as a, open(ref, "rb") as b:
        if a.read() != b.read():
            fail("seed %d: the whole file differs from the reference at the end" % seed)
    print("ok: fsx seed %d: %d operations matched the reference (%s)" %
          (seed, ops, ", ".join("%s %d" % kv for kv in sorted(counts.items()))), flush=True)


if __name__ == "__main__":
    main()
