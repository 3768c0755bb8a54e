/*
 * srv_cont.c: pool handles and containers in the management service (methods 220-247 of
 * mgmt/cont.proto, and dmg's pool list-cont and evict), on the MS leader.
 *
 * Every request carries a mgmt.ClientHeader. A generic handler (mc_handler) decodes the
 * method's message, checks the header as the method's table entry asks (the credential, the
 * pool handle, the container or the container handle), and calls the method's function with
 * the records found. Writes are rdb transactions; the reply is packed before the commit and
 * sent when it committed.
 *
 * Records written by a transaction in flight are kept in an overlay (ms_ovl) until the commit
 * ends, and read through it: a read-modify-write of a container (OID allocation, attributes,
 * snapshots) that arrives while another one on the same record commits builds on it, so no
 * update is lost and no OID range is answered twice. Iterations (handle counts, container
 * lists) see the applied state with the overlay on top.
 *
 * Invariants:
 *  1. A container handle belongs to a pool handle of the same pool; a pool handle's
 *     disconnect (or eviction, or the pool's destroy) removes its container handles in the
 *     same transaction.
 *  2. MsCont.next_oid only grows; a range is answered only after the record that moved
 *     next_oid past it committed.
 *  3. A container label names one container of its pool (cont_labels: "pool/label").
 *
 * Context: the control thread's loop.
 */
#define D_LOGFAC mgmt

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gurt/common.h>
#include <daos_cont.h>
#include <daos_errno.h>
#include <daos_prop.h>
#include <daos_security.h>
#include <daos_types.h>
#include <daos/pool_map.h>
#include <daos/security.h>

#include "mgmt_internal.h"
#include "mgmt/cont.pb-c.h"
#include "mgmt/pool.pb-c.h"
#include "mgmt/tgt.pb-c.h"

D_LOG_FAC_DECLARE(mgmt);

#define MC_KEY_LEN 128
#define MC_OVL_MAX 8      /* records one transaction writes through the overlay */
#define MC_LIST_MAX 65536 /* entries an iteration collects */
#define MC_ATTR_MAX 4096  /* attributes of a pool or container */

/*
 * The overlay.
 */

struct mc_ovl {
	d_list_t o_link;
	const char *o_table; /* one of the MS_T_* constants */
	char o_key[MC_KEY_LEN];
	size_t o_klen;
	void *o_val; /* NULL: deleted */
	size_t o_vlen;
	uint64_t o_term;
	int o_pending;
};

void
ms_ovl_fini(struct ds_mgmt *ms)
{
	struct mc_ovl *o, *t;

	if (ms->ms_ovl.next == NULL)
		return;
	d_list_for_each_entry_safe (o, t, &ms->ms_ovl, o_link) {
		d_list_del(&o->o_link);
		D_FREE(o->o_val);
		D_FREE(o);
	}
}

static struct mc_ovl *
mc_ovl_find(struct ds_mgmt *ms, const char *table, const char *key, size_t klen)
{
	struct mc_ovl *o;

	d_list_for_each_entry (o, &ms->ms_ovl, o_link)
		if (o->o_table == table && o->o_klen == klen && memcmp(o->o_key, key, klen) == 0 &&
		    o->o_term == ms->ms_term)
			return o;
	return NULL;
}

/* Read @key of @table: the overlay first, then the applied state. */
static int
mc_lookup(struct ds_mgmt *ms, const char *table, const char *key, const void **val, size_t *len)
{
	struct mc_ovl *o;
	d_iov_t k;

	if (strlen(key) >= MC_KEY_LEN)
		return -DER_INVAL;
	o = mc_ovl_find(ms, table, key, strlen(key));
	if (o != NULL) {
		if (o->o_val == NULL)
			return -DER_NONEXIST;
		*val = o->o_val;
		*len = o->o_vlen;
		return 0;
	}
	d_iov_set(&k, (void *)key, strlen(key));
	return rdb_lookup(ms->ms_db, table, &k, val, len);
}

/* A transaction and the overlay entries it holds. */
struct mc_tx {
	struct ds_mgmt *t_ms;
	struct rdb_tx *t_tx;
	struct mc_ovl *t_ovl[MC_OVL_MAX];
	int t_novl;
};

static int
mc_tx_begin(struct ds_mgmt *ms, struct mc_tx *t)
{
	memset(t, 0, sizeof(*t));
	t->t_ms = ms;
	return rdb_tx_begin(ms->ms_db, ms->ms_term, &t->t_tx);
}

static void
mc_tx_release(struct mc_tx *t)
{
	int i;

	for (i = 0; i < t->t_novl; i++) {
		struct mc_ovl *o = t->t_ovl[i];

		if (--o->o_pending == 0) {
			d_list_del(&o->o_link);
			D_FREE(o->o_val);
			D_FREE(o);
		}
	}
	t->t_novl = 0;
}

static void
mc_tx_abort(struct mc_tx *t)
{
	if (t->t_tx != NULL)
		rdb_tx_abort(t->t_tx);
	t->t_tx = NULL;
	mc_tx_release(t);
}

/* Set @key of @table to @buf (@len bytes, consumed) or delete it (@buf NULL) in @t;
 * overlaid if @ovl. */
static int
mc_tx_write_buf(struct mc_tx *t, const char *table, const char *key, void *buf, size_t len,
		bool ovl)
{
	struct ds_mgmt *ms = t->t_ms;
	struct mc_ovl *o = NULL;
	size_t klen = strlen(key);
	d_iov_t k, v;
	int rc;

	if (klen >= MC_KEY_LEN) {
		D_FREE(buf);
		return -DER_INVAL;
	}
	d_iov_set(&k, (void *)key, klen);
	if (buf != NULL) {
		d_iov_set(&v, buf, len);
		rc = rdb_tx_update(t->t_tx, table, &k, &v);
	} else {
		rc = rdb_tx_delete(t->t_tx, table, &k);
	}
	if (rc != 0 || !ovl || t->t_novl == MC_OVL_MAX) {
		D_FREE(buf);
		return rc;
	}
	o = mc_ovl_find(ms, table, key, klen);
	if (o == NULL) {
		D_ALLOC_PTR(o);
		if (o == NULL) {
			D_FREE(buf);
			return -DER_NOMEM;
		}
		o->o_table = table;
		memcpy(o->o_key, key, klen);
		o->o_klen = klen;
		o->o_term = ms->ms_term;
		d_list_add_tail(&o->o_link, &ms->ms_ovl);
	}
	D_FREE(o->o_val);
	o->o_val = buf;
	o->o_vlen = len;
	o->o_pending++;
	t->t_ovl[t->t_novl++] = o;
	return 0;
}

/* Set (@msg) or delete (@msg NULL) @key of @table in @t; overlaid if @ovl. */
static int
mc_tx_write(struct mc_tx *t, const char *table, const char *key, const ProtobufCMessage *msg,
	    bool ovl)
{
	void *buf = NULL;
	size_t len = 0;

	if (msg != NULL) {
		len = protobuf_c_message_get_packed_size(msg);
		D_ALLOC(buf, len > 0 ? len : 1);
		if (buf == NULL)
			return -DER_NOMEM;
		protobuf_c_message_pack(msg, buf);
	}
	return mc_tx_write_buf(t, table, key, buf, len, ovl);
}

/* Set @key of @table to the string @str in @t, overlaid. */
static int
mc_tx_write_str(struct mc_tx *t, const char *table, const char *key, const char *str)
{
	size_t len = strlen(str);
	void *buf;

	D_ALLOC(buf, len + 1);
	if (buf == NULL)
		return -DER_NOMEM;
	memcpy(buf, str, len);
	return mc_tx_write_buf(t, table, key, buf, len, true);
}

/*
 * Telling the engines of a pool about its container handles (TgtHdl, 304): after the commit
 * of an open (the answer waits for every engine; one that fails undoes the open), a close, a
 * disconnect, an eviction or a container destroy (best effort: the answer waits for the
 * engines, their errors are logged only), and after a rank's join (the pool's whole table).
 */
struct mc_hdl_ent {
	char he_cont[40];
	char he_hdl[40];
	uint64_t he_capas;
};

struct mc_notify {
	struct ds_mgmt *mn_ms;
	struct dss_ctl_req *mn_req; /* answered with mn_body once the engines did; may be NULL */
	void *mn_body;
	size_t mn_len;
	char mn_pool[40];
	uint32_t *mn_ranks;
	uint32_t mn_nranks;
	uint32_t mn_map_ver;
	Mgmt__TgtHdlOp mn_op;
	bool mn_strict; /* the open's ADD: an engine error undoes the open */
	struct mc_hdl_ent *mn_hdls;
	size_t mn_nr;
	size_t mn_cap;
	char **mn_addrs;
	uint32_t mn_naddrs;
};

static void
mc_notify_free(struct mc_notify *mn)
{
	if (mn == NULL)
		return;
	ms_addrs_free(mn->mn_addrs, mn->mn_naddrs);
	D_FREE(mn->mn_ranks);
	D_FREE(mn->mn_hdls);
	D_FREE(mn->mn_body);
	D_FREE(mn);
}

/* A notification of the engines of pool @p (every rank of it; @ranks: those only). */
static struct mc_notify *
mc_notify_new(struct ds_mgmt *ms, const Mgmt__MsPool *p, Mgmt__TgtHdlOp op, const uint32_t *ranks,
	      uint32_t nranks)
{
	struct mc_notify *mn;

	D_ALLOC_PTR(mn);
	if (mn == NULL)
		return NULL;
	mn->mn_ms = ms;
	snprintf(mn->mn_pool, sizeof(mn->mn_pool), "%s", p->uuid);
	mn->mn_map_ver = p->map_version;
	mn->mn_op = op;
	if (ranks == NULL) {
		ranks = p->ranks;
		nranks = (uint32_t)p->n_ranks;
	}
	D_ALLOC_ARRAY(mn->mn_ranks, nranks > 0 ? nranks : 1);
	if (mn->mn_ranks == NULL) {
		D_FREE(mn);
		return NULL;
	}
	if (nranks > 0)
		memcpy(mn->mn_ranks, ranks, nranks * sizeof(*ranks));
	mn->mn_nranks = nranks;
	return mn;
}

static int
mc_notify_add(struct mc_notify *mn, const char *cont, const char *hdl, uint64_t capas)
{
	struct mc_hdl_ent *he;

	if (mn->mn_nr == mn->mn_cap) {
		size_t cap = mn->mn_cap == 0 ? 4 : 2 * mn->mn_cap;

		D_REALLOC_ARRAY(he, mn->mn_hdls, cap);
		if (he == NULL)
			return -DER_NOMEM;
		mn->mn_hdls = he;
		mn->mn_cap = cap;
	}
	he = &mn->mn_hdls[mn->mn_nr++];
	snprintf(he->he_cont, sizeof(he->he_cont), "%s", cont);
	snprintf(he->he_hdl, sizeof(he->he_hdl), "%s", hdl);
	he->he_capas = capas;
	return 0;
}

static int mc_notify_send(struct mc_notify *mn);

struct mc_undo {
	struct ds_mgmt *ud_ms;
	struct dss_ctl_req *ud_req;
	int ud_rc;
};

static void
mc_undo_done(int rc, void *arg)
{
	struct mc_undo *ud = arg;

	if (rc != 0)
		D_ERROR("a container handle the engines refused stays recorded: " DF_RC "\n",
			DP_RC(rc));
	ms_reply_err(ud->ud_ms, ud->ud_req, ud->ud_rc);
	D_FREE(ud);
}

/* An engine refused the open's handle (@rc): remove its record, then answer @rc; tell the
 * engines to forget it (best effort). Consumes @mn. */
static void
mc_notify_undo(struct mc_notify *mn, int rc)
{
	struct mc_undo *ud = NULL;
	struct mc_tx t;
	int rc2;

	D_ERROR("pool %s: handle %s refused by an engine, open undone: " DF_RC "\n", mn->mn_pool,
		mn->mn_hdls[0].he_hdl, DP_RC(rc));
	D_ALLOC_PTR(ud);
	rc2 = ud == NULL ? -DER_NOMEM : mc_tx_begin(mn->mn_ms, &t);
	if (rc2 == 0) {
		rc2 = mc_tx_write(&t, MS_T_CONT_HDLS, mn->mn_hdls[0].he_hdl, NULL, false);
		if (rc2 == 0) {
			ud->ud_ms = mn->mn_ms;
			ud->ud_req = mn->mn_req;
			ud->ud_rc = rc;
			rc2 = rdb_tx_commit(t.t_tx, mc_undo_done, ud);
			t.t_tx = NULL;
		}
		mc_tx_abort(&t);
	}
	if (rc2 != 0) {
		D_FREE(ud);
		ms_reply_err(mn->mn_ms, mn->mn_req, rc);
	}
	mn->mn_req = NULL;
	mn->mn_op = MGMT__TGT_HDL_OP__TGT_HDL_REMOVE;
	mn->mn_strict = false;
	ms_addrs_free(mn->mn_addrs, mn->mn_naddrs);
	mn->mn_addrs = NULL;
	mn->mn_naddrs = 0;
	if (mc_notify_send(mn) != 0)
		mc_notify_free(mn);
}

