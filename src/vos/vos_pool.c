/*
 * vos_pool.c: pool shards: create, open (checkpoint + WAL replay), close, destroy, query,
 * checkpoints and durability. The layer under containers and objects.
 *
 * Invariants:
 * 1. The meta file never covers a transaction the WAL has not made durable: a checkpoint
 *    first waits for the WAL up to the LSN it claims.
 * 2. The WAL is trimmed only up to the older checkpoint's LSN (vos_meta_trim_lsn), so
 *    either checkpoint plus the WAL that remains gives the present state.
 * 3. A pool is opened only with a WAL that reaches its checkpoint and has no hole; a WAL
 *    damaged in its middle is reported (-DER_DATA_LOSS), never silently cut short.
 */
#define D_LOGFAC vos

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gurt/common.h>

#include "vos_internal.h"
#include "vos_meta.h"

#define VOS_WAL_DEFAULT (64ULL << 20)
#define VOS_CKPT_PCT_DEF 50

static const char *const vos_files[] = {"meta", "wal", "data"};

/*
 * The three file paths of the shard directory @dir (the simple form): @buf holds them,
 * @paths points into it. -DER_NOMEM, or -DER_INVAL if @dir is too long.
 */
static int
vos_dir_paths(const char *dir, char (*buf)[PATH_MAX], struct vos_pool_paths *paths)
{
	size_t i;

	for (i = 0; i < D_ARRAY_SIZE(vos_files); i++)
		if (snprintf(buf[i], PATH_MAX, "%s/%s", dir, vos_files[i]) >= PATH_MAX)
			return -DER_INVAL;
	paths->vpp_meta = buf[0];
	paths->vpp_wal = buf[1];
	paths->vpp_data = buf[2];
	return 0;
}

static bool
vos_paths_valid(const struct vos_pool_paths *paths)
{
	return paths != NULL && paths->vpp_meta != NULL && paths->vpp_wal != NULL &&
	       paths->vpp_data != NULL && strlen(paths->vpp_meta) < PATH_MAX &&
	       strlen(paths->vpp_wal) < PATH_MAX && strlen(paths->vpp_data) < PATH_MAX;
}

/*
 * Remove a pool's files, the meta file first (the pool stops existing with it: invariant
 * 3 of the README), then the WAL and the data file; missing ones are fine. Returns how many
 * existed.
 */
static int
vos_pool_files_unlink(const struct vos_pool_paths *paths)
{
	const char *f[] = {paths->vpp_meta, paths->vpp_wal, paths->vpp_data};
	int n = 0;
	size_t i;

	for (i = 0; i < D_ARRAY_SIZE(f); i++)
		if (unlink(f[i]) == 0)
			n++;
	return n;
}

/* Remove the files of a pool directory and the directory itself; missing ones are fine. */
static void
vos_pool_files_remove(const char *path)
{
	char buf[3][PATH_MAX];
	struct vos_pool_paths paths;

	if (vos_dir_paths(path, buf, &paths) == 0)
		(void)vos_pool_files_unlink(&paths);
	rmdir(path);
}

static int
vos_wait_default(void *arg)
{
	return bio_wal_wait_io(arg);
}

static void
vos_pool_free(struct vos_pool *pool)
{
	if (pool->vp_vea != NULL)
		vea_unload(pool->vp_vea);
	if (pool->vp_umm != NULL)
		umem_close(pool->vp_umm);
	if (pool->vp_wal != NULL)
		bio_wal_close(pool->vp_wal);
	if (pool->vp_meta != NULL)
		vos_meta_close(pool->vp_meta);
	D_ASSERT(d_list_empty(&pool->vp_reads));
	bio_data_close(pool->vp_data);
	D_FREE(pool->vp_data_path);
	D_FREE(pool->vp_path);
	D_FREE(pool);
}

