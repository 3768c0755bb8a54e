/*
 * container.c: the container API of libdaos (daos_cont.h) over the management service.
 *
 * Every call builds a cont.proto request whose ClientHeader names the pool handle, the
 * container (label or uuid string) and, for an open container, its service handle, with a
 * fresh credential from daos_agent; dc_svc_call relays it through an engine to the service
 * leader. Container handle uuids are made here (as in DAOS) so that a retried open is the
 * same open. Calls are asynchronous: the request is packed and sent, the call returns, and
 * the reply's callback (struct cont_op) fills the out-parameters and completes the event;
 * without an event the call waits on a private one. Errors found before sending complete
 * the event at once (cont_ev_finish).
 */
#define D_LOGFAC client

#include <stdlib.h>
#include <string.h>

#include <daos.h>
#include <daos/client.h>
#include <daos/event.h>
#include <daos/prop.h>
#include <daos/security.h>
#include <daos/svc_rpc.h>
#include <daos_srv/ctl.h>
#include <gurt/common.h>

#include "client_internal.h"
#include "cont_internal.h"

/* The strings a ClientHeader points to. */
struct cont_hdr {
	Mgmt__ClientHeader ch_hdr;
	char ch_pool[DAOS_UUID_STR_SIZE];
	char ch_pool_hdl[DAOS_UUID_STR_SIZE];
	char ch_cont_hdl[DAOS_UUID_STR_SIZE];
	char ch_cont[DAOS_PROP_MAX_LABEL_BUF_LEN];
	d_iov_t ch_cred;
};

/* Fill @h for @pool, container @cont (label or uuid string, NULL: none) and container
 * handle @hdl (NULL: none), with a credential from the agent. */
static int
cont_hdr_init(struct cont_hdr *h, struct dc_pool *pool, const char *cont, const uuid_t hdl)
{
	int rc;

	memset(h, 0, sizeof(*h));
	mgmt__client_header__init(&h->ch_hdr);
	if (cont != NULL && strlen(cont) >= sizeof(h->ch_cont))
		return -DER_INVAL;
	uuid_unparse_lower(pool->dp_uuid, h->ch_pool);
	uuid_unparse_lower(pool->dp_hdl, h->ch_pool_hdl);
	h->ch_hdr.pool = h->ch_pool;
	h->ch_hdr.pool_hdl = h->ch_pool_hdl;
	if (cont != NULL) {
		strcpy(h->ch_cont, cont);
		h->ch_hdr.cont = h->ch_cont;
	}
	if (hdl != NULL) {
		uuid_unparse_lower(hdl, h->ch_cont_hdl);
		h->ch_hdr.cont_hdl = h->ch_cont_hdl;
	}
	rc = dc_sec_request_creds(&h->ch_cred);
	if (rc != 0) {
		D_ERROR("no credential from the agent: " DF_RC "\n", DP_RC(rc));
		return rc;
	}
	h->ch_hdr.cred.data = h->ch_cred.iov_buf;
	h->ch_hdr.cred.len = h->ch_cred.iov_len;
	return 0;
}

static void
cont_hdr_fini(struct cont_hdr *h)
{
	D_FREE(h->ch_cred.iov_buf);
}

/* A header for open container @cont (its uuid, its handle). */
static int
cont_hdr_init_open(struct cont_hdr *h, struct dc_cont *cont)
{
	char uuid[DAOS_UUID_STR_SIZE];

	uuid_unparse_lower(cont->dc_uuid, uuid);
	return cont_hdr_init(h, cont->dc_pool, uuid, cont->dc_hdl);
}

/*
 * A call in flight: the references it holds, the application's out-parameters, and what
 * to do with the answer (co_done, called with the outcome and, on success, the answer; it
 * returns the event's result, or DC_SVC_MORE when it started a follow-up on the event and
 * keeps the op).
 */
struct cont_op;
typedef int (*cont_done_t)(struct cont_op *op, int rc, ProtobufCMessage *resp, daos_event_t *ev);

struct cont_op {
	struct dc_pool *co_pool; /* referenced, or NULL */
	struct dc_cont *co_cont; /* referenced, or NULL */
	cont_done_t co_done;
	void *co_p[3];
	int co_n;
	daos_handle_t co_poh;
	uuid_t co_hdl;
	unsigned int co_flags;
	daos_prop_t *co_prop; /* owned (freed with the op) */
	int co_rc;
};

static void
cont_op_free(struct cont_op *op)
{
	if (op->co_cont != NULL)
		dc_cont_put(op->co_cont);
	if (op->co_pool != NULL)
		dc_pool_put(op->co_pool);
	daos_prop_free(op->co_prop);
	D_FREE(op);
}

static int
cont_op_cb(void *arg, int rc, ProtobufCMessage **resp, daos_event_t *ev)
{
	struct cont_op *op = arg;

	/* ev NULL: the event never launched, nothing to report into */
	if (op->co_done != NULL && ev != NULL)
		rc = op->co_done(op, rc, rc == 0 ? *resp : NULL, ev);
	if (rc != DC_SVC_MORE)
		cont_op_free(op);
	return rc;
}

/* A new op holding @pool and @cont (references the op takes; either may be NULL). */
static struct cont_op *
cont_op_new(struct dc_pool *pool, struct dc_cont *cont, cont_done_t done)
{
	struct cont_op *op;

	D_ALLOC_PTR(op);
	if (op == NULL) {
		if (cont != NULL)
			dc_cont_put(cont);
		if (pool != NULL)
			dc_pool_put(pool);
		return NULL;
	}
	op->co_pool = pool;
	op->co_cont = cont;
	op->co_done = done;
	return op;
}

/* Send @req for @op on @ev (NULL: block) to the service of its pool or container's pool. */
static int
cont_op_call(daos_event_t *ev, struct cont_op *op, uint32_t method, const ProtobufCMessage *req,
	     const ProtobufCMessageDescriptor *desc)
{
	struct dc_pool *pool = op->co_pool != NULL ? op->co_pool : op->co_cont->dc_pool;

	return dc_svc_call_ev(ev, pool, method, req, desc, cont_op_cb, op);
}

