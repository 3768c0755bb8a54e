/*
 * dfs_ns.c: the DFS namespace (daos_fs.h) over the object API of libdaos: mount, lookup,
 * create, list, remove, rename, attributes, symbolic links and extended attributes.
 *
 * Layout (README.md): a superblock object holds the magic, version and defaults of the
 * namespace plus the entry of the root directory (dkey "/"); every directory is an object
 * whose dkeys are the names of its entries, each holding a struct dfs_inode_df under akey
 * DFS_INODE (and extended attributes as further akeys "x:NAME"). Files are byte-array
 * objects; a symbolic link is only an entry, its target stored after the inode record.
 *
 * Every function returns 0 or a positive errno; -DER_* from below are converted with
 * d_der2errno() where they appear. Creation is atomic per name (DAOS_COND_DKEY_INSERT);
 * other multi-step operations (rename, recursive remove) are not transactional (relaxed
 * mode).
 */
#define D_LOGFAC dfs

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include <daos.h>
#include <daos/object.h>
#include <gurt/common.h>

#include "dfs_internal.h"

#define DFS_LINK_MAX 40 /* symbolic links followed in one lookup */
#define DFS_ENT_BUF (sizeof(struct dfs_inode_df) + DFS_MAX_PATH + 1)
#define DFS_GLOB_MAGIC 0xda05df50U
#define DFS_SB_NAKEY 5

static inline int
der2errno(int rc)
{
	return rc == 0 ? 0 : d_der2errno(rc);
}

