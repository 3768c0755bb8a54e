/*
 * dfuse_internal.h: private to dfuse. The FUSE core (dfuse_core.c) serves the libfuse3
 * low-level API over a mounted dfs_t; the programs around it (dfuse_main.c, and the test
 * launcher tests/dfuse/dfuse_local.c) parse the same options and only differ in how they
 * obtain that dfs_t.
 */
#ifndef DFUSE_INTERNAL_H
#define DFUSE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <daos_fs.h>

/*
 * Worker threads and the kernel's read-ahead (KiB) unless the command line says otherwise.
 * A worker serves one request at a time (a synchronous dfs_write/dfs_read), so the threads
 * are as many as the asynchronous requests the kernel keeps in flight (max_background, 16):
 * a streaming write-back then has all of them at the engine at once (4 workers left 2 MiB
 * per target, below the engine's 4 MiB "bandwidth-bound, do not spin" mark).
 */
#define DFUSE_DEF_THREADS 16
#define DFUSE_DEF_RA_KIB 4096
/* dfuse's own read-ahead of a direct-I/O handle (MiB ahead of a sequential reader) */
#define DFUSE_DEF_PF_MIB 8
#define DFUSE_MAX_PF_MIB 64

/* What the command line asked for (dfuse_opts_parse()). */
struct dfuse_opts {
	char *do_mnt;            /* -m, --mountpoint (or the first positional argument) */
	char *do_pool;           /* --pool: label or UUID */
	char *do_cont;           /* --cont, --container: label or UUID */
	char *do_sys;            /* --sys-name */
	char *do_mgmt;           /* --mgmt ADDR (the test launcher only) */
	bool do_create;          /* --create (the test launcher only): make the pool first */
	bool do_foreground;      /* -f, --foreground */
	bool do_single;          /* -S, --singlethread */
	bool do_rdonly;          /* --read-only */
	bool do_direct_io;       /* --disable-caching: no page cache either */
	bool do_wb_cache;        /* --enable-wb-cache (default) / --disable-wb-cache */
	unsigned do_ra_kib;      /* --readahead-kib: the kernel's read-ahead for the mount */
	bool do_direct_read;     /* --direct-read: O_RDONLY opens are direct I/O */
	bool do_direct_write;    /* --direct-write: writing opens are direct I/O, written behind */
	unsigned do_pf_mib;      /* --prefetch-mib: dfuse's read-ahead of direct-I/O handles */
	unsigned do_threads;     /* -t, --thread-count */
	double do_attr_to;       /* --attr-timeout, seconds */
	double do_dentry_to;     /* --dentry-timeout, seconds */
	double do_dentry_dir_to; /* --dentry-dir-timeout, seconds (entries of directories) */
	double do_ndentry_to;    /* --ndentry-timeout, seconds (negative entries) */
	char *do_fuse_opts;      /* -o: passed to libfuse as "-o ..." */
};

/*
 * Parse @argv into *@o (defaults first). @launcher allows --mgmt and --create. Prints what is
 * wrong and returns EINVAL, or returns -1 after printing the help for -h (the caller exits 0).
 * The strings in *@o point into @argv.
 */
int dfuse_opts_parse(int argc, char **argv, bool launcher, struct dfuse_opts *o);

/*
 * Defaults dfuse gives libdaos unless the environment sets them; call before daos_init.
 * DAOS_EQ_SPIN_US=DFUSE_EQ_SPIN_US: every FUSE worker waits for its own RPCs, and libdaos's
 * default 1 ms busy-poll per wait by several workers takes the cores the engine needs.
 */
#define DFUSE_EQ_SPIN_US "50"
void dfuse_env_defaults(void);

/* The usage text of the common options, to @out. */
void dfuse_usage(FILE *out, const char *prog, bool launcher);

/*
 * Test launcher only (dfuse_local links the static libdaos; dfuse leaves it NULL): fills
 * @counts with the object RPCs this process sent so far (dc_obj_rpc_counts: update, fetch,
 * punch, list, query). When set, getxattr DFUSE_XATTR_RPCS of any inode answers
 * "update U fetch F punch P list L query Q" (the same counts), so that a test counts the
 * RPCs of one system call through the mount.
 */
#define DFUSE_RPC_NR 5
#define DFUSE_XATTR_RPCS "user.dfuse.rpcs"
extern void (*dfuse_rpc_counts)(uint64_t counts[DFUSE_RPC_NR]);

/*
 * Serve @dfs at @o->do_mnt until unmounted or until SIGTERM/SIGINT; returns 0 or a positive
 * errno after unmounting. @ready (optional) is called once the mount is live (to tell a
 * waiting parent). @dfs stays the caller's (borrowed); every object the core opened is
 * released before this returns.
 * Context: the calling thread runs the FUSE session; the workers it starts call libdfs.
 */
int dfuse_serve(dfs_t *dfs, const struct dfuse_opts *o, void (*ready)(void *arg), void *arg);

/*
 * Run in the background unless @o->do_foreground: fork; the parent waits for the child to
 * call dfuse_bg_ready() (exit 0) or to exit (its code), and never returns. Returns in the
 * child (or at once with --foreground). Call before daos_init.
 */
/*
 * dfuse_kio.c: dfuse's own read/writev on /dev/fuse. Attach after the mount, before the
 * session loop (0 or -errno); @killpriv_v2 asks for FUSE_HANDLE_KILLPRIV_V2 when the
 * kernel offers it, @direct_mmap FUSE_DIRECT_IO_ALLOW_MMAP (shared mmap of a direct-I/O
 * open). dfuse_kio_v2: KILLPRIV_V2 was agreed; dfuse_kio_kill: the request this thread is
 * processing asks the daemon to clear setuid/setgid (a write, truncation or O_TRUNC open by
 * a caller without CAP_FSETID).
 */
struct fuse_session;
int dfuse_kio_attach(struct fuse_session *se, bool killpriv_v2, bool direct_mmap);
bool dfuse_kio_v2(void);
bool dfuse_kio_kill(void);

void dfuse_bg_start(const struct dfuse_opts *o);

/* The child is mounted: let the parent exit 0 and detach stdio. @arg is unused. */
void dfuse_bg_ready(void *arg);

#endif /* DFUSE_INTERNAL_H */
