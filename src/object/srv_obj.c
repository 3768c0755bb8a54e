/*
 * srv_obj.c: the target side of object I/O (module "obj"): update, fetch, punch, list and
 * query key over the target's VOS shard of the pool. Each request runs in its own ULT on
 * the target xstream that owns the shard; bulk transfers and the WAL flush yield it.
 *
 * A container exists on a target from its first update or punch (its VOS container is
 * created then); reads of a container the target has never seen find nothing. Updates and
 * punches are acknowledged once their WAL record is durable. An update without an epoch
 * gets the target's HLC, returned in the reply.
 *
 * Every request is checked against the target's table of container handles, which the
 * management service fills (TgtHdl, daos_srv/pool_tgt.h ds_pool_child_io_check): a request
 * placed with a map version older than the target's is -DER_STALE (the client refreshes its
 * map and retries), a handle of another container or without the capability (write for
 * update and punch, read for the others) is -DER_NO_PERM, a handle the service did not give
 * this target (never opened, closed, or not pushed yet after a restart) -DER_NO_HDL. There
 * is no exemption: see README.md.
 */
#define D_LOGFAC object

#include <daos/obj_rpc.h>
#include <daos_srv/daos_engine.h>
#include <daos_srv/pool_tgt.h>
#include <daos_srv/sched.h>
#include <daos_srv/vos.h>
#include <gurt/common.h>
#include <gurt/debug.h>

/* An object request's view of its target: the pool shard and the container. */
struct obj_io {
	struct ds_pool_child *io_child;
	daos_handle_t io_poh;
	daos_handle_t io_coh; /* DAOS_HDL_INVAL: the container is not on this target */
	daos_unit_oid_t io_oid;
	daos_epoch_t io_epoch;
};

/*
 * Find the pool shard and the container of @hdr; @create makes the container if the target
 * has not seen it. @update: the request modifies (the handle needs the write capability),
 * and an epoch of 0 means "now"; otherwise it means "latest". Refuses (before touching VOS)
 * a request the shard's handle table does not allow: ds_pool_child_io_check.
 */
static int
obj_io_begin(const struct obj_hdr *hdr, bool create, bool update, struct obj_io *io)
{
	int rc;

	memset(io, 0, sizeof(*io));
	io->io_coh = DAOS_HDL_INVAL;
	if (hdr->oh_epoch == DAOS_EPOCH_MAX && update)
		return -DER_INVAL;
	if (hdr->oh_epoch != 0)
		io->io_epoch = hdr->oh_epoch;
	else
		io->io_epoch = update ? d_hlc_get() : DAOS_EPOCH_MAX;
	io->io_oid.id_pub.lo = hdr->oh_oid_lo;
	io->io_oid.id_pub.hi = hdr->oh_oid_hi;
	io->io_oid.id_shard = hdr->oh_shard;
	if (uuid_is_null(hdr->oh_pool) || uuid_is_null(hdr->oh_cont))
		return -DER_INVAL;

	rc = ds_pool_child_lookup(hdr->oh_pool, &io->io_child);
	if (rc != 0)
		return rc;
	/* the handle's capabilities and the map version: one lookup on this xstream */
	rc = ds_pool_child_io_check(io->io_child, hdr->oh_coh, hdr->oh_cont, hdr->oh_map_ver,
				    update);
	if (rc != 0) {
		ds_pool_child_put(io->io_child);
		io->io_child = NULL;
		return rc;
	}
	io->io_poh = ds_pool_child_hdl(io->io_child);
	rc = vos_cont_open(io->io_poh, hdr->oh_cont, &io->io_coh);
	if (rc == -DER_NONEXIST && create) {
		rc = vos_cont_create(io->io_poh, hdr->oh_cont);
		if (rc == 0 || rc == -DER_EXIST)
			rc = vos_cont_open(io->io_poh, hdr->oh_cont, &io->io_coh);
	}
	if (rc == -DER_NONEXIST && !create) {
		io->io_coh = DAOS_HDL_INVAL;
		return 0;
	}
	if (rc != 0) {
		ds_pool_child_put(io->io_child);
		io->io_child = NULL;
	}
	return rc;
}

/* A request waiting for its WAL record: parked on an eventual the WAL callback sets. */
struct obj_durable {
	struct dss_eventual *od_ev;
	int od_rc;
};

static void
obj_durable_cb(void *arg, uint64_t lsn, int rc)
{
	struct obj_durable *d = arg;

	(void)lsn;
	d->od_rc = rc;
	dss_eventual_set(d->od_ev, NULL);
}

/*
 * Wait until the last transaction of @poh is durable. The ULT blocks on an eventual set by
 * the WAL's durability callback (run by the pool's poller on this xstream), so the xstream
 * can run other requests or sleep on the WAL's fd meanwhile; a yield loop (vos_pool_wait
 * through the wait hook) kept the xstream spinning for the whole flush, taking a core the
 * flush's own I/O worker and the other xstreams needed (docs/PERFORMANCE.md, daos_perf).
 */