/* The op is not sent after all (@rc): free it and report @rc on @ev. */
static int
cont_op_fail(daos_event_t *ev, struct cont_op *op, int rc)
{
	cont_op_free(op);
	return dc_ev_done(ev, rc);
}

/* An op on open container @coh with a header for it in @h. */
static int
cont_op_open_hdl(daos_handle_t coh, cont_done_t done, struct cont_hdr *h, struct cont_op **opp)
{
	struct dc_cont *cont;
	int rc;

	*opp = NULL;
	cont = dc_cont_get(coh);
	if (cont == NULL)
		return -DER_NO_HDL;
	*opp = cont_op_new(NULL, cont, done);
	if (*opp == NULL)
		return -DER_NOMEM;
	rc = cont_hdr_init_open(h, cont);
	if (rc != 0) {
		cont_op_free(*opp);
		*opp = NULL;
	}
	return rc;
}

static int
cont_info_from_pb(const Mgmt__ContInfo *pb, daos_cont_info_t *info)
{
	if (pb == NULL)
		return -DER_PROTO;
	memset(info, 0, sizeof(*info));
	if (uuid_parse(pb->uuid, info->ci_uuid) != 0)
		return -DER_PROTO;
	info->ci_lsnapshot = pb->lsnapshot;
	info->ci_nsnapshots = pb->nsnapshots;
	info->ci_nhandles = pb->nhandles;
	info->ci_md_otime = pb->md_otime;
	info->ci_md_mtime = pb->md_mtime;
	return 0;
}

/* create */

static int
cont_create_done(struct cont_op *op, int rc, ProtobufCMessage *resp, daos_event_t *ev)
{
	Mgmt__ContCreateResp *r = (Mgmt__ContCreateResp *)resp;
	uuid_t *uuid = op->co_p[0];

	(void)ev;
	if (rc != 0)
		return rc;
	if (r->uuid[0] != '\0' && uuid_parse(r->uuid, op->co_hdl) != 0)
		return -DER_PROTO;
	if (uuid != NULL)
		uuid_copy(*uuid, op->co_hdl);
	return 0;
}

static int
cont_create(daos_handle_t poh, uuid_t *uuid, const daos_prop_t *prop, daos_event_t *ev)
{
	Mgmt__ContCreateReq req = MGMT__CONT_CREATE_REQ__INIT;
	struct cont_op *op;
	struct cont_hdr h;
	struct dc_pool *pool;
	char ustr[DAOS_UUID_STR_SIZE];
	int rc;

	pool = dc_pool_get(poh);
	if (pool == NULL)
		return dc_ev_done(ev, -DER_NO_HDL);
	op = cont_op_new(pool, NULL, cont_create_done);
	if (op == NULL)
		return dc_ev_done(ev, -DER_NOMEM);
	op->co_p[0] = uuid;
	/* co_hdl: the uuid asked for (the service's answer replaces it) */
	uuid_generate(op->co_hdl);
	uuid_unparse_lower(op->co_hdl, ustr);
	rc = cont_hdr_init(&h, pool, ustr, NULL);
	if (rc != 0)
		return cont_op_fail(ev, op, rc);
	req.hdr = &h.ch_hdr;
	rc = dc_cont_prop2pb(prop, false, &req.properties, &req.n_properties);
	if (rc != 0) {
		cont_hdr_fini(&h);
		return cont_op_fail(ev, op, rc);
	}
	rc = cont_op_call(ev, op, DSS_CTL_CONT_CREATE, &req.base,
			  &mgmt__cont_create_resp__descriptor);
	dc_cont_prop_pb_free(req.properties, req.n_properties);
	cont_hdr_fini(&h);
	return rc;
}

int
daos_cont_create2(daos_handle_t poh, uuid_t *uuid, daos_prop_t *cont_prop, daos_event_t *ev)
{
	struct daos_prop_entry *label = NULL;

	if (cont_prop != NULL)
		label = daos_prop_entry_get(cont_prop, DAOS_PROP_CO_LABEL);
	if (label != NULL && !daos_label_is_valid(label->dpe_str))
		return dc_ev_done(ev, -DER_INVAL);
	return cont_create(poh, uuid, cont_prop, ev);
}

int
daos_cont_create_with_label(daos_handle_t poh, const char *label, daos_prop_t *cont_prop,
			    uuid_t *uuid, daos_event_t *ev)
{
	daos_prop_t *lprop;
	daos_prop_t *merged;
	int rc;

	if (!daos_label_is_valid(label))
		return dc_ev_done(ev, -DER_INVAL);
	lprop = daos_prop_alloc(1);
	if (lprop == NULL)
		return dc_ev_done(ev, -DER_NOMEM);
	lprop->dpp_entries[0].dpe_type = DAOS_PROP_CO_LABEL;
	rc = daos_prop_entry_set_str(&lprop->dpp_entries[0], label, strlen(label));
	if (rc == 0 && cont_prop != NULL) {
		rc = daos_prop_merge2(cont_prop, lprop, &merged);
		if (rc == 0) {
			daos_prop_free(lprop);
			lprop = merged;
		}
	}
	if (rc == 0)
		rc = cont_create(poh, uuid, lprop, ev); /* packed before it returns */
	else
		rc = dc_ev_done(ev, rc);
	daos_prop_free(lprop);
	return rc;
}

/* destroy */

int
daos_cont_destroy2(daos_handle_t poh, const char *cont, int force, daos_event_t *ev)
{
	Mgmt__ContDestroyReq req = MGMT__CONT_DESTROY_REQ__INIT;
	struct cont_op *op;
	struct cont_hdr h;
	struct dc_pool *pool;
	int rc;

	if (cont == NULL || cont[0] == '\0')
		return dc_ev_done(ev, -DER_INVAL);
	pool = dc_pool_get(poh);
	if (pool == NULL)
		return dc_ev_done(ev, -DER_NO_HDL);
	op = cont_op_new(pool, NULL, NULL);
	if (op == NULL)
		return dc_ev_done(ev, -DER_NOMEM);
	rc = cont_hdr_init(&h, pool, cont, NULL);
	if (rc != 0)
		return cont_op_fail(ev, op, rc);
	req.hdr = &h.ch_hdr;
	req.force = force != 0;
	rc = cont_op_call(ev, op, DSS_CTL_CONT_DESTROY, &req.base,
			  &mgmt__cont_destroy_resp__descriptor);
	cont_hdr_fini(&h);
	return rc;
}

