#!/usr/bin/env python3
"""dfuse_data_util.py: helpers of test_dfuse_data.sh.

  tree DIR SEED       make a random tree in DIR: nested directories, files of 0 bytes to
                      3 MiB (across DFS chunks), symbolic links, odd names and modes
  writers DIR N SEED  N processes each write their own file, and N processes write disjoint
                      stripes of one shared file, all at once; then every byte is checked
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


def main():
    if sys.argv[1] == "tree":
        make_tree(sys.argv[2], int(sys.argv[3]))
        return 0
    if sys.argv[1] == "writers":
        return writers(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    print("unknown command " + sys.argv[1])
    return 2


if __name__ == "__main__":
    sys.exit(main())