static int
obj_wait_durable(daos_handle_t poh)
{
	uint64_t lsn = vos_pool_last_lsn(poh);
	struct obj_durable d = {0};
	int rc;

	if (dss_eventual_create(&d.od_ev) != 0)
		return vos_pool_wait(poh, lsn);
	rc = vos_pool_on_durable(poh, lsn, obj_durable_cb, &d);
	if (rc == 0) {
		dss_eventual_wait(d.od_ev, NULL);
		rc = d.od_rc;
	}
	dss_eventual_destroy(d.od_ev);
	return rc;
}

/* Wait until what this request wrote is durable (when @rc is 0), then release. */
static int
obj_io_end(struct obj_io *io, int rc, bool wait)
{
	if (rc == 0 && wait)
		rc = obj_wait_durable(io->io_poh);
	if (daos_handle_is_valid(io->io_coh))
		vos_cont_close(io->io_coh);
	if (io->io_child != NULL)
		ds_pool_child_put(io->io_child);
	return rc;
}

/* One sgl per iod over @buf, iod i taking @lens[i] bytes in order. */
static int
obj_sgls_make(uint32_t nr, const uint64_t *lens, void *buf, d_sg_list_t **sglsp, d_iov_t **iovsp)
{
	d_sg_list_t *sgls;
	d_iov_t *iovs;
	uint64_t off = 0;
	uint32_t i;

	D_ALLOC_ARRAY(sgls, nr);
	D_ALLOC_ARRAY(iovs, nr);
	if (sgls == NULL || iovs == NULL) {
		D_FREE(sgls);
		D_FREE(iovs);
		return -DER_NOMEM;
	}
	for (i = 0; i < nr; i++) {
		d_iov_set(&iovs[i], (char *)buf + off, lens[i]);
		sgls[i].sg_nr = 1;
		sgls[i].sg_iovs = &iovs[i];
		off += lens[i];
	}
	*sglsp = sgls;
	*iovsp = iovs;
	return 0;
}

/* Bytes of iod @iod's part of the data stream (the iods were validated). */
static uint64_t
obj_iod_len(const daos_iod_t *iod)
{
	uint64_t recs = 0;
	uint32_t j;

	if (iod->iod_type == DAOS_IOD_SINGLE)
		return iod->iod_size;
	for (j = 0; j < iod->iod_nr; j++)
		recs += iod->iod_recxs[j].rx_nr;
	return recs * iod->iod_size;
}

static void
obj_update_handler(struct net_req *req, void *body, void *arg)
{
	struct obj_update_in *in = body;
	struct obj_update_out out = {.uo_map_ver = in->oh_map_ver};
	struct obj_io io;
	daos_iod_t *iods = NULL;
	d_sg_list_t *sgls = NULL;
	d_iov_t *iovs = NULL;
	uint64_t *lens = NULL;
	struct net_buf *nb = NULL;
	void *data;
	int64_t len;
	uint32_t i;
	int rc;

	(void)arg;
	rc = obj_iods_decode(&in->ui_iods, in->ui_iod_nr, &iods);
	if (rc != 0)
		goto out;
	len = obj_iods_data_len(iods, in->ui_iod_nr);
	if (len < 0 || (uint64_t)len != in->ui_data_len || (uint64_t)len > OBJ_IO_MAX ||
	    in->ui_dkey.iov_len == 0) {
		rc = -DER_INVAL;
		goto out;
	}
	if (in->oh_flags & OBJ_F_BULK) {
		d_sg_list_t sgl;
		d_iov_t iov;

		if (in->ui_data.iov_len != 0 || net_req_bulk_len(req) < (uint64_t)len) {
			rc = -DER_INVAL;
			goto out;
		}
		/* page-aligned and reused: no page faults, data-file writes straight from it */
		rc = net_buf_get(net_req_context(req), len > 0 ? len : 1, &nb);
		if (rc != 0)
			goto out;
		d_iov_set(&iov, nb->nb_addr, len);
		sgl = (d_sg_list_t){.sg_nr = 1, .sg_iovs = &iov};
		rc = dss_req_bulk_get(req, 0, &sgl, len);
		if (rc != 0)
			goto out;
		data = nb->nb_addr;
	} else {
		if (in->ui_data.iov_len != (uint64_t)len) {
			rc = -DER_INVAL;
			goto out;
		}
		data = in->ui_data.iov_buf;
	}

	D_ALLOC_ARRAY(lens, in->ui_iod_nr);
	if (lens == NULL) {
		rc = -DER_NOMEM;
		goto out;
	}
	for (i = 0; i < in->ui_iod_nr; i++)
		lens[i] = obj_iod_len(&iods[i]);
	rc = obj_sgls_make(in->ui_iod_nr, lens, data, &sgls, &iovs);
	if (rc != 0)
		goto out;

	rc = obj_io_begin((struct obj_hdr *)in, true, true, &io);
	if (rc != 0)
		goto out;
	rc = vos_obj_update(io.io_coh, io.io_oid, io.io_epoch, in->oh_map_ver,
			    in->oh_flags & DAOS_COND_MASK, &in->ui_dkey, in->ui_iod_nr, iods, NULL,
			    sgls);
	rc = obj_io_end(&io, rc, true);
	out.uo_epoch = io.io_epoch;
out:
	D_FREE(sgls);
	D_FREE(iovs);
	D_FREE(lens);
	net_buf_put(net_req_context(req), nb);
	if (iods != NULL)
		obj_iods_free(iods, in->ui_iod_nr);
	net_reply_send(req, rc, &out);
}

