/*
 * dc_array.c: the Array API of libdaos (daos_array.h) over the object API.
 *
 * Layout (DAOS's): an array is an object with uint64 dkeys. Dkey 0 holds the metadata, a
 * single value under the 1-byte akey "0": three uint64 (magic, cell size, chunk size).
 * Cell i lives in dkey i / chunk_size + 1, akey "0", as record i % chunk_size of an array
 * value whose record size is the cell size. Punched cells are holes (records of size 0).
 *
 * Every call is composed of blocking daos_obj_* calls made in the caller's thread; with an
 * event, the event is launched first and completed when the work is done (so the call
 * returns with the event already completed). See README.md.
 */
#define D_LOGFAC client

#include <string.h>

#include <daos.h>
#include <daos_array.h>
#include <daos/client.h>
#include <daos/event.h>
#include <gurt/common.h>

#include "../api/client_internal.h"

/* Handle type of arrays in the library's table (see client_internal.h). */
#define DC_HTYPE_ARRAY 9

#define ARRAY_MD_MAGIC 0xdaca55a9daca55a9ULL
#define ARRAY_GLOB_MAGIC 0xdaca0387U
/* Bytes of one object update or fetch (below the object layer's limit, OBJ_IO_MAX). */
#define ARRAY_IO_MAX (64ULL << 20)
/* Dkeys punched by one call when an array shrinks. */
#define ARRAY_PUNCH_BATCH 256

struct dc_array {
	struct d_hlink da_hlink;
	daos_handle_t da_oh; /* the object */
	daos_handle_t da_coh;
	daos_obj_id_t da_oid;
	unsigned int da_mode;
	daos_size_t da_cell;
	daos_size_t da_chunk;
};

/* What local2global writes (host byte order). */
struct array_glob {
	uint32_t ag_magic;
	uint32_t ag_mode;
	daos_obj_id_t ag_oid;
	uint64_t ag_cell;
	uint64_t ag_chunk;
	uuid_t ag_cont;
	uuid_t ag_coh;
};

static void
array_free(struct d_hlink *hlink)
{
	struct dc_array *arr = container_of(hlink, struct dc_array, da_hlink);

	D_FREE(arr);
}

static struct d_hlink_ops array_hlink_ops = {
    .hop_free = array_free,
};

static struct dc_array *
array_get(daos_handle_t oh)
{
	struct d_hlink *hlink;

	if (dc_hhash() == NULL || d_hhash_key_type(oh.cookie) != DC_HTYPE_ARRAY)
		return NULL;
	hlink = d_hhash_link_lookup(dc_hhash(), oh.cookie);
	return hlink == NULL ? NULL : container_of(hlink, struct dc_array, da_hlink);
}

static void
array_put(struct dc_array *arr)
{
	d_hhash_link_putref(dc_hhash(), &arr->da_hlink);
}

/*
 * Run the operation @fn(@arg) of an API call with event @ev. With an event, the event is
 * launched before and completed after the (blocking) work; without, the result is returned.
 */
static int
array_run(daos_event_t *ev, int (*fn)(void *arg), void *arg)
{
	daos_event_t *priv;
	int rc;

	if (ev == NULL)
		return fn(arg);
	rc = dc_ev_begin(ev, &priv);
	if (rc != 0)
		return rc;
	dc_ev_complete(ev, fn(arg));
	return dc_ev_end(ev, priv);
}

/* The metadata dkey, akey and value. */
struct array_md {
	uint64_t am_dkey_val;
	char am_akey_val;
	uint64_t am_vals[3];
	daos_key_t am_dkey;
	daos_iod_t am_iod;
	d_iov_t am_iov;
	d_sg_list_t am_sgl;
};

static void
array_md_init(struct array_md *md)
{
	memset(md, 0, sizeof(*md));
	md->am_dkey_val = 0;
	md->am_akey_val = '0';
	d_iov_set(&md->am_dkey, &md->am_dkey_val, sizeof(md->am_dkey_val));
	d_iov_set(&md->am_iod.iod_name, &md->am_akey_val, 1);
	md->am_iod.iod_type = DAOS_IOD_SINGLE;
	md->am_iod.iod_size = sizeof(md->am_vals);
	md->am_iod.iod_nr = 1;
	d_iov_set(&md->am_iov, md->am_vals, sizeof(md->am_vals));
	md->am_sgl.sg_nr = 1;
	md->am_sgl.sg_iovs = &md->am_iov;
}

