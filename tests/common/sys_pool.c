/*
 * sys_pool.c: pool and container setup for the system tests of libdaos (sys_pool.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <daos.h>
#include <daos/client.h>
#include <daos/pool_map.h>
#include <daos_srv/ctl.h>
#include <gurt/common.h>

#include "mgmt/svc.pb-c.h"
#include "mgmt/tgt.pb-c.h"
#include "sys_pool.h"

static int
create_pool(const char *addr, const uuid_t uuid, uint64_t scm, uint64_t nvme)
{
	Mgmt__TgtCreateReq req = MGMT__TGT_CREATE_REQ__INIT;
	Mgmt__TgtCreateResp *resp;
	struct dss_ctl_client *cli;
	char ustr[37];
	uint8_t buf[256];
	void *reply = NULL;
	size_t len;
	int rc;

	uuid_unparse(uuid, ustr);
	req.pool_uuid = ustr;
	req.scm_bytes = scm;
	req.nvme_bytes = nvme;
	rc = dss_ctl_client_open(addr, 10000, &cli);
	if (rc != 0)
		return rc;
	len = mgmt__tgt_create_req__pack(&req, buf);
	rc = dss_ctl_client_call(cli, DSS_CTL_TGT_CREATE, buf, len, 60000, &reply, &len);
	if (rc == 0) {
		resp = mgmt__tgt_create_resp__unpack(NULL, len, reply);
		rc = resp == NULL ? -DER_PROTO : resp->status;
		if (resp != NULL)
			mgmt__tgt_create_resp__free_unpacked(resp, NULL);
	}
	free(reply);
	dss_ctl_client_close(cli);
	return rc;
}

/* The fabric addresses of the server's contexts: ranks[0].ru_uris. */
static int
attach_info(const char *addr, struct dc_rank_uris *ru)
{
	Mgmt__GetAttachInfoReq req = MGMT__GET_ATTACH_INFO_REQ__INIT;
	Mgmt__GetAttachInfoResp *resp;
	struct dss_ctl_client *cli;
	uint8_t buf[64];
	void *reply = NULL;
	size_t len;
	size_t i;
	int rc;

	req.all_ranks = true;
	req.sys = "";
	rc = dss_ctl_client_open(addr, 10000, &cli);
	if (rc != 0)
		return rc;
	len = mgmt__get_attach_info_req__pack(&req, buf);
	rc = dss_ctl_client_call(cli, DSS_CTL_GET_ATTACH_INFO, buf, len, 10000, &reply, &len);
	dss_ctl_client_close(cli);
	if (rc != 0)
		return rc;
	resp = mgmt__get_attach_info_resp__unpack(NULL, len, reply);
	free(reply);
	if (resp == NULL || resp->n_rank_uris < 2) {
		if (resp != NULL)
			mgmt__get_attach_info_resp__free_unpacked(resp, NULL);
		return -DER_PROTO;
	}
	ru->ru_rank = resp->rank_uris[0]->rank;
	ru->ru_nr = (uint32_t)resp->n_rank_uris;
	ru->ru_uris = calloc(ru->ru_nr, sizeof(char *));
	if (ru->ru_uris == NULL) {
		mgmt__get_attach_info_resp__free_unpacked(resp, NULL);
		return -DER_NOMEM;
	}
	for (i = 0; i < resp->n_rank_uris; i++)
		ru->ru_uris[i] = strdup(resp->rank_uris[i]->uri);
	mgmt__get_attach_info_resp__free_unpacked(resp, NULL);
	return 0;
}

int
sys_pool_create(const char *mgmt_addr, const uuid_t uuid)
{
	return sys_pool_create_size(mgmt_addr, uuid, 256ULL << 20, 1ULL << 30);
}

int
sys_pool_create_size(const char *mgmt_addr, const uuid_t uuid, uint64_t scm, uint64_t nvme)
{
	int rc = create_pool(mgmt_addr, uuid, scm, nvme);

	if (rc != 0)
		fprintf(stderr, "TgtCreate: %s\n", d_errstr(rc));
	return rc;
}

int
sys_pool_connect(const char *mgmt_addr, const uuid_t uuid, daos_handle_t *poh)
{
	struct pool_map_rank_desc rd = {.rd_rank = 0, .rd_node = 0};
	struct dc_rank_uris ru = {0};
	struct pool_map *map;
	uint32_t i;
	int rc;

	rc = attach_info(mgmt_addr, &ru);
	if (rc != 0) {
		fprintf(stderr, "GetAttachInfo: %s\n", d_errstr(rc));
		return rc;
	}
	rd.rd_rank = ru.ru_rank;
	rd.rd_tgt_nr = ru.ru_nr - 1;
	rc = pool_map_create(&rd, 1, 1, &map);
	if (rc == 0) {
		rc = dc_pool_local_create(uuid, DAOS_PC_RW, map, &ru, 1, poh);
		pool_map_destroy(map);
	}
	if (rc != 0)
		fprintf(stderr, "pool handle: %s\n", d_errstr(rc));
	for (i = 0; i < ru.ru_nr; i++)
		free(ru.ru_uris[i]);
	free(ru.ru_uris);
	return rc;
}

int
sys_pool_setup(const char *mgmt_addr, daos_handle_t *poh, daos_handle_t *coh)
{
	uuid_t puuid;
	uuid_t cuuid;
	int rc;

	uuid_generate(puuid);
	uuid_generate(cuuid);
	rc = sys_pool_create(mgmt_addr, puuid);
	if (rc != 0)
		return rc;
	rc = daos_init();
	if (rc == 0)
		rc = sys_pool_connect(mgmt_addr, puuid, poh);
	if (rc == 0)
		rc = dc_cont_local_open(*poh, cuuid, DAOS_COO_RW, coh);
	if (rc != 0)
		fprintf(stderr, "setting up handles failed: %s\n", d_errstr(rc));
	return rc;
}

void
sys_pool_teardown(daos_handle_t poh, daos_handle_t coh)
{
	daos_cont_close(coh, NULL);
	daos_pool_disconnect(poh, NULL);
	daos_fini();
}
