#!/usr/bin/env python3
"""dfuse_cache_check.py: helpers of test_dfuse_cache.sh (the kernel's caches over dfuse).

  share PATH REF SEED      one process writes PATH in unaligned pieces and keeps it open
                           (no fsync, no close); after each step another process (a new
                           python) reads the whole file and must see exactly what was
                           written so far; the size seen by fstat and by a stat from the
                           other process must follow too; the final content is left in REF
  hold PATH REF SEED MIB   write MIB MiB of seeded data to PATH and REF (local), fsync PATH,
                           print "synced", then wait for stdin to close (the daemon is
                           killed meanwhile) and exit 0 whatever close() says
  same A B                 exit 0 if files A and B are equal, else say where they differ
"""
import os
import random
import subprocess
import sys


def other_reads(path, want):
    """A separate process reads @path; returns None or what is wrong."""
    code = ("import os,sys\n"
            "d=open(sys.argv[1],'rb').read()\n"
            "sys.stdout.write('%d %d\\n' % (len(d), os.stat(sys.argv[1]).st_size))\n"
            "sys.stdout.buffer.write(d)\n")
    out = subprocess.run([sys.executable, "-c", code, path], capture_output=True, check=True)
    head, _, data = out.stdout.partition(b"\n")
    n, size = (int(x) for x in head.split())
    if size != len(want):
        return "the other process's stat says %d bytes, %d written" % (size, len(want))
    if data != want:
        at = next((i for i in range(min(len(data), len(want))) if data[i] != want[i]),
                  min(len(data), len(want)))
        return "the other process read %d bytes, %d written, first difference at %d" % (
            n, len(want), at)
    return None


def share(path, ref, seed):
    rnd = random.Random(seed)
    model = bytearray()
    fd = os.open(path, os.O_CREAT | os.O_TRUNC | os.O_RDWR, 0o644)
    for step in range(12):
        if step < 6 or rnd.random() < 0.5:
            off = len(model) + rnd.randrange(0, 70000)  # extend, sometimes past a hole
        else:
            off = rnd.randrange(0, len(model))          # overwrite inside
        n = rnd.randrange(1, 400000)
        data = rnd.randbytes(n)
        if os.pwrite(fd, data, off) != n:
            raise SystemExit("short write")
        if off > len(model):
            model.extend(b"\0" * (off - len(model)))
        model[off:off + n] = data
        if os.fstat(fd).st_size != len(model):
            raise SystemExit("step %d: fstat size %d, want %d" % (
                step, os.fstat(fd).st_size, len(model)))
        err = other_reads(path, bytes(model))
        if err:
            raise SystemExit("step %d (write %d at %d): %s" % (step, n, off, err))
    os.close(fd)
    err = other_reads(path, bytes(model))
    if err:
        raise SystemExit("after close: " + err)
    with open(ref, "wb") as r:
        r.write(model)
    print("ok: 12 unaligned writes (%d bytes) seen by another process while the writer "
          "kept the file open" % len(model))


def hold(path, ref, seed, mib):
    rnd = random.Random(seed)
    fd = os.open(path, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o644)
    with open(ref, "wb") as r:
        left = mib * 1024 * 1024 + 12345  # not a whole number of pages
        while left > 0:
            data = rnd.randbytes(min(left, 300001))
            os.write(fd, data)
            r.write(data)
            left -= len(data)
    os.fsync(fd)
    print("synced", flush=True)
    sys.stdin.read()
    try:
        os.close(fd)
    except OSError:
        pass


def same(a, b):
    with open(a, "rb") as fa, open(b, "rb") as fb:
        x = fa.read()
        y = fb.read()
    if x == y:
        return 0
    at = next((i for i in range(min(len(x), len(y))) if x[i] != y[i]), min(len(x), len(y)))
    print("%s: %d bytes, %s: %d bytes, first difference at %d" % (a, len(x), b, len(y), at))
    return 1


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "share" and len(sys.argv) == 5:
        share(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif cmd == "hold" and len(sys.argv) == 6:
        hold(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    elif cmd == "same" and len(sys.argv) == 4:
        sys.exit(same(sys.argv[2], sys.argv[3]))
    else:
        raise SystemExit(__doc__)