/* open, close */

static uint32_t
props_rf(Mgmt__ContProperty *const *props, size_t nr)
{
	size_t i;

	for (i = 0; i < nr; i++)
		if (props[i]->number == DAOS_PROP_CO_REDUN_FAC)
			return (uint32_t)props[i]->numval;
	return 0;
}

/* The close after an open whose handle could not be built: report the open's error. */
static int
cont_open_undone(struct cont_op *op, int rc, ProtobufCMessage *resp, daos_event_t *ev)
{
	(void)resp, (void)ev;
	if (rc != 0)
		D_DEBUG("close after a failed open: " DF_RC "\n", DP_RC(rc));
	return op->co_rc;
}

static int
cont_open_done(struct cont_op *op, int rc, ProtobufCMessage *resp, daos_event_t *ev)
{
	Mgmt__ContOpenResp *r = (Mgmt__ContOpenResp *)resp;
	Mgmt__ContCloseReq creq = MGMT__CONT_CLOSE_REQ__INIT;
	daos_cont_info_t *info = op->co_p[1];
	daos_cont_info_t ci;
	struct cont_hdr h;

	if (rc != 0)
		return rc;
	rc = cont_info_from_pb(r->info, &ci);
	if (rc == 0)
		rc = dc_cont_hdl_create(op->co_poh, ci.ci_uuid, op->co_hdl, op->co_flags,
					props_rf(r->properties, r->n_properties), r->capas,
					op->co_p[0]);
	if (rc == 0) {
		if (info != NULL)
			*info = ci;
		return 0;
	}
	/* the service holds a handle we could not build: give it back, then report */
	op->co_rc = rc;
	if (cont_hdr_init(&h, op->co_pool, r->info != NULL ? r->info->uuid : NULL, op->co_hdl) != 0)
		return rc;
	creq.hdr = &h.ch_hdr;
	op->co_done = cont_open_undone;
	/* always ends in cont_op_cb, which completes @ev with co_rc */
	dc_svc_send(ev, op->co_pool, DSS_CTL_CONT_CLOSE, &creq.base,
		    &mgmt__cont_close_resp__descriptor, cont_op_cb, op);
	cont_hdr_fini(&h);
	return DC_SVC_MORE;
}

int
daos_cont_open2(daos_handle_t poh, const char *cont, unsigned int flags, daos_handle_t *coh,
		daos_cont_info_t *info, daos_event_t *ev)
{
	Mgmt__ContOpenReq req = MGMT__CONT_OPEN_REQ__INIT;
	struct cont_op *op;
	struct cont_hdr h;
	struct dc_pool *pool;
	unsigned int mode = flags & DAOS_COO_IO_BASE_MASK;
	int rc;

	if (cont == NULL || cont[0] == '\0' || coh == NULL ||
	    (mode != DAOS_COO_RO && mode != DAOS_COO_RW && mode != DAOS_COO_EX) ||
	    (flags & ~DAOS_COO_MASK) != 0)
		return dc_ev_done(ev, -DER_INVAL);
	pool = dc_pool_get(poh);
	if (pool == NULL)
		return dc_ev_done(ev, -DER_NO_HDL);
	op = cont_op_new(pool, NULL, cont_open_done);
	if (op == NULL)
		return dc_ev_done(ev, -DER_NOMEM);
	op->co_p[0] = coh;
	op->co_p[1] = info;
	op->co_poh = poh;
	op->co_flags = flags;
	uuid_generate(op->co_hdl);
	rc = cont_hdr_init(&h, pool, cont, op->co_hdl);
	if (rc != 0)
		return cont_op_fail(ev, op, rc);
	req.hdr = &h.ch_hdr;
	req.flags = flags;
	rc = cont_op_call(ev, op, DSS_CTL_CONT_OPEN, &req.base, &mgmt__cont_open_resp__descriptor);
	cont_hdr_fini(&h);
	return rc;
}

static int
cont_close_done(struct cont_op *op, int rc, ProtobufCMessage *resp, daos_event_t *ev)
{
	(void)resp, (void)ev;
	/* a handle the service already forgot (evicted, pool disconnected) */
	if (rc == -DER_NO_HDL || rc == -DER_NONEXIST)
		rc = 0;
	if (rc == 0)
		dc_cont_hdl_delete(op->co_cont);
	return rc;
}

int
daos_cont_close(daos_handle_t coh, daos_event_t *ev)
{
	Mgmt__ContCloseReq req = MGMT__CONT_CLOSE_REQ__INIT;
	struct cont_op *op;
	struct cont_hdr h;
	struct dc_cont *cont;
	int rc;

	cont = dc_cont_get(coh);
	if (cont == NULL)
		return dc_ev_done(ev, -DER_NO_HDL);
	if (cont->dc_local || cont->dc_g2l) {
		dc_cont_hdl_delete(cont);
		dc_cont_put(cont);
		return dc_ev_done(ev, 0);
	}
	op = cont_op_new(NULL, cont, cont_close_done);
	if (op == NULL)
		return dc_ev_done(ev, -DER_NOMEM);
	rc = cont_hdr_init_open(&h, cont);
	if (rc != 0)
		return cont_op_fail(ev, op, rc);
	req.hdr = &h.ch_hdr;
	rc =
	    cont_op_call(ev, op, DSS_CTL_CONT_CLOSE, &req.base, &mgmt__cont_close_resp__descriptor);
	cont_hdr_fini(&h);
	return rc;
}

/* query, properties */