static int
name_check(const char *name)
{
	size_t len;

	if (name == NULL)
		return EINVAL;
	len = strnlen(name, DFS_MAX_NAME + 1);
	if (len == 0 || len > DFS_MAX_NAME || strchr(name, '/') != NULL)
		return EINVAL;
	return 0;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static daos_obj_id_t
inode_oid(const struct dfs_inode_df *di)
{
	return (daos_obj_id_t){.lo = di->di_oid_lo, .hi = di->di_oid_hi};
}

/* The fetch of one entry; the buffers live here until the fetch completed. */
struct ent_fetch_op {
	daos_key_t ef_dkey;
	daos_iod_t ef_iod;
	d_sg_list_t ef_sgl;
	d_iov_t ef_iov;
	char *ef_buf;
};

/*
 * Send the fetch of entry @name of directory object @oh on @ev (NULL: wait for it). -DER_*;
 * whatever it returns, ent_fetch_end() is called afterwards (and @ev waited for if given).
 */
static int
ent_fetch_prep(const char *name, struct ent_fetch_op *op)
{
	memset(op, 0, sizeof(*op));
	D_ALLOC(op->ef_buf, DFS_ENT_BUF);
	if (op->ef_buf == NULL)
		return -DER_NOMEM;
	d_iov_set(&op->ef_dkey, (void *)name, strlen(name));
	d_iov_set(&op->ef_iod.iod_name, DFS_INODE_AKEY, strlen(DFS_INODE_AKEY));
	op->ef_iod.iod_type = DAOS_IOD_SINGLE;
	op->ef_iod.iod_size = DAOS_REC_ANY;
	op->ef_iod.iod_nr = 1;
	d_iov_set(&op->ef_iov, op->ef_buf, DFS_ENT_BUF);
	op->ef_sgl = (d_sg_list_t){.sg_nr = 1, .sg_iovs = &op->ef_iov};
	return 0;
}

static int
ent_fetch_begin(daos_handle_t oh, const char *name, struct ent_fetch_op *op, daos_event_t *ev)
{
	int rc = ent_fetch_prep(name, op);

	if (rc != 0)
		return rc;
	return daos_obj_fetch(oh, DAOS_TX_NONE, 0, &op->ef_dkey, 1, &op->ef_iod, &op->ef_sgl, NULL,
			      ev);
}

/*
 * Decode what @op fetched (@rc: the fetch's -DER_* outcome) and free its buffer: the inode
 * in *@di, the symlink target in *@value (may be NULL). Positive errno.
 */
static int
ent_fetch_end(struct ent_fetch_op *op, int rc, struct dfs_inode_df *di, char **value)
{
	char *buf = op->ef_buf;

	if (rc != 0) {
		rc = der2errno(rc);
		goto out;
	}
	if (op->ef_iod.iod_size == 0) {
		rc = ENOENT;
		goto out;
	}
	memcpy(di, buf, sizeof(*di));
	if (op->ef_iod.iod_size < sizeof(*di) ||
	    di->di_value_len != op->ef_iod.iod_size - sizeof(*di) ||
	    di->di_value_len > DFS_MAX_PATH) {
		rc = EIO; /* not an entry we wrote */
		goto out;
	}
	if (value != NULL) {
		*value = NULL;
		if (S_ISLNK(di->di_mode)) {
			D_ALLOC(*value, di->di_value_len + 1);
			if (*value == NULL) {
				rc = ENOMEM;
				goto out;
			}
			memcpy(*value, buf + sizeof(*di), di->di_value_len);
		}
	}
	rc = 0;
out:
	D_FREE(op->ef_buf);
	return rc;
}

/* Fetch entry @name of directory object @oh: the inode in *@di, the target in *@value. */
static int
ent_fetch(daos_handle_t oh, const char *name, struct dfs_inode_df *di, char **value)
{
	struct ent_fetch_op op;

	return ent_fetch_end(&op, ent_fetch_begin(oh, name, &op, NULL), di, value);
}

/*
 * The lookup cache: the regular file (oid, chunk size) a name of a directory held when this
 * mount last created, opened or stat'ed it there. It is a guess, never an answer: dfs_stat
 * sends the size query of the guessed file together with the fetch of the entry and keeps
 * the size only if the entry fetched names that same file with that chunk size; otherwise
 * it asks the right file afterwards. So a stale slot (another client removed or replaced
 * the name) costs RPCs, never a wrong answer. DFS_LC_SLOTS slots in sets of DFS_LC_WAYS,
 * keyed by a 64-bit hash of the parent's oid and the name (0: empty), under dn_lc_lock; a
 * name goes to the set of its key, newest first, and pushes the oldest of a full set out,
 * except a name a stat did not find remembered, which takes a free way only (lc_put).
 * (Direct-mapped, as at first, 4000 files lost ~21 % of their slots to later names, and each
 * such stat paid a second round trip; 4-way, ~3 % overflowed, but stats in creation order
 * pushed each other out: 12-14 % missed. 8-way and no pushing by stats: under 1 %.)
 */
#define DFS_LC_SLOTS 8192
#define DFS_LC_WAYS 8

struct dfs_lc_slot {
	uint64_t ls_key;
	daos_obj_id_t ls_oid;
	uint64_t ls_chunk;
};

static uint64_t
lc_key(daos_obj_id_t parent, const char *name)
{
	uint64_t k = d_hash_murmur64((const unsigned char *)name, (unsigned int)strlen(name),
				     (unsigned int)(parent.lo ^ (parent.lo >> 32) ^ parent.hi));

	k ^= parent.hi * 0x9e3779b97f4a7c15ULL;
	return k != 0 ? k : 1;
}

/* The first slot of @k's set. */
static struct dfs_lc_slot *
lc_set_of(dfs_t *dfs, uint64_t k)
{
	return &dfs->dn_lc[(k % (DFS_LC_SLOTS / DFS_LC_WAYS)) * DFS_LC_WAYS];
}

/*
 * Remember that @name of directory @parent holds @di (a regular file), or forget it. A name
 * not remembered yet takes a free way of its set or, if @evict, the oldest's.
 */
static void
lc_put(dfs_t *dfs, daos_obj_id_t parent, const char *name, const struct dfs_inode_df *di,
       bool evict)
{
	uint64_t k = lc_key(parent, name);
	struct dfs_lc_slot *set;
	int w;

	if (dfs->dn_lc == NULL)
		return;
	set = lc_set_of(dfs, k);
	pthread_mutex_lock(&dfs->dn_lc_lock);
	/* drop @k's slot (the ways after it move up), then put it first if it is a file */
	for (w = 0; w < DFS_LC_WAYS && set[w].ls_key != k; w++)
		;
	if (w == DFS_LC_WAYS) {
		w = DFS_LC_WAYS - 1; /* not there: the oldest goes */
		if (!evict && set[w].ls_key != 0) {
			pthread_mutex_unlock(&dfs->dn_lc_lock);
			return;
		}
	}
	if (di != NULL && S_ISREG(di->di_mode)) {
		memmove(&set[1], &set[0], w * sizeof(set[0]));
		set[0].ls_key = k;
		set[0].ls_oid = inode_oid(di);
		set[0].ls_chunk = di->di_chunk;
	} else if (set[w].ls_key == k) {
		memmove(&set[w], &set[w + 1], (DFS_LC_WAYS - 1 - w) * sizeof(set[0]));
		set[DFS_LC_WAYS - 1].ls_key = 0;
	}
	pthread_mutex_unlock(&dfs->dn_lc_lock);
}

/* lc_put that may push the oldest name of a full set out (create, open, lookup, changes). */
static void
lc_set(dfs_t *dfs, daos_obj_id_t parent, const char *name, const struct dfs_inode_df *di)
{
	lc_put(dfs, parent, name, di, true);
}

/* The file @name of directory @parent held when last seen, if remembered. */
static bool
lc_get(dfs_t *dfs, daos_obj_id_t parent, const char *name, daos_obj_id_t *oid, uint64_t *chunk)
{
	uint64_t k = lc_key(parent, name);
	struct dfs_lc_slot *set;
	bool hit = false;
	int w;

	if (dfs->dn_lc == NULL)
		return false;
	set = lc_set_of(dfs, k);
	pthread_mutex_lock(&dfs->dn_lc_lock);
	for (w = 0; w < DFS_LC_WAYS && !hit; w++) {
		hit = set[w].ls_key == k;
		if (hit) {
			*oid = set[w].ls_oid;
			*chunk = set[w].ls_chunk;
		}
	}
	pthread_mutex_unlock(&dfs->dn_lc_lock);
	return hit;
}

/* Write entry @name of @oh; @flags DAOS_COND_DKEY_INSERT (create) or _UPDATE (change). */
static int
ent_store(daos_handle_t oh, const char *name, const struct dfs_inode_df *di, const char *value,
	  uint64_t flags)
{
	daos_key_t dkey;
	daos_iod_t iod = {0};
	d_sg_list_t sgl;
	d_iov_t iov[2];

	d_iov_set(&dkey, (void *)name, strlen(name));
	d_iov_set(&iod.iod_name, DFS_INODE_AKEY, strlen(DFS_INODE_AKEY));
	iod.iod_type = DAOS_IOD_SINGLE;
	iod.iod_size = sizeof(*di) + di->di_value_len;
	iod.iod_nr = 1;
	d_iov_set(&iov[0], (void *)di, sizeof(*di));
	d_iov_set(&iov[1], (void *)value, di->di_value_len);
	sgl = (d_sg_list_t){.sg_nr = di->di_value_len > 0 ? 2 : 1, .sg_iovs = iov};
	return daos_obj_update(oh, DAOS_TX_NONE, flags, &dkey, 1, &iod, &sgl, NULL);
}

/*
 * Punch entry @name of @oh and, in parallel (both on events of this thread's queue), the
 * whole object @oid (DAOS_OBJ_NIL: none, e.g. a symbolic link). -DER_* of the first failure.
 */
static int
ent_punch(dfs_t *dfs, daos_handle_t oh, const char *name, daos_obj_id_t oid)
{
	daos_event_t evs[2];
	daos_handle_t ooh = DAOS_HDL_INVAL;
	daos_key_t dkey;
	int nr = 0;
	int rc = 0;
	int i;

	d_iov_set(&dkey, (void *)name, strlen(name));
	if (daos_obj_id_is_nil(oid))
		return daos_obj_punch_dkeys(oh, DAOS_TX_NONE, 0, 1, &dkey, NULL);
	rc = daos_obj_open(dfs->dn_coh, oid, DAOS_OO_RW, &ooh, NULL);
	if (rc != 0)
		return rc;
	for (i = 0; i < 2 && rc == 0; i++) {
		rc = daos_event_init(&evs[i], DAOS_HDL_INVAL, NULL);
		if (rc != 0)
			break;
		nr++;
		if (i == 0)
			rc = daos_obj_punch_dkeys(oh, DAOS_TX_NONE, 0, 1, &dkey, &evs[i]);
		else
			rc = daos_obj_punch(ooh, DAOS_TX_NONE, 0, &evs[i]);
	}
	/* wait for every launched one: they use @dkey and @ooh until they complete */
	for (i = 0; i < nr; i++) {
		bool done = false;
		int rc2;

		rc2 = daos_event_test(&evs[i], DAOS_EQ_WAIT, &done);
		if (rc2 == 0)
			rc2 = evs[i].ev_error;
		if (rc == 0)
			rc = rc2;
		daos_event_fini(&evs[i]);
	}
	daos_obj_close(ooh, NULL);
	return rc;
}

/* A fresh object ID of @type and class @cid (0: @dfs's default for @type). */
static int
oid_alloc(dfs_t *dfs, enum daos_otype_t type, daos_oclass_id_t cid, daos_obj_id_t *oid)
{
	pthread_mutex_lock(&dfs->dn_oid_lock);
	if (dfs->dn_oid_next > UINT32_MAX) {
		if (getrandom(&dfs->dn_oid_lo, sizeof(dfs->dn_oid_lo), 0) != sizeof(dfs->dn_oid_lo))
			dfs->dn_oid_lo ^= now_ns();
		dfs->dn_oid_next = 0;
	}
	oid->lo = dfs->dn_oid_lo;
	oid->hi = dfs->dn_oid_next++;
	pthread_mutex_unlock(&dfs->dn_oid_lock);
	if (cid == 0)
		cid = dfs->dn_oclass != 0 ? dfs->dn_oclass
					  : (type == DAOS_OT_ARRAY_BYTE ? OC_SX : OC_S1);
	return der2errno(daos_obj_generate_oid(dfs->dn_coh, oid, type, cid, 0, 0));
}

static int
obj_build(dfs_t *dfs, daos_obj_id_t parent, const char *name, const struct dfs_inode_df *di,
	  char *value, int flags, dfs_obj_t **objp)
{
	dfs_obj_t *obj;
	int rc;

	D_ALLOC_PTR(obj);
	if (obj == NULL) {
		D_FREE(value);
		return ENOMEM;
	}
	obj->do_oid = inode_oid(di);
	obj->do_mode = di->di_mode;
	obj->do_flags = flags & O_ACCMODE;
	obj->do_parent_oid = parent;
	snprintf(obj->do_name, sizeof(obj->do_name), "%s", name);
	obj->do_chunk = di->di_chunk;
	obj->do_oclass = di->di_oclass;
	obj->do_value = value;
	if (S_ISREG(di->di_mode)) {
		rc = dfs__file_open(dfs, obj, flags);
	} else if (!S_ISLNK(di->di_mode)) {
		rc = der2errno(daos_obj_open(
		    dfs->dn_coh, obj->do_oid,
		    (flags & O_ACCMODE) == O_RDONLY ? DAOS_OO_RO : DAOS_OO_RW, &obj->do_oh, NULL));
	} else {
		rc = 0;
	}
	if (rc != 0) {
		D_FREE(obj->do_value);
		D_FREE(obj);
		return rc;
	}
	*objp = obj;
	return 0;
}

static dfs_obj_t *
parent_of(dfs_t *dfs, dfs_obj_t *parent)
{
	return parent == NULL ? dfs->dn_root : parent;
}

static int
dir_check(dfs_obj_t *dir)
{
	return S_ISDIR(dir->do_mode) ? 0 : ENOTDIR;
}

/* Open the directory object holding @obj's entry (the superblock for the root). */
static int
obj_parent_open(dfs_t *dfs, dfs_obj_t *obj, daos_handle_t *oh)
{
	return der2errno(daos_obj_open(dfs->dn_coh, obj->do_parent_oid, DAOS_OO_RW, oh, NULL));
}

int
dfs_init(void)
{
	return der2errno(daos_init());
}

int
dfs_fini(void)
{
	return der2errno(daos_fini());
}

/* The superblock values, one uint64 single value per akey. */
static void
sb_iods(daos_iod_t iods[DFS_SB_NAKEY], d_iov_t iovs[DFS_SB_NAKEY], d_sg_list_t sgls[DFS_SB_NAKEY],
	uint64_t vals[DFS_SB_NAKEY])
{
	static const char *names[DFS_SB_NAKEY] = {DFS_SB_MAGIC_AKEY, DFS_SB_VERSION_AKEY,
						  DFS_SB_LAYOUT_AKEY, DFS_SB_CHUNK_AKEY,
						  DFS_SB_OCLASS_AKEY};
	int i;

	for (i = 0; i < DFS_SB_NAKEY; i++) {
		memset(&iods[i], 0, sizeof(iods[i]));
		d_iov_set(&iods[i].iod_name, (void *)names[i], strlen(names[i]));
		iods[i].iod_type = DAOS_IOD_SINGLE;
		iods[i].iod_size = sizeof(uint64_t);
		iods[i].iod_nr = 1;
		d_iov_set(&iovs[i], &vals[i], sizeof(uint64_t));
		sgls[i] = (d_sg_list_t){.sg_nr = 1, .sg_iovs = &iovs[i]};
	}
}

/* Create the superblock and root of an empty container; EEXIST-free if another won. */
static int
sb_create(dfs_t *dfs)
{
	struct dfs_inode_df root = {0};
	daos_obj_id_t roid = {.lo = 1, .hi = 0};
	uint64_t vals[DFS_SB_NAKEY] = {DFS_SB_MAGIC, DFS_SB_VERSION, DFS_LAYOUT_VERSION,
				       DFS_DEFAULT_CHUNK_SIZE, 0};
	daos_iod_t iods[DFS_SB_NAKEY];
	d_iov_t iovs[DFS_SB_NAKEY];
	d_sg_list_t sgls[DFS_SB_NAKEY];
	daos_key_t dkey;
	int rc;

	rc = daos_obj_generate_oid(dfs->dn_coh, &roid, DAOS_OT_MULTI_HASHED, OC_S1, 0, 0);
	if (rc != 0)
		return der2errno(rc);
	root.di_mode = S_IFDIR | 0755;
	root.di_uid = geteuid();
	root.di_gid = getegid();
	root.di_oid_lo = roid.lo;
	root.di_oid_hi = roid.hi;
	root.di_oclass = 0; /* a directory's di_oclass is the default of what it will hold */
	root.di_atime = root.di_mtime = root.di_ctime = now_ns();
	rc = ent_store(dfs->dn_sb_oh, DFS_ROOT_NAME, &root, NULL, DAOS_COND_DKEY_INSERT);
	if (rc != 0 && rc != -DER_EXIST)
		return der2errno(rc);
	sb_iods(iods, iovs, sgls, vals);
	d_iov_set(&dkey, DFS_SB_DKEY, strlen(DFS_SB_DKEY));
	rc = daos_obj_update(dfs->dn_sb_oh, DAOS_TX_NONE, DAOS_COND_DKEY_INSERT, &dkey,
			     DFS_SB_NAKEY, iods, sgls, NULL);
	return rc == -DER_EXIST ? 0 : der2errno(rc);
}

/* Read and check the superblock: 0, ENOENT (none), EINVAL (not a DFS one). */
static int
sb_read(dfs_t *dfs)
{
	uint64_t vals[DFS_SB_NAKEY] = {0};
	daos_iod_t iods[DFS_SB_NAKEY];
	d_iov_t iovs[DFS_SB_NAKEY];
	d_sg_list_t sgls[DFS_SB_NAKEY];
	daos_key_t dkey;
	int i;
	int rc;

	sb_iods(iods, iovs, sgls, vals);
	for (i = 0; i < DFS_SB_NAKEY; i++)
		iods[i].iod_size = DAOS_REC_ANY;
	d_iov_set(&dkey, DFS_SB_DKEY, strlen(DFS_SB_DKEY));
	rc = daos_obj_fetch(dfs->dn_sb_oh, DAOS_TX_NONE, 0, &dkey, DFS_SB_NAKEY, iods, sgls, NULL,
			    NULL);
	if (rc == -DER_REC2BIG)
		return EINVAL;
	if (rc != 0)
		return der2errno(rc);
	if (iods[0].iod_size == 0)
		return ENOENT;
	for (i = 0; i < DFS_SB_NAKEY; i++)
		if (iods[i].iod_size != sizeof(uint64_t))
			return EINVAL;
	if (vals[0] != DFS_SB_MAGIC || vals[1] != DFS_SB_VERSION || vals[2] != DFS_LAYOUT_VERSION ||
	    vals[3] == 0 || vals[4] > UINT32_MAX)
		return EINVAL;
	dfs->dn_chunk = vals[3];
	dfs->dn_oclass = (daos_oclass_id_t)vals[4];
	return 0;
}

static int
ns_alloc(daos_handle_t poh, daos_handle_t coh, int flags, dfs_t **dfsp)
{
	daos_obj_id_t sboid = {.lo = 0, .hi = 0};
	dfs_t *dfs;
	int rc;

	D_ALLOC_PTR(dfs);
	if (dfs == NULL)
		return ENOMEM;
	dfs->dn_poh = poh;
	dfs->dn_coh = coh;
	dfs->dn_flags = flags;
	dfs->dn_rdonly = (flags & O_ACCMODE) == O_RDONLY;
	pthread_mutex_init(&dfs->dn_oid_lock, NULL);
	pthread_mutex_init(&dfs->dn_lc_lock, NULL);
	D_ALLOC_ARRAY(dfs->dn_lc, DFS_LC_SLOTS); /* none: no guesses, stats still work */
	dfs->dn_oid_next = UINT32_MAX + 1ULL;    /* draw dn_oid_lo on first use */
	rc = daos_obj_generate_oid(coh, &sboid, DAOS_OT_MULTI_HASHED, OC_S1, 0, 0);
	if (rc == 0)
		rc = daos_obj_open(coh, sboid, DAOS_OO_RW, &dfs->dn_sb_oh, NULL);
	if (rc != 0) {
		pthread_mutex_destroy(&dfs->dn_oid_lock);
		pthread_mutex_destroy(&dfs->dn_lc_lock);
		D_FREE(dfs->dn_lc);
		D_FREE(dfs);
		return der2errno(rc);
	}
	*dfsp = dfs;
	return 0;
}

static void
ns_free(dfs_t *dfs)
{
	if (dfs->dn_root != NULL)
		dfs_release(dfs->dn_root);
	daos_obj_close(dfs->dn_sb_oh, NULL);
	pthread_mutex_destroy(&dfs->dn_oid_lock);
	pthread_mutex_destroy(&dfs->dn_lc_lock);
	D_FREE(dfs->dn_lc);
	D_FREE(dfs->dn_prefix);
	D_FREE(dfs);
}

static int
root_open(dfs_t *dfs)
{
	struct dfs_inode_df di;
	daos_obj_id_t sboid;
	int rc;

	rc = ent_fetch(dfs->dn_sb_oh, DFS_ROOT_NAME, &di, NULL);
	if (rc == ENOENT)
		rc = EINVAL; /* a superblock without a root */
	if (rc == 0 && !S_ISDIR(di.di_mode))
		rc = EINVAL;
	if (rc != 0)
		return rc;
	sboid = (daos_obj_id_t){.lo = 0, .hi = 0};
	rc = daos_obj_generate_oid(dfs->dn_coh, &sboid, DAOS_OT_MULTI_HASHED, OC_S1, 0, 0);
	if (rc != 0)
		return der2errno(rc);
	return obj_build(dfs, sboid, DFS_ROOT_NAME, &di, NULL, dfs->dn_flags, &dfs->dn_root);
}

int
dfs_mount(daos_handle_t poh, daos_handle_t coh, int flags, dfs_t **dfsp)
{
	dfs_t *dfs;
	int acc = flags & O_ACCMODE;
	int rc;

	if (dfsp == NULL || (acc != O_RDONLY && acc != O_RDWR))
		return EINVAL;
	rc = ns_alloc(poh, coh, flags, &dfs);
	if (rc != 0)
		return rc;
	rc = sb_read(dfs);
	if (rc == ENOENT && !dfs->dn_rdonly) {
		rc = sb_create(dfs);
		if (rc == 0)
			rc = sb_read(dfs);
	}
	if (rc == 0)
		rc = root_open(dfs);
	if (rc != 0) {
		ns_free(dfs);
		return rc;
	}
	*dfsp = dfs;
	return 0;
}

int
dfs_umount(dfs_t *dfs)
{
	if (dfs == NULL)
		return EINVAL;
	ns_free(dfs);
	return 0;
}

int
dfs_pool_get(dfs_t *dfs, daos_handle_t *poh)
{
	if (dfs == NULL || poh == NULL)
		return EINVAL;
	*poh = dfs->dn_poh;
	return 0;
}

int
dfs_pool_put(dfs_t *dfs, daos_handle_t poh)
{
	return dfs == NULL || poh.cookie != dfs->dn_poh.cookie ? EINVAL : 0;
}

int
dfs_cont_get(dfs_t *dfs, daos_handle_t *coh)
{
	if (dfs == NULL || coh == NULL)
		return EINVAL;
	*coh = dfs->dn_coh;
	return 0;
}

int
dfs_cont_put(dfs_t *dfs, daos_handle_t coh)
{
	return dfs == NULL || coh.cookie != dfs->dn_coh.cookie ? EINVAL : 0;
}

int
dfs_query(dfs_t *dfs, dfs_attr_t *attr)
{
	if (dfs == NULL || attr == NULL)
		return EINVAL;
	memset(attr, 0, sizeof(*attr));
	attr->da_chunk_size = dfs->dn_chunk;
	attr->da_oclass_id = dfs->dn_oclass;
	attr->da_mode = (uint32_t)(dfs->dn_flags & DFS_BALANCED);
	return 0;
}

/* The mount blob: what global2local needs besides the handles. */
struct dfs_glob_df {
	uint32_t dg_magic;
	int32_t dg_flags;
	uint64_t dg_chunk;
	uint64_t dg_oclass;
};

int
dfs_local2global(dfs_t *dfs, d_iov_t *glob)
{
	struct dfs_glob_df g;

	if (dfs == NULL || glob == NULL)
		return EINVAL;
	if (glob->iov_buf == NULL) {
		glob->iov_buf_len = sizeof(g);
		return 0;
	}
	if (glob->iov_buf_len < sizeof(g))
		return ERANGE;
	g = (struct dfs_glob_df){.dg_magic = DFS_GLOB_MAGIC,
				 .dg_flags = dfs->dn_flags,
				 .dg_chunk = dfs->dn_chunk,
				 .dg_oclass = dfs->dn_oclass};
	memcpy(glob->iov_buf, &g, sizeof(g));
	glob->iov_len = sizeof(g);
	return 0;
}

int
dfs_global2local(daos_handle_t poh, daos_handle_t coh, int flags, d_iov_t glob, dfs_t **dfsp)
{
	struct dfs_glob_df g;
	dfs_t *dfs;
	int rc;

	if (dfsp == NULL || glob.iov_buf == NULL || glob.iov_len < sizeof(g))
		return EINVAL;
	memcpy(&g, glob.iov_buf, sizeof(g));
	if (g.dg_magic != DFS_GLOB_MAGIC || g.dg_chunk == 0 || g.dg_oclass > UINT32_MAX)
		return EINVAL;
	rc = ns_alloc(poh, coh, flags != 0 ? flags : g.dg_flags, &dfs);
	if (rc != 0)
		return rc;
	dfs->dn_chunk = g.dg_chunk;
	dfs->dn_oclass = (daos_oclass_id_t)g.dg_oclass;
	rc = root_open(dfs);
	if (rc != 0) {
		ns_free(dfs);
		return rc;
	}
	*dfsp = dfs;
	return 0;
}

int
dfs_set_prefix(dfs_t *dfs, const char *prefix)
{
	char *p = NULL;

	if (dfs == NULL || (prefix != NULL && prefix[0] != '/'))
		return EINVAL;
	if (prefix != NULL) {
		p = strdup(prefix);
		if (p == NULL)
			return ENOMEM;
		while (strlen(p) > 1 && p[strlen(p) - 1] == '/')
			p[strlen(p) - 1] = '\0';
	}
	free(dfs->dn_prefix);
	dfs->dn_prefix = p;
	return 0;
}

int
dfs_obj2id(dfs_obj_t *obj, daos_obj_id_t *oid)
{
	if (obj == NULL || oid == NULL)
		return EINVAL;
	*oid = obj->do_oid;
	return 0;
}

int
dfs_release(dfs_obj_t *obj)
{
	if (obj == NULL)
		return EINVAL;
	if (S_ISREG(obj->do_mode))
		dfs__file_close(obj);
	else if (!S_ISLNK(obj->do_mode))
		daos_obj_close(obj->do_oh, NULL);
	D_FREE(obj->do_value);
	D_FREE(obj);
	return 0;
}

int
dfs_dup(dfs_t *dfs, dfs_obj_t *obj, int flags, dfs_obj_t **new_obj)
{
	struct dfs_inode_df di = {0};
	char *value = NULL;

	if (dfs == NULL || obj == NULL || new_obj == NULL)
		return EINVAL;
	di.di_mode = obj->do_mode;
	di.di_oid_lo = obj->do_oid.lo;
	di.di_oid_hi = obj->do_oid.hi;
	di.di_chunk = obj->do_chunk;
	di.di_oclass = obj->do_oclass;
	if (obj->do_value != NULL) {
		value = strdup(obj->do_value);
		if (value == NULL)
			return ENOMEM;
	}
	return obj_build(dfs, obj->do_parent_oid, obj->do_name, &di, value, flags, new_obj);
}

static void
ts_set(struct timespec *ts, uint64_t ns)
{
	ts->tv_sec = (time_t)(ns / 1000000000ULL);
	ts->tv_nsec = (long)(ns % 1000000000ULL);
}

static void
inode2stat(const struct dfs_inode_df *di, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = di->di_mode;
	st->st_uid = di->di_uid;
	st->st_gid = di->di_gid;
	st->st_nlink = 1;
	if (S_ISLNK(di->di_mode))
		st->st_size = (off_t)di->di_value_len;
	st->st_blksize = S_ISREG(di->di_mode) ? (blksize_t)di->di_chunk : 0;
	st->st_blocks = (blkcnt_t)((st->st_size + 511) / 512);
	ts_set(&st->st_atim, di->di_atime);
	ts_set(&st->st_mtim, di->di_mtime);
	ts_set(&st->st_ctim, di->di_ctime);
}

/* The size of a file in @st: from the array (open handle @oh, or opened from @di). */
static int
stat_file_size(dfs_t *dfs, const struct dfs_inode_df *di, dfs_obj_t *obj, struct stat *st)
{
	daos_size_t size;
	int rc;

	if (!S_ISREG(di->di_mode))
		return 0;
	if (obj != NULL)
		rc = der2errno(daos_array_get_size(obj->do_oh, DAOS_TX_NONE, &size, NULL));
	else
		rc = dfs__file_size(dfs, inode_oid(di), di->di_chunk, &size);
	if (rc != 0)
		return rc;
	st->st_size = (off_t)size;
	st->st_blocks = (blkcnt_t)((size + 511) / 512);
	return 0;
}

int
dfs_lookup_rel(dfs_t *dfs, dfs_obj_t *parent, const char *name, int flags, dfs_obj_t **obj,
	       mode_t *mode, struct stat *stbuf)
{
	struct dfs_inode_df di;
	char *value = NULL;
	int rc;

	if (dfs == NULL || obj == NULL)
		return EINVAL;
	parent = parent_of(dfs, parent);
	rc = name_check(name);
	if (rc == 0)
		rc = dir_check(parent);
	if (rc == 0)
		rc = ent_fetch(parent->do_oh, name, &di, &value);
	if (rc == 0) {
		lc_set(dfs, parent->do_oid, name, &di);
		rc = obj_build(dfs, parent->do_oid, name, &di, value, flags, obj);
	}
	if (rc != 0)
		return rc;
	if (mode != NULL)
		*mode = (*obj)->do_mode;
	if (stbuf != NULL) {
		/* the entry just fetched: only a file's size is asked of its array */
		inode2stat(&di, stbuf);
		rc = stat_file_size(dfs, &di, *obj, stbuf);
		if (rc != 0) {
			dfs_release(*obj);
			*obj = NULL;
		}
	}
	return rc;
}

/*
 * Walk @path (relative to directory @start; "." components skipped, ".." unsupported) and
 * open what it names. Symbolic links are followed, the last one only without O_NOFOLLOW.
 * The entry of what was opened is left in *@di when one was fetched (*@have_di), that is
 * unless the path named @start itself.
 */
static int
path_walk(dfs_t *dfs, dfs_obj_t *start, const char *path, int flags, int depth, dfs_obj_t **objp,
	  struct dfs_inode_df *last_di, bool *have_di)
{
	dfs_obj_t *cur;
	char *copy;
	char *save = NULL;
	char *comp;
	int rc;

	*have_di = false;
	rc = dfs_dup(dfs, start, flags, &cur);
	if (rc != 0)
		return rc;
	copy = strdup(path);
	if (copy == NULL) {
		dfs_release(cur);
		return ENOMEM;
	}
	for (comp = strtok_r(copy, "/", &save); comp != NULL; comp = strtok_r(NULL, "/", &save)) {
		struct dfs_inode_df di;
		char *value = NULL;
		char *rest = save;
		bool last;
		dfs_obj_t *next;

		if (strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0 || strlen(comp) > DFS_MAX_NAME) {
			rc = EINVAL;
			break;
		}
		rc = dir_check(cur);
		if (rc == 0)
			rc = ent_fetch(cur->do_oh, comp, &di, &value);
		if (rc != 0)
			break;
		while (rest != NULL && *rest == '/')
			rest++;
		last = rest == NULL || *rest == '\0';
		if (S_ISLNK(di.di_mode) && (!last || !(flags & O_NOFOLLOW))) {
			char *np;
			dfs_obj_t *from = value[0] == '/' ? dfs->dn_root : cur;

			if (depth >= DFS_LINK_MAX) {
				D_FREE(value);
				rc = ELOOP;
				break;
			}
			if (asprintf(&np, "%s/%s", value, last ? "" : rest) < 0) {
				D_FREE(value);
				rc = ENOMEM;
				break;
			}
			D_FREE(value);
			rc = path_walk(dfs, from, np, flags, depth + 1, &next, last_di, have_di);
			free(np);
			dfs_release(cur);
			cur = NULL;
			if (rc == 0)
				cur = next;
			break;
		}
		rc = obj_build(dfs, cur->do_oid, comp, &di, value, flags, &next);
		if (rc != 0)
			break;
		*last_di = di;
		*have_di = true;
		dfs_release(cur);
		cur = next;
	}
	free(copy);
	if (rc != 0) {
		if (cur != NULL)
			dfs_release(cur);
		return rc;
	}
	*objp = cur;
	return 0;
}

int
dfs_lookup(dfs_t *dfs, const char *path, int flags, dfs_obj_t **obj, mode_t *mode,
	   struct stat *stbuf)
{
	struct dfs_inode_df di;
	bool have_di;
	size_t plen;
	int rc;

	if (dfs == NULL || path == NULL || obj == NULL || path[0] != '/')
		return EINVAL;
	if (strnlen(path, DFS_MAX_PATH + 1) > DFS_MAX_PATH)
		return ENAMETOOLONG;
	if (dfs->dn_prefix != NULL && strcmp(dfs->dn_prefix, "/") != 0) {
		plen = strlen(dfs->dn_prefix);
		if (strncmp(path, dfs->dn_prefix, plen) != 0 ||
		    (path[plen] != '\0' && path[plen] != '/'))
			return ENOENT;
		path += plen;
	}
	rc = path_walk(dfs, dfs->dn_root, path, flags, 0, obj, &di, &have_di);
	if (rc != 0)
		return rc;
	if (mode != NULL)
		*mode = (*obj)->do_mode;
	if (stbuf != NULL) {
		/* the last entry fetched by the walk; the root's own needs a fetch */
		if (have_di) {
			inode2stat(&di, stbuf);
			rc = stat_file_size(dfs, &di, *obj, stbuf);
		} else {
			rc = dfs_ostat(dfs, *obj, stbuf);
		}
		if (rc != 0) {
			dfs_release(*obj);
			*obj = NULL;
		}
	}
	return rc;
}

/*
 * dfs_open, and with @stbuf (only with O_CREAT) the attributes of what was created or found:
 * the new entry's (a new file is empty: no size query), or the fetched one's with the size
 * of an existing file from its array (0 after O_TRUNC).
 */
static int
open_stat(dfs_t *dfs, dfs_obj_t *parent, const char *name, mode_t mode, int flags,
	  daos_oclass_id_t cid, daos_size_t chunk_size, const char *value, dfs_obj_t **obj,
	  struct stat *stbuf)
{
	struct dfs_inode_df di = {0};
	mode_t type = mode & S_IFMT;
	char *val = NULL;
	int rc;

	if (dfs == NULL || obj == NULL)
		return EINVAL;
	if (stbuf != NULL && !(flags & O_CREAT))
		return ENOTSUP; /* as DAOS: a plain open has dfs_lookup_rel for that */
	parent = parent_of(dfs, parent);
	rc = name_check(name);
	if (rc == 0)
		rc = dir_check(parent);
	if (rc != 0)
		return rc;
	if (type != S_IFREG && type != S_IFDIR && type != S_IFLNK)
		return EINVAL;
	if (flags & O_APPEND)
		return ENOTSUP;
	if ((flags & O_CREAT) && dfs->dn_rdonly)
		return EPERM;
	if ((flags & O_ACCMODE) != O_RDONLY && dfs->dn_rdonly)
		return EPERM;

	if (flags & O_CREAT) {
		size_t vlen = 0;

		if (type == S_IFLNK) {
			if (value == NULL)
				return EINVAL;
			vlen = strnlen(value, DFS_MAX_PATH + 1);
			if (vlen == 0 || vlen > DFS_MAX_PATH)
				return EINVAL;
		}
		di.di_mode = (uint32_t)mode;
		/* as DAOS: dfs_open_stat creates on behalf of stbuf's owner */
		di.di_uid = stbuf != NULL ? (uint32_t)stbuf->st_uid : geteuid();
		di.di_gid = stbuf != NULL ? (uint32_t)stbuf->st_gid : getegid();
		di.di_atime = di.di_mtime = di.di_ctime = now_ns();
		di.di_value_len = vlen;
		if (type != S_IFLNK) {
			daos_obj_id_t oid;

			/* class and chunk size: the caller's, the parent's, the mount's */
			if (cid == 0)
				cid = parent->do_oclass;
			if (type == S_IFREG) {
				if (chunk_size == 0)
					chunk_size = parent->do_chunk;
				di.di_chunk = chunk_size != 0 ? chunk_size : dfs->dn_chunk;
				rc = oid_alloc(dfs, DAOS_OT_ARRAY_BYTE, cid, &oid);
			} else {
				/* a directory passes its parent's defaults on */
				di.di_chunk = parent->do_chunk;
				rc = oid_alloc(dfs, DAOS_OT_MULTI_HASHED, cid, &oid);
			}
			if (rc != 0)
				return rc;
			di.di_oid_lo = oid.lo;
			di.di_oid_hi = oid.hi;
			di.di_oclass = type == S_IFREG ? daos_obj_id2class(oid) : parent->do_oclass;
		}
		rc = ent_store(parent->do_oh, name, &di, value, DAOS_COND_DKEY_INSERT);
		if (rc == 0) {
			if (type == S_IFLNK) {
				val = strdup(value);
				if (val == NULL)
					return ENOMEM;
			}
			lc_set(dfs, parent->do_oid, name, &di);
			/* a new file is empty: O_TRUNC has nothing to do */
			rc = obj_build(dfs, parent->do_oid, name, &di, val, flags, obj);
			if (rc == 0 && stbuf != NULL)
				inode2stat(&di, stbuf);
			return rc;
		}
		if (rc != -DER_EXIST)
			return der2errno(rc);
		if (flags & O_EXCL)
			return EEXIST;
	}
	rc = ent_fetch(parent->do_oh, name, &di, &val);
	if (rc != 0)
		return rc;
	lc_set(dfs, parent->do_oid, name, &di);
	if (type == S_IFDIR && !S_ISDIR(di.di_mode))
		rc = ENOTDIR;
	else if (type == S_IFREG && S_ISDIR(di.di_mode))
		rc = EISDIR;
	else if (type == S_IFREG && S_ISLNK(di.di_mode))
		rc = EINVAL;
	else if (type == S_IFLNK && !S_ISLNK(di.di_mode))
		rc = EINVAL;
	if (rc != 0) {
		D_FREE(val);
		return rc;
	}
	rc = obj_build(dfs, parent->do_oid, name, &di, val, flags, obj);
	if (rc != 0)
		return rc;
	if (S_ISREG(di.di_mode) && (flags & O_TRUNC) && (flags & O_ACCMODE) != O_RDONLY) {
		rc = dfs__file_truncate(dfs, *obj, 0);
		if (rc == 0 && stbuf != NULL)
			inode2stat(&di, stbuf); /* empty now */
	} else if (stbuf != NULL) {
		inode2stat(&di, stbuf);
		rc = stat_file_size(dfs, &di, *obj, stbuf);
	}
	if (rc != 0) {
		dfs_release(*obj);
		*obj = NULL;
	}
	return rc;
}

int
dfs_open(dfs_t *dfs, dfs_obj_t *parent, const char *name, mode_t mode, int flags,
	 daos_oclass_id_t cid, daos_size_t chunk_size, const char *value, dfs_obj_t **obj)
{
	return open_stat(dfs, parent, name, mode, flags, cid, chunk_size, value, obj, NULL);
}

int
dfs_open_stat(dfs_t *dfs, dfs_obj_t *parent, const char *name, mode_t mode, int flags,
	      daos_oclass_id_t cid, daos_size_t chunk_size, const char *value, dfs_obj_t **obj,
	      struct stat *stbuf)
{
	return open_stat(dfs, parent, name, mode, flags, cid, chunk_size, value, obj, stbuf);
}

int
dfs_mkdir(dfs_t *dfs, dfs_obj_t *parent, const char *name, mode_t mode, daos_oclass_id_t cid)
{
	dfs_obj_t *obj;
	int rc;

	rc = dfs_open(dfs, parent, name, S_IFDIR | (mode & ~S_IFMT), O_RDWR | O_CREAT | O_EXCL, cid,
		      0, NULL, &obj);
	if (rc == 0)
		dfs_release(obj);
	return rc;
}

int
dfs_get_mode(dfs_obj_t *obj, mode_t *mode)
{
	if (obj == NULL || mode == NULL)
		return EINVAL;
	*mode = obj->do_mode;
	return 0;
}

int
dfs_obj_get_info(dfs_t *dfs, dfs_obj_t *obj, dfs_obj_info_t *info)
{
	if (dfs == NULL || obj == NULL || info == NULL)
		return EINVAL;
	memset(info, 0, sizeof(*info));
	info->doi_oid = obj->do_oid;
	if (S_ISLNK(obj->do_mode))
		return 0;
	info->doi_oclass_id = daos_obj_id2class(obj->do_oid);
	if (S_ISREG(obj->do_mode)) {
		info->doi_chunk_size = obj->do_chunk;
		return 0;
	}
	/* a directory: the defaults of what will be created in it */
	info->doi_chunk_size = obj->do_chunk != 0 ? obj->do_chunk : dfs->dn_chunk;
	if (obj->do_oclass != 0) {
		info->doi_dir_oclass_id = obj->do_oclass;
		info->doi_file_oclass_id = obj->do_oclass;
	} else {
		info->doi_dir_oclass_id = dfs->dn_oclass != 0 ? dfs->dn_oclass : OC_S1;
		info->doi_file_oclass_id = dfs->dn_oclass != 0 ? dfs->dn_oclass : OC_SX;
	}
	return 0;
}

int
dfs_get_symlink_value(dfs_obj_t *obj, char *buf, daos_size_t *size)
{
	daos_size_t need;

	if (obj == NULL || size == NULL || !S_ISLNK(obj->do_mode) || obj->do_value == NULL)
		return EINVAL;
	need = strlen(obj->do_value) + 1;
	if (buf != NULL && *size > 0) {
		daos_size_t n = need < *size ? need : *size;

		memcpy(buf, obj->do_value, n);
		buf[n - 1] = '\0';
	}
	*size = need;
	return 0;
}

/*
 * Fetch entry @name of directory object @poh into *@di and, at the same time, the size of
 * the file @oid (chunk size @chunk) into *@size: through its open array handle @aoh, or
 * (DAOS_HDL_INVAL) by opening it. The fetch goes out on an event of this thread's queue and
 * the size query, blocking, progresses both: one round trip instead of two. *@size_rc is
 * the size query's outcome (positive errno). Returns the fetch's outcome (positive errno),
 * or -1 when the fetch failed in a way a plain ent_fetch() handles better (a stale pool map
 * is refreshed only by blocking calls): the caller then does it the usual way.
 */
static int
ent_fetch_with_size(dfs_t *dfs, daos_handle_t poh, const char *name, struct dfs_inode_df *di,
		    daos_obj_id_t oid, uint64_t chunk, daos_handle_t aoh, daos_size_t *size,
		    int *size_rc)
{
	struct ent_fetch_op op;
	daos_event_t ev;
	bool done = false;
	int rc;
	int rc2;

	if (daos_event_init(&ev, DAOS_HDL_INVAL, NULL) != 0)
		return -1;
	rc = ent_fetch_begin(poh, name, &op, &ev);
	if (rc != 0)
		*size_rc = EINVAL;
	else if (daos_handle_is_valid(aoh))
		*size_rc = der2errno(daos_array_get_size(aoh, DAOS_TX_NONE, size, NULL));
	else
		*size_rc = dfs__file_size(dfs, oid, chunk, size);
	/* launched or not, the event is settled before its buffers go */
	rc2 = daos_event_test(&ev, DAOS_EQ_WAIT, &done);
	if (rc == 0)
		rc = rc2 != 0 ? rc2 : ev.ev_error;
	daos_event_fini(&ev);
	if (rc != 0) {
		ent_fetch_end(&op, rc, di, NULL);
		return -1;
	}
	return ent_fetch_end(&op, 0, di, NULL);
}

/* DAOS_DFS_STAT_ONE=0 in the environment: no fetch and query requests (A/B; read once). */
static bool
stat_one_on(void)
{
	static int off = -1;

	return !d_getenv_is_once(&off, "DAOS_DFS_STAT_ONE", "0");
}

/*
 * As ent_fetch_with_size, in ONE request (daos_obj_fetch_query): the directory's target
 * fetches the entry and, right after, asks the engine's targets for the file's largest chunk
 * (the array's size query: max dkey = chunk index + 1 and its last extent of akey "0", cell
 * size 1, as dc_array.c reads it). The size is of the object @oid, asked after the entry was
 * read: the caller keeps it only if the entry names @oid (then the size is that file's, or
 * 0 if it was replaced and punched since, as a stat racing the replacement may see). Returns
 * -2 (nothing decided) when it cannot be one request (the file's groups on other engines,
 * an engine without the opcode: -DER_NOSYS): the caller asks the two apart.
 */
static int
ent_fetch_size_one(dfs_t *dfs, daos_handle_t poh, const char *name, struct dfs_inode_df *di,
		   daos_obj_id_t oid, uint64_t chunk, daos_size_t *size, int *size_rc)
{
	struct ent_fetch_op op;
	daos_handle_t ooh;
	uint64_t dkey_val = 0;
	char akey_val = '0';
	daos_key_t qdkey;
	daos_key_t qakey;
	daos_recx_t recx = {0};
	int qrc = -DER_NONEXIST;
	int rc;

	if (!stat_one_on())
		return -2;
	if (daos_obj_open(dfs->dn_coh, oid, DAOS_OO_RO, &ooh, NULL) != 0)
		return -2;
	rc = ent_fetch_prep(name, &op);
	if (rc != 0) {
		daos_obj_close(ooh, NULL);
		return -2;
	}
	d_iov_set(&qdkey, &dkey_val, sizeof(dkey_val));
	d_iov_set(&qakey, &akey_val, 1);
	rc = daos_obj_fetch_query(poh, &op.ef_dkey, 1, &op.ef_iod, &op.ef_sgl, ooh,
				  DAOS_GET_MAX | DAOS_GET_DKEY | DAOS_GET_RECX, &qdkey, &qakey,
				  &recx, &qrc, NULL);
	daos_obj_close(ooh, NULL);
	if (rc != 0) {
		ent_fetch_end(&op, rc, di, NULL);
		return rc == -DER_NOSYS ? -2 : -1;
	}
	if (chunk == 0)
		chunk = dfs->dn_chunk;
	*size_rc = 0;
	if (qrc == -DER_NONEXIST || (qrc == 0 && dkey_val == 0))
		*size = 0;
	else if (qrc == 0)
		*size = (dkey_val - 1) * chunk + recx.rx_idx + recx.rx_nr;
	else
		*size_rc = der2errno(qrc);
	return ent_fetch_end(&op, 0, di, NULL);
}

static void
stat_size_set(struct stat *st, daos_size_t size)
{
	st->st_size = (off_t)size;
	st->st_blocks = (blkcnt_t)((size + 511) / 512);
}

int
dfs_stat(dfs_t *dfs, dfs_obj_t *parent, const char *name, struct stat *stbuf)
{
	struct dfs_inode_df di;
	daos_obj_id_t oid;
	daos_size_t size = 0;
	uint64_t chunk;
	int size_rc;
	int rc;

	if (dfs == NULL || stbuf == NULL)
		return EINVAL;
	parent = parent_of(dfs, parent);
	if (name == NULL)
		return dfs_ostat(dfs, parent, stbuf);
	rc = name_check(name);
	if (rc == 0)
		rc = dir_check(parent);
	if (rc != 0)
		return rc;
	rc = -1;
	if (lc_get(dfs, parent->do_oid, name, &oid, &chunk)) {
		rc = ent_fetch_size_one(dfs, parent->do_oh, name, &di, oid, chunk, &size, &size_rc);
		if (rc == -2)
			rc = ent_fetch_with_size(dfs, parent->do_oh, name, &di, oid, chunk,
						 DAOS_HDL_INVAL, &size, &size_rc);
	}
	if (rc == 0) {
		inode2stat(&di, stbuf);
		lc_set(dfs, parent->do_oid, name, &di);
		/* the guess is kept only if the entry names that very file */
		if (S_ISREG(di.di_mode) && size_rc == 0 && di.di_oid_lo == oid.lo &&
		    di.di_oid_hi == oid.hi && di.di_chunk == chunk) {
			stat_size_set(stbuf, size);
			return 0;
		}
		return stat_file_size(dfs, &di, NULL, stbuf);
	}
	if (rc != -1)
		return rc;
	rc = ent_fetch(parent->do_oh, name, &di, NULL);
	if (rc == 0) {
		inode2stat(&di, stbuf);
		/*
		 * not remembered (pushed out, or never seen): taken only into a free way. Stats
		 * walk names in the order they were created (ls -l, dfs_perf): in a set that
		 * overflowed, a stat pushing its oldest name out made every later name of the set
		 * miss in turn, 12-14 % of 4000 stats instead of the 3 % that overflowed.
		 */
		lc_put(dfs, parent->do_oid, name, &di, false);
		rc = stat_file_size(dfs, &di, NULL, stbuf);
	}
	return rc;
}

/* Fetch the current entry of @obj through its parent directory object. */
static int
obj_inode(dfs_t *dfs, dfs_obj_t *obj, daos_handle_t *poh, struct dfs_inode_df *di, char **value)
{
	int rc;

	rc = obj_parent_open(dfs, obj, poh);
	if (rc != 0)
		return rc;
	rc = ent_fetch(*poh, obj->do_name, di, value);
	if (rc == 0 && (di->di_oid_lo != obj->do_oid.lo || di->di_oid_hi != obj->do_oid.hi)) {
		rc = ENOENT; /* the name now refers to another object */
		if (value != NULL)
			D_FREE(*value); /* that object's symlink target */
	}
	if (rc != 0)
		daos_obj_close(*poh, NULL);
	return rc;
}

int
dfs_ostat(dfs_t *dfs, dfs_obj_t *obj, struct stat *stbuf)
{
	struct dfs_inode_df di;
	daos_handle_t poh;
	int rc;

	if (dfs == NULL || obj == NULL || stbuf == NULL)
		return EINVAL;
	if (S_ISREG(obj->do_mode)) {
		daos_size_t size = 0;
		int size_rc;

		/* the entry and the size of the open file at once */
		rc = obj_parent_open(dfs, obj, &poh);
		if (rc != 0)
			return rc;
		rc = ent_fetch_size_one(dfs, poh, obj->do_name, &di, obj->do_oid, obj->do_chunk,
					&size, &size_rc);
		if (rc == -2)
			rc = ent_fetch_with_size(dfs, poh, obj->do_name, &di, obj->do_oid,
						 obj->do_chunk, obj->do_oh, &size, &size_rc);
		daos_obj_close(poh, NULL);
		if (rc == 0 && (di.di_oid_lo != obj->do_oid.lo || di.di_oid_hi != obj->do_oid.hi))
			return ENOENT; /* the name now refers to another object */
		if (rc == 0 && size_rc != 0)
			return size_rc;
		if (rc == 0) {
			inode2stat(&di, stbuf);
			stat_size_set(stbuf, size);
			return 0;
		}
		if (rc != -1)
			return rc;
	}
	rc = obj_inode(dfs, obj, &poh, &di, NULL);
	if (rc != 0)
		return rc;
	daos_obj_close(poh, NULL);
	inode2stat(&di, stbuf);
	return stat_file_size(dfs, &di, obj, stbuf);
}

int
dfs__ent_update(dfs_t *dfs, dfs_obj_t *obj, void (*set)(struct dfs_inode_df *di, void *arg),
		void *arg)
{
	struct dfs_inode_df di;
	daos_handle_t poh;
	char *value = NULL;
	int rc;

	rc = obj_inode(dfs, obj, &poh, &di, &value);
	if (rc != 0)
		return rc;
	set(&di, arg);
	di.di_ctime = now_ns();
	rc = der2errno(ent_store(poh, obj->do_name, &di, value, DAOS_COND_DKEY_UPDATE));
	daos_obj_close(poh, NULL);
	D_FREE(value);
	return rc;
}

int
dfs_osetattr(dfs_t *dfs, dfs_obj_t *obj, struct stat *stbuf, int flags)
{
	struct dfs_inode_df di;
	daos_handle_t poh;
	char *value = NULL;
	int rc;

	if (dfs == NULL || obj == NULL || stbuf == NULL)
		return EINVAL;
	if (dfs->dn_rdonly)
		return EPERM;
	if (flags & ~(DFS_SET_ATTR_MODE | DFS_SET_ATTR_ATIME | DFS_SET_ATTR_MTIME |
		      DFS_SET_ATTR_SIZE | DFS_SET_ATTR_UID | DFS_SET_ATTR_GID))
		return EINVAL;
	if ((flags & DFS_SET_ATTR_SIZE) && !S_ISREG(obj->do_mode))
		return EINVAL;
	rc = obj_inode(dfs, obj, &poh, &di, &value);
	if (rc != 0)
		return rc;
	if (flags & DFS_SET_ATTR_SIZE) {
		/* the data first: a failed truncation leaves the entry as it was */
		rc = dfs__file_truncate(dfs, obj, (daos_size_t)stbuf->st_size);
		if (rc != 0) {
			daos_obj_close(poh, NULL);
			D_FREE(value);
			return rc;
		}
		if (!(flags & DFS_SET_ATTR_MTIME))
			di.di_mtime = now_ns();
	}
	if (flags & DFS_SET_ATTR_MODE)
		di.di_mode = (di.di_mode & S_IFMT) | (stbuf->st_mode & ~S_IFMT);
	if (flags & DFS_SET_ATTR_UID)
		di.di_uid = stbuf->st_uid;
	if (flags & DFS_SET_ATTR_GID)
		di.di_gid = stbuf->st_gid;
	if (flags & DFS_SET_ATTR_ATIME)
		di.di_atime = (uint64_t)stbuf->st_atim.tv_sec * 1000000000ULL +
			      (uint64_t)stbuf->st_atim.tv_nsec;
	if (flags & DFS_SET_ATTR_MTIME)
		di.di_mtime = (uint64_t)stbuf->st_mtim.tv_sec * 1000000000ULL +
			      (uint64_t)stbuf->st_mtim.tv_nsec;
	if (flags != 0)
		di.di_ctime = now_ns();
	rc = der2errno(ent_store(poh, obj->do_name, &di, value, DAOS_COND_DKEY_UPDATE));
	daos_obj_close(poh, NULL);
	D_FREE(value);
	if (rc == 0) {
		obj->do_mode = di.di_mode;
		inode2stat(&di, stbuf);
		rc = stat_file_size(dfs, &di, obj, stbuf);
	}
	return rc;
}

/* Open what entry @name of @parent refers to, following a symbolic link unless @nofollow. */
static int
ent_open_follow(dfs_t *dfs, dfs_obj_t *parent, const char *name, bool nofollow, int flags,
		dfs_obj_t **obj)
{
	struct dfs_inode_df di;
	bool have_di;
	int rc;

	parent = parent_of(dfs, parent);
	rc = name_check(name);
	if (rc == 0)
		rc = dir_check(parent);
	if (rc != 0)
		return rc;
	return path_walk(dfs, parent, name, flags | (nofollow ? O_NOFOLLOW : 0), 0, obj, &di,
			 &have_di);
}

int
dfs_chmod(dfs_t *dfs, dfs_obj_t *parent, const char *name, mode_t mode)
{
	struct stat st = {.st_mode = mode};
	dfs_obj_t *obj;
	int rc;

	if (dfs == NULL)
		return EINVAL;
	if ((mode & S_IFMT) != 0 && (mode & S_IFMT) != S_IFREG && (mode & S_IFMT) != S_IFDIR)
		return EINVAL;
	if (dfs->dn_rdonly)
		return EPERM;
	rc = ent_open_follow(dfs, parent, name, false, O_RDWR, &obj);
	if (rc != 0)
		return rc;
	if ((mode & S_IFMT) != 0 && (mode & S_IFMT) != (obj->do_mode & S_IFMT))
		rc = EINVAL;
	else
		rc = dfs_osetattr(dfs, obj, &st, DFS_SET_ATTR_MODE);
	dfs_release(obj);
	return rc;
}

int
dfs_chown(dfs_t *dfs, dfs_obj_t *parent, const char *name, uid_t uid, gid_t gid, int flags)
{
	struct stat st = {.st_uid = uid, .st_gid = gid};
	dfs_obj_t *obj;
	int set = 0;
	int rc;

	if (dfs == NULL)
		return EINVAL;
	if (dfs->dn_rdonly)
		return EPERM;
	if (uid != (uid_t)-1)
		set |= DFS_SET_ATTR_UID;
	if (gid != (gid_t)-1)
		set |= DFS_SET_ATTR_GID;
	rc = ent_open_follow(dfs, parent, name, (flags & O_NOFOLLOW) != 0, O_RDWR, &obj);
	if (rc != 0)
		return rc;
	if (set != 0)
		rc = dfs_osetattr(dfs, obj, &st, set);
	dfs_release(obj);
	return rc;
}

int
dfs_access(dfs_t *dfs, dfs_obj_t *parent, const char *name, int mask)
{
	struct stat st;
	dfs_obj_t *obj;
	mode_t bits;
	uid_t uid = geteuid();
	int rc;

	if (dfs == NULL || (mask & ~(F_OK | R_OK | W_OK | X_OK)) != 0)
		return EINVAL;
	if (name == NULL)
		rc = dfs_dup(dfs, parent_of(dfs, parent), O_RDONLY, &obj);
	else
		rc = ent_open_follow(dfs, parent, name, false, O_RDONLY, &obj);
	if (rc != 0)
		return rc;
	rc = dfs_ostat(dfs, obj, &st);
	dfs_release(obj);
	if (rc != 0 || mask == F_OK)
		return rc;
	if ((mask & W_OK) && dfs->dn_rdonly)
		return EROFS;
	if (uid == 0) {
		if ((mask & X_OK) && !(st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)))
			return EACCES;
		return 0;
	}
	if (st.st_uid == uid)
		bits = (st.st_mode >> 6) & 7;
	else if (st.st_gid == getegid())
		bits = (st.st_mode >> 3) & 7;
	else
		bits = st.st_mode & 7;
	if (((mask & R_OK) && !(bits & 4)) || ((mask & W_OK) && !(bits & 2)) ||
	    ((mask & X_OK) && !(bits & 1)))
		return EACCES;
	return 0;
}

