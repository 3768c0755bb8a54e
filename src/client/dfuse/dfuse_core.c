/*
 * dfuse_core.c: the libfuse3 low-level file system over a mounted dfs_t (libdfs), shared by
 * dfuse and the test launcher.
 *
 * Invariants (README.md has the reasoning):
 * 1. The inode table maps a FUSE ino to a struct dfuse_inode holding one open dfs_obj_t. An
 *    inode lives while the kernel holds lookups on it (in_nlookup, raised by every entry we
 *    reply, lowered by forget) or a request or open handle uses it (in_ref). The root is
 *    FUSE_ROOT_ID and lives until the session ends.
 * 2. The ino of an object is a hash of its oid (of parent ino and name for symbolic links,
 *    which have no object), probed forward past collisions, never 0 or FUSE_ROOT_ID: the
 *    same object keeps its number while it is known, and usually across forgets too.
 * 3. fs_lock guards the table and every in_parent/in_name, and is never held across a libdfs
 *    call. in_lock (read) is held across libdfs calls that reach the object's entry through
 *    its parent and name (stat, setattr, xattrs); a rename takes it for writing to point the
 *    dfs_obj_t at its new entry.
 * 4. libdfs returns positive errnos, passed to the kernel as they are.
 */
#define FUSE_USE_VERSION 312

#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <semaphore.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include <daos.h>

#include "dfuse_internal.h"

#define DFUSE_NBUCKETS 16384
/* Entries fetched from libdfs per call while listing a directory. */
#define DFUSE_RD_BATCH 64
/* statfs: 4 KiB blocks; the pool's space, or this many blocks without a pool query. */
#define DFUSE_STATFS_BSIZE 4096
#define DFUSE_STATFS_BLOCKS (1ULL << 30)
/* The largest read and write request (the kernel's default max_pages limit is 256). */
#define DFUSE_MAX_IO (1024 * 1024)
/* Asynchronous requests (read-ahead, write-back) in flight: DFUSE_DEF_THREADS matches it. */
#define DFUSE_MAX_BACKGROUND 16
/* --direct-write: writes under DFUSE_WB_SMALL are gathered, up to DFUSE_WB_GATHER bytes. */
#define DFUSE_WB_SMALL (128 * 1024)
#define DFUSE_WB_GATHER DFUSE_MAX_IO
/* A transparent huge page (x86_64): the unit of the request and reply buffers. */
#define DFUSE_HUGE (2UL << 20)
/*
 * Each worker's request buffer: libfuse 3.14 reads up to its session's bufsize (256 pages +
 * a 4 KiB header) into a buffer the caller provides; two huge pages leave room to spare.
 */
#define DFUSE_REQ_BUF (2 * DFUSE_HUGE)
#ifdef MADV_POPULATE_WRITE
#define DFUSE_MADV_POPULATE_WRITE MADV_POPULATE_WRITE
#else
#define DFUSE_MADV_POPULATE_WRITE 23 /* Linux's value (5.14), for older C library headers */
#endif
/* dfuse's prefetch: threads reading ahead for direct-I/O handles, and their unit. */
#define DFUSE_PF_THREADS 8
#define DFUSE_PF_CHUNK DFUSE_MAX_IO
/* All handles' prefetch slots together: beyond this a handle reads without prefetch. */
#define DFUSE_PF_MEM_MAX (256ULL << 20)
/* DFS has no inode limit: a large fixed count. */
#define DFUSE_STATFS_FILES (1ULL << 32)

struct dfuse_inode {
	struct dfuse_inode *in_next; /* hash chain */
	fuse_ino_t in_ino;
	daos_obj_id_t in_oid; /* zero for a symbolic link */
	dfs_obj_t *in_obj;
	fuse_ino_t in_parent;           /* fs_lock */
	char in_name[DFS_MAX_NAME + 1]; /* fs_lock; "" once unlinked or replaced */
	uint64_t in_nlookup;            /* fs_lock */
	uint32_t in_ref;                /* fs_lock */
	pthread_rwlock_t in_lock;
	pthread_mutex_t in_stat_lock;
	struct stat in_stat; /* the last attributes seen, for an unlinked open file */
	/*
	 * in_stat_lock: the object has no security.capability xattr (the kernel asks before
	 * every write() system call); in_cap_gen counts this mount's changes of it.
	 */
	bool in_nocap;
	uint32_t in_cap_gen;
	/* in_stat_lock: this mount's open handles that write, and direct-I/O readers */
	uint32_t in_writers;
	uint32_t in_dreaders;
	/* changed (atomically) around every write and truncation: prefetched data is older */
	uint32_t in_wgen;
	/*
	 * --direct-write: the writes answered but not yet written (in_wb, under in_wb_lock;
	 * in_wb_n, their count, also read atomically without it), signalled on in_wb_cond when
	 * one ends; in_wb_err, the first error of one since the last fsync or flush took it.
	 */
	pthread_mutex_t in_wb_lock;
	pthread_cond_t in_wb_cond;
	struct dfuse_wb_io *in_wb;
	uint32_t in_wb_n;
	int in_wb_err;
	uint64_t in_wb_seq; /* in_wb_lock: writes entered in flight so far (wi_seq) */
	/* in_wb_lock: small writes gathered, [in_wg_off, +in_wg_len) in in_wg_buf */
	char *in_wg_buf;
	uint64_t in_wg_off;
	uint64_t in_wg_len;
};

/* A write answered to the kernel and still being written (--direct-write), on the stack. */
struct dfuse_wb_io {
	struct dfuse_wb_io *wi_next;
	uint64_t wi_off;
	uint64_t wi_end;
	uint64_t wi_seq; /* in_wb_seq when entered: a drain waits only for those before it */
};

/* The job queue of the prefetch threads (dfuse_pf_*). */
struct dfuse_pfq {
	pthread_mutex_t pq_lock;
	pthread_cond_t pq_cond;
	struct dfuse_pf_slot *pq_head;
	struct dfuse_pf_slot *pq_tail;
	bool pq_stop;
	unsigned pq_nthr;
	/* atomics: reads answered from slots, chunks read ahead, slots found stale */
	uint64_t pq_hits;
	uint64_t pq_chunks;
	uint64_t pq_stale;
	uint64_t pq_mem; /* atomic: bytes of slots allocated, at most DFUSE_PF_MEM_MAX */
	pthread_t pq_thr[DFUSE_PF_THREADS];
};

struct dfuse_fs {
	dfs_t *fs_dfs;
	const struct dfuse_opts *fs_opts;
	int fs_oflags;              /* O_RDWR, or O_RDONLY for a read-only mount */
	struct fuse_session *fs_se; /* set before the session loop */
	pthread_mutex_t fs_lock;
	struct dfuse_pfq fs_pfq;
	/* DFUSE_FAULT_WB_EIO=N: the Nth write written behind fails with EIO (0: none) */
	uint64_t fs_wb_fail_at;
	/* DFUSE_FAULT_WB_DELAY_MS=N: each write written behind first sleeps N ms (tests) */
	unsigned fs_wb_delay_ms;
	uint64_t fs_wb_count; /* atomic: writes written behind */
	struct dfuse_inode *fs_buckets[DFUSE_NBUCKETS];
};

/* A prefetch slot: one chunk of a file, read ahead of a sequential reader. */
enum { PF_EMPTY, PF_QUEUED, PF_BUSY, PF_READY };

struct dfuse_pf_slot {
	struct dfuse_fh *ps_fh;
	struct dfuse_pf_slot *ps_qnext; /* pq_lock */
	char *ps_buf;                   /* DFUSE_PF_CHUNK bytes */
	uint64_t ps_off;                /* a multiple of DFUSE_PF_CHUNK */
	uint64_t ps_got;                /* bytes read: short at the end of the file */
	uint32_t ps_gen;                /* the inode's in_wgen when queued */
	uint32_t ps_users;              /* replies copying from ps_buf */
	int ps_rc;
	int ps_state;
};

/*
 * An open regular file. fh_lock guards the rest; fh_ref counts the handle and its queued or
 * running prefetches (the last one frees it and drops the inode reference).
 */
struct dfuse_fh {
	struct dfuse_fs *fh_fs;
	struct dfuse_inode *fh_ie;
	bool fh_direct;  /* opened with direct_io: reads are not cached by the kernel */
	bool fh_writer;  /* counted in in_writers */
	bool fh_dreader; /* counted in in_dreaders */
	bool fh_wbehind; /* --direct-write: a writing direct-I/O open, its writes written behind */
	pthread_mutex_t fh_lock;
	pthread_cond_t fh_cond; /* a slot became PF_READY */
	uint32_t fh_ref;
	bool fh_closed;
	uint64_t fh_next; /* the end of the last read: a read starting there is sequential */
	uint64_t fh_eof;  /* a short read saw the end of the file here (UINT64_MAX: not seen) */
	uint32_t fh_eof_gen;
	unsigned fh_nslot;
	char *fh_pf_mem;
	struct dfuse_pf_slot *fh_slots;
};

/* An open directory: the names listed so far, in the order their offsets number them. */
struct dfuse_dir {
	struct dfuse_inode *dd_ie;
	pthread_mutex_t dd_lock;
	daos_anchor_t dd_anchor;
	char **dd_names;
	uint32_t dd_n;
	uint32_t dd_cap;
	bool dd_eof;
};

void (*dfuse_rpc_counts)(uint64_t counts[DFUSE_RPC_NR]);

static struct dfuse_fs *
fs_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static int
err_of(int rc)
{
	if (rc > 0)
		return rc;
	return rc == 0 ? 0 : EIO; /* libdfs promises positive errnos; be safe */
}

/* The kernel passes names up to 1024 bytes; DFS takes NAME_MAX. */
static int
name_check(const char *name)
{
	return strnlen(name, DFS_MAX_NAME + 1) > DFS_MAX_NAME ? ENAMETOOLONG : 0;
}

static uint64_t
mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static uint64_t
name_hash(fuse_ino_t parent, const char *name)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ parent;

	while (*name != '\0')
		h = (h ^ (unsigned char)*name++) * 0x100000001b3ULL;
	return mix64(h);
}

static fuse_ino_t
ino_next(fuse_ino_t ino)
{
	do {
		ino++;
	} while (ino == 0 || ino == FUSE_ROOT_ID);
	return ino;
}

static bool
oid_is_zero(daos_obj_id_t oid)
{
	return oid.lo == 0 && oid.hi == 0;
}

/* Under fs_lock. */
static struct dfuse_inode *
tab_find(struct dfuse_fs *fs, fuse_ino_t ino)
{
	struct dfuse_inode *ie;

	for (ie = fs->fs_buckets[ino % DFUSE_NBUCKETS]; ie != NULL; ie = ie->in_next)
		if (ie->in_ino == ino)
			return ie;
	return NULL;
}

/* Under fs_lock: the known inode whose entry is @parent/@name, if any. */
static struct dfuse_inode *
tab_find_entry(struct dfuse_fs *fs, fuse_ino_t parent, const char *name)
{
	struct dfuse_inode *ie;
	size_t b;

	for (b = 0; b < DFUSE_NBUCKETS; b++)
		for (ie = fs->fs_buckets[b]; ie != NULL; ie = ie->in_next)
			if (ie->in_parent == parent && strcmp(ie->in_name, name) == 0)
				return ie;
	return NULL;
}

static void
tab_unlink(struct dfuse_fs *fs, struct dfuse_inode *ie)
{
	struct dfuse_inode **pp = &fs->fs_buckets[ie->in_ino % DFUSE_NBUCKETS];

	while (*pp != ie)
		pp = &(*pp)->in_next;
	*pp = ie->in_next;
}

static void
ie_free(struct dfuse_inode *ie)
{
	dfs_release(ie->in_obj);
	pthread_rwlock_destroy(&ie->in_lock);
	pthread_mutex_destroy(&ie->in_stat_lock);
	pthread_mutex_destroy(&ie->in_wb_lock);
	pthread_cond_destroy(&ie->in_wb_cond);
	free(ie->in_wg_buf); /* NULL: release wrote the gather */
	free(ie);
}

/* A reference on inode @ino, or NULL if the kernel names one we do not know. */
static struct dfuse_inode *
ie_get(struct dfuse_fs *fs, fuse_ino_t ino)
{
	struct dfuse_inode *ie;

	pthread_mutex_lock(&fs->fs_lock);
	ie = tab_find(fs, ino);
	if (ie != NULL)
		ie->in_ref++;
	pthread_mutex_unlock(&fs->fs_lock);
	return ie;
}

/* ie_get for a request: NULL after answering ESTALE when the kernel names an unknown inode. */
static struct dfuse_inode *
ie_get_req(fuse_req_t req, struct dfuse_fs *fs, fuse_ino_t ino)
{
	struct dfuse_inode *ie = ie_get(fs, ino);

	if (ie == NULL)
		fuse_reply_err(req, ESTALE);
	return ie;
}

/* Drop @nlookup kernel lookups and @ref references; the last of both frees the inode. */
static void
ie_drop(struct dfuse_fs *fs, struct dfuse_inode *ie, uint64_t nlookup, uint32_t ref)
{
	bool gone;

	pthread_mutex_lock(&fs->fs_lock);
	ie->in_nlookup = nlookup > ie->in_nlookup ? 0 : ie->in_nlookup - nlookup;
	ie->in_ref -= ref;
	gone = ie->in_nlookup == 0 && ie->in_ref == 0 && ie->in_ino != FUSE_ROOT_ID;
	if (gone)
		tab_unlink(fs, ie);
	pthread_mutex_unlock(&fs->fs_lock);
	if (gone)
		ie_free(ie);
}

