#!/usr/bin/env python3
"""dfuse_ns_check.py MNT [SEED]: the namespace of a dfuse mount, checked through the kernel.

Runs in a fresh directory under MNT: entries, attributes, renames (plain, RENAME_NOREPLACE,
RENAME_EXCHANGE), symbolic links, extended attributes, a big directory listed with readdir
(os.listdir) and readdirplus (os.scandir + stat), then a seeded random sequence of namespace
operations compared step by step with a model. Prints "ok: ..." / "FAIL: ..." lines; exit 1
if anything failed.
"""
import ctypes
import errno
import os
import random
import stat
import struct
import sys

FAILS = 0


def ok(msg):
    print("ok: " + msg, flush=True)


def fail(msg):
    global FAILS
    FAILS += 1
    print("FAIL: " + msg, flush=True)


def check(cond, msg):
    (ok if cond else fail)(msg)
    return cond


def expect_errno(want, fn, *args):
    try:
        fn(*args)
    except OSError as e:
        return e.errno == want
    return False


LIBC = ctypes.CDLL(None, use_errno=True)
RENAME_NOREPLACE = 1
RENAME_EXCHANGE = 2
AT_FDCWD = -100


def renameat2(src, dst, flags):
    if LIBC.renameat2(AT_FDCWD, src.encode(), AT_FDCWD, dst.encode(), flags) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def basics(top):
    d = os.path.join(top, "basics")
    os.mkdir(d, 0o750)
    st = os.stat(d)
    check(stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o750, "mkdir: mode 0750 dir")
    check(expect_errno(errno.EEXIST, os.mkdir, d), "mkdir of an existing name: EEXIST")
    f = os.path.join(d, "file")
    fd = os.open(f, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o640)
    os.close(fd)
    st = os.stat(f)
    check(stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o640 and st.st_size == 0,
          "create: an empty 0640 file")
    check(expect_errno(errno.EEXIST, os.open, f, os.O_CREAT | os.O_EXCL | os.O_WRONLY),
          "O_CREAT|O_EXCL on an existing file: EEXIST")
    check(os.stat(f).st_ino == os.stat(f).st_ino and os.stat(f).st_ino != os.stat(d).st_ino,
          "inode numbers: stable, distinct")
    os.chmod(f, 0o604)
    check(stat.S_IMODE(os.stat(f).st_mode) == 0o604, "chmod")
    os.chown(f, 1234, 5678)
    st = os.stat(f)
    check(st.st_uid == 1234 and st.st_gid == 5678, "chown")
    os.utime(f, ns=(1_000_000_123, 2_000_000_456))
    st = os.stat(f)
    check(st.st_atime_ns == 1_000_000_123 and st.st_mtime_ns == 2_000_000_456,
          "utimens: nanosecond times kept")
    check(expect_errno(errno.ENOENT, os.stat, os.path.join(d, "nope")), "stat of nothing: ENOENT")
    check(expect_errno(errno.ENOTDIR, os.mkdir, os.path.join(f, "x")), "mkdir under a file: ENOTDIR")
    check(expect_errno(errno.ENOTDIR, os.rmdir, f), "rmdir of a file: ENOTDIR")
    check(expect_errno(errno.EISDIR, os.unlink, d), "unlink of a directory: EISDIR")
    check(expect_errno(errno.ENOTEMPTY, os.rmdir, d), "rmdir of a non-empty directory: ENOTEMPTY")
    check(expect_errno(errno.ENAMETOOLONG, os.mkdir, os.path.join(d, "n" * 256)),
          "a 256-byte name: ENAMETOOLONG")
    os.mkdir(os.path.join(d, "n" * 255))
    check(("n" * 255) in os.listdir(d), "a 255-byte name")
    os.rmdir(os.path.join(d, "n" * 255))

    # symbolic links
    ln = os.path.join(d, "ln")
    os.symlink("file", ln)
    check(os.readlink(ln) == "file", "readlink")
    check(stat.S_ISLNK(os.lstat(ln).st_mode) and os.lstat(ln).st_size == 4,
          "lstat of a link: S_IFLNK, size = target length")
    check(os.stat(ln).st_ino == os.stat(f).st_ino, "stat follows the link")
    os.symlink("/definitely/not/here", os.path.join(d, "dangling"))
    check(expect_errno(errno.ENOENT, os.stat, os.path.join(d, "dangling")),
          "a dangling link: ENOENT through it")
    long_target = "t" * 1000
    os.symlink(long_target, os.path.join(d, "longlink"))
    check(os.readlink(os.path.join(d, "longlink")) == long_target, "a 1000-byte link target")

    # renames
    os.rename(f, os.path.join(d, "file2"))
    check(not os.path.exists(f) and os.path.exists(os.path.join(d, "file2")), "rename")
    check(stat.S_IMODE(os.stat(os.path.join(d, "file2")).st_mode) == 0o604,
          "rename keeps attributes")
    sub = os.path.join(d, "sub")
    os.mkdir(sub)
    os.rename(os.path.join(d, "file2"), os.path.join(sub, "moved"))
    check(os.listdir(sub) == ["moved"], "rename across directories")
    os.rename(os.path.join(d, "ln"), os.path.join(sub, "ln2"))
    check(os.readlink(os.path.join(sub, "ln2")) == "file", "rename of a link")
    open(os.path.join(d, "a"), "w").close()
    open(os.path.join(d, "b"), "w").close()
    os.chmod(os.path.join(d, "b"), 0o600)
    ino_a = os.stat(os.path.join(d, "a")).st_ino
    os.rename(os.path.join(d, "a"), os.path.join(d, "b"))
    check(not os.path.exists(os.path.join(d, "a")) and
          os.stat(os.path.join(d, "b")).st_ino == ino_a, "rename over a file replaces it")
    open(os.path.join(d, "c"), "w").close()
    check(expect_errno(errno.EEXIST, renameat2, os.path.join(d, "b"), os.path.join(d, "c"),
                       RENAME_NOREPLACE), "RENAME_NOREPLACE onto a name: EEXIST")
    renameat2(os.path.join(d, "c"), os.path.join(d, "c2"), RENAME_NOREPLACE)
    check(os.path.exists(os.path.join(d, "c2")), "RENAME_NOREPLACE to a free name")
    ino_b = os.stat(os.path.join(d, "b")).st_ino
    ino_s = os.stat(sub).st_ino
    renameat2(os.path.join(d, "b"), sub, RENAME_EXCHANGE)
    check(os.stat(sub).st_ino == ino_b and os.stat(os.path.join(d, "b")).st_ino == ino_s and
          sorted(os.listdir(os.path.join(d, "b"))) == ["ln2", "moved"],
          "RENAME_EXCHANGE of a file and a directory")
    os.mkdir(os.path.join(d, "empty"))
    check(expect_errno(errno.ENOTDIR, os.rename, os.path.join(d, "empty"), sub),
          "rename of a directory onto a file: ENOTDIR")
    check(expect_errno(errno.EISDIR, os.rename, sub, os.path.join(d, "empty")),
          "rename of a file onto a directory: EISDIR")
    os.rmdir(os.path.join(d, "empty"))

    # extended attributes
    os.setxattr(sub, "user.one", b"1")
    os.setxattr(sub, "user.two", b"x" * 3000)
    check(os.getxattr(sub, "user.one") == b"1" and os.getxattr(sub, "user.two") == b"x" * 3000,
          "setxattr / getxattr")
    check(sorted(os.listxattr(sub)) == ["user.one", "user.two"], "listxattr")
    check(expect_errno(errno.EEXIST, os.setxattr, sub, "user.one", b"2", os.XATTR_CREATE),
          "XATTR_CREATE on an existing name: EEXIST")
    check(expect_errno(errno.ENODATA, os.setxattr, sub, "user.three", b"3", os.XATTR_REPLACE),
          "XATTR_REPLACE of a missing name: ENODATA")
    os.setxattr(sub, "user.one", b"11", os.XATTR_REPLACE)
    check(os.getxattr(sub, "user.one") == b"11", "XATTR_REPLACE")
    os.removexattr(sub, "user.one")
    check(expect_errno(errno.ENODATA, os.getxattr, sub, "user.one") and
          os.listxattr(sub) == ["user.two"], "removexattr")
    check(expect_errno(errno.ENODATA, os.removexattr, sub, "user.one"),
          "removexattr of a missing name: ENODATA")
    os.rename(sub, os.path.join(d, "sub_renamed"))
    check(os.getxattr(os.path.join(d, "sub_renamed"), "user.two") == b"x" * 3000,
          "xattrs follow a rename")

    # security.capability: the kernel asks for it before each write() and removes it when
    # a file with capabilities is written (dfuse remembers its absence per inode)
    capf = os.path.join(d, "capfile")
    fd = os.open(capf, os.O_CREAT | os.O_RDWR, 0o755)
    os.write(fd, b"a")
    check(expect_errno(errno.ENODATA, os.getxattr, capf, "security.capability"),
          "no security.capability on a new file")
    # struct vfs_cap_data, revision 2: magic, then permitted/inheritable (low, high words)
    cap = struct.pack("<5I", 0x02000000, 1 << 13, 0, 0, 0)
    os.setxattr(capf, "security.capability", cap)
    check(os.getxattr(capf, "security.capability") == cap,
          "security.capability set after its absence was seen")
    os.write(fd, b"b")
    check(expect_errno(errno.ENODATA, os.getxattr, capf, "security.capability"),
          "a write removes security.capability")
    os.write(fd, b"c")
    os.setxattr(capf, "security.capability", cap)
    os.write(fd, b"d")
    check(expect_errno(errno.ENODATA, os.getxattr, capf, "security.capability"),
          "set again: the next write removes it again")
    os.close(fd)
    with open(capf, "rb") as fh:
        check(fh.read() == b"abcd", "the writes around capability changes")

    # statfs
    sv = os.statvfs(d)
    check(sv.f_namemax == 255 and sv.f_bsize > 0 and sv.f_blocks > 0, "statfs")

    # an open file keeps working after its entry is removed
    g = os.path.join(d, "g")
    fd = os.open(g, os.O_CREAT | os.O_RDWR, 0o644)
    os.unlink(g)
    st = os.fstat(fd)
    os.close(fd)
    check(stat.S_ISREG(st.st_mode) and not os.path.exists(g), "fstat after unlink")


