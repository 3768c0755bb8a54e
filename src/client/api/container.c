/*
 * container.c: the container API of libdaos (daos_cont.h) over the management service.
 *
 * Every call builds a cont.proto request whose ClientHeader names the pool handle, the
 * container (label or uuid string) and, for an open container, its service handle, with a
 * fresh credential from daos_agent; dc_svc_call relays it through an engine to the service
 * leader. Container handle uuids are made here (as in DAOS) so that a retried open is the
 * same open. Calls complete synchronously: with an event, the work is done before the call
 * returns and the event is then completed (the application still polls it).
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

/* Complete @ev (NULL: nothing to complete) with @rc, the result of work already done. */
static int
cont_ev_finish(daos_event_t *ev, int rc)
{
	daos_event_t *priv;
	int rc2;

	if (ev == NULL)
		return rc;
	rc2 = dc_ev_begin(ev, &priv);
	if (rc2 != 0)
		return rc2;
	dc_ev_complete(priv != NULL ? priv : ev, rc);
	return dc_ev_end(ev, priv);
}

static int
cont_call(struct dc_pool *pool, uint32_t method, const ProtobufCMessage *req,
	  const ProtobufCMessageDescriptor *desc, ProtobufCMessage **resp)
{
	int rc;

	*resp = NULL;
	rc = dc_svc_call(pool, method, req, desc, resp);
	if (rc != 0 && *resp != NULL) {
		protobuf_c_message_free_unpacked(*resp, NULL);
		*resp = NULL;
	}
	return rc;
}