/* co_p[0]: the info (or NULL), co_p[1]: the application's properties (or NULL). */
static int
cont_query_done(struct cont_op *op, int rc, ProtobufCMessage *resp, daos_event_t *ev)
{
	Mgmt__ContQueryResp *r = (Mgmt__ContQueryResp *)resp;
	daos_cont_info_t *info = op->co_p[0];
	daos_prop_t *prop = op->co_p[1];
	daos_prop_t *reply = NULL;

	(void)ev;
	if (rc != 0)
		return rc;
	if (info != NULL)
		rc = cont_info_from_pb(r->info, info);
	if (rc == 0 && prop != NULL) {
		rc = dc_cont_pb2prop(r->properties, r->n_properties, &reply);
		if (rc == 0)
			rc = daos_prop_copy(prop, reply);
		daos_prop_free(reply);
	}
	if (rc == 0 && op->co_p[2] != NULL) {
		/* get_acl: hand out the list the op filled */
		*(daos_prop_t **)op->co_p[2] = op->co_prop;
		op->co_prop = NULL;
	}
	return rc;
}

/* Query on @op (holding an open container, header @h) into its co_p[0] and co_p[1]. */
static int
cont_query(daos_event_t *ev, struct cont_op *op, struct cont_hdr *h, uint32_t method)
{
	Mgmt__ContQueryReq req = MGMT__CONT_QUERY_REQ__INIT;
	int rc;

	req.hdr = &h->ch_hdr;
	if (op->co_p[1] != NULL) {
		rc = dc_cont_prop2pb(op->co_p[1], true, &req.properties, &req.n_properties);
		if (rc != 0) {
			cont_hdr_fini(h);
			return cont_op_fail(ev, op, rc);
		}
	}
	rc = cont_op_call(ev, op, method, &req.base, &mgmt__cont_query_resp__descriptor);
	dc_cont_prop_pb_free(req.properties, req.n_properties);
	cont_hdr_fini(h);
	return rc;
}

int
daos_cont_query(daos_handle_t coh, daos_cont_info_t *info, daos_prop_t *cont_prop, daos_event_t *ev)
{
	struct cont_op *op;
	struct cont_hdr h;
	int rc;

	rc = cont_op_open_hdl(coh, cont_query_done, &h, &op);
	if (rc != 0)
		return dc_ev_done(ev, rc);
	op->co_p[0] = info;
	op->co_p[1] = cont_prop;
	/* GET_PROP answers the info too; QUERY sends properties only when some are named */
	return cont_query(ev, op, &h,
			  cont_prop != NULL ? DSS_CTL_CONT_GET_PROP : DSS_CTL_CONT_QUERY);
}

int
daos_cont_get_acl(daos_handle_t coh, daos_prop_t **acl_prop, daos_event_t *ev)
{
	static const uint32_t types[] = {DAOS_PROP_CO_ACL, DAOS_PROP_CO_OWNER,
					 DAOS_PROP_CO_OWNER_GROUP};
	struct cont_op *op;
	struct cont_hdr h;
	uint32_t i;
	int rc;

	if (acl_prop == NULL)
		return dc_ev_done(ev, -DER_INVAL);
	rc = cont_op_open_hdl(coh, cont_query_done, &h, &op);
	if (rc != 0)
		return dc_ev_done(ev, rc);
	op->co_prop = daos_prop_alloc(3);
	if (op->co_prop == NULL) {
		cont_hdr_fini(&h);
		return cont_op_fail(ev, op, -DER_NOMEM);
	}
	for (i = 0; i < 3; i++)
		op->co_prop->dpp_entries[i].dpe_type = types[i];
	op->co_p[1] = op->co_prop;
	op->co_p[2] = acl_prop;
	return cont_query(ev, op, &h, DSS_CTL_CONT_GET_PROP);
}

/* Set @prop (packed before this returns) on the container of @coh. */
static int
cont_set_prop(daos_handle_t coh, const daos_prop_t *prop, daos_event_t *ev)
{
	Mgmt__ContSetPropReq req = MGMT__CONT_SET_PROP_REQ__INIT;
	struct cont_op *op;
	struct cont_hdr h;
	int rc;

	if (prop == NULL || prop->dpp_nr == 0)
		return dc_ev_done(ev, -DER_INVAL);
	rc = cont_op_open_hdl(coh, NULL, &h, &op);
	if (rc != 0)
		return dc_ev_done(ev, rc);
	req.hdr = &h.ch_hdr;
	rc = dc_cont_prop2pb(prop, false, &req.properties, &req.n_properties);
	if (rc != 0) {
		cont_hdr_fini(&h);
		return cont_op_fail(ev, op, rc);
	}
	rc = cont_op_call(ev, op, DSS_CTL_CONT_SET_PROP, &req.base,
			  &mgmt__cont_set_prop_resp__descriptor);
	dc_cont_prop_pb_free(req.properties, req.n_properties);
	cont_hdr_fini(&h);
	return rc;
}

int
daos_cont_set_prop(daos_handle_t coh, daos_prop_t *prop, daos_event_t *ev)
{
	struct daos_prop_entry *label = NULL;

	if (prop != NULL)
		label = daos_prop_entry_get(prop, DAOS_PROP_CO_LABEL);
	if (label != NULL && !daos_label_is_valid(label->dpe_str))
		return dc_ev_done(ev, -DER_INVAL);
	return cont_set_prop(coh, prop, ev);
}

int
daos_cont_status_clear(daos_handle_t coh, daos_event_t *ev)
{
	daos_prop_t *prop;
	int rc;

	prop = daos_prop_alloc(1);
	if (prop == NULL)
		return dc_ev_done(ev, -DER_NOMEM);
	prop->dpp_entries[0].dpe_type = DAOS_PROP_CO_STATUS;
	prop->dpp_entries[0].dpe_val =
	    DAOS_PROP_CO_STATUS_VAL(DAOS_PROP_CO_HEALTHY, DAOS_PROP_CO_CLEAR, 0);
	rc = daos_cont_set_prop(coh, prop, ev);
	daos_prop_free(prop);
	return rc;
}

/* ACL and owner */

