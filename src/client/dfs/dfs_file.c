/*
 * dfs_file.c: the data of regular files (daos_fs.h) over the Array API of libdaos: read,
 * write, punch, size, the layout defaults of directories, and global handles of open objects.
 *
 * A file is a byte array: cell size 1, the chunk size of its entry, opened with
 * daos_array_open_with_attr() as DAOS's DFS does, so no array metadata is ever written; the
 * entry (dfs_ns.c) is what remembers the chunk size. The size of a file is the size of its
 * array; a punch that reaches the end of the file is a truncation (daos_array_set_size).
 *
 * Events: the array layer does its work in the calling thread. An operation given an event
 * therefore runs to completion first; the event then carries an empty array read of the
 * file (no I/O), whose completion a callback turns into the positive errno of the result,
 * so the event is already completed when the call returns (daos_eq_poll() and
 * daos_event_test() return it at once).
 */
#define D_LOGFAC dfs

#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include <daos.h>
#include <gurt/common.h>

#include "dfs_internal.h"

#define DFS_OBJ_GLOB_MAGIC 0xdf500b90U

static inline int
der2errno(int rc)
{
	return rc == 0 ? 0 : d_der2errno(rc);
}

static daos_size_t
sgl_len(const d_sg_list_t *sgl)
{
	daos_size_t len = 0;
	uint32_t i;

	if (sgl == NULL || sgl->sg_iovs == NULL)
		return 0;
	for (i = 0; i < sgl->sg_nr; i++)
		len += sgl->sg_iovs[i].iov_len;
	return len;
}

/*
 * Completion of an event after the work is done. The callback registered on the event turns
 * the (successful) completion of the empty read into fe_err. The caller and the callback each
 * swap fe_state once; whichever comes second frees the record (the callback may run after
 * the caller returns when the event still has children, or never when the launch failed).
 */
enum { FE_ARMED, FE_LAUNCHED, FE_DISARMED, FE_RAN };

struct file_ev {
	int fe_err;
	atomic_int fe_state;
};

static int
file_ev_cb(void *arg, daos_event_t *ev, int rc)
{
	struct file_ev *fe = arg;
	int old = atomic_exchange(&fe->fe_state, FE_RAN);
	int err = old != FE_DISARMED ? fe->fe_err : 0;

	(void)ev, (void)rc;
	if (old != FE_ARMED)
		D_FREE(fe);
	return err;
}

/* Launch and complete @ev with positive errno @err. Returns 0 or why @ev could not launch. */
static int
file_ev_complete(dfs_obj_t *obj, daos_event_t *ev, int err)
{
	daos_array_iod_t iod = {0};
	d_sg_list_t sgl = {0};
	struct file_ev *fe;
	int rc;

	D_ALLOC_PTR(fe);
	if (fe == NULL)
		return ENOMEM;
	fe->fe_err = err;
	atomic_init(&fe->fe_state, FE_ARMED);
	rc = daos_event_register_comp_cb(ev, file_ev_cb, fe);
	if (rc != 0) {
		D_FREE(fe);
		return der2errno(rc);
	}
	/* nothing to read: launched and completed in place */
	rc = daos_array_read(obj->do_oh, DAOS_TX_NONE, &iod, &sgl, ev);
	if (atomic_exchange(&fe->fe_state, rc == 0 ? FE_LAUNCHED : FE_DISARMED) == FE_RAN)
		D_FREE(fe);
	return der2errno(rc);
}

/* Return @err, or with an event, complete the event with it and return 0. */
static int
file_done(dfs_obj_t *obj, daos_event_t *ev, int err)
{
	return ev == NULL ? err : file_ev_complete(obj, ev, err);
}

static int
file_check(dfs_t *dfs, dfs_obj_t *obj)
{
	if (dfs == NULL || obj == NULL)
		return EINVAL;
	return S_ISREG(obj->do_mode) ? 0 : EINVAL;
}

static int
file_write_check(dfs_t *dfs, dfs_obj_t *obj)
{
	int rc = file_check(dfs, obj);

	if (rc != 0)
		return rc;
	if (dfs->dn_rdonly || (obj->do_flags & O_ACCMODE) == O_RDONLY)
		return EPERM;
	return 0;
}