static void
mc_notify_done(const int *rcs, uint32_t nr, void *arg)
{
	struct mc_notify *mn = arg;
	uint32_t i;
	int rc = rcs == NULL ? -DER_NOMEM : 0;

	for (i = 0; i < nr; i++) {
		if (rcs[i] == 0)
			continue;
		D_ERROR("pool %s: TgtHdl op %d at %s: " DF_RC "\n", mn->mn_pool, mn->mn_op,
			mn->mn_addrs[i], DP_RC(rcs[i]));
		/* an engine that is gone (not yet excluded) is skipped, as by a container
		 * destroy: it knows no handle when it is back, and gets the table at its join */
		if (rc == 0 && rcs[i] != -DER_UNREACH && rcs[i] != -DER_TIMEDOUT)
			rc = rcs[i];
	}
	if (rc != 0 && mn->mn_strict) {
		mc_notify_undo(mn, rc);
		return;
	}
	if (mn->mn_req != NULL)
		dss_ctl_reply(mn->mn_req, 0, mn->mn_body, mn->mn_len);
	mc_notify_free(mn);
}

/* Send @mn to the joined engines of its ranks; its callback answers and frees it. Returns 0,
 * or an error: then nothing was sent, @mn is the caller's still. */
static int
mc_notify_send(struct mc_notify *mn)
{
	Mgmt__TgtHdlReq req = MGMT__TGT_HDL_REQ__INIT;
	Mgmt__TgtHdl *hv = NULL;
	Mgmt__TgtHdl **hp = NULL;
	size_t i;
	int rc;

	rc = ms_rank_addrs(mn->mn_ms, mn->mn_ranks, mn->mn_nranks, &mn->mn_addrs, &mn->mn_naddrs);
	if (rc != 0)
		return rc;
	if (mn->mn_nr > 0) {
		D_ALLOC_ARRAY(hv, mn->mn_nr);
		D_ALLOC_ARRAY(hp, mn->mn_nr);
		if (hv == NULL || hp == NULL) {
			rc = -DER_NOMEM;
			goto out;
		}
	}
	for (i = 0; i < mn->mn_nr; i++) {
		mgmt__tgt_hdl__init(&hv[i]);
		hv[i].cont_uuid = mn->mn_hdls[i].he_cont;
		hv[i].hdl_uuid = mn->mn_hdls[i].he_hdl;
		hv[i].capas = mn->mn_hdls[i].he_capas;
		hp[i] = &hv[i];
	}
	req.pool_uuid = mn->mn_pool;
	req.map_version = mn->mn_map_ver;
	req.op = mn->mn_op;
	req.n_hdls = mn->mn_nr;
	req.hdls = hp;
	rc = ms_call_all(mn->mn_ms, mn->mn_addrs, mn->mn_naddrs, DSS_CTL_TGT_HDL, &req.base,
			 mc_notify_done, mn);
out:
	D_FREE(hv);
	D_FREE(hp);
	return rc;
}

struct mc_commit {
	struct ds_mgmt *cm_ms;
	struct dss_ctl_req *cm_req;
	struct mc_tx cm_tx;
	void *cm_body;
	size_t cm_len;
	struct mc_notify *cm_notify; /* sent once committed; it answers then */
};

static void
mc_commit_done(int rc, void *arg)
{
	struct mc_commit *cm = arg;
	struct mc_notify *mn = cm->cm_notify;

	mc_tx_release(&cm->cm_tx);
	ms_rl_unlock(cm->cm_ms, cm->cm_req); /* the pool record it wrote, if it held it */
	if (rc == 0 && mn != NULL) {
		mn->mn_req = cm->cm_req;
		mn->mn_body = cm->cm_body;
		mn->mn_len = cm->cm_len;
		rc = mc_notify_send(mn);
		if (rc != 0 && mn->mn_strict) {
			mn->mn_body = NULL;
			mc_notify_undo(mn, rc);
		} else if (rc != 0) {
			D_ERROR("pool %s: engines not told of handle changes: " DF_RC "\n",
				mn->mn_pool, DP_RC(rc));
			mn->mn_body = NULL;
			mc_notify_free(mn);
			dss_ctl_reply(cm->cm_req, 0, cm->cm_body, cm->cm_len);
		}
		if (rc == 0)
			cm->cm_body = NULL; /* the notification's now */
		D_FREE(cm->cm_body);
		D_FREE(cm);
		return;
	}
	mc_notify_free(mn);
	if (rc == -DER_NOTLEADER)
		ms_reply_notleader(cm->cm_ms, cm->cm_req);
	else if (rc != 0)
		dss_ctl_reply(cm->cm_req, rc, NULL, 0);
	else
		dss_ctl_reply(cm->cm_req, 0, cm->cm_body, cm->cm_len);
	D_FREE(cm->cm_body);
	D_FREE(cm);
}

/*
 * Commit @t (consumed, also on error), then send @mn (if not NULL; consumed, also on error)
 * and then answer @req with @reply (packed now).
 */
static int
mc_commit_notify(struct mc_tx *t, struct dss_ctl_req *req, const ProtobufCMessage *reply,
		 struct mc_notify *mn)
{
	struct mc_commit *cm;
	int rc;

	D_ALLOC_PTR(cm);
	if (cm == NULL) {
		mc_tx_abort(t);
		mc_notify_free(mn);
		return -DER_NOMEM;
	}
	cm->cm_notify = mn;
	cm->cm_ms = t->t_ms;
	cm->cm_req = req;
	cm->cm_len = protobuf_c_message_get_packed_size(reply);
	D_ALLOC(cm->cm_body, cm->cm_len > 0 ? cm->cm_len : 1);
	if (cm->cm_body == NULL) {
		D_FREE(cm);
		mc_tx_abort(t);
		mc_notify_free(mn);
		return -DER_NOMEM;
	}
	protobuf_c_message_pack(reply, cm->cm_body);
	cm->cm_tx = *t;
	rc = rdb_tx_commit(t->t_tx, mc_commit_done, cm);
	t->t_tx = NULL;
	t->t_novl = 0;
	if (rc != 0) {
		mc_tx_release(&cm->cm_tx);
		mc_notify_free(cm->cm_notify);
		D_FREE(cm->cm_body);
		D_FREE(cm);
	}
	return rc;
}

/* Commit @t (consumed, also on error) and then answer @req with @reply (packed now). */
static int
mc_commit(struct mc_tx *t, struct dss_ctl_req *req, const ProtobufCMessage *reply)
{
	return mc_commit_notify(t, req, reply, NULL);
}

/*
 * Records.
 */

static void
mc_cont_key(char *buf, const char *pool, const char *cont)
{
	snprintf(buf, MC_KEY_LEN, "%s/%s", pool, cont);
}

static int
mc_get_msg(struct ds_mgmt *ms, const char *table, const char *key,
	   const ProtobufCMessageDescriptor *desc, ProtobufCMessage **msg)
{
	const void *val;
	size_t len;
	int rc;

	rc = mc_lookup(ms, table, key, &val, &len);
	if (rc != 0)
		return rc;
	*msg = protobuf_c_message_unpack(desc, NULL, len, val);
	return *msg == NULL ? -DER_DF_INVAL : 0;
}

static void
mc_msg_free(void *msg)
{
	if (msg != NULL)
		protobuf_c_message_free_unpacked(msg, NULL);
}

/* Container @id (uuid or label) of pool @pool into *@cont. */
static int
mc_cont_find(struct ds_mgmt *ms, const char *pool, const char *id, Mgmt__MsCont **cont)
{
	char key[MC_KEY_LEN], uu[40];
	const void *val;
	size_t len;
	uuid_t u;
	int rc;

	if (id == NULL || id[0] == '\0' || strlen(id) > 127)
		return -DER_INVAL;
	if (uuid_parse(id, u) == 0) {
		uuid_unparse_lower(u, uu);
	} else {
		mc_cont_key(key, pool, id);
		rc = mc_lookup(ms, MS_T_CONT_LABELS, key, &val, &len);
		if (rc != 0)
			return rc;
		if (len == 0 || len >= sizeof(uu))
			return -DER_DF_INVAL;
		memcpy(uu, val, len);
		uu[len] = '\0';
	}
	mc_cont_key(key, pool, uu);
	return mc_get_msg(ms, MS_T_CONTS, key, &mgmt__ms_cont__descriptor,
			  (ProtobufCMessage **)cont);
}

/*
 * Collect the values of @table whose key starts with @prefix (NULL: all): the applied state
 * with the overlay on top (a record written or deleted by a commit in flight counts as
 * such), so that counts of handles and lists see the writes answered or about to be.
 */
struct mc_coll {
	const char *co_prefix;
	const ProtobufCMessageDescriptor *co_desc;
	ProtobufCMessage **co_v;
	char **co_keys;
	size_t co_nr;
	size_t co_cap;
};

static int
mc_coll_add(struct mc_coll *co, const void *key, size_t klen, const void *val, size_t vlen)
{
	ProtobufCMessage *m;
	char *k;

	m = protobuf_c_message_unpack(co->co_desc, NULL, vlen, val);
	if (m == NULL)
		return 0;
	if (co->co_nr == co->co_cap) {
		size_t cap = co->co_cap == 0 ? 16 : 2 * co->co_cap;
		ProtobufCMessage **nv;
		char **nk;

		if (cap > MC_LIST_MAX) {
			protobuf_c_message_free_unpacked(m, NULL);
			return 1;
		}
		D_REALLOC_ARRAY(nv, co->co_v, cap);
		if (nv != NULL)
			co->co_v = nv;
		D_REALLOC_ARRAY(nk, co->co_keys, cap);
		if (nk != NULL)
			co->co_keys = nk;
		if (nv == NULL || nk == NULL) {
			protobuf_c_message_free_unpacked(m, NULL);
			return -DER_NOMEM;
		}
		co->co_cap = cap;
	}
	D_STRNDUP(k, key, klen);
	if (k == NULL) {
		protobuf_c_message_free_unpacked(m, NULL);
		return -DER_NOMEM;
	}
	co->co_keys[co->co_nr] = k;
	co->co_v[co->co_nr++] = m;
	return 0;
}

static int
mc_coll_cb(const d_iov_t *key, const d_iov_t *val, void *arg)
{
	struct mc_coll *co = arg;
	size_t pl = co->co_prefix != NULL ? strlen(co->co_prefix) : 0;

	if (pl > 0 && (key->iov_len < pl || memcmp(key->iov_buf, co->co_prefix, pl) != 0))
		return 1; /* past the prefix: keys are sorted */
	return mc_coll_add(co, key->iov_buf, key->iov_len, val->iov_buf, val->iov_len);
}

static void
mc_coll_drop(struct mc_coll *co, size_t i)
{
	protobuf_c_message_free_unpacked(co->co_v[i], NULL);
	D_FREE(co->co_keys[i]);
	co->co_nr--;
	if (i < co->co_nr) {
		co->co_v[i] = co->co_v[co->co_nr];
		co->co_keys[i] = co->co_keys[co->co_nr];
	}
}

