#!/usr/bin/env python3
"""dfuse_rpc_check.py MNT [--report]: the object RPCs of single system calls through a
dfuse_local mount, read from the daemon's counters (getxattr user.dfuse.rpcs of the root,
src/client/dfuse/README.md).

The mount must be made with --dentry-timeout 0 --dentry-dir-timeout 0 --ndentry-timeout 0
and a long --attr-timeout: every name is then looked up again by the kernel (one FUSE lookup
per call, names relative to an open directory so that only the last one is walked) while
the attributes a lookup or create returned stay valid (no getattr). The server has 2
targets (dfuse_lib.sh), so a file (class OC_SX) has 2 shards: its size is 2 queries.

Budgets (per call): create/mkdir/mknod/symlink = the kernel's lookup of the missing name
(1 fetch) + the creation (1 conditional update); stat = the lookup alone (1 fetch, + 2 size
queries for a file); a 4 KiB pwrite to an open file = no RPC (the mount has the write-back
cache; the kernel's security.capability question before each write is answered by the daemon
after the first). Each call is counted alone, after an fstat() of its directory (a
creation makes the kernel ask for the directory's attributes before the next call in it).
With --report the counts are printed and nothing is checked.
"""
import os
import stat
import sys

XATTR = "user.dfuse.rpcs"
NAMES = ("update", "fetch", "punch", "list", "query")
FILE_SHARDS = 2
# a file's size: one collective query per engine (the test server has one), one per shard
# with DAOS_OBJ_QUERY_COLL=0 (src/object/README.md)
FILE_QUERIES = FILE_SHARDS if os.environ.get("DAOS_OBJ_QUERY_COLL") == "0" else 1
ROUNDS = 5

failures = 0


def counts(root_fd):
    words = os.getxattr(root_fd, XATTR).decode().split()
    got = dict(zip(words[0::2], (int(v) for v in words[1::2])))
    return [got[n] for n in NAMES]


def measure(root_fd, dir_fd, what, fn, want, report):
    """Run fn ROUNDS times (with the round number); want: RPCs per call by kind.

    A creation invalidates the kernel's attributes of the directory, which it then asks
    for (getattr) before the next permission check in it: the directory and the root are
    fstat()ed before each call, outside the counted window.
    """
    global failures
    tot = [0] * len(NAMES)
    for i in range(ROUNDS):
        os.fstat(root_fd)
        os.fstat(dir_fd)
        c0 = counts(root_fd)
        fn(i)
        c1 = counts(root_fd)
        tot = [t + b - a for t, a, b in zip(tot, c0, c1)]
    per = {n: tot[k] / ROUNDS for k, n in enumerate(NAMES)}
    line = " ".join("%s %g" % (n, per[n]) for n in NAMES if per[n])
    if report:
        print("%-28s %s" % (what, line or "none"))
        return
    exp = {n: want.get(n, 0) for n in NAMES}
    if per == exp:
        print("ok: %s: %s" % (what, line or "no RPC"))
    else:
        failures += 1
        print("FAIL: %s: %s per call, want %s" %
              (what, line or "none", " ".join("%s %g" % (n, v) for n, v in exp.items() if v)))


def main():
    mnt = sys.argv[1]
    report = "--report" in sys.argv[2:]
    root_fd = os.open(mnt, os.O_RDONLY | os.O_DIRECTORY)
    try:
        counts(root_fd)
    except OSError as e:
        print("FAIL: getxattr %s: %s (not a dfuse_local mount?)" % (XATTR, e))
        return 1
    top = os.path.join(mnt, "rpccheck")
    os.mkdir(top)
    d = os.open(top, os.O_RDONLY | os.O_DIRECTORY)

    def create(i):
        os.close(os.open("c%d" % i, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644, dir_fd=d))

    def mkdir(i):
        os.mkdir("d%d" % i, 0o755, dir_fd=d)

    def mknod(i):
        os.mknod("n%d" % i, stat.S_IFREG | 0o600, dir_fd=d)

    def symlink(i):
        os.symlink("c%d" % i, "s%d" % i, dir_fd=d)

    def stat_file(i):
        st = os.stat("c%d" % i, dir_fd=d)
        assert stat.S_ISREG(st.st_mode) and st.st_size == 0, st

    def stat_dir(i):
        assert stat.S_ISDIR(os.stat("d%d" % i, dir_fd=d).st_mode)

    def stat_link(i):
        st = os.stat("s%d" % i, dir_fd=d, follow_symlinks=False)
        assert stat.S_ISLNK(st.st_mode) and st.st_size == len("c%d" % i), st

    measure(root_fd, d, "create (open O_CREAT|O_EXCL + close)", create,
            {"fetch": 1, "update": 1}, report)
    measure(root_fd, d, "mkdir", mkdir, {"fetch": 1, "update": 1}, report)
    measure(root_fd, d, "mknod (regular file)", mknod, {"fetch": 1, "update": 1}, report)
    measure(root_fd, d, "symlink", symlink, {"fetch": 1, "update": 1}, report)
    measure(root_fd, d, "stat of a file (lookup)", stat_file,
            {"fetch": 1, "query": FILE_QUERIES}, report)
    measure(root_fd, d, "stat of a directory (lookup)", stat_dir, {"fetch": 1}, report)
    measure(root_fd, d, "lstat of a symlink (lookup)", stat_link, {"fetch": 1}, report)

    # the kernel asks for security.capability before every write(): answered from the
    # inode after the first (its absence was seen); the data itself stays in the page cache
    # (write-back cache) until the fsync after the rounds
    wfd = os.open("w", os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o644, dir_fd=d)
    os.pwrite(wfd, b"x" * 4096, 0)

    def write_cached(i):
        assert os.pwrite(wfd, bytes([65 + i]) * 4096, 4096 * i) == 4096

    measure(root_fd, d, "4 KiB pwrite (write-back cache)", write_cached, {}, report)
    os.fsync(wfd)
    os.close(wfd)
    os.close(d)
    os.close(root_fd)
    if failures:
        print("%d failure(s)" % failures)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