/* @paths: vp_path is the meta file's (named in messages), vp_data_path the data file's. */
static struct vos_pool *
vos_pool_alloc(const struct vos_pool_paths *paths, const uuid_t uuid,
	       const struct vos_pool_attr *attr)
{
	struct vos_pool *pool;

	D_ALLOC_PTR(pool);
	if (pool == NULL)
		return NULL;
	D_INIT_LIST_HEAD(&pool->vp_cont_handles);
	D_INIT_LIST_HEAD(&pool->vp_reads);
	D_STRNDUP(pool->vp_path, paths->vpp_meta, PATH_MAX);
	D_STRNDUP(pool->vp_data_path, paths->vpp_data, PATH_MAX);
	if (pool->vp_path == NULL || pool->vp_data_path == NULL) {
		D_FREE(pool->vp_path);
		D_FREE(pool->vp_data_path);
		D_FREE(pool);
		return NULL;
	}
	uuid_copy(pool->vp_uuid, uuid);
	if (attr != NULL)
		pool->vp_attr = *attr;
	if (pool->vp_attr.pa_ckpt_pct == 0 || pool->vp_attr.pa_ckpt_pct > 95)
		pool->vp_attr.pa_ckpt_pct = VOS_CKPT_PCT_DEF;
	return pool;
}

/* Open the data file and the VEA allocator of an opened heap. */
static int
vos_pool_data_open(struct vos_pool *pool)
{
	const char *f = pool->vp_data_path;
	int rc;

	rc = bio_data_open(f, &pool->vp_data);
	if (rc != 0)
		return rc;
	bio_wal_dref_set(pool->vp_wal, bio_data_fd(pool->vp_data), NULL, 0);
	/* completions of the data and meta rings wake whoever sleeps on vos_pool_fd */
	rc = bio_data_set_eventfd(pool->vp_data, bio_wal_fd(pool->vp_wal));
	if (rc == 0)
		rc = vos_meta_set_eventfd(pool->vp_meta, bio_wal_fd(pool->vp_wal));
	if (rc != 0)
		return rc;
	return vea_load(pool->vp_umm, &pool->vp_df->pd_vea, &pool->vp_vea);
}

/* A no-op replay callback: a new WAL has nothing to replay. */
static int
vos_replay_none(void *arg, uint64_t lsn, const struct umem_redo *redo)
{
	(void)arg;
	(void)lsn;
	(void)redo;
	return -DER_INVAL;
}