static int
mc_collect(struct ds_mgmt *ms, const char *table, const char *prefix,
	   const ProtobufCMessageDescriptor *desc, struct mc_coll *co)
{
	size_t pl = prefix != NULL ? strlen(prefix) : 0;
	struct mc_ovl *o;
	d_iov_t start;
	size_t i;
	int rc;

	memset(co, 0, sizeof(*co));
	co->co_prefix = prefix;
	co->co_desc = desc;
	d_iov_set(&start, (void *)prefix, pl);
	rc = rdb_iterate(ms->ms_db, table, prefix != NULL ? &start : NULL, mc_coll_cb, co);
	if (rc != 0)
		return rc;
	d_list_for_each_entry (o, &ms->ms_ovl, o_link) {
		if (o->o_table != table || o->o_term != ms->ms_term ||
		    (pl > 0 && (o->o_klen < pl || memcmp(o->o_key, prefix, pl) != 0)))
			continue;
		for (i = 0; i < co->co_nr; i++)
			if (strlen(co->co_keys[i]) == o->o_klen &&
			    memcmp(co->co_keys[i], o->o_key, o->o_klen) == 0) {
				mc_coll_drop(co, i);
				break;
			}
		if (o->o_val != NULL) {
			rc = mc_coll_add(co, o->o_key, o->o_klen, o->o_val, o->o_vlen);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

static void
mc_coll_fini(struct mc_coll *co)
{
	size_t i;

	for (i = 0; i < co->co_nr; i++) {
		protobuf_c_message_free_unpacked(co->co_v[i], NULL);
		D_FREE(co->co_keys[i]);
	}
	D_FREE(co->co_v);
	D_FREE(co->co_keys);
}

uint32_t
ms_pool_hdl_count(struct ds_mgmt *ms, const char *uuid)
{
	struct mc_coll co;
	uint32_t n = 0;
	size_t i;

	if (mc_collect(ms, MS_T_POOL_HDLS, NULL, &mgmt__ms_pool_hdl__descriptor, &co) == 0)
		for (i = 0; i < co.co_nr; i++)
			n += strcmp(((Mgmt__MsPoolHdl *)co.co_v[i])->pool, uuid) == 0;
	mc_coll_fini(&co);
	return n;
}

/* The container handles open on container @cont of @pool (applied state). */
static uint32_t
mc_cont_hdl_count(struct ds_mgmt *ms, const char *pool, const char *cont, bool *ex,
		  const char *except)
{
	struct mc_coll co;
	uint32_t n = 0;
	size_t i;

	if (ex != NULL)
		*ex = false;
	if (mc_collect(ms, MS_T_CONT_HDLS, NULL, &mgmt__ms_cont_hdl__descriptor, &co) == 0) {
		for (i = 0; i < co.co_nr; i++) {
			Mgmt__MsContHdl *h = (Mgmt__MsContHdl *)co.co_v[i];

			if (strcmp(h->pool, pool) != 0 || strcmp(h->cont, cont) != 0 ||
			    (except != NULL && strcmp(h->uuid, except) == 0))
				continue;
			n++;
			if (ex != NULL && (h->flags & DAOS_COO_EX))
				*ex = true;
		}
	}
	mc_coll_fini(&co);
	return n;
}

/* Add to @t the removal of the container handles of pool handle @phdl (NULL: of pool
 * @pool, or of container @cont of it if @cont is not NULL). */
static int
mc_cont_hdls_drop(struct mc_tx *t, const char *phdl, const char *pool, const char *cont,
		  uint32_t *nr, struct mc_notify *mn)
{
	struct mc_coll co;
	size_t i;
	int rc;

	rc = mc_collect(t->t_ms, MS_T_CONT_HDLS, NULL, &mgmt__ms_cont_hdl__descriptor, &co);
	for (i = 0; rc == 0 && i < co.co_nr; i++) {
		Mgmt__MsContHdl *h = (Mgmt__MsContHdl *)co.co_v[i];

		if (phdl != NULL ? strcmp(h->pool_hdl, phdl) != 0
				 : (strcmp(h->pool, pool) != 0 ||
				    (cont != NULL && strcmp(h->cont, cont) != 0)))
			continue;
		rc = mc_tx_write(t, MS_T_CONT_HDLS, h->uuid, NULL, false);
		if (rc == 0 && mn != NULL)
			rc = mc_notify_add(mn, h->cont, h->uuid, 0);
		if (nr != NULL)
			(*nr)++;
	}
	mc_coll_fini(&co);
	return rc;
}

int
ms_pool_forget(struct ds_mgmt *ms, struct rdb_tx *tx, const char *uuid, bool conts, uint32_t *nhdls)
{
	struct mc_tx t = {.t_ms = ms, .t_tx = tx};
	char prefix[MC_KEY_LEN];
	struct mc_coll co;
	size_t i;
	int rc;

	rc = mc_collect(ms, MS_T_POOL_HDLS, NULL, &mgmt__ms_pool_hdl__descriptor, &co);
	for (i = 0; rc == 0 && i < co.co_nr; i++) {
		Mgmt__MsPoolHdl *h = (Mgmt__MsPoolHdl *)co.co_v[i];

		if (strcmp(h->pool, uuid) != 0)
			continue;
		rc = mc_tx_write(&t, MS_T_POOL_HDLS, h->uuid, NULL, false);
		if (nhdls != NULL)
			(*nhdls)++;
	}
	mc_coll_fini(&co);
	if (rc == 0)
		rc = mc_cont_hdls_drop(&t, NULL, uuid, NULL, NULL, NULL);
	if (rc != 0 || !conts)
		return rc;
	snprintf(prefix, sizeof(prefix), "%s/", uuid);
	rc = mc_collect(ms, MS_T_CONTS, prefix, &mgmt__ms_cont__descriptor, &co);
	for (i = 0; rc == 0 && i < co.co_nr; i++) {
		Mgmt__MsCont *c = (Mgmt__MsCont *)co.co_v[i];
		char key[MC_KEY_LEN];

		mc_cont_key(key, uuid, c->uuid);
		rc = mc_tx_write(&t, MS_T_CONTS, key, NULL, false);
		if (rc == 0 && c->label[0] != '\0') {
			mc_cont_key(key, uuid, c->label);
			rc = mc_tx_write(&t, MS_T_CONT_LABELS, key, NULL, false);
		}
	}
	mc_coll_fini(&co);
	return rc;
}

void
ms_tgt_hdls_push(struct ds_mgmt *ms, enum ms_push what, uint32_t rank)
{
	struct mc_coll pools, hdls;
	struct mc_notify *mn;
	size_t i, j;
	int rc;

	memset(&hdls, 0, sizeof(hdls));
	rc = mc_collect(ms, MS_T_POOLS, NULL, &mgmt__ms_pool__descriptor, &pools);
	if (rc == 0 && what != MS_PUSH_MAPS)
		rc = mc_collect(ms, MS_T_CONT_HDLS, NULL, &mgmt__ms_cont_hdl__descriptor, &hdls);
	for (i = 0; rc == 0 && i < pools.co_nr; i++) {
		Mgmt__MsPool *p = (Mgmt__MsPool *)pools.co_v[i];

		if (what == MS_PUSH_RANK && !ms_rank_in(p->ranks, (uint32_t)p->n_ranks, rank))
			continue;
		if (what == MS_PUSH_MAPS)
			mn = mc_notify_new(ms, p, MGMT__TGT_HDL_OP__TGT_HDL_MAP, NULL, 0);
		else if (what == MS_PUSH_RANK)
			mn = mc_notify_new(ms, p, MGMT__TGT_HDL_OP__TGT_HDL_SET, &rank, 1);
		else
			mn = mc_notify_new(ms, p, MGMT__TGT_HDL_OP__TGT_HDL_SET, NULL, 0);
		if (mn == NULL) {
			rc = -DER_NOMEM;
			break;
		}
		for (j = 0; what != MS_PUSH_MAPS && rc == 0 && j < hdls.co_nr; j++) {
			Mgmt__MsContHdl *h = (Mgmt__MsContHdl *)hdls.co_v[j];

			if (strcmp(h->pool, p->uuid) == 0)
				rc = mc_notify_add(mn, h->cont, h->uuid, h->capas);
		}
		if (rc == 0)
			rc = mc_notify_send(mn);
		if (rc != 0)
			mc_notify_free(mn);
	}
	if (rc != 0)
		D_ERROR("engines not told of %s: " DF_RC "\n",
			what == MS_PUSH_MAPS ? "new pool maps" : "their container handles",
			DP_RC(rc));
	else if (what == MS_PUSH_ALL)
		D_NOTE("new leader: handle tables of %zu pools sent to their engines\n",
		       pools.co_nr);
	mc_coll_fini(&hdls);
	mc_coll_fini(&pools);
}

/*
 * Requests: the header, checked as the method's table entry asks.
 */

enum {
	MC_CRED = 1 << 0, /* verify the credential */
	MC_PHDL = 1 << 1, /* a known pool handle (else: the pool by name, for connect) */
	MC_CONT = 1 << 2, /* the container named in the header */
	MC_CHDL = 1 << 3, /* a known container handle (its container) */
	MC_IDEM = 1 << 4, /* an unknown pool handle is no error (disconnect): mr_phdl NULL */
};

/* Every request message of cont.proto starts with its header. */
struct mc_any {
	ProtobufCMessage base;
	Mgmt__ClientHeader *hdr;
};

struct mc_req {
	struct ds_mgmt *mr_ms;
	struct dss_ctl_req *mr_req;
	uint32_t mr_method;
	ProtobufCMessage *mr_in;
	Mgmt__ClientHeader *mr_hdr;
	struct sec_cred_info *mr_cred;
	Mgmt__MsPool *mr_pool;
	Mgmt__MsPoolHdl *mr_phdl;
	Mgmt__MsCont *mr_cont;
	Mgmt__MsContHdl *mr_chdl;
};

/* A method: returns 0 when it replied or will reply (then it owns @mr if it returned
 * MC_KEEP), else the error to answer. */
#define MC_KEEP 1
#define MC_QUEUED 2 /* waits for a record's lock: the handler runs again (srv_rlock.c) */
typedef int (*mc_fn_t)(struct mc_req *mr);

static void mc_handler(struct dss_ctl_req *req, void *arg);

static void
mc_req_free(struct mc_req *mr)
{
	if (mr->mr_in != NULL)
		protobuf_c_message_free_unpacked(mr->mr_in, NULL);
	if (mr->mr_cred != NULL)
		sec_cred_info_free(mr->mr_cred);
	mc_msg_free(mr->mr_pool);
	mc_msg_free(mr->mr_phdl);
	mc_msg_free(mr->mr_cont);
	mc_msg_free(mr->mr_chdl);
	D_FREE(mr);
}

static int
mc_uuid_norm(const char *s, char *buf)
{
	uuid_t u;

	if (s == NULL || uuid_parse(s, u) != 0)
		return -DER_INVAL;
	uuid_unparse_lower(u, buf);
	return 0;
}

static int
mc_req_check(struct mc_req *mr, uint32_t need)
{
	struct ds_mgmt *ms = mr->mr_ms;
	Mgmt__ClientHeader *hdr = mr->mr_hdr;
	char uu[40];
	int rc;

	if (hdr == NULL || (hdr->sys[0] != '\0' && strcmp(hdr->sys, ms->ms_sys) != 0))
		return -DER_INVAL;
	if (need & MC_CRED) {
		rc = sec_cred_verify(ms->ms_verifier, hdr->cred.data, hdr->cred.len, 0,
				     &mr->mr_cred);
		if (rc != 0) {
			D_DEBUG("credential refused: " DF_RC "\n", DP_RC(rc));
			return rc == -DER_NOMEM ? rc : -DER_NO_PERM;
		}
	}
	if (need & MC_PHDL) {
		if (mc_uuid_norm(hdr->pool_hdl, uu) != 0)
			return -DER_NO_HDL;
		rc = mc_get_msg(ms, MS_T_POOL_HDLS, uu, &mgmt__ms_pool_hdl__descriptor,
				(ProtobufCMessage **)&mr->mr_phdl);
		if (rc == -DER_NONEXIST && (need & MC_IDEM))
			return 0;
		if (rc != 0)
			return rc == -DER_NONEXIST ? -DER_NO_HDL : rc;
		rc = ms_pool_find(ms, mr->mr_phdl->pool, &mr->mr_pool);
		if (rc != 0)
			return rc == -DER_NONEXIST ? -DER_NO_HDL : rc;
		/* a pool named too must be the handle's */
		if (hdr->pool[0] != '\0' && strcmp(hdr->pool, mr->mr_pool->uuid) != 0 &&
		    strcmp(hdr->pool, mr->mr_pool->label) != 0 &&
		    (mc_uuid_norm(hdr->pool, uu) != 0 || strcmp(uu, mr->mr_pool->uuid) != 0))
			return -DER_NO_HDL;
	} else {
		rc = ms_pool_find(ms, hdr->pool, &mr->mr_pool);
		if (rc != 0)
			return rc;
	}
	if (need & MC_CHDL) {
		char key[MC_KEY_LEN];

		if (mc_uuid_norm(hdr->cont_hdl, uu) != 0)
			return -DER_NO_HDL;
		rc = mc_get_msg(ms, MS_T_CONT_HDLS, uu, &mgmt__ms_cont_hdl__descriptor,
				(ProtobufCMessage **)&mr->mr_chdl);
		if (rc != 0)
			return rc == -DER_NONEXIST ? -DER_NO_HDL : rc;
		if (strcmp(mr->mr_chdl->pool, mr->mr_pool->uuid) != 0)
			return -DER_NO_HDL;
		mc_cont_key(key, mr->mr_pool->uuid, mr->mr_chdl->cont);
		rc = mc_get_msg(ms, MS_T_CONTS, key, &mgmt__ms_cont__descriptor,
				(ProtobufCMessage **)&mr->mr_cont);
		if (rc != 0)
			return rc == -DER_NONEXIST ? -DER_NO_HDL : rc;
	} else if (need & MC_CONT) {
		rc = mc_cont_find(ms, mr->mr_pool->uuid, hdr->cont, &mr->mr_cont);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* The permissions of the credential's holder by @acl on a resource owned by @owner/@group. */
static int
mc_perms(const struct sec_cred_info *cred, char **acl, size_t nacl, const char *owner,
	 const char *group, uint64_t min_owner, uint64_t *perms, bool *is_owner)
{
	struct d_ownership own = {.user = owner, .group = group};
	struct daos_acl *a = NULL;
	int rc;

	if (nacl > 0) {
		rc = daos_acl_from_strs((const char **)acl, nacl, &a);
	} else {
		a = daos_acl_create(NULL, 0); /* an empty ACL grants nothing */
		rc = a == NULL ? -DER_NOMEM : 0;
	}
	if (rc != 0) {
		D_ERROR("stored ACL does not parse: " DF_RC "\n", DP_RC(rc));
		return rc;
	}
	rc = sec_cred_get_perms(cred, a, &own, min_owner, perms, is_owner);
	daos_acl_free(a);
	return rc;
}

/*
 * Pool handles.
 */

/* The fabric addresses of the ranks of pool @p, from the member records. */
struct mc_uris {
	Mgmt__RankUris *mu_v;
	Mgmt__RankUris **mu_p;
	Mgmt__MsMember **mu_mems;
	char **mu_one; /* a rank with no URI list: its fabric_uri */
	size_t mu_nr;
};

static void
mc_uris_fini(struct mc_uris *mu)
{
	size_t i;

	for (i = 0; mu->mu_mems != NULL && i < mu->mu_nr; i++)
		mc_msg_free(mu->mu_mems[i]);
	D_FREE(mu->mu_mems);
	D_FREE(mu->mu_one);
	D_FREE(mu->mu_v);
	D_FREE(mu->mu_p);
}

static int
mc_uris_get(struct ds_mgmt *ms, const Mgmt__MsPool *p, struct mc_uris *mu)
{
	size_t i;

	memset(mu, 0, sizeof(*mu));
	D_ALLOC_ARRAY(mu->mu_v, p->n_ranks + 1);
	D_ALLOC_ARRAY(mu->mu_p, p->n_ranks + 1);
	D_ALLOC_ARRAY(mu->mu_mems, p->n_ranks + 1);
	D_ALLOC_ARRAY(mu->mu_one, p->n_ranks + 1);
	if (mu->mu_v == NULL || mu->mu_p == NULL || mu->mu_mems == NULL || mu->mu_one == NULL)
		return -DER_NOMEM;
	for (i = 0; i < p->n_ranks; i++) {
		Mgmt__RankUris *ru = &mu->mu_v[i];
		Mgmt__MsMember *mem = NULL;

		mgmt__rank_uris__init(ru);
		ru->rank = p->ranks[i];
		mu->mu_p[i] = ru;
		mu->mu_nr++;
		if (ms_member_get(ms, p->ranks[i], &mem) != 0)
			continue;
		mu->mu_mems[i] = mem;
		if (mem->n_uris > 0) {
			ru->n_uris = mem->n_uris;
			ru->uris = mem->uris;
		} else if (mem->member->fabric_uri[0] != '\0') {
			mu->mu_one[i] = mem->member->fabric_uri;
			ru->n_uris = 1;
			ru->uris = &mu->mu_one[i];
		}
	}
	return 0;
}

/* Answer a connect or map-get: the pool's identity, map and ranks, @capas. */
static int
mc_reply_pool_map(struct mc_req *mr, uint64_t capas, struct mc_tx *t)
{
	Mgmt__PoolConnectResp out = MGMT__POOL_CONNECT_RESP__INIT;
	Mgmt__MsPool *p = mr->mr_pool;
	struct mc_uris mu;
	int rc;

	rc = mc_uris_get(mr->mr_ms, p, &mu);
	if (rc != 0) {
		mc_uris_fini(&mu);
		if (t != NULL)
			mc_tx_abort(t);
		return rc;
	}
	out.uuid = p->uuid;
	out.label = p->label;
	out.map = p->map;
	out.map_version = p->map_version;
	out.n_ranks = mu.mu_nr;
	out.ranks = mu.mu_p;
	out.capas = capas;
	if (t != NULL)
		rc = mc_commit(t, mr->mr_req, &out.base);
	else
		dss_ctl_reply_msg(mr->mr_req, 0, &out.base);
	mc_uris_fini(&mu);
	return rc;
}

static int
mc_pool_connect(struct mc_req *mr)
{
	Mgmt__PoolConnectReq *in = (Mgmt__PoolConnectReq *)mr->mr_in;
	struct ds_mgmt *ms = mr->mr_ms;
	Mgmt__MsPoolHdl h = MGMT__MS_POOL_HDL__INIT;
	Mgmt__MsPoolHdl *old = NULL;
	uint64_t perms = 0, capas = 0, mode = in->flags & DAOS_PC_MASK;
	struct mc_coll co;
	struct mc_tx t;
	char uu[40];
	size_t i;
	int rc;

	if (mc_uuid_norm(mr->mr_hdr->pool_hdl, uu) != 0)
		return -DER_INVAL;
	if (mode != DAOS_PC_RO && mode != DAOS_PC_RW && mode != DAOS_PC_EX)
		return -DER_INVAL;
	if (strcmp(mr->mr_pool->state, "Ready") != 0)
		return -DER_BUSY;
	rc = mc_perms(mr->mr_cred, mr->mr_pool->acl, mr->mr_pool->n_acl, mr->mr_pool->owner,
		      mr->mr_pool->owner_group, SEC_POOL_OWNER_MIN_PERMS, &perms, NULL);
	if (rc == 0)
		rc = sec_pool_capas(mode, perms, &capas);
	if (rc != 0)
		return rc;
	if (!sec_pool_can_connect(capas)) {
		D_DEBUG("pool %s: %s may not connect (perms %#" PRIx64 ", flags %#" PRIx64 ")\n",
			mr->mr_pool->uuid, mr->mr_cred->ci_user, perms, in->flags);
		return -DER_NO_PERM;
	}
	/* a retried connect: the same handle again */
	rc = mc_get_msg(ms, MS_T_POOL_HDLS, uu, &mgmt__ms_pool_hdl__descriptor,
			(ProtobufCMessage **)&old);
	if (rc == 0) {
		rc = strcmp(old->pool, mr->mr_pool->uuid) == 0 ? 0 : -DER_EXIST;
		capas = old->capas;
		mc_msg_free(old);
		return rc != 0 ? rc : mc_reply_pool_map(mr, capas, NULL);
	}
	if (rc != -DER_NONEXIST)
		return rc;
	/* exclusive: alone */
	rc = mc_collect(ms, MS_T_POOL_HDLS, NULL, &mgmt__ms_pool_hdl__descriptor, &co);
	for (i = 0; rc == 0 && i < co.co_nr; i++) {
		Mgmt__MsPoolHdl *o = (Mgmt__MsPoolHdl *)co.co_v[i];

		if (strcmp(o->pool, mr->mr_pool->uuid) == 0 &&
		    (mode == DAOS_PC_EX || (o->flags & DAOS_PC_EX)))
			rc = -DER_BUSY;
	}
	mc_coll_fini(&co);
	if (rc != 0)
		return rc;
	h.uuid = uu;
	h.pool = mr->mr_pool->uuid;
	h.flags = in->flags;
	h.capas = capas;
	h.user = mr->mr_cred->ci_user;
	h.machine = mr->mr_cred->ci_machine != NULL ? mr->mr_cred->ci_machine : "";
	rc = mc_tx_begin(ms, &t);
	if (rc != 0)
		return rc;
	rc = mc_tx_write(&t, MS_T_POOL_HDLS, uu, &h.base, true);
	if (rc != 0) {
		mc_tx_abort(&t);
		return rc;
	}
	D_DEBUG("pool %s: handle %s for %s\n", mr->mr_pool->uuid, uu, h.user);
	return mc_reply_pool_map(mr, capas, &t);
}

static int
mc_pool_disconnect(struct mc_req *mr)
{
	Mgmt__PoolDisconnectResp out = MGMT__POOL_DISCONNECT_RESP__INIT;
	struct mc_notify *mn;
	struct mc_tx t;
	int rc;

	if (mr->mr_phdl == NULL) {
		dss_ctl_reply_msg(mr->mr_req, 0, &out.base); /* not connected: done already */
		return 0;
	}
	mn = mc_notify_new(mr->mr_ms, mr->mr_pool, MGMT__TGT_HDL_OP__TGT_HDL_REMOVE, NULL, 0);
	if (mn == NULL)
		return -DER_NOMEM;
	rc = mc_tx_begin(mr->mr_ms, &t);
	if (rc == 0)
		rc = mc_tx_write(&t, MS_T_POOL_HDLS, mr->mr_phdl->uuid, NULL, true);
	if (rc == 0)
		rc = mc_cont_hdls_drop(&t, mr->mr_phdl->uuid, NULL, NULL, NULL, mn);
	if (rc != 0) {
		mc_tx_abort(&t);
		mc_notify_free(mn);
		return rc;
	}
	if (mn->mn_nr == 0) {
		mc_notify_free(mn);
		mn = NULL;
	}
	return mc_commit_notify(&t, mr->mr_req, &out.base, mn);
}

static int
mc_pool_map_get(struct mc_req *mr)
{
	return mc_reply_pool_map(mr, mr->mr_phdl->capas, NULL);
}

static int
mc_pool_hdl_query(struct mc_req *mr)
{
	Mgmt__PoolHdlReq *in = (Mgmt__PoolHdlReq *)mr->mr_in;
	int rc;

	rc = ms_pool_query_start(mr->mr_ms, mr->mr_req, mr->mr_pool, in->query_mask);
	if (rc == 0)
		mr->mr_pool = NULL; /* the query owns it */
	return rc;
}

/* The containers of pool @uuid, as ListContResp entries. */
static int
mc_list_conts(struct ds_mgmt *ms, struct dss_ctl_req *req, const char *uuid)
{
	Mgmt__ListContResp out = MGMT__LIST_CONT_RESP__INIT;
	Mgmt__ListContResp__Cont *v = NULL, **p = NULL;
	char prefix[MC_KEY_LEN];
	struct mc_coll co;
	size_t i;
	int rc;

	snprintf(prefix, sizeof(prefix), "%s/", uuid);
	rc = mc_collect(ms, MS_T_CONTS, prefix, &mgmt__ms_cont__descriptor, &co);
	if (rc == 0 && co.co_nr > 0) {
		D_ALLOC_ARRAY(v, co.co_nr);
		D_ALLOC_ARRAY(p, co.co_nr);
		if (v == NULL || p == NULL)
			rc = -DER_NOMEM;
	}
	for (i = 0; rc == 0 && i < co.co_nr; i++) {
		Mgmt__MsCont *c = (Mgmt__MsCont *)co.co_v[i];

		mgmt__list_cont_resp__cont__init(&v[i]);
		v[i].uuid = c->uuid;
		v[i].label = c->label;
		p[i] = &v[i];
	}
	if (rc == 0) {
		out.n_containers = co.co_nr;
		out.containers = p;
		dss_ctl_reply_msg(req, 0, &out.base);
	}
	D_FREE(v);
	D_FREE(p);
	mc_coll_fini(&co);
	return rc;
}

static int
mc_pool_hdl_list_cont(struct mc_req *mr)
{
	return mc_list_conts(mr->mr_ms, mr->mr_req, mr->mr_pool->uuid);
}

/*
 * Attributes (pool: MsPool.attrs, container: MsCont.attrs), sorted by name.
 */

static int
mc_attr_cmp(const void *a, const void *b)
{
	return strcmp((*(Mgmt__Attr *const *)a)->name, (*(Mgmt__Attr *const *)b)->name);
}

static Mgmt__Attr *
mc_attr_find(Mgmt__Attr **v, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i]->name, name) == 0)
			return v[i];
	return NULL;
}

static int
mc_attr_list(struct mc_req *mr, Mgmt__Attr **v, size_t n)
{
	Mgmt__AttrListResp out = MGMT__ATTR_LIST_RESP__INIT;
	char **names = NULL;
	size_t i;

	if (n > 0) {
		D_ALLOC_ARRAY(names, n);
		if (names == NULL)
			return -DER_NOMEM;
	}
	for (i = 0; i < n; i++)
		names[i] = v[i]->name;
	out.n_names = n;
	out.names = names;
	dss_ctl_reply_msg(mr->mr_req, 0, &out.base);
	D_FREE(names);
	return 0;
}

static int
mc_attr_get(struct mc_req *mr, Mgmt__Attr **v, size_t n)
{
	Mgmt__AttrGetReq *in = (Mgmt__AttrGetReq *)mr->mr_in;
	Mgmt__AttrGetResp out = MGMT__ATTR_GET_RESP__INIT;
	Mgmt__Attr **res = NULL;
	size_t i;

	if (in->n_names == 0)
		return -DER_INVAL;
	D_ALLOC_ARRAY(res, in->n_names);
	if (res == NULL)
		return -DER_NOMEM;
	for (i = 0; i < in->n_names; i++) {
		res[i] = mc_attr_find(v, n, in->names[i]);
		if (res[i] == NULL) {
			D_FREE(res);
			return -DER_NONEXIST;
		}
	}
	out.n_attrs = in->n_names;
	out.attrs = res;
	dss_ctl_reply_msg(mr->mr_req, 0, &out.base);
	D_FREE(res);
	return 0;
}

/*
 * The new attribute list of a set (@set) or delete (@del) into *@nv and *@nn (an array of
 * borrowed pointers, D_FREE it).
 */
static int
mc_attr_change(Mgmt__Attr **v, size_t n, Mgmt__Attr **set, size_t nset, char **del, size_t ndel,
	       Mgmt__Attr ***nv, size_t *nn)
{
	Mgmt__Attr **w;
	size_t i, j, m = 0;

	D_ALLOC_ARRAY(w, n + nset + 1);
	if (w == NULL)
		return -DER_NOMEM;
	for (i = 0; i < n; i++) {
		bool gone = false;

		for (j = 0; j < ndel && !gone; j++)
			gone = strcmp(v[i]->name, del[j]) == 0;
		for (j = 0; j < nset && !gone; j++)
			gone = strcmp(v[i]->name, set[j]->name) == 0;
		if (!gone)
			w[m++] = v[i];
	}
	for (j = 0; j < nset; j++) {
		if (set[j]->name[0] == '\0' || strlen(set[j]->name) > 255) {
			D_FREE(w);
			return -DER_INVAL;
		}
		/* the last of duplicate names wins */
		for (i = 0; i < m; i++)
			if (strcmp(w[i]->name, set[j]->name) == 0)
				break;
		w[i] = set[j];
		if (i == m)
			m++;
	}
	if (m > MC_ATTR_MAX) {
		D_FREE(w);
		return -DER_REC2BIG;
	}
	qsort(w, m, sizeof(*w), mc_attr_cmp);
	*nv = w;
	*nn = m;
	return 0;
}

static int
mc_pool_attr(struct mc_req *mr)
{
	Mgmt__AttrResp out = MGMT__ATTR_RESP__INIT;
	Mgmt__MsPool *p = NULL;
	Mgmt__Attr **old, **nv = NULL;
	size_t old_n, nn = 0;
	struct mc_tx t;
	int rc;

	if (mr->mr_method == DSS_CTL_POOL_ATTR_SET || mr->mr_method == DSS_CTL_POOL_ATTR_DEL) {
		/* set-prop, ACLs and map changes write the same record */
		rc = ms_rl_lock(mr->mr_ms, mr->mr_pool->uuid, mr->mr_req, mc_handler, mr->mr_req,
				mr->mr_ms);
		if (rc == 0)
			return MC_QUEUED;
		if (rc < 0)
			return rc;
	}
	/* the record as the writes in flight left it (the overlay), not only as applied */
	rc = mc_get_msg(mr->mr_ms, MS_T_POOLS, mr->mr_pool->uuid, &mgmt__ms_pool__descriptor,
			(ProtobufCMessage **)&p);
	if (rc != 0)
		return rc;
	old = p->attrs;
	old_n = p->n_attrs;
	switch (mr->mr_method) {
	case DSS_CTL_POOL_ATTR_LIST:
		rc = mc_attr_list(mr, p->attrs, p->n_attrs);
		goto out;
	case DSS_CTL_POOL_ATTR_GET:
		rc = mc_attr_get(mr, p->attrs, p->n_attrs);
		goto out;
	case DSS_CTL_POOL_ATTR_SET: {
		Mgmt__AttrSetReq *in = (Mgmt__AttrSetReq *)mr->mr_in;

		rc = -DER_INVAL;
		if (in->n_attrs > 0)
			rc = mc_attr_change(old, old_n, in->attrs, in->n_attrs, NULL, 0, &nv, &nn);
		break;
	}
	default: {
		Mgmt__AttrDelReq *in = (Mgmt__AttrDelReq *)mr->mr_in;

		rc = mc_attr_change(old, old_n, NULL, 0, in->names, in->n_names, &nv, &nn);
		break;
	}
	}
	if (rc == 0 && !(mr->mr_phdl->capas & SEC_POOL_CAPA_CREATE_CONT))
		rc = -DER_NO_PERM; /* a read-only handle */
	if (rc == 0)
		rc = mc_tx_begin(mr->mr_ms, &t);
	if (rc == 0) {
		p->attrs = nv;
		p->n_attrs = nn;
		rc = mc_tx_write(&t, MS_T_POOLS, p->uuid, &p->base, true);
		p->attrs = old;
		p->n_attrs = old_n;
		if (rc == 0)
			rc = mc_commit(&t, mr->mr_req, &out.base);
		else
			mc_tx_abort(&t);
	}
out:
	D_FREE(nv);
	mc_msg_free(p);
	return rc;
}

/*
 * Containers.
 */

/* Properties a container gets when its create does not set them (DAOS's defaults). */
static const struct {
	uint32_t number;
	uint64_t val;
} mc_prop_defaults[] = {
    {DAOS_PROP_CO_LAYOUT_TYPE, DAOS_PROP_CO_LAYOUT_UNKNOWN},
    {DAOS_PROP_CO_LAYOUT_VER, 1},
    {DAOS_PROP_CO_CSUM, DAOS_PROP_CO_CSUM_OFF},
    {DAOS_PROP_CO_CSUM_CHUNK_SIZE, 32768},
    {DAOS_PROP_CO_CSUM_SERVER_VERIFY, 0},
    {DAOS_PROP_CO_REDUN_FAC, DAOS_PROP_CO_REDUN_RF0},
    {DAOS_PROP_CO_REDUN_LVL, DAOS_PROP_CO_REDUN_DEFAULT},
    {DAOS_PROP_CO_SNAPSHOT_MAX, 0},
    {DAOS_PROP_CO_COMPRESS, 0},
    {DAOS_PROP_CO_ENCRYPT, 0},
    {DAOS_PROP_CO_DEDUP, 0},
    {DAOS_PROP_CO_DEDUP_THRESHOLD, 4096},
    {DAOS_PROP_CO_STATUS, 0},
    {DAOS_PROP_CO_EC_CELL_SZ, 1 << 20},
    {DAOS_PROP_CO_GLOBAL_VERSION, 1},
    {DAOS_PROP_CO_OBJ_VERSION, 1},
    {DAOS_PROP_CO_SCRUBBER_DISABLED, 0},
    {DAOS_PROP_CO_PERF_DOMAIN, DAOS_PROP_CO_PERF_DOMAIN_DEFAULT},
};

/* May set-prop change @number after create? (DAOS: only these.) */
static bool
mc_prop_mutable(uint32_t number)
{
	switch (number) {
	case DAOS_PROP_CO_LABEL:
	case DAOS_PROP_CO_ACL:
	case DAOS_PROP_CO_OWNER:
	case DAOS_PROP_CO_OWNER_GROUP:
	case DAOS_PROP_CO_SNAPSHOT_MAX:
	case DAOS_PROP_CO_STATUS:
	case DAOS_PROP_CO_ROOTS:
	case DAOS_PROP_CO_SCRUBBER_DISABLED:
	case DAOS_PROP_CO_DEDUP_THRESHOLD:
		return true;
	default:
		return false;
	}
}

/* Properties carried as strings (the rest as numbers; the ACL as entries). */
static bool
mc_prop_is_str(uint32_t number)
{
	return number == DAOS_PROP_CO_LABEL || number == DAOS_PROP_CO_OWNER ||
	       number == DAOS_PROP_CO_OWNER_GROUP || number == DAOS_PROP_CO_ROOTS;
}

/* Validate and normalise ACL entries @ents into a new string array *@out (sorted, as
 * daos_acl_create does); with @base, applied on top of it (update). */
static int
mc_acl_build(char **base, size_t nbase, char **ents, size_t nents, const char *del, char ***out,
	     size_t *nout)
{
	struct daos_acl *acl = NULL;
	size_t i;
	int rc;

	if (nbase > 0) {
		rc = daos_acl_from_strs((const char **)base, nbase, &acl);
	} else {
		acl = daos_acl_create(NULL, 0);
		rc = acl == NULL ? -DER_NOMEM : 0;
	}
	for (i = 0; rc == 0 && i < nents; i++) {
		struct daos_ace *ace = NULL;

		rc = daos_ace_from_str(ents[i], &ace);
		if (rc == 0)
			rc = daos_acl_add_ace(&acl, ace);
		daos_ace_free(ace);
	}
	if (rc == 0 && del != NULL) {
		enum daos_acl_principal_type type;
		char *name = NULL;

		rc = daos_acl_principal_from_str(del, &type, &name);
		if (rc == 0)
			rc = daos_acl_remove_ace(&acl, type, name);
		D_FREE(name);
	}
	if (rc == 0 && daos_acl_cont_validate(acl) != 0)
		rc = -DER_INVAL;
	if (rc == 0)
		rc = daos_acl_to_strs(acl, out, nout);
	daos_acl_free(acl);
	return rc;
}

static void
mc_strs_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; v != NULL && i < n; i++)
		D_FREE(v[i]);
	D_FREE(v);
}