static void
ie_put(struct dfuse_fs *fs, struct dfuse_inode *ie)
{
	ie_drop(fs, ie, 0, 1);
}

/* Undo one kernel lookup counted on @ino by ie_insert() that the kernel never received. */
static void
ie_unlookup(struct dfuse_fs *fs, fuse_ino_t ino)
{
	struct dfuse_inode *ie = ie_get(fs, ino);

	if (ie != NULL)
		ie_drop(fs, ie, 1, 1);
}

/*
 * Open file handles and dfuse's prefetch.
 *
 * A handle opened with direct_io (--disable-caching, or a read-only open with --direct-read)
 * has its reads answered by dfuse, without the kernel's page cache or read-ahead: the reply
 * is copied straight into the reader's buffer (one copy less per byte than through the page
 * cache), and dfuse reads ahead itself. A read that starts where the last one ended (not at
 * offset 0, and before the end of the file last seen) queues the DFUSE_PF_CHUNK chunks of
 * the next --prefetch-mib MiB that are not already held to the prefetch threads, which read
 * them with dfs_read into the handle's slots (allocated then, within DFUSE_PF_MEM_MAX for
 * all handles); a read covered by slots waits for them and is answered from them
 * (fuse_reply_iov). Anything else is a plain dfs_read. A write or truncation through this
 * mount changes the inode's in_wgen before and after it, which makes every slot read before
 * it stale.
 */
static void *dfuse_huge_alloc(size_t size, size_t populate);

static void
fh_free(struct dfuse_fh *fh)
{
	struct dfuse_fs *fs = fh->fh_fs;

	pthread_mutex_lock(&fh->fh_ie->in_stat_lock);
	if (fh->fh_writer)
		fh->fh_ie->in_writers--;
	if (fh->fh_dreader)
		fh->fh_ie->in_dreaders--;
	pthread_mutex_unlock(&fh->fh_ie->in_stat_lock);
	ie_put(fs, fh->fh_ie);
	pthread_mutex_destroy(&fh->fh_lock);
	pthread_cond_destroy(&fh->fh_cond);
	if (fh->fh_pf_mem != NULL)
		__atomic_sub_fetch(&fs->fs_pfq.pq_mem, (uint64_t)fh->fh_nslot * DFUSE_PF_CHUNK,
				   __ATOMIC_RELAXED);
	free(fh->fh_pf_mem);
	free(fh->fh_slots);
	free(fh);
}

/* Drop one reference of @fh; fh_lock held, released here. */
static void
fh_unref_locked(struct dfuse_fh *fh)
{
	bool last = --fh->fh_ref == 0;

	pthread_mutex_unlock(&fh->fh_lock);
	if (last)
		fh_free(fh);
}

/*
 * A handle for an open of @ie with open flags @flags, taking over the caller's reference
 * on @ie; sets fi->direct_io. NULL when out of memory (the reference is still the caller's).
 */
static struct dfuse_fh *
fh_new(struct dfuse_fs *fs, struct dfuse_inode *ie, struct fuse_file_info *fi)
{
	const struct dfuse_opts *o = fs->fs_opts;
	bool rdonly = (fi->flags & O_ACCMODE) == O_RDONLY;
	struct dfuse_fh *fh;

	fh = calloc(1, sizeof(*fh));
	if (fh == NULL)
		return NULL;
	fh->fh_fs = fs;
	fh->fh_ie = ie;
	fh->fh_ref = 1;
	fh->fh_eof = UINT64_MAX;
	pthread_mutex_init(&fh->fh_lock, NULL);
	pthread_cond_init(&fh->fh_cond, NULL);
	/*
	 * --direct-read: a read-only open is direct I/O unless a handle of this mount writes
	 * the file (its dirty pages would be invisible to it); and while direct readers exist,
	 * a writer is direct I/O too (write-through, so the readers see its data at once).
	 */
	pthread_mutex_lock(&ie->in_stat_lock);
	if (o->do_direct_io)
		fh->fh_direct = true;
	else if (o->do_direct_write && !rdonly)
		fh->fh_direct = true; /* --direct-write: no dirty pages anywhere */
	else if (o->do_direct_read && rdonly && (ie->in_writers == 0 || o->do_direct_write))
		fh->fh_direct = true;
	else if (o->do_direct_read && !rdonly && ie->in_dreaders > 0)
		fh->fh_direct = true;
	fh->fh_writer = !rdonly;
	fh->fh_dreader = rdonly && fh->fh_direct;
	fh->fh_wbehind = o->do_direct_write && !rdonly;
	if (fh->fh_writer)
		ie->in_writers++;
	if (fh->fh_dreader)
		ie->in_dreaders++;
	pthread_mutex_unlock(&ie->in_stat_lock);
	fi->fh = (uint64_t)(uintptr_t)fh;
	fi->direct_io = fh->fh_direct;
	return fh;
}

static struct dfuse_fh *
fh_of(struct fuse_file_info *fi)
{
	return (struct dfuse_fh *)(uintptr_t)fi->fh;
}

/* The handle is closed: its queued prefetches are skipped; the last reference frees it. */
static void
fh_close(struct dfuse_fh *fh)
{
	pthread_mutex_lock(&fh->fh_lock);
	fh->fh_closed = true;
	fh_unref_locked(fh);
}

static uint32_t
ie_wgen(struct dfuse_inode *ie)
{
	return __atomic_load_n(&ie->in_wgen, __ATOMIC_ACQUIRE);
}

/* Before and after a change of the file's data through this mount. */
static void
ie_wgen_bump(struct dfuse_inode *ie)
{
	__atomic_add_fetch(&ie->in_wgen, 1, __ATOMIC_ACQ_REL);
}

/*
 * Write-behind (--direct-write). A write of a writing handle is answered as soon as it is
 * entered in the inode's in_wb, then written with dfs_write from the worker's request
 * buffer, which the worker keeps until then (it serves no other request meanwhile; the
 * other workers take the next ones, so up to one write per worker is in flight). A small
 * write (under DFUSE_WB_SMALL) is instead copied into the inode's gather buffer (in_wg_*,
 * one per inode, DFUSE_WB_GATHER bytes) when it lands inside or right after the bytes
 * gathered so far; a gather is written as one write when a write does not fit it, or by
 * whatever must wait for the inode's writes. Rules:
 *  1. A write waits, before it is answered, until no write in flight overlaps it, and a
 *     gather it overlaps without fitting is written first, by the same thread: writes to
 *     the same bytes reach DAOS in the order the kernel sent them.
 *  2. Whatever reads or reports the file's data or size (read, getattr, setattr, lookup and
 *     readdirplus of a known inode, an O_TRUNC open, flush, fsync, release, the end of the
 *     session) first writes the inode's gather and waits for every write of the inode in
 *     flight (ie_wb_drain): the kernel answered those writes, so the answer must include
 *     them.
 *  3. The first error of a write written behind is kept in in_wb_err; the next flush (a
 *     close) or fsync of a writing handle returns it and clears it.
 * in_wb_n counts the writes in flight plus one for a gather holding bytes. The gather never
 * overlaps a write in flight (so whoever takes it may write it at once).
 */
static bool
ie_wb_busy(struct dfuse_inode *ie)
{
	return __atomic_load_n(&ie->in_wb_n, __ATOMIC_ACQUIRE) != 0;
}

/* Under in_wb_lock: enter @wi in the writes in flight (nothing in flight overlaps it). */
static void
ie_wb_push(struct dfuse_inode *ie, struct dfuse_wb_io *wi)
{
	wi->wi_seq = ++ie->in_wb_seq;
	wi->wi_next = ie->in_wb;
	ie->in_wb = wi;
	__atomic_add_fetch(&ie->in_wb_n, 1, __ATOMIC_RELEASE);
}

/*
 * Under in_wb_lock: the gather, if it holds bytes, becomes write @wi in flight; returns
 * its buffer (the caller writes it with wb_write and frees it) or NULL.
 */
static char *
ie_wg_take(struct dfuse_inode *ie, struct dfuse_wb_io *wi)
{
	char *buf = ie->in_wg_buf;

	if (ie->in_wg_len == 0)
		return NULL;
	wi->wi_off = ie->in_wg_off;
	wi->wi_end = ie->in_wg_off + ie->in_wg_len;
	ie->in_wg_buf = NULL;
	ie->in_wg_len = 0;
	__atomic_sub_fetch(&ie->in_wb_n, 1, __ATOMIC_RELEASE); /* the gather's count */
	ie_wb_push(ie, wi);
	return buf;
}

/* @wi was written with result @rc: out of the list, its error kept, waiters woken. */
static void
ie_wb_leave(struct dfuse_inode *ie, struct dfuse_wb_io *wi, int rc)
{
	struct dfuse_wb_io **pp;

	pthread_mutex_lock(&ie->in_wb_lock);
	for (pp = &ie->in_wb; *pp != wi; pp = &(*pp)->wi_next)
		;
	*pp = wi->wi_next;
	__atomic_sub_fetch(&ie->in_wb_n, 1, __ATOMIC_RELEASE);
	if (rc != 0 && ie->in_wb_err == 0)
		ie->in_wb_err = rc;
	pthread_cond_broadcast(&ie->in_wb_cond);
	pthread_mutex_unlock(&ie->in_wb_lock);
}

/*
 * Write @wi (entered in flight) from @buf to DAOS, then take it out of the writes in
 * flight. Context: a worker, without in_wb_lock; blocks in dfs_write.
 */
static void
wb_write(struct dfuse_fs *fs, struct dfuse_inode *ie, struct dfuse_wb_io *wi, const char *buf)
{
	size_t size = wi->wi_end - wi->wi_off;
	d_sg_list_t sgl;
	d_iov_t iov;
	uint64_t n;
	int rc;

	d_iov_set(&iov, (void *)buf, size);
	sgl = (d_sg_list_t){.sg_nr = 1, .sg_iovs = &iov};
	n = __atomic_add_fetch(&fs->fs_wb_count, 1, __ATOMIC_RELAXED);
	if (fs->fs_wb_delay_ms != 0)
		usleep(fs->fs_wb_delay_ms * 1000U); /* DFUSE_FAULT_WB_DELAY_MS: a slow engine */
	if (n == fs->fs_wb_fail_at)
		rc = EIO; /* DFUSE_FAULT_WB_EIO: the error path, for tests */
	else
		rc = err_of(dfs_write(fs->fs_dfs, ie->in_obj, &sgl, (daos_off_t)wi->wi_off, NULL));
	ie_wgen_bump(ie);
	if (rc != 0)
		fprintf(stderr, "dfuse: write behind of %zu bytes at %ju of inode %ju: %s\n", size,
			(uintmax_t)wi->wi_off, (uintmax_t)ie->in_ino, strerror(rc));
	ie_wb_leave(ie, wi, rc);
}

/* Under in_wb_lock: is a write entered in flight at or before @seq still in flight? */
static bool
ie_wb_before(struct dfuse_inode *ie, uint64_t seq)
{
	struct dfuse_wb_io *o;

	for (o = ie->in_wb; o != NULL; o = o->wi_next)
		if (o->wi_seq <= seq)
			return true;
	return false;
}

/*
 * Write @ie's gather, if any, and wait until no write of @ie entered in flight before the
 * call is in flight (rule 2). Writes entered later are not waited for: a writer streaming
 * through other handles keeps in_wb non-empty, and a stat must not wait for it to stop.
 */
static void
ie_wb_drain(struct dfuse_fs *fs, struct dfuse_inode *ie)
{
	struct dfuse_wb_io wi;
	uint64_t seq;
	char *buf;

	if (!ie_wb_busy(ie))
		return;
	pthread_mutex_lock(&ie->in_wb_lock);
	buf = ie_wg_take(ie, &wi);
	seq = ie->in_wb_seq;
	pthread_mutex_unlock(&ie->in_wb_lock);
	if (buf != NULL) {
		wb_write(fs, ie, &wi, buf);
		free(buf);
	}
	pthread_mutex_lock(&ie->in_wb_lock);
	while (ie_wb_before(ie, seq))
		pthread_cond_wait(&ie->in_wb_cond, &ie->in_wb_lock);
	pthread_mutex_unlock(&ie->in_wb_lock);
}

/* ie_wb_drain, then the error kept since the last call (0 if none), cleared (rule 3). */
static int
ie_wb_drain_err(struct dfuse_fs *fs, struct dfuse_inode *ie)
{
	int rc;

	ie_wb_drain(fs, ie);
	pthread_mutex_lock(&ie->in_wb_lock);
	rc = ie->in_wb_err;
	ie->in_wb_err = 0;
	pthread_mutex_unlock(&ie->in_wb_lock);
	return rc;
}

/* A slot holding (or about to hold) chunk @coff read at generation @gen; fh_lock held. */
static struct dfuse_pf_slot *
pf_find(struct dfuse_fh *fh, uint64_t coff, uint32_t gen)
{
	unsigned i;

	for (i = 0; i < fh->fh_nslot; i++) {
		struct dfuse_pf_slot *ps = &fh->fh_slots[i];

		if (ps->ps_state != PF_EMPTY && ps->ps_off == coff && ps->ps_gen == gen &&
		    !(ps->ps_state == PF_READY && ps->ps_rc != 0))
			return ps;
	}
	return NULL;
}