int
vos_pool_create_paths(const struct vos_pool_paths *paths, const uuid_t uuid, daos_size_t scm_sz,
		      daos_size_t data_sz, daos_size_t wal_sz, const struct vos_pool_attr *attr,
		      daos_handle_t *poh)
{
	const char *files[] = {paths != NULL ? paths->vpp_meta : NULL,
			       paths != NULL ? paths->vpp_wal : NULL,
			       paths != NULL ? paths->vpp_data : NULL};
	struct bio_wal_replay_info info;
	struct vos_pool_df *df;
	struct vos_pool *pool;
	struct stat st;
	const char *f;
	uint64_t pg;
	size_t i;
	int rc, fd;

	scm_sz = scm_sz == 0 ? VOS_POOL_SCM_MIN * 4 : scm_sz;
	wal_sz = wal_sz == 0 ? VOS_WAL_DEFAULT : wal_sz;
	data_sz = data_sz == 0 ? 1ULL << 30 : data_sz;
	scm_sz &= ~(UMEM_PAGE_SIZE - 1);
	data_sz &= ~((daos_size_t)VOS_BLK_SIZE - 1);
	if (!vos_paths_valid(paths) || scm_sz < VOS_POOL_SCM_MIN || wal_sz < VOS_POOL_WAL_MIN ||
	    data_sz < VOS_POOL_DATA_MIN) {
		D_ERROR("bad pool geometry: scm %" PRIu64 " data %" PRIu64 " wal %" PRIu64 "\n",
			scm_sz, data_sz, wal_sz);
		return -DER_INVAL;
	}
	/* none may exist: what fails below removes all three */
	for (i = 0; i < D_ARRAY_SIZE(files); i++) {
		if (lstat(files[i], &st) == 0)
			rc = -DER_EXIST;
		else
			rc = errno == ENOENT ? 0 : d_errno2der(errno);
		if (rc != 0) {
			D_ERROR("cannot create pool file %s: " DF_RC "\n", files[i], DP_RC(rc));
			return rc;
		}
	}
	pool = vos_pool_alloc(paths, uuid, attr);
	if (pool == NULL)
		return -DER_NOMEM;

	/* the data file */
	f = paths->vpp_data;
	fd = open(f, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || fallocate(fd, 0, 0, (off_t)data_sz) != 0) {
		rc = errno == ENOSPC ? -DER_NOSPACE : d_errno2der(errno);
		D_ERROR("cannot create the data file %s: %s\n", f, strerror(errno));
		if (fd >= 0)
			close(fd);
		goto out_free;
	}
	close(fd);

	/* the WAL, the heap, and the root */
	f = paths->vpp_wal;
	rc = bio_wal_create(f, wal_sz);
	if (rc == 0)
		rc = bio_wal_open(f, NULL, &pool->vp_wal);
	if (rc == 0)
		rc = bio_wal_replay(pool->vp_wal, 0, vos_replay_none, NULL, &info);
	if (rc != 0)
		goto out_free;
	rc = umem_create(scm_sz, sizeof(struct vos_pool_df), &bio_wal_umem_ops, pool->vp_wal,
			 &pool->vp_umm);
	if (rc != 0)
		goto out_free;
	df = umem_off2ptr(pool->vp_umm, umem_root(pool->vp_umm));
	rc = umem_tx_begin(pool->vp_umm);
	if (rc == 0)
		rc = umem_tx_add_ptr(pool->vp_umm, df, sizeof(*df));
	if (rc == 0) {
		df->pd_magic = VOS_POOL_MAGIC;
		df->pd_version = VOS_POOL_VERSION;
		df->pd_blk_size = VOS_BLK_SIZE;
		uuid_copy(df->pd_uuid, uuid);
		df->pd_data_size = data_sz;
		/* block 0 stays unused: an address of 0 means "no data block" */
		rc = vea_format(pool->vp_umm, &df->pd_vea, VOS_BLK_SIZE, 1, data_sz / VOS_BLK_SIZE);
	}
	rc = umem_tx_end(pool->vp_umm, rc);
	if (rc == 0)
		rc = bio_wal_flush_wait(pool->vp_wal);
	if (rc != 0)
		goto out_free;
	pool->vp_df = df;

	/* the first checkpoint: the pool exists once its meta file does */
	f = paths->vpp_meta;
	rc = vos_meta_create(f, umem_base(pool->vp_umm), umem_size(pool->vp_umm),
			     umem_tx_last_lsn(pool->vp_umm));
	if (rc != 0)
		goto out_free;
	pool->vp_base_lsn = pool->vp_ckpt_lsn = umem_tx_last_lsn(pool->vp_umm);
	/* all of it is in the meta file now (from where the last page was: a scan from 0
	 * each time made this quadratic, ~1.7 G instructions for a 1 GiB heap) */
	for (pg = 0; umem_dirty_next(pool->vp_umm, &pg); pg++)
		;
	if (poh == NULL) {
		vos_pool_free(pool);
		return 0;
	}
	{
		size_t size;
		void *image;
		uint64_t lsn;

		rc = vos_meta_open(f, &pool->vp_meta, &image, &size, &lsn);
		if (rc == 0)
			munmap(image, size);
	}
	if (rc == 0)
		rc = vos_pool_data_open(pool);
	if (rc != 0)
		goto out_free;
	*poh = vos_pool2hdl(pool);
	D_INFO("pool " DF_UUID " created: meta %s, wal %s, data %s\n", DP_UUID(uuid),
	       paths->vpp_meta, paths->vpp_wal, paths->vpp_data);
	return 0;

out_free:
	vos_pool_free(pool);
	(void)vos_pool_files_unlink(paths);
	return rc;
}

int
vos_pool_create(const char *path, const uuid_t uuid, daos_size_t scm_sz, daos_size_t data_sz,
		daos_size_t wal_sz, const struct vos_pool_attr *attr, daos_handle_t *poh)
{
	char buf[3][PATH_MAX];
	struct vos_pool_paths paths;
	int rc;

	if (path == NULL || vos_dir_paths(path, buf, &paths) != 0)
		return -DER_INVAL;
	if (mkdir(path, 0700) != 0) {
		rc = errno == EEXIST ? -DER_EXIST : d_errno2der(errno);
		D_ERROR("cannot create pool directory %s: %s\n", path, strerror(errno));
		return rc;
	}
	rc = vos_pool_create_paths(&paths, uuid, scm_sz, data_sz, wal_sz, attr, poh);
	if (rc != 0)
		rmdir(path);
	return rc;
}

struct vos_replay_arg {
	void *ra_image;
	size_t ra_size;
};