static int
cont_acl_call(daos_handle_t coh, uint32_t method, struct daos_acl *acl, const char *principal,
	      daos_event_t *ev)
{
	Mgmt__ContAclReq req = MGMT__CONT_ACL_REQ__INIT;
	struct cont_op *op;
	struct cont_hdr h;
	size_t nr = 0;
	size_t i;
	int rc;

	if (acl != NULL) {
		rc = daos_acl_cont_validate(acl);
		if (rc != 0)
			return dc_ev_done(ev, rc);
	}
	rc = cont_op_open_hdl(coh, NULL, &h, &op);
	if (rc != 0)
		return dc_ev_done(ev, rc);
	if (acl != NULL) {
		rc = daos_acl_to_strs(acl, &req.acl, &nr);
		if (rc != 0) {
			cont_hdr_fini(&h);
			return cont_op_fail(ev, op, rc);
		}
		req.n_acl = nr;
	}
	if (principal != NULL)
		req.principal = (char *)principal;
	req.hdr = &h.ch_hdr;
	rc = cont_op_call(ev, op, method, &req.base, &mgmt__cont_acl_resp__descriptor);
	cont_hdr_fini(&h);
	for (i = 0; i < nr; i++)
		D_FREE(req.acl[i]);
	D_FREE(req.acl);
	return rc;
}

int
daos_cont_overwrite_acl(daos_handle_t coh, struct daos_acl *acl, daos_event_t *ev)
{
	if (acl == NULL)
		return dc_ev_done(ev, -DER_INVAL);
	return cont_acl_call(coh, DSS_CTL_CONT_OVERWRITE_ACL, acl, NULL, ev);
}

int
daos_cont_update_acl(daos_handle_t coh, struct daos_acl *acl, daos_event_t *ev)
{
	if (acl == NULL)
		return dc_ev_done(ev, -DER_INVAL);
	return cont_acl_call(coh, DSS_CTL_CONT_UPDATE_ACL, acl, NULL, ev);
}

/* "OWNER@", "GROUP@", "EVERYONE@", "u:name@", "g:name@": what ContAclReq.principal takes. */
static int
acl_principal_str(enum daos_acl_principal_type type, const char *name, char *buf, size_t len)
{
	int n;

	switch (type) {
	case DAOS_ACL_OWNER:
		n = snprintf(buf, len, "OWNER@");
		break;
	case DAOS_ACL_OWNER_GROUP:
		n = snprintf(buf, len, "GROUP@");
		break;
	case DAOS_ACL_EVERYONE:
		n = snprintf(buf, len, "EVERYONE@");
		break;
	case DAOS_ACL_USER:
	case DAOS_ACL_GROUP:
		if (name == NULL || !daos_acl_principal_is_valid(name))
			return -DER_INVAL;
		n = snprintf(buf, len, "%s:%s", type == DAOS_ACL_USER ? "u" : "g", name);
		break;
	default:
		return -DER_INVAL;
	}
	return n < 0 || (size_t)n >= len ? -DER_INVAL : 0;
}

int
daos_cont_delete_acl(daos_handle_t coh, enum daos_acl_principal_type type, d_string_t name,
		     daos_event_t *ev)
{
	char principal[DAOS_ACL_MAX_PRINCIPAL_BUF_LEN + 8];
	int rc;

	rc = acl_principal_str(type, name, principal, sizeof(principal));
	if (rc != 0)
		return dc_ev_done(ev, rc);
	return cont_acl_call(coh, DSS_CTL_CONT_DELETE_ACL, NULL, principal, ev);
}

static int
cont_set_owner(daos_handle_t coh, d_string_t user, d_string_t group, bool check, daos_event_t *ev)
{
	daos_prop_t *prop;
	uint32_t n = 0;
	int rc = 0;

	if (user == NULL && group == NULL)
		return dc_ev_done(ev, -DER_INVAL);
	if (check) {
		uid_t uid;
		gid_t gid;

		if (user != NULL && daos_acl_principal_to_uid(user, &uid) != 0)
			return dc_ev_done(ev, -DER_NONEXIST);
		if (group != NULL && daos_acl_principal_to_gid(group, &gid) != 0)
			return dc_ev_done(ev, -DER_NONEXIST);
	}
	if ((user != NULL && !daos_acl_principal_is_valid(user)) ||
	    (group != NULL && !daos_acl_principal_is_valid(group)))
		return dc_ev_done(ev, -DER_INVAL);
	prop = daos_prop_alloc((user != NULL) + (group != NULL));
	if (prop == NULL)
		return dc_ev_done(ev, -DER_NOMEM);
	if (user != NULL) {
		prop->dpp_entries[n].dpe_type = DAOS_PROP_CO_OWNER;
		rc = daos_prop_entry_set_str(&prop->dpp_entries[n++], user, strlen(user));
	}
	if (rc == 0 && group != NULL) {
		prop->dpp_entries[n].dpe_type = DAOS_PROP_CO_OWNER_GROUP;
		rc = daos_prop_entry_set_str(&prop->dpp_entries[n++], group, strlen(group));
	}
	if (rc == 0)
		rc = cont_set_prop(coh, prop, ev); /* packed before it returns */
	else
		rc = dc_ev_done(ev, rc);
	daos_prop_free(prop);
	return rc;
}

int
daos_cont_set_owner(daos_handle_t coh, d_string_t user, d_string_t group, daos_event_t *ev)
{
	return cont_set_owner(coh, user, group, true, ev);
}

int
daos_cont_set_owner_no_check(daos_handle_t coh, d_string_t user, d_string_t group, daos_event_t *ev)
{
	return cont_set_owner(coh, user, group, false, ev);
}

/* attributes */

/* co_p[0]: the buffer, co_p[1]: its size. */
static int
cont_list_attr_done(struct cont_op *op, int rc, ProtobufCMessage *resp, daos_event_t *ev)
{
	Mgmt__AttrListResp *r = (Mgmt__AttrListResp *)resp;
	char *buffer = op->co_p[0];
	size_t *size = op->co_p[1];
	size_t total = 0;
	size_t used = 0;
	size_t i;

	(void)ev;
	if (rc != 0)
		return rc;
	for (i = 0; i < r->n_names; i++) {
		size_t len = strlen(r->names[i]);

		total += len;
		if (buffer != NULL && used + len + 1 <= *size) {
			memcpy(buffer + used, r->names[i], len + 1);
			used += len + 1;
		}
	}
	*size = total;
	return 0;
}