/*
 * Queue the chunks of [@from, @from + the prefetch window) not yet held, into slots free
 * for reuse (empty, failed, stale, or wholly before @from and not being copied from).
 * fh_lock held.
 */
static void
pf_issue(struct dfuse_fh *fh, uint64_t from, uint32_t gen)
{
	struct dfuse_fs *fs = fh->fh_fs;
	struct dfuse_pfq *pq = &fs->fs_pfq;
	uint64_t end = from + (uint64_t)fs->fs_opts->do_pf_mib * DFUSE_PF_CHUNK;
	uint64_t coff;
	unsigned i;

	if (pq->pq_nthr == 0 || fh->fh_closed)
		return;
	if (fh->fh_eof_gen == gen && from >= fh->fh_eof)
		return; /* at or past the end of the file seen last */
	if (fh->fh_slots == NULL) {
		uint64_t len = (uint64_t)(fs->fs_opts->do_pf_mib + 1) * DFUSE_PF_CHUNK;

		if (__atomic_add_fetch(&pq->pq_mem, len, __ATOMIC_RELAXED) > DFUSE_PF_MEM_MAX) {
			__atomic_sub_fetch(&pq->pq_mem, len, __ATOMIC_RELAXED);
			return; /* other handles hold the budget: read without prefetch */
		}
		fh->fh_nslot = fs->fs_opts->do_pf_mib + 1;
		fh->fh_slots = calloc(fh->fh_nslot, sizeof(*fh->fh_slots));
		fh->fh_pf_mem = dfuse_huge_alloc(len, 0);
		if (fh->fh_slots == NULL || fh->fh_pf_mem == NULL) {
			__atomic_sub_fetch(&pq->pq_mem, len, __ATOMIC_RELAXED);
			free(fh->fh_slots);
			free(fh->fh_pf_mem);
			fh->fh_slots = NULL;
			fh->fh_pf_mem = NULL;
			fh->fh_nslot = 0;
			return;
		}
		for (i = 0; i < fh->fh_nslot; i++) {
			fh->fh_slots[i].ps_fh = fh;
			fh->fh_slots[i].ps_buf = fh->fh_pf_mem + (size_t)i * DFUSE_PF_CHUNK;
		}
	}
	if (fh->fh_eof_gen == gen && end > fh->fh_eof)
		end = fh->fh_eof;
	for (coff = from / DFUSE_PF_CHUNK * DFUSE_PF_CHUNK; coff < end; coff += DFUSE_PF_CHUNK) {
		struct dfuse_pf_slot *ps = NULL;

		if (pf_find(fh, coff, gen) != NULL)
			continue;
		for (i = 0; i < fh->fh_nslot && ps == NULL; i++) {
			struct dfuse_pf_slot *c = &fh->fh_slots[i];

			if (c->ps_state == PF_EMPTY ||
			    (c->ps_state == PF_READY && c->ps_users == 0 &&
			     (c->ps_rc != 0 || c->ps_gen != gen ||
			      c->ps_off + DFUSE_PF_CHUNK <= from || c->ps_off >= end)))
				ps = c;
		}
		if (ps == NULL)
			return; /* every slot is in use: the reader catches up first */
		ps->ps_state = PF_QUEUED;
		ps->ps_off = coff;
		ps->ps_gen = gen;
		ps->ps_got = 0;
		ps->ps_rc = 0;
		ps->ps_qnext = NULL;
		fh->fh_ref++;
		pthread_mutex_lock(&pq->pq_lock);
		if (pq->pq_tail != NULL)
			pq->pq_tail->ps_qnext = ps;
		else
			pq->pq_head = ps;
		pq->pq_tail = ps;
		pthread_cond_signal(&pq->pq_cond);
		pthread_mutex_unlock(&pq->pq_lock);
	}
}

/* A prefetch thread: read the queued chunks, in order, until dfuse_pf_stop. */
static void *
pf_run(void *arg)
{
	struct dfuse_fs *fs = arg;
	struct dfuse_pfq *pq = &fs->fs_pfq;

	pthread_mutex_lock(&pq->pq_lock);
	for (;;) {
		struct dfuse_pf_slot *ps;
		struct dfuse_fh *fh;
		daos_size_t got = 0;
		d_sg_list_t sgl;
		d_iov_t iov;
		bool skip;
		int rc = ECANCELED;

		while (pq->pq_head == NULL && !pq->pq_stop)
			pthread_cond_wait(&pq->pq_cond, &pq->pq_lock);
		ps = pq->pq_head;
		if (ps == NULL)
			break;
		pq->pq_head = ps->ps_qnext;
		if (pq->pq_head == NULL)
			pq->pq_tail = NULL;
		pthread_mutex_unlock(&pq->pq_lock);

		fh = ps->ps_fh;
		pthread_mutex_lock(&fh->fh_lock);
		skip = fh->fh_closed || __atomic_load_n(&pq->pq_stop, __ATOMIC_RELAXED) ||
		       ps->ps_gen != ie_wgen(fh->fh_ie);
		ps->ps_state = PF_BUSY;
		pthread_mutex_unlock(&fh->fh_lock);
		if (!skip) {
			__atomic_add_fetch(&pq->pq_chunks, 1, __ATOMIC_RELAXED);
			d_iov_set(&iov, ps->ps_buf, DFUSE_PF_CHUNK);
			sgl = (d_sg_list_t){.sg_nr = 1, .sg_iovs = &iov};
			rc = dfs_read(fs->fs_dfs, fh->fh_ie->in_obj, &sgl, ps->ps_off, &got, NULL);
		}
		pthread_mutex_lock(&fh->fh_lock);
		ps->ps_rc = rc;
		ps->ps_got = rc == 0 ? (got > DFUSE_PF_CHUNK ? DFUSE_PF_CHUNK : got) : 0;
		ps->ps_state = PF_READY;
		if (rc == 0 && ps->ps_got < DFUSE_PF_CHUNK &&
		    (fh->fh_eof_gen != ps->ps_gen || ps->ps_off + ps->ps_got < fh->fh_eof)) {
			fh->fh_eof = ps->ps_off + ps->ps_got;
			fh->fh_eof_gen = ps->ps_gen;
		}
		pthread_cond_broadcast(&fh->fh_cond);
		fh_unref_locked(fh);
		pthread_mutex_lock(&pq->pq_lock);
	}
	pthread_mutex_unlock(&pq->pq_lock);
	return NULL;
}