static int
vos_replay_apply(void *arg, uint64_t lsn, const struct umem_redo *redo)
{
	struct vos_replay_arg *ra = arg;
	int rc;

	rc = umem_redo_apply(ra->ra_image, ra->ra_size, redo);
	if (rc != 0)
		D_ERROR("WAL record %" PRIu64 " does not fit the heap: " DF_RC "\n", lsn,
			DP_RC(rc));
	return rc;
}

/*
 * VOS_POF_NO_WAL: mark the meta headers (durably) before anything runs without the WAL,
 * then stop logging. A failure takes the mark back (best effort: if that fails too, the
 * pool is refused at the next open, which is safe).
 */
static int
vos_pool_nowal_begin(struct vos_pool *pool)
{
	int rc;

	rc = vos_meta_mark_nowal(pool->vp_meta, true);
	if (rc == 0)
		rc = bio_wal_set_nolog(pool->vp_wal);
	if (rc != 0) {
		D_ERROR("pool %s: cannot open without the WAL: " DF_RC "\n", pool->vp_path,
			DP_RC(rc));
		(void)vos_meta_mark_nowal(pool->vp_meta, false);
		return rc;
	}
	umem_set_redo(pool->vp_umm, false);
	pool->vp_nowal = true;
	return 0;
}

/*
 * Clean close of a VOS_POF_NO_WAL pool, after its checkpoint of both slots (every dirty
 * page written, the WAL trimmed to the last LSN): the WAL's new header, then the data
 * file, then the mark goes. Each step durable before the next: a crash before the last
 * leaves the mark (refused, never half-accepted).
 */
static int
vos_pool_nowal_end(struct vos_pool *pool)
{
	int rc;

	rc = bio_wal_flush_wait(pool->vp_wal);
	if (rc == 0 && fdatasync(bio_data_fd(pool->vp_data)) != 0) {
		D_ERROR("pool %s: data file sync failed: %s\n", pool->vp_path, strerror(errno));
		rc = -DER_IO;
	}
	if (rc == 0)
		rc = vos_meta_mark_nowal(pool->vp_meta, false);
	if (rc != 0)
		D_ERROR("pool %s: close without the WAL failed, the pool stays marked and will "
			"not open: " DF_RC "\n",
			pool->vp_path, DP_RC(rc));
	return rc;
}

int
vos_pool_open_paths(const struct vos_pool_paths *paths, const uuid_t uuid, unsigned int flags,
		    const struct vos_pool_attr *attr, daos_handle_t *poh)
{
	struct bio_wal_replay_info info = {0};
	struct vos_replay_arg ra = {0};
	struct vos_pool *pool;
	uint64_t ckpt_lsn = 0;
	const char *path;
	int rc;

	if (!vos_paths_valid(paths))
		return -DER_INVAL;
	path = paths->vpp_meta;
	pool = vos_pool_alloc(paths, uuid, attr);
	if (pool == NULL)
		return -DER_NOMEM;
	rc = vos_meta_open(paths->vpp_meta, &pool->vp_meta, &ra.ra_image, &ra.ra_size, &ckpt_lsn);
	if (rc != 0)
		goto out;

	rc = bio_wal_open(paths->vpp_wal, NULL, &pool->vp_wal);
	if (rc == 0) {
		/* one-sync: replay reads the data its last records reference (their CRCs) */
		int dfd = open(paths->vpp_data, O_RDONLY | O_CLOEXEC);

		if (dfd >= 0)
			bio_wal_dref_set(pool->vp_wal, dfd, NULL, 0);
		rc = bio_wal_replay(pool->vp_wal, ckpt_lsn, vos_replay_apply, &ra, &info);
		if (dfd >= 0)
			close(dfd); /* vos_pool_data_open gives the WAL the data file's own */
	}
	if (rc != 0)
		goto out_image;
	if (info.ri_stop == BIO_WAL_STOP_CORRUPT && info.ri_lost > 0) {
		D_ERROR("pool %s: WAL damaged after record %" PRIu64 ", %u intact records beyond"
			" it are lost\n",
			path, info.ri_last_lsn, info.ri_lost);
		if (!(flags & VOS_POF_FORCE)) {
			rc = -DER_DATA_LOSS;
			goto out_image;
		}
	}
	if (info.ri_last_lsn < ckpt_lsn) {
		D_ERROR("pool %s: WAL ends at %" PRIu64 ", before its checkpoint %" PRIu64 "\n",
			path, info.ri_last_lsn, ckpt_lsn);
		rc = -DER_INVAL;
		goto out_image;
	}

	rc = umem_open(ra.ra_image, ra.ra_size, &bio_wal_umem_ops, pool->vp_wal, &pool->vp_umm);
	if (rc != 0)
		goto out_image;
	ra.ra_image = NULL; /* the heap owns it now */
	pool->vp_df = umem_off2ptr(pool->vp_umm, umem_root(pool->vp_umm));
	if (umem_alloc_size(pool->vp_umm, umem_root(pool->vp_umm)) < sizeof(*pool->vp_df) ||
	    pool->vp_df->pd_magic != VOS_POOL_MAGIC ||
	    pool->vp_df->pd_version != VOS_POOL_VERSION) {
		D_ERROR("%s is not a VOS pool shard\n", path);
		rc = -DER_INVAL;
		goto out;
	}
	if (uuid_compare(pool->vp_df->pd_uuid, uuid) != 0) {
		D_ERROR("%s holds pool " DF_UUID ", not " DF_UUID "\n", path,
			DP_UUID(pool->vp_df->pd_uuid), DP_UUID(uuid));
		rc = -DER_INVAL;
		goto out;
	}
	if (info.ri_applied > 0)
		vos_meta_invalidate(pool->vp_meta); /* both images now lag the heap */
	pool->vp_ckpt_lsn = ckpt_lsn;
	pool->vp_base_lsn = info.ri_last_lsn;
	rc = vos_pool_data_open(pool);
	if (rc != 0)
		goto out;
	if (flags & VOS_POF_NO_WAL) {
		rc = vos_pool_nowal_begin(pool);
		if (rc != 0)
			goto out;
	}
	*poh = vos_pool2hdl(pool);
	D_INFO("pool " DF_UUID " opened: checkpoint %" PRIu64 ", %" PRIu64
	       " WAL records replayed\n",
	       DP_UUID(uuid), ckpt_lsn, info.ri_applied);
	return 0;

out_image:
	if (ra.ra_image != NULL)
		munmap(ra.ra_image, ra.ra_size);
out:
	vos_pool_free(pool);
	return rc;
}

