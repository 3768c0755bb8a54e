/*
 * dc_array.c: the Array API of libdaos (daos_array.h) over the object API.
 *
 * Layout (DAOS's): an array is an object with uint64 dkeys. Dkey 0 holds the metadata, a
 * single value under the 1-byte akey "0": three uint64 (magic, cell size, chunk size).
 * Cell i lives in dkey i / chunk_size + 1, akey "0", as record i % chunk_size of an array
 * value whose record size is the cell size. Punched cells are holes (records of size 0).
 *
 * Every call launches its event and starts object operations on internal events of it
 * (struct arr_op below); their completions, run by whoever progresses the event's queue,
 * start the next step or complete the event. With an event the call returns once its first
 * step is launched; without, it waits on the private event. See README.md.
 */
#define D_LOGFAC client

#include <pthread.h>
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

/*
 * The asynchronous machinery. An API call launches its event (the application's, or the
 * private one of a blocking call) and starts sub-operations (object calls) on internal
 * events of it (dc_ev_init_internal). A struct arr_op counts them: each completion records
 * its result and the last one runs ao_fin (a hold taken while launching keeps it from
 * running early), which either starts the next step of the call or completes the event.
 */
struct arr_op;

struct arr_sub {
	daos_event_t as_iev;
	struct arr_op *as_op;
	int as_rc;
};

struct arr_op {
	daos_event_t *ao_ev; /* the call's running event */
	pthread_mutex_t ao_lock;
	uint32_t ao_left; /* sub-operations in flight, + 1 while launching */
	int ao_rc;        /* the first failure to launch */
	void (*ao_fin)(struct arr_op *op, int rc);
};

static void
arr_op_init(struct arr_op *op, daos_event_t *ev, void (*fin)(struct arr_op *op, int rc))
{
	op->ao_ev = ev;
	pthread_mutex_init(&op->ao_lock, NULL);
	op->ao_left = 1; /* the launcher's hold */
	op->ao_rc = 0;
	op->ao_fin = fin;
}

/* Drop one count of @op (@rc: a launch failure, or 0); the last runs ao_fin. */
static void
arr_op_release(struct arr_op *op, int rc)
{
	bool last;

	pthread_mutex_lock(&op->ao_lock);
	if (op->ao_rc == 0 && rc != 0)
		op->ao_rc = rc;
	last = --op->ao_left == 0;
	rc = op->ao_rc;
	pthread_mutex_unlock(&op->ao_lock);
	if (last)
		op->ao_fin(op, rc);
}

/* Re-arm @op for its next step (after ao_fin ran): hold it and run @fin at the end. */
static void
arr_op_rearm(struct arr_op *op, void (*fin)(struct arr_op *op, int rc))
{
	pthread_mutex_lock(&op->ao_lock);
	op->ao_left = 1;
	op->ao_rc = 0;
	op->ao_fin = fin;
	pthread_mutex_unlock(&op->ao_lock);
}

static void
arr_sub_cb(void *arg, daos_event_t *iev, int rc)
{
	struct arr_sub *s = arg;
	struct arr_op *op = s->as_op;

	s->as_rc = rc;
	daos_event_fini(iev);
	arr_op_release(op, 0);
}

/* Prepare sub-operation @s of @op: counted, its internal event ready to be launched. */
static int
arr_sub_init(struct arr_op *op, struct arr_sub *s)
{
	int rc;

	s->as_op = op;
	s->as_rc = 0;
	rc = dc_ev_init_internal(&s->as_iev, op->ao_ev, arr_sub_cb, s);
	if (rc != 0)
		return rc;
	pthread_mutex_lock(&op->ao_lock);
	op->ao_left++;
	pthread_mutex_unlock(&op->ao_lock);
	return 0;
}

/* After launching @s with the object call that returned @rc. */
static void
arr_sub_launched(struct arr_sub *s, int rc)
{
	dc_ev_internal_check(&s->as_iev, rc);
}

static void
arr_close_cb(void *arg, daos_event_t *iev, int rc)
{
	(void)rc;
	daos_event_fini(iev);
	D_FREE(arg);
}

/*
 * Close object handle @ooh from any context, a callback of a blocking call included (the
 * close is local: it completes in place, on an internal event of @ev).
 */