static void
mc_info_fill(struct ds_mgmt *ms, const Mgmt__MsCont *c, Mgmt__ContInfo *info)
{
	mgmt__cont_info__init(info);
	info->uuid = c->uuid;
	info->label = c->label;
	info->nsnapshots = (uint32_t)c->n_snapshots;
	info->lsnapshot = c->n_snapshots > 0 ? c->snapshots[c->n_snapshots - 1]->epoch : 0;
	info->nhandles = mc_cont_hdl_count(ms, c->pool, c->uuid, NULL, NULL);
	info->md_otime = c->otime;
	info->md_mtime = c->mtime;
}

/* The properties of @c (the numbers of @want only, if any), borrowing from @c and @fixed. */
struct mc_props {
	Mgmt__ContProperty mp_fixed[5];
	Mgmt__ContProperty **mp_v;
	size_t mp_nr;
};

static int
mc_props_get(const Mgmt__MsCont *c, Mgmt__ContProperty **want, size_t nwant, struct mc_props *mp)
{
	size_t i, j, n = 0;

	D_ALLOC_ARRAY(mp->mp_v, c->n_properties + D_ARRAY_SIZE(mp->mp_fixed));
	if (mp->mp_v == NULL)
		return -DER_NOMEM;
	for (i = 0; i < D_ARRAY_SIZE(mp->mp_fixed); i++)
		mgmt__cont_property__init(&mp->mp_fixed[i]);
	mp->mp_fixed[0].number = DAOS_PROP_CO_LABEL;
	mp->mp_fixed[0].strval = c->label[0] != '\0' ? c->label : DAOS_PROP_CO_LABEL_DEFAULT;
	mp->mp_fixed[1].number = DAOS_PROP_CO_ACL;
	mp->mp_fixed[1].n_acl = c->n_acl;
	mp->mp_fixed[1].acl = c->acl;
	mp->mp_fixed[2].number = DAOS_PROP_CO_OWNER;
	mp->mp_fixed[2].strval = c->owner;
	mp->mp_fixed[3].number = DAOS_PROP_CO_OWNER_GROUP;
	mp->mp_fixed[3].strval = c->owner_group;
	mp->mp_fixed[4].number = DAOS_PROP_CO_ALLOCED_OID;
	mp->mp_fixed[4].numval = c->next_oid;
	for (i = 0; i < D_ARRAY_SIZE(mp->mp_fixed); i++)
		mp->mp_v[n++] = &mp->mp_fixed[i];
	for (i = 0; i < c->n_properties; i++)
		mp->mp_v[n++] = c->properties[i];
	if (nwant > 0) {
		size_t m = 0;

		for (i = 0; i < n; i++)
			for (j = 0; j < nwant; j++)
				if (mp->mp_v[i]->number == want[j]->number) {
					mp->mp_v[m++] = mp->mp_v[i];
					break;
				}
		n = m;
	}
	mp->mp_nr = n;
	return 0;
}