int
daos_cont_list_attr(daos_handle_t coh, char *buffer, size_t *size, daos_event_t *ev)
{
	Mgmt__AttrListReq req = MGMT__ATTR_LIST_REQ__INIT;
	struct cont_op *op;
	struct cont_hdr h;
	int rc;

	if (size == NULL)
		return dc_ev_done(ev, -DER_INVAL);
	rc = cont_op_open_hdl(coh, cont_list_attr_done, &h, &op);
	if (rc != 0)
		return dc_ev_done(ev, rc);
	op->co_p[0] = buffer;
	op->co_p[1] = size;
	req.hdr = &h.ch_hdr;
	rc = cont_op_call(ev, op, DSS_CTL_CONT_ATTR_LIST, &req.base,
			  &mgmt__attr_list_resp__descriptor);
	cont_hdr_fini(&h);
	return rc;
}

static bool
attr_names_valid(int n, char const *const names[])
{
	int i;

	if (n <= 0 || names == NULL)
		return false;
	for (i = 0; i < n; i++)
		if (names[i] == NULL || names[i][0] == '\0' ||
		    strnlen(names[i], DAOS_ATTR_NAME_MAX + 1) > DAOS_ATTR_NAME_MAX)
			return false;
	return true;
}

/* co_p[0]: the buffers, co_p[1]: the sizes, co_n: how many. */
static int
cont_get_attr_done(struct cont_op *op, int rc, ProtobufCMessage *resp, daos_event_t *ev)
{
	Mgmt__AttrGetResp *r = (Mgmt__AttrGetResp *)resp;
	void *const *buffers = op->co_p[0];
	size_t *sizes = op->co_p[1];
	int i;

	(void)ev;
	if (rc != 0)
		return rc;
	if (r->n_attrs != (size_t)op->co_n)
		return -DER_PROTO;
	for (i = 0; i < op->co_n; i++) {
		size_t len = r->attrs[i]->value.len;

		if (buffers != NULL && buffers[i] != NULL)
			memcpy(buffers[i], r->attrs[i]->value.data,
			       len < sizes[i] ? len : sizes[i]);
		sizes[i] = len;
	}
	return 0;
}

int
daos_cont_get_attr(daos_handle_t coh, int n, char const *const names[], void *const buffers[],
		   size_t sizes[], daos_event_t *ev)
{
	Mgmt__AttrGetReq req = MGMT__ATTR_GET_REQ__INIT;
	struct cont_op *op;
	struct cont_hdr h;
	int rc;

	if (!attr_names_valid(n, names) || sizes == NULL)
		return dc_ev_done(ev, -DER_INVAL);
	rc = cont_op_open_hdl(coh, cont_get_attr_done, &h, &op);
	if (rc != 0)
		return dc_ev_done(ev, rc);
	op->co_p[0] = (void *)buffers;
	op->co_p[1] = sizes;
	op->co_n = n;
	req.hdr = &h.ch_hdr;
	req.names = (char **)names;
	req.n_names = n;
	rc = cont_op_call(ev, op, DSS_CTL_CONT_ATTR_GET, &req.base,
			  &mgmt__attr_get_resp__descriptor);
	cont_hdr_fini(&h);
	return rc;
}

int
daos_cont_set_attr(daos_handle_t coh, int n, char const *const names[], void const *const values[],
		   size_t const sizes[], daos_event_t *ev)
{
	Mgmt__AttrSetReq req = MGMT__ATTR_SET_REQ__INIT;
	Mgmt__Attr *attrs = NULL;
	Mgmt__Attr **attrp = NULL;
	struct cont_op *op;
	struct cont_hdr h;
	int i;
	int rc;

	if (!attr_names_valid(n, names) || values == NULL || sizes == NULL)
		return dc_ev_done(ev, -DER_INVAL);
	for (i = 0; i < n; i++)
		if (values[i] == NULL || sizes[i] == 0)
			return dc_ev_done(ev, -DER_INVAL);
	D_ALLOC_ARRAY(attrs, n);
	D_ALLOC_ARRAY(attrp, n);
	if (attrs == NULL || attrp == NULL) {
		rc = dc_ev_done(ev, -DER_NOMEM);
		goto out_free;
	}
	for (i = 0; i < n; i++) {
		mgmt__attr__init(&attrs[i]);
		attrs[i].name = (char *)names[i];
		attrs[i].value.data = (uint8_t *)values[i];
		attrs[i].value.len = sizes[i];
		attrp[i] = &attrs[i];
	}
	rc = cont_op_open_hdl(coh, NULL, &h, &op);
	if (rc != 0) {
		rc = dc_ev_done(ev, rc);
		goto out_free;
	}
	req.hdr = &h.ch_hdr;
	req.attrs = attrp;
	req.n_attrs = n;
	rc = cont_op_call(ev, op, DSS_CTL_CONT_ATTR_SET, &req.base, &mgmt__attr_resp__descriptor);
	cont_hdr_fini(&h);
out_free:
	D_FREE(attrs);
	D_FREE(attrp);
	return rc;
}

int
daos_cont_del_attr(daos_handle_t coh, int n, char const *const names[], daos_event_t *ev)
{
	Mgmt__AttrDelReq req = MGMT__ATTR_DEL_REQ__INIT;
	struct cont_op *op;
	struct cont_hdr h;
	int rc;

	if (!attr_names_valid(n, names))
		return dc_ev_done(ev, -DER_INVAL);
	rc = cont_op_open_hdl(coh, NULL, &h, &op);
	if (rc != 0)
		return dc_ev_done(ev, rc);
	req.hdr = &h.ch_hdr;
	req.names = (char **)names;
	req.n_names = n;
	rc = cont_op_call(ev, op, DSS_CTL_CONT_ATTR_DEL, &req.base, &mgmt__attr_resp__descriptor);
	cont_hdr_fini(&h);
	return rc;
}

/* object ids */

static int
cont_alloc_oids_done(struct cont_op *op, int rc, ProtobufCMessage *resp, daos_event_t *ev)
{
	(void)ev;
	if (rc == 0)
		*(uint64_t *)op->co_p[0] = ((Mgmt__ContAllocOidsResp *)resp)->oid;
	return rc;
}