/* Create the array handle of object handle @ooh; *@oh receives it. */
static int
array_hdl_new(daos_handle_t coh, daos_obj_id_t oid, unsigned int mode, daos_size_t cell,
	      daos_size_t chunk, daos_handle_t ooh, daos_handle_t *oh)
{
	struct dc_array *arr;

	D_ALLOC_PTR(arr);
	if (arr == NULL)
		return -DER_NOMEM;
	arr->da_oh = ooh;
	arr->da_coh = coh;
	arr->da_oid = oid;
	arr->da_mode = mode;
	arr->da_cell = cell;
	arr->da_chunk = chunk;
	d_hhash_hlink_init(&arr->da_hlink, &array_hlink_ops);
	d_hhash_link_insert(dc_hhash(), &arr->da_hlink, DC_HTYPE_ARRAY);
	d_hhash_link_key(&arr->da_hlink, &oh->cookie);
	array_put(arr);
	return 0;
}

struct open_args {
	daos_handle_t oa_coh;
	daos_obj_id_t oa_oid;
	daos_handle_t oa_th;
	unsigned int oa_mode;
	bool oa_create;
	bool oa_attr; /* open_with_attr */
	daos_size_t oa_cell;
	daos_size_t oa_chunk;
	daos_size_t *oa_cell_out;
	daos_size_t *oa_chunk_out;
	daos_handle_t *oa_oh;
};

static int
array_open_fn(void *arg)
{
	struct open_args *a = arg;
	struct array_md md;
	daos_handle_t ooh;
	int rc;

	rc =
	    daos_obj_open(a->oa_coh, a->oa_oid, a->oa_create ? DAOS_OO_RW : a->oa_mode, &ooh, NULL);
	if (rc != 0)
		return rc;
	array_md_init(&md);
	if (a->oa_create) {
		md.am_vals[0] = ARRAY_MD_MAGIC;
		md.am_vals[1] = a->oa_cell;
		md.am_vals[2] = a->oa_chunk;
		rc = daos_obj_update(ooh, a->oa_th, DAOS_COND_DKEY_INSERT | DAOS_COND_AKEY_INSERT,
				     &md.am_dkey, 1, &md.am_iod, &md.am_sgl, NULL);
	} else if (!a->oa_attr) {
		md.am_iod.iod_size = DAOS_REC_ANY;
		rc = daos_obj_fetch(ooh, a->oa_th, DAOS_COND_DKEY_FETCH | DAOS_COND_AKEY_FETCH,
				    &md.am_dkey, 1, &md.am_iod, &md.am_sgl, NULL, NULL);
		if (rc == 0 && md.am_iod.iod_size == 0)
			rc = -DER_NONEXIST;
		else if (rc == 0 && (md.am_iod.iod_size != sizeof(md.am_vals) ||
				     md.am_vals[0] != ARRAY_MD_MAGIC || md.am_vals[1] == 0 ||
				     md.am_vals[2] == 0))
			rc = -DER_NO_PERM;
		if (rc == 0) {
			a->oa_cell = md.am_vals[1];
			a->oa_chunk = md.am_vals[2];
			*a->oa_cell_out = a->oa_cell;
			*a->oa_chunk_out = a->oa_chunk;
		}
	}
	if (rc == 0)
		rc = array_hdl_new(a->oa_coh, a->oa_oid, a->oa_create ? DAOS_OO_RW : a->oa_mode,
				   a->oa_cell, a->oa_chunk, ooh, a->oa_oh);
	if (rc != 0)
		daos_obj_close(ooh, NULL);
	return rc;
}

static int
array_inval(daos_event_t *ev, int rc)
{
	daos_event_t *priv;
	int rc2;

	if (ev == NULL)
		return rc;
	rc2 = dc_ev_begin(ev, &priv);
	if (rc2 != 0)
		return rc2;
	dc_ev_complete(ev, rc);
	return dc_ev_end(ev, priv);
}