/*
 * List up to *@nr dkeys of directory @dir from @anchor, calling @cb per name; @size bounds the
 * bytes of names fetched at once (0: no bound beyond *@nr names).
 */
static int
dir_list(dfs_t *dfs, dfs_obj_t *dir, daos_anchor_t *anchor, uint32_t *nr, size_t size,
	 int (*cb)(dfs_t *, dfs_obj_t *, const char *, void *, uint32_t), void *arg)
{
	uint32_t want = *nr;
	uint32_t done = 0;
	daos_key_desc_t *kds;
	char *buf;
	size_t blen;
	char name[DFS_MAX_NAME + 1];
	int rc = 0;

	if (want == 0) {
		*nr = 0;
		return 0;
	}
	blen = (size_t)want * (DFS_MAX_NAME + 1);
	if (size != 0 && size < blen)
		blen = size < DFS_MAX_NAME + 1 ? DFS_MAX_NAME + 1 : size;
	D_ALLOC_ARRAY(kds, want);
	D_ALLOC(buf, blen);
	if (kds == NULL || buf == NULL) {
		rc = ENOMEM;
		goto out;
	}
	while (done < want && !daos_anchor_is_eof(anchor)) {
		uint32_t n = want - done;
		d_iov_t iov;
		d_sg_list_t sgl;
		char *p = buf;
		uint32_t i;

		d_iov_set(&iov, buf, blen);
		sgl = (d_sg_list_t){.sg_nr = 1, .sg_iovs = &iov};
		rc = der2errno(
		    daos_obj_list_dkey(dir->do_oh, DAOS_TX_NONE, &n, kds, &sgl, anchor, NULL));
		if (rc != 0)
			break;
		for (i = 0; i < n; i++) {
			size_t klen = kds[i].kd_key_len;

			if (klen > DFS_MAX_NAME) {
				rc = EIO;
				goto out;
			}
			memcpy(name, p, klen);
			name[klen] = '\0';
			p += klen;
			rc = cb(dfs, dir, name, arg, done);
			if (rc != 0)
				goto out;
			done++;
		}
		if (size != 0)
			break; /* dfs_iterate: one buffer's worth */
	}
out:
	D_FREE(kds);
	D_FREE(buf);
	*nr = done;
	return rc;
}