/* Start the prefetch threads when some handle can be direct I/O (signals blocked). */
static void
dfuse_pf_start(struct dfuse_fs *fs)
{
	const struct dfuse_opts *o = fs->fs_opts;
	struct dfuse_pfq *pq = &fs->fs_pfq;
	sigset_t all, old;
	unsigned i, n;

	pthread_mutex_init(&pq->pq_lock, NULL);
	pthread_cond_init(&pq->pq_cond, NULL);
	if (o->do_pf_mib == 0 || !(o->do_direct_io || o->do_direct_read))
		return;
	n = o->do_pf_mib < DFUSE_PF_THREADS ? o->do_pf_mib : DFUSE_PF_THREADS;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (i = 0; i < n; i++) {
		if (pthread_create(&pq->pq_thr[i], NULL, pf_run, fs) != 0)
			break;
		pq->pq_nthr++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (pq->pq_nthr < n)
		fprintf(stderr, "dfuse: %u of %u prefetch threads started\n", pq->pq_nthr, n);
}

/* After the session: the threads skip what is still queued and end. */
static void
dfuse_pf_stop(struct dfuse_fs *fs)
{
	struct dfuse_pfq *pq = &fs->fs_pfq;
	unsigned i;

	pthread_mutex_lock(&pq->pq_lock);
	__atomic_store_n(&pq->pq_stop, true, __ATOMIC_RELAXED);
	pthread_cond_broadcast(&pq->pq_cond);
	pthread_mutex_unlock(&pq->pq_lock);
	for (i = 0; i < pq->pq_nthr; i++)
		pthread_join(pq->pq_thr[i], NULL);
	if (pq->pq_nthr > 0)
		fprintf(stderr,
			"dfuse: prefetch: %" PRIu64 " reads answered from it, %" PRIu64
			" chunks read ahead, %" PRIu64 " found stale\n",
			pq->pq_hits, pq->pq_chunks, pq->pq_stale);
	pq->pq_nthr = 0;
	pthread_cond_destroy(&pq->pq_cond);
	pthread_mutex_destroy(&pq->pq_lock);
}

/*
 * A read of a direct-I/O handle: answered from prefetched slots if they cover it (true),
 * else false and the caller reads. Either way a sequential read queues what follows.
 */
static bool
pf_read(fuse_req_t req, struct dfuse_fh *fh, size_t size, off_t off)
{
	struct dfuse_pf_slot *used[3];
	struct iovec iov[3];
	uint32_t gen = ie_wgen(fh->fh_ie);
	uint64_t pos = (uint64_t)off;
	uint64_t end = pos + size;
	unsigned nv = 0, i;
	bool seq, eof = false, ok = true;

	pthread_mutex_lock(&fh->fh_lock);
	/*
	 * A read continuing the last one: not the first read of a handle (a small file read
	 * whole by its first read and one at its end must not cost slots, nor a chunk read)
	 */
	seq = pos > 0 && pos == fh->fh_next;
	fh->fh_next = end;
	if (!seq && fh->fh_slots == NULL) {
		pthread_mutex_unlock(&fh->fh_lock);
		return false;
	}
	if (seq)
		pf_issue(fh, pos, gen);
	while (pos < end && nv < 3) {
		uint64_t coff = pos / DFUSE_PF_CHUNK * DFUSE_PF_CHUNK;
		struct dfuse_pf_slot *ps = pf_find(fh, coff, gen);
		uint64_t take;

		if (ps == NULL)
			break;
		ps->ps_users++;
		used[nv] = ps;
		while (ps->ps_state != PF_READY)
			pthread_cond_wait(&fh->fh_cond, &fh->fh_lock);
		if (ps->ps_rc != 0 || ps->ps_gen != ie_wgen(fh->fh_ie)) {
			if (ps->ps_rc == 0 || ps->ps_rc == ECANCELED)
				__atomic_add_fetch(&fh->fh_fs->fs_pfq.pq_stale, 1,
						   __ATOMIC_RELAXED);
			nv++;
			ok = false;
			break;
		}
		iov[nv].iov_base = ps->ps_buf + (pos - coff);
		take = ps->ps_got > pos - coff ? ps->ps_got - (pos - coff) : 0;
		if (take > end - pos)
			take = end - pos;
		iov[nv].iov_len = take;
		nv++;
		pos += take;
		if (ps->ps_got < DFUSE_PF_CHUNK && pos < end) {
			eof = true; /* a short chunk: the end of the file */
			break;
		}
	}
	if (pos < end && !eof)
		ok = false;
	pthread_mutex_unlock(&fh->fh_lock);
	if (ok) {
		__atomic_add_fetch(&fh->fh_fs->fs_pfq.pq_hits, 1, __ATOMIC_RELAXED);
		fuse_reply_iov(req, iov, (int)nv);
	}
	pthread_mutex_lock(&fh->fh_lock);
	for (i = 0; i < nv; i++)
		used[i]->ps_users--;
	pthread_mutex_unlock(&fh->fh_lock);
	return ok;
}

/* After a plain read of @got bytes at @off for @size: note the end of the file it saw. */
static void
pf_read_done(struct dfuse_fh *fh, off_t off, size_t size, size_t got, uint32_t gen)
{
	if (got >= size)
		return;
	pthread_mutex_lock(&fh->fh_lock);
	if (gen == ie_wgen(fh->fh_ie)) {
		fh->fh_eof = (uint64_t)off + got;
		fh->fh_eof_gen = gen;
	}
	pthread_mutex_unlock(&fh->fh_lock);
}

static void
ie_stat_save(struct dfuse_inode *ie, const struct stat *st)
{
	pthread_mutex_lock(&ie->in_stat_lock);
	ie->in_stat = *st;
	pthread_mutex_unlock(&ie->in_stat_lock);
}

/*
 * Point @ie's object at its entry @parent_ie/@name after a rename: open the entry afresh and
 * copy where it lives (dfs_update_parent). Best effort: on failure the next stat says ENOENT.
 */
static void
ie_relocate(struct dfuse_fs *fs, struct dfuse_inode *ie, struct dfuse_inode *parent_ie,
	    const char *name)
{
	dfs_obj_t *fresh;
	int rc;

	rc = dfs_lookup_rel(fs->fs_dfs, parent_ie->in_obj, name, O_RDONLY | O_NOFOLLOW, &fresh,
			    NULL, NULL);
	if (rc != 0)
		return;
	pthread_rwlock_wrlock(&ie->in_lock);
	dfs_update_parent(ie->in_obj, fresh, name);
	pthread_rwlock_unlock(&ie->in_lock);
	dfs_release(fresh);
}

/*
 * Under fs_lock: the ino of object @oid (zero: a symbolic link) found at @parent/@name: that
 * of its inode in *@iep if known, else the first free number from its hash (*@iep NULL).
 */
static fuse_ino_t
tab_probe(struct dfuse_fs *fs, fuse_ino_t parent, const char *name, daos_obj_id_t oid,
	  struct dfuse_inode **iep)
{
	struct dfuse_inode *ie;
	fuse_ino_t ino;

	if (oid_is_zero(oid))
		ino = name_hash(parent, name);
	else
		ino = mix64(oid.lo ^ mix64(oid.hi));
	if (ino == 0 || ino == FUSE_ROOT_ID)
		ino = ino_next(ino);
	for (;; ino = ino_next(ino)) {
		ie = tab_find(fs, ino);
		if (ie == NULL)
			break;
		if (oid_is_zero(oid) ? (oid_is_zero(ie->in_oid) && ie->in_parent == parent &&
					strcmp(ie->in_name, name) == 0)
				     : (ie->in_oid.lo == oid.lo && ie->in_oid.hi == oid.hi))
			break;
	}
	*iep = ie;
	return ino;
}

/*
 * Enter @obj, found as @parent_ie/@name with attributes @st, in the table and count one
 * kernel lookup on it; its ino in st->st_ino. @obj is consumed (kept, or released if the
 * object is already known).
 */
static int
ie_insert(struct dfuse_fs *fs, struct dfuse_inode *parent_ie, const char *name, dfs_obj_t *obj,
	  struct stat *st)
{
	struct dfuse_inode *ie;
	struct dfuse_inode *nie;
	daos_obj_id_t oid;
	fuse_ino_t ino;
	bool moved = false;

	dfs_obj2id(obj, &oid);
	nie = calloc(1, sizeof(*nie));
	if (nie == NULL) {
		dfs_release(obj);
		return ENOMEM;
	}
	pthread_mutex_lock(&fs->fs_lock);
	ino = tab_probe(fs, parent_ie->in_ino, name, oid, &ie);
	if (ie != NULL) {
		/* known: the kernel's inode gets the entry where we found it now */
		moved = ie->in_parent != parent_ie->in_ino || strcmp(ie->in_name, name) != 0;
		ie->in_parent = parent_ie->in_ino;
		snprintf(ie->in_name, sizeof(ie->in_name), "%s", name);
		ie->in_nlookup++;
		ie->in_ref++;
		pthread_mutex_unlock(&fs->fs_lock);
		free(nie);
		if (moved) {
			pthread_rwlock_wrlock(&ie->in_lock);
			dfs_update_parent(ie->in_obj, obj, name);
			pthread_rwlock_unlock(&ie->in_lock);
		}
		dfs_release(obj);
		if (ie_wb_busy(ie)) {
			/* @st may predate writes the kernel was answered (write-behind, rule 2) */
			ie_wb_drain(fs, ie);
			pthread_rwlock_rdlock(&ie->in_lock);
			(void)dfs_ostat(fs->fs_dfs, ie->in_obj, st); /* on failure: as looked up */
			pthread_rwlock_unlock(&ie->in_lock);
		}
		st->st_ino = ino;
		ie_stat_save(ie, st);
		ie_put(fs, ie);
		return 0;
	}
	nie->in_ino = ino;
	nie->in_oid = oid;
	nie->in_obj = obj;
	nie->in_parent = parent_ie->in_ino;
	snprintf(nie->in_name, sizeof(nie->in_name), "%s", name);
	nie->in_nlookup = 1;
	pthread_rwlock_init(&nie->in_lock, NULL);
	pthread_mutex_init(&nie->in_stat_lock, NULL);
	pthread_mutex_init(&nie->in_wb_lock, NULL);
	pthread_cond_init(&nie->in_wb_cond, NULL);
	st->st_ino = ino;
	nie->in_stat = *st;
	nie->in_next = fs->fs_buckets[ino % DFUSE_NBUCKETS];
	fs->fs_buckets[ino % DFUSE_NBUCKETS] = nie;
	pthread_mutex_unlock(&fs->fs_lock);
	return 0;
}

/* Forget that @parent/@name exists: an inode still open there keeps its last attributes. */
static void
ie_unlinked(struct dfuse_fs *fs, fuse_ino_t parent, const char *name)
{
	struct dfuse_inode *ie;

	pthread_mutex_lock(&fs->fs_lock);
	ie = tab_find_entry(fs, parent, name);
	if (ie != NULL)
		ie->in_name[0] = '\0';
	pthread_mutex_unlock(&fs->fs_lock);
}

/*
 * --direct-write: before @parent/@name is removed or replaced, the writes behind of the
 * known inode it names, if any, are written (ie_wb_drain): libdfs punches the object on
 * remove, and a write landing after the punch would leave data in an object no name
 * reaches. Scans the table (tab_find_entry), so only with the option.
 */
static void
ie_wb_drain_entry(struct dfuse_fs *fs, fuse_ino_t parent, const char *name)
{
	struct dfuse_inode *ie;

	if (!fs->fs_opts->do_direct_write)
		return;
	pthread_mutex_lock(&fs->fs_lock);
	ie = tab_find_entry(fs, parent, name);
	if (ie != NULL && ie_wb_busy(ie))
		ie->in_ref++;
	else
		ie = NULL;
	pthread_mutex_unlock(&fs->fs_lock);
	if (ie == NULL)
		return;
	ie_wb_drain(fs, ie);
	ie_put(fs, ie);
}

static void
entry_fill(struct dfuse_fs *fs, struct fuse_entry_param *e, const struct stat *st)
{
	memset(e, 0, sizeof(*e));
	e->ino = st->st_ino;
	e->attr = *st;
	e->attr_timeout = fs->fs_opts->do_attr_to;
	/* directories are looked up on every path walk below them: kept longer (as DAOS) */
	e->entry_timeout =
	    S_ISDIR(st->st_mode) ? fs->fs_opts->do_dentry_dir_to : fs->fs_opts->do_dentry_to;
}

/* Reply with the entry of freshly opened @obj (consumed) at @parent_ie/@name, attributes @st. */
static void
reply_obj_entry(fuse_req_t req, struct dfuse_inode *parent_ie, const char *name, dfs_obj_t *obj,
		struct stat *st)
{
	struct dfuse_fs *fs = fs_of(req);
	struct fuse_entry_param e;
	int rc;

	rc = ie_insert(fs, parent_ie, name, obj, st);
	if (rc != 0) {
		fuse_reply_err(req, err_of(rc));
		return;
	}
	entry_fill(fs, &e, st);
	if (fuse_reply_entry(req, &e) != 0)
		ie_unlookup(fs, e.ino); /* the kernel never saw it */
}

static void
dfuse_init_cb(void *userdata, struct fuse_conn_info *conn)
{
	struct dfuse_fs *fs = userdata;

	/* always readdirplus: a listing is followed by stats anyway, and it fills the table */
	if (conn->capable & FUSE_CAP_READDIRPLUS)
		conn->want |= FUSE_CAP_READDIRPLUS;
	conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
	if (conn->capable & FUSE_CAP_PARALLEL_DIROPS)
		conn->want |= FUSE_CAP_PARALLEL_DIROPS;
	/* O_TRUNC comes with open (handled there) rather than as a separate setattr */
	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
	/* several reads of one file at once (the kernel's read-ahead is asynchronous) */
	if (conn->capable & FUSE_CAP_ASYNC_READ)
		conn->want |= FUSE_CAP_ASYNC_READ;
	if (fs->fs_opts->do_wb_cache && (conn->capable & FUSE_CAP_WRITEBACK_CACHE))
		conn->want |= FUSE_CAP_WRITEBACK_CACHE;
	else
		conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
	/* 1 MiB requests (the kernel's max_pages follows max_write), no read limit */
	conn->max_write = DFUSE_MAX_IO;
	conn->max_read = 0;
	/*
	 * The kernel keeps the smaller of this and the mount's read-ahead when the reply
	 * arrives; dfuse_set_readahead raised the latter before the session loop started.
	 */
	if (fs->fs_opts->do_ra_kib > 0 && !fs->fs_opts->do_direct_io)
		conn->max_readahead = fs->fs_opts->do_ra_kib * 1024;
	/* read-ahead and write-back requests in flight: enough to keep every worker busy */
	conn->max_background = DFUSE_MAX_BACKGROUND;
	conn->congestion_threshold = DFUSE_MAX_BACKGROUND * 3 / 4;
}

static void
dfuse_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct dfuse_fs *fs = fs_of(req);
	struct dfuse_inode *pie;
	struct fuse_entry_param e;
	dfs_obj_t *obj;
	struct stat st;
	int rc;

	pie = ie_get_req(req, fs, parent);
	if (pie == NULL)
		return;
	rc = name_check(name);
	if (rc == 0)
		rc = dfs_lookup_rel(fs->fs_dfs, pie->in_obj, name, fs->fs_oflags | O_NOFOLLOW, &obj,
				    NULL, &st);
	if (rc == ENOENT && fs->fs_opts->do_ndentry_to > 0) {
		/* a negative entry the kernel may cache */
		memset(&e, 0, sizeof(e));
		e.entry_timeout = fs->fs_opts->do_ndentry_to;
		fuse_reply_entry(req, &e);
	} else if (rc != 0) {
		fuse_reply_err(req, err_of(rc));
	} else {
		rc = ie_insert(fs, pie, name, obj, &st);
		if (rc != 0) {
			fuse_reply_err(req, rc);
		} else {
			entry_fill(fs, &e, &st);
			if (fuse_reply_entry(req, &e) != 0)
				ie_unlookup(fs, e.ino);
		}
	}
	ie_put(fs, pie);
}

static void
dfuse_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	struct dfuse_fs *fs = fs_of(req);
	struct dfuse_inode *ie = ie_get(fs, ino);

	if (ie != NULL)
		ie_drop(fs, ie, nlookup, 1);
	fuse_reply_none(req);
}

static void
dfuse_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	struct dfuse_fs *fs = fs_of(req);
	size_t i;

	for (i = 0; i < count; i++) {
		struct dfuse_inode *ie = ie_get(fs, forgets[i].ino);

		if (ie != NULL)
			ie_drop(fs, ie, forgets[i].nlookup, 1);
	}
	fuse_reply_none(req);
}

/* Attributes of @ie; an unlinked inode still open keeps its last ones (nlink 0). */
/* Whether @ie's entry was removed or replaced (it is still open or known). */
static bool
ie_is_unlinked(struct dfuse_fs *fs, struct dfuse_inode *ie)
{
	bool unlinked;

	pthread_mutex_lock(&fs->fs_lock);
	unlinked = ie->in_name[0] == '\0' && ie->in_ino != FUSE_ROOT_ID;
	pthread_mutex_unlock(&fs->fs_lock);
	return unlinked;
}

static int
ie_stat(struct dfuse_fs *fs, struct dfuse_inode *ie, struct stat *st)
{
	int rc;

	pthread_rwlock_rdlock(&ie->in_lock);
	rc = dfs_ostat(fs->fs_dfs, ie->in_obj, st);
	pthread_rwlock_unlock(&ie->in_lock);
	if (rc == 0) {
		st->st_ino = ie->in_ino;
		ie_stat_save(ie, st);
		return 0;
	}
	if (rc == ENOENT && ie_is_unlinked(fs, ie)) {
		pthread_mutex_lock(&ie->in_stat_lock);
		*st = ie->in_stat;
		pthread_mutex_unlock(&ie->in_stat_lock);
		st->st_nlink = 0;
		return 0;
	}
	return rc;
}

/* @m without setuid, and without setgid if group-executable (the VFS's rule) */
static mode_t
mode_killed(mode_t m)
{
	m &= ~(mode_t)S_ISUID;
	if ((m & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP))
		m &= ~(mode_t)S_ISGID;
	return m;
}

/*
 * FUSE_HANDLE_KILLPRIV_V2 (dfuse_kio.c): the kernel leaves clearing setuid/setgid to the
 * daemon. Clear them in the object whose attributes @st (fresh, or NULL: the last seen) says
 * has them; under in_lock for reading. @st is updated; with @inval the kernel's cached
 * attributes are invalidated (a write or an open does not reply with attributes).
 */
static int
obj_kill_suidgid(struct dfuse_fs *fs, struct dfuse_inode *ie, struct stat *st, bool inval)
{
	struct stat cur;
	int rc;

	if (st == NULL) {
		pthread_mutex_lock(&ie->in_stat_lock);
		cur = ie->in_stat;
		pthread_mutex_unlock(&ie->in_stat_lock);
		/* the kernel's view is the same last attributes: nothing set, nothing to do */
		if (!S_ISREG(cur.st_mode) || mode_killed(cur.st_mode) == cur.st_mode)
			return 0;
		rc = dfs_ostat(fs->fs_dfs, ie->in_obj, &cur);
		if (rc != 0)
			return rc;
		st = &cur;
	}
	if (!S_ISREG(st->st_mode) || mode_killed(st->st_mode) == st->st_mode)
		return 0;
	st->st_mode = mode_killed(st->st_mode);
	rc = dfs_osetattr(fs->fs_dfs, ie->in_obj, st, DFS_SET_ATTR_MODE);
	if (rc == 0) {
		st->st_ino = ie->in_ino;
		ie_stat_save(ie, st);
		/* attributes only (offset < 0); no lock the request being served holds */
		if (inval)
			(void)fuse_lowlevel_notify_inval_inode(fs->fs_se, ie->in_ino, -1, 0);
	}
	return rc;
}