int
daos_array_create(daos_handle_t coh, daos_obj_id_t oid, daos_handle_t th, daos_size_t cell_size,
		  daos_size_t chunk_size, daos_handle_t *oh, daos_event_t *ev)
{
	struct open_args a = {.oa_coh = coh,
			      .oa_oid = oid,
			      .oa_th = th,
			      .oa_create = true,
			      .oa_cell = cell_size,
			      .oa_chunk = chunk_size,
			      .oa_oh = oh};

	if (oh == NULL || cell_size == 0 || chunk_size == 0 || !daos_is_array(oid) ||
	    daos_obj_id2type(oid) != DAOS_OT_ARRAY)
		return array_inval(ev, -DER_INVAL);
	return array_run(ev, array_open_fn, &a);
}

int
daos_array_open(daos_handle_t coh, daos_obj_id_t oid, daos_handle_t th, unsigned int mode,
		daos_size_t *cell_size, daos_size_t *chunk_size, daos_handle_t *oh,
		daos_event_t *ev)
{
	struct open_args a = {.oa_coh = coh,
			      .oa_oid = oid,
			      .oa_th = th,
			      .oa_mode = mode,
			      .oa_cell_out = cell_size,
			      .oa_chunk_out = chunk_size,
			      .oa_oh = oh};

	if (oh == NULL || cell_size == NULL || chunk_size == NULL ||
	    daos_obj_id2type(oid) != DAOS_OT_ARRAY)
		return array_inval(ev, -DER_INVAL);
	return array_run(ev, array_open_fn, &a);
}

int
daos_array_open_with_attr(daos_handle_t coh, daos_obj_id_t oid, daos_handle_t th, unsigned int mode,
			  daos_size_t cell_size, daos_size_t chunk_size, daos_handle_t *oh,
			  daos_event_t *ev)
{
	struct open_args a = {.oa_coh = coh,
			      .oa_oid = oid,
			      .oa_th = th,
			      .oa_mode = mode,
			      .oa_attr = true,
			      .oa_cell = cell_size,
			      .oa_chunk = chunk_size,
			      .oa_oh = oh};

	if (oh == NULL || cell_size == 0 || chunk_size == 0 || !daos_is_array(oid) ||
	    daos_obj_id2type(oid) == DAOS_OT_ARRAY)
		return array_inval(ev, -DER_INVAL);
	return array_run(ev, array_open_fn, &a);
}

int
daos_array_close(daos_handle_t oh, daos_event_t *ev)
{
	struct dc_array *arr = array_get(oh);
	daos_handle_t ooh;

	if (arr == NULL)
		return array_inval(ev, -DER_NO_HDL);
	ooh = arr->da_oh;
	d_hhash_link_delete(dc_hhash(), &arr->da_hlink);
	array_put(arr);
	daos_obj_close(ooh, NULL);
	return array_inval(ev, 0);
}

int
daos_array_get_attr(daos_handle_t oh, daos_size_t *chunk_size, daos_size_t *cell_size)
{
	struct dc_array *arr;

	if (chunk_size == NULL || cell_size == NULL)
		return -DER_INVAL;
	arr = array_get(oh);
	if (arr == NULL)
		return -DER_NO_HDL;
	*chunk_size = arr->da_chunk;
	*cell_size = arr->da_cell;
	array_put(arr);
	return 0;
}

int
daos_array_local2global(daos_handle_t oh, d_iov_t *glob)
{
	struct array_glob *g;
	struct dc_array *arr;
	struct dc_cont *co;

	if (glob == NULL || (glob->iov_buf != NULL && glob->iov_buf_len < glob->iov_len))
		return -DER_INVAL;
	arr = array_get(oh);
	if (arr == NULL)
		return -DER_NO_HDL;
	if (glob->iov_buf == NULL || glob->iov_buf_len < sizeof(*g)) {
		int rc = glob->iov_buf == NULL ? 0 : -DER_TRUNC;

		glob->iov_buf_len = sizeof(*g);
		array_put(arr);
		return rc;
	}
	co = dc_cont_get(arr->da_coh);
	if (co == NULL) {
		array_put(arr);
		return -DER_NO_HDL;
	}
	g = glob->iov_buf;
	memset(g, 0, sizeof(*g));
	g->ag_magic = ARRAY_GLOB_MAGIC;
	g->ag_mode = arr->da_mode;
	g->ag_oid = arr->da_oid;
	g->ag_cell = arr->da_cell;
	g->ag_chunk = arr->da_chunk;
	uuid_copy(g->ag_cont, co->dc_uuid);
	uuid_copy(g->ag_coh, co->dc_hdl);
	glob->iov_len = sizeof(*g);
	dc_cont_put(co);
	array_put(arr);
	return 0;
}