static const char *
mc_prop_str(Mgmt__ContProperty **v, size_t n, uint32_t number)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i]->number == number)
			return v[i]->strval;
	return NULL;
}

static int
mc_cont_create(struct mc_req *mr)
{
	Mgmt__ContCreateReq *in = (Mgmt__ContCreateReq *)mr->mr_in;
	Mgmt__ContCreateResp out = MGMT__CONT_CREATE_RESP__INIT;
	struct ds_mgmt *ms = mr->mr_ms;
	const char *pool = mr->mr_pool->uuid;
	Mgmt__MsCont c = MGMT__MS_CONT__INIT;
	Mgmt__MsCont *old = NULL;
	Mgmt__ContProperty *defs = NULL, **props = NULL;
	const char *label, *owner, *group;
	char **acl = NULL;
	size_t nacl = 0, i, j, np = 0;
	char key[MC_KEY_LEN], uu[40];
	struct daos_acl *dacl;
	struct mc_tx t;
	int rc;

	if (mc_uuid_norm(mr->mr_hdr->cont, uu) != 0)
		return -DER_INVAL;
	if (!sec_pool_can_create_cont(mr->mr_phdl->capas))
		return -DER_NO_PERM;
	label = mc_prop_str(in->properties, in->n_properties, DAOS_PROP_CO_LABEL);
	if (label == NULL)
		label = "";
	if (label[0] != '\0' && !ms_label_valid(label))
		return -DER_INVAL;
	/* a retry of a create that succeeded answers the same */
	mc_cont_key(key, pool, uu);
	rc = mc_get_msg(ms, MS_T_CONTS, key, &mgmt__ms_cont__descriptor, (ProtobufCMessage **)&old);
	if (rc == 0) {
		rc = strcmp(old->label, label) == 0 ? 0 : -DER_EXIST;
		mc_msg_free(old);
		if (rc == 0) {
			out.uuid = uu;
			dss_ctl_reply_msg(mr->mr_req, 0, &out.base);
		}
		return rc;
	}
	if (rc != -DER_NONEXIST)
		return rc;
	if (label[0] != '\0' && mc_cont_find(ms, pool, label, &old) == 0) {
		mc_msg_free(old);
		return -DER_EXIST;
	}
	owner = mc_prop_str(in->properties, in->n_properties, DAOS_PROP_CO_OWNER);
	group = mc_prop_str(in->properties, in->n_properties, DAOS_PROP_CO_OWNER_GROUP);
	c.uuid = uu;
	c.pool = (char *)pool;
	c.label = (char *)label;
	c.owner = owner != NULL && owner[0] != '\0' ? (char *)owner : mr->mr_cred->ci_user;
	c.owner_group = group != NULL && group[0] != '\0' ? (char *)group : mr->mr_cred->ci_group;
	c.next_oid = 1;
	c.otime = 0;
	c.mtime = d_hlc_get();
	rc = -DER_NOMEM;
	D_ALLOC_ARRAY(defs, D_ARRAY_SIZE(mc_prop_defaults));
	D_ALLOC_ARRAY(props, in->n_properties + D_ARRAY_SIZE(mc_prop_defaults));
	if (defs == NULL || props == NULL)
		goto out;
	rc = 0;
	for (i = 0; i < in->n_properties && rc == 0; i++) {
		Mgmt__ContProperty *q = in->properties[i];

		if (q->number <= DAOS_PROP_CO_MIN || q->number >= DAOS_PROP_CO_MAX) {
			rc = -DER_INVAL;
			break;
		}
		switch (q->number) {
		case DAOS_PROP_CO_LABEL:
		case DAOS_PROP_CO_OWNER:
		case DAOS_PROP_CO_OWNER_GROUP:
		case DAOS_PROP_CO_ALLOCED_OID:
			break;
		case DAOS_PROP_CO_ACL:
			if (acl != NULL)
				mc_strs_free(acl, nacl);
			acl = NULL;
			rc = mc_acl_build(NULL, 0, q->acl, q->n_acl, NULL, &acl, &nacl);
			break;
		default:
			for (j = 0; j < np; j++)
				if (props[j]->number == q->number)
					break;
			props[j] = q;
			if (j == np)
				np++;
		}
	}
	if (rc != 0)
		goto out;
	for (i = 0; i < D_ARRAY_SIZE(mc_prop_defaults); i++) {
		for (j = 0; j < np; j++)
			if (props[j]->number == mc_prop_defaults[i].number)
				break;
		if (j < np)
			continue;
		mgmt__cont_property__init(&defs[i]);
		defs[i].number = mc_prop_defaults[i].number;
		defs[i].numval = mc_prop_defaults[i].val;
		props[np++] = &defs[i];
	}
	if (acl == NULL) {
		dacl = sec_acl_default_cont();
		rc = dacl == NULL ? -DER_NOMEM : daos_acl_to_strs(dacl, &acl, &nacl);
		daos_acl_free(dacl);
		if (rc != 0)
			goto out;
	}
	c.n_properties = np;
	c.properties = props;
	c.n_acl = nacl;
	c.acl = acl;
	rc = mc_tx_begin(ms, &t);
	if (rc != 0)
		goto out;
	rc = mc_tx_write(&t, MS_T_CONTS, key, &c.base, true);
	if (rc == 0 && label[0] != '\0') {
		mc_cont_key(key, pool, label);
		rc = mc_tx_write_str(&t, MS_T_CONT_LABELS, key, uu);
	}
	if (rc != 0) {
		mc_tx_abort(&t);
		goto out;
	}
	out.uuid = uu;
	D_DEBUG("pool %s: container %s (%s) created by %s\n", pool, uu, label, c.owner);
	rc = mc_commit(&t, mr->mr_req, &out.base);
out:
	mc_strs_free(acl, nacl);
	D_FREE(props);
	D_FREE(defs);
	return rc;
}

