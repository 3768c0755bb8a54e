/*
 * dc_kv.c: the KV API of libdaos (daos_kv.h) over the object API.
 *
 * Layout (DAOS's): each key is a dkey (the string without its NUL); its value is a single
 * value under the 1-byte akey "0". Conditional flags are the object API's (daos_kv.h maps
 * DAOS_COND_KEY_* onto them) and pass straight through. Every call runs as blocking
 * daos_obj_* calls; with an event, the event is launched first and completed when the work
 * is done. See README.md.
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

/* Report @rc on @ev (launched and completed now), or return it when @ev is NULL. */
static int
kv_done(daos_event_t *ev, int rc)
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
		return kv_done(ev, -DER_INVAL);
	rc = daos_obj_open(coh, oid, mode, &ooh, NULL);
	if (rc != 0)
		return kv_done(ev, rc);
	D_ALLOC_PTR(kv);
	if (kv == NULL) {
		daos_obj_close(ooh, NULL);
		return kv_done(ev, -DER_NOMEM);
	}
	kv->dk_oh = ooh;
	d_hhash_hlink_init(&kv->dk_hlink, &kv_hlink_ops);
	d_hhash_link_insert(dc_hhash(), &kv->dk_hlink, DC_HTYPE_KV);
	d_hhash_link_key(&kv->dk_hlink, &oh->cookie);
	kv_put(kv);
	return kv_done(ev, 0);
}

int
daos_kv_close(daos_handle_t oh, daos_event_t *ev)
{
	struct dc_kv *kv = kv_get(oh);
	daos_handle_t ooh;

	if (kv == NULL)
		return kv_done(ev, -DER_NO_HDL);
	ooh = kv->dk_oh;
	d_hhash_link_delete(dc_hhash(), &kv->dk_hlink);
	kv_put(kv);
	return kv_done(ev, daos_obj_close(ooh, NULL));
}

int
daos_kv_destroy(daos_handle_t oh, daos_handle_t th, daos_event_t *ev)
{
	daos_handle_t ooh = kv_obj(oh);

	if (daos_handle_is_inval(ooh))
		return kv_done(ev, -DER_NO_HDL);
	return kv_done(ev, daos_obj_punch(ooh, th, 0, NULL));
}

/* The dkey and single-value iod of @key. */
static void
kv_iod(const char *key, char *akey_val, daos_key_t *dkey, daos_iod_t *iod, daos_size_t size)
{
	d_iov_set(dkey, (void *)key, strlen(key));
	*akey_val = '0';
	memset(iod, 0, sizeof(*iod));
	d_iov_set(&iod->iod_name, akey_val, 1);
	iod->iod_type = DAOS_IOD_SINGLE;
	iod->iod_nr = 1;
	iod->iod_size = size;
}

int
daos_kv_put(daos_handle_t oh, daos_handle_t th, uint64_t flags, const char *key, daos_size_t size,
	    const void *buf, daos_event_t *ev)
{
	daos_handle_t ooh;
	daos_key_t dkey;
	daos_iod_t iod;
	d_sg_list_t sgl;
	d_iov_t iov;
	char akey_val;

	if (key == NULL || key[0] == '\0' || (size > 0 && buf == NULL) ||
	    (flags & ~(uint64_t)(DAOS_COND_KEY_INSERT | DAOS_COND_KEY_UPDATE)) != 0)
		return kv_done(ev, -DER_INVAL);
	ooh = kv_obj(oh);
	if (daos_handle_is_inval(ooh))
		return kv_done(ev, -DER_NO_HDL);
	kv_iod(key, &akey_val, &dkey, &iod, size);
	d_iov_set(&iov, (void *)buf, size);
	sgl.sg_nr = 1;
	sgl.sg_nr_out = 0;
	sgl.sg_iovs = &iov;
	return kv_done(ev, daos_obj_update(ooh, th, flags, &dkey, 1, &iod, &sgl, NULL));
}

int
daos_kv_get(daos_handle_t oh, daos_handle_t th, uint64_t flags, const char *key, daos_size_t *size,
	    void *buf, daos_event_t *ev)
{
	daos_handle_t ooh;
	daos_key_t dkey;
	daos_iod_t iod;
	d_sg_list_t sgl;
	d_iov_t iov;
	char akey_val;
	int rc;

	if (key == NULL || key[0] == '\0' || size == NULL ||
	    (flags & ~(uint64_t)DAOS_COND_KEY_GET) != 0)
		return kv_done(ev, -DER_INVAL);
	ooh = kv_obj(oh);
	if (daos_handle_is_inval(ooh))
		return kv_done(ev, -DER_NO_HDL);
	kv_iod(key, &akey_val, &dkey, &iod, buf == NULL ? DAOS_REC_ANY : *size);
	d_iov_set(&iov, buf, buf == NULL ? 0 : *size);
	sgl.sg_nr = 1;
	sgl.sg_nr_out = 0;
	sgl.sg_iovs = &iov;
	rc = daos_obj_fetch(ooh, th, flags, &dkey, 1, &iod, buf == NULL ? NULL : &sgl, NULL, NULL);
	if (rc == 0 || rc == -DER_REC2BIG)
		*size = iod.iod_size;
	/* a NULL buffer asks for the size only */
	if (rc == -DER_REC2BIG && buf == NULL)
		rc = 0;
	return kv_done(ev, rc);
}

int
daos_kv_remove(daos_handle_t oh, daos_handle_t th, uint64_t flags, const char *key,
	       daos_event_t *ev)
{
	daos_handle_t ooh;
	daos_key_t dkey;

	if (key == NULL || key[0] == '\0' || (flags & ~(uint64_t)DAOS_COND_KEY_REMOVE) != 0)
		return kv_done(ev, -DER_INVAL);
	ooh = kv_obj(oh);
	if (daos_handle_is_inval(ooh))
		return kv_done(ev, -DER_NO_HDL);
	d_iov_set(&dkey, (void *)key, strlen(key));
	return kv_done(ev, daos_obj_punch_dkeys(ooh, th, flags, 1, &dkey, NULL));
}

int
daos_kv_list(daos_handle_t oh, daos_handle_t th, uint32_t *nr, daos_key_desc_t *kds,
	     d_sg_list_t *sgl, daos_anchor_t *anchor, daos_event_t *ev)
{
	daos_handle_t ooh;

	if (nr == NULL || kds == NULL || sgl == NULL || anchor == NULL)
		return kv_done(ev, -DER_INVAL);
	ooh = kv_obj(oh);
	if (daos_handle_is_inval(ooh))
		return kv_done(ev, -DER_NO_HDL);
	return kv_done(ev, daos_obj_list_dkey(ooh, th, nr, kds, sgl, anchor, NULL));
}