static int
readdir_cb(dfs_t *dfs, dfs_obj_t *dir, const char *name, void *arg, uint32_t idx)
{
	struct dirent *dirs = arg;

	(void)dfs, (void)dir;
	memset(&dirs[idx], 0, sizeof(dirs[idx]));
	snprintf(dirs[idx].d_name, sizeof(dirs[idx].d_name), "%s", name);
	dirs[idx].d_type = DT_UNKNOWN;
	return 0;
}

int
dfs_readdir(dfs_t *dfs, dfs_obj_t *obj, daos_anchor_t *anchor, uint32_t *nr, struct dirent *dirs)
{
	if (dfs == NULL || obj == NULL || anchor == NULL || nr == NULL || dirs == NULL)
		return EINVAL;
	if (!S_ISDIR(obj->do_mode))
		return ENOTDIR;
	return dir_list(dfs, obj, anchor, nr, 0, readdir_cb, dirs);
}

struct iter_arg {
	dfs_filler_cb_t ia_op;
	void *ia_arg;
};

static int
iterate_cb(dfs_t *dfs, dfs_obj_t *dir, const char *name, void *arg, uint32_t idx)
{
	struct iter_arg *ia = arg;

	(void)idx;
	return ia->ia_op == NULL ? 0 : ia->ia_op(dfs, dir, name, ia->ia_arg);
}