/* Destroy: the engines' VOS containers first, then the records. */
struct mc_destroy {
	struct mc_req *de_mr;
	char **de_addrs;
	uint32_t de_naddrs;
};

static int
mc_destroy_commit(struct mc_req *mr, struct mc_destroy *de, const int *rcs)
{
	Mgmt__ContDestroyResp out = MGMT__CONT_DESTROY_RESP__INIT;
	Mgmt__MsCont *c = mr->mr_cont;
	struct mc_notify *mn;
	char key[MC_KEY_LEN];
	struct mc_tx t;
	int rc;

	mn = mc_notify_new(mr->mr_ms, mr->mr_pool, MGMT__TGT_HDL_OP__TGT_HDL_REMOVE, NULL, 0);
	if (mn == NULL)
		return -DER_NOMEM;
	rc = mc_tx_begin(mr->mr_ms, &t);
	if (rc != 0) {
		mc_notify_free(mn);
		return rc;
	}
	mc_cont_key(key, c->pool, c->uuid);
	rc = mc_tx_write(&t, MS_T_CONTS, key, NULL, true);
	if (rc == 0 && c->label[0] != '\0') {
		mc_cont_key(key, c->pool, c->label);
		rc = mc_tx_write(&t, MS_T_CONT_LABELS, key, NULL, true);
	}
	if (rc == 0)
		rc = mc_cont_hdls_drop(&t, NULL, c->pool, c->uuid, NULL, mn);
	/* the ranks not reached destroy it when they join again (srv_orphan.c) */
	if (rc == 0)
		rc = ms_orphans_add(mr->mr_ms, t.t_tx, mr->mr_pool->ranks,
				    (uint32_t)mr->mr_pool->n_ranks, de->de_addrs, rcs,
				    de->de_naddrs, c->pool, c->uuid);
	if (rc != 0) {
		mc_tx_abort(&t);
		mc_notify_free(mn);
		return rc;
	}
	if (mn->mn_nr == 0) {
		mc_notify_free(mn);
		mn = NULL;
	}
	D_DEBUG("pool %s: container %s destroyed\n", c->pool, c->uuid);
	return mc_commit_notify(&t, mr->mr_req, &out.base, mn);
}

static void
mc_destroy_tgts_done(const int *rcs, uint32_t nr, void *arg)
{
	struct mc_destroy *de = arg;
	struct mc_req *mr = de->de_mr;
	Mgmt__ContDestroyReq *in = (Mgmt__ContDestroyReq *)mr->mr_in;
	uint32_t i;
	int rc = rcs == NULL ? -DER_NOMEM : 0;

	for (i = 0; i < nr; i++) {
		if (rcs[i] == 0)
			continue;
		D_ERROR("container %s: destroy on %s: " DF_RC "\n", mr->mr_cont->uuid,
			de->de_addrs[i], DP_RC(rcs[i]));
		if (rc == 0 && rcs[i] != -DER_UNREACH && rcs[i] != -DER_TIMEDOUT)
			rc = rcs[i];
	}
	if (in->force)
		rc = 0;
	if (rc == 0 && (mr->mr_ms->ms_db == NULL || mr->mr_ms->ms_stopping))
		rc = -DER_SHUTDOWN;
	if (rc == 0)
		rc = mc_destroy_commit(mr, de, rcs);
	if (rc != 0)
		ms_reply_err(mr->mr_ms, mr->mr_req, rc);
	ms_addrs_free(de->de_addrs, de->de_naddrs);
	D_FREE(de);
	mc_req_free(mr);
}

static int
mc_cont_destroy(struct mc_req *mr)
{
	Mgmt__ContDestroyReq *in = (Mgmt__ContDestroyReq *)mr->mr_in;
	Mgmt__TgtContDestroyReq tr = MGMT__TGT_CONT_DESTROY_REQ__INIT;
	Mgmt__MsCont *c = mr->mr_cont;
	struct mc_destroy *de;
	uint64_t perms = 0;
	int rc;

	/* the pool handle's delete capability, or the container ACL's delete permission */
	if (!sec_pool_can_delete_cont(mr->mr_phdl->capas)) {
		rc = mc_perms(mr->mr_cred, c->acl, c->n_acl, c->owner, c->owner_group,
			      SEC_CONT_OWNER_MIN_PERMS, &perms, NULL);
		if (rc != 0)
			return rc;
		if (!(perms & DAOS_ACL_PERM_DEL_CONT))
			return -DER_NO_PERM;
	}
	if (!in->force && mc_cont_hdl_count(mr->mr_ms, c->pool, c->uuid, NULL, NULL) > 0)
		return -DER_BUSY;
	D_ALLOC_PTR(de);
	if (de == NULL)
		return -DER_NOMEM;
	de->de_mr = mr;
	rc = ms_rank_addrs(mr->mr_ms, mr->mr_pool->ranks, (uint32_t)mr->mr_pool->n_ranks,
			   &de->de_addrs, &de->de_naddrs);
	if (rc == 0) {
		tr.pool_uuid = c->pool;
		tr.cont_uuid = c->uuid;
		rc = ms_call_all(mr->mr_ms, de->de_addrs, de->de_naddrs, DSS_CTL_TGT_CONT_DESTROY,
				 &tr.base, mc_destroy_tgts_done, de);
	}
	if (rc != 0) {
		ms_addrs_free(de->de_addrs, de->de_naddrs);
		D_FREE(de);
		return rc;
	}
	return MC_KEEP;
}

static int
mc_cont_open(struct mc_req *mr)
{
	Mgmt__ContOpenReq *in = (Mgmt__ContOpenReq *)mr->mr_in;
	Mgmt__ContOpenResp out = MGMT__CONT_OPEN_RESP__INIT;
	Mgmt__MsContHdl h = MGMT__MS_CONT_HDL__INIT;
	Mgmt__MsContHdl *old = NULL;
	Mgmt__MsCont *c = mr->mr_cont;
	struct mc_notify *mn;
	uint64_t mode = in->flags & DAOS_COO_IO_BASE_MASK;
	uint64_t perms = 0, capas = 0, prev_otime;
	Mgmt__ContInfo info;
	struct mc_props mp = {0};
	char key[MC_KEY_LEN], uu[40];
	bool is_owner = false, ex = false;
	struct mc_tx t;
	int rc;

	if (mc_uuid_norm(mr->mr_hdr->cont_hdl, uu) != 0)
		return -DER_INVAL;
	if (mode != DAOS_COO_RO && mode != DAOS_COO_RW && mode != DAOS_COO_EX)
		return -DER_INVAL;
	rc = mc_perms(mr->mr_cred, c->acl, c->n_acl, c->owner, c->owner_group,
		      SEC_CONT_OWNER_MIN_PERMS, &perms, &is_owner);
	if (rc == 0)
		rc = sec_cont_capas(in->flags, perms, is_owner, &capas);
	if (rc != 0)
		return rc;
	if (!sec_cont_can_open(capas) ||
	    (mode != DAOS_COO_RO && !(mr->mr_phdl->flags & (DAOS_PC_RW | DAOS_PC_EX)))) {
		D_DEBUG("container %s: %s may not open (perms %#" PRIx64 ", flags %#" PRIx64 ")\n",
			c->uuid, mr->mr_cred->ci_user, perms, in->flags);
		return -DER_NO_PERM;
	}
	rc = mc_get_msg(mr->mr_ms, MS_T_CONT_HDLS, uu, &mgmt__ms_cont_hdl__descriptor,
			(ProtobufCMessage **)&old);
	if (rc == 0) {
		/* a retried open answers the same */
		bool same = strcmp(old->cont, c->uuid) == 0 && strcmp(old->pool, c->pool) == 0;

		capas = old->capas;
		mc_msg_free(old);
		if (!same)
			return -DER_EXIST;
		mc_info_fill(mr->mr_ms, c, &info);
		rc = mc_props_get(c, NULL, 0, &mp);
		if (rc == 0) {
			out.info = &info;
			out.n_properties = mp.mp_nr;
			out.properties = mp.mp_v;
			out.capas = capas;
			dss_ctl_reply_msg(mr->mr_req, 0, &out.base);
		}
		D_FREE(mp.mp_v);
		return rc;
	}
	if (rc != -DER_NONEXIST)
		return rc;
	if (mc_cont_hdl_count(mr->mr_ms, c->pool, c->uuid, &ex, NULL) > 0 &&
	    (ex || mode == DAOS_COO_EX))
		return -DER_BUSY;
	h.uuid = uu;
	h.pool = c->pool;
	h.cont = c->uuid;
	h.pool_hdl = mr->mr_phdl->uuid;
	h.flags = in->flags;
	h.capas = capas;
	prev_otime = c->otime;
	c->otime = d_hlc_get();
	mc_cont_key(key, c->pool, c->uuid);
	rc = mc_tx_begin(mr->mr_ms, &t);
	if (rc != 0)
		return rc;
	rc = mc_tx_write(&t, MS_T_CONT_HDLS, uu, &h.base, true);
	if (rc == 0)
		rc = mc_tx_write(&t, MS_T_CONTS, key, &c->base, true);
	if (rc == 0)
		rc = mc_props_get(c, NULL, 0, &mp);
	if (rc != 0) {
		c->otime = prev_otime;
		mc_tx_abort(&t);
		D_FREE(mp.mp_v);
		return rc;
	}
	mn = mc_notify_new(mr->mr_ms, mr->mr_pool, MGMT__TGT_HDL_OP__TGT_HDL_ADD, NULL, 0);
	if (mn == NULL || mc_notify_add(mn, c->uuid, uu, capas) != 0) {
		mc_notify_free(mn);
		c->otime = prev_otime;
		mc_tx_abort(&t);
		D_FREE(mp.mp_v);
		return -DER_NOMEM;
	}
	mn->mn_strict = true;
	mc_info_fill(mr->mr_ms, c, &info);
	out.info = &info;
	out.n_properties = mp.mp_nr;
	out.properties = mp.mp_v;
	out.capas = capas;
	/* answered once every engine of the pool knows the handle */
	rc = mc_commit_notify(&t, mr->mr_req, &out.base, mn);
	D_FREE(mp.mp_v);
	return rc;
}

static int
mc_cont_close(struct mc_req *mr)
{
	Mgmt__ContCloseResp out = MGMT__CONT_CLOSE_RESP__INIT;
	Mgmt__MsContHdl *h = NULL;
	struct mc_notify *mn;
	struct mc_tx t;
	char uu[40];
	int rc;

	if (mc_uuid_norm(mr->mr_hdr->cont_hdl, uu) != 0)
		return -DER_INVAL;
	rc = mc_get_msg(mr->mr_ms, MS_T_CONT_HDLS, uu, &mgmt__ms_cont_hdl__descriptor,
			(ProtobufCMessage **)&h);
	if (rc == -DER_NONEXIST) {
		dss_ctl_reply_msg(mr->mr_req, 0, &out.base); /* closed already */
		return 0;
	}
	if (rc != 0)
		return rc;
	rc = strcmp(h->pool_hdl, mr->mr_phdl->uuid) == 0 ? 0 : -DER_NO_HDL;
	mn = mc_notify_new(mr->mr_ms, mr->mr_pool, MGMT__TGT_HDL_OP__TGT_HDL_REMOVE, NULL, 0);
	if (rc == 0 && (mn == NULL || mc_notify_add(mn, h->cont, uu, 0) != 0))
		rc = -DER_NOMEM;
	mc_msg_free(h);
	if (rc != 0) {
		mc_notify_free(mn);
		return rc;
	}
	rc = mc_tx_begin(mr->mr_ms, &t);
	if (rc == 0)
		rc = mc_tx_write(&t, MS_T_CONT_HDLS, uu, NULL, true);
	if (rc != 0) {
		mc_tx_abort(&t);
		mc_notify_free(mn);
		return rc;
	}
	/* answered once the engines forgot it (their errors are only logged) */
	return mc_commit_notify(&t, mr->mr_req, &out.base, mn);
}

