#!/usr/bin/env python3
"""dfuse_perf.py: the workload of tests/perf/dfuse_perf.sh on one directory (not a test).

    dfuse_perf.py run DIR FILES MIB BLOCK_KIB   one run: prints "name value" lines
    dfuse_perf.py report A... -- B...           medians of the "name value" lines of the runs
                                                A (dfuse) and B (local), and the ratio A/B

One run in DIR: FILES empty files created (open O_CREAT|O_EXCL + close), each stat()ed,
each unlink()ed (rates in files/s, from one thread); then MIB MiB written to a new file
in BLOCK_KIB KiB write() calls from one preallocated buffer, fsync() included in the
time; the file's cached pages are dropped (posix_fadvise DONTNEED; a FUSE file is also
re-read from the daemon because open does not keep its cache) and the file is read back
in the same calls from a new open (MB/s = 10^6 bytes/s). The first and last byte of every
block are checked on read, so a short or wrong read fails the run. The last byte of a block
is never 0 (as in dfs_perf): libdfs asks for the file's size after a read whose last byte is
0 (it cannot tell a hole at the end from the end of the file), 2 more RPCs per read.

CPU per MiB: with DFUSE_PERF_PIDS="NAME=PID ..." in the environment, the CPU time (user +
system, all threads, from /proc/PID/stat) each of those processes spent during the write
(+ fsync) and the read phase, in ms per MiB, is printed too ("write_cpu_NAME"), next to the
writer's own ("write_cpu_self"): what the rate costs, which the machine's load changes much
less than the rate itself. "write_vcsw_self" / "read_vcsw_self": the writer's (reader's)
voluntary context switches per MiB, i.e. how often its system calls slept (a synchronous
FUSE request such as the security.capability question, dirty-page throttling, a read
waiting for its page).
"""
import os
import resource
import statistics
import sys
import time


def cpu_of(pid):
    """CPU seconds (user + system) of process pid so far, or None once it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as fh:
            f = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def vcsw():
    return resource.getrusage(resource.RUSAGE_SELF).ru_nvcsw


def cpu_all(pids):
    t = os.times()
    out = {"self": t.user + t.system}
    for name, pid in pids:
        out[name] = cpu_of(pid)
    return out


def cpu_report(out, phase, before, after, mib):
    for k in before:
        if before[k] is not None and after[k] is not None:
            out["%s_cpu_%s" % (phase, k)] = (after[k] - before[k]) * 1000.0 / mib


def run(d, nfiles, mib, block_kib):
    pids = []
    for item in os.environ.get("DFUSE_PERF_PIDS", "").split():
        name, pid = item.split("=")
        pids.append((name, int(pid)))
    sub = os.path.join(d, "meta.%d" % os.getpid())
    os.mkdir(sub)
    names = [os.path.join(sub, "f%06d" % i) for i in range(nfiles)]
    t = time.monotonic()
    for n in names:
        os.close(os.open(n, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
    out = {"create": nfiles / (time.monotonic() - t)}
    t = time.monotonic()
    for n in names:
        os.stat(n)
    out["stat"] = nfiles / (time.monotonic() - t)
    t = time.monotonic()
    for n in names:
        os.unlink(n)
    out["remove"] = nfiles / (time.monotonic() - t)
    os.rmdir(sub)

    bs = block_kib * 1024
    nblk = mib * 1024 * 1024 // bs
    buf = bytearray(os.urandom(bs))
    path = os.path.join(d, "stream.%d" % os.getpid())
    fd = os.open(path, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o644)
    c0 = cpu_all(pids)
    v0 = vcsw()
    t = time.monotonic()
    for i in range(nblk):
        buf[0] = i & 0xFF
        buf[-1] = (i >> 8) % 255 + 1
        if os.write(fd, buf) != bs:
            raise SystemExit("short write")
    os.fsync(fd)
    out["write_MBps"] = nblk * bs / (time.monotonic() - t) / 1e6
    cpu_report(out, "write", c0, cpu_all(pids), mib)
    out["write_vcsw_self"] = (vcsw() - v0) / mib
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    os.close(fd)
    fd = os.open(path, os.O_RDONLY)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    rbuf = bytearray(bs)
    mv = memoryview(rbuf)
    c0 = cpu_all(pids)
    v0 = vcsw()
    t = time.monotonic()
    for i in range(nblk):
        got = os.readv(fd, [mv])
        if got != bs or rbuf[0] != i & 0xFF or rbuf[-1] != (i >> 8) % 255 + 1:
            raise SystemExit("read block %d: %d bytes or wrong data" % (i, got))
    out["read_MBps"] = nblk * bs / (time.monotonic() - t) / 1e6
    cpu_report(out, "read", c0, cpu_all(pids), mib)
    out["read_vcsw_self"] = (vcsw() - v0) / mib
    os.close(fd)
    os.unlink(path)
    for k, v in out.items():
        print("%s %.2f" % (k, v))


def load(files):
    vals = {}
    for f in files:
        with open(f) as fh:
            for line in fh:
                k, v = line.split()
                vals.setdefault(k, []).append(float(v))
    return vals


def report(a_files, b_files):
    a = load(a_files)
    b = load(b_files)
    print("%-17s %10s %-26s %10s %-26s %7s" % ("median", "dfuse", "[runs]", "local", "[runs]",
                                               "ratio"))
    for k in a:
        ma = statistics.median(a[k])
        mb = statistics.median(b[k]) if k in b else float("nan")
        fmt = "%.2f" if "_cpu_" in k or "_vcsw_" in k else "%.0f"
        print("%-17s %10.2f %-26s %10.1f %-26s %7.3f" % (
            k, ma, "[" + ", ".join(fmt % x for x in a[k]) + "]", mb,
            "[" + ", ".join(fmt % x for x in b.get(k, [])) + "]", ma / mb))


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "run":
        run(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    elif len(sys.argv) > 3 and sys.argv[1] == "report" and "--" in sys.argv:
        i = sys.argv.index("--")
        report(sys.argv[2:i], sys.argv[i + 1:])
    else:
        raise SystemExit(__doc__)
