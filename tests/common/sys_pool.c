/*
 * sys_pool.c: pool and container setup for the system tests of libdaos (sys_pool.h), through
 * the management service: PoolCreate on the management port (as dmg), then
 * daos_pool_connect, daos_cont_create and daos_cont_open through the agent, so the targets
 * know every container handle the tests use.
 */
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <daos.h>
#include <daos/client.h>
#include <daos/pool_map.h>
#include <daos_srv/ctl.h>
#include <gurt/common.h>

#include "mgmt/pool.pb-c.h"
#include "mgmt/svc.pb-c.h"
#include "sys_pool.h"

/* How long sys_pool_create waits for the service to lead and the engine to join. */
#define SYS_POOL_WAIT_MS 60000
#define SYS_POOL_STEP_MS 200

/* One PoolCreate call; the status from the envelope or the answer. */
static int
create_call(struct dss_ctl_client *cli, Mgmt__PoolCreateReq *req)
{
	Mgmt__PoolCreateResp *resp;
	void *reply = NULL;
	uint8_t *buf;
	size_t len;
	int rc;

	len = mgmt__pool_create_req__get_packed_size(req);
	buf = malloc(len > 0 ? len : 1);
	if (buf == NULL)
		return -DER_NOMEM;
	mgmt__pool_create_req__pack(req, buf);
	rc = dss_ctl_client_call(cli, DSS_CTL_POOL_CREATE, buf, len, 60000, &reply, &len);
	free(buf);
	if (rc == 0) {
		resp = mgmt__pool_create_resp__unpack(NULL, len, reply);
		rc = resp == NULL ? -DER_PROTO : resp->status;
		if (resp != NULL)
			mgmt__pool_create_resp__free_unpacked(resp, NULL);
	}
	free(reply);
	return rc;
}

/*
 * Create pool @uuid through the service at @addr: @scm and @nvme bytes per engine, every
 * joined engine, owned by the caller. Retried while the service is not serving yet
 * (-DER_NOTLEADER) or no engine joined (-DER_INVAL: no rank to put the pool on); a retry of
 * a create that succeeded answers success (the uuid is the client's).
 */
static int
create_pool(const char *addr, const uuid_t uuid, uint64_t scm, uint64_t nvme)
{
	Mgmt__PoolCreateReq req = MGMT__POOL_CREATE_REQ__INIT;
	struct passwd *pw = getpwuid(geteuid());
	struct group *gr = getgrgid(getegid());
	struct dss_ctl_client *cli = NULL;
	uint64_t tiers[2] = {scm, nvme};
	char ustr[37], user[300], group[300];
	int waited, rc;

	uuid_unparse_lower(uuid, ustr);
	if (pw != NULL)
		snprintf(user, sizeof(user), "%s@", pw->pw_name);
	else
		snprintf(user, sizeof(user), "%u@", (unsigned)geteuid());
	if (gr != NULL)
		snprintf(group, sizeof(group), "%s@", gr->gr_name);
	else
		snprintf(group, sizeof(group), "%u@", (unsigned)getegid());
	req.uuid = ustr;
	req.sys = "";
	req.user = user;
	req.user_group = group;
	req.tier_bytes = tiers;
	req.n_tier_bytes = 2;
	for (waited = 0;; waited += SYS_POOL_STEP_MS) {
		if (cli == NULL)
			rc = dss_ctl_client_open(addr, 10000, &cli);
		if (cli != NULL)
			rc = create_call(cli, &req);
		if ((rc != -DER_NOTLEADER && rc != -DER_INVAL && rc != -DER_UNREACH) ||
		    waited >= SYS_POOL_WAIT_MS)
			break;
		usleep(SYS_POOL_STEP_MS * 1000);
	}
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
		fprintf(stderr, "PoolCreate at %s: %s\n", mgmt_addr, d_errstr(rc));
	return rc;
}

int
sys_pool_connect(const char *mgmt_addr, const uuid_t uuid, daos_handle_t *poh)
{
	char ustr[37];
	int rc;

	(void)mgmt_addr;
	uuid_unparse_lower(uuid, ustr);
	rc = daos_pool_connect(ustr, NULL, DAOS_PC_RW, poh, NULL, NULL);
	if (rc != 0)
		fprintf(stderr, "daos_pool_connect %s: %s\n", ustr, d_errstr(rc));
	return rc;
}

int
sys_cont_create(daos_handle_t poh, uuid_t cuuid)
{
	int rc = daos_cont_create(poh, (uuid_t *)cuuid, NULL, NULL);

	if (rc != 0)
		fprintf(stderr, "daos_cont_create: %s\n", d_errstr(rc));
	return rc;
}

int
sys_cont_open(daos_handle_t poh, const uuid_t cuuid, unsigned int flags, daos_handle_t *coh)
{
	char ustr[37];
	int rc;

	uuid_unparse_lower(cuuid, ustr);
	rc = daos_cont_open(poh, ustr, flags, coh, NULL, NULL);
	if (rc != 0)
		fprintf(stderr, "daos_cont_open %s: %s\n", ustr, d_errstr(rc));
	return rc;
}

int
sys_pool_local_handle(const char *mgmt_addr, const uuid_t uuid, daos_handle_t *poh)
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
	rc = sys_pool_create(mgmt_addr, puuid);
	if (rc != 0)
		return rc;
	rc = daos_init();
	if (rc == 0)
		rc = sys_pool_connect(mgmt_addr, puuid, poh);
	if (rc == 0)
		rc = sys_cont_create(*poh, cuuid);
	if (rc == 0)
		rc = sys_cont_open(*poh, cuuid, DAOS_COO_RW, coh);
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