int
dfs__file_open(dfs_t *dfs, dfs_obj_t *obj, int flags)
{
	unsigned int mode = (flags & O_ACCMODE) == O_RDONLY ? DAOS_OO_RO : DAOS_OO_RW;

	D_ASSERT(S_ISREG(obj->do_mode));
	if (obj->do_chunk == 0)
		obj->do_chunk = dfs->dn_chunk;
	return der2errno(daos_array_open_with_attr(dfs->dn_coh, obj->do_oid, DAOS_TX_NONE, mode, 1,
						   obj->do_chunk, &obj->do_oh, NULL));
}

void
dfs__file_close(dfs_obj_t *obj)
{
	D_ASSERT(S_ISREG(obj->do_mode));
	daos_array_close(obj->do_oh, NULL);
}

int
dfs__file_size(dfs_t *dfs, daos_obj_id_t oid, daos_size_t chunk, daos_size_t *size)
{
	daos_handle_t oh;
	int rc;

	rc = daos_array_open_with_attr(dfs->dn_coh, oid, DAOS_TX_NONE, DAOS_OO_RO, 1,
				       chunk != 0 ? chunk : dfs->dn_chunk, &oh, NULL);
	if (rc != 0)
		return der2errno(rc);
	rc = daos_array_get_size(oh, DAOS_TX_NONE, size, NULL);
	daos_array_close(oh, NULL);
	return der2errno(rc);
}

int
dfs__file_truncate(dfs_t *dfs, dfs_obj_t *obj, daos_size_t size)
{
	daos_handle_t oh = obj->do_oh;
	int rc;

	/* a read-only handle may still truncate (setattr); the mount was checked by the caller */
	if ((obj->do_flags & O_ACCMODE) == O_RDONLY) {
		rc = daos_array_open_with_attr(dfs->dn_coh, obj->do_oid, DAOS_TX_NONE, DAOS_OO_RW,
					       1, obj->do_chunk, &oh, NULL);
		if (rc != 0)
			return der2errno(rc);
	}
	rc = daos_array_set_size(oh, DAOS_TX_NONE, size, NULL);
	if (oh.cookie != obj->do_oh.cookie)
		daos_array_close(oh, NULL);
	return der2errno(rc);
}

/*
 * Did every range of @iod end in a non-zero byte of @sgl (read back-to-back)? Then each
 * ends below the end of the file: bytes that were never written read as zero. The array
 * layer does not say where the data it found ends (no extent maps yet), so this spares the
 * size query of most reads.
 */
static bool
ranges_end_in_data(const dfs_iod_t *iod, const d_sg_list_t *sgl)
{
	daos_size_t pos = 0;
	daos_size_t base = 0;
	uint32_t v = 0;
	daos_size_t i;

	for (i = 0; i < iod->iod_nr; i++) {
		if (iod->iod_rgs[i].rg_len == 0)
			continue;
		pos += iod->iod_rgs[i].rg_len;
		/* the iov holding stream byte pos - 1 */
		while (v < sgl->sg_nr && base + sgl->sg_iovs[v].iov_len < pos)
			base += sgl->sg_iovs[v++].iov_len;
		if (v == sgl->sg_nr ||
		    ((const uint8_t *)sgl->sg_iovs[v].iov_buf)[pos - 1 - base] == 0)
			return false;
	}
	return true;
}

/* Read the ranges of @iod into @sgl; *@read_size: the bytes of the ranges below the EOF. */
static int
file_read(dfs_obj_t *obj, dfs_iod_t *iod, d_sg_list_t *sgl, daos_size_t *read_size)
{
	daos_array_iod_t aiod = {.arr_nr = iod->iod_nr, .arr_rgs = iod->iod_rgs};
	daos_size_t total = 0;
	daos_size_t size;
	daos_size_t i;
	int rc;

	for (i = 0; i < iod->iod_nr; i++)
		total += iod->iod_rgs[i].rg_len;
	if (total == 0) {
		*read_size = 0;
		return 0;
	}
	rc = daos_array_read(obj->do_oh, DAOS_TX_NONE, &aiod, sgl, NULL);
	if (rc != 0)
		return der2errno(rc);
	if (aiod.arr_nr_short_read == 0 && ranges_end_in_data(iod, sgl)) {
		*read_size = total;
		return 0;
	}
	/* a range may end in a hole or past the end: only the size says which */
	rc = daos_array_get_size(obj->do_oh, DAOS_TX_NONE, &size, NULL);
	if (rc != 0)
		return der2errno(rc);
	*read_size = 0;
	for (i = 0; i < iod->iod_nr; i++) {
		daos_range_t *rg = &iod->iod_rgs[i];

		if (rg->rg_idx < size)
			*read_size +=
			    size - rg->rg_idx < rg->rg_len ? size - rg->rg_idx : rg->rg_len;
	}
	return 0;
}