int
dfs_iterate(dfs_t *dfs, dfs_obj_t *obj, daos_anchor_t *anchor, uint32_t *nr, size_t size,
	    dfs_filler_cb_t op, void *arg)
{
	struct iter_arg ia = {.ia_op = op, .ia_arg = arg};

	if (dfs == NULL || obj == NULL || anchor == NULL || nr == NULL)
		return EINVAL;
	if (!S_ISDIR(obj->do_mode))
		return ENOTDIR;
	return dir_list(dfs, obj, anchor, nr, size == 0 ? 1 : size, iterate_cb, &ia);
}

int
dfs_obj_anchor_split(dfs_obj_t *obj, uint32_t *nr, daos_anchor_t *anchors)
{
	if (obj == NULL || nr == NULL || !S_ISDIR(obj->do_mode))
		return EINVAL;
	(void)anchors;
	return ENOTSUP; /* daos_obj_anchor_split() is not in libdaos yet */
}

int
dfs_obj_anchor_set(dfs_obj_t *obj, uint32_t index, daos_anchor_t *anchor)
{
	if (obj == NULL || anchor == NULL || !S_ISDIR(obj->do_mode))
		return EINVAL;
	(void)index;
	return ENOTSUP;
}

/* Is directory object @oh empty? */
static int
dir_empty(daos_handle_t oh, bool *empty)
{
	daos_anchor_t anchor = DAOS_ANCHOR_INIT;
	daos_key_desc_t kd;
	char buf[DFS_MAX_NAME + 1];
	d_iov_t iov;
	d_sg_list_t sgl;
	uint32_t n;
	int rc;

	*empty = true;
	while (!daos_anchor_is_eof(&anchor)) {
		n = 1;
		d_iov_set(&iov, buf, sizeof(buf));
		sgl = (d_sg_list_t){.sg_nr = 1, .sg_iovs = &iov};
		rc = daos_obj_list_dkey(oh, DAOS_TX_NONE, &n, &kd, &sgl, &anchor, NULL);
		if (rc != 0)
			return der2errno(rc);
		if (n > 0) {
			*empty = false;
			break;
		}
	}
	return 0;
}