static void
arr_obj_close(daos_handle_t ooh, daos_event_t *ev)
{
	daos_event_t *iev;

	D_ALLOC_PTR(iev);
	if (iev == NULL)
		return;
	if (dc_ev_init_internal(iev, ev, arr_close_cb, iev) != 0) {
		D_FREE(iev);
		return;
	}
	dc_ev_internal_check(iev, daos_obj_close(ooh, iev));
}

/* Launch @ev (NULL: the private event, returned in *@priv): the call's running event. */
static int
arr_begin(daos_event_t *ev, daos_event_t **priv, daos_event_t **evp)
{
	int rc;

	rc = dc_ev_begin(ev, priv);
	if (rc == 0)
		*evp = *priv != NULL ? *priv : ev;
	return rc;
}

/* An open or create in flight: the metadata fetch or update, then the handle. */
struct open_op {
	struct arr_op oo_base;
	struct arr_sub oo_sub;
	struct array_md oo_md;
	daos_handle_t oo_coh;
	daos_obj_id_t oo_oid;
	daos_handle_t oo_th;
	unsigned int oo_mode;
	bool oo_create;
	bool oo_attr; /* open_with_attr: nothing to read */
	daos_size_t oo_cell;
	daos_size_t oo_chunk;
	daos_size_t *oo_cell_out;
	daos_size_t *oo_chunk_out;
	daos_handle_t *oo_oh;
	daos_handle_t oo_ooh;
};

static void
array_open_fin(struct arr_op *base, int rc)
{
	struct open_op *op = container_of(base, struct open_op, oo_base);
	struct array_md *md = &op->oo_md;
	daos_event_t *ev = base->ao_ev;

	if (rc == 0)
		rc = op->oo_sub.as_rc;
	if (rc == 0 && !op->oo_create && !op->oo_attr) {
		if (md->am_iod.iod_size == 0)
			rc = -DER_NONEXIST;
		else if (md->am_iod.iod_size != sizeof(md->am_vals) ||
			 md->am_vals[0] != ARRAY_MD_MAGIC || md->am_vals[1] == 0 ||
			 md->am_vals[2] == 0)
			rc = -DER_NO_PERM;
		if (rc == 0) {
			op->oo_cell = md->am_vals[1];
			op->oo_chunk = md->am_vals[2];
			*op->oo_cell_out = op->oo_cell;
			*op->oo_chunk_out = op->oo_chunk;
		}
	}
	if (rc == 0)
		rc = array_hdl_new(op->oo_coh, op->oo_oid, op->oo_mode, op->oo_cell, op->oo_chunk,
				   op->oo_ooh, op->oo_oh);
	if (rc != 0)
		arr_obj_close(op->oo_ooh, ev);
	pthread_mutex_destroy(&base->ao_lock);
	D_FREE(op);
	dc_ev_complete(ev, rc);
}

static int
array_open_start(daos_event_t *ev, struct open_op *op)
{
	struct array_md *md = &op->oo_md;
	daos_event_t *priv;
	daos_event_t *evp;
	int rc;

	if (op->oo_create)
		op->oo_mode = DAOS_OO_RW;
	/* local (no round trip), and blocking on the private event: before the call's launch */
	rc = daos_obj_open(op->oo_coh, op->oo_oid, op->oo_mode, &op->oo_ooh, NULL);
	if (rc != 0) {
		D_FREE(op);
		return dc_ev_done(ev, rc);
	}
	rc = arr_begin(ev, &priv, &evp);
	if (rc != 0) {
		daos_obj_close(op->oo_ooh, NULL);
		D_FREE(op);
		return rc;
	}
	arr_op_init(&op->oo_base, evp, array_open_fin);
	array_md_init(md);
	if (op->oo_create) {
		md->am_vals[0] = ARRAY_MD_MAGIC;
		md->am_vals[1] = op->oo_cell;
		md->am_vals[2] = op->oo_chunk;
		rc = arr_sub_init(&op->oo_base, &op->oo_sub);
		if (rc == 0)
			arr_sub_launched(
			    &op->oo_sub,
			    daos_obj_update(op->oo_ooh, op->oo_th,
					    DAOS_COND_DKEY_INSERT | DAOS_COND_AKEY_INSERT,
					    &md->am_dkey, 1, &md->am_iod, &md->am_sgl,
					    &op->oo_sub.as_iev));
	} else if (!op->oo_attr) {
		md->am_iod.iod_size = DAOS_REC_ANY;
		rc = arr_sub_init(&op->oo_base, &op->oo_sub);
		if (rc == 0)
			arr_sub_launched(&op->oo_sub,
					 daos_obj_fetch(op->oo_ooh, op->oo_th,
							DAOS_COND_DKEY_FETCH | DAOS_COND_AKEY_FETCH,
							&md->am_dkey, 1, &md->am_iod, &md->am_sgl,
							NULL, &op->oo_sub.as_iev));
	}
	arr_op_release(&op->oo_base, rc);
	return dc_ev_end(ev, priv);
}