int
daos_array_global2local(daos_handle_t coh, d_iov_t glob, unsigned int mode, daos_handle_t *oh)
{
	struct array_glob g;
	struct dc_cont *co;
	daos_handle_t ooh;
	int rc;

	if (oh == NULL || glob.iov_buf == NULL || glob.iov_len != sizeof(g) ||
	    glob.iov_buf_len < glob.iov_len)
		return -DER_INVAL;
	memcpy(&g, glob.iov_buf, sizeof(g));
	if (g.ag_magic != ARRAY_GLOB_MAGIC || g.ag_cell == 0 || g.ag_chunk == 0)
		return -DER_INVAL;
	co = dc_cont_get(coh);
	if (co == NULL)
		return -DER_NO_HDL;
	rc = uuid_compare(co->dc_uuid, g.ag_cont) == 0 ? 0 : -DER_INVAL;
	dc_cont_put(co);
	if (rc != 0)
		return rc;
	if (mode == 0)
		mode = g.ag_mode;
	rc = daos_obj_open(coh, g.ag_oid, mode, &ooh, NULL);
	if (rc != 0)
		return rc;
	rc = array_hdl_new(coh, g.ag_oid, mode, g.ag_cell, g.ag_chunk, ooh, oh);
	if (rc != 0)
		daos_obj_close(ooh, NULL);
	return rc;
}

/* A position in a user sgl. */
struct sg_cur {
	d_sg_list_t *sc_sgl;
	uint32_t sc_iov;
	size_t sc_off;
};

/*
 * Append the iovs of the next @len bytes of @c to the *@nr of @iovs (grown as needed, *@cap
 * entries).
 */
static int
sg_take(struct sg_cur *c, size_t len, d_iov_t **iovs, uint32_t *cap, uint32_t *nr)
{
	while (len > 0) {
		d_iov_t *iov;
		size_t n;

		if (c->sc_iov >= c->sc_sgl->sg_nr)
			return -DER_INVAL;
		iov = &c->sc_sgl->sg_iovs[c->sc_iov];
		n = iov->iov_len - c->sc_off;
		if (n == 0) {
			c->sc_iov++;
			c->sc_off = 0;
			continue;
		}
		if (n > len)
			n = len;
		if (*nr == *cap) {
			uint32_t ncap = *cap == 0 ? 8 : *cap * 2;
			d_iov_t *p;

			D_REALLOC_ARRAY(p, *iovs, ncap);
			if (p == NULL)
				return -DER_NOMEM;
			*iovs = p;
			*cap = ncap;
		}
		d_iov_set(&(*iovs)[(*nr)++], (char *)iov->iov_buf + c->sc_off, n);
		c->sc_off += n;
		len -= n;
	}
	return 0;
}

enum io_kind { IO_READ, IO_WRITE, IO_PUNCH };

struct io_args {
	daos_handle_t ia_oh;
	daos_handle_t ia_th;
	daos_array_iod_t *ia_iod;
	d_sg_list_t *ia_sgl;
	enum io_kind ia_kind;
};