static void
dfuse_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct dfuse_fs *fs = fs_of(req);
	struct dfuse_inode *ie;
	struct stat st;
	int rc;

	(void)fi;
	ie = ie_get_req(req, fs, ino);
	if (ie == NULL)
		return;
	ie_wb_drain(fs, ie);
	rc = ie_stat(fs, ie, &st);
	if (rc == 0)
		fuse_reply_attr(req, &st, fs->fs_opts->do_attr_to);
	else
		fuse_reply_err(req, err_of(rc));
	ie_put(fs, ie);
}

static void
now_ts(struct timespec *ts)
{
	clock_gettime(CLOCK_REALTIME, ts);
}

static void
dfuse_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
	      struct fuse_file_info *fi)
{
	struct dfuse_fs *fs = fs_of(req);
	struct dfuse_inode *ie;
	struct stat st = *attr;
	int flags = 0;
	int rc;

	(void)fi;
	ie = ie_get_req(req, fs, ino);
	if (ie == NULL)
		return;
	if (to_set & FUSE_SET_ATTR_MODE)
		flags |= DFS_SET_ATTR_MODE;
	if (to_set & FUSE_SET_ATTR_UID)
		flags |= DFS_SET_ATTR_UID;
	if (to_set & FUSE_SET_ATTR_GID)
		flags |= DFS_SET_ATTR_GID;
	if (to_set & FUSE_SET_ATTR_SIZE)
		flags |= DFS_SET_ATTR_SIZE;
	if (to_set & FUSE_SET_ATTR_ATIME) {
		flags |= DFS_SET_ATTR_ATIME;
		if (to_set & FUSE_SET_ATTR_ATIME_NOW)
			now_ts(&st.st_atim);
	}
	if (to_set & FUSE_SET_ATTR_MTIME) {
		flags |= DFS_SET_ATTR_MTIME;
		if (to_set & FUSE_SET_ATTR_MTIME_NOW)
			now_ts(&st.st_mtim);
	}
	ie_wb_drain(fs, ie);
	if (flags & DFS_SET_ATTR_SIZE)
		ie_wgen_bump(ie);
	pthread_rwlock_rdlock(&ie->in_lock);
	if (flags != 0)
		rc = dfs_osetattr(fs->fs_dfs, ie->in_obj, &st, flags);
	else
		rc = dfs_ostat(fs->fs_dfs, ie->in_obj, &st); /* ctime alone: nothing to keep */
	/*
	 * KILLPRIV_V2: a chown clears setuid/setgid (whoever asks), a truncation when the
	 * kernel says so (a caller without CAP_FSETID); the kernel no longer sends the mode
	 */
	if (rc == 0 && dfuse_kio_v2() &&
	    ((flags & (DFS_SET_ATTR_UID | DFS_SET_ATTR_GID)) ||
	     ((flags & DFS_SET_ATTR_SIZE) && dfuse_kio_kill())))
		rc = obj_kill_suidgid(fs, ie, &st, false); /* the reply has the attributes */
	pthread_rwlock_unlock(&ie->in_lock);
	if (flags & DFS_SET_ATTR_SIZE)
		ie_wgen_bump(ie);
	if (rc == ENOENT && ie_is_unlinked(fs, ie)) {
		/*
		 * The entry is gone (an open, unlinked file): keep what was set in the last
		 * attributes seen. The kernel's write-back cache sends the times of such a
		 * file when it is closed; failing that would fail close().
		 */
		pthread_mutex_lock(&ie->in_stat_lock);
		if (flags & DFS_SET_ATTR_MODE)
			ie->in_stat.st_mode =
			    (ie->in_stat.st_mode & S_IFMT) | (st.st_mode & ~S_IFMT);
		if (flags & DFS_SET_ATTR_UID)
			ie->in_stat.st_uid = st.st_uid;
		if (flags & DFS_SET_ATTR_GID)
			ie->in_stat.st_gid = st.st_gid;
		if (flags & DFS_SET_ATTR_SIZE)
			ie->in_stat.st_size = st.st_size;
		if (flags & DFS_SET_ATTR_ATIME)
			ie->in_stat.st_atim = st.st_atim;
		if (flags & DFS_SET_ATTR_MTIME)
			ie->in_stat.st_mtim = st.st_mtim;
		st = ie->in_stat;
		pthread_mutex_unlock(&ie->in_stat_lock);
		st.st_nlink = 0;
		rc = 0;
	}
	if (rc == 0) {
		st.st_ino = ino;
		ie_stat_save(ie, &st);
		fuse_reply_attr(req, &st, fs->fs_opts->do_attr_to);
	} else {
		fuse_reply_err(req, err_of(rc));
	}
	ie_put(fs, ie);
}

static void
dfuse_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct dfuse_fs *fs = fs_of(req);
	struct dfuse_inode *ie;
	char buf[DFS_MAX_PATH + 1];
	daos_size_t size = sizeof(buf);
	int rc;

	ie = ie_get_req(req, fs, ino);
	if (ie == NULL)
		return;
	rc = dfs_get_symlink_value(ie->in_obj, buf, &size);
	if (rc == 0 && size > sizeof(buf))
		rc = ENAMETOOLONG;
	if (rc == 0)
		fuse_reply_readlink(req, buf);
	else
		fuse_reply_err(req, err_of(rc));
	ie_put(fs, ie);
}

/*
 * Create @name in @parent: a kind from @mode, @value the target of a symbolic link. One
 * round trip (dfs_open_stat: the conditional insert, whose entry is the reply's attributes);
 * an existing file opened by a create without O_EXCL adds its fetch and size query.
 */
static void
entry_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, const char *value,
	     struct fuse_file_info *fi)
{
	struct dfuse_fs *fs = fs_of(req);
	struct dfuse_inode *pie, *cie;
	struct fuse_entry_param e;
	struct stat st;
	dfs_obj_t *obj;
	int flags = O_RDWR | O_CREAT | O_EXCL;
	int rc;

	pie = ie_get_req(req, fs, parent);
	if (pie == NULL)
		return;
	if (fi != NULL && !(fi->flags & O_EXCL))
		flags &= ~O_EXCL;
	rc = name_check(name);
	if (rc == 0) {
		/* new entries belong to the daemon's user (no multi-user mode) */
		memset(&st, 0, sizeof(st));
		st.st_uid = geteuid();
		st.st_gid = getegid();
		rc = dfs_open_stat(fs->fs_dfs, pie->in_obj, name, mode, flags, 0, 0, value, &obj,
				   &st);
	}
	if (rc != 0) {
		fuse_reply_err(req, err_of(rc));
		goto out;
	}
	if (fi == NULL) {
		reply_obj_entry(req, pie, name, obj, &st);
		goto out;
	}
	if ((fi->flags & O_TRUNC) && st.st_size > 0) {
		st.st_size = 0;
		rc = dfs_osetattr(fs->fs_dfs, obj, &st, DFS_SET_ATTR_SIZE);
		/*
		 * KILLPRIV_V2 (FUSE_OPEN_KILL_SUIDGID): the file existed (it had data; a new one
		 * keeps the mode it was created with)
		 */
		if (rc == 0 && dfuse_kio_kill() && mode_killed(st.st_mode) != st.st_mode) {
			st.st_mode = mode_killed(st.st_mode);
			rc = dfs_osetattr(fs->fs_dfs, obj, &st, DFS_SET_ATTR_MODE);
		}
	}
	if (rc == 0)
		rc = ie_insert(fs, pie, name, obj, &st);
	else
		dfs_release(obj);
	if (rc != 0) {
		fuse_reply_err(req, err_of(rc));
		goto out;
	}
	entry_fill(fs, &e, &st);
	/* the open handle holds a reference on the inode (released by release) */
	cie = ie_get(fs, e.ino);
	if (cie != NULL && (fi->flags & O_TRUNC))
		ie_wgen_bump(cie);
	if (cie != NULL && fh_new(fs, cie, fi) == NULL) {
		ie_put(fs, cie);
		cie = NULL;
	}
	if (cie == NULL) { /* out of memory: the entry exists, the kernel forgets it */
		ie_unlookup(fs, e.ino);
		fuse_reply_err(req, ENOMEM);
		goto out;
	}
	if (fuse_reply_create(req, &e, fi) != 0) {
		ie_drop(fs, cie, 1, 0);
		fh_close(fh_of(fi));
	}
out:
	ie_put(fs, pie);
}

static void
dfuse_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	entry_create(req, parent, name, S_IFDIR | (mode & ~S_IFMT), NULL, NULL);
}

static void
dfuse_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	entry_create(req, parent, name, S_IFLNK | 0777, link, NULL);
}

static void
dfuse_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
	     struct fuse_file_info *fi)
{
	entry_create(req, parent, name, S_IFREG | (mode & ~S_IFMT), NULL, fi);
}

static void
dfuse_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	(void)rdev;
	if (!S_ISREG(mode)) {
		fuse_reply_err(req, EPERM); /* no devices, FIFOs or sockets in DFS */
		return;
	}
	entry_create(req, parent, name, mode, NULL, NULL);
}

/* Remove @parent/@name, which must be a directory iff @dir. */
static void
entry_remove(fuse_req_t req, fuse_ino_t parent, const char *name, bool dir)
{
	struct dfuse_fs *fs = fs_of(req);
	struct dfuse_inode *pie;
	struct stat st;
	int rc;

	pie = ie_get_req(req, fs, parent);
	if (pie == NULL)
		return;
	rc = dfs_stat(fs->fs_dfs, pie->in_obj, name, &st);
	if (rc == 0 && dir && !S_ISDIR(st.st_mode))
		rc = ENOTDIR;
	else if (rc == 0 && !dir && S_ISDIR(st.st_mode))
		rc = EISDIR;
	if (rc == 0 && !dir)
		ie_wb_drain_entry(fs, parent, name);
	if (rc == 0)
		rc = dfs_remove(fs->fs_dfs, pie->in_obj, name, false, NULL);
	if (rc == 0)
		ie_unlinked(fs, parent, name);
	fuse_reply_err(req, err_of(rc));
	ie_put(fs, pie);
}

static void
dfuse_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	entry_remove(req, parent, name, false);
}

static void
dfuse_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	entry_remove(req, parent, name, true);
}

static void
dfuse_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
	     const char *newname, unsigned int flags)
{
	struct dfuse_fs *fs = fs_of(req);
	struct dfuse_inode *pie;
	struct dfuse_inode *npie;
	struct dfuse_inode *src = NULL;
	struct dfuse_inode *dst = NULL;
	struct stat st;
	int rc;

	pie = ie_get(fs, parent);
	npie = ie_get(fs, newparent);
	if (pie == NULL || npie == NULL) {
		rc = ESTALE;
		goto out;
	}
	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE)) {
		rc = EINVAL; /* RENAME_WHITEOUT */
		goto out;
	}
	rc = name_check(name);
	if (rc == 0)
		rc = name_check(newname);
	if (rc != 0)
		goto out;
	if (flags & RENAME_EXCHANGE) {
		rc = dfs_exchange(fs->fs_dfs, pie->in_obj, name, npie->in_obj, newname);
	} else {
		if (flags & RENAME_NOREPLACE) {
			/* not atomic against another client creating the name meanwhile */
			rc = dfs_stat(fs->fs_dfs, npie->in_obj, newname, &st);
			if (rc == 0) {
				rc = EEXIST;
				goto out;
			}
			if (rc != ENOENT)
				goto out;
		}
		ie_wb_drain_entry(fs, newparent, newname); /* the file replaced, if any */
		rc = dfs_move(fs->fs_dfs, pie->in_obj, name, npie->in_obj, newname, NULL);
	}
	if (rc != 0)
		goto out;

	pthread_mutex_lock(&fs->fs_lock);
	src = tab_find_entry(fs, parent, name);
	dst = tab_find_entry(fs, newparent, newname);
	if (src == dst)
		dst = NULL;
	if (src != NULL) {
		src->in_ref++;
		src->in_parent = newparent;
		snprintf(src->in_name, sizeof(src->in_name), "%s", newname);
	}
	if (dst != NULL) {
		dst->in_ref++;
		if (flags & RENAME_EXCHANGE) {
			dst->in_parent = parent;
			snprintf(dst->in_name, sizeof(dst->in_name), "%s", name);
		} else {
			dst->in_name[0] = '\0'; /* replaced */
		}
	}
	pthread_mutex_unlock(&fs->fs_lock);
	if (src != NULL) {
		ie_relocate(fs, src, npie, newname);
		ie_put(fs, src);
	}
	if (dst != NULL) {
		if (flags & RENAME_EXCHANGE)
			ie_relocate(fs, dst, pie, name);
		ie_put(fs, dst);
	}
out:
	fuse_reply_err(req, err_of(rc));
	if (pie != NULL)
		ie_put(fs, pie);
	if (npie != NULL)
		ie_put(fs, npie);
}