/* Encode @nr u64 values as a little-endian blob in @buf (8 * nr bytes). */
static void
obj_u64s_encode(const uint64_t *vals, uint32_t nr, uint64_t *buf)
{
	uint32_t i;

	for (i = 0; i < nr; i++)
		buf[i] = htole64(vals[i]);
}

static void obj_fetch_query_reply(struct net_req *req, const struct obj_fetch_query_in *fq, int rc,
				  const struct obj_fetch_out *fo, bool found);

/*
 * A fetch; with @fq (OBJ_OPC_FETCH_QUERY, inline only), the reply also carries @fq's query,
 * run after the fetch (obj_fetch_query_reply).
 */
static void
obj_fetch_common(struct net_req *req, struct obj_fetch_in *in, const struct obj_fetch_query_in *fq)
{
	struct obj_fetch_out out = {.fo_map_ver = in->oh_map_ver};
	bool bulk = in->oh_flags & OBJ_F_BULK;
	struct obj_io io;
	daos_iod_t *iods = NULL;
	d_sg_list_t *sgls = NULL;
	d_iov_t *iovs = NULL;
	uint64_t *caps = NULL;
	uint64_t *lens = NULL;
	uint64_t *sizes = NULL;
	uint64_t *wire = NULL;
	uint64_t total = 0;
	uint64_t off;
	struct net_buf *nb = NULL;
	void *buf = NULL;
	uint32_t nr = in->fi_iod_nr;
	uint32_t i;
	int rc;

	rc = obj_iods_decode(&in->fi_iods, nr, &iods);
	if (rc != 0)
		goto out;
	D_ALLOC_ARRAY(caps, nr);
	D_ALLOC_ARRAY(lens, nr);
	D_ALLOC_ARRAY(sizes, nr);
	D_ALLOC_ARRAY(wire, 2 * nr);
	if (caps == NULL || lens == NULL || sizes == NULL || wire == NULL) {
		rc = -DER_NOMEM;
		goto out;
	}
	rc = obj_u64s_decode(&in->fi_caps, nr, caps);
	if (rc != 0)
		goto out;
	/* each iod receives what the request asks for, within the client's buffer */
	for (i = 0; i < nr; i++) {
		uint64_t want =
		    iods[i].iod_type == DAOS_IOD_SINGLE ? caps[i] : obj_iod_len(&iods[i]);

		lens[i] = want < caps[i] ? want : caps[i];
		if (lens[i] > OBJ_IO_MAX || total + lens[i] > OBJ_IO_MAX) {
			rc = -DER_INVAL;
			goto out;
		}
		total += lens[i];
	}
	if (in->fi_dkey.iov_len == 0 || (bulk && net_req_bulk_len(req) < total) ||
	    (!bulk && total > OBJ_DATA_MAX)) {
		rc = -DER_INVAL;
		goto out;
	}
	if (bulk) {
		/* page-aligned and reused: data-file reads land in it directly, no faults */
		rc = net_buf_get(net_req_context(req), total > 0 ? total : 1, &nb);
		if (rc != 0)
			goto out;
		buf = nb->nb_addr;
	} else {
		D_ALLOC_NZ(buf, total > 0 ? total : 1);
		if (buf == NULL) {
			rc = -DER_NOMEM;
			goto out;
		}
	}
	rc = obj_sgls_make(nr, lens, buf, &sgls, &iovs);
	if (rc != 0)
		goto out;

	rc = obj_io_begin((struct obj_hdr *)in, false, false, &io);
	if (rc != 0)
		goto out;
	if (daos_handle_is_valid(io.io_coh)) {
		rc = vos_obj_fetch(io.io_coh, io.io_oid, io.io_epoch, in->oh_flags & DAOS_COND_MASK,
				   &in->fi_dkey, nr, iods, sgls);
	} else if (in->oh_flags & (DAOS_COND_DKEY_FETCH | DAOS_COND_AKEY_FETCH)) {
		rc = -DER_NONEXIST;
	} else {
		for (i = 0; i < nr; i++) {
			iods[i].iod_size = 0;
			sgls[i].sg_iovs[0].iov_len = 0;
		}
	}
	obj_io_end(&io, 0, false);
	out.fo_epoch = io.io_epoch;
	if (rc != 0 && rc != -DER_REC2BIG)
		goto out;

	for (i = 0; i < nr; i++) {
		sizes[i] = iods[i].iod_size;
		/* nothing found (iod_size 0): VOS left the buffer alone, send none of it */
		lens[i] = rc == 0 && iods[i].iod_size != 0 ? iovs[i].iov_len : 0;
	}
	obj_u64s_encode(sizes, nr, wire);
	obj_u64s_encode(lens, nr, wire + nr);
	d_iov_set(&out.fo_sizes, wire, 8 * nr);
	d_iov_set(&out.fo_lens, wire + nr, 8 * nr);
	if (rc != 0)
		goto out;

	if (bulk) {
		/* iod i lands at the offset of its buffers on the client */
		for (i = 0, off = 0; i < nr && rc == 0; off += caps[i], i++) {
			if (lens[i] == 0)
				continue;
			rc = dss_req_bulk_put(req, off, &sgls[i], lens[i]);
		}
	} else {
		/* pack the iods' data back to back */
		for (i = 0, off = 0, total = 0; i < nr; off += iovs[i].iov_buf_len, i++) {
			if (lens[i] > 0 && total != off)
				memmove((char *)buf + total, (char *)buf + off, lens[i]);
			total += lens[i];
		}
		d_iov_set(&out.fo_data, buf, total);
	}
out:
	/* a bulk fetch's data went by RMA: the reply does not point into nb */
	net_buf_put(net_req_context(req), nb);
	if (fq != NULL) {
		bool found = false;

		for (i = 0; rc == 0 && i < nr; i++)
			found |= sizes[i] != 0;
		obj_fetch_query_reply(req, fq, rc, &out, found);
	} else {
		net_reply_send(req, rc, rc == 0 || rc == -DER_REC2BIG ? &out : NULL);
	}
	if (nb == NULL)
		D_FREE(buf);
	D_FREE(sgls);
	D_FREE(iovs);
	D_FREE(caps);
	D_FREE(lens);
	D_FREE(sizes);
	D_FREE(wire);
	if (iods != NULL)
		obj_iods_free(iods, nr);
}

