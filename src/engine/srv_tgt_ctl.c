/*
 * srv_tgt_ctl.c: the management-port methods that drive this engine's pool shards
 * (mgmt/tgt.proto: TgtCreate, TgtDestroy, TgtQuery, TgtContDestroy, TgtHdl), the way the management
 * service asks each engine of a pool. The control thread's loop must not block, so each request is
 * decoded there and handed to a ULT on the system xstream, which runs the bridge
 * (daos_srv/pool_tgt.h: every target at once, yielding meanwhile) and replies.
 */
#define D_LOGFAC server

#include <gurt/common.h>
#include <gurt/fault_inject.h>
#include <daos_errno.h>
#include <daos_srv/ctl.h>
#include <daos_srv/pool_tgt.h>
#include <daos_srv/sched.h>

#include "srv_vos.h"
#include "mgmt/tgt.pb-c.h"

D_LOG_FAC_DECLARE(server);

/*
 * Fault point (ids 300-309 are the engine's): a TgtHdl ADD is answered success but not
 * applied, as an open's push lost with a leader that went away. Armed from the environment
 * (D_FAULTS=300:once, gurt/fault_inject.h) by the test of the service's re-push after a
 * leader change (tests/obj/test_caps_three.sh).
 */
#define SRV_FI_TGT_HDL_LOST 300

struct srv_tgt_call {
	struct dss_ctl_req *tc_req;
	uint32_t tc_method;
	uuid_t tc_uuid;
	uuid_t tc_cont; /* TgtContDestroy */
	uint64_t tc_scm;
	uint64_t tc_nvme;
	/* TgtHdl */
	uint32_t tc_map_ver;
	enum ds_tgt_hdl_op tc_op;
	struct ds_tgt_hdl *tc_hdls;
	uint32_t tc_nhdls;
};

static void
srv_tgt_reply_status(struct dss_ctl_req *req, uint32_t method, int rc, const int *rcs, uint32_t nr)
{
	Mgmt__TgtCreateResp cr = MGMT__TGT_CREATE_RESP__INIT;
	Mgmt__TgtDestroyResp dr = MGMT__TGT_DESTROY_RESP__INIT;
	Mgmt__TgtHdlResp hr = MGMT__TGT_HDL_RESP__INIT;
	int32_t *v = NULL;
	uint32_t i;

	if (nr > 0) {
		D_ALLOC_ARRAY(v, nr);
		if (v == NULL) {
			dss_ctl_reply(req, -DER_NOMEM, NULL, 0);
			return;
		}
		for (i = 0; i < nr; i++)
			v[i] = rcs[i];
	}
	if (method == DSS_CTL_TGT_CREATE) {
		cr.status = rc;
		cr.n_tgt_status = nr;
		cr.tgt_status = v;
		dss_ctl_reply_msg(req, 0, &cr.base);
	} else if (method == DSS_CTL_TGT_HDL) {
		hr.status = rc;
		hr.n_tgt_status = nr;
		hr.tgt_status = v;
		dss_ctl_reply_msg(req, 0, &hr.base);
	} else {
		dr.status = rc;
		dr.n_tgt_status = nr;
		dr.tgt_status = v;
		dss_ctl_reply_msg(req, 0, &dr.base);
	}
	D_FREE(v);
}