static int ent_remove(dfs_t *dfs, daos_handle_t poh, const char *name, bool force,
		      daos_obj_id_t *oid);

static int
rm_child_cb(dfs_t *dfs, dfs_obj_t *dir, const char *name, void *arg, uint32_t idx)
{
	(void)arg, (void)idx;
	return ent_remove(dfs, dir->do_oh, name, true, NULL);
}

/* Remove everything under directory object @oid. */
static int
dir_clear(dfs_t *dfs, daos_obj_id_t oid)
{
	struct dfs_inode_df di = {.di_mode = S_IFDIR, .di_oid_lo = oid.lo, .di_oid_hi = oid.hi};
	dfs_obj_t *dir;
	int rc;

	rc = obj_build(dfs, DAOS_OBJ_NIL, "", &di, NULL, O_RDWR, &dir);
	if (rc != 0)
		return rc;
	/* entries removed while listing: restart from the top until empty */
	for (;;) {
		daos_anchor_t anchor = DAOS_ANCHOR_INIT;
		uint32_t nr = 64;

		rc = dir_list(dfs, dir, &anchor, &nr, 0, rm_child_cb, NULL);
		if (rc != 0 || nr == 0)
			break;
	}
	dfs_release(dir);
	return rc;
}

static int
ent_remove(dfs_t *dfs, daos_handle_t poh, const char *name, bool force, daos_obj_id_t *oid)
{
	struct dfs_inode_df di;
	daos_handle_t oh;
	int rc;

	rc = ent_fetch(poh, name, &di, NULL);
	if (rc != 0)
		return rc;
	if (S_ISDIR(di.di_mode)) {
		bool empty;

		rc = daos_obj_open(dfs->dn_coh, inode_oid(&di), DAOS_OO_RW, &oh, NULL);
		if (rc != 0)
			return der2errno(rc);
		rc = dir_empty(oh, &empty);
		daos_obj_close(oh, NULL);
		if (rc != 0)
			return rc;
		if (!empty && !force)
			return ENOTEMPTY;
		if (!empty) {
			rc = dir_clear(dfs, inode_oid(&di));
			if (rc != 0)
				return rc;
		}
	}
	/* the entry and the object it names are punched at once (relaxed mode: no order) */
	rc = der2errno(
	    ent_punch(dfs, poh, name, S_ISLNK(di.di_mode) ? DAOS_OBJ_NIL : inode_oid(&di)));
	if (rc == 0 && oid != NULL)
		*oid = inode_oid(&di);
	return rc;
}

