#!/usr/bin/env python3
"""dfuse_dwrite_check.py: checks of dfuse's --direct-write (write-behind), for
test_dfuse_dwrite.sh. Each prints "ok: ..." and exits 0, or prints what differed and exits 1.

  behind DIR SEED   on a --direct-write mount with --attr-timeout 0 (every stat asks the
                    daemon): after each 1 MiB write answered before it reached DAOS, a
                    stat sees the new size and another descriptor reads the new bytes; one
                    range overwritten 16 times in a row holds the last; 4 KiB writes in a row
                    (which the daemon gathers) seen at once, then partly overwritten; 3000
                    small unaligned writes overlapping each other read back equal to a model
  gather FILE       write 5 pieces of 3000 bytes and wait for a line on stdin before closing
                    (the daemon is stopped meanwhile: it must write what it gathered)
  eio FILE WHEN     on a mount whose 3rd write written behind fails (DFUSE_FAULT_WB_EIO=3):
                    8 writes of 1 MiB all return, then WHEN=fsync: fsync fails with EIO, a
                    second fsync and close succeed; WHEN=close: close fails with EIO
  gathered FILE     FILE holds what "gather" wrote
  remove DIR MS     on a mount whose writes behind each sleep MS ms first
                    (DFUSE_FAULT_WB_DELAY_MS): an unlink of a file with a 1 MiB write or a
                    gathered 4 KiB write behind, and a rename over such a file, wait for it
                    (take at least MS/3 ms: the write was answered microseconds before)
"""
import errno
import mmap
import os
import random
import sys
import time

MIB = 1 << 20