/* Check @iod (and @sgl for reads and writes) against @arr; total cells in *@cells. */
static int
io_check(struct dc_array *arr, daos_array_iod_t *iod, d_sg_list_t *sgl, bool need_sgl)
{
	daos_size_t cells = 0;
	daos_size_t bytes = 0;
	daos_size_t i;

	if (iod == NULL || (iod->arr_nr > 0 && iod->arr_rgs == NULL))
		return -DER_INVAL;
	for (i = 0; i < iod->arr_nr; i++) {
		daos_range_t *rg = &iod->arr_rgs[i];

		if (rg->rg_idx + rg->rg_len < rg->rg_idx || rg->rg_len > (UINT64_MAX >> 1) ||
		    cells + rg->rg_len < cells)
			return -DER_INVAL;
		cells += rg->rg_len;
	}
	if (arr->da_cell != 0 && cells > UINT64_MAX / arr->da_cell)
		return -DER_INVAL;
	if (!need_sgl)
		return 0;
	if (sgl == NULL || (sgl->sg_nr > 0 && sgl->sg_iovs == NULL))
		return -DER_INVAL;
	for (i = 0; i < sgl->sg_nr; i++) {
		if (sgl->sg_iovs[i].iov_buf == NULL && sgl->sg_iovs[i].iov_len != 0)
			return -DER_INVAL;
		bytes += sgl->sg_iovs[i].iov_len;
	}
	return bytes == cells * arr->da_cell ? 0 : -DER_INVAL;
}

/* Chunk pieces of one call in flight at once (each its own object update or fetch). */
#define ARRAY_IO_WINDOW 32

/* One piece of an I/O: a range of records within one chunk (dkey). */
struct io_piece {
	uint64_t ip_dkey_val;
	char ip_akey_val;
	daos_key_t ip_dkey;
	daos_recx_t ip_recx;
	daos_iod_t ip_iod;
	d_sg_list_t ip_sgl;
	uint32_t ip_iov_first; /* its iovs in the window's array */
	uint32_t ip_iov_nr;
	daos_event_t ip_ev;
	bool ip_ev_init;
	int ip_rc; /* its outcome */
};

/* Launch piece @p (@ev NULL: blocking). */
static int
io_piece_launch(struct dc_array *arr, daos_handle_t th, enum io_kind kind, struct io_piece *p,
		daos_event_t *ev)
{
	uint32_t j;

	switch (kind) {
	case IO_READ:
		/* holes and missing chunks read as zero */
		for (j = 0; j < p->ip_sgl.sg_nr; j++)
			memset(p->ip_sgl.sg_iovs[j].iov_buf, 0, p->ip_sgl.sg_iovs[j].iov_len);
		p->ip_iod.iod_size = arr->da_cell;
		return daos_obj_fetch(arr->da_oh, th, 0, &p->ip_dkey, 1, &p->ip_iod, &p->ip_sgl,
				      NULL, ev);
	case IO_WRITE:
		p->ip_iod.iod_size = arr->da_cell;
		return daos_obj_update(arr->da_oh, th, 0, &p->ip_dkey, 1, &p->ip_iod, &p->ip_sgl,
				       ev);
	default:
		/* a hole: records of size 0, no data */
		p->ip_iod.iod_size = 0;
		return daos_obj_update(arr->da_oh, th, 0, &p->ip_dkey, 1, &p->ip_iod, &p->ip_sgl,
				       ev);
	}
}

/*
 * Run the @nr pieces of one window: one at once in this thread (blocking), several on
 * events of this thread's queue, all in flight together. Reads add the cells of pieces that
 * found nothing to *@short_cells. Returns the first error.
 */
static int
io_window_run(struct dc_array *arr, daos_handle_t th, enum io_kind kind, struct io_piece *ps,
	      uint32_t nr, d_iov_t *iovs, daos_size_t *short_cells)
{
	uint32_t launched = 0;
	uint32_t i;
	int rc = 0;

	for (i = 0; i < nr; i++) {
		ps[i].ip_sgl.sg_iovs = iovs + ps[i].ip_iov_first;
		ps[i].ip_sgl.sg_nr = ps[i].ip_iov_nr;
		ps[i].ip_sgl.sg_nr_out = 0;
	}
	if (nr == 1) {
		ps[0].ip_rc = io_piece_launch(arr, th, kind, &ps[0], NULL);
	} else {
		for (i = 0; i < nr && rc == 0; i++) {
			rc = daos_event_init(&ps[i].ip_ev, DAOS_HDL_INVAL, NULL);
			if (rc != 0)
				break;
			ps[i].ip_ev_init = true;
			rc = io_piece_launch(arr, th, kind, &ps[i], &ps[i].ip_ev);
			if (rc == 0)
				launched++;
		}
		/* every launched piece is waited for: it uses the caller's buffers */
		for (i = 0; i < nr; i++) {
			bool done = false;

			if (!ps[i].ip_ev_init)
				continue;
			if (i < launched) {
				int rc2 = daos_event_test(&ps[i].ip_ev, DAOS_EQ_WAIT, &done);

				if (rc2 != 0 && rc == 0)
					rc = rc2;
				ps[i].ip_rc = ps[i].ip_ev.ev_error;
			}
			daos_event_fini(&ps[i].ip_ev);
			ps[i].ip_ev_init = false;
		}
		if (rc != 0)
			return rc;
	}
	for (i = 0; i < nr; i++) {
		int prc = ps[i].ip_rc;

		if (kind == IO_READ && prc == -DER_NONEXIST) {
			prc = 0;
			ps[i].ip_iod.iod_size = 0;
		}
		if (prc != 0)
			return prc;
		if (kind == IO_READ && ps[i].ip_iod.iod_size == 0)
			*short_cells += ps[i].ip_recx.rx_nr;
	}
	return 0;
}