static void
srv_tgt_query_reply(struct dss_ctl_req *req, const uuid_t uuid)
{
	Mgmt__TgtQueryResp out = MGMT__TGT_QUERY_RESP__INIT;
	struct ds_pool_tgt_info *infos = NULL;
	Mgmt__TgtShard *shards = NULL;
	Mgmt__TgtShard **ptrs = NULL;
	uint32_t nr = ds_pool_tgt_nr();
	uint32_t i;

	if (nr == 0) {
		dss_ctl_reply(req, -DER_UNINIT, NULL, 0);
		return;
	}
	D_ALLOC_ARRAY(infos, nr);
	D_ALLOC_ARRAY(shards, nr);
	D_ALLOC_ARRAY(ptrs, nr);
	if (infos == NULL || shards == NULL || ptrs == NULL) {
		dss_ctl_reply(req, -DER_NOMEM, NULL, 0);
		goto out;
	}
	out.status = ds_pool_tgt_query(uuid, infos, nr);
	if (out.status == -DER_UNINIT || out.status == -DER_NOMEM) {
		dss_ctl_reply(req, out.status, NULL, 0);
		goto out;
	}
	for (i = 0; i < nr; i++) {
		mgmt__tgt_shard__init(&shards[i]);
		shards[i].tgt = infos[i].ti_tgt;
		shards[i].status = infos[i].ti_rc;
		if (infos[i].ti_rc == 0) {
			shards[i].scm_total = infos[i].ti_vos.pi_scm_total;
			shards[i].scm_free = infos[i].ti_vos.pi_scm_free;
			shards[i].data_total = infos[i].ti_vos.pi_data_total;
			shards[i].data_free = infos[i].ti_vos.pi_data_free;
			shards[i].wal_size = infos[i].ti_vos.pi_wal_size;
			shards[i].last_lsn = infos[i].ti_vos.pi_last_lsn;
			shards[i].ckpt_lsn = infos[i].ti_vos.pi_ckpt_lsn;
			shards[i].nhdls = infos[i].ti_nhdls;
			shards[i].map_version = infos[i].ti_map_ver;
		}
		ptrs[i] = &shards[i];
	}
	out.n_shards = nr;
	out.shards = ptrs;
	dss_ctl_reply_msg(req, 0, &out.base);
out:
	D_FREE(ptrs);
	D_FREE(shards);
	D_FREE(infos);
}

/* On the system xstream: run the bridge, reply. */
static void
srv_tgt_call_ult(void *arg)
{
	struct srv_tgt_call *tc = arg;
	uint32_t nr = ds_pool_tgt_nr();
	int *rcs = NULL;
	int rc;

	if (tc->tc_method == DSS_CTL_TGT_QUERY) {
		srv_tgt_query_reply(tc->tc_req, tc->tc_uuid);
		goto out;
	}
	if (nr > 0) {
		D_ALLOC_ARRAY(rcs, nr);
		if (rcs == NULL) {
			dss_ctl_reply(tc->tc_req, -DER_NOMEM, NULL, 0);
			goto out;
		}
	}
	if (tc->tc_method == DSS_CTL_TGT_CREATE)
		rc = ds_pool_tgt_create(tc->tc_uuid, tc->tc_scm, tc->tc_nvme, rcs, nr);
	else if (tc->tc_method == DSS_CTL_TGT_CONT_DESTROY)
		rc = ds_pool_tgt_cont_destroy(tc->tc_uuid, tc->tc_cont, rcs, nr);
	else if (tc->tc_method == DSS_CTL_TGT_HDL && tc->tc_op == DS_TGT_HDL_ADD &&
		 D_FAIL_CHECK(SRV_FI_TGT_HDL_LOST)) {
		D_NOTE("fault %d: TgtHdl op %d of %u handles not applied\n", SRV_FI_TGT_HDL_LOST,
		       tc->tc_op, tc->tc_nhdls);
		rc = 0;
	} else if (tc->tc_method == DSS_CTL_TGT_HDL)
		rc = ds_pool_tgt_hdl(tc->tc_uuid, tc->tc_map_ver, tc->tc_op, tc->tc_hdls,
				     tc->tc_nhdls, rcs, nr);
	else
		rc = ds_pool_tgt_destroy(tc->tc_uuid, rcs, nr);
	if (rc == -DER_UNINIT)
		nr = 0;
	srv_tgt_reply_status(tc->tc_req, tc->tc_method, rc, rcs, nr);
	D_FREE(rcs);
out:
	D_FREE(tc->tc_hdls);
	D_FREE(tc);
}

/* Decode a TgtHdlReq into @tc. */
static int
srv_tgt_hdl_decode(struct srv_tgt_call *tc, const void *body, size_t len)
{
	Mgmt__TgtHdlReq *in = mgmt__tgt_hdl_req__unpack(NULL, len, body);
	size_t i;
	int rc = 0;

	if (in == NULL)
		return -DER_INVAL;
	if (uuid_parse(in->pool_uuid, tc->tc_uuid) != 0 || in->op < MGMT__TGT_HDL_OP__TGT_HDL_ADD ||
	    in->op > MGMT__TGT_HDL_OP__TGT_HDL_SET) {
		rc = -DER_INVAL;
		goto out;
	}
	tc->tc_map_ver = in->map_version;
	tc->tc_op = (enum ds_tgt_hdl_op)in->op;
	if (in->n_hdls > 0) {
		D_ALLOC_ARRAY(tc->tc_hdls, in->n_hdls);
		if (tc->tc_hdls == NULL) {
			rc = -DER_NOMEM;
			goto out;
		}
	}
	for (i = 0; i < in->n_hdls; i++) {
		struct ds_tgt_hdl *th = &tc->tc_hdls[i];

		if (uuid_parse(in->hdls[i]->cont_uuid, th->th_cont) != 0 ||
		    uuid_parse(in->hdls[i]->hdl_uuid, th->th_hdl) != 0) {
			rc = -DER_INVAL;
			goto out;
		}
		th->th_capas = in->hdls[i]->capas;
	}
	tc->tc_nhdls = (uint32_t)in->n_hdls;
out:
	mgmt__tgt_hdl_req__free_unpacked(in, NULL);
	return rc;
}