static void
dfuse_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct dfuse_fs *fs = fs_of(req);
	struct dfuse_inode *ie;
	struct stat st;
	int rc = 0;

	ie = ie_get_req(req, fs, ino);
	if (ie == NULL)
		return;
	if ((fi->flags & O_ACCMODE) != O_RDONLY && fs->fs_oflags == O_RDONLY)
		rc = EROFS;
	if (rc == 0 && (fi->flags & O_TRUNC)) {
		ie_wb_drain(fs, ie);
		pthread_rwlock_rdlock(&ie->in_lock);
		rc = dfs_ostat(fs->fs_dfs, ie->in_obj, &st);
		if (rc == 0 && st.st_size > 0) {
			st.st_size = 0;
			rc = dfs_osetattr(fs->fs_dfs, ie->in_obj, &st, DFS_SET_ATTR_SIZE);
		}
		if (rc == 0 && dfuse_kio_kill()) /* KILLPRIV_V2, FUSE_OPEN_KILL_SUIDGID */
			rc = obj_kill_suidgid(fs, ie, &st, true);
		pthread_rwlock_unlock(&ie->in_lock);
	}
	if (rc != 0) {
		fuse_reply_err(req, err_of(rc));
		ie_put(fs, ie);
		return;
	}
	if (rc == 0 && (fi->flags & O_TRUNC))
		ie_wgen_bump(ie);
	/* our reference goes with the handle */
	if (fh_new(fs, ie, fi) == NULL) {
		fuse_reply_err(req, ENOMEM);
		ie_put(fs, ie);
		return;
	}
	if (fuse_reply_open(req, fi) != 0)
		fh_close(fh_of(fi));
}

static void
dfuse_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	ie_wb_drain(fs_of(req), fh_of(fi)->fh_ie); /* written behind: in DAOS after close */
	fh_close(fh_of(fi));
	fuse_reply_err(req, 0);
}

/* Each worker's read buffer (DFUSE_MAX_IO, or more for a larger request), freed at exit. */
static pthread_key_t dfuse_buf_key;
static pthread_once_t dfuse_buf_once = PTHREAD_ONCE_INIT;
static __thread char *dfuse_tl_buf;
static __thread size_t dfuse_tl_len;

static void
dfuse_buf_free(void *p)
{
	free(p);
}

static void
dfuse_buf_key_init(void)
{
	if (pthread_key_create(&dfuse_buf_key, dfuse_buf_free) != 0)
		abort();
}

/*
 * A buffer of at least @size bytes in whole 2 MiB huge pages (transparent huge pages asked
 * for with madvise; plain pages where the kernel has none): the kernel pins the pages of
 * every FUSE request and reply buffer (get_user_pages), one folio per huge page instead of
 * 256 small pages per MiB (10 % of the daemon's CPU while streaming, in small pages).
 * The first @populate bytes are faulted in now (the kernel clears each huge page at its
 * first touch: 2 MiB per buffer, which was 6 % of the daemon's CPU in the first GiB
 * written through a fresh mount, and latency for the first requests of each worker).
 */
static void *
dfuse_huge_alloc(size_t size, size_t populate)
{
	size_t len = (size + DFUSE_HUGE - 1) / DFUSE_HUGE * DFUSE_HUGE;
	void *b = NULL;

	if (posix_memalign(&b, DFUSE_HUGE, len) != 0)
		return NULL;
	(void)madvise(b, len, MADV_HUGEPAGE); /* advice only: small pages work too */
	if (populate > len)
		populate = len;
	/* MADV_POPULATE_WRITE: Linux 5.14; before it, a write to every page does the same */
	if (populate > 0 && madvise(b, populate, DFUSE_MADV_POPULATE_WRITE) != 0)
		memset(b, 0, populate);
	return b;
}

static char *
dfuse_buf_get(size_t size)
{
	char *b;

	if (size <= dfuse_tl_len)
		return dfuse_tl_buf;
	pthread_once(&dfuse_buf_once, dfuse_buf_key_init);
	if (size < DFUSE_MAX_IO)
		size = DFUSE_MAX_IO;
	size = (size + DFUSE_HUGE - 1) / DFUSE_HUGE * DFUSE_HUGE;
	b = dfuse_huge_alloc(size, size);
	if (b == NULL)
		return NULL;
	free(dfuse_tl_buf);
	dfuse_tl_buf = b;
	dfuse_tl_len = size;
	pthread_setspecific(dfuse_buf_key, b);
	return b;
}

static void
dfuse_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct dfuse_fs *fs = fs_of(req);
	struct dfuse_fh *fh = fh_of(fi);
	struct dfuse_inode *ie = fh->fh_ie;
	daos_size_t got = 0;
	d_sg_list_t sgl;
	d_iov_t iov;
	uint32_t gen = 0;
	char *buf;
	int rc;

	(void)ino;
	ie_wb_drain(fs, ie);
	if (fh->fh_direct && fs->fs_pfq.pq_nthr > 0) {
		gen = ie_wgen(ie);
		if (pf_read(req, fh, size, off))
			return;
	}
	buf = dfuse_buf_get(size);
	if (buf == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	d_iov_set(&iov, buf, size);
	sgl = (d_sg_list_t){.sg_nr = 1, .sg_iovs = &iov};
	rc = dfs_read(fs->fs_dfs, ie->in_obj, &sgl, (daos_off_t)off, &got, NULL);
	if (rc == 0 && fh->fh_direct && fs->fs_pfq.pq_nthr > 0)
		pf_read_done(fh, off, size, got, gen);
	/* the reply is copied into the kernel's pages before it returns: the buffer is free */
	if (rc == 0)
		fuse_reply_buf(req, buf, got > size ? size : got);
	else
		fuse_reply_err(req, err_of(rc));
}

/*
 * A write of a --direct-write handle (the rules above ie_wb_busy): answered at once, then
 * gathered or written from @buf, which stays the worker's until this returns.
 */
static void
write_behind(fuse_req_t req, struct dfuse_fs *fs, struct dfuse_inode *ie, const char *buf,
	     size_t size, off_t off)
{
	struct dfuse_wb_io wi = {.wi_off = (uint64_t)off, .wi_end = (uint64_t)off + size};
	struct dfuse_wb_io gwi;
	struct dfuse_wb_io *o;
	char *gbuf = NULL;
	bool fits;

	pthread_mutex_lock(&ie->in_wb_lock);
again:
	for (o = ie->in_wb; o != NULL; o = o->wi_next) {
		if (o->wi_off < wi.wi_end && wi.wi_off < o->wi_end) {
			pthread_cond_wait(&ie->in_wb_cond, &ie->in_wb_lock);
			goto again;
		}
	}
	/* fits the gather: inside or right after its bytes, within its buffer */
	fits = size < DFUSE_WB_SMALL && ie->in_wg_len > 0 && wi.wi_off >= ie->in_wg_off &&
	       wi.wi_off <= ie->in_wg_off + ie->in_wg_len &&
	       wi.wi_end <= ie->in_wg_off + DFUSE_WB_GATHER;
	if (!fits && ie->in_wg_len > 0 && wi.wi_off <= ie->in_wg_off + ie->in_wg_len &&
	    ie->in_wg_off < wi.wi_end) {
		/*
		 * Overlaps or follows the gather without fitting: this thread writes the
		 * gather first, then this write (rule 1 holds: one thread, in that order;
		 * both are in flight for everyone else).
		 */
		gbuf = ie_wg_take(ie, &gwi);
	}
	ie_wgen_bump(ie); /* prefetched data from before the write is stale, and during it */
	if (fits) {
		memcpy(ie->in_wg_buf + (wi.wi_off - ie->in_wg_off), buf, size);
		if (wi.wi_end > ie->in_wg_off + ie->in_wg_len)
			ie->in_wg_len = wi.wi_end - ie->in_wg_off;
		pthread_mutex_unlock(&ie->in_wb_lock);
		ie_wgen_bump(ie);
		fuse_reply_write(req, size);
		return;
	}
	if (size < DFUSE_WB_SMALL && (gbuf == NULL || wi.wi_off >= gwi.wi_end)) {
		/*
		 * A new gather; the old one (elsewhere, full, or just before) is written after
		 * the reply. Not over the old one: the gather never overlaps a write in flight.
		 */
		if (gbuf == NULL)
			gbuf = ie_wg_take(ie, &gwi);
		ie->in_wg_buf = malloc(DFUSE_WB_GATHER);
		if (ie->in_wg_buf != NULL) {
			memcpy(ie->in_wg_buf, buf, size);
			ie->in_wg_off = wi.wi_off;
			ie->in_wg_len = size;
			__atomic_add_fetch(&ie->in_wb_n, 1, __ATOMIC_RELEASE);
			pthread_mutex_unlock(&ie->in_wb_lock);
			ie_wgen_bump(ie);
			fuse_reply_write(req, size);
			if (gbuf != NULL) {
				wb_write(fs, ie, &gwi, gbuf);
				free(gbuf);
			}
			return;
		}
	}
	ie_wb_push(ie, &wi);
	pthread_mutex_unlock(&ie->in_wb_lock);
	fuse_reply_write(req, size);
	if (gbuf != NULL) {
		wb_write(fs, ie, &gwi, gbuf);
		free(gbuf);
	}
	wb_write(fs, ie, &wi, buf);
}

static void
dfuse_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
	    struct fuse_file_info *fi)
{
	struct dfuse_fs *fs = fs_of(req);
	struct dfuse_fh *fh = fh_of(fi);
	struct dfuse_inode *ie = fh->fh_ie;
	d_sg_list_t sgl;
	d_iov_t iov;
	int rc;

	(void)ino;
	if (dfuse_kio_kill()) { /* KILLPRIV_V2: a write by a caller without CAP_FSETID */
		pthread_rwlock_rdlock(&ie->in_lock);
		rc = obj_kill_suidgid(fs, ie, NULL, true);
		pthread_rwlock_unlock(&ie->in_lock);
		if (rc != 0) {
			fuse_reply_err(req, err_of(rc));
			return;
		}
	}
	d_iov_set(&iov, (void *)buf, size);
	sgl = (d_sg_list_t){.sg_nr = 1, .sg_iovs = &iov};
	if (fh->fh_wbehind) {
		write_behind(req, fs, ie, buf, size, off);
		return;
	}
	ie_wgen_bump(ie); /* prefetched data from before the write is stale, and during it */
	rc = dfs_write(fs->fs_dfs, ie->in_obj, &sgl, (daos_off_t)off, NULL);
	ie_wgen_bump(ie);
	if (rc == 0)
		fuse_reply_write(req, size);
	else
		fuse_reply_err(req, err_of(rc));
}

/* A close: writes written behind are in DAOS first, and their error is close()'s. */
static void
dfuse_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct dfuse_fh *fh = fh_of(fi);
	int rc = 0;

	(void)ino;
	if (fh->fh_wbehind)
		rc = ie_wb_drain_err(fs_of(req), fh->fh_ie);
	fuse_reply_err(req, rc); /* otherwise write-through: nothing is held back */
}

static void
dfuse_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	struct dfuse_fh *fh = fh_of(fi);
	int rc = 0;

	(void)ino, (void)datasync;
	/* the whole file, whichever handle wrote it; the error belongs to the writers */
	if (fh->fh_wbehind)
		rc = ie_wb_drain_err(fs_of(req), fh->fh_ie);
	else
		ie_wb_drain(fs_of(req), fh->fh_ie);
	if (rc == 0)
		rc = err_of(dfs_sync(fs_of(req)->fs_dfs));
	fuse_reply_err(req, rc);
}

static void
dfuse_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct dfuse_fs *fs = fs_of(req);
	struct dfuse_dir *dd;
	struct dfuse_inode *ie;

	ie = ie_get_req(req, fs, ino);
	if (ie == NULL)
		return;
	dd = calloc(1, sizeof(*dd));
	if (dd == NULL) {
		ie_put(fs, ie);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	dd->dd_ie = ie;
	pthread_mutex_init(&dd->dd_lock, NULL);
	daos_anchor_init(&dd->dd_anchor, 0);
	fi->fh = (uint64_t)(uintptr_t)dd;
	if (fuse_reply_open(req, fi) != 0) {
		pthread_mutex_destroy(&dd->dd_lock);
		free(dd);
		ie_put(fs, ie);
	}
}

static void
dir_reset(struct dfuse_dir *dd)
{
	uint32_t i;

	for (i = 0; i < dd->dd_n; i++)
		free(dd->dd_names[i]);
	free(dd->dd_names);
	dd->dd_names = NULL;
	dd->dd_n = dd->dd_cap = 0;
	dd->dd_eof = false;
	daos_anchor_init(&dd->dd_anchor, 0);
}

static void
dfuse_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct dfuse_dir *dd = (struct dfuse_dir *)(uintptr_t)fi->fh;

	(void)ino;
	dir_reset(dd);
	pthread_mutex_destroy(&dd->dd_lock);
	ie_put(fs_of(req), dd->dd_ie);
	free(dd);
	fuse_reply_err(req, 0);
}

/* List one more batch of names into @dd. */
static int
dir_fetch(struct dfuse_fs *fs, struct dfuse_dir *dd)
{
	struct dirent ents[DFUSE_RD_BATCH];
	uint32_t nr = DFUSE_RD_BATCH;
	uint32_t i;
	int rc;

	rc = dfs_readdir(fs->fs_dfs, dd->dd_ie->in_obj, &dd->dd_anchor, &nr, ents);
	if (rc != 0)
		return rc;
	if (dd->dd_n + nr > dd->dd_cap) {
		uint32_t cap = dd->dd_cap * 2 + nr + 16;
		char **names = realloc(dd->dd_names, cap * sizeof(*names));

		if (names == NULL)
			return ENOMEM;
		dd->dd_names = names;
		dd->dd_cap = cap;
	}
	for (i = 0; i < nr; i++) {
		char *name = strdup(ents[i].d_name);

		if (name == NULL)
			return ENOMEM;
		dd->dd_names[dd->dd_n++] = name;
	}
	if (daos_anchor_is_eof(&dd->dd_anchor))
		dd->dd_eof = true;
	return 0;
}