static int
mc_cont_query(struct mc_req *mr)
{
	Mgmt__ContQueryReq *in = (Mgmt__ContQueryReq *)mr->mr_in;
	Mgmt__ContQueryResp out = MGMT__CONT_QUERY_RESP__INIT;
	Mgmt__ContInfo info;
	struct mc_props mp = {0};
	bool want_props = mr->mr_method == DSS_CTL_CONT_GET_PROP || in->n_properties > 0;
	int rc = 0;

	if (want_props && !(mr->mr_chdl->capas & SEC_CONT_CAPA_GET_PROP))
		return -DER_NO_PERM;
	if (want_props)
		rc = mc_props_get(mr->mr_cont, in->properties, in->n_properties, &mp);
	if (rc != 0)
		return rc;
	/* the ACL is not a property for a holder that may not read it */
	if (!(mr->mr_chdl->capas & SEC_CONT_CAPA_GET_ACL))
		mp.mp_fixed[1].n_acl = 0;
	mc_info_fill(mr->mr_ms, mr->mr_cont, &info);
	out.info = &info;
	out.n_properties = mp.mp_nr;
	out.properties = mp.mp_v;
	dss_ctl_reply_msg(mr->mr_req, 0, &out.base);
	D_FREE(mp.mp_v);
	return 0;
}

static int
mc_cont_set_prop(struct mc_req *mr)
{
	Mgmt__ContSetPropReq *in = (Mgmt__ContSetPropReq *)mr->mr_in;
	Mgmt__ContSetPropResp out = MGMT__CONT_SET_PROP_RESP__INIT;
	Mgmt__MsCont *c = mr->mr_cont;
	Mgmt__MsCont n;
	Mgmt__MsCont *other = NULL;
	Mgmt__ContProperty **props = NULL;
	uint64_t capas = mr->mr_chdl->capas;
	char **acl = NULL;
	size_t nacl = 0, np, i, j;
	char key[MC_KEY_LEN];
	const char *old_label = c->label;
	struct mc_tx t;
	int rc = 0;

	if (in->n_properties == 0)
		return -DER_INVAL;
	if (!(capas & SEC_CONT_CAPA_SET_PROP))
		return -DER_NO_PERM;
	n = *c;
	D_ALLOC_ARRAY(props, c->n_properties + in->n_properties);
	if (props == NULL)
		return -DER_NOMEM;
	np = c->n_properties;
	if (np > 0)
		memcpy(props, c->properties, np * sizeof(*props));
	for (i = 0; i < in->n_properties && rc == 0; i++) {
		Mgmt__ContProperty *q = in->properties[i];

		if (q->number <= DAOS_PROP_CO_MIN || q->number >= DAOS_PROP_CO_MAX) {
			rc = -DER_INVAL;
			break;
		}
		if (!mc_prop_mutable(q->number)) {
			rc = -DER_NO_PERM;
			break;
		}
		switch (q->number) {
		case DAOS_PROP_CO_LABEL:
			if (!ms_label_valid(q->strval)) {
				rc = -DER_INVAL;
				break;
			}
			if (strcmp(q->strval, old_label) != 0 &&
			    mc_cont_find(mr->mr_ms, c->pool, q->strval, &other) == 0) {
				mc_msg_free(other);
				other = NULL;
				rc = -DER_EXIST;
				break;
			}
			n.label = q->strval;
			break;
		case DAOS_PROP_CO_OWNER:
		case DAOS_PROP_CO_OWNER_GROUP:
			if (!(capas & SEC_CONT_CAPA_SET_OWNER) || q->strval[0] == '\0') {
				rc = q->strval[0] == '\0' ? -DER_INVAL : -DER_NO_PERM;
				break;
			}
			if (q->number == DAOS_PROP_CO_OWNER)
				n.owner = q->strval;
			else
				n.owner_group = q->strval;
			break;
		case DAOS_PROP_CO_ACL:
			if (!(capas & SEC_CONT_CAPA_SET_ACL)) {
				rc = -DER_NO_PERM;
				break;
			}
			mc_strs_free(acl, nacl);
			acl = NULL;
			rc = mc_acl_build(NULL, 0, q->acl, q->n_acl, NULL, &acl, &nacl);
			if (rc == 0) {
				n.acl = acl;
				n.n_acl = nacl;
			}
			break;
		default:
			if (mc_prop_is_str(q->number) && q->strval == NULL) {
				rc = -DER_INVAL;
				break;
			}
			for (j = 0; j < np; j++)
				if (props[j]->number == q->number)
					break;
			props[j] = q;
			if (j == np)
				np++;
		}
	}
	if (rc != 0)
		goto out;
	n.properties = props;
	n.n_properties = np;
	n.mtime = d_hlc_get();
	rc = mc_tx_begin(mr->mr_ms, &t);
	if (rc != 0)
		goto out;
	mc_cont_key(key, c->pool, c->uuid);
	rc = mc_tx_write(&t, MS_T_CONTS, key, &n.base, true);
	if (rc == 0 && strcmp(n.label, old_label) != 0) {
		if (old_label[0] != '\0') {
			mc_cont_key(key, c->pool, old_label);
			rc = mc_tx_write(&t, MS_T_CONT_LABELS, key, NULL, true);
		}
		if (rc == 0) {
			mc_cont_key(key, c->pool, n.label);
			rc = mc_tx_write_str(&t, MS_T_CONT_LABELS, key, c->uuid);
		}
	}
	if (rc != 0) {
		mc_tx_abort(&t);
		goto out;
	}
	rc = mc_commit(&t, mr->mr_req, &out.base);
out:
	mc_strs_free(acl, nacl);
	D_FREE(props);
	return rc;
}

/* Write container @n (a changed copy of the record) and answer @reply once committed. */
static int
mc_cont_write_reply(struct mc_req *mr, Mgmt__MsCont *n, const ProtobufCMessage *reply)
{
	char key[MC_KEY_LEN];
	struct mc_tx t;
	int rc;

	n->mtime = d_hlc_get();
	rc = mc_tx_begin(mr->mr_ms, &t);
	if (rc != 0)
		return rc;
	mc_cont_key(key, n->pool, n->uuid);
	rc = mc_tx_write(&t, MS_T_CONTS, key, &n->base, true);
	if (rc != 0) {
		mc_tx_abort(&t);
		return rc;
	}
	return mc_commit(&t, mr->mr_req, reply);
}

static int
mc_cont_acl(struct mc_req *mr)
{
	Mgmt__ContAclReq *in = (Mgmt__ContAclReq *)mr->mr_in;
	Mgmt__ContAclResp out = MGMT__CONT_ACL_RESP__INIT;
	Mgmt__MsCont n = *mr->mr_cont;
	char **acl = NULL;
	size_t nacl = 0;
	int rc;

	if (!(mr->mr_chdl->capas & SEC_CONT_CAPA_SET_ACL))
		return -DER_NO_PERM;
	switch (mr->mr_method) {
	case DSS_CTL_CONT_UPDATE_ACL:
		if (in->n_acl == 0)
			return -DER_INVAL;
		rc = mc_acl_build(n.acl, n.n_acl, in->acl, in->n_acl, NULL, &acl, &nacl);
		break;
	case DSS_CTL_CONT_OVERWRITE_ACL:
		rc = mc_acl_build(NULL, 0, in->acl, in->n_acl, NULL, &acl, &nacl);
		break;
	default:
		if (in->principal[0] == '\0')
			return -DER_INVAL;
		rc = mc_acl_build(n.acl, n.n_acl, NULL, 0, in->principal, &acl, &nacl);
		break;
	}
	if (rc != 0)
		return rc;
	n.acl = acl;
	n.n_acl = nacl;
	out.acl = acl;
	out.n_acl = nacl;
	rc = mc_cont_write_reply(mr, &n, &out.base);
	mc_strs_free(acl, nacl);
	return rc;
}

static int
mc_cont_attr(struct mc_req *mr)
{
	Mgmt__AttrResp out = MGMT__ATTR_RESP__INIT;
	Mgmt__MsCont n = *mr->mr_cont;
	uint64_t capas = mr->mr_chdl->capas;
	Mgmt__Attr **nv = NULL;
	size_t nn = 0;
	int rc;

	switch (mr->mr_method) {
	case DSS_CTL_CONT_ATTR_LIST:
	case DSS_CTL_CONT_ATTR_GET:
		if (!(capas & SEC_CONT_CAPA_GET_PROP))
			return -DER_NO_PERM;
		if (mr->mr_method == DSS_CTL_CONT_ATTR_LIST)
			return mc_attr_list(mr, n.attrs, n.n_attrs);
		return mc_attr_get(mr, n.attrs, n.n_attrs);
	case DSS_CTL_CONT_ATTR_SET: {
		Mgmt__AttrSetReq *in = (Mgmt__AttrSetReq *)mr->mr_in;

		if (in->n_attrs == 0)
			return -DER_INVAL;
		rc = mc_attr_change(n.attrs, n.n_attrs, in->attrs, in->n_attrs, NULL, 0, &nv, &nn);
		break;
	}
	default: {
		Mgmt__AttrDelReq *in = (Mgmt__AttrDelReq *)mr->mr_in;

		rc = mc_attr_change(n.attrs, n.n_attrs, NULL, 0, in->names, in->n_names, &nv, &nn);
		break;
	}
	}
	if (rc != 0)
		return rc;
	if (!(capas & SEC_CONT_CAPA_SET_PROP)) {
		D_FREE(nv);
		return -DER_NO_PERM;
	}
	n.attrs = nv;
	n.n_attrs = nn;
	rc = mc_cont_write_reply(mr, &n, &out.base);
	D_FREE(nv);
	return rc;
}

static int
mc_snap_cmp(const void *a, const void *b)
{
	uint64_t x = (*(Mgmt__Snapshot *const *)a)->epoch;
	uint64_t y = (*(Mgmt__Snapshot *const *)b)->epoch;

	return x < y ? -1 : x > y;
}

static int
mc_cont_snap(struct mc_req *mr)
{
	Mgmt__ContSnapReq *in = (Mgmt__ContSnapReq *)mr->mr_in;
	Mgmt__ContSnapResp out = MGMT__CONT_SNAP_RESP__INIT;
	Mgmt__MsCont n = *mr->mr_cont;
	Mgmt__Snapshot s = MGMT__SNAPSHOT__INIT;
	Mgmt__Snapshot **v = NULL, *sp = &s;
	uint64_t now, capas = mr->mr_chdl->capas;
	size_t i, m = 0;
	int rc;

	if (mr->mr_method == DSS_CTL_CONT_SNAP_LIST) {
		if (!(capas & SEC_CONT_CAPA_READ_DATA))
			return -DER_NO_PERM;
		out.n_snapshots = n.n_snapshots;
		out.snapshots = n.snapshots;
		dss_ctl_reply_msg(mr->mr_req, 0, &out.base);
		return 0;
	}
	if (!(capas & SEC_CONT_CAPA_WRITE_DATA))
		return -DER_NO_PERM;
	D_ALLOC_ARRAY(v, n.n_snapshots + 1);
	if (v == NULL)
		return -DER_NOMEM;
	if (mr->mr_method == DSS_CTL_CONT_SNAP_CREATE) {
		now = d_hlc_get();
		s.epoch = in->epoch != 0 ? in->epoch : now;
		s.name = in->name;
		rc = 0;
		if (in->epoch > now || strlen(in->name) > 127)
			rc = -DER_INVAL;
		for (i = 0; rc == 0 && i < n.n_snapshots; i++)
			if (n.snapshots[i]->epoch == s.epoch ||
			    (in->name[0] != '\0' && strcmp(n.snapshots[i]->name, in->name) == 0))
				rc = -DER_EXIST;
		if (rc != 0) {
			D_FREE(v);
			return rc;
		}
		if (n.n_snapshots > 0)
			memcpy(v, n.snapshots, n.n_snapshots * sizeof(*v));
		v[n.n_snapshots] = &s;
		m = n.n_snapshots + 1;
		qsort(v, m, sizeof(*v), mc_snap_cmp);
		out.n_snapshots = 1;
		out.snapshots = &sp;
	} else {
		uint64_t lo = in->epoch, hi = in->epoch_end != 0 ? in->epoch_end : in->epoch;

		if (in->name[0] == '\0' && lo == 0) {
			D_FREE(v);
			return -DER_INVAL;
		}
		for (i = 0; i < n.n_snapshots; i++) {
			Mgmt__Snapshot *o = n.snapshots[i];
			bool hit = in->name[0] != '\0' ? strcmp(o->name, in->name) == 0
						       : (o->epoch >= lo && o->epoch <= hi);

			if (!hit)
				v[m++] = o;
		}
		if (m == n.n_snapshots) {
			D_FREE(v);
			return -DER_NONEXIST;
		}
	}
	n.snapshots = v;
	n.n_snapshots = m;
	rc = mc_cont_write_reply(mr, &n, &out.base);
	D_FREE(v);
	return rc;
}