int
dfs_remove(dfs_t *dfs, dfs_obj_t *parent, const char *name, bool force, daos_obj_id_t *oid)
{
	int rc;

	if (dfs == NULL)
		return EINVAL;
	if (dfs->dn_rdonly)
		return EPERM;
	parent = parent_of(dfs, parent);
	rc = name_check(name);
	if (rc == 0)
		rc = dir_check(parent);
	if (rc == 0) {
		lc_set(dfs, parent->do_oid, name, NULL);
		rc = ent_remove(dfs, parent->do_oh, name, force, oid);
	}
	return rc;
}

/* Copy the extended attributes of entry @src of @soh to entry @dst of @doh. */
static int
xattrs_copy(daos_handle_t soh, const char *src, daos_handle_t doh, const char *dst)
{
	daos_anchor_t anchor = DAOS_ANCHOR_INIT;
	daos_key_t sdkey;
	daos_key_t ddkey;
	char kbuf[DFS_XATTR_PREFIX_LEN + DFS_MAX_XATTR_NAME + 1];
	char *val;
	int rc = 0;

	D_ALLOC(val, DFS_MAX_XATTR_LEN);
	if (val == NULL)
		return ENOMEM;
	d_iov_set(&sdkey, (void *)src, strlen(src));
	d_iov_set(&ddkey, (void *)dst, strlen(dst));
	while (!daos_anchor_is_eof(&anchor)) {
		daos_key_desc_t kd;
		daos_iod_t iod = {0};
		d_iov_t iov;
		d_sg_list_t sgl;
		uint32_t n = 1;

		d_iov_set(&iov, kbuf, sizeof(kbuf));
		sgl = (d_sg_list_t){.sg_nr = 1, .sg_iovs = &iov};
		rc = der2errno(
		    daos_obj_list_akey(soh, DAOS_TX_NONE, &sdkey, &n, &kd, &sgl, &anchor, NULL));
		if (rc != 0)
			break;
		if (n == 0 || kd.kd_key_len < DFS_XATTR_PREFIX_LEN ||
		    memcmp(kbuf, DFS_XATTR_PREFIX, DFS_XATTR_PREFIX_LEN) != 0)
			continue;
		d_iov_set(&iod.iod_name, kbuf, kd.kd_key_len);
		iod.iod_type = DAOS_IOD_SINGLE;
		iod.iod_size = DAOS_REC_ANY;
		iod.iod_nr = 1;
		d_iov_set(&iov, val, DFS_MAX_XATTR_LEN);
		rc = der2errno(
		    daos_obj_fetch(soh, DAOS_TX_NONE, 0, &sdkey, 1, &iod, &sgl, NULL, NULL));
		if (rc != 0)
			break;
		if (iod.iod_size == 0)
			continue;
		iov.iov_len = iod.iod_size;
		rc = der2errno(daos_obj_update(doh, DAOS_TX_NONE, 0, &ddkey, 1, &iod, &sgl, NULL));
		if (rc != 0)
			break;
	}
	D_FREE(val);
	return rc;
}

int
dfs_move(dfs_t *dfs, dfs_obj_t *parent, const char *name, dfs_obj_t *new_parent,
	 const char *new_name, daos_obj_id_t *oid)
{
	struct dfs_inode_df si;
	struct dfs_inode_df di;
	char *value = NULL;
	int rc;

	if (dfs == NULL)
		return EINVAL;
	if (dfs->dn_rdonly)
		return EPERM;
	parent = parent_of(dfs, parent);
	new_parent = parent_of(dfs, new_parent);
	rc = name_check(name);
	if (rc == 0)
		rc = name_check(new_name);
	if (rc == 0)
		rc = dir_check(parent);
	if (rc == 0)
		rc = dir_check(new_parent);
	if (rc != 0)
		return rc;
	if (oid != NULL)
		*oid = DAOS_OBJ_NIL;
	rc = ent_fetch(parent->do_oh, name, &si, &value);
	if (rc != 0)
		return rc;
	/* guesses about both names would be wrong from now on (harmless, but wasted RPCs) */
	lc_set(dfs, parent->do_oid, name, NULL);
	lc_set(dfs, new_parent->do_oid, new_name, NULL);
	if (S_ISDIR(si.di_mode) && new_parent->do_oid.lo == si.di_oid_lo &&
	    new_parent->do_oid.hi == si.di_oid_hi) {
		rc = EINVAL; /* into itself */
		goto out;
	}
	if (parent->do_oid.lo == new_parent->do_oid.lo &&
	    parent->do_oid.hi == new_parent->do_oid.hi && strcmp(name, new_name) == 0)
		goto out;
	rc = ent_fetch(new_parent->do_oh, new_name, &di, NULL);
	if (rc == 0) {
		if (di.di_oid_lo == si.di_oid_lo && di.di_oid_hi == si.di_oid_hi &&
		    !S_ISLNK(si.di_mode))
			goto out; /* the same object */
		if (S_ISDIR(di.di_mode) && !S_ISDIR(si.di_mode)) {
			rc = EISDIR;
			goto out;
		}
		if (!S_ISDIR(di.di_mode) && S_ISDIR(si.di_mode)) {
			rc = ENOTDIR;
			goto out;
		}
		/* an empty directory or anything else: removed first */
		rc = ent_remove(dfs, new_parent->do_oh, new_name, false, oid);
		if (rc != 0)
			goto out;
	} else if (rc != ENOENT) {
		goto out;
	}
	si.di_ctime = now_ns();
	rc = der2errno(ent_store(new_parent->do_oh, new_name, &si, value, DAOS_COND_DKEY_INSERT));
	if (rc == EEXIST)
		rc = EBUSY; /* a concurrent creation took the name */
	if (rc == 0)
		rc = xattrs_copy(parent->do_oh, name, new_parent->do_oh, new_name);
	if (rc == 0)
		rc = der2errno(ent_punch(dfs, parent->do_oh, name, DAOS_OBJ_NIL));
out:
	D_FREE(value);
	return rc;
}