static void
obj_fetch_handler(struct net_req *req, void *body, void *arg)
{
	(void)arg;
	obj_fetch_common(req, body, NULL);
}

static void
obj_punch_handler(struct net_req *req, void *body, void *arg)
{
	struct obj_punch_in *in = body;
	struct obj_punch_out out = {.po_map_ver = in->oh_map_ver};
	uint64_t flags = in->oh_flags & DAOS_COND_PUNCH;
	daos_key_t *keys = NULL;
	struct obj_io io;
	uint32_t i;
	int rc = 0;

	(void)arg;
	switch (in->pi_kind) {
	case OBJ_PUNCH_OBJ:
		if (in->pi_key_nr != 0 || in->pi_dkey.iov_len != 0)
			rc = -DER_INVAL;
		break;
	case OBJ_PUNCH_DKEYS:
		if (in->pi_dkey.iov_len != 0)
			rc = -DER_INVAL;
		else
			rc = obj_keys_decode(&in->pi_keys, in->pi_key_nr, &keys);
		break;
	case OBJ_PUNCH_AKEYS:
		if (in->pi_dkey.iov_len == 0)
			rc = -DER_INVAL;
		else
			rc = obj_keys_decode(&in->pi_keys, in->pi_key_nr, &keys);
		break;
	default:
		rc = -DER_INVAL;
	}
	if (rc != 0)
		goto out;

	rc = obj_io_begin((struct obj_hdr *)in, true, true, &io);
	if (rc != 0)
		goto out;
	if (in->pi_kind == OBJ_PUNCH_OBJ) {
		rc = vos_obj_punch(io.io_coh, io.io_oid, io.io_epoch, in->oh_map_ver, flags, NULL,
				   0, NULL, NULL);
	} else if (in->pi_kind == OBJ_PUNCH_DKEYS) {
		for (i = 0; i < in->pi_key_nr && rc == 0; i++)
			rc = vos_obj_punch(io.io_coh, io.io_oid, io.io_epoch, in->oh_map_ver, flags,
					   &keys[i], 0, NULL, NULL);
	} else {
		rc = vos_obj_punch(io.io_coh, io.io_oid, io.io_epoch, in->oh_map_ver, flags,
				   &in->pi_dkey, in->pi_key_nr, keys, NULL);
	}
	rc = obj_io_end(&io, rc, true);
	out.po_epoch = io.io_epoch;
out:
	D_FREE(keys);
	net_reply_send(req, rc, &out);
}

/* Little-endian key descriptors: u64 length, u32 value type. */
static void
obj_kds_encode(const daos_key_desc_t *kds, uint32_t nr, uint8_t *buf)
{
	uint32_t i;

	for (i = 0; i < nr; i++, buf += 12) {
		uint64_t len = htole64(kds[i].kd_key_len);
		uint32_t type = htole32(kds[i].kd_val_type);

		memcpy(buf, &len, 8);
		memcpy(buf + 8, &type, 4);
	}
}