static int
array_io_fn(void *arg)
{
	struct io_args *a = arg;
	struct dc_array *arr = array_get(a->ia_oh);
	daos_array_iod_t *iod = a->ia_iod;
	struct sg_cur cur = {.sc_sgl = a->ia_sgl};
	struct io_piece *ps = NULL;
	daos_size_t short_cells = 0;
	daos_size_t total = 0;
	d_iov_t *iovs = NULL;
	uint32_t cap = 0;
	uint32_t iov_nr = 0;
	uint32_t nr = 0;
	daos_size_t i;
	int rc;

	if (arr == NULL)
		return -DER_NO_HDL;
	rc = io_check(arr, iod, a->ia_sgl, a->ia_kind != IO_PUNCH);
	if (rc != 0)
		goto out;
	D_ALLOC_ARRAY(ps, ARRAY_IO_WINDOW);
	if (ps == NULL) {
		rc = -DER_NOMEM;
		goto out;
	}
	for (i = 0; i < iod->arr_nr && rc == 0; i++) {
		daos_off_t idx = iod->arr_rgs[i].rg_idx;
		daos_size_t left = iod->arr_rgs[i].rg_len;

		while (left > 0 && rc == 0) {
			daos_off_t rec = idx % arr->da_chunk;
			daos_size_t n = arr->da_chunk - rec;
			struct io_piece *p = &ps[nr];

			if (n > left)
				n = left;
			/* one request carries at most ARRAY_IO_MAX bytes */
			if (n > ARRAY_IO_MAX / arr->da_cell)
				n = ARRAY_IO_MAX / arr->da_cell > 0 ? ARRAY_IO_MAX / arr->da_cell
								    : 1;
			memset(p, 0, sizeof(*p));
			p->ip_dkey_val = idx / arr->da_chunk + 1;
			p->ip_akey_val = '0';
			d_iov_set(&p->ip_dkey, &p->ip_dkey_val, sizeof(p->ip_dkey_val));
			d_iov_set(&p->ip_iod.iod_name, &p->ip_akey_val, 1);
			p->ip_iod.iod_type = DAOS_IOD_ARRAY;
			p->ip_iod.iod_nr = 1;
			p->ip_iod.iod_recxs = &p->ip_recx;
			p->ip_recx.rx_idx = rec;
			p->ip_recx.rx_nr = n;
			p->ip_iov_first = iov_nr;
			if (a->ia_kind != IO_PUNCH) {
				rc = sg_take(&cur, n * arr->da_cell, &iovs, &cap, &iov_nr);
				if (rc != 0)
					break;
				p->ip_iov_nr = iov_nr - p->ip_iov_first;
			}
			nr++;
			total += n;
			idx += n;
			left -= n;
			if (nr == ARRAY_IO_WINDOW) {
				rc = io_window_run(arr, a->ia_th, a->ia_kind, ps, nr, iovs,
						   &short_cells);
				nr = 0;
				iov_nr = 0;
			}
		}
	}
	if (rc == 0 && nr > 0)
		rc = io_window_run(arr, a->ia_th, a->ia_kind, ps, nr, iovs, &short_cells);
	if (rc == 0 && a->ia_kind == IO_READ) {
		iod->arr_nr_short_read = short_cells;
		iod->arr_nr_read = total - short_cells;
	}
out:
	D_FREE(iovs);
	D_FREE(ps);
	array_put(arr);
	return rc;
}

