/*
 * dc_kv.c: the KV API of libdaos (daos_kv.h) over the object API.
 *
 * Layout (DAOS's): each key is a dkey (the string without its NUL); its value is a single
 * value under the 1-byte akey "0". Conditional flags are the object API's (daos_kv.h maps
 * DAOS_COND_KEY_* onto them) and pass straight through. Put, get, remove and list are one
 * object operation each, on an internal event of the call's event (struct kv_op): with an
 * event the call returns once it is sent. See README.md.
 */
#define D_LOGFAC client

#include <string.h>

#include <daos.h>
#include <daos_kv.h>
#include <daos/client.h>
#include <daos/event.h>
#include <gurt/common.h>

#include "../api/client_internal.h"

/* Handle type of KVs in the library's table (see client_internal.h). */
#define DC_HTYPE_KV 11

struct dc_kv {
	struct d_hlink dk_hlink;
	daos_handle_t dk_oh;
};

static void
kv_free(struct d_hlink *hlink)
{
	struct dc_kv *kv = container_of(hlink, struct dc_kv, dk_hlink);

	D_FREE(kv);
}

static struct d_hlink_ops kv_hlink_ops = {
    .hop_free = kv_free,
};

static struct dc_kv *
kv_get(daos_handle_t oh)
{
	struct d_hlink *hlink;

	if (dc_hhash() == NULL || d_hhash_key_type(oh.cookie) != DC_HTYPE_KV)
		return NULL;
	hlink = d_hhash_link_lookup(dc_hhash(), oh.cookie);
	return hlink == NULL ? NULL : container_of(hlink, struct dc_kv, dk_hlink);
}

static void
kv_put(struct dc_kv *kv)
{
	d_hhash_link_putref(dc_hhash(), &kv->dk_hlink);
}

/* The object handle of KV @oh, or an invalid handle. */
static daos_handle_t
kv_obj(daos_handle_t oh)
{
	struct dc_kv *kv = kv_get(oh);
	daos_handle_t ooh = DAOS_HDL_INVAL;

	if (kv != NULL) {
		ooh = kv->dk_oh;
		kv_put(kv);
	}
	return ooh;
}

int
daos_kv_open(daos_handle_t coh, daos_obj_id_t oid, unsigned int mode, daos_handle_t *oh,
	     daos_event_t *ev)
{
	struct dc_kv *kv;
	daos_handle_t ooh;
	int rc;

	if (oh == NULL || !daos_is_kv(oid))
		return dc_ev_done(ev, -DER_INVAL);
	rc = daos_obj_open(coh, oid, mode, &ooh, NULL);
	if (rc != 0)
		return dc_ev_done(ev, rc);
	D_ALLOC_PTR(kv);
	if (kv == NULL) {
		daos_obj_close(ooh, NULL);
		return dc_ev_done(ev, -DER_NOMEM);
	}
	kv->dk_oh = ooh;
	d_hhash_hlink_init(&kv->dk_hlink, &kv_hlink_ops);
	d_hhash_link_insert(dc_hhash(), &kv->dk_hlink, DC_HTYPE_KV);
	d_hhash_link_key(&kv->dk_hlink, &oh->cookie);
	kv_put(kv);
	return dc_ev_done(ev, 0);
}

int
daos_kv_close(daos_handle_t oh, daos_event_t *ev)
{
	struct dc_kv *kv = kv_get(oh);
	daos_handle_t ooh;

	if (kv == NULL)
		return dc_ev_done(ev, -DER_NO_HDL);
	ooh = kv->dk_oh;
	d_hhash_link_delete(dc_hhash(), &kv->dk_hlink);
	kv_put(kv);
	return dc_ev_done(ev, daos_obj_close(ooh, NULL));
}

int
daos_kv_destroy(daos_handle_t oh, daos_handle_t th, daos_event_t *ev)
{
	daos_handle_t ooh = kv_obj(oh);

	if (daos_handle_is_inval(ooh))
		return dc_ev_done(ev, -DER_NO_HDL);
	/* one object punch: on the application's event itself */
	return daos_obj_punch(ooh, th, 0, ev);
}