static void
obj_list_handler(struct net_req *req, void *body, void *arg)
{
	struct obj_list_in *in = body;
	struct obj_list_out out = {.lo_map_ver = in->oh_map_ver};
	daos_anchor_t anchor = {0};
	daos_key_desc_t *kds = NULL;
	daos_recx_t *recxs = NULL;
	uint8_t *kbuf = NULL;
	void *keys = NULL;
	struct obj_io io;
	uint32_t nr = in->li_nr;
	uint32_t i;
	int rc = 0;

	(void)arg;
	if (nr == 0 || nr > OBJ_LIST_NR_MAX || in->li_buf_len > OBJ_LIST_BUF_MAX ||
	    (in->li_anchor.iov_len != 0 && in->li_anchor.iov_len != sizeof(anchor)) ||
	    (in->li_kind == OBJ_LIST_DKEY && in->li_dkey.iov_len != 0) ||
	    (in->li_kind != OBJ_LIST_DKEY && in->li_dkey.iov_len == 0) ||
	    (in->li_kind == OBJ_LIST_RECX) != (in->li_akey.iov_len != 0) ||
	    in->li_kind < OBJ_LIST_DKEY || in->li_kind > OBJ_LIST_RECX ||
	    (in->li_kind != OBJ_LIST_RECX && in->li_buf_len == 0)) {
		rc = -DER_INVAL;
		goto out;
	}
	if (in->li_anchor.iov_len != 0)
		memcpy(&anchor, in->li_anchor.iov_buf, sizeof(anchor));

	rc = obj_io_begin((struct obj_hdr *)in, false, false, &io);
	if (rc != 0)
		goto out;
	if (!daos_handle_is_valid(io.io_coh)) {
		anchor.da_type = DAOS_ANCHOR_TYPE_EOF;
		nr = 0;
	} else if (in->li_kind == OBJ_LIST_RECX) {
		D_ALLOC_ARRAY(recxs, nr);
		if (recxs == NULL)
			rc = -DER_NOMEM;
		else
			rc = vos_obj_list_recx(io.io_coh, io.io_oid, io.io_epoch, &in->li_dkey,
					       &in->li_akey, &out.lo_rsize, &anchor, &nr, recxs);
	} else {
		d_sg_list_t sgl;
		d_iov_t iov;

		D_ALLOC_ARRAY(kds, nr);
		D_ALLOC_NZ(keys, in->li_buf_len);
		if (kds == NULL || keys == NULL) {
			rc = -DER_NOMEM;
		} else {
			d_iov_set(&iov, keys, in->li_buf_len);
			iov.iov_len = 0;
			sgl = (d_sg_list_t){.sg_nr = 1, .sg_iovs = &iov};
			rc = vos_obj_list_keys(io.io_coh, io.io_oid, io.io_epoch,
					       in->li_kind == OBJ_LIST_AKEY ? &in->li_dkey : NULL,
					       &anchor, &nr, kds, &sgl);
			if (rc == 0)
				d_iov_set(&out.lo_keys, keys, iov.iov_len);
		}
	}
	obj_io_end(&io, 0, false);
	if (rc != 0 && rc != -DER_KEY2BIG)
		goto out;

	out.lo_nr = rc == -DER_KEY2BIG ? 0 : nr;
	if (kds != NULL) {
		uint32_t n = rc == -DER_KEY2BIG ? 1 : nr;

		D_ALLOC_NZ(kbuf, 12 * (n > 0 ? n : 1));
		if (kbuf == NULL) {
			rc = -DER_NOMEM;
			goto out;
		}
		obj_kds_encode(kds, n, kbuf);
		d_iov_set(&out.lo_kds, kbuf, 12 * n);
	} else if (recxs != NULL) {
		for (i = 0; i < nr; i++) {
			recxs[i].rx_idx = htole64(recxs[i].rx_idx);
			recxs[i].rx_nr = htole64(recxs[i].rx_nr);
		}
		d_iov_set(&out.lo_recxs, recxs, 16 * nr);
	}
	d_iov_set(&out.lo_anchor, &anchor, sizeof(anchor));
out:
	net_reply_send(req, rc, rc == 0 || rc == -DER_KEY2BIG ? &out : NULL);
	D_FREE(kds);
	D_FREE(kbuf);
	D_FREE(keys);
	D_FREE(recxs);
}

/*
 * One shard's query key. A key asked for (DAOS_GET_DKEY/AKEY) lands in qa_dkey/qa_akey
 * (8 bytes: the uint64 keys of arrays), described by qr_dk/qr_ak; a key given is borrowed
 * from the request.
 */
struct obj_qres {
	struct obj_qans qr_a; /* status, keys (8-byte copies) and extent */
	daos_key_t qr_dk;
	daos_key_t qr_ak;
};