static int
array_io(daos_handle_t oh, daos_handle_t th, daos_array_iod_t *iod, d_sg_list_t *sgl,
	 enum io_kind kind, daos_event_t *ev)
{
	struct io_args a = {
	    .ia_oh = oh, .ia_th = th, .ia_iod = iod, .ia_sgl = sgl, .ia_kind = kind};

	if (iod == NULL || (kind != IO_PUNCH && sgl == NULL))
		return array_inval(ev, -DER_INVAL);
	return array_run(ev, array_io_fn, &a);
}

int
daos_array_read(daos_handle_t oh, daos_handle_t th, daos_array_iod_t *iod, d_sg_list_t *sgl,
		daos_event_t *ev)
{
	return array_io(oh, th, iod, sgl, IO_READ, ev);
}

int
daos_array_write(daos_handle_t oh, daos_handle_t th, daos_array_iod_t *iod, d_sg_list_t *sgl,
		 daos_event_t *ev)
{
	return array_io(oh, th, iod, sgl, IO_WRITE, ev);
}

int
daos_array_punch(daos_handle_t oh, daos_handle_t th, daos_array_iod_t *iod, daos_event_t *ev)
{
	return array_io(oh, th, iod, NULL, IO_PUNCH, ev);
}

/* Size in cells of @arr: one past the last cell of the highest extent of the highest dkey. */
static int
array_size(struct dc_array *arr, daos_handle_t th, daos_size_t *size)
{
	uint64_t dkey_val = 0;
	char akey_val = '0';
	daos_recx_t recx = {0};
	daos_key_t dkey;
	daos_key_t akey;
	int rc;

	d_iov_set(&dkey, &dkey_val, sizeof(dkey_val));
	d_iov_set(&akey, &akey_val, 1);
	rc = daos_obj_query_key(arr->da_oh, th, DAOS_GET_MAX | DAOS_GET_DKEY | DAOS_GET_RECX, &dkey,
				&akey, &recx, NULL);
	if (rc == -DER_NONEXIST || (rc == 0 && dkey_val == 0)) {
		*size = 0;
		return 0;
	}
	if (rc != 0)
		return rc;
	*size = (dkey_val - 1) * arr->da_chunk + recx.rx_idx + recx.rx_nr;
	return 0;
}

struct size_args {
	daos_handle_t sa_oh;
	daos_handle_t sa_th;
	daos_size_t sa_size;
	daos_size_t *sa_sizep;
	daos_array_stbuf_t *sa_stbuf;
};

static int
array_get_size_fn(void *arg)
{
	struct size_args *a = arg;
	struct dc_array *arr = array_get(a->sa_oh);
	daos_size_t size;
	int rc;

	if (arr == NULL)
		return -DER_NO_HDL;
	rc = array_size(arr, a->sa_th, &size);
	array_put(arr);
	if (rc != 0)
		return rc;
	if (a->sa_sizep != NULL)
		*a->sa_sizep = size;
	if (a->sa_stbuf != NULL) {
		a->sa_stbuf->st_size = size;
		a->sa_stbuf->st_max_epoch = 0; /* not reported by the object API yet */
	}
	return 0;
}

int
daos_array_get_size(daos_handle_t oh, daos_handle_t th, daos_size_t *size, daos_event_t *ev)
{
	struct size_args a = {.sa_oh = oh, .sa_th = th, .sa_sizep = size};

	if (size == NULL)
		return array_inval(ev, -DER_INVAL);
	return array_run(ev, array_get_size_fn, &a);
}

int
daos_array_stat(daos_handle_t oh, daos_handle_t th, daos_array_stbuf_t *stbuf, daos_event_t *ev)
{
	struct size_args a = {.sa_oh = oh, .sa_th = th, .sa_stbuf = stbuf};

	if (stbuf == NULL)
		return array_inval(ev, -DER_INVAL);
	return array_run(ev, array_get_size_fn, &a);
}