int
vos_pool_open(const char *path, const uuid_t uuid, unsigned int flags,
	      const struct vos_pool_attr *attr, daos_handle_t *poh)
{
	char buf[3][PATH_MAX];
	struct vos_pool_paths paths;

	if (path == NULL || vos_dir_paths(path, buf, &paths) != 0)
		return -DER_INVAL;
	return vos_pool_open_paths(&paths, uuid, flags, attr, poh);
}

uint64_t
vos_pool_last_lsn(daos_handle_t poh)
{
	struct vos_pool *pool = vos_hdl2pool(poh);
	uint64_t lsn = umem_tx_last_lsn(pool->vp_umm);

	return lsn > pool->vp_base_lsn ? lsn : pool->vp_base_lsn;
}

void
vos_pool_wal_query(daos_handle_t poh, struct bio_wal_stats *st)
{
	bio_wal_query(vos_hdl2pool(poh)->vp_wal, st);
}

static int
vos_pool_wait_lsn(struct vos_pool *pool, uint64_t lsn)
{
	/* the caller's wait hook, or ours */
	bio_wal_wait_cb_t wait =
	    pool->vp_attr.pa_wait != NULL ? pool->vp_attr.pa_wait : vos_wait_default;
	void *arg = pool->vp_attr.pa_wait != NULL ? pool->vp_attr.pa_wait_arg : pool->vp_wal;
	int rc;

	rc = bio_wal_wait(pool->vp_wal, lsn, wait, arg);
	/* one-sync: blocks freed up to @lsn wait for a header too (bio_wal_reuse_lsn) */
	if (rc == 0 && pool->vp_vea != NULL && bio_wal_reuse_lsn(pool->vp_wal) < lsn &&
	    vea_aging_due(pool->vp_vea, lsn))
		rc = bio_wal_reuse_wait(pool->vp_wal, lsn, wait, arg);
	vos_pool_vea_flush(pool);
	return rc;
}

void
vos_pool_read_begin(struct vos_pool *pool, struct vos_read_ref *ref)
{
	ref->rr_lsn = vos_pool_last_lsn(vos_pool2hdl(pool));
	d_list_add_tail(&ref->rr_link, &pool->vp_reads);
}