def big_dir(top, n):
    d = os.path.join(top, "big")
    os.mkdir(d)
    names = set("e%05d_%s" % (i, "x" * (i % 40)) for i in range(n))
    for name in names:
        os.close(os.open(os.path.join(d, name), os.O_CREAT | os.O_WRONLY, 0o644))
    listed = os.listdir(d)
    check(len(listed) == len(set(listed)) and set(listed) == names,
          "readdir of %d entries: each once" % n)
    seen = {}
    with os.scandir(d) as it:
        for ent in it:
            seen[ent.name] = ent.stat(follow_symlinks=False)
    check(set(seen) == names and all(stat.S_ISREG(s.st_mode) for s in seen.values()),
          "readdirplus + stat of %d entries" % n)
    inos = set(s.st_ino for s in seen.values())
    check(len(inos) == n, "%d distinct inode numbers" % n)
    # removal while listing: no name twice, none that was never there
    fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
    try:
        first = os.listdir(fd)
    finally:
        os.close(fd)
    for name in sorted(names)[: n // 2]:
        os.unlink(os.path.join(d, name))
    rest = set(os.listdir(d))
    check(rest == set(sorted(names)[n // 2:]) and len(first) == n,
          "readdir after removing half")
    for name in rest:
        os.unlink(os.path.join(d, name))
    os.rmdir(d)
    check(not os.path.exists(d), "the big directory removed")


def model_walk(top, seed, steps):
    """Random namespace operations against a model {relpath: 'd' | 'f' | ('l', target)}."""
    rnd = random.Random(seed)
    root = os.path.join(top, "model")
    os.mkdir(root)
    model = {"": "d"}

    def dirs():
        return [p for p, k in model.items() if k == "d"]

    def children(p):
        pre = p + "/" if p else ""
        return [q for q in model if q.startswith(pre) and q != p and "/" not in q[len(pre):]]

    def full(p):
        return os.path.join(root, p) if p else root

    for step in range(steps):
        op = rnd.choice(["mkdir", "create", "symlink", "unlink", "rmdir", "rename", "rename",
                         "check"])
        parent = rnd.choice(dirs())
        name = "n%d" % rnd.randrange(6)
        path = (parent + "/" + name) if parent else name
        exists = path in model
        try:
            if op == "mkdir":
                os.mkdir(full(path))
                got = None
            elif op == "create":
                os.close(os.open(full(path), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
                got = None
            elif op == "symlink":
                os.symlink("tgt%d" % step, full(path))
                got = None
            elif op == "unlink":
                os.unlink(full(path))
                got = None
            elif op == "rmdir":
                os.rmdir(full(path))
                got = None
            elif op == "rename":
                dparent = rnd.choice(dirs())
                dname = "n%d" % rnd.randrange(6)
                dpath = (dparent + "/" + dname) if dparent else dname
                os.rename(full(path), full(dpath))
                got = None
            else:
                got = None
        except OSError as e:
            got = e.errno
        # what the model says
        want = None
        if op in ("mkdir", "create", "symlink"):
            if exists:
                want = errno.EEXIST
            else:
                model[path] = "d" if op == "mkdir" else ("f" if op == "create"
                                                         else ("l", "tgt%d" % step))
        elif op == "unlink":
            if not exists:
                want = errno.ENOENT
            elif model[path] == "d":
                want = errno.EISDIR
            else:
                del model[path]
        elif op == "rmdir":
            if not exists:
                want = errno.ENOENT
            elif model[path] != "d":
                want = errno.ENOTDIR
            elif children(path):
                want = errno.ENOTEMPTY
            else:
                del model[path]
        elif op == "rename":
            if not exists:
                want = errno.ENOENT
            elif dpath == path:
                pass
            elif model[path] == "d" and (dpath + "/").startswith(path + "/"):
                want = errno.EINVAL
            elif (path + "/").startswith(dpath + "/"):
                want = errno.ENOTEMPTY  # onto an ancestor of the source
            elif dpath in model:
                dk, sk = model[dpath], model[path]
                if dk == "d" and sk != "d":
                    want = errno.EISDIR
                elif dk != "d" and sk == "d":
                    want = errno.ENOTDIR
                elif dk == "d" and children(dpath):
                    want = errno.ENOTEMPTY
            if want is None and exists and dpath != path:
                moved = {q: k for q, k in model.items()
                         if q == path or q.startswith(path + "/")}
                for q in list(model):
                    if q == dpath or q.startswith(dpath + "/"):
                        del model[q]
                for q in moved:
                    del model[q]
                for q, k in moved.items():
                    model[dpath + q[len(path):]] = k
        if got != want:
            fail("model step %d (seed %d): %s %s -> %s, model says %s" %
                 (step, seed, op, path, errno.errorcode.get(got, got),
                  errno.errorcode.get(want, want)))
            return
        if op == "check" or step % 25 == 0:
            for p in dirs():
                real = sorted(os.listdir(full(p)))
                exp = sorted(q.rsplit("/", 1)[-1] for q in children(p))
                if real != exp:
                    fail("model step %d (seed %d): %s lists %s, model %s" %
                         (step, seed, p or "/", real, exp))
                    return
            for p, k in model.items():
                st = os.lstat(full(p))
                if (k == "d") != stat.S_ISDIR(st.st_mode) or \
                   (k == "f") != stat.S_ISREG(st.st_mode) or \
                   (isinstance(k, tuple) and os.readlink(full(p)) != k[1]):
                    fail("model step %d (seed %d): %s is not %s" % (step, seed, p, k))
                    return
    ok("%d random namespace operations match the model (seed %d)" % (steps, seed))


def main():
    mnt = sys.argv[1]
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else random.randrange(1 << 30)
    nbig = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    print("seed %d" % seed, flush=True)
    top = os.path.join(mnt, "nscheck")
    os.mkdir(top)
    for fn, args in ((basics, ()), (big_dir, (nbig,)), (model_walk, (seed, 1000))):
        try:
            fn(top, *args)
        except Exception as e:  # an unexpected error is a failure, not a crash
            fail("%s: unexpected %r" % (fn.__name__, e))
    sys.exit(1 if FAILS else 0)


if __name__ == "__main__":
    main()
