#!/usr/bin/env python3
"""dfuse_data_util.py: helpers of test_dfuse_data.sh.

  tree DIR SEED       make a random tree in DIR: nested directories, files of 0 bytes to
                      3 MiB (across DFS chunks), symbolic links, odd names and modes
  writers DIR N SEED  N processes each write their own file, and N processes write disjoint
                      stripes of one shared file, all at once; then every byte is checked
  directread DIR SEED on a --direct-read mount: streaming reads of several sizes through
                      read-only opens, an unflushed writer seen by a later reader, a direct
                      reader seeing another descriptor's write and truncation
"""
import os
import random
import sys


def make_tree(top, seed):
    rnd = random.Random(seed)
    os.makedirs(top)
    dirs = [top]
    nfiles = 0
    for i in range(25):
        d = os.path.join(rnd.choice(dirs), "dir %d" % i if i % 5 == 0 else "d%d" % i)
        os.mkdir(d, rnd.choice([0o755, 0o750, 0o700]))
        dirs.append(d)
    for i in range(120):
        d = rnd.choice(dirs)
        size = rnd.choice([0, 1, 511, 4096, 4097, 65536, 100000, 1048576, 1048577,
                           rnd.randrange(3 * 1048576)])
        name = "f%d%s" % (i, rnd.choice(["", ".txt", "-x", " space", ".Ü"]))
        with open(os.path.join(d, name), "wb") as f:
            f.write(rnd.randbytes(size))
        os.chmod(os.path.join(d, name), rnd.choice([0o644, 0o600, 0o755, 0o444]))
        nfiles += 1
    for i in range(10):
        d = rnd.choice(dirs)
        os.symlink(rnd.choice(["f1", "../d3", "/etc/hostname", "missing"]),
                   os.path.join(d, "ln%d" % i))
    print("tree: %d directories, %d files, 10 links (seed %d)" % (len(dirs), nfiles, seed))


def pattern(tag, off, n):
    # bytes that name their writer and offset, so a misplaced stripe shows up
    blk = b"%08x:%08x;" % (tag, off)
    rep = blk * (n // len(blk) + 1)
    return rep[:n]


def writers(top, n, seed):
    rnd = random.Random(seed)
    stripe = 64 * 1024 + 17  # not page aligned
    rounds = 24
    shared = os.path.join(top, "shared")
    os.close(os.open(shared, os.O_CREAT | os.O_WRONLY, 0o644))
    pids = []
    for w in range(2 * n):
        order = list(range(rounds))
        rnd.shuffle(order)
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                if w < n:
                    path = os.path.join(top, "own%d" % w)
                    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o644)
                    for r in order:
                        os.pwrite(fd, pattern(w, r * stripe, stripe), r * stripe)
                    os.close(fd)
                else:
                    k = w - n
                    fd = os.open(shared, os.O_RDWR)
                    for r in order:
                        off = (r * n + k) * stripe
                        os.pwrite(fd, pattern(1000 + k, off, stripe), off)
                    os.close(fd)
            except OSError as e:
                print("writer %d: %s" % (w, e), flush=True)
                code = 1
            os._exit(code)
        pids.append(pid)
    bad = 0
    for pid in pids:
        _, status = os.waitpid(pid, 0)
        if status != 0:
            bad += 1
    if bad:
        print("FAIL: %d writer(s) failed" % bad)
        return 1
    # everything is checked through a fresh open, with the page cache dropped
    fails = 0
    for w in range(n):
        path = os.path.join(top, "own%d" % w)
        fd = os.open(path, os.O_RDONLY)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        data = os.pread(fd, rounds * stripe + 10, 0)
        os.close(fd)
        want = b"".join(pattern(w, r * stripe, stripe) for r in range(rounds))
        if data != want:
            print("FAIL: own%d differs (%d bytes, want %d)" % (w, len(data), len(want)))
            fails += 1
    fd = os.open(shared, os.O_RDONLY)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    data = os.pread(fd, rounds * n * stripe + 10, 0)
    os.close(fd)
    want = b"".join(pattern(1000 + (i % n), i * stripe, stripe) for i in range(rounds * n))
    if data != want:
        i = next((i for i in range(min(len(data), len(want))) if data[i] != want[i]),
                 min(len(data), len(want)))
        print("FAIL: the shared file differs from offset %d (%d bytes, want %d)" %
              (i, len(data), len(want)))
        fails += 1
    if fails == 0:
        print("ok: %d writers of their own files and %d of one shared file (%d stripes of %d "
              "bytes each)" % (n, n, rounds, stripe))
    return 1 if fails else 0