int
dfs_exchange(dfs_t *dfs, dfs_obj_t *parent1, const char *name1, dfs_obj_t *parent2,
	     const char *name2)
{
	struct dfs_inode_df d1;
	struct dfs_inode_df d2;
	char *v1 = NULL;
	char *v2 = NULL;
	int rc;

	if (dfs == NULL)
		return EINVAL;
	if (dfs->dn_rdonly)
		return EPERM;
	parent1 = parent_of(dfs, parent1);
	parent2 = parent_of(dfs, parent2);
	rc = name_check(name1);
	if (rc == 0)
		rc = name_check(name2);
	if (rc == 0) {
		lc_set(dfs, parent1->do_oid, name1, NULL);
		lc_set(dfs, parent2->do_oid, name2, NULL);
		rc = ent_fetch(parent1->do_oh, name1, &d1, &v1);
	}
	if (rc == 0)
		rc = ent_fetch(parent2->do_oh, name2, &d2, &v2);
	if (rc == 0)
		rc = der2errno(ent_store(parent1->do_oh, name1, &d2, v2, DAOS_COND_DKEY_UPDATE));
	if (rc == 0)
		rc = der2errno(ent_store(parent2->do_oh, name2, &d1, v1, DAOS_COND_DKEY_UPDATE));
	D_FREE(v1);
	D_FREE(v2);
	return rc;
}

int
dfs_update_parent(dfs_obj_t *obj, dfs_obj_t *src_obj, const char *name)
{
	if (obj == NULL || src_obj == NULL)
		return EINVAL;
	obj->do_parent_oid = src_obj->do_parent_oid;
	if (name != NULL) {
		if (name_check(name) != 0)
			return EINVAL;
		snprintf(obj->do_name, sizeof(obj->do_name), "%s", name);
	}
	return 0;
}

int
dfs_sync(dfs_t *dfs)
{
	/* every update is durable when it returns */
	return dfs == NULL ? EINVAL : 0;
}

static int
xattr_key(const char *name, char *buf, d_iov_t *akey)
{
	size_t len;

	if (name == NULL)
		return EINVAL;
	len = strnlen(name, DFS_MAX_XATTR_NAME + 1);
	if (len == 0 || len > DFS_MAX_XATTR_NAME)
		return EINVAL;
	memcpy(buf, DFS_XATTR_PREFIX, DFS_XATTR_PREFIX_LEN);
	memcpy(buf + DFS_XATTR_PREFIX_LEN, name, len);
	d_iov_set(akey, buf, DFS_XATTR_PREFIX_LEN + len);
	return 0;
}

int
dfs_setxattr(dfs_t *dfs, dfs_obj_t *obj, const char *name, const void *value, daos_size_t size,
	     int flags)
{
	char kbuf[DFS_XATTR_PREFIX_LEN + DFS_MAX_XATTR_NAME];
	daos_handle_t poh;
	daos_key_t dkey;
	daos_iod_t iod = {0};
	d_iov_t iov;
	d_sg_list_t sgl;
	uint64_t cond = 0;
	int rc;

	if (dfs == NULL || obj == NULL || (value == NULL && size != 0) ||
	    size > DFS_MAX_XATTR_LEN || (flags & ~(XATTR_CREATE | XATTR_REPLACE)) != 0 ||
	    flags == (XATTR_CREATE | XATTR_REPLACE))
		return EINVAL;
	if (dfs->dn_rdonly)
		return EPERM;
	rc = xattr_key(name, kbuf, &iod.iod_name);
	if (rc != 0)
		return rc;
	if (size == 0)
		return EINVAL; /* an empty value would read as a missing one */
	if (flags & XATTR_CREATE)
		cond = DAOS_COND_AKEY_INSERT;
	else if (flags & XATTR_REPLACE)
		cond = DAOS_COND_AKEY_UPDATE;
	rc = obj_parent_open(dfs, obj, &poh);
	if (rc != 0)
		return rc;
	d_iov_set(&dkey, obj->do_name, strlen(obj->do_name));
	iod.iod_type = DAOS_IOD_SINGLE;
	iod.iod_size = size;
	iod.iod_nr = 1;
	d_iov_set(&iov, (void *)value, size);
	sgl = (d_sg_list_t){.sg_nr = 1, .sg_iovs = &iov};
	rc = daos_obj_update(poh, DAOS_TX_NONE, cond, &dkey, 1, &iod, &sgl, NULL);
	daos_obj_close(poh, NULL);
	if (rc == -DER_NONEXIST)
		return ENODATA;
	return der2errno(rc);
}

int
dfs_getxattr(dfs_t *dfs, dfs_obj_t *obj, const char *name, void *value, daos_size_t *size)
{
	char kbuf[DFS_XATTR_PREFIX_LEN + DFS_MAX_XATTR_NAME];
	daos_handle_t poh;
	daos_key_t dkey;
	daos_iod_t iod = {0};
	d_iov_t iov;
	d_sg_list_t sgl;
	char *tmp;
	int rc;

	if (dfs == NULL || obj == NULL || size == NULL)
		return EINVAL;
	rc = xattr_key(name, kbuf, &iod.iod_name);
	if (rc != 0)
		return rc;
	D_ALLOC(tmp, DFS_MAX_XATTR_LEN);
	if (tmp == NULL)
		return ENOMEM;
	rc = obj_parent_open(dfs, obj, &poh);
	if (rc != 0)
		goto out;
	d_iov_set(&dkey, obj->do_name, strlen(obj->do_name));
	iod.iod_type = DAOS_IOD_SINGLE;
	iod.iod_size = DAOS_REC_ANY;
	iod.iod_nr = 1;
	d_iov_set(&iov, tmp, DFS_MAX_XATTR_LEN);
	sgl = (d_sg_list_t){.sg_nr = 1, .sg_iovs = &iov};
	rc = der2errno(daos_obj_fetch(poh, DAOS_TX_NONE, 0, &dkey, 1, &iod, &sgl, NULL, NULL));
	daos_obj_close(poh, NULL);
	if (rc != 0)
		goto out;
	if (iod.iod_size == 0) {
		rc = ENODATA;
		goto out;
	}
	if (*size != 0) {
		if (value == NULL)
			rc = EINVAL;
		else if (*size < iod.iod_size)
			rc = ERANGE;
		else
			memcpy(value, tmp, iod.iod_size);
	}
	*size = iod.iod_size;
out:
	D_FREE(tmp);
	return rc;
}

int
dfs_removexattr(dfs_t *dfs, dfs_obj_t *obj, const char *name)
{
	char kbuf[DFS_XATTR_PREFIX_LEN + DFS_MAX_XATTR_NAME];
	daos_handle_t poh;
	daos_key_t dkey;
	daos_key_t akey;
	int rc;

	if (dfs == NULL || obj == NULL)
		return EINVAL;
	if (dfs->dn_rdonly)
		return EPERM;
	rc = xattr_key(name, kbuf, &akey);
	if (rc != 0)
		return rc;
	rc = obj_parent_open(dfs, obj, &poh);
	if (rc != 0)
		return rc;
	d_iov_set(&dkey, obj->do_name, strlen(obj->do_name));
	rc = daos_obj_punch_akeys(poh, DAOS_TX_NONE, DAOS_COND_PUNCH, &dkey, 1, &akey, NULL);
	daos_obj_close(poh, NULL);
	if (rc == -DER_NONEXIST)
		return ENODATA;
	return der2errno(rc);
}

int
dfs_listxattr(dfs_t *dfs, dfs_obj_t *obj, char *list, daos_size_t *size)
{
	daos_anchor_t anchor = DAOS_ANCHOR_INIT;
	char kbuf[DFS_XATTR_PREFIX_LEN + DFS_MAX_XATTR_NAME + 1];
	daos_handle_t poh;
	daos_key_t dkey;
	daos_size_t total = 0;
	bool fits = true;
	int rc = 0;

	if (dfs == NULL || obj == NULL || size == NULL)
		return EINVAL;
	rc = obj_parent_open(dfs, obj, &poh);
	if (rc != 0)
		return rc;
	d_iov_set(&dkey, obj->do_name, strlen(obj->do_name));
	while (!daos_anchor_is_eof(&anchor)) {
		daos_key_desc_t kd;
		d_iov_t iov;
		d_sg_list_t sgl;
		uint32_t n = 1;
		size_t len;

		d_iov_set(&iov, kbuf, sizeof(kbuf));
		sgl = (d_sg_list_t){.sg_nr = 1, .sg_iovs = &iov};
		rc = der2errno(
		    daos_obj_list_akey(poh, DAOS_TX_NONE, &dkey, &n, &kd, &sgl, &anchor, NULL));
		if (rc != 0)
			break;
		if (n == 0 || kd.kd_key_len <= DFS_XATTR_PREFIX_LEN ||
		    memcmp(kbuf, DFS_XATTR_PREFIX, DFS_XATTR_PREFIX_LEN) != 0)
			continue;
		len = kd.kd_key_len - DFS_XATTR_PREFIX_LEN;
		if (list != NULL && total + len + 1 <= *size) {
			memcpy(list + total, kbuf + DFS_XATTR_PREFIX_LEN, len);
			list[total + len] = '\0';
		} else {
			fits = false;
		}
		total += len + 1;
	}
	daos_obj_close(poh, NULL);
	if (rc != 0)
		return rc;
	if (list != NULL && *size != 0 && !fits)
		rc = ERANGE;
	*size = total;
	return rc;
}