/* Read cell @idx of @arr and write it back (a hole becomes a zero cell). */
static int
array_touch_cell(struct dc_array *arr, daos_handle_t th, daos_handle_t oh, daos_off_t idx)
{
	daos_range_t rg = {.rg_idx = idx, .rg_len = 1};
	daos_array_iod_t iod = {.arr_nr = 1, .arr_rgs = &rg};
	struct io_args a = {.ia_oh = oh, .ia_th = th, .ia_iod = &iod};
	d_sg_list_t sgl;
	d_iov_t iov;
	void *buf;
	int rc;

	D_ALLOC(buf, arr->da_cell);
	if (buf == NULL)
		return -DER_NOMEM;
	d_iov_set(&iov, buf, arr->da_cell);
	sgl.sg_nr = 1;
	sgl.sg_nr_out = 0;
	sgl.sg_iovs = &iov;
	a.ia_sgl = &sgl;
	a.ia_kind = IO_READ;
	rc = array_io_fn(&a);
	if (rc == 0) {
		a.ia_kind = IO_WRITE;
		rc = array_io_fn(&a);
	}
	D_FREE(buf);
	return rc;
}

static int
array_set_size_fn(void *arg)
{
	struct size_args *a = arg;
	struct dc_array *arr = array_get(a->sa_oh);
	daos_size_t size = a->sa_size;
	daos_size_t cur;
	int rc;

	if (arr == NULL)
		return -DER_NO_HDL;
	rc = array_size(arr, a->sa_th, &cur);
	if (rc != 0 || cur == size)
		goto out;
	if (size < cur) {
		/* whole chunks beyond the new size: punch their dkeys */
		uint64_t first = (size + arr->da_chunk - 1) / arr->da_chunk + 1;
		uint64_t last = (cur - 1) / arr->da_chunk + 1;
		uint64_t vals[ARRAY_PUNCH_BATCH];
		daos_key_t dkeys[ARRAY_PUNCH_BATCH];
		uint64_t d = first;

		while (d <= last && rc == 0) {
			unsigned int n = 0;

			for (; d <= last && n < ARRAY_PUNCH_BATCH; d++, n++) {
				vals[n] = d;
				d_iov_set(&dkeys[n], &vals[n], sizeof(vals[n]));
			}
			rc = daos_obj_punch_dkeys(arr->da_oh, a->sa_th, 0, n, dkeys, NULL);
			if (rc == -DER_NONEXIST)
				rc = 0;
		}
		/* the tail of the chunk holding the new last cell */
		if (rc == 0 && size % arr->da_chunk != 0) {
			daos_size_t end = (size / arr->da_chunk + 1) * arr->da_chunk;
			daos_range_t rg = {.rg_idx = size,
					   .rg_len = (end < cur ? end : cur) - size};
			daos_array_iod_t iod = {.arr_nr = 1, .arr_rgs = &rg};
			struct io_args io = {.ia_oh = a->sa_oh,
					     .ia_th = a->sa_th,
					     .ia_iod = &iod,
					     .ia_kind = IO_PUNCH};

			rc = array_io_fn(&io);
		}
	}
	/* the new last cell must exist for the size to be found again */
	if (rc == 0 && size > 0)
		rc = array_touch_cell(arr, a->sa_th, a->sa_oh, size - 1);
out:
	array_put(arr);
	return rc;
}

int
daos_array_set_size(daos_handle_t oh, daos_handle_t th, daos_size_t size, daos_event_t *ev)
{
	struct size_args a = {.sa_oh = oh, .sa_th = th, .sa_size = size};

	return array_run(ev, array_set_size_fn, &a);
}

static int
array_destroy_fn(void *arg)
{
	struct size_args *a = arg;
	struct dc_array *arr = array_get(a->sa_oh);
	int rc;

	if (arr == NULL)
		return -DER_NO_HDL;
	rc = daos_obj_punch(arr->da_oh, a->sa_th, 0, NULL);
	array_put(arr);
	return rc;
}

int
daos_array_destroy(daos_handle_t oh, daos_handle_t th, daos_event_t *ev)
{
	struct size_args a = {.sa_oh = oh, .sa_th = th};

	return array_run(ev, array_destroy_fn, &a);
}