static void
obj_query_one(const struct obj_hdr *hdr, uint32_t f, const daos_key_t *dkey, const daos_key_t *akey,
	      struct obj_qres *qr)
{
	struct obj_io io;
	int rc;

	qr->qr_a.qa_dkey = 0;
	qr->qr_a.qa_akey = 0;
	qr->qr_a.qa_recx = (daos_recx_t){0};
	if (f & DAOS_GET_DKEY)
		d_iov_set(&qr->qr_dk, &qr->qr_a.qa_dkey, sizeof(qr->qr_a.qa_dkey));
	else
		qr->qr_dk = *dkey;
	if (f & DAOS_GET_AKEY)
		d_iov_set(&qr->qr_ak, &qr->qr_a.qa_akey, sizeof(qr->qr_a.qa_akey));
	else
		qr->qr_ak = *akey;
	rc = obj_io_begin(hdr, false, false, &io);
	if (rc == 0) {
		if (daos_handle_is_valid(io.io_coh))
			rc = vos_obj_query_key(io.io_coh, io.io_oid, f, io.io_epoch, &qr->qr_dk,
					       &qr->qr_ak, &qr->qr_a.qa_recx);
		else
			rc = -DER_NONEXIST;
		obj_io_end(&io, 0, false);
	}
	qr->qr_a.qa_rc = rc;
}

static void
obj_query_reply(struct net_req *req, uint32_t map_ver, const struct obj_qres *qr)
{
	struct obj_query_out out = {.qo_map_ver = map_ver};

	if (qr->qr_a.qa_rc == 0) {
		out.qo_dkey = qr->qr_dk;
		out.qo_akey = qr->qr_ak;
		out.qo_rx_idx = qr->qr_a.qa_recx.rx_idx;
		out.qo_rx_nr = qr->qr_a.qa_recx.rx_nr;
	}
	net_reply_send(req, qr->qr_a.qa_rc, qr->qr_a.qa_rc == 0 ? &out : NULL);
}

static void
obj_query_handler(struct net_req *req, void *body, void *arg)
{
	struct obj_query_in *in = body;
	struct obj_qres qr;

	(void)arg;
	if (!obj_qflags_valid(in->qi_qflags))
		qr.qr_a.qa_rc = -DER_INVAL;
	else
		obj_query_one((struct obj_hdr *)in, in->qi_qflags, &in->qi_dkey, &in->qi_akey, &qr);
	obj_query_reply(req, in->oh_map_ver, &qr);
}

/* The shards of one collective query asked of other targets: who is still out, and who waits. */
struct obj_coll_wait {
	struct dss_eventual *cw_ev; /* set by whoever takes cw_pending to 0 */
	uint32_t cw_pending;        /* calls not done + 1 for the handler */
};

/* What every shard of one collective query asks. */
struct obj_coll_ask {
	uint32_t ca_flags;
	const daos_key_t *ca_dkey;
	const daos_key_t *ca_akey;
};

/* One shard of a collective query, run on the xstream of the target that holds it. */
struct obj_coll_part {
	struct obj_hdr cp_hdr; /* the request's, with this shard */
	const struct obj_coll_ask *cp_ask;
	struct obj_coll_wait *cp_wait;
	struct dss_ult *cp_ult; /* a ULT on the shard's target (DAOS_OBJ_COLL_ULT=1), or NULL */
	bool cp_local;          /* on this target: run by the handler itself */
	struct obj_qres cp_res;
};

static void
obj_coll_ult(void *arg)
{
	struct obj_coll_part *cp = arg;

	obj_query_one(&cp->cp_hdr, cp->cp_ask->ca_flags, cp->cp_ask->ca_dkey, cp->cp_ask->ca_akey,
		      &cp->cp_res);
}

static void
obj_coll_done(struct obj_coll_wait *cw)
{
	if (__atomic_sub_fetch(&cw->cw_pending, 1, __ATOMIC_ACQ_REL) == 0)
		dss_eventual_set(cw->cw_ev, NULL);
}

/* A shard's query as a call on its target's loop: a VOS query neither blocks nor yields. */
static void
obj_coll_call(void *arg, int rc)
{
	struct obj_coll_part *cp = arg;
	struct obj_coll_wait *cw = cp->cp_wait;

	if (rc == 0)
		obj_coll_ult(cp);
	else
		cp->cp_res.qr_a.qa_rc = rc;
	obj_coll_done(cw);
}

/* DAOS_OBJ_COLL_ULT=1 in the engine's environment: a ULT per shard, as before (A/B). */
static bool
obj_coll_ult_mode(void)
{
	static int mode = -1;

	return d_getenv_is_once(&mode, "DAOS_OBJ_COLL_ULT", "1");
}

/*
 * The query key (@ask) of the shards @cs[0 .. @nr) of @hdr's object, all on this engine, one
 * per target; the shards of other targets are asked by a call on their own xstreams (or a
 * ULT each: DAOS_OBJ_COLL_ULT=1; each checks the handle against its own table), this
 * target's inline, all at once. *@res merges them in shard order with obj_query_merge, as the
 * client merges its requests: the best answer, -DER_NONEXIST if no shard has one, else the
 * first error. Only res->qr_a is meaningful.
 */