static int
mc_cont_alloc_oids(struct mc_req *mr)
{
	Mgmt__ContAllocOidsReq *in = (Mgmt__ContAllocOidsReq *)mr->mr_in;
	Mgmt__ContAllocOidsResp out = MGMT__CONT_ALLOC_OIDS_RESP__INIT;
	Mgmt__MsCont n = *mr->mr_cont;

	if (!(mr->mr_chdl->capas & SEC_CONT_CAPA_WRITE_DATA))
		return -DER_NO_PERM;
	if (in->num_oids == 0 || in->num_oids > UINT64_MAX - n.next_oid)
		return -DER_INVAL;
	out.oid = n.next_oid;
	n.next_oid += in->num_oids;
	return mc_cont_write_reply(mr, &n, &out.base);
}

/*
 * dmg: pool list-cont (160) and evict (161).
 */

static void
ms_list_cont_handler(struct dss_ctl_req *req, void *arg)
{
	struct ds_mgmt *ms = arg;
	Mgmt__ListContReq *in;
	Mgmt__MsPool *p = NULL;
	const void *body;
	size_t len;
	int rc;

	if (!ms_serving(ms, req))
		return;
	body = dss_ctl_req_body(req, &len);
	in = mgmt__list_cont_req__unpack(NULL, len, body);
	if (in == NULL) {
		dss_ctl_reply(req, -DER_INVAL, NULL, 0);
		return;
	}
	rc = ms_pool_find(ms, in->id, &p);
	if (rc == 0)
		rc = mc_list_conts(ms, req, p->uuid);
	if (rc != 0)
		ms_reply_err(ms, req, rc);
	mc_msg_free(p);
	mgmt__list_cont_req__free_unpacked(in, NULL);
}

static void
ms_evict_handler(struct dss_ctl_req *req, void *arg)
{
	struct ds_mgmt *ms = arg;
	Mgmt__PoolEvictResp out = MGMT__POOL_EVICT_RESP__INIT;
	Mgmt__PoolEvictReq *in;
	Mgmt__MsPool *p = NULL;
	struct mc_notify *mn = NULL;
	struct mc_coll co;
	struct mc_tx t = {0};
	const void *body;
	size_t len, i, j;
	int rc;

	if (!ms_serving(ms, req))
		return;
	body = dss_ctl_req_body(req, &len);
	in = mgmt__pool_evict_req__unpack(NULL, len, body);
	if (in == NULL) {
		dss_ctl_reply(req, -DER_INVAL, NULL, 0);
		return;
	}
	memset(&co, 0, sizeof(co));
	rc = ms_pool_find(ms, in->id, &p);
	if (rc == 0) {
		mn = mc_notify_new(ms, p, MGMT__TGT_HDL_OP__TGT_HDL_REMOVE, NULL, 0);
		rc = mn == NULL ? -DER_NOMEM : 0;
	}
	if (rc == 0)
		rc = mc_tx_begin(ms, &t);
	if (rc == 0)
		rc = mc_collect(ms, MS_T_POOL_HDLS, NULL, &mgmt__ms_pool_hdl__descriptor, &co);
	for (i = 0; rc == 0 && i < co.co_nr; i++) {
		Mgmt__MsPoolHdl *h = (Mgmt__MsPoolHdl *)co.co_v[i];
		bool hit = in->n_handles == 0;

		if (strcmp(h->pool, p->uuid) != 0)
			continue;
		for (j = 0; j < in->n_handles && !hit; j++)
			hit = strcmp(in->handles[j], h->uuid) == 0;
		if (!hit || (in->machine[0] != '\0' && strcmp(in->machine, h->machine) != 0))
			continue;
		rc = mc_tx_write(&t, MS_T_POOL_HDLS, h->uuid, NULL, true);
		if (rc == 0)
			rc = mc_cont_hdls_drop(&t, h->uuid, NULL, NULL, NULL, mn);
		out.count++;
	}
	mc_coll_fini(&co);
	if (rc == 0 && out.count == 0) {
		mc_tx_abort(&t); /* nothing to write */
		dss_ctl_reply_msg(req, 0, &out.base);
	} else if (rc == 0) {
		D_NOTE("pool %s: evicting %d handles\n", p->uuid, out.count);
		if (mn->mn_nr == 0) {
			mc_notify_free(mn);
			mn = NULL;
		}
		rc = mc_commit_notify(&t, req, &out.base, mn);
		mn = NULL;
	} else if (t.t_tx != NULL) {
		mc_tx_abort(&t);
	}
	mc_notify_free(mn);
	if (rc != 0)
		ms_reply_err(ms, req, rc);
	mc_msg_free(p);
	mgmt__pool_evict_req__free_unpacked(in, NULL);
}

/*
 * The table of methods and the generic handler.
 */

static const struct mc_method {
	uint32_t mm_method;
	const ProtobufCMessageDescriptor *mm_desc;
	uint32_t mm_need;
	mc_fn_t mm_fn;
} mc_methods[] = {
    {DSS_CTL_POOL_CONNECT, &mgmt__pool_connect_req__descriptor, MC_CRED, mc_pool_connect},
    {DSS_CTL_POOL_DISCONNECT, &mgmt__pool_disconnect_req__descriptor, MC_PHDL | MC_IDEM,
     mc_pool_disconnect},
    {DSS_CTL_POOL_MAP_GET, &mgmt__pool_hdl_req__descriptor, MC_PHDL, mc_pool_map_get},
    {DSS_CTL_POOL_ATTR_LIST, &mgmt__attr_list_req__descriptor, MC_PHDL, mc_pool_attr},
    {DSS_CTL_POOL_ATTR_GET, &mgmt__attr_get_req__descriptor, MC_PHDL, mc_pool_attr},
    {DSS_CTL_POOL_ATTR_SET, &mgmt__attr_set_req__descriptor, MC_PHDL, mc_pool_attr},
    {DSS_CTL_POOL_ATTR_DEL, &mgmt__attr_del_req__descriptor, MC_PHDL, mc_pool_attr},
    {DSS_CTL_POOL_HDL_QUERY, &mgmt__pool_hdl_req__descriptor, MC_PHDL, mc_pool_hdl_query},
    {DSS_CTL_POOL_HDL_LIST_CONT, &mgmt__pool_hdl_req__descriptor, MC_PHDL, mc_pool_hdl_list_cont},
    {DSS_CTL_CONT_CREATE, &mgmt__cont_create_req__descriptor, MC_CRED | MC_PHDL, mc_cont_create},
    {DSS_CTL_CONT_DESTROY, &mgmt__cont_destroy_req__descriptor, MC_CRED | MC_PHDL | MC_CONT,
     mc_cont_destroy},
    {DSS_CTL_CONT_OPEN, &mgmt__cont_open_req__descriptor, MC_CRED | MC_PHDL | MC_CONT,
     mc_cont_open},
    {DSS_CTL_CONT_CLOSE, &mgmt__cont_close_req__descriptor, MC_PHDL, mc_cont_close},
    {DSS_CTL_CONT_QUERY, &mgmt__cont_query_req__descriptor, MC_PHDL | MC_CHDL, mc_cont_query},
    {DSS_CTL_CONT_GET_PROP, &mgmt__cont_query_req__descriptor, MC_PHDL | MC_CHDL, mc_cont_query},
    {DSS_CTL_CONT_SET_PROP, &mgmt__cont_set_prop_req__descriptor, MC_PHDL | MC_CHDL,
     mc_cont_set_prop},
    {DSS_CTL_CONT_SNAP_CREATE, &mgmt__cont_snap_req__descriptor, MC_PHDL | MC_CHDL, mc_cont_snap},
    {DSS_CTL_CONT_SNAP_LIST, &mgmt__cont_snap_req__descriptor, MC_PHDL | MC_CHDL, mc_cont_snap},
    {DSS_CTL_CONT_SNAP_DESTROY, &mgmt__cont_snap_req__descriptor, MC_PHDL | MC_CHDL, mc_cont_snap},
    {DSS_CTL_CONT_ATTR_LIST, &mgmt__attr_list_req__descriptor, MC_PHDL | MC_CHDL, mc_cont_attr},
    {DSS_CTL_CONT_ATTR_GET, &mgmt__attr_get_req__descriptor, MC_PHDL | MC_CHDL, mc_cont_attr},
    {DSS_CTL_CONT_ATTR_SET, &mgmt__attr_set_req__descriptor, MC_PHDL | MC_CHDL, mc_cont_attr},
    {DSS_CTL_CONT_ATTR_DEL, &mgmt__attr_del_req__descriptor, MC_PHDL | MC_CHDL, mc_cont_attr},
    {DSS_CTL_CONT_UPDATE_ACL, &mgmt__cont_acl_req__descriptor, MC_PHDL | MC_CHDL, mc_cont_acl},
    {DSS_CTL_CONT_OVERWRITE_ACL, &mgmt__cont_acl_req__descriptor, MC_PHDL | MC_CHDL, mc_cont_acl},
    {DSS_CTL_CONT_DELETE_ACL, &mgmt__cont_acl_req__descriptor, MC_PHDL | MC_CHDL, mc_cont_acl},
    {DSS_CTL_CONT_ALLOC_OIDS, &mgmt__cont_alloc_oids_req__descriptor, MC_PHDL | MC_CHDL,
     mc_cont_alloc_oids},
};

#define MC_HDR_FIRST(type)                                                                         \
	_Static_assert(offsetof(type, hdr) == offsetof(struct mc_any, hdr), #type)
MC_HDR_FIRST(Mgmt__PoolConnectReq);
MC_HDR_FIRST(Mgmt__PoolDisconnectReq);
MC_HDR_FIRST(Mgmt__PoolHdlReq);
MC_HDR_FIRST(Mgmt__AttrListReq);
MC_HDR_FIRST(Mgmt__AttrGetReq);
MC_HDR_FIRST(Mgmt__AttrSetReq);
MC_HDR_FIRST(Mgmt__AttrDelReq);
MC_HDR_FIRST(Mgmt__ContCreateReq);
MC_HDR_FIRST(Mgmt__ContDestroyReq);
MC_HDR_FIRST(Mgmt__ContOpenReq);
MC_HDR_FIRST(Mgmt__ContCloseReq);
MC_HDR_FIRST(Mgmt__ContQueryReq);
MC_HDR_FIRST(Mgmt__ContSetPropReq);
MC_HDR_FIRST(Mgmt__ContAclReq);
MC_HDR_FIRST(Mgmt__ContSnapReq);
MC_HDR_FIRST(Mgmt__ContAllocOidsReq);

static void
mc_handler(struct dss_ctl_req *req, void *arg)
{
	struct ds_mgmt *ms = arg;
	uint32_t method = dss_ctl_req_method(req);
	const struct mc_method *mm = NULL;
	struct mc_req *mr;
	const void *body;
	size_t len, i;
	int rc;

	if (!ms_serving(ms, req))
		return;
	for (i = 0; i < D_ARRAY_SIZE(mc_methods) && mm == NULL; i++)
		if (mc_methods[i].mm_method == method)
			mm = &mc_methods[i];
	if (mm == NULL) {
		dss_ctl_reply(req, -DER_UNREG, NULL, 0);
		return;
	}
	D_ALLOC_PTR(mr);
	if (mr == NULL) {
		dss_ctl_reply(req, -DER_NOMEM, NULL, 0);
		return;
	}
	mr->mr_ms = ms;
	mr->mr_req = req;
	mr->mr_method = method;
	body = dss_ctl_req_body(req, &len);
	mr->mr_in = protobuf_c_message_unpack(mm->mm_desc, NULL, len, body);
	if (mr->mr_in == NULL) {
		rc = -DER_INVAL;
		goto out;
	}
	mr->mr_hdr = ((struct mc_any *)mr->mr_in)->hdr;
	rc = mc_req_check(mr, mm->mm_need);
	if (rc == 0)
		rc = mm->mm_fn(mr);
	if (rc == MC_KEEP)
		return;
	if (rc == MC_QUEUED)
		rc = 0;
out:
	if (rc != 0) {
		D_DEBUG("method %u: " DF_RC "\n", method, DP_RC(rc));
		ms_rl_unlock(ms, req);
		ms_reply_err(ms, req, rc);
	}
	mc_req_free(mr);
}

int
ms_cont_register(struct ds_mgmt *ms)
{
	size_t i;
	int rc;

	for (i = 0; i < D_ARRAY_SIZE(mc_methods); i++) {
		rc = dss_ctl_register(ms->ms_ctl, mc_methods[i].mm_method, mc_handler, ms);
		if (rc != 0)
			return rc;
	}
	rc = dss_ctl_register(ms->ms_ctl, DSS_CTL_POOL_LIST_CONT, ms_list_cont_handler, ms);
	if (rc == 0)
		rc = dss_ctl_register(ms->ms_ctl, DSS_CTL_POOL_EVICT, ms_evict_handler, ms);
	return rc;
}

void
ms_cont_unregister(struct ds_mgmt *ms)
{
	size_t i;

	for (i = 0; i < D_ARRAY_SIZE(mc_methods); i++)
		dss_ctl_unregister(ms->ms_ctl, mc_methods[i].mm_method);
	dss_ctl_unregister(ms->ms_ctl, DSS_CTL_POOL_LIST_CONT);
	dss_ctl_unregister(ms->ms_ctl, DSS_CTL_POOL_EVICT);
}