static int
file_read_check(dfs_t *dfs, dfs_obj_t *obj, d_sg_list_t *sgl, daos_size_t *read_size)
{
	int rc = file_check(dfs, obj);

	if (rc != 0)
		return rc;
	if (sgl == NULL || read_size == NULL)
		return EINVAL;
	if ((obj->do_flags & O_ACCMODE) == O_WRONLY)
		return EPERM;
	return 0;
}

int
dfs_read(dfs_t *dfs, dfs_obj_t *obj, d_sg_list_t *sgl, daos_off_t off, daos_size_t *read_size,
	 daos_event_t *ev)
{
	daos_range_t rg;
	dfs_iod_t iod = {.iod_nr = 1, .iod_rgs = &rg};
	int rc;

	rc = file_read_check(dfs, obj, sgl, read_size);
	if (rc != 0)
		return rc;
	rg.rg_idx = off;
	rg.rg_len = sgl_len(sgl);
	return file_done(obj, ev, file_read(obj, &iod, sgl, read_size));
}

int
dfs_readx(dfs_t *dfs, dfs_obj_t *obj, dfs_iod_t *iod, d_sg_list_t *sgl, daos_size_t *read_size,
	  daos_event_t *ev)
{
	int rc;

	rc = file_read_check(dfs, obj, sgl, read_size);
	if (rc != 0)
		return rc;
	if (iod == NULL || (iod->iod_nr > 0 && iod->iod_rgs == NULL))
		return EINVAL;
	return file_done(obj, ev, file_read(obj, iod, sgl, read_size));
}

static int
file_write(dfs_obj_t *obj, daos_size_t nr, daos_range_t *rgs, d_sg_list_t *sgl)
{
	daos_array_iod_t aiod = {.arr_nr = nr, .arr_rgs = rgs};
	daos_size_t total = 0;
	daos_size_t i;

	for (i = 0; i < nr; i++)
		total += rgs[i].rg_len;
	if (total == 0 && sgl_len(sgl) == 0)
		return 0;
	return der2errno(daos_array_write(obj->do_oh, DAOS_TX_NONE, &aiod, sgl, NULL));
}

int
dfs_write(dfs_t *dfs, dfs_obj_t *obj, d_sg_list_t *sgl, daos_off_t off, daos_event_t *ev)
{
	daos_range_t rg;
	int rc;

	rc = file_write_check(dfs, obj);
	if (rc != 0)
		return rc;
	rg.rg_idx = off;
	rg.rg_len = sgl_len(sgl);
	return file_done(obj, ev, file_write(obj, 1, &rg, sgl));
}

int
dfs_writex(dfs_t *dfs, dfs_obj_t *obj, dfs_iod_t *iod, d_sg_list_t *sgl, daos_event_t *ev)
{
	int rc;

	rc = file_write_check(dfs, obj);
	if (rc != 0)
		return rc;
	if (iod == NULL || (iod->iod_nr > 0 && iod->iod_rgs == NULL))
		return EINVAL;
	return file_done(obj, ev, file_write(obj, iod->iod_nr, iod->iod_rgs, sgl));
}

int
dfs_get_size(dfs_t *dfs, dfs_obj_t *obj, daos_size_t *size)
{
	int rc = file_check(dfs, obj);

	if (rc != 0)
		return rc;
	if (size == NULL)
		return EINVAL;
	return der2errno(daos_array_get_size(obj->do_oh, DAOS_TX_NONE, size, NULL));
}

int
dfs_punch(dfs_t *dfs, dfs_obj_t *obj, daos_off_t offset, daos_size_t len)
{
	daos_array_iod_t iod;
	daos_range_t rg;
	daos_size_t size;
	daos_off_t end;
	int rc;

	rc = file_write_check(dfs, obj);
	if (rc != 0)
		return rc;
	if (len == DFS_MAX_FSIZE)
		return der2errno(daos_array_set_size(obj->do_oh, DAOS_TX_NONE, offset, NULL));
	rc = daos_array_get_size(obj->do_oh, DAOS_TX_NONE, &size, NULL);
	if (rc != 0)
		return der2errno(rc);
	if (size <= offset || len == 0)
		return 0;
	end = offset + len < offset ? DFS_MAX_FSIZE : offset + len;
	/* a punch reaching the end of the file shortens it */
	if (size <= end)
		return der2errno(daos_array_set_size(obj->do_oh, DAOS_TX_NONE, offset, NULL));
	rg.rg_idx = offset;
	rg.rg_len = len;
	iod = (daos_array_iod_t){.arr_nr = 1, .arr_rgs = &rg};
	return der2errno(daos_array_punch(obj->do_oh, DAOS_TX_NONE, &iod, NULL));
}