static void
resp_free(void *resp)
{
	if (resp != NULL)
		protobuf_c_message_free_unpacked(resp, NULL);
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
cont_create(daos_handle_t poh, uuid_t *uuid, const daos_prop_t *prop)
{
	Mgmt__ContCreateReq req = MGMT__CONT_CREATE_REQ__INIT;
	Mgmt__ContCreateResp *resp;
	struct cont_hdr h;
	struct dc_pool *pool;
	char ustr[DAOS_UUID_STR_SIZE];
	uuid_t u;
	int rc;

	pool = dc_pool_get(poh);
	if (pool == NULL)
		return -DER_NO_HDL;
	uuid_generate(u);
	uuid_unparse_lower(u, ustr);
	rc = cont_hdr_init(&h, pool, ustr, NULL);
	if (rc != 0)
		goto out_pool;
	req.hdr = &h.ch_hdr;
	rc = dc_cont_prop2pb(prop, false, &req.properties, &req.n_properties);
	if (rc != 0)
		goto out_hdr;
	rc = cont_call(pool, DSS_CTL_CONT_CREATE, &req.base, &mgmt__cont_create_resp__descriptor,
		       (ProtobufCMessage **)&resp);
	if (rc == 0) {
		if (resp->uuid[0] != '\0' && uuid_parse(resp->uuid, u) != 0)
			rc = -DER_PROTO;
		else if (uuid != NULL)
			uuid_copy(*uuid, u);
		resp_free(resp);
	}
	dc_cont_prop_pb_free(req.properties, req.n_properties);
out_hdr:
	cont_hdr_fini(&h);
out_pool:
	dc_pool_put(pool);
	return rc;
}

int
daos_cont_create2(daos_handle_t poh, uuid_t *uuid, daos_prop_t *cont_prop, daos_event_t *ev)
{
	struct daos_prop_entry *label = NULL;

	if (cont_prop != NULL)
		label = daos_prop_entry_get(cont_prop, DAOS_PROP_CO_LABEL);
	if (label != NULL && !daos_label_is_valid(label->dpe_str))
		return cont_ev_finish(ev, -DER_INVAL);
	return cont_ev_finish(ev, cont_create(poh, uuid, cont_prop));
}

int
daos_cont_create_with_label(daos_handle_t poh, const char *label, daos_prop_t *cont_prop,
			    uuid_t *uuid, daos_event_t *ev)
{
	daos_prop_t *lprop;
	daos_prop_t *merged;
	int rc;

	if (!daos_label_is_valid(label))
		return cont_ev_finish(ev, -DER_INVAL);
	lprop = daos_prop_alloc(1);
	if (lprop == NULL)
		return cont_ev_finish(ev, -DER_NOMEM);
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
		rc = cont_create(poh, uuid, lprop);
	daos_prop_free(lprop);
	return cont_ev_finish(ev, rc);
}

/* destroy */

int
daos_cont_destroy2(daos_handle_t poh, const char *cont, int force, daos_event_t *ev)
{
	Mgmt__ContDestroyReq req = MGMT__CONT_DESTROY_REQ__INIT;
	ProtobufCMessage *resp;
	struct cont_hdr h;
	struct dc_pool *pool;
	int rc;

	if (cont == NULL || cont[0] == '\0')
		return cont_ev_finish(ev, -DER_INVAL);
	pool = dc_pool_get(poh);
	if (pool == NULL)
		return cont_ev_finish(ev, -DER_NO_HDL);
	rc = cont_hdr_init(&h, pool, cont, NULL);
	if (rc == 0) {
		req.hdr = &h.ch_hdr;
		req.force = force != 0;
		rc = cont_call(pool, DSS_CTL_CONT_DESTROY, &req.base,
			       &mgmt__cont_destroy_resp__descriptor, &resp);
		resp_free(resp);
		cont_hdr_fini(&h);
	}
	dc_pool_put(pool);
	return cont_ev_finish(ev, rc);
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

int
daos_cont_open2(daos_handle_t poh, const char *cont, unsigned int flags, daos_handle_t *coh,
		daos_cont_info_t *info, daos_event_t *ev)
{
	Mgmt__ContOpenReq req = MGMT__CONT_OPEN_REQ__INIT;
	Mgmt__ContOpenResp *resp;
	daos_cont_info_t ci;
	struct cont_hdr h;
	struct dc_pool *pool;
	uuid_t hdl;
	unsigned int mode = flags & DAOS_COO_IO_BASE_MASK;
	int rc;

	if (cont == NULL || cont[0] == '\0' || coh == NULL ||
	    (mode != DAOS_COO_RO && mode != DAOS_COO_RW && mode != DAOS_COO_EX) ||
	    (flags & ~DAOS_COO_MASK) != 0)
		return cont_ev_finish(ev, -DER_INVAL);
	pool = dc_pool_get(poh);
	if (pool == NULL)
		return cont_ev_finish(ev, -DER_NO_HDL);
	uuid_generate(hdl);
	rc = cont_hdr_init(&h, pool, cont, hdl);
	if (rc != 0)
		goto out_pool;
	req.hdr = &h.ch_hdr;
	req.flags = flags;
	rc = cont_call(pool, DSS_CTL_CONT_OPEN, &req.base, &mgmt__cont_open_resp__descriptor,
		       (ProtobufCMessage **)&resp);
	if (rc != 0)
		goto out_hdr;
	rc = cont_info_from_pb(resp->info, &ci);
	if (rc == 0)
		rc = dc_cont_hdl_create(poh, ci.ci_uuid, hdl, flags,
					props_rf(resp->properties, resp->n_properties), resp->capas,
					coh);
	if (rc == 0 && info != NULL)
		*info = ci;
	resp_free(resp);
	if (rc != 0) {
		/* the service holds a handle we could not build: give it back */
		Mgmt__ContCloseReq creq = MGMT__CONT_CLOSE_REQ__INIT;
		ProtobufCMessage *cresp;

		creq.hdr = &h.ch_hdr;
		cont_call(pool, DSS_CTL_CONT_CLOSE, &creq.base, &mgmt__cont_close_resp__descriptor,
			  &cresp);
		resp_free(cresp);
	}
out_hdr:
	cont_hdr_fini(&h);
out_pool:
	dc_pool_put(pool);
	return cont_ev_finish(ev, rc);
}

int
daos_cont_close(daos_handle_t coh, daos_event_t *ev)
{
	Mgmt__ContCloseReq req = MGMT__CONT_CLOSE_REQ__INIT;
	ProtobufCMessage *resp;
	struct cont_hdr h;
	struct dc_cont *cont;
	int rc = 0;

	cont = dc_cont_get(coh);
	if (cont == NULL)
		return cont_ev_finish(ev, -DER_NO_HDL);
	if (!cont->dc_local && !cont->dc_g2l) {
		rc = cont_hdr_init_open(&h, cont);
		if (rc == 0) {
			req.hdr = &h.ch_hdr;
			rc = cont_call(cont->dc_pool, DSS_CTL_CONT_CLOSE, &req.base,
				       &mgmt__cont_close_resp__descriptor, &resp);
			resp_free(resp);
			cont_hdr_fini(&h);
		}
		/* a handle the service already forgot (evicted, pool disconnected) */
		if (rc == -DER_NO_HDL || rc == -DER_NONEXIST)
			rc = 0;
	}
	if (rc == 0)
		dc_cont_hdl_delete(cont);
	dc_cont_put(cont);
	return cont_ev_finish(ev, rc);
}

/* query, properties */

static int
cont_query(struct dc_cont *cont, uint32_t method, daos_cont_info_t *info, daos_prop_t *prop)
{
	Mgmt__ContQueryReq req = MGMT__CONT_QUERY_REQ__INIT;
	Mgmt__ContQueryResp *resp;
	daos_prop_t *reply = NULL;
	struct cont_hdr h;
	int rc;

	rc = cont_hdr_init_open(&h, cont);
	if (rc != 0)
		return rc;
	req.hdr = &h.ch_hdr;
	if (prop != NULL) {
		rc = dc_cont_prop2pb(prop, true, &req.properties, &req.n_properties);
		if (rc != 0)
			goto out_hdr;
	}
	rc = cont_call(cont->dc_pool, method, &req.base, &mgmt__cont_query_resp__descriptor,
		       (ProtobufCMessage **)&resp);
	if (rc != 0)
		goto out_props;
	if (info != NULL)
		rc = cont_info_from_pb(resp->info, info);
	if (rc == 0 && prop != NULL) {
		rc = dc_cont_pb2prop(resp->properties, resp->n_properties, &reply);
		if (rc == 0)
			rc = daos_prop_copy(prop, reply);
		daos_prop_free(reply);
	}
	resp_free(resp);
out_props:
	dc_cont_prop_pb_free(req.properties, req.n_properties);
out_hdr:
	cont_hdr_fini(&h);
	return rc;
}

int
daos_cont_query(daos_handle_t coh, daos_cont_info_t *info, daos_prop_t *cont_prop, daos_event_t *ev)
{
	struct dc_cont *cont;
	int rc;

	cont = dc_cont_get(coh);
	if (cont == NULL)
		return cont_ev_finish(ev, -DER_NO_HDL);
	/* GET_PROP answers the info too; QUERY sends properties only when some are named */
	rc = cont_query(cont, cont_prop != NULL ? DSS_CTL_CONT_GET_PROP : DSS_CTL_CONT_QUERY, info,
			cont_prop);
	dc_cont_put(cont);
	return cont_ev_finish(ev, rc);
}

int
daos_cont_get_acl(daos_handle_t coh, daos_prop_t **acl_prop, daos_event_t *ev)
{
	static const uint32_t types[] = {DAOS_PROP_CO_ACL, DAOS_PROP_CO_OWNER,
					 DAOS_PROP_CO_OWNER_GROUP};
	struct dc_cont *cont;
	daos_prop_t *prop;
	uint32_t i;
	int rc;

	if (acl_prop == NULL)
		return cont_ev_finish(ev, -DER_INVAL);
	cont = dc_cont_get(coh);
	if (cont == NULL)
		return cont_ev_finish(ev, -DER_NO_HDL);
	prop = daos_prop_alloc(3);
	if (prop == NULL) {
		rc = -DER_NOMEM;
		goto out;
	}
	for (i = 0; i < 3; i++)
		prop->dpp_entries[i].dpe_type = types[i];
	rc = cont_query(cont, DSS_CTL_CONT_GET_PROP, NULL, prop);
	if (rc == 0)
		*acl_prop = prop;
	else
		daos_prop_free(prop);
out:
	dc_cont_put(cont);
	return cont_ev_finish(ev, rc);
}

static int
cont_set_prop(struct dc_cont *cont, const daos_prop_t *prop)
{
	Mgmt__ContSetPropReq req = MGMT__CONT_SET_PROP_REQ__INIT;
	ProtobufCMessage *resp;
	struct cont_hdr h;
	int rc;

	if (prop == NULL || prop->dpp_nr == 0)
		return -DER_INVAL;
	rc = cont_hdr_init_open(&h, cont);
	if (rc != 0)
		return rc;
	req.hdr = &h.ch_hdr;
	rc = dc_cont_prop2pb(prop, false, &req.properties, &req.n_properties);
	if (rc == 0) {
		rc = cont_call(cont->dc_pool, DSS_CTL_CONT_SET_PROP, &req.base,
			       &mgmt__cont_set_prop_resp__descriptor, &resp);
		resp_free(resp);
		dc_cont_prop_pb_free(req.properties, req.n_properties);
	}
	cont_hdr_fini(&h);
	return rc;
}

int
daos_cont_set_prop(daos_handle_t coh, daos_prop_t *prop, daos_event_t *ev)
{
	struct dc_cont *cont;
	struct daos_prop_entry *label = NULL;
	int rc;

	if (prop != NULL)
		label = daos_prop_entry_get(prop, DAOS_PROP_CO_LABEL);
	if (label != NULL && !daos_label_is_valid(label->dpe_str))
		return cont_ev_finish(ev, -DER_INVAL);
	cont = dc_cont_get(coh);
	if (cont == NULL)
		return cont_ev_finish(ev, -DER_NO_HDL);
	rc = cont_set_prop(cont, prop);
	dc_cont_put(cont);
	return cont_ev_finish(ev, rc);
}

int
daos_cont_status_clear(daos_handle_t coh, daos_event_t *ev)
{
	daos_prop_t *prop;
	int rc;

	prop = daos_prop_alloc(1);
	if (prop == NULL)
		return cont_ev_finish(ev, -DER_NOMEM);
	prop->dpp_entries[0].dpe_type = DAOS_PROP_CO_STATUS;
	prop->dpp_entries[0].dpe_val =
	    DAOS_PROP_CO_STATUS_VAL(DAOS_PROP_CO_HEALTHY, DAOS_PROP_CO_CLEAR, 0);
	rc = daos_cont_set_prop(coh, prop, ev);
	daos_prop_free(prop);
	return rc;
}

/* ACL and owner */

static int
cont_acl_call(daos_handle_t coh, uint32_t method, struct daos_acl *acl, const char *principal)
{
	Mgmt__ContAclReq req = MGMT__CONT_ACL_REQ__INIT;
	ProtobufCMessage *resp;
	struct cont_hdr h;
	struct dc_cont *cont;
	size_t nr = 0;
	size_t i;
	int rc;

	cont = dc_cont_get(coh);
	if (cont == NULL)
		return -DER_NO_HDL;
	if (acl != NULL) {
		rc = daos_acl_cont_validate(acl);
		if (rc != 0)
			goto out_cont;
		rc = daos_acl_to_strs(acl, &req.acl, &nr);
		if (rc != 0)
			goto out_cont;
		req.n_acl = nr;
	}
	if (principal != NULL)
		req.principal = (char *)principal;
	rc = cont_hdr_init_open(&h, cont);
	if (rc == 0) {
		req.hdr = &h.ch_hdr;
		rc = cont_call(cont->dc_pool, method, &req.base, &mgmt__cont_acl_resp__descriptor,
			       &resp);
		resp_free(resp);
		cont_hdr_fini(&h);
	}
	for (i = 0; i < nr; i++)
		D_FREE(req.acl[i]);
	D_FREE(req.acl);
out_cont:
	dc_cont_put(cont);
	return rc;
}

int
daos_cont_overwrite_acl(daos_handle_t coh, struct daos_acl *acl, daos_event_t *ev)
{
	if (acl == NULL)
		return cont_ev_finish(ev, -DER_INVAL);
	return cont_ev_finish(ev, cont_acl_call(coh, DSS_CTL_CONT_OVERWRITE_ACL, acl, NULL));
}

int
daos_cont_update_acl(daos_handle_t coh, struct daos_acl *acl, daos_event_t *ev)
{
	if (acl == NULL)
		return cont_ev_finish(ev, -DER_INVAL);
	return cont_ev_finish(ev, cont_acl_call(coh, DSS_CTL_CONT_UPDATE_ACL, acl, NULL));
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
	if (rc == 0)
		rc = cont_acl_call(coh, DSS_CTL_CONT_DELETE_ACL, NULL, principal);
	return cont_ev_finish(ev, rc);
}

static int
cont_set_owner(daos_handle_t coh, d_string_t user, d_string_t group, bool check)
{
	struct dc_cont *cont;
	daos_prop_t *prop;
	uint32_t n = 0;
	int rc = 0;

	if (user == NULL && group == NULL)
		return -DER_INVAL;
	if (check) {
		uid_t uid;
		gid_t gid;

		if (user != NULL && daos_acl_principal_to_uid(user, &uid) != 0)
			return -DER_NONEXIST;
		if (group != NULL && daos_acl_principal_to_gid(group, &gid) != 0)
			return -DER_NONEXIST;
	}
	if ((user != NULL && !daos_acl_principal_is_valid(user)) ||
	    (group != NULL && !daos_acl_principal_is_valid(group)))
		return -DER_INVAL;
	prop = daos_prop_alloc((user != NULL) + (group != NULL));
	if (prop == NULL)
		return -DER_NOMEM;
	if (user != NULL) {
		prop->dpp_entries[n].dpe_type = DAOS_PROP_CO_OWNER;
		rc = daos_prop_entry_set_str(&prop->dpp_entries[n++], user, strlen(user));
	}
	if (rc == 0 && group != NULL) {
		prop->dpp_entries[n].dpe_type = DAOS_PROP_CO_OWNER_GROUP;
		rc = daos_prop_entry_set_str(&prop->dpp_entries[n++], group, strlen(group));
	}
	if (rc == 0) {
		cont = dc_cont_get(coh);
		if (cont == NULL) {
			rc = -DER_NO_HDL;
		} else {
			rc = cont_set_prop(cont, prop);
			dc_cont_put(cont);
		}
	}
	daos_prop_free(prop);
	return rc;
}

int
daos_cont_set_owner(daos_handle_t coh, d_string_t user, d_string_t group, daos_event_t *ev)
{
	return cont_ev_finish(ev, cont_set_owner(coh, user, group, true));
}

int
daos_cont_set_owner_no_check(daos_handle_t coh, d_string_t user, d_string_t group, daos_event_t *ev)
{
	return cont_ev_finish(ev, cont_set_owner(coh, user, group, false));
}

/* attributes */

int
daos_cont_list_attr(daos_handle_t coh, char *buffer, size_t *size, daos_event_t *ev)
{
	Mgmt__AttrListReq req = MGMT__ATTR_LIST_REQ__INIT;
	Mgmt__AttrListResp *resp;
	struct cont_hdr h;
	struct dc_cont *cont;
	size_t total = 0;
	size_t used = 0;
	size_t i;
	int rc;

	if (size == NULL)
		return cont_ev_finish(ev, -DER_INVAL);
	cont = dc_cont_get(coh);
	if (cont == NULL)
		return cont_ev_finish(ev, -DER_NO_HDL);
	rc = cont_hdr_init_open(&h, cont);
	if (rc != 0)
		goto out_cont;
	req.hdr = &h.ch_hdr;
	rc = cont_call(cont->dc_pool, DSS_CTL_CONT_ATTR_LIST, &req.base,
		       &mgmt__attr_list_resp__descriptor, (ProtobufCMessage **)&resp);
	if (rc == 0) {
		for (i = 0; i < resp->n_names; i++) {
			size_t len = strlen(resp->names[i]);

			total += len;
			if (buffer != NULL && used + len + 1 <= *size) {
				memcpy(buffer + used, resp->names[i], len + 1);
				used += len + 1;
			}
		}
		*size = total;
		resp_free(resp);
	}
	cont_hdr_fini(&h);
out_cont:
	dc_cont_put(cont);
	return cont_ev_finish(ev, rc);
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

int
daos_cont_get_attr(daos_handle_t coh, int n, char const *const names[], void *const buffers[],
		   size_t sizes[], daos_event_t *ev)
{
	Mgmt__AttrGetReq req = MGMT__ATTR_GET_REQ__INIT;
	Mgmt__AttrGetResp *resp;
	struct cont_hdr h;
	struct dc_cont *cont;
	int i;
	int rc;

	if (!attr_names_valid(n, names) || sizes == NULL)
		return cont_ev_finish(ev, -DER_INVAL);
	cont = dc_cont_get(coh);
	if (cont == NULL)
		return cont_ev_finish(ev, -DER_NO_HDL);
	rc = cont_hdr_init_open(&h, cont);
	if (rc != 0)
		goto out_cont;
	req.hdr = &h.ch_hdr;
	req.names = (char **)names;
	req.n_names = n;
	rc = cont_call(cont->dc_pool, DSS_CTL_CONT_ATTR_GET, &req.base,
		       &mgmt__attr_get_resp__descriptor, (ProtobufCMessage **)&resp);
	if (rc == 0) {
		if (resp->n_attrs != (size_t)n)
			rc = -DER_PROTO;
		for (i = 0; rc == 0 && i < n; i++) {
			size_t len = resp->attrs[i]->value.len;

			if (buffers != NULL && buffers[i] != NULL)
				memcpy(buffers[i], resp->attrs[i]->value.data,
				       len < sizes[i] ? len : sizes[i]);
			sizes[i] = len;
		}
		resp_free(resp);
	}
	cont_hdr_fini(&h);
out_cont:
	dc_cont_put(cont);
	return cont_ev_finish(ev, rc);
}

int
daos_cont_set_attr(daos_handle_t coh, int n, char const *const names[], void const *const values[],
		   size_t const sizes[], daos_event_t *ev)
{
	Mgmt__AttrSetReq req = MGMT__ATTR_SET_REQ__INIT;
	ProtobufCMessage *resp;
	Mgmt__Attr *attrs = NULL;
	Mgmt__Attr **attrp = NULL;
	struct cont_hdr h;
	struct dc_cont *cont;
	int i;
	int rc;

	if (!attr_names_valid(n, names) || values == NULL || sizes == NULL)
		return cont_ev_finish(ev, -DER_INVAL);
	for (i = 0; i < n; i++)
		if (values[i] == NULL || sizes[i] == 0)
			return cont_ev_finish(ev, -DER_INVAL);
	cont = dc_cont_get(coh);
	if (cont == NULL)
		return cont_ev_finish(ev, -DER_NO_HDL);
	D_ALLOC_ARRAY(attrs, n);
	D_ALLOC_ARRAY(attrp, n);
	if (attrs == NULL || attrp == NULL) {
		rc = -DER_NOMEM;
		goto out_free;
	}
	for (i = 0; i < n; i++) {
		mgmt__attr__init(&attrs[i]);
		attrs[i].name = (char *)names[i];
		attrs[i].value.data = (uint8_t *)values[i];
		attrs[i].value.len = sizes[i];
		attrp[i] = &attrs[i];
	}
	rc = cont_hdr_init_open(&h, cont);
	if (rc != 0)
		goto out_free;
	req.hdr = &h.ch_hdr;
	req.attrs = attrp;
	req.n_attrs = n;
	rc = cont_call(cont->dc_pool, DSS_CTL_CONT_ATTR_SET, &req.base,
		       &mgmt__attr_resp__descriptor, &resp);
	resp_free(resp);
	cont_hdr_fini(&h);
out_free:
	D_FREE(attrs);
	D_FREE(attrp);
	dc_cont_put(cont);
	return cont_ev_finish(ev, rc);
}

int
daos_cont_del_attr(daos_handle_t coh, int n, char const *const names[], daos_event_t *ev)
{
	Mgmt__AttrDelReq req = MGMT__ATTR_DEL_REQ__INIT;
	ProtobufCMessage *resp;
	struct cont_hdr h;
	struct dc_cont *cont;
	int rc;

	if (!attr_names_valid(n, names))
		return cont_ev_finish(ev, -DER_INVAL);
	cont = dc_cont_get(coh);
	if (cont == NULL)
		return cont_ev_finish(ev, -DER_NO_HDL);
	rc = cont_hdr_init_open(&h, cont);
	if (rc == 0) {
		req.hdr = &h.ch_hdr;
		req.names = (char **)names;
		req.n_names = n;
		rc = cont_call(cont->dc_pool, DSS_CTL_CONT_ATTR_DEL, &req.base,
			       &mgmt__attr_resp__descriptor, &resp);
		resp_free(resp);
		cont_hdr_fini(&h);
	}
	dc_cont_put(cont);
	return cont_ev_finish(ev, rc);
}

/* object ids */

int
daos_cont_alloc_oids(daos_handle_t coh, daos_size_t num_oids, uint64_t *oid, daos_event_t *ev)
{
	Mgmt__ContAllocOidsReq req = MGMT__CONT_ALLOC_OIDS_REQ__INIT;
	Mgmt__ContAllocOidsResp *resp;
	struct cont_hdr h;
	struct dc_cont *cont;
	int rc;

	if (num_oids == 0 || oid == NULL)
		return cont_ev_finish(ev, -DER_INVAL);
	cont = dc_cont_get(coh);
	if (cont == NULL)
		return cont_ev_finish(ev, -DER_NO_HDL);
	if ((cont->dc_flags & (DAOS_COO_RW | DAOS_COO_EX)) == 0) {
		rc = -DER_NO_PERM;
		goto out_cont;
	}
	rc = cont_hdr_init_open(&h, cont);
	if (rc != 0)
		goto out_cont;
	req.hdr = &h.ch_hdr;
	req.num_oids = num_oids;
	rc = cont_call(cont->dc_pool, DSS_CTL_CONT_ALLOC_OIDS, &req.base,
		       &mgmt__cont_alloc_oids_resp__descriptor, (ProtobufCMessage **)&resp);
	if (rc == 0) {
		*oid = resp->oid;
		resp_free(resp);
	}
	cont_hdr_fini(&h);
out_cont:
	dc_cont_put(cont);
	return cont_ev_finish(ev, rc);
}

/* snapshots */

static int
cont_snap_call(daos_handle_t coh, uint32_t method, Mgmt__ContSnapReq *req,
	       Mgmt__ContSnapResp **resp)
{
	struct cont_hdr h;
	struct dc_cont *cont;
	int rc;

	cont = dc_cont_get(coh);
	if (cont == NULL)
		return -DER_NO_HDL;
	rc = cont_hdr_init_open(&h, cont);
	if (rc == 0) {
		req->hdr = &h.ch_hdr;
		rc = cont_call(cont->dc_pool, method, &req->base, &mgmt__cont_snap_resp__descriptor,
			       (ProtobufCMessage **)resp);
		cont_hdr_fini(&h);
	}
	dc_cont_put(cont);
	return rc;
}

int
daos_cont_create_snap_opt(daos_handle_t coh, daos_epoch_t *epoch, char *name,
			  enum daos_snapshot_opts opts, daos_event_t *ev)
{
	Mgmt__ContSnapReq req = MGMT__CONT_SNAP_REQ__INIT;
	Mgmt__ContSnapResp *resp;
	int rc;

	if ((opts & DAOS_SNAP_OPT_CR) == 0 || (opts & ~(DAOS_SNAP_OPT_CR | DAOS_SNAP_OPT_OIT)))
		return cont_ev_finish(ev, -DER_INVAL);
	if (opts & DAOS_SNAP_OPT_OIT)
		return cont_ev_finish(ev, -DER_NOSYS);
	if (name != NULL && strnlen(name, DAOS_SNAPSHOT_MAX_LEN) >= DAOS_SNAPSHOT_MAX_LEN)
		return cont_ev_finish(ev, -DER_INVAL);
	if (name != NULL)
		req.name = name;
	rc = cont_snap_call(coh, DSS_CTL_CONT_SNAP_CREATE, &req, &resp);
	if (rc == 0) {
		if (resp->n_snapshots != 1)
			rc = -DER_PROTO;
		else if (epoch != NULL)
			*epoch = resp->snapshots[0]->epoch;
		resp_free(resp);
	}
	return cont_ev_finish(ev, rc);
}

int
daos_cont_create_snap(daos_handle_t coh, daos_epoch_t *epoch, char *name, daos_event_t *ev)
{
	return daos_cont_create_snap_opt(coh, epoch, name, DAOS_SNAP_OPT_CR, ev);
}

int
daos_cont_list_snap(daos_handle_t coh, int *nr, daos_epoch_t *epochs, char **names,
		    daos_anchor_t *anchor, daos_event_t *ev)
{
	Mgmt__ContSnapReq req = MGMT__CONT_SNAP_REQ__INIT;
	Mgmt__ContSnapResp *resp;
	size_t i;
	int rc;

	if (nr == NULL || *nr < 0 || (*nr > 0 && epochs == NULL))
		return cont_ev_finish(ev, -DER_INVAL);
	rc = cont_snap_call(coh, DSS_CTL_CONT_SNAP_LIST, &req, &resp);
	if (rc == 0) {
		for (i = 0; i < resp->n_snapshots && i < (size_t)*nr; i++) {
			epochs[i] = resp->snapshots[i]->epoch;
			if (names != NULL && names[i] != NULL) {
				strncpy(names[i], resp->snapshots[i]->name,
					DAOS_SNAPSHOT_MAX_LEN - 1);
				names[i][DAOS_SNAPSHOT_MAX_LEN - 1] = '\0';
			}
		}
		*nr = (int)resp->n_snapshots;
		if (anchor != NULL)
			daos_anchor_set_eof(anchor);
		resp_free(resp);
	}
	return cont_ev_finish(ev, rc);
}

int
daos_cont_destroy_snap(daos_handle_t coh, daos_epoch_range_t epr, daos_event_t *ev)
{
	Mgmt__ContSnapReq req = MGMT__CONT_SNAP_REQ__INIT;
	Mgmt__ContSnapResp *resp;
	int rc;

	if (epr.epr_lo > epr.epr_hi || epr.epr_hi == 0)
		return cont_ev_finish(ev, -DER_INVAL);
	/* epochs are never 0: "from 0" is "from the first" (the service wants a start) */
	req.epoch = epr.epr_lo != 0 ? epr.epr_lo : 1;
	req.epoch_end = epr.epr_hi;
	rc = cont_snap_call(coh, DSS_CTL_CONT_SNAP_DESTROY, &req, &resp);
	if (rc == 0)
		resp_free(resp);
	return cont_ev_finish(ev, rc);
}

/* not yet */

int
daos_cont_aggregate(daos_handle_t coh, daos_epoch_t epoch, daos_event_t *ev)
{
	(void)coh, (void)epoch;
	return cont_ev_finish(ev, -DER_NOSYS);
}

int
daos_cont_rollback(daos_handle_t coh, daos_epoch_t epoch, daos_event_t *ev)
{
	(void)coh, (void)epoch;
	return cont_ev_finish(ev, -DER_NOSYS);
}

int
daos_cont_subscribe(daos_handle_t coh, daos_epoch_t *epoch, daos_event_t *ev)
{
	(void)coh, (void)epoch;
	return cont_ev_finish(ev, -DER_NOSYS);
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