/*
 * A put, get, remove or list in flight: one object operation on an internal event
 * (dc_ev_init_internal) of the call's event; its completion finishes the call. The key is
 * copied; values and list buffers are the application's (valid until completion, as DAOS).
 */
struct kv_op {
	daos_event_t ko_iev;
	daos_event_t *ko_ev; /* the call's running event */
	daos_handle_t ko_ooh;
	daos_handle_t ko_th;
	char *ko_key;
	char ko_akey_val;
	daos_key_t ko_dkey;
	daos_iod_t ko_iod;
	d_sg_list_t ko_sgl;
	d_iov_t ko_iov;
	daos_size_t *ko_size; /* get: where the size goes */
	bool ko_size_only;    /* get without a buffer */
};

static void
kv_op_done(void *arg, daos_event_t *iev, int rc)
{
	struct kv_op *op = arg;
	daos_event_t *ev = op->ko_ev;

	if (op->ko_size != NULL) {
		if (rc == 0 || rc == -DER_REC2BIG)
			*op->ko_size = op->ko_iod.iod_size;
		/* a NULL buffer asks for the size only */
		if (rc == -DER_REC2BIG && op->ko_size_only)
			rc = 0;
	}
	daos_event_fini(iev);
	D_FREE(op->ko_key);
	D_FREE(op);
	dc_ev_complete(ev, rc);
}

/* A new op for KV @oh and @key (NULL: none), or an error. */
static int
kv_op_new(daos_handle_t oh, const char *key, struct kv_op **opp)
{
	struct kv_op *op;

	D_ALLOC_PTR(op);
	if (op == NULL)
		return -DER_NOMEM;
	op->ko_ooh = kv_obj(oh);
	if (daos_handle_is_inval(op->ko_ooh)) {
		D_FREE(op);
		return -DER_NO_HDL;
	}
	if (key != NULL) {
		size_t len = strlen(key);

		D_ALLOC(op->ko_key, len + 1);
		if (op->ko_key == NULL) {
			D_FREE(op);
			return -DER_NOMEM;
		}
		memcpy(op->ko_key, key, len + 1);
		d_iov_set(&op->ko_dkey, op->ko_key, len);
	}
	op->ko_akey_val = '0';
	d_iov_set(&op->ko_iod.iod_name, &op->ko_akey_val, 1);
	op->ko_iod.iod_type = DAOS_IOD_SINGLE;
	op->ko_iod.iod_nr = 1;
	op->ko_sgl.sg_nr = 1;
	op->ko_sgl.sg_iovs = &op->ko_iov;
	*opp = op;
	return 0;
}

/*
 * Launch @ev (NULL: a private event, waited for) and start @op's object operation @fn on an
 * internal event of it. With @ev, returns 0 once started: the result is the event's.
 */
static int
kv_op_run(daos_event_t *ev, struct kv_op *op, int (*fn)(struct kv_op *op, void *arg), void *arg)
{
	daos_event_t *priv;
	int rc;

	rc = dc_ev_begin(ev, &priv);
	if (rc != 0) {
		D_FREE(op->ko_key);
		D_FREE(op);
		return rc;
	}
	op->ko_ev = priv != NULL ? priv : ev;
	rc = dc_ev_init_internal(&op->ko_iev, op->ko_ev, kv_op_done, op);
	if (rc != 0) {
		daos_event_t *evp = op->ko_ev;

		D_FREE(op->ko_key);
		D_FREE(op);
		dc_ev_complete(evp, rc);
	} else {
		dc_ev_internal_check(&op->ko_iev, fn(op, arg));
	}
	return dc_ev_end(ev, priv);
}

static int
kv_put_fn(struct kv_op *op, void *arg)
{
	uint64_t flags = *(uint64_t *)arg;

	return daos_obj_update(op->ko_ooh, op->ko_th, flags, &op->ko_dkey, 1, &op->ko_iod,
			       &op->ko_sgl, &op->ko_iev);
}