def pattern(tag, off, n):
    blk = b"%08x:%08x;" % (tag, off)
    rep = blk * (n // len(blk) + 1)
    return rep[:n]


def aligned(data):
    # a page-aligned buffer: one FUSE request per MiB (the kernel's max_pages is 256)
    buf = mmap.mmap(-1, max(len(data), 1))
    buf[:len(data)] = data
    return memoryview(buf)[:len(data)]


def behind(top, seed):
    rnd = random.Random(seed)
    path = os.path.join(top, "behind")
    wfd = os.open(path, os.O_CREAT | os.O_TRUNC | os.O_RDWR, 0o644)
    rfd = os.open(path, os.O_RDONLY)
    n = 32
    for i in range(n):
        data = pattern(i, i * MIB, MIB)
        if os.pwrite(wfd, aligned(data), i * MIB) != MIB:
            print("short write at %d MiB" % i)
            return 1
        # the first request after the write, alternately a stat and a read, must wait for it
        for what in (["stat", "read"] if i % 2 == 0 else ["read", "stat"]):
            if what == "stat":
                size = os.stat(path).st_size
                if size != (i + 1) * MIB:
                    print("stat after the write ending at %d MiB: size %d" % (i + 1, size))
                    return 1
            elif os.pread(rfd, MIB, i * MIB) != data:
                print("another descriptor read different bytes at %d MiB after the write" % i)
                return 1
    # one range rewritten 16 times at once: the last write wins
    for k in range(16):
        os.pwrite(wfd, aligned(pattern(1000 + k, 0, MIB)), 0)
    if os.pread(rfd, MIB, 0) != pattern(1015, 0, MIB):
        print("a range overwritten 16 times does not hold the last write")
        return 1
    # 4 KiB writes in a row (gathered by the daemon, across gather boundaries), each seen
    # at once; then a larger write over part of what is gathered
    os.ftruncate(wfd, 0)
    model = bytearray()
    for k in range(600):
        data = pattern(2000 + k, k * 4096, 4096)
        os.pwrite(wfd, data, k * 4096)
        model += data
        if k % 37 == 0:
            if k % 2 == 0 and os.stat(path).st_size != len(model):
                print("stat after %d small writes: size %d" % (k + 1, os.stat(path).st_size))
                return 1
            if os.pread(rfd, 4096, k * 4096) != data:
                print("read after %d small writes differs" % (k + 1))
                return 1
    for k in range(600, 700):
        os.pwrite(wfd, pattern(2000 + k, k * 4096, 4096), k * 4096)
        model += pattern(2000 + k, k * 4096, 4096)
    big = pattern(3000, 0, 200000)
    os.pwrite(wfd, big, 650 * 4096 + 5)
    model[650 * 4096 + 5:650 * 4096 + 5 + len(big)] = big
    if os.pread(rfd, len(model) + 4096, 0) != bytes(model):
        print("4 KiB writes in a row and a larger one over them: read back differs")
        return 1
    # small unaligned writes overlapping each other, against a model
    model = bytearray(4 * MIB)
    end = 0
    os.ftruncate(wfd, 0)
    for k in range(3000):
        off = rnd.randrange(4 * MIB - 1)
        ln = rnd.choice([1, 17, 4095, 4096, 4097, 65537, rnd.randrange(1, 300000)])
        ln = min(ln, 4 * MIB - off)
        data = rnd.randbytes(ln)
        os.pwrite(wfd, data, off)
        model[off:off + ln] = data
        end = max(end, off + ln)
    size = os.fstat(rfd).st_size
    if size != end:
        print("size %d after the small writes, not %d" % (size, end))
        return 1
    got = os.pread(rfd, 4 * MIB, 0)
    if got != bytes(model[:end]):
        bad = next((i for i in range(min(len(got), end)) if got[i] != model[i]), -1)
        print("small overlapping writes: read back differs (first at %d, %d bytes read)"
              % (bad, len(got)))
        return 1
    os.fsync(wfd)
    os.close(rfd)
    os.close(wfd)
    print("ok: --direct-write: %d MiB written behind, each seen at once by stat and another "
          "descriptor; 16 overwrites in order; 700 4 KiB writes (gathered) seen at once and "
          "overwritten; 3000 overlapping unaligned writes equal (seed %d)" % (n, seed))
    return 0


def eio(path, when):
    fd = os.open(path, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o644)
    for i in range(8):
        if os.pwrite(fd, aligned(pattern(i, i * MIB, MIB)), i * MIB) != MIB:
            print("write %d short" % i)
            return 1
    if when == "fsync":
        try:
            os.fsync(fd)
            print("fsync succeeded after a failed write behind")
            return 1
        except OSError as e:
            if e.errno != errno.EIO:
                print("fsync: %s, not EIO" % e)
                return 1
        os.fsync(fd)  # the error was reported once
        os.close(fd)
        print("ok: --direct-write: a failed write behind is fsync's EIO, once")
        return 0
    try:
        os.close(fd)
        print("close succeeded after a failed write behind")
        return 1
    except OSError as e:
        if e.errno != errno.EIO:
            print("close: %s, not EIO" % e)
            return 1
    print("ok: --direct-write: a failed write behind is close's EIO")
    return 0


def gather(path):
    fd = os.open(path, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o644)
    for k in range(5):
        os.pwrite(fd, pattern(4000 + k, k * 3000, 3000), k * 3000)
    print("written", flush=True)
    sys.stdin.readline()
    try:
        os.close(fd)
    except OSError:
        pass  # the mount is gone
    return 0


def gathered(path):
    want = b"".join(pattern(4000 + k, k * 3000, 3000) for k in range(5))
    with open(path, "rb") as f:
        got = f.read()
    if got != want:
        print("%d bytes read, %d written before the daemon stopped" % (len(got), len(want)))
        return 1
    print("ok: --direct-write: small writes gathered when the daemon was stopped (SIGTERM) "
          "are in DAOS")
    return 0


def remove(top, ms):
    least = ms / 3000.0
    for what, size in (("unlink", MIB), ("unlink", 4096), ("rename", MIB)):
        path = os.path.join(top, "rm.%s.%d" % (what, size))
        fd = os.open(path, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o644)
        if what == "rename":
            src = path + ".new"
            with open(src, "wb") as f:
                f.write(b"new")
        if os.pwrite(fd, aligned(pattern(7, 0, size)), 0) != size:
            print("%s: short write" % what)
            return 1
        t0 = time.monotonic()
        if what == "unlink":
            os.unlink(path)
        else:
            os.rename(src, path)
        dt = time.monotonic() - t0
        os.close(fd)
        if dt < least:
            print("%s of a file with a %d-byte write behind took %.3f s: it did not wait "
                  "(the write sleeps %.3f s)" % (what, size, dt, ms / 1000.0))
            return 1
        if what == "rename":
            with open(path, "rb") as f:
                if f.read() != b"new":
                    print("rename over: the new file's bytes differ")
                    return 1
            os.unlink(path)
    print("ok: --direct-write: unlink and rename over a file wait for its writes behind")
    return 0


def starve(path, ms):
    # a writer keeps writes behind in flight for ~20 delays; a stat through another path
    # must wait only for the writes answered before it, not for the writer to stop
    pid = os.fork()
    if pid == 0:
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o644)
        buf = aligned(pattern(9, 0, MIB))
        t_end = time.monotonic() + 12 * ms / 1000.0
        i = 0
        while time.monotonic() < t_end:
            os.pwrite(fd, buf, (i % 64) * MIB)
            i += 1
        os.close(fd)
        os._exit(0)
    time.sleep(3 * ms / 1000.0)
    t0 = time.monotonic()
    os.stat(path)
    dt = time.monotonic() - t0
    os.waitpid(pid, 0)
    if dt > 6 * ms / 1000.0:
        print("a stat beside a streaming writer took %.3f s (writes sleep %.3f s): it waited "
              "for the writer to stop" % (dt, ms / 1000.0))
        return 1
    print("ok: --direct-write: a stat beside a streaming writer waits only for earlier writes")
    return 0


def main():
    if sys.argv[1] == "starve":
        return starve(sys.argv[2], int(sys.argv[3]))
    if sys.argv[1] == "remove":
        return remove(sys.argv[2], int(sys.argv[3]))
    if sys.argv[1] == "behind":
        return behind(sys.argv[2], int(sys.argv[3]))
    if sys.argv[1] == "gather":
        return gather(sys.argv[2])
    if sys.argv[1] == "gathered":
        return gathered(sys.argv[2])
    if sys.argv[1] == "eio":
        return eio(sys.argv[2], sys.argv[3])
    print("unknown command " + sys.argv[1])
    return 2


if __name__ == "__main__":
    sys.exit(main())