void
vos_pool_read_end(struct vos_pool *pool, struct vos_read_ref *ref)
{
	(void)pool;
	d_list_del_init(&ref->rr_link);
}

void
vos_pool_vea_flush(struct vos_pool *pool)
{
	/*
	 * one-sync: blocks freed by a durable transaction are reused only once a durable WAL
	 * header's complete LSN covers it too, or replay could check the data CRC of a record
	 * whose blocks were rewritten since (bio_wal_reuse_lsn)
	 */
	uint64_t dur = bio_wal_durable_lsn(pool->vp_wal);
	uint64_t lsn = bio_wal_reuse_lsn(pool->vp_wal);

	if (lsn < dur && pool->vp_vea != NULL && vea_aging_due(pool->vp_vea, dur))
		bio_wal_reuse_push(pool->vp_wal); /* a header that moves it */

	if (!d_list_empty(&pool->vp_reads)) {
		struct vos_read_ref *oldest =
		    d_list_entry(pool->vp_reads.next, struct vos_read_ref, rr_link);

		if (oldest->rr_lsn < lsn)
			lsn = oldest->rr_lsn;
	}
	vea_flush(pool->vp_vea, lsn);
}

int
vos_pool_wait(daos_handle_t poh, uint64_t lsn)
{
	return vos_pool_wait_lsn(vos_hdl2pool(poh), lsn);
}

int
vos_pool_on_durable(daos_handle_t poh, uint64_t lsn, bio_wal_durable_cb_t cb, void *arg)
{
	return bio_wal_on_durable(vos_hdl2pool(poh)->vp_wal, lsn, cb, arg);
}

uint32_t
vos_pool_durable_waiters(daos_handle_t poh, uint64_t *flush_ns)
{
	return bio_wal_durable_waiters(vos_hdl2pool(poh)->vp_wal, flush_ns);
}

/* Start a background checkpoint of everything committed so far. 0 or -DER_IO. */
static int
vos_pool_ckpt_begin(struct vos_pool *pool)
{
	int rc;

	D_ASSERT(!pool->vp_ck_busy);
	pool->vp_ck_lsn = vos_pool_last_lsn(vos_pool2hdl(pool));
	rc = vos_meta_ckpt_begin(pool->vp_meta, pool->vp_umm, pool->vp_ck_lsn);
	if (rc != 0) {
		D_ERROR("pool " DF_UUID ": cannot start a checkpoint: " DF_RC "\n",
			DP_UUID(pool->vp_uuid), DP_RC(rc));
		return rc;
	}
	pool->vp_ck_busy = true;
	return 0;
}

/*
 * Advance the background checkpoint (see vos_meta_ckpt_step); when it completes, trim the
 * WAL to the older slot's LSN. *@need: an LSN the WAL must make durable before it can go
 * on (a flush is submitted for it here). Returns 1 while in progress, 0 when done or idle,
 * or the checkpoint's error.
 */
static int
vos_pool_ckpt_step(struct vos_pool *pool, bool hurry, uint64_t *need)
{
	int rc;

	*need = 0;
	if (!pool->vp_ck_busy)
		return 0;
	rc = vos_meta_ckpt_step(pool->vp_meta, pool->vp_umm, vos_pool_last_lsn(vos_pool2hdl(pool)),
				bio_wal_durable_lsn(pool->vp_wal), hurry, need);
	if (rc > 0) {
		if (*need > 0) {
			int frc = bio_wal_flush(pool->vp_wal);

			if (frc != 0)
				return frc; /* the WAL failed: the checkpoint waits for nothing */
		}
		return 1;
	}
	pool->vp_ck_busy = false;
	if (rc != 0) {
		D_ERROR("pool " DF_UUID ": checkpoint at %" PRIu64 " failed: " DF_RC "\n",
			DP_UUID(pool->vp_uuid), pool->vp_ck_lsn, DP_RC(rc));
		return rc;
	}
	pool->vp_ckpt_lsn = pool->vp_ck_lsn;
	pool->vp_nckpt++;
	rc = bio_wal_trim(pool->vp_wal, vos_meta_trim_lsn(pool->vp_meta));
	if (rc != 0)
		D_ERROR("pool " DF_UUID ": WAL trim failed: " DF_RC "\n", DP_UUID(pool->vp_uuid),
			DP_RC(rc));
	return rc;
}