static void
obj_coll_run(const struct obj_hdr *hdr, const struct obj_coll_ask *ask,
	     const struct obj_coll_shard *cs, uint32_t nr, struct obj_qres *res)
{
	struct obj_coll_part *parts = NULL;
	struct obj_coll_wait cw = {.cw_pending = 1};
	int self = ds_pool_tgt_self();
	bool use_ult;
	uint32_t i;
	int rc;

	memset(res, 0, sizeof(*res));
	res->qr_a.qa_rc = -DER_NONEXIST;
	D_ALLOC_ARRAY(parts, nr);
	if (parts == NULL) {
		res->qr_a.qa_rc = -DER_NOMEM;
		return;
	}
	use_ult = obj_coll_ult_mode();
	if (!use_ult) {
		rc = dss_eventual_create(&cw.cw_ev);
		if (rc != 0) {
			res->qr_a.qa_rc = rc;
			goto out;
		}
	}
	for (i = 0; i < nr; i++) {
		struct obj_coll_part *cp = &parts[i];

		cp->cp_hdr = *hdr;
		cp->cp_hdr.oh_shard = cs[i].cs_shard;
		cp->cp_ask = ask;
		cp->cp_wait = &cw;
		cp->cp_local = self >= 0 && cs[i].cs_tgt == (uint32_t)self;
		if (cp->cp_local)
			continue;
		if (use_ult) {
			rc = ds_pool_tgt_ult_create(cs[i].cs_tgt, obj_coll_ult, cp, &cp->cp_ult);
			if (rc != 0) {
				cp->cp_ult = NULL;
				cp->cp_res.qr_a.qa_rc = rc;
			}
			continue;
		}
		__atomic_add_fetch(&cw.cw_pending, 1, __ATOMIC_RELAXED);
		rc = ds_pool_tgt_call(cs[i].cs_tgt, obj_coll_call, cp);
		if (rc != 0) {
			__atomic_sub_fetch(&cw.cw_pending, 1, __ATOMIC_RELAXED);
			cp->cp_res.qr_a.qa_rc = rc;
		}
	}
	for (i = 0; i < nr; i++)
		if (parts[i].cp_local)
			obj_coll_ult(&parts[i]);
	if (!use_ult) {
		/* the last call out sets the eventual (or this, if all are back) */
		obj_coll_done(&cw);
		dss_eventual_wait(cw.cw_ev, NULL);
		dss_eventual_destroy(cw.cw_ev);
	}
	for (i = 0; i < nr; i++) {
		struct obj_coll_part *cp = &parts[i];

		if (cp->cp_ult == NULL)
			continue;
		rc = dss_ult_join(cp->cp_ult);
		if (rc != 0)
			cp->cp_res.qr_a.qa_rc = rc;
	}
	for (i = 0; i < nr; i++)
		obj_query_merge(ask->ca_flags, &res->qr_a, &parts[i].cp_res.qr_a);
out:
	D_FREE(parts);
}

/* OBJ_OPC_QUERY_COLL: obj_coll_run over the request's pairs. */
static void
obj_query_coll_handler(struct net_req *req, void *body, void *arg)
{
	struct obj_query_coll_in *in = body;
	struct obj_coll_shard cs[OBJ_COLL_MAX];
	struct obj_coll_ask ask = {in->qi_qflags, &in->qi_dkey, &in->qi_akey};
	struct obj_qres res = {.qr_a.qa_rc = -DER_INVAL};
	int rc;

	(void)arg;
	if (obj_qflags_valid(ask.ca_flags)) {
		rc = obj_coll_decode(&in->qi_shards, in->qi_shard_nr, ds_pool_tgt_nr(), cs);
		if (rc == 0)
			obj_coll_run((const struct obj_hdr *)in, &ask, cs, in->qi_shard_nr, &res);
		else
			res.qr_a.qa_rc = rc;
	}
	if (res.qr_a.qa_rc == 0) {
		/* the keys asked for point at res's own copies */
		d_iov_set(&res.qr_dk, &res.qr_a.qa_dkey, sizeof(res.qr_a.qa_dkey));
		d_iov_set(&res.qr_ak, &res.qr_a.qa_akey, sizeof(res.qr_a.qa_akey));
		if (!(ask.ca_flags & DAOS_GET_DKEY))
			res.qr_dk = in->qi_dkey;
		if (!(ask.ca_flags & DAOS_GET_AKEY))
			res.qr_ak = in->qi_akey;
	}
	obj_query_reply(req, in->oh_map_ver, &res);
}

/*
 * DAOS_OBJ_FETCH_QUERY=0 in the engine's environment: answer -DER_NOSYS (refused); =unreg:
 * no handler at all, as an engine older than the opcode (obj_init).
 */