int
dfs_get_file_oh(dfs_obj_t *obj, daos_handle_t *oh)
{
	if (obj == NULL || oh == NULL || !S_ISREG(obj->do_mode))
		return EINVAL;
	*oh = obj->do_oh;
	return 0;
}

int
dfs_get_chunk_size(dfs_obj_t *obj, daos_size_t *chunk_size)
{
	if (obj == NULL || chunk_size == NULL || !S_ISREG(obj->do_mode))
		return EINVAL;
	*chunk_size = obj->do_chunk;
	return 0;
}

static void
set_oclass(struct dfs_inode_df *di, void *arg)
{
	di->di_oclass = *(daos_oclass_id_t *)arg;
}

static void
set_chunk(struct dfs_inode_df *di, void *arg)
{
	di->di_chunk = *(daos_size_t *)arg;
}

/* A directory's own entry keeps the class and chunk size of what is created in it later. */
static int
dir_defaults_check(dfs_t *dfs, dfs_obj_t *obj)
{
	if (dfs == NULL || obj == NULL)
		return EINVAL;
	if (!S_ISDIR(obj->do_mode))
		return ENOTSUP;
	return dfs->dn_rdonly ? EPERM : 0;
}

static bool
obj_is_root(dfs_t *dfs, dfs_obj_t *obj)
{
	return obj->do_oid.lo == dfs->dn_root->do_oid.lo &&
	       obj->do_oid.hi == dfs->dn_root->do_oid.hi;
}

int
dfs_obj_set_oclass(dfs_t *dfs, dfs_obj_t *obj, int flags, daos_oclass_id_t cid)
{
	daos_obj_id_t probe = {.lo = 0, .hi = 0};
	int rc;

	(void)flags;
	rc = dir_defaults_check(dfs, obj);
	if (rc != 0)
		return rc;
	/* a class libdaos cannot place is refused now rather than at the next create */
	if (cid != 0 &&
	    daos_obj_generate_oid(dfs->dn_coh, &probe, DAOS_OT_ARRAY_BYTE, cid, 0, 0) != 0)
		return EINVAL;
	rc = dfs__ent_update(dfs, obj, set_oclass, &cid);
	if (rc != 0)
		return rc;
	obj->do_oclass = cid;
	if (obj_is_root(dfs, obj))
		dfs->dn_root->do_oclass = cid;
	return 0;
}

int
dfs_obj_set_chunk_size(dfs_t *dfs, dfs_obj_t *obj, int flags, daos_size_t csize)
{
	int rc;

	(void)flags;
	rc = dir_defaults_check(dfs, obj);
	if (rc != 0)
		return rc;
	if (csize == 0)
		csize = dfs->dn_chunk;
	rc = dfs__ent_update(dfs, obj, set_chunk, &csize);
	if (rc != 0)
		return rc;
	obj->do_chunk = csize;
	if (obj_is_root(dfs, obj))
		dfs->dn_root->do_chunk = csize;
	return 0;
}

/*
 * The blob of an open object (host order, for processes of one machine or of one
 * architecture), followed for a file by the blob of its array handle, which carries the
 * container's uuid so that global2local refuses another container.
 */
struct dfs_obj_glob_df {
	uint32_t og_magic;
	int32_t og_flags;
	uint32_t og_mode;
	uint32_t og_oclass;
	uint64_t og_oid_lo;
	uint64_t og_oid_hi;
	uint64_t og_parent_lo;
	uint64_t og_parent_hi;
	uint64_t og_chunk;
	uint64_t og_arr_len;
	char og_name[DFS_MAX_NAME + 1];
};
_Static_assert(sizeof(struct dfs_obj_glob_df) == 64 + DFS_MAX_NAME + 1, "dfs_obj_glob_df");