static struct open_op *
open_op_new(daos_handle_t coh, daos_obj_id_t oid, daos_handle_t th, unsigned int mode,
	    daos_handle_t *oh)
{
	struct open_op *op;

	D_ALLOC_PTR(op);
	if (op == NULL)
		return NULL;
	op->oo_coh = coh;
	op->oo_oid = oid;
	op->oo_th = th;
	op->oo_mode = mode;
	op->oo_oh = oh;
	return op;
}

int
daos_array_create(daos_handle_t coh, daos_obj_id_t oid, daos_handle_t th, daos_size_t cell_size,
		  daos_size_t chunk_size, daos_handle_t *oh, daos_event_t *ev)
{
	struct open_op *op;

	if (oh == NULL || cell_size == 0 || chunk_size == 0 || !daos_is_array(oid) ||
	    daos_obj_id2type(oid) != DAOS_OT_ARRAY)
		return dc_ev_done(ev, -DER_INVAL);
	op = open_op_new(coh, oid, th, DAOS_OO_RW, oh);
	if (op == NULL)
		return dc_ev_done(ev, -DER_NOMEM);
	op->oo_create = true;
	op->oo_cell = cell_size;
	op->oo_chunk = chunk_size;
	return array_open_start(ev, op);
}

int
daos_array_open(daos_handle_t coh, daos_obj_id_t oid, daos_handle_t th, unsigned int mode,
		daos_size_t *cell_size, daos_size_t *chunk_size, daos_handle_t *oh,
		daos_event_t *ev)
{
	struct open_op *op;

	if (oh == NULL || cell_size == NULL || chunk_size == NULL ||
	    daos_obj_id2type(oid) != DAOS_OT_ARRAY)
		return dc_ev_done(ev, -DER_INVAL);
	op = open_op_new(coh, oid, th, mode, oh);
	if (op == NULL)
		return dc_ev_done(ev, -DER_NOMEM);
	op->oo_cell_out = cell_size;
	op->oo_chunk_out = chunk_size;
	return array_open_start(ev, op);
}

int
daos_array_open_with_attr(daos_handle_t coh, daos_obj_id_t oid, daos_handle_t th, unsigned int mode,
			  daos_size_t cell_size, daos_size_t chunk_size, daos_handle_t *oh,
			  daos_event_t *ev)
{
	struct open_op *op;

	if (oh == NULL || cell_size == 0 || chunk_size == 0 || !daos_is_array(oid) ||
	    daos_obj_id2type(oid) == DAOS_OT_ARRAY)
		return dc_ev_done(ev, -DER_INVAL);
	op = open_op_new(coh, oid, th, mode, oh);
	if (op == NULL)
		return dc_ev_done(ev, -DER_NOMEM);
	op->oo_attr = true;
	op->oo_cell = cell_size;
	op->oo_chunk = chunk_size;
	return array_open_start(ev, op);
}