int
daos_kv_put(daos_handle_t oh, daos_handle_t th, uint64_t flags, const char *key, daos_size_t size,
	    const void *buf, daos_event_t *ev)
{
	struct kv_op *op;
	int rc;

	if (key == NULL || key[0] == '\0' || (size > 0 && buf == NULL) ||
	    (flags & ~(uint64_t)(DAOS_COND_KEY_INSERT | DAOS_COND_KEY_UPDATE)) != 0)
		return dc_ev_done(ev, -DER_INVAL);
	rc = kv_op_new(oh, key, &op);
	if (rc != 0)
		return dc_ev_done(ev, rc);
	op->ko_th = th;
	op->ko_iod.iod_size = size;
	d_iov_set(&op->ko_iov, (void *)buf, size);
	return kv_op_run(ev, op, kv_put_fn, &flags);
}

static int
kv_get_fn(struct kv_op *op, void *arg)
{
	uint64_t flags = *(uint64_t *)arg;

	return daos_obj_fetch(op->ko_ooh, op->ko_th, flags, &op->ko_dkey, 1, &op->ko_iod,
			      op->ko_size_only ? NULL : &op->ko_sgl, NULL, &op->ko_iev);
}

int
daos_kv_get(daos_handle_t oh, daos_handle_t th, uint64_t flags, const char *key, daos_size_t *size,
	    void *buf, daos_event_t *ev)
{
	struct kv_op *op;
	int rc;

	if (key == NULL || key[0] == '\0' || size == NULL ||
	    (flags & ~(uint64_t)DAOS_COND_KEY_GET) != 0)
		return dc_ev_done(ev, -DER_INVAL);
	rc = kv_op_new(oh, key, &op);
	if (rc != 0)
		return dc_ev_done(ev, rc);
	op->ko_th = th;
	op->ko_size = size;
	op->ko_size_only = buf == NULL;
	op->ko_iod.iod_size = buf == NULL ? DAOS_REC_ANY : *size;
	d_iov_set(&op->ko_iov, buf, buf == NULL ? 0 : *size);
	return kv_op_run(ev, op, kv_get_fn, &flags);
}

static int
kv_remove_fn(struct kv_op *op, void *arg)
{
	uint64_t flags = *(uint64_t *)arg;

	return daos_obj_punch_dkeys(op->ko_ooh, op->ko_th, flags, 1, &op->ko_dkey, &op->ko_iev);
}

int
daos_kv_remove(daos_handle_t oh, daos_handle_t th, uint64_t flags, const char *key,
	       daos_event_t *ev)
{
	struct kv_op *op;
	int rc;

	if (key == NULL || key[0] == '\0' || (flags & ~(uint64_t)DAOS_COND_KEY_REMOVE) != 0)
		return dc_ev_done(ev, -DER_INVAL);
	rc = kv_op_new(oh, key, &op);
	if (rc != 0)
		return dc_ev_done(ev, rc);
	op->ko_th = th;
	return kv_op_run(ev, op, kv_remove_fn, &flags);
}

struct kv_list_args {
	uint32_t *la_nr;
	daos_key_desc_t *la_kds;
	d_sg_list_t *la_sgl;
	daos_anchor_t *la_anchor;
};

static int
kv_list_fn(struct kv_op *op, void *arg)
{
	struct kv_list_args *a = arg;

	return daos_obj_list_dkey(op->ko_ooh, op->ko_th, a->la_nr, a->la_kds, a->la_sgl,
				  a->la_anchor, &op->ko_iev);
}

int
daos_kv_list(daos_handle_t oh, daos_handle_t th, uint32_t *nr, daos_key_desc_t *kds,
	     d_sg_list_t *sgl, daos_anchor_t *anchor, daos_event_t *ev)
{
	struct kv_list_args a = {.la_nr = nr, .la_kds = kds, .la_sgl = sgl, .la_anchor = anchor};
	struct kv_op *op;
	int rc;

	if (nr == NULL || kds == NULL || sgl == NULL || anchor == NULL)
		return dc_ev_done(ev, -DER_INVAL);
	rc = kv_op_new(oh, NULL, &op);
	if (rc != 0)
		return dc_ev_done(ev, rc);
	op->ko_th = th;
	return kv_op_run(ev, op, kv_list_fn, &a);
}