/*
 * readdir and readdirplus. Offsets number the entries of this open directory: 0 ".", 1 "..",
 * then the names in the order libdfs listed them (kept in the handle), so an offset handed
 * out stays valid until the directory is rewound (offset 0) or closed.
 */
static void
dir_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi,
	 bool plus)
{
	struct dfuse_fs *fs = fs_of(req);
	struct dfuse_dir *dd = (struct dfuse_dir *)(uintptr_t)fi->fh;
	size_t used = 0;
	char *buf;
	uint64_t idx;
	int rc = 0;

	if (off < 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	buf = malloc(size);
	if (buf == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	pthread_mutex_lock(&dd->dd_lock);
	if (off == 0)
		dir_reset(dd);
	for (idx = (uint64_t)off;; idx++) {
		struct fuse_entry_param e;
		const char *name;
		dfs_obj_t *obj = NULL;
		struct stat st;
		size_t len;

		if (idx >= 2 && idx - 2 >= dd->dd_n) {
			if (dd->dd_eof)
				break;
			rc = dir_fetch(fs, dd);
			if (rc != 0)
				break;
			if (idx - 2 >= dd->dd_n) {
				if (dd->dd_eof)
					break;
				idx--; /* an empty batch: list on */
				continue;
			}
		}
		memset(&e, 0, sizeof(e));
		memset(&st, 0, sizeof(st));
		if (idx < 2) {
			name = idx == 0 ? "." : "..";
			st.st_mode = S_IFDIR;
			st.st_ino = idx == 0 ? ino : FUSE_ROOT_ID; /* d_ino only */
			e.attr = st;
		} else {
			name = dd->dd_names[idx - 2];
			if (plus) {
				int lrc;

				lrc = dfs_lookup_rel(fs->fs_dfs, dd->dd_ie->in_obj, name,
						     fs->fs_oflags | O_NOFOLLOW, &obj, NULL, &st);
				if (lrc == ENOENT)
					continue; /* removed since it was listed */
				if (lrc != 0) {
					rc = lrc;
					break;
				}
				lrc = ie_insert(fs, dd->dd_ie, name, obj, &st);
				if (lrc != 0) {
					rc = lrc;
					break;
				}
				entry_fill(fs, &e, &st);
			} else {
				struct dfuse_inode *known;
				daos_obj_id_t oid;
				mode_t mode;
				int lrc;

				/* d_ino must be right and non-zero (readdir(3) skips 0) */
				lrc = dfs_lookup_rel(fs->fs_dfs, dd->dd_ie->in_obj, name,
						     O_RDONLY | O_NOFOLLOW, &obj, &mode, NULL);
				if (lrc == ENOENT)
					continue;
				if (lrc != 0) {
					rc = lrc;
					break;
				}
				dfs_obj2id(obj, &oid);
				dfs_release(obj);
				st.st_mode = mode;
				pthread_mutex_lock(&fs->fs_lock);
				st.st_ino = tab_probe(fs, dd->dd_ie->in_ino, name, oid, &known);
				pthread_mutex_unlock(&fs->fs_lock);
			}
		}
		if (plus)
			len = fuse_add_direntry_plus(req, buf + used, size - used, name, &e,
						     (off_t)idx + 1);
		else
			len = fuse_add_direntry(req, buf + used, size - used, name, &st,
						(off_t)idx + 1);
		if (len > size - used) {
			if (plus && e.ino != 0)
				ie_unlookup(fs, e.ino); /* not handed out */
			break;
		}
		used += len;
	}
	pthread_mutex_unlock(&dd->dd_lock);
	if (rc != 0 && used == 0)
		fuse_reply_err(req, err_of(rc));
	else
		fuse_reply_buf(req, buf, used);
	free(buf);
}

static void
dfuse_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	dir_read(req, ino, size, off, fi, false);
}

static void
dfuse_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	dir_read(req, ino, size, off, fi, true);
}

static void
dfuse_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	dfuse_fsync(req, ino, datasync, fi);
}

/* The pool's space (SCM + NVMe) in bytes, or an error (a locally built pool handle has none). */
static int
pool_space(struct dfuse_fs *fs, uint64_t *total, uint64_t *free_bytes)
{
	daos_pool_info_t info;
	daos_handle_t poh;
	int rc;
	int i;

	rc = dfs_pool_get(fs->fs_dfs, &poh);
	if (rc != 0)
		return rc;
	memset(&info, 0, sizeof(info));
	info.pi_bits = DPI_SPACE;
	rc = daos_pool_query(poh, NULL, &info, NULL, NULL);
	dfs_pool_put(fs->fs_dfs, poh);
	if (rc != 0)
		return d_der2errno(rc);
	*total = *free_bytes = 0;
	for (i = 0; i < DAOS_MEDIA_MAX; i++) {
		*total += info.pi_space.ps_space.s_total[i];
		*free_bytes += info.pi_space.ps_space.s_free[i];
	}
	return *total == 0 ? ENODATA : 0;
}

static void
dfuse_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs sv;
	uint64_t total = 0;
	uint64_t free_bytes = 0;

	(void)ino;
	memset(&sv, 0, sizeof(sv));
	sv.f_bsize = DFUSE_STATFS_BSIZE;
	sv.f_frsize = DFUSE_STATFS_BSIZE;
	if (pool_space(fs_of(req), &total, &free_bytes) == 0) {
		sv.f_blocks = total / DFUSE_STATFS_BSIZE;
		sv.f_bfree = (free_bytes < total ? free_bytes : total) / DFUSE_STATFS_BSIZE;
	} else {
		sv.f_blocks = DFUSE_STATFS_BLOCKS; /* no pool query: a fixed answer */
		sv.f_bfree = DFUSE_STATFS_BLOCKS;
	}
	sv.f_bavail = sv.f_bfree;
	sv.f_files = DFUSE_STATFS_FILES;
	sv.f_ffree = DFUSE_STATFS_FILES;
	sv.f_favail = DFUSE_STATFS_FILES;
	sv.f_namemax = DFS_MAX_NAME;
	fuse_reply_statfs(req, &sv);
}

/*
 * POSIX ACLs are not kept: without FUSE_CAP_POSIX_ACL the kernel hands their xattrs to us as
 * plain ones, and storing them would swallow the mode cp -a sets through them.
 */
static bool
xattr_is_acl(const char *name)
{
	return strcmp(name, "system.posix_acl_access") == 0 ||
	       strcmp(name, "system.posix_acl_default") == 0;
}

/*
 * The kernel asks for security.capability before every write() system call (to drop it),
 * and does not cache the answer: one fetch per write. Its absence is remembered per inode
 * once libdfs said so, and forgotten when this mount sets or removes it (another client
 * adding capabilities to a file this mount knows is not seen until the inode is forgotten).
 */
static bool
xattr_is_cap(const char *name)
{
	return strcmp(name, "security.capability") == 0;
}

/* A set or removal of @name on @ie by this mount: forget what was known of capabilities. */
static void
cap_changed(struct dfuse_inode *ie, const char *name)
{
	if (!xattr_is_cap(name))
		return;
	pthread_mutex_lock(&ie->in_stat_lock);
	ie->in_nocap = false;
	ie->in_cap_gen++;
	pthread_mutex_unlock(&ie->in_stat_lock);
}

static void
dfuse_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value, size_t size,
	       int flags)
{
	struct dfuse_fs *fs = fs_of(req);
	struct dfuse_inode *ie;
	int rc;

	if (xattr_is_acl(name)) {
		fuse_reply_err(req, EOPNOTSUPP);
		return;
	}
	ie = ie_get_req(req, fs, ino);
	if (ie == NULL)
		return;
	cap_changed(ie, name);
	pthread_rwlock_rdlock(&ie->in_lock);
	rc = dfs_setxattr(fs->fs_dfs, ie->in_obj, name, value, size, flags);
	pthread_rwlock_unlock(&ie->in_lock);
	fuse_reply_err(req, err_of(rc));
	ie_put(fs, ie);
}

/* getxattr DFUSE_XATTR_RPCS (test launcher): the object RPCs sent so far, as text. */
static void
rpc_counts_reply(fuse_req_t req, size_t size)
{
	uint64_t c[DFUSE_RPC_NR];
	char buf[160];
	int len;

	dfuse_rpc_counts(c);
	len = snprintf(buf, sizeof(buf),
		       "update %" PRIu64 " fetch %" PRIu64 " punch %" PRIu64 " list %" PRIu64
		       " query %" PRIu64,
		       c[0], c[1], c[2], c[3], c[4]);
	if (size == 0)
		fuse_reply_xattr(req, (size_t)len);
	else if (size < (size_t)len)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, buf, (size_t)len);
}

static void
dfuse_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	struct dfuse_fs *fs = fs_of(req);
	struct dfuse_inode *ie;
	daos_size_t len = size;
	char *buf = NULL;
	uint32_t gen = 0;
	bool cap;
	int rc;

	if (xattr_is_acl(name)) {
		fuse_reply_err(req, EOPNOTSUPP);
		return;
	}
	if (dfuse_rpc_counts != NULL && strcmp(name, DFUSE_XATTR_RPCS) == 0) {
		rpc_counts_reply(req, size);
		return;
	}
	ie = ie_get_req(req, fs, ino);
	if (ie == NULL)
		return;
	cap = xattr_is_cap(name);
	if (cap) {
		pthread_mutex_lock(&ie->in_stat_lock);
		rc = ie->in_nocap ? ENODATA : 0;
		gen = ie->in_cap_gen;
		pthread_mutex_unlock(&ie->in_stat_lock);
		if (rc != 0)
			goto out;
	}
	if (size > 0) {
		buf = malloc(size);
		if (buf == NULL) {
			rc = ENOMEM;
			goto out;
		}
	}
	pthread_rwlock_rdlock(&ie->in_lock);
	rc = dfs_getxattr(fs->fs_dfs, ie->in_obj, name, buf, &len);
	pthread_rwlock_unlock(&ie->in_lock);
	if (cap && rc == ENODATA) {
		/* unless this mount set or removed it meanwhile */
		pthread_mutex_lock(&ie->in_stat_lock);
		if (ie->in_cap_gen == gen)
			ie->in_nocap = true;
		pthread_mutex_unlock(&ie->in_stat_lock);
	}
out:
	if (rc != 0)
		fuse_reply_err(req, err_of(rc));
	else if (size == 0)
		fuse_reply_xattr(req, len);
	else
		fuse_reply_buf(req, buf, len);
	free(buf);
	ie_put(fs, ie);
}

static void
dfuse_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct dfuse_fs *fs = fs_of(req);
	struct dfuse_inode *ie;
	daos_size_t len = size;
	char *buf = NULL;
	int rc;

	ie = ie_get_req(req, fs, ino);
	if (ie == NULL)
		return;
	if (size > 0) {
		buf = malloc(size);
		if (buf == NULL) {
			rc = ENOMEM;
			goto out;
		}
	}
	pthread_rwlock_rdlock(&ie->in_lock);
	rc = dfs_listxattr(fs->fs_dfs, ie->in_obj, buf, &len);
	pthread_rwlock_unlock(&ie->in_lock);
out:
	if (rc != 0)
		fuse_reply_err(req, err_of(rc));
	else if (size == 0)
		fuse_reply_xattr(req, len);
	else
		fuse_reply_buf(req, buf, len);
	free(buf);
	ie_put(fs, ie);
}

static void
dfuse_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	struct dfuse_fs *fs = fs_of(req);
	struct dfuse_inode *ie;
	int rc;

	if (xattr_is_acl(name)) {
		fuse_reply_err(req, EOPNOTSUPP);
		return;
	}
	ie = ie_get_req(req, fs, ino);
	if (ie == NULL)
		return;
	cap_changed(ie, name);
	pthread_rwlock_rdlock(&ie->in_lock);
	rc = dfs_removexattr(fs->fs_dfs, ie->in_obj, name);
	pthread_rwlock_unlock(&ie->in_lock);
	fuse_reply_err(req, err_of(rc));
	ie_put(fs, ie);
}

static const struct fuse_lowlevel_ops dfuse_ops = {
    .init = dfuse_init_cb,
    .lookup = dfuse_lookup,
    .forget = dfuse_forget,
    .forget_multi = dfuse_forget_multi,
    .getattr = dfuse_getattr,
    .setattr = dfuse_setattr,
    .readlink = dfuse_readlink,
    .mknod = dfuse_mknod,
    .mkdir = dfuse_mkdir,
    .unlink = dfuse_unlink,
    .rmdir = dfuse_rmdir,
    .symlink = dfuse_symlink,
    .rename = dfuse_rename,
    .open = dfuse_open,
    .read = dfuse_read,
    .write = dfuse_write,
    .flush = dfuse_flush,
    .release = dfuse_release,
    .fsync = dfuse_fsync,
    .opendir = dfuse_opendir,
    .readdir = dfuse_readdir,
    .readdirplus = dfuse_readdirplus,
    .releasedir = dfuse_releasedir,
    .fsyncdir = dfuse_fsyncdir,
    .statfs = dfuse_statfs,
    .setxattr = dfuse_setxattr,
    .getxattr = dfuse_getxattr,
    .listxattr = dfuse_listxattr,
    .removexattr = dfuse_removexattr,
    .create = dfuse_create,
};

/* Release every inode left (the kernel forgets nothing at unmount). */
/*
 * The session ended (every worker joined, the prefetch threads stopped): write what
 * --direct-write still gathers (a file written in small pieces and still open when the
 * daemon was told to stop).
 */