/* Run the background checkpoint, if any, to its end, waiting through the pool's hook. */
static int
vos_pool_ckpt_drive(struct vos_pool *pool)
{
	uint64_t need;
	int rc;

	for (;;) {
		rc = vos_pool_ckpt_step(pool, true, &need);
		if (rc <= 0)
			return rc;
		if (need > 0)
			rc = vos_pool_wait_lsn(pool, need);
		else if (pool->vp_attr.pa_wait != NULL)
			rc = pool->vp_attr.pa_wait(pool->vp_attr.pa_wait_arg);
		else
			rc = vos_meta_ckpt_wait_io(pool->vp_meta);
		if (rc != 0)
			return rc;
	}
}

/*
 * Checkpoint up to the last transaction, to completion (after the background one, if
 * any). With @full, both meta slots are brought to that LSN, so the WAL can be trimmed
 * all the way (what a full WAL needs); otherwise one slot is written and the WAL trimmed
 * to the older slot's LSN.
 */
static int
vos_pool_ckpt(struct vos_pool *pool, bool full)
{
	uint64_t lsn;
	int rc, i;

	rc = vos_pool_ckpt_drive(pool);
	if (rc != 0)
		return rc;
	lsn = vos_pool_last_lsn(vos_pool2hdl(pool));
	for (i = 0; i < 2; i++) {
		if (lsn == pool->vp_ckpt_lsn && umem_dirty_count(pool->vp_umm) == 0 &&
		    (!full || vos_meta_trim_lsn(pool->vp_meta) == lsn))
			break;
		rc = vos_pool_ckpt_begin(pool);
		if (rc == 0)
			rc = vos_pool_ckpt_drive(pool);
		if (rc != 0)
			return rc;
		if (!full)
			break;
	}
	return bio_wal_trim(pool->vp_wal, vos_meta_trim_lsn(pool->vp_meta));
}

int
vos_pool_make_room(daos_handle_t poh, int rc)
{
	struct vos_pool *pool = vos_hdl2pool(poh);

	if (rc == -DER_BUSY) /* the staging buffer is full: let its records go to disk */
		return vos_pool_wait_lsn(pool, vos_pool_last_lsn(poh));
	if (rc != -DER_AGAIN)
		return rc;
	/* the log is full: checkpoint both slots, trim it all, and write the new tail out */
	pool->vp_nwal_full++;
	rc = vos_pool_ckpt(pool, true);
	if (rc == 0)
		rc = bio_wal_flush(pool->vp_wal);
	if (rc != 0)
		return rc;
	if (pool->vp_attr.pa_wait != NULL)
		rc = pool->vp_attr.pa_wait(pool->vp_attr.pa_wait_arg);
	else
		rc = bio_wal_wait_io(pool->vp_wal);
	bio_wal_poll(pool->vp_wal);
	return rc;
}

int
vos_pool_checkpoint(daos_handle_t poh)
{
	return vos_pool_ckpt(vos_hdl2pool(poh), false);
}

int
vos_pool_poll(daos_handle_t poh)
{
	struct vos_pool *pool = vos_hdl2pool(poh);
	struct bio_wal_stats st;
	uint32_t pct;
	int rc;

	rc = bio_wal_poll(pool->vp_wal);
	if (rc < 0)
		return rc;
	vos_pool_vea_flush(pool);
	if (!pool->vp_gc_idle) {
		int grc = vos_gc_step(pool, VOS_GC_CREDITS, false);

		/* a full WAL waits for the checkpoint below; other errors stop GC until reopen */
		if (grc > 0)
			rc++;
		else if (grc < 0 && grc != -DER_AGAIN && grc != -DER_BUSY) {
			D_ERROR("garbage collection stopped: " DF_RC "\n", DP_RC(grc));
			pool->vp_gc_idle = true;
		}
	}
	bio_wal_query(pool->vp_wal, &st);
	pct = pool->vp_attr.pa_ckpt_pct;
	/* without the WAL nothing fills it: no background checkpoint (the close writes all) */
	if (!pool->vp_nowal && !pool->vp_ck_busy && st.ws_used * 100 > st.ws_area_size * pct) {
		int crc = vos_pool_ckpt_begin(pool);

		if (crc != 0)
			return crc;
	}
	if (pool->vp_ck_busy) {
		/* past half of the room left above the trigger, copy all it can */
		bool hurry = st.ws_used * 200 > st.ws_area_size * (100 + pct);
		uint64_t need;
		int crc = vos_pool_ckpt_step(pool, hurry, &need);

		if (crc < 0)
			return crc;
		rc++;
	}
	return rc;
}