/* On the control thread's loop: decode, hand over to the system xstream. */
static void
srv_tgt_handler(struct dss_ctl_req *req, void *arg)
{
	const struct dss_engine *eng = arg;
	uint32_t method = dss_ctl_req_method(req);
	struct srv_tgt_call *tc;
	const void *body;
	size_t len;
	int rc = -DER_INVAL;

	D_ALLOC_PTR(tc);
	if (tc == NULL) {
		dss_ctl_reply(req, -DER_NOMEM, NULL, 0);
		return;
	}
	tc->tc_req = req;
	tc->tc_method = method;
	body = dss_ctl_req_body(req, &len);
	if (method == DSS_CTL_TGT_CREATE) {
		Mgmt__TgtCreateReq *in = mgmt__tgt_create_req__unpack(NULL, len, body);

		if (in != NULL) {
			tc->tc_scm = in->scm_bytes;
			tc->tc_nvme = in->nvme_bytes;
			rc = uuid_parse(in->pool_uuid, tc->tc_uuid) == 0 ? 0 : -DER_INVAL;
			mgmt__tgt_create_req__free_unpacked(in, NULL);
		}
	} else if (method == DSS_CTL_TGT_DESTROY) {
		Mgmt__TgtDestroyReq *in = mgmt__tgt_destroy_req__unpack(NULL, len, body);

		if (in != NULL) {
			rc = uuid_parse(in->pool_uuid, tc->tc_uuid) == 0 ? 0 : -DER_INVAL;
			mgmt__tgt_destroy_req__free_unpacked(in, NULL);
		}
	} else if (method == DSS_CTL_TGT_CONT_DESTROY) {
		Mgmt__TgtContDestroyReq *in = mgmt__tgt_cont_destroy_req__unpack(NULL, len, body);

		if (in != NULL) {
			rc = uuid_parse(in->pool_uuid, tc->tc_uuid) == 0 &&
				     uuid_parse(in->cont_uuid, tc->tc_cont) == 0
				 ? 0
				 : -DER_INVAL;
			mgmt__tgt_cont_destroy_req__free_unpacked(in, NULL);
		}
	} else if (method == DSS_CTL_TGT_HDL) {
		rc = srv_tgt_hdl_decode(tc, body, len);
	} else {
		Mgmt__TgtQueryReq *in = mgmt__tgt_query_req__unpack(NULL, len, body);

		if (in != NULL) {
			rc = uuid_parse(in->pool_uuid, tc->tc_uuid) == 0 ? 0 : -DER_INVAL;
			mgmt__tgt_query_req__free_unpacked(in, NULL);
		}
	}
	if (rc == 0)
		rc = dss_ult_create(eng->de_sys_xs, srv_tgt_call_ult, tc, 0, NULL);
	if (rc != 0) {
		D_FREE(tc->tc_hdls);
		D_FREE(tc);
		dss_ctl_reply(req, rc, NULL, 0);
	}
}

int
srv_tgt_ctl_register(struct dss_ctl *ctl, const struct dss_engine *eng)
{
	static const uint32_t methods[] = {DSS_CTL_TGT_CREATE, DSS_CTL_TGT_DESTROY,
					   DSS_CTL_TGT_QUERY, DSS_CTL_TGT_CONT_DESTROY,
					   DSS_CTL_TGT_HDL};
	uint32_t i;
	int rc;

	for (i = 0; i < D_ARRAY_SIZE(methods); i++) {
		rc = dss_ctl_register(ctl, methods[i], srv_tgt_handler, (void *)eng);
		if (rc != 0)
			return rc;
	}
	return 0;
}