int
daos_array_close(daos_handle_t oh, daos_event_t *ev)
{
	struct dc_array *arr = array_get(oh);
	daos_handle_t ooh;

	if (arr == NULL)
		return dc_ev_done(ev, -DER_NO_HDL);
	ooh = arr->da_oh;
	d_hhash_link_delete(dc_hhash(), &arr->da_hlink);
	array_put(arr);
	daos_obj_close(ooh, NULL);
	return dc_ev_done(ev, 0);
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

/* One piece of an I/O: a range of records within one chunk (dkey). */
struct io_piece {
	struct arr_sub ip_sub;
	uint64_t ip_dkey_val;
	char ip_akey_val;
	daos_key_t ip_dkey;
	daos_recx_t ip_recx;
	daos_iod_t ip_iod;
	d_sg_list_t ip_sgl;
	uint32_t ip_iov_first; /* its iovs in the op's array */
	uint32_t ip_iov_nr;
};

/* A read, write or punch in flight: every chunk piece launched at once. */
struct io_op {
	struct arr_op io_base;
	struct dc_array *io_arr; /* referenced */
	daos_handle_t io_th;
	enum io_kind io_kind;
	daos_array_iod_t *io_iod;
	struct io_piece *io_ps;
	uint32_t io_nr;
	d_iov_t *io_iovs;
	daos_size_t io_total;
	/* at the end: (NULL: complete the event) */
	void (*io_next)(void *arg, int rc);
	void *io_next_arg;
};

static void
io_end(struct io_op *op, int rc)
{
	daos_event_t *ev = op->io_base.ao_ev;
	void (*next)(void *arg, int rc) = op->io_next;
	void *next_arg = op->io_next_arg;

	if (op->io_arr != NULL)
		array_put(op->io_arr);
	D_FREE(op->io_iovs);
	D_FREE(op->io_ps);
	pthread_mutex_destroy(&op->io_base.ao_lock);
	D_FREE(op);
	if (next != NULL)
		next(next_arg, rc);
	else
		dc_ev_complete(ev, rc);
}

/*
 * After the fetch of read piece @p: zero what it did not fill. A chunk with no data in the
 * range (iod_size 0, or no dkey: @all) sent nothing; otherwise VOS filled the whole range,
 * holes with zeroes, and the object layer set each iov_len to the bytes that arrived (the
 * iovs are the op's own copies: iov_buf_len is the piece's share of the caller's buffer).
 */
static void
io_read_zero(struct io_piece *p, bool all)
{
	uint32_t j;

	for (j = 0; j < p->ip_sgl.sg_nr; j++) {
		d_iov_t *iov = &p->ip_sgl.sg_iovs[j];
		size_t from = all || iov->iov_len > iov->iov_buf_len ? 0 : iov->iov_len;

		if (from < iov->iov_buf_len)
			memset((char *)iov->iov_buf + from, 0, iov->iov_buf_len - from);
	}
}

static void
io_fin(struct arr_op *base, int rc)
{
	struct io_op *op = container_of(base, struct io_op, io_base);
	daos_size_t short_cells = 0;
	uint32_t i;

	for (i = 0; rc == 0 && i < op->io_nr; i++) {
		struct io_piece *p = &op->io_ps[i];
		int prc = p->ip_sub.as_rc;

		if (op->io_kind == IO_READ && prc == -DER_NONEXIST) {
			prc = 0;
			p->ip_iod.iod_size = 0;
		}
		if (prc == 0 && op->io_kind == IO_READ)
			io_read_zero(p, p->ip_iod.iod_size == 0);
		rc = prc;
		if (rc == 0 && op->io_kind == IO_READ && p->ip_iod.iod_size == 0)
			short_cells += p->ip_recx.rx_nr;
	}
	if (rc == 0 && op->io_kind == IO_READ) {
		op->io_iod->arr_nr_short_read = short_cells;
		op->io_iod->arr_nr_read = op->io_total - short_cells;
	}
	io_end(op, rc);
}

/* Cut the ranges of the iod into chunk pieces (and the sgl into their iovs). */
static int
io_split(struct io_op *op, d_sg_list_t *sgl)
{
	struct dc_array *arr = op->io_arr;
	daos_array_iod_t *iod = op->io_iod;
	struct sg_cur cur = {.sc_sgl = sgl};
	uint32_t cap = 0;
	uint32_t pcap = 0;
	uint32_t iov_nr = 0;
	daos_size_t i;
	int rc = 0;

	for (i = 0; i < iod->arr_nr && rc == 0; i++) {
		daos_off_t idx = iod->arr_rgs[i].rg_idx;
		daos_size_t left = iod->arr_rgs[i].rg_len;

		while (left > 0 && rc == 0) {
			daos_off_t rec = idx % arr->da_chunk;
			daos_size_t n = arr->da_chunk - rec;
			struct io_piece *p;

			if (n > left)
				n = left;
			/* one request carries at most ARRAY_IO_MAX bytes */
			if (n > ARRAY_IO_MAX / arr->da_cell)
				n = ARRAY_IO_MAX / arr->da_cell > 0 ? ARRAY_IO_MAX / arr->da_cell
								    : 1;
			if (op->io_nr == pcap) {
				uint32_t ncap = pcap == 0 ? 8 : pcap * 2;
				struct io_piece *np;

				D_REALLOC_ARRAY(np, op->io_ps, ncap);
				if (np == NULL)
					return -DER_NOMEM;
				op->io_ps = np;
				pcap = ncap;
			}
			p = &op->io_ps[op->io_nr];
			memset(p, 0, sizeof(*p));
			p->ip_dkey_val = idx / arr->da_chunk + 1;
			p->ip_akey_val = '0';
			p->ip_iod.iod_type = DAOS_IOD_ARRAY;
			p->ip_iod.iod_nr = 1;
			p->ip_recx.rx_idx = rec;
			p->ip_recx.rx_nr = n;
			p->ip_iov_first = iov_nr;
			if (op->io_kind != IO_PUNCH) {
				rc = sg_take(&cur, n * arr->da_cell, &op->io_iovs, &cap, &iov_nr);
				if (rc != 0)
					break;
				p->ip_iov_nr = iov_nr - p->ip_iov_first;
			}
			op->io_nr++;
			op->io_total += n;
			idx += n;
			left -= n;
		}
	}
	/* the arrays moved while growing: point into them now */
	for (i = 0; rc == 0 && i < op->io_nr; i++) {
		struct io_piece *p = &op->io_ps[i];

		d_iov_set(&p->ip_dkey, &p->ip_dkey_val, sizeof(p->ip_dkey_val));
		d_iov_set(&p->ip_iod.iod_name, &p->ip_akey_val, 1);
		p->ip_iod.iod_recxs = &p->ip_recx;
		p->ip_sgl.sg_iovs = op->io_iovs == NULL ? NULL : op->io_iovs + p->ip_iov_first;
		p->ip_sgl.sg_nr = p->ip_iov_nr;
		p->ip_sgl.sg_nr_out = 0;
	}
	return rc;
}

/* Launch piece @p of @op. */
static int
io_piece_launch(struct io_op *op, struct io_piece *p)
{
	struct dc_array *arr = op->io_arr;
	daos_event_t *iev = &p->ip_sub.as_iev;

	switch (op->io_kind) {
	case IO_READ:
		/* not zeroed here: VOS fills holes, io_read_zero what it did not send */
		p->ip_iod.iod_size = arr->da_cell;
		return daos_obj_fetch(arr->da_oh, op->io_th, 0, &p->ip_dkey, 1, &p->ip_iod,
				      &p->ip_sgl, NULL, iev);
	case IO_WRITE:
		p->ip_iod.iod_size = arr->da_cell;
		return daos_obj_update(arr->da_oh, op->io_th, 0, &p->ip_dkey, 1, &p->ip_iod,
				       &p->ip_sgl, iev);
	default:
		/* a hole: records of size 0, no data */
		p->ip_iod.iod_size = 0;
		return daos_obj_update(arr->da_oh, op->io_th, 0, &p->ip_dkey, 1, &p->ip_iod,
				       &p->ip_sgl, iev);
	}
}

/*
 * Start I/O @kind of @iod (@sgl) on array @oh on the running event @ev; at the end call
 * @next(@next_arg, rc), or with @next NULL complete @ev. Every piece is launched before
 * this returns; they complete in any order.
 */
static void
io_start(daos_event_t *ev, daos_handle_t oh, daos_handle_t th, daos_array_iod_t *iod,
	 d_sg_list_t *sgl, enum io_kind kind, void (*next)(void *arg, int rc), void *next_arg)
{
	struct io_op *op;
	uint32_t i;
	int rc;

	D_ALLOC_PTR(op);
	if (op == NULL) {
		if (next != NULL)
			next(next_arg, -DER_NOMEM);
		else
			dc_ev_complete(ev, -DER_NOMEM);
		return;
	}
	arr_op_init(&op->io_base, ev, io_fin);
	op->io_th = th;
	op->io_kind = kind;
	op->io_iod = iod;
	op->io_next = next;
	op->io_next_arg = next_arg;
	op->io_arr = array_get(oh);
	if (op->io_arr == NULL) {
		io_end(op, -DER_NO_HDL);
		return;
	}
	rc = io_check(op->io_arr, iod, sgl, kind != IO_PUNCH);
	if (rc == 0)
		rc = io_split(op, sgl);
	if (rc != 0) {
		io_end(op, rc);
		return;
	}
	for (i = 0; i < op->io_nr; i++) {
		struct io_piece *p = &op->io_ps[i];

		rc = arr_sub_init(&op->io_base, &p->ip_sub);
		if (rc != 0) {
			p->ip_sub.as_rc = rc;
			break;
		}
		arr_sub_launched(&p->ip_sub, io_piece_launch(op, p));
	}
	arr_op_release(&op->io_base, rc);
}

static int
array_io(daos_handle_t oh, daos_handle_t th, daos_array_iod_t *iod, d_sg_list_t *sgl,
	 enum io_kind kind, daos_event_t *ev)
{
	daos_event_t *priv;
	daos_event_t *evp;
	int rc;

	if (iod == NULL || (kind != IO_PUNCH && sgl == NULL))
		return dc_ev_done(ev, -DER_INVAL);
	rc = arr_begin(ev, &priv, &evp);
	if (rc != 0)
		return rc;
	io_start(evp, oh, th, iod, sgl, kind, NULL, NULL);
	return dc_ev_end(ev, priv);
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

/* A batch of dkeys punched when an array shrinks. */
struct punch_batch {
	struct arr_sub pb_sub;
	unsigned int pb_n;
	uint64_t pb_vals[ARRAY_PUNCH_BATCH];
	daos_key_t pb_dkeys[ARRAY_PUNCH_BATCH];
};

/*
 * get_size, stat, set_size and destroy in flight. The size is one past the last cell of
 * the highest extent of the highest dkey (a query of the object's maximum); set_size then
 * punches the whole chunks beyond the new size (all batches at once), the tail of the
 * chunk holding the new last cell, and reads and writes back that cell (it must exist for
 * the size to be found again).
 */
struct size_op {
	struct arr_op so_base;
	struct arr_sub so_sub;
	daos_handle_t so_oh;
	daos_handle_t so_th;
	daos_handle_t so_ooh;
	daos_size_t so_cell;
	daos_size_t so_chunk;
	uint64_t so_dkey_val;
	char so_akey_val;
	daos_recx_t so_recx;
	daos_key_t so_dkey;
	daos_key_t so_akey;
	bool so_set;
	daos_size_t so_size; /* set_size: the new size */
	daos_size_t so_cur;
	daos_size_t *so_sizep;
	daos_array_stbuf_t *so_stbuf;
	struct punch_batch *so_pb;
	uint32_t so_npb;
	daos_range_t so_rg;
	daos_array_iod_t so_iod;
	d_sg_list_t so_sgl;
	d_iov_t so_iov;
	void *so_buf;
};

static void
size_end(struct size_op *op, int rc)
{
	daos_event_t *ev = op->so_base.ao_ev;

	D_FREE(op->so_buf);
	D_FREE(op->so_pb);
	pthread_mutex_destroy(&op->so_base.ao_lock);
	D_FREE(op);
	dc_ev_complete(ev, rc);
}

static void
size_end_cb(void *arg, int rc)
{
	size_end(arg, rc);
}

/* The written-back cell is there: done. */
static void
size_touch_read(void *arg, int rc)
{
	struct size_op *op = arg;

	if (rc != 0) {
		size_end(op, rc);
		return;
	}
	io_start(op->so_base.ao_ev, op->so_oh, op->so_th, &op->so_iod, &op->so_sgl, IO_WRITE,
		 size_end_cb, op);
}

/* Read the new last cell (a hole reads as zero), then write it back. */
static void
size_touch(struct size_op *op)
{
	if (op->so_size == 0) {
		size_end(op, 0);
		return;
	}
	D_ALLOC(op->so_buf, op->so_cell);
	if (op->so_buf == NULL) {
		size_end(op, -DER_NOMEM);
		return;
	}
	op->so_rg.rg_idx = op->so_size - 1;
	op->so_rg.rg_len = 1;
	op->so_iod.arr_nr = 1;
	op->so_iod.arr_rgs = &op->so_rg;
	d_iov_set(&op->so_iov, op->so_buf, op->so_cell);
	op->so_sgl.sg_nr = 1;
	op->so_sgl.sg_nr_out = 0;
	op->so_sgl.sg_iovs = &op->so_iov;
	io_start(op->so_base.ao_ev, op->so_oh, op->so_th, &op->so_iod, &op->so_sgl, IO_READ,
		 size_touch_read, op);
}

static void
size_tail_done(void *arg, int rc)
{
	if (rc != 0)
		size_end(arg, rc);
	else
		size_touch(arg);
}

static void
size_punched(struct arr_op *base, int rc)
{
	struct size_op *op = container_of(base, struct size_op, so_base);
	uint32_t i;

	for (i = 0; rc == 0 && i < op->so_npb; i++)
		if (op->so_pb[i].pb_sub.as_rc != -DER_NONEXIST)
			rc = op->so_pb[i].pb_sub.as_rc;
	if (rc != 0) {
		size_end(op, rc);
		return;
	}
	if (op->so_size % op->so_chunk != 0) {
		/* the tail of the chunk holding the new last cell */
		daos_size_t end = (op->so_size / op->so_chunk + 1) * op->so_chunk;

		op->so_rg.rg_idx = op->so_size;
		op->so_rg.rg_len = (end < op->so_cur ? end : op->so_cur) - op->so_size;
		op->so_iod.arr_nr = 1;
		op->so_iod.arr_rgs = &op->so_rg;
		io_start(base->ao_ev, op->so_oh, op->so_th, &op->so_iod, NULL, IO_PUNCH,
			 size_tail_done, op);
		return;
	}
	size_touch(op);
}

/* Shrink: punch the dkeys of the whole chunks beyond the new size, every batch at once. */
static void
size_shrink(struct size_op *op)
{
	uint64_t first = (op->so_size + op->so_chunk - 1) / op->so_chunk + 1;
	uint64_t last = (op->so_cur - 1) / op->so_chunk + 1;
	uint64_t d = first;
	uint32_t i;
	int rc = 0;

	arr_op_rearm(&op->so_base, size_punched);
	if (first <= last) {
		op->so_npb = (uint32_t)((last - first) / ARRAY_PUNCH_BATCH + 1);
		D_ALLOC_ARRAY(op->so_pb, op->so_npb);
		if (op->so_pb == NULL) {
			op->so_npb = 0;
			rc = -DER_NOMEM;
		}
	}
	for (i = 0; rc == 0 && i < op->so_npb; i++) {
		struct punch_batch *pb = &op->so_pb[i];

		for (; d <= last && pb->pb_n < ARRAY_PUNCH_BATCH; d++, pb->pb_n++) {
			pb->pb_vals[pb->pb_n] = d;
			d_iov_set(&pb->pb_dkeys[pb->pb_n], &pb->pb_vals[pb->pb_n],
				  sizeof(pb->pb_vals[0]));
		}
		rc = arr_sub_init(&op->so_base, &pb->pb_sub);
		if (rc != 0)
			break;
		arr_sub_launched(&pb->pb_sub,
				 daos_obj_punch_dkeys(op->so_ooh, op->so_th, 0, pb->pb_n,
						      pb->pb_dkeys, &pb->pb_sub.as_iev));
	}
	arr_op_release(&op->so_base, rc);
}

static void
size_queried(struct arr_op *base, int rc)
{
	struct size_op *op = container_of(base, struct size_op, so_base);

	if (rc == 0)
		rc = op->so_sub.as_rc;
	if (rc == -DER_NONEXIST || (rc == 0 && op->so_dkey_val == 0)) {
		op->so_cur = 0;
		rc = 0;
	} else if (rc == 0) {
		op->so_cur =
		    (op->so_dkey_val - 1) * op->so_chunk + op->so_recx.rx_idx + op->so_recx.rx_nr;
	}
	if (rc != 0 || !op->so_set) {
		if (rc == 0 && op->so_sizep != NULL)
			*op->so_sizep = op->so_cur;
		if (rc == 0 && op->so_stbuf != NULL) {
			op->so_stbuf->st_size = op->so_cur;
			op->so_stbuf->st_max_epoch = 0; /* not reported by the object API yet */
		}
		size_end(op, rc);
		return;
	}
	if (op->so_cur == op->so_size)
		size_end(op, 0);
	else if (op->so_size < op->so_cur)
		size_shrink(op);
	else
		size_touch(op);
}

static void
array_destroyed(struct arr_op *base, int rc)
{
	struct size_op *op = container_of(base, struct size_op, so_base);

	size_end(op, rc != 0 ? rc : op->so_sub.as_rc);
}

/* Start a size call (@destroy: a destroy) of array @oh. */
static int
size_start(daos_handle_t oh, daos_handle_t th, struct size_op *op, bool destroy, daos_event_t *ev)
{
	struct dc_array *arr = array_get(oh);
	daos_event_t *priv;
	daos_event_t *evp;
	int rc;

	if (arr == NULL) {
		D_FREE(op);
		return dc_ev_done(ev, -DER_NO_HDL);
	}
	op->so_oh = oh;
	op->so_th = th;
	op->so_ooh = arr->da_oh;
	op->so_cell = arr->da_cell;
	op->so_chunk = arr->da_chunk;
	array_put(arr);
	rc = arr_begin(ev, &priv, &evp);
	if (rc != 0) {
		D_FREE(op);
		return rc;
	}
	arr_op_init(&op->so_base, evp, destroy ? array_destroyed : size_queried);
	rc = arr_sub_init(&op->so_base, &op->so_sub);
	if (rc == 0 && destroy) {
		arr_sub_launched(&op->so_sub,
				 daos_obj_punch(op->so_ooh, th, 0, &op->so_sub.as_iev));
	} else if (rc == 0) {
		op->so_akey_val = '0';
		d_iov_set(&op->so_dkey, &op->so_dkey_val, sizeof(op->so_dkey_val));
		d_iov_set(&op->so_akey, &op->so_akey_val, 1);
		arr_sub_launched(&op->so_sub,
				 daos_obj_query_key(
				     op->so_ooh, th, DAOS_GET_MAX | DAOS_GET_DKEY | DAOS_GET_RECX,
				     &op->so_dkey, &op->so_akey, &op->so_recx, &op->so_sub.as_iev));
	}
	arr_op_release(&op->so_base, rc);
	return dc_ev_end(ev, priv);
}

int
daos_array_get_size(daos_handle_t oh, daos_handle_t th, daos_size_t *size, daos_event_t *ev)
{
	struct size_op *op;

	if (size == NULL)
		return dc_ev_done(ev, -DER_INVAL);
	D_ALLOC_PTR(op);
	if (op == NULL)
		return dc_ev_done(ev, -DER_NOMEM);
	op->so_sizep = size;
	return size_start(oh, th, op, false, ev);
}

int
daos_array_stat(daos_handle_t oh, daos_handle_t th, daos_array_stbuf_t *stbuf, daos_event_t *ev)
{
	struct size_op *op;

	if (stbuf == NULL)
		return dc_ev_done(ev, -DER_INVAL);
	D_ALLOC_PTR(op);
	if (op == NULL)
		return dc_ev_done(ev, -DER_NOMEM);
	op->so_stbuf = stbuf;
	return size_start(oh, th, op, false, ev);
}

int
daos_array_set_size(daos_handle_t oh, daos_handle_t th, daos_size_t size, daos_event_t *ev)
{
	struct size_op *op;

	D_ALLOC_PTR(op);
	if (op == NULL)
		return dc_ev_done(ev, -DER_NOMEM);
	op->so_set = true;
	op->so_size = size;
	return size_start(oh, th, op, false, ev);
}

int
daos_array_destroy(daos_handle_t oh, daos_handle_t th, daos_event_t *ev)
{
	struct size_op *op;

	D_ALLOC_PTR(op);
	if (op == NULL)
		return dc_ev_done(ev, -DER_NOMEM);
	return size_start(oh, th, op, true, ev);
}