int
vos_pool_fd(daos_handle_t poh)
{
	return bio_wal_fd(vos_hdl2pool(poh)->vp_wal);
}

int
vos_pool_arm(daos_handle_t poh)
{
	struct vos_pool *pool = vos_hdl2pool(poh);

	/* the WAL's arm drains the fd first: what completes after it signals it again */
	if (bio_wal_arm(pool->vp_wal) != 0)
		return 1;
	/* completions of the other rings that came before the drain */
	if (bio_data_ready(pool->vp_data))
		return 1;
	if (pool->vp_ck_busy &&
	    vos_meta_ckpt_ready(pool->vp_meta, bio_wal_durable_lsn(pool->vp_wal)))
		return 1;
	/*
	 * GC steps: work of vos_pool_poll that no I/O announces. (A checkpoint to start is not:
	 * the WAL fills only through appends, whose flushes wake the loop.)
	 */
	return pool->vp_gc_idle ? 0 : 1;
}

bool
vos_pool_io_progress(daos_handle_t poh, uint64_t *seq)
{
	struct vos_pool *pool = vos_hdl2pool(poh);
	uint64_t now = bio_data_done(pool->vp_data) + bio_wal_durable_lsn(pool->vp_wal);

	if (now == *seq && !bio_data_ready(pool->vp_data))
		return false;
	*seq = now;
	return true;
}

int
vos_pool_query(daos_handle_t poh, struct vos_pool_info *info)
{
	struct vos_pool *pool = vos_hdl2pool(poh);
	struct bio_wal_stats ws;
	struct umem_stats us;
	struct vea_stat vs;

	umem_query(pool->vp_umm, &us);
	vea_query(pool->vp_vea, &vs);
	bio_wal_query(pool->vp_wal, &ws);
	memset(info, 0, sizeof(*info));
	uuid_copy(info->pi_uuid, pool->vp_uuid);
	info->pi_scm_total = us.us_heap_size;
	info->pi_scm_free = us.us_free;
	info->pi_data_total = (vs.vs_tot_blks - vs.vs_hdr_blks) * vs.vs_blk_sz;
	info->pi_data_free = vs.vs_free_blks * vs.vs_blk_sz;
	info->pi_wal_size = ws.ws_area_size;
	info->pi_wal_used = ws.ws_used;
	info->pi_last_lsn = vos_pool_last_lsn(poh);
	info->pi_durable_lsn = ws.ws_durable_lsn;
	info->pi_ckpt_lsn = pool->vp_ckpt_lsn;
	info->pi_checkpoints = pool->vp_nckpt;
	return 0;
}

int
vos_pool_close(daos_handle_t poh)
{
	struct vos_pool *pool = vos_hdl2pool(poh);
	int rc;

	D_ASSERT(!umem_tx_inprogress(pool->vp_umm));
	/*
	 * Both slots, so that they hold the same image: the next open then finds nothing
	 * pending for the other slot, instead of rewriting the whole heap at its first
	 * checkpoint. The second slot only takes the pages dirtied since it was written.
	 */
	rc = vos_pool_ckpt(pool, true);
	if (pool->vp_nowal) {
		if (rc == 0)
			rc = vos_pool_nowal_end(pool);
		else
			D_ERROR("pool %s: checkpoint at close failed; opened without the WAL, it "
				"stays marked and will not open: " DF_RC "\n",
				pool->vp_path, DP_RC(rc));
	}
	vos_pool_free(pool);
	return rc;
}

void
vos_pool_abandon(daos_handle_t poh)
{
	vos_pool_free(vos_hdl2pool(poh));
}

int
vos_pool_destroy(const char *path, const uuid_t uuid)
{
	struct stat st;

	(void)uuid;
	if (stat(path, &st) != 0)
		return -DER_NONEXIST;
	vos_pool_files_remove(path);
	return 0;
}

int
vos_pool_destroy_paths(const struct vos_pool_paths *paths, const uuid_t uuid)
{
	(void)uuid;
	if (!vos_paths_valid(paths))
		return -DER_INVAL;
	return vos_pool_files_unlink(paths) > 0 ? 0 : -DER_NONEXIST;
}