int
dfs_obj_local2global(dfs_t *dfs, dfs_obj_t *obj, d_iov_t *glob)
{
	struct dfs_obj_glob_df g = {0};
	d_iov_t arr = {0};
	daos_size_t need;
	int rc;

	if (dfs == NULL || obj == NULL || glob == NULL ||
	    (!S_ISREG(obj->do_mode) && !S_ISDIR(obj->do_mode)))
		return EINVAL;
	if (S_ISREG(obj->do_mode)) {
		rc = daos_array_local2global(obj->do_oh, &arr);
		if (rc != 0)
			return der2errno(rc);
	}
	need = sizeof(g) + arr.iov_buf_len;
	if (glob->iov_buf == NULL) {
		glob->iov_buf_len = need;
		return 0;
	}
	if (glob->iov_buf_len < need) {
		glob->iov_buf_len = need;
		return ENOBUFS;
	}
	g.og_magic = DFS_OBJ_GLOB_MAGIC;
	g.og_flags = obj->do_flags;
	g.og_mode = obj->do_mode;
	g.og_oclass = obj->do_oclass;
	g.og_oid_lo = obj->do_oid.lo;
	g.og_oid_hi = obj->do_oid.hi;
	g.og_parent_lo = obj->do_parent_oid.lo;
	g.og_parent_hi = obj->do_parent_oid.hi;
	g.og_chunk = obj->do_chunk;
	g.og_arr_len = arr.iov_buf_len;
	memcpy(g.og_name, obj->do_name, sizeof(g.og_name));
	if (arr.iov_buf_len > 0) {
		d_iov_set(&arr, (char *)glob->iov_buf + sizeof(g), arr.iov_buf_len);
		arr.iov_len = 0;
		rc = daos_array_local2global(obj->do_oh, &arr);
		if (rc != 0)
			return der2errno(rc);
	}
	memcpy(glob->iov_buf, &g, sizeof(g));
	glob->iov_len = need;
	return 0;
}

int
dfs_obj_global2local(dfs_t *dfs, int flags, d_iov_t glob, dfs_obj_t **objp)
{
	struct dfs_obj_glob_df g;
	dfs_obj_t *obj;
	int acc;
	int rc;

	if (dfs == NULL || objp == NULL || glob.iov_buf == NULL || glob.iov_len < sizeof(g) ||
	    glob.iov_buf_len < glob.iov_len)
		return EINVAL;
	memcpy(&g, glob.iov_buf, sizeof(g));
	if (g.og_magic != DFS_OBJ_GLOB_MAGIC || g.og_name[DFS_MAX_NAME] != '\0' ||
	    (!S_ISREG(g.og_mode) && !S_ISDIR(g.og_mode)) ||
	    g.og_arr_len != glob.iov_len - sizeof(g) ||
	    (S_ISREG(g.og_mode) && (g.og_arr_len == 0 || g.og_chunk == 0)) ||
	    (S_ISDIR(g.og_mode) && g.og_arr_len != 0))
		return EINVAL;
	if (flags == 0)
		flags = g.og_flags;
	acc = flags & O_ACCMODE;
	if (acc != O_RDONLY && acc != O_WRONLY && acc != O_RDWR)
		return EINVAL;
	if (acc != O_RDONLY && dfs->dn_rdonly)
		return EPERM;
	D_ALLOC_PTR(obj);
	if (obj == NULL)
		return ENOMEM;
	obj->do_oid = (daos_obj_id_t){.lo = g.og_oid_lo, .hi = g.og_oid_hi};
	obj->do_parent_oid = (daos_obj_id_t){.lo = g.og_parent_lo, .hi = g.og_parent_hi};
	obj->do_mode = g.og_mode;
	obj->do_flags = acc;
	obj->do_chunk = g.og_chunk;
	obj->do_oclass = g.og_oclass;
	memcpy(obj->do_name, g.og_name, sizeof(obj->do_name));
	if (S_ISREG(g.og_mode)) {
		d_iov_t arr;

		d_iov_set(&arr, (char *)glob.iov_buf + sizeof(g), g.og_arr_len);
		rc = daos_array_global2local(
		    dfs->dn_coh, arr, acc == O_RDONLY ? DAOS_OO_RO : DAOS_OO_RW, &obj->do_oh);
	} else {
		rc = daos_obj_open(dfs->dn_coh, obj->do_oid,
				   acc == O_RDONLY ? DAOS_OO_RO : DAOS_OO_RW, &obj->do_oh, NULL);
	}
	if (rc != 0) {
		D_FREE(obj);
		return der2errno(rc);
	}
	*objp = obj;
	return 0;
}