static void
tab_wb_drain(struct dfuse_fs *fs)
{
	struct dfuse_inode *ie;
	size_t b;

	for (b = 0; b < DFUSE_NBUCKETS; b++)
		for (ie = fs->fs_buckets[b]; ie != NULL; ie = ie->in_next)
			ie_wb_drain(fs, ie);
}

static void
tab_clear(struct dfuse_fs *fs)
{
	size_t b;

	for (b = 0; b < DFUSE_NBUCKETS; b++) {
		while (fs->fs_buckets[b] != NULL) {
			struct dfuse_inode *ie = fs->fs_buckets[b];

			fs->fs_buckets[b] = ie->in_next;
			ie_free(ie);
		}
	}
}

/* Undo mountinfo's octal escapes (\040 for a space) of @s in place. */
static void
mountinfo_unescape(char *s)
{
	char *w = s;

	while (*s != '\0') {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 4;
		} else {
			*w++ = *s++;
		}
	}
	*w = '\0';
}

/*
 * Set the kernel's read-ahead of the FUSE mount at @real (an absolute path without links) to
 * @kib KiB. FUSE_INIT can only lower it below the kernel's default (128 KiB), so this writes
 * the mount's backing device's read_ahead_kb in sysfs (found in /proc/self/mountinfo, which
 * does not touch the mount: the session loop is not running yet). Needs root; a failure is
 * reported and harmless.
 */
static void
dfuse_set_readahead(const char *real, unsigned kib)
{
	char line[4096];
	char dev[64] = "";
	char path[128];
	FILE *f;
	int fd;
	int len;

	f = fopen("/proc/self/mountinfo", "r");
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *save = NULL;
		char *tok[5];
		char *sep = strstr(line, " - ");
		int i;

		if (sep == NULL || strncmp(sep + 3, "fuse", 4) != 0)
			continue;
		tok[0] = strtok_r(line, " ", &save);
		for (i = 1; i < 5 && tok[i - 1] != NULL; i++)
			tok[i] = strtok_r(NULL, " ", &save);
		if (i < 5 || tok[4] == NULL)
			continue;
		mountinfo_unescape(tok[4]);
		if (strcmp(tok[4], real) == 0 && strlen(tok[2]) < sizeof(dev))
			strcpy(dev, tok[2]); /* the last one: the newest mount there */
	}
	fclose(f);
	if (dev[0] == '\0') {
		fprintf(stderr, "dfuse: read-ahead: %s not in /proc/self/mountinfo\n", real);
		return;
	}
	snprintf(path, sizeof(path), "/sys/class/bdi/%s/read_ahead_kb", dev);
	fd = open(path, O_WRONLY);
	len = snprintf(line, sizeof(line), "%u\n", kib);
	if (fd < 0 || write(fd, line, (size_t)len) != len)
		fprintf(stderr, "dfuse: read-ahead of %u KiB not set (%s): %s\n", kib, path,
			strerror(errno));
	if (fd >= 0)
		close(fd);
}

/* The workers of a multithreaded session (dfuse_loop). */
struct dfuse_loop {
	struct fuse_session *dl_se;
	sem_t dl_done; /* posted by a worker that ends */
	int dl_err;    /* the first error a worker met (negative), under dl_lock */
	pthread_mutex_t dl_lock;
};

struct dfuse_worker {
	struct dfuse_loop *dw_loop;
	pthread_t dw_thread;
	struct fuse_buf dw_buf;
	bool dw_started;
};

/*
 * One worker: receive a request into the worker's own huge-page buffer and process it,
 * until the session ends. Cancellable only while it waits for a request (as libfuse's
 * workers), so a request is never cut in the middle.
 */
static void *
dfuse_worker_run(void *arg)
{
	struct dfuse_worker *w = arg;
	struct dfuse_loop *dl = w->dw_loop;
	int res = 0;

	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	/* the read buffer now, faulted in (on failure the first read tries again) */
	(void)dfuse_buf_get(DFUSE_MAX_IO);
	while (!fuse_session_exited(dl->dl_se)) {
		pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
		res = fuse_session_receive_buf(dl->dl_se, &w->dw_buf);
		pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
		if (res == -EINTR)
			continue;
		if (res <= 0)
			break;
		fuse_session_process_buf(dl->dl_se, &w->dw_buf);
		/* libfuse resets size to what it read: give it the whole buffer again */
		w->dw_buf.size = DFUSE_REQ_BUF;
	}
	if (res < 0 && res != -ENODEV) {
		pthread_mutex_lock(&dl->dl_lock);
		if (dl->dl_err == 0)
			dl->dl_err = res;
		pthread_mutex_unlock(&dl->dl_lock);
	}
	fuse_session_exit(dl->dl_se);
	sem_post(&dl->dl_done);
	return NULL;
}

/*
 * libfuse's multithreaded loop, with @nr fixed workers whose request buffers are huge pages
 * (libfuse mallocs its own, in small pages). Signals are blocked in the workers: the
 * calling thread takes SIGTERM/SIGINT/SIGHUP (libfuse's handlers end the session), then
 * cancels the workers waiting for a request and joins them all. Returns 0 or -errno.
 */
static int
dfuse_loop(struct fuse_session *se, unsigned nr)
{
	struct dfuse_loop dl = {.dl_se = se};
	struct dfuse_worker *ws;
	sigset_t all, old;
	unsigned i;
	int rc = 0;

	ws = calloc(nr, sizeof(*ws));
	if (ws == NULL)
		return -ENOMEM;
	if (sem_init(&dl.dl_done, 0, 0) != 0) {
		free(ws);
		return -errno;
	}
	pthread_mutex_init(&dl.dl_lock, NULL);
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (i = 0; i < nr; i++) {
		ws[i].dw_loop = &dl;
		/* a request (1 MiB + its header) only ever touches the first huge page */
		ws[i].dw_buf.mem = dfuse_huge_alloc(DFUSE_REQ_BUF, DFUSE_HUGE);
		ws[i].dw_buf.size = DFUSE_REQ_BUF;
		if (ws[i].dw_buf.mem == NULL)
			rc = -ENOMEM;
		else
			rc = -pthread_create(&ws[i].dw_thread, NULL, dfuse_worker_run, &ws[i]);
		ws[i].dw_started = rc == 0;
		if (rc != 0)
			break;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		fprintf(stderr, "dfuse: starting worker %u: %s\n", i, strerror(-rc));
		fuse_session_exit(se);
	}
	/*
	 * A signal interrupts the wait; the timeout covers one that came just before it, or
	 * one taken by a thread of a library (libfabric's), which only sets the exit flag.
	 */
	while (!fuse_session_exited(se)) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		(void)sem_timedwait(&dl.dl_done, &ts);
	}
	for (i = 0; i < nr; i++) {
		if (ws[i].dw_started)
			pthread_cancel(ws[i].dw_thread);
	}
	for (i = 0; i < nr; i++) {
		if (ws[i].dw_started)
			pthread_join(ws[i].dw_thread, NULL);
		free(ws[i].dw_buf.mem);
	}
	if (rc == 0)
		rc = dl.dl_err;
	pthread_mutex_destroy(&dl.dl_lock);
	sem_destroy(&dl.dl_done);
	free(ws);
	return rc;
}

int
dfuse_serve(dfs_t *dfs, const struct dfuse_opts *o, void (*ready)(void *arg), void *arg)
{
	struct dfuse_fs *fs;
	struct dfuse_inode *root;
	struct fuse_session *se;
	struct fuse_loop_config *cfg;
	char *fargv[8];
	char mopts[64];
	char *real = NULL;
	int fargc = 0;
	int rc;

	fs = calloc(1, sizeof(*fs));
	root = calloc(1, sizeof(*root));
	if (fs == NULL || root == NULL) {
		free(fs);
		free(root);
		return ENOMEM;
	}
	fs->fs_dfs = dfs;
	fs->fs_opts = o;
	fs->fs_oflags = o->do_rdonly ? O_RDONLY : O_RDWR;
	if (getenv("DFUSE_FAULT_WB_EIO") != NULL)
		fs->fs_wb_fail_at = strtoull(getenv("DFUSE_FAULT_WB_EIO"), NULL, 10);
	if (getenv("DFUSE_FAULT_WB_DELAY_MS") != NULL)
		fs->fs_wb_delay_ms = (unsigned)strtoul(getenv("DFUSE_FAULT_WB_DELAY_MS"), NULL, 10);
	pthread_mutex_init(&fs->fs_lock, NULL);
	rc = dfs_lookup(dfs, "/", fs->fs_oflags, &root->in_obj, NULL, &root->in_stat);
	if (rc != 0) {
		fprintf(stderr, "dfuse: opening the root: %s\n", strerror(rc));
		free(root);
		goto out_fs;
	}
	root->in_ino = FUSE_ROOT_ID;
	dfs_obj2id(root->in_obj, &root->in_oid);
	root->in_nlookup = 1;
	pthread_rwlock_init(&root->in_lock, NULL);
	pthread_mutex_init(&root->in_stat_lock, NULL);
	pthread_mutex_init(&root->in_wb_lock, NULL);
	pthread_cond_init(&root->in_wb_cond, NULL);
	fs->fs_buckets[FUSE_ROOT_ID % DFUSE_NBUCKETS] = root;

	snprintf(mopts, sizeof(mopts), "fsname=dfuse,subtype=daos,default_permissions%s",
		 o->do_rdonly ? ",ro" : "");
	fargv[fargc++] = "dfuse";
	fargv[fargc++] = "-o";
	fargv[fargc++] = mopts;
	if (o->do_fuse_opts != NULL) {
		fargv[fargc++] = "-o";
		fargv[fargc++] = o->do_fuse_opts;
	}
	fargv[fargc] = NULL;
	{
		struct fuse_args args = FUSE_ARGS_INIT(fargc, fargv);

		se = fuse_session_new(&args, &dfuse_ops, sizeof(dfuse_ops), fs);
		fuse_opt_free_args(&args);
	}
	if (se == NULL) {
		fprintf(stderr, "dfuse: fuse_session_new failed\n");
		rc = EINVAL;
		goto out_tab;
	}
	/*
	 * libfuse only takes signals still at their default, and a library libfabric loads
	 * (libinfinipath) installs its own SIGINT/SIGTERM handler that exits without unmounting.
	 */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	if (fuse_set_signal_handlers(se) != 0) {
		rc = EIO;
		goto out_se;
	}
	/* before the mount: resolving the mount point once mounted would ask the session */
	real = realpath(o->do_mnt, NULL);
	if (fuse_session_mount(se, o->do_mnt) != 0) {
		fprintf(stderr, "dfuse: cannot mount at %s\n", o->do_mnt);
		rc = EIO;
		goto out_sig;
	}
	if (o->do_ra_kib > 0 && !o->do_direct_io && real != NULL)
		dfuse_set_readahead(real, o->do_ra_kib);
	/*
	 * dfuse's own I/O on /dev/fuse, for FUSE_HANDLE_KILLPRIV_V2 (no security.capability
	 * question before each write() system call); DFUSE_NO_KILLPRIV_V2=1 leaves it out
	 */
	fs->fs_se = se;
	/* --direct-read/-write: shared mmap of a direct-I/O open still works */
	rc = dfuse_kio_attach(se, getenv("DFUSE_NO_KILLPRIV_V2") == NULL,
			      o->do_direct_read || o->do_direct_write);
	if (rc != 0) {
		fprintf(stderr, "dfuse: custom FUSE I/O: %s\n", strerror(-rc));
		rc = EIO;
		fuse_session_unmount(se);
		goto out_sig;
	}
	dfuse_pf_start(fs);
	fprintf(stderr, "dfuse: mounted at %s\n", o->do_mnt);
	if (ready != NULL)
		ready(arg);
	if (o->do_single) {
		rc = fuse_session_loop(se);
	} else if (getenv("DFUSE_LIBFUSE_LOOP") != NULL || fuse_version() > 314) {
		/*
		 * libfuse's own loop (its buffers in small pages): for comparisons, and with a
		 * libfuse newer than the 3.14 whose request size DFUSE_REQ_BUF is sized for
		 */
		cfg = fuse_loop_cfg_create();
		if (cfg == NULL) {
			rc = ENOMEM;
			dfuse_pf_stop(fs); /* its threads use fs, freed below */
			fuse_session_unmount(se);
			goto out_sig;
		}
		fuse_loop_cfg_set_max_threads(cfg, o->do_threads);
		fuse_loop_cfg_set_idle_threads(cfg, o->do_threads);
		rc = fuse_session_loop_mt(se, cfg);
		fuse_loop_cfg_destroy(cfg);
	} else {
		rc = dfuse_loop(se, o->do_threads);
	}
	/* a signal ending the loop is the normal way out */
	rc = rc < 0 ? -rc : 0;
	dfuse_pf_stop(fs);
	tab_wb_drain(fs); /* no thread but this one is left to use the table */
	fuse_session_unmount(se);
	fprintf(stderr, "dfuse: unmounted %s\n", o->do_mnt);
out_sig:
	free(real);
	fuse_remove_signal_handlers(se);
out_se:
	fuse_session_destroy(se);
out_tab:
	tab_clear(fs);
out_fs:
	pthread_mutex_destroy(&fs->fs_lock);
	free(fs);
	return rc;
}