int
daos_cont_alloc_oids(daos_handle_t coh, daos_size_t num_oids, uint64_t *oid, daos_event_t *ev)
{
	Mgmt__ContAllocOidsReq req = MGMT__CONT_ALLOC_OIDS_REQ__INIT;
	struct cont_op *op;
	struct cont_hdr h;
	struct dc_cont *cont;
	int rc;

	if (num_oids == 0 || oid == NULL)
		return dc_ev_done(ev, -DER_INVAL);
	cont = dc_cont_get(coh);
	if (cont == NULL)
		return dc_ev_done(ev, -DER_NO_HDL);
	rc = (cont->dc_flags & (DAOS_COO_RW | DAOS_COO_EX)) == 0 ? -DER_NO_PERM : 0;
	dc_cont_put(cont);
	if (rc != 0)
		return dc_ev_done(ev, rc);
	rc = cont_op_open_hdl(coh, cont_alloc_oids_done, &h, &op);
	if (rc != 0)
		return dc_ev_done(ev, rc);
	op->co_p[0] = oid;
	req.hdr = &h.ch_hdr;
	req.num_oids = num_oids;
	rc = cont_op_call(ev, op, DSS_CTL_CONT_ALLOC_OIDS, &req.base,
			  &mgmt__cont_alloc_oids_resp__descriptor);
	cont_hdr_fini(&h);
	return rc;
}

/* snapshots */

static int
cont_snap_call(daos_handle_t coh, uint32_t method, Mgmt__ContSnapReq *req, cont_done_t done,
	       void *p0, void *p1, void *p2, daos_event_t *ev)
{
	struct cont_op *op;
	struct cont_hdr h;
	int rc;

	rc = cont_op_open_hdl(coh, done, &h, &op);
	if (rc != 0)
		return dc_ev_done(ev, rc);
	op->co_p[0] = p0;
	op->co_p[1] = p1;
	op->co_p[2] = p2;
	req->hdr = &h.ch_hdr;
	rc = cont_op_call(ev, op, method, &req->base, &mgmt__cont_snap_resp__descriptor);
	cont_hdr_fini(&h);
	return rc;
}

static int
cont_snap_create_done(struct cont_op *op, int rc, ProtobufCMessage *resp, daos_event_t *ev)
{
	Mgmt__ContSnapResp *r = (Mgmt__ContSnapResp *)resp;
	daos_epoch_t *epoch = op->co_p[0];

	(void)ev;
	if (rc != 0)
		return rc;
	if (r->n_snapshots != 1)
		return -DER_PROTO;
	if (epoch != NULL)
		*epoch = r->snapshots[0]->epoch;
	return 0;
}

int
daos_cont_create_snap_opt(daos_handle_t coh, daos_epoch_t *epoch, char *name,
			  enum daos_snapshot_opts opts, daos_event_t *ev)
{
	Mgmt__ContSnapReq req = MGMT__CONT_SNAP_REQ__INIT;

	if ((opts & DAOS_SNAP_OPT_CR) == 0 || (opts & ~(DAOS_SNAP_OPT_CR | DAOS_SNAP_OPT_OIT)))
		return dc_ev_done(ev, -DER_INVAL);
	if (opts & DAOS_SNAP_OPT_OIT)
		return dc_ev_done(ev, -DER_NOSYS);
	if (name != NULL && strnlen(name, DAOS_SNAPSHOT_MAX_LEN) >= DAOS_SNAPSHOT_MAX_LEN)
		return dc_ev_done(ev, -DER_INVAL);
	if (name != NULL)
		req.name = name;
	return cont_snap_call(coh, DSS_CTL_CONT_SNAP_CREATE, &req, cont_snap_create_done, epoch,
			      NULL, NULL, ev);
}

int
daos_cont_create_snap(daos_handle_t coh, daos_epoch_t *epoch, char *name, daos_event_t *ev)
{
	return daos_cont_create_snap_opt(coh, epoch, name, DAOS_SNAP_OPT_CR, ev);
}

/* co_p[0]: nr, co_p[1]: epochs, co_p[2]: names. */
static int
cont_snap_list_done(struct cont_op *op, int rc, ProtobufCMessage *resp, daos_event_t *ev)
{
	Mgmt__ContSnapResp *r = (Mgmt__ContSnapResp *)resp;
	int *nr = op->co_p[0];
	daos_epoch_t *epochs = op->co_p[1];
	char **names = op->co_p[2];
	size_t i;

	(void)ev;
	if (rc != 0)
		return rc;
	for (i = 0; i < r->n_snapshots && i < (size_t)*nr; i++) {
		epochs[i] = r->snapshots[i]->epoch;
		if (names != NULL && names[i] != NULL) {
			strncpy(names[i], r->snapshots[i]->name, DAOS_SNAPSHOT_MAX_LEN - 1);
			names[i][DAOS_SNAPSHOT_MAX_LEN - 1] = '\0';
		}
	}
	*nr = (int)r->n_snapshots;
	return 0;
}

int
daos_cont_list_snap(daos_handle_t coh, int *nr, daos_epoch_t *epochs, char **names,
		    daos_anchor_t *anchor, daos_event_t *ev)
{
	Mgmt__ContSnapReq req = MGMT__CONT_SNAP_REQ__INIT;

	if (nr == NULL || *nr < 0 || (*nr > 0 && epochs == NULL))
		return dc_ev_done(ev, -DER_INVAL);
	/* one call lists everything: the anchor is at its end already */
	if (anchor != NULL)
		daos_anchor_set_eof(anchor);
	return cont_snap_call(coh, DSS_CTL_CONT_SNAP_LIST, &req, cont_snap_list_done, nr, epochs,
			      names, ev);
}

int
daos_cont_destroy_snap(daos_handle_t coh, daos_epoch_range_t epr, daos_event_t *ev)
{
	Mgmt__ContSnapReq req = MGMT__CONT_SNAP_REQ__INIT;

	if (epr.epr_lo > epr.epr_hi || epr.epr_hi == 0)
		return dc_ev_done(ev, -DER_INVAL);
	/* epochs are never 0: "from 0" is "from the first" (the service wants a start) */
	req.epoch = epr.epr_lo != 0 ? epr.epr_lo : 1;
	req.epoch_end = epr.epr_hi;
	return cont_snap_call(coh, DSS_CTL_CONT_SNAP_DESTROY, &req, NULL, NULL, NULL, NULL, ev);
}

/* not yet */