def direct_read(top, seed):
    """With --direct-read: streaming reads through read-only opens (dfuse's prefetch) equal
    what was written, whatever the read sizes; a read-only open after a writer that has
    not flushed sees its data (it is not direct I/O then); a direct reader sees a later
    writer's writes and truncation at once (the writer is direct I/O, the prefetched
    chunks are stale). Returns the number of failures."""
    rnd = random.Random(seed)
    fails = 0
    size = 40 * 1024 * 1024 + 777
    data = rnd.randbytes(size)
    path = os.path.join(top, "stream")
    with open(path, "wb") as f:
        f.write(data)

    def check(what, got, want):
        nonlocal fails
        if got != want:
            i = next((i for i in range(min(len(got), len(want))) if got[i] != want[i]),
                     min(len(got), len(want)))
            print("FAIL: %s: %d bytes, want %d, first difference at %d" %
                  (what, len(got), len(want), i))
            fails += 1

    for bs, start in ((1 << 20, 0), (128 * 1024, 0), ((1 << 20) + 4097, 3), (4096, 0)):
        fd = os.open(path, os.O_RDONLY)
        out = []
        if start:
            out.append(os.pread(fd, start, 0))
        os.lseek(fd, start, os.SEEK_SET)
        limit = size if bs >= 128 * 1024 else 6 * 1024 * 1024
        n = start
        while n < limit:
            b = os.read(fd, bs)
            if not b:
                break
            out.append(b)
            n += len(b)
        os.close(fd)
        check("sequential reads of %d bytes from %d" % (bs, start), b"".join(out)[:limit],
              data[:limit])
    fd = os.open(path, os.O_RDONLY)
    check("a read past the end", os.pread(fd, 100, size + 10), b"")
    check("a read across the end", os.pread(fd, 1 << 20, size - 100), data[-100:])
    os.close(fd)

    # a writer first, not flushed: a read-only open must see its data
    path2 = os.path.join(top, "wb")
    w = os.open(path2, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    d2 = rnd.randbytes(3 * 1024 * 1024 + 5)
    os.pwrite(w, d2, 0)
    r = os.open(path2, os.O_RDONLY)
    check("read-only open after an unflushed writer", os.pread(r, len(d2) + 10, 0), d2)
    os.close(r)
    os.close(w)

    # a direct reader first; a writer then changes what it has prefetched
    r = os.open(path, os.O_RDONLY)
    got = b"".join(os.pread(r, 1 << 20, i << 20) for i in range(8))
    check("the first 8 MiB", got, data[:8 << 20])
    w = os.open(path, os.O_WRONLY)
    patch = rnd.randbytes(512 * 1024)
    os.pwrite(w, patch, (9 << 20) + 1000)
    data = data[:(9 << 20) + 1000] + patch + data[(9 << 20) + 1000 + len(patch):]
    got = b"".join(os.pread(r, 1 << 20, i << 20) for i in range(8, 12))
    check("MiB 8-11 after another descriptor's write", got, data[8 << 20:12 << 20])
    os.ftruncate(w, (10 << 20) + 5)
    data = data[:(10 << 20) + 5]
    got = b"".join(os.pread(r, 1 << 20, i << 20) for i in range(9, 13))
    check("MiB 9-12 after another descriptor's truncation", got, data[9 << 20:])
    os.close(w)
    os.close(r)
    if fails == 0:
        print("ok: --direct-read: streaming reads of 4 KiB to 1 MiB + 4097 bytes equal, "
              "unflushed writer seen, a direct reader sees another descriptor's write and "
              "truncation")
    return 1 if fails else 0


def main():
    if sys.argv[1] == "tree":
        make_tree(sys.argv[2], int(sys.argv[3]))
        return 0
    if sys.argv[1] == "writers":
        return writers(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    if sys.argv[1] == "directread":
        return direct_read(sys.argv[2], int(sys.argv[3]))
    print("unknown command " + sys.argv[1])
    return 2


if __name__ == "__main__":
    sys.exit(main())