static bool
obj_fetch_query_off(void)
{
	static int off = -1;

	return d_getenv_is_once(&off, "DAOS_OBJ_FETCH_QUERY", "0");
}

/*
 * The reply of OBJ_OPC_FETCH_QUERY: the fetch's (@rc, @fo) and, when the fetch succeeded
 * and @found something, the query of @fq's object, run now, after the fetch: the answer is
 * at least as recent as the value fetched (libdfs: the size of the file the entry names,
 * or of what replaced it since).
 */
static void
obj_fetch_query_reply(struct net_req *req, const struct obj_fetch_query_in *fq, int rc,
		      const struct obj_fetch_out *fo, bool found)
{
	struct obj_fetch_query_out out = {0};
	struct obj_coll_shard cs[OBJ_COLL_MAX];
	struct obj_coll_ask ask = {fq->fqi_qflags, NULL, &fq->fqi_akey};
	struct obj_qres res = {.qr_a.qa_rc = -DER_NONEXIST};
	struct obj_hdr hdr;

	if (rc != 0 && rc != -DER_REC2BIG) {
		net_reply_send(req, rc, NULL);
		return;
	}
	out.fo_epoch = fo->fo_epoch;
	out.fo_map_ver = fo->fo_map_ver;
	out.fo_sizes = fo->fo_sizes;
	out.fo_lens = fo->fo_lens;
	out.fo_data = fo->fo_data;
	if (rc == 0 && found) {
		hdr = *(const struct obj_hdr *)fq;
		hdr.oh_oid_lo = fq->fqi_oid_lo;
		hdr.oh_oid_hi = fq->fqi_oid_hi;
		hdr.oh_flags = 0;
		/* checked before the fetch: cannot fail now */
		if (obj_fetch_query_check(fq, ds_pool_tgt_nr(), cs) == 0)
			obj_coll_run(&hdr, &ask, cs, fq->fqi_shard_nr, &res);
		else
			res.qr_a.qa_rc = -DER_INVAL;
	}
	out.fqo_qrc = res.qr_a.qa_rc;
	if (res.qr_a.qa_rc == 0) {
		out.fqo_dkey = res.qr_a.qa_dkey;
		out.fqo_rx_idx = res.qr_a.qa_recx.rx_idx;
		out.fqo_rx_nr = res.qr_a.qa_recx.rx_nr;
	}
	net_reply_send(req, rc, &out);
}

/*
 * OBJ_OPC_FETCH_QUERY: a fetch (inline), then the collective query of another object on
 * this engine; the query's half is checked before the fetch runs.
 */
static void
obj_fetch_query_handler(struct net_req *req, void *body, void *arg)
{
	struct obj_fetch_query_in *in = body;
	struct obj_coll_shard cs[OBJ_COLL_MAX];
	int rc;

	(void)arg;
	if (obj_fetch_query_off()) {
		net_reply_send(req, -DER_NOSYS, NULL);
		return;
	}
	rc = obj_fetch_query_check(in, ds_pool_tgt_nr(), cs);
	if (rc == 0 && (in->oh_flags & OBJ_F_BULK))
		rc = -DER_INVAL;
	if (rc != 0) {
		net_reply_send(req, rc, NULL);
		return;
	}
	/* the fetch's fields lead the request, in the same order */
	obj_fetch_common(req, (struct obj_fetch_in *)in, in);
}

#define OBJ_HANDLER_ENT(opc, name, req, rep, handler) {opc, handler},
#define ds_obj_update_handler obj_update_handler
#define ds_obj_fetch_handler obj_fetch_handler
#define ds_obj_punch_handler obj_punch_handler
#define ds_obj_list_handler obj_list_handler
#define ds_obj_query_handler obj_query_handler
#define ds_obj_query_coll_handler obj_query_coll_handler
#define ds_obj_fetch_query_handler obj_fetch_query_handler
static const struct net_handler_ent obj_handlers[] = {OBJ_RPCS(OBJ_HANDLER_ENT)};

/* OBJ_OPC_FETCH_QUERY is the last handler: DAOS_OBJ_FETCH_QUERY=unreg leaves it out. */
static int obj_init(void);

/** The object module, served by every target. */
struct dss_module obj_module = {
    .sm_name = "obj",
    .sm_mod_id = NET_MODULE_OBJ,
    .sm_init = obj_init,
    .sm_proto = &obj_proto,
    .sm_handlers = obj_handlers,
    .sm_handler_nr = sizeof(obj_handlers) / sizeof(obj_handlers[0]),
};

static int
obj_init(void)
{
	const char *e = getenv("DAOS_OBJ_FETCH_QUERY");

	D_ASSERT(obj_handlers[obj_module.sm_handler_nr - 1].he_opc == OBJ_OPC_FETCH_QUERY);
	if (e != NULL && strcmp(e, "unreg") == 0)
		obj_module.sm_handler_nr--; /* requests get -DER_UNREG, as from an older engine */
	return 0;
}