int
daos_cont_aggregate(daos_handle_t coh, daos_epoch_t epoch, daos_event_t *ev)
{
	(void)coh, (void)epoch;
	return dc_ev_done(ev, -DER_NOSYS);
}

int
daos_cont_rollback(daos_handle_t coh, daos_epoch_t epoch, daos_event_t *ev)
{
	(void)coh, (void)epoch;
	return dc_ev_done(ev, -DER_NOSYS);
}

int
daos_cont_subscribe(daos_handle_t coh, daos_epoch_t *epoch, daos_event_t *ev)
{
	(void)coh, (void)epoch;
	return dc_ev_done(ev, -DER_NOSYS);
}

/* rank lists */

d_rank_list_t *
daos_rank_list_parse(const char *str, const char *sep)
{
	d_rank_list_t *list;
	char *copy;
	char *save = NULL;
	char *tok;
	uint32_t nr = 0;
	size_t i;

	if (str == NULL || sep == NULL || sep[0] == '\0')
		return NULL;
	D_STRNDUP(copy, str, strlen(str));
	if (copy == NULL)
		return NULL;
	/* at most one rank per character */
	list = d_rank_list_alloc((uint32_t)strlen(str) + 1);
	if (list == NULL)
		goto out;
	for (tok = strtok_r(copy, sep, &save); tok != NULL; tok = strtok_r(NULL, sep, &save)) {
		char *end;
		unsigned long v;

		for (i = 0; tok[i] != '\0'; i++)
			if (tok[i] < '0' || tok[i] > '9')
				break;
		v = strtoul(tok, &end, 10);
		if (tok[i] != '\0' || *end != '\0' || v > UINT32_MAX) {
			d_rank_list_free(list);
			list = NULL;
			goto out;
		}
		list->rl_ranks[nr++] = (d_rank_t)v;
	}
	list->rl_nr = nr;
out:
	D_FREE(copy);
	return list;
}

/* global handles */

#define CONT_GLOB_MAGIC 0x64636f6eU /* "dcon" */
#define CONT_GLOB_VERSION 1

/* The blob of daos_cont_local2global: what another process needs to use the same service
 * handle under its own copy of the pool handle. */
struct cont_glob_df {
	uint32_t cg_magic;
	uint32_t cg_version;
	uuid_t cg_pool;
	uuid_t cg_uuid;
	uuid_t cg_hdl;
	uint64_t cg_flags;
	uint64_t cg_capas;
	uint32_t cg_rf;
	uint32_t cg_local;
};

_Static_assert(sizeof(struct cont_glob_df) == 80, "cont_glob_df layout");

int
daos_cont_local2global(daos_handle_t coh, d_iov_t *glob)
{
	struct cont_glob_df *g;
	struct dc_cont *cont;

	if (glob == NULL)
		return -DER_INVAL;
	if (glob->iov_buf != NULL &&
	    (glob->iov_buf_len < sizeof(*g) || glob->iov_buf_len < glob->iov_len))
		return -DER_TRUNC;
	cont = dc_cont_get(coh);
	if (cont == NULL)
		return -DER_NO_HDL;
	if (glob->iov_buf == NULL) {
		glob->iov_buf_len = sizeof(*g);
		glob->iov_len = 0;
		dc_cont_put(cont);
		return 0;
	}
	g = glob->iov_buf;
	memset(g, 0, sizeof(*g));
	g->cg_magic = CONT_GLOB_MAGIC;
	g->cg_version = CONT_GLOB_VERSION;
	uuid_copy(g->cg_pool, cont->dc_pool->dp_uuid);
	uuid_copy(g->cg_uuid, cont->dc_uuid);
	uuid_copy(g->cg_hdl, cont->dc_hdl);
	g->cg_flags = cont->dc_flags;
	g->cg_capas = cont->dc_capas;
	g->cg_rf = cont->dc_rf;
	g->cg_local = cont->dc_local;
	glob->iov_len = sizeof(*g);
	dc_cont_put(cont);
	return 0;
}

int
daos_cont_global2local(daos_handle_t poh, d_iov_t glob, daos_handle_t *coh)
{
	const struct cont_glob_df *g = glob.iov_buf;
	struct dc_pool *pool;
	int rc;

	if (coh == NULL || g == NULL || glob.iov_len != sizeof(*g) ||
	    glob.iov_buf_len < glob.iov_len || g->cg_magic != CONT_GLOB_MAGIC ||
	    g->cg_version != CONT_GLOB_VERSION || uuid_is_null(g->cg_uuid))
		return -DER_INVAL;
	pool = dc_pool_get(poh);
	if (pool == NULL)
		return -DER_NO_HDL;
	rc = uuid_compare(pool->dp_uuid, g->cg_pool) == 0 ? 0 : -DER_INVAL;
	dc_pool_put(pool);
	if (rc != 0)
		return rc;
	if (g->cg_local)
		return dc_cont_local_open(poh, g->cg_uuid, g->cg_flags, coh);
	rc =
	    dc_cont_hdl_create(poh, g->cg_uuid, g->cg_hdl, g->cg_flags, g->cg_rf, g->cg_capas, coh);
	if (rc == 0) {
		struct dc_cont *cont = dc_cont_get(*coh);

		/* the process that opened the handle closes it on the service */
		if (cont != NULL) {
			cont->dc_g2l = true;
			dc_cont_put(cont);
		}
	}
	return rc;
}

/* The unversioned names, for applications built against headers without the macros. */
#undef daos_cont_create
#undef daos_cont_open
#undef daos_cont_destroy

int
daos_cont_create(daos_handle_t poh, uuid_t *uuid, daos_prop_t *cont_prop, daos_event_t *ev)
{
	return daos_cont_create2(poh, uuid, cont_prop, ev);
}

int
daos_cont_open(daos_handle_t poh, const char *cont, unsigned int flags, daos_handle_t *coh,
	       daos_cont_info_t *info, daos_event_t *ev)
{
	return daos_cont_open2(poh, cont, flags, coh, info, ev);
}

int
daos_cont_destroy(daos_handle_t poh, const char *cont, int force, daos_event_t *ev)
{
	return daos_cont_destroy2(poh, cont, force, ev);
}
