/*
 * svc_call_test.c: drives the fabric relay to the management service for
 * tests/svc/test_svc_relay.sh.
 *
 *   svc_call_test call MGMT|- METHOD      dc_svc_call(METHOD) with an empty request, through
 *                                         the engines of a pool handle built from the
 *                                         server at MGMT (GetAttachInfo), or, with "-",
 *                                         through the attach info of daos_agent
 *   svc_call_test call-uri URI METHOD     dc_svc_call(METHOD) through the engine whose system
 *                                         context is at fabric address URI only
 *   svc_call_test raw MGMT METHOD NBYTES  SVC_OPC_CALL sent by hand to the server's system
 *                                         context with NBYTES random bytes as the body
 *
 * Prints "status DER_..." (or "status 0"), then for SystemQuery (101) "members N", and the
 * elapsed time "ms N". Exit 0 when the call was made (whatever its status), 1 on a local
 * failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <daos.h>
#include <daos/client.h>
#include <daos/pool_map.h>
#include <daos/svc_rpc.h>
#include <daos_srv/ctl.h>
#include <gurt/common.h>

#include "../common/sys_pool.h"
#include "../common/now_ms.h"
#include "mgmt/system.pb-c.h"

static void
print_status(int rc)
{
	if (rc == 0)
		printf("status 0\n");
	else
		printf("status %s\n", d_errstr(rc));
}

/* A pool handle whose only rank has its system context at @uri (a one-target map). */
static int
uri_pool(const char *uri, daos_handle_t *poh)
{
	struct pool_map_rank_desc rd = {.rd_rank = 0, .rd_node = 0, .rd_tgt_nr = 1};
	char *uris[2] = {(char *)uri, (char *)uri};
	struct dc_rank_uris ru = {.ru_rank = 0, .ru_nr = 2, .ru_uris = uris};
	struct pool_map *map;
	uuid_t uuid;
	int rc;

	uuid_generate(uuid);
	rc = pool_map_create(&rd, 1, 1, &map);
	if (rc != 0)
		return rc;
	rc = dc_pool_local_create(uuid, DAOS_PC_RW, map, &ru, 1, poh);
	pool_map_destroy(map);
	return rc;
}

/* A local pool handle from the pool map the management service at @mgmt gives. */
static int
mgmt_pool(const char *mgmt, daos_handle_t *poh)
{
	uuid_t uuid;
	int rc;

	uuid_generate(uuid);
	rc = sys_pool_local_handle(mgmt, uuid, poh);
	if (rc != 0)
		fprintf(stderr, "pool handle from %s: %s\n", mgmt, d_errstr(rc));
	return rc;
}

static int
do_call(const char *mgmt, uint32_t method)
{
	Mgmt__SystemQueryReq req = MGMT__SYSTEM_QUERY_REQ__INIT;
	ProtobufCMessage *resp = NULL;
	const ProtobufCMessageDescriptor *desc = NULL;
	struct dc_pool *pool = NULL;
	daos_handle_t poh = DAOS_HDL_INVAL;
	uint64_t t0;
	int rc;

	rc = daos_init();
	if (rc != 0) {
		fprintf(stderr, "daos_init: %s\n", d_errstr(rc));
		return 1;
	}
	if (strncmp(mgmt, "fi_", 3) == 0) {
		rc = uri_pool(mgmt, &poh);
		if (rc != 0) {
			fprintf(stderr, "pool handle for %s: %s\n", mgmt, d_errstr(rc));
			return 1;
		}
		pool = dc_pool_get(poh);
	} else if (strcmp(mgmt, "-") != 0) {
		if (mgmt_pool(mgmt, &poh) != 0)
			return 1;
		pool = dc_pool_get(poh);
	}
	if (method == DSS_CTL_SYSTEM_QUERY)
		desc = &mgmt__system_query_resp__descriptor;
	t0 = now_ms();
	rc = dc_svc_call(pool, method, &req.base, desc, &resp);
	print_status(rc);
	if (method == DSS_CTL_SYSTEM_QUERY && resp != NULL)
		printf("members %zu\n", ((Mgmt__SystemQueryResp *)resp)->n_members);
	printf("ms %llu\n", (unsigned long long)(now_ms() - t0));
	if (resp != NULL)
		protobuf_c_message_free_unpacked(resp, NULL);
	if (pool != NULL)
		dc_pool_put(pool);
	if (daos_handle_is_valid(poh))
		daos_pool_disconnect(poh, NULL);
	daos_fini();
	return 0;
}

static int
do_raw(const char *mgmt, uint32_t method, uint32_t nbytes)
{
	struct net_context_attr attr = {0};
	struct net_context *ctx = NULL;
	struct svc_call_in in = {0};
	struct svc_call_out out;
	struct net_msg *msg = NULL;
	struct dc_pool *pool;
	daos_handle_t poh;
	net_peer_t peer;
	char uri[NET_ADDR_STR_MAX];
	uint8_t *body;
	uint32_t i;
	int rc;

	rc = daos_init();
	if (rc != 0 || mgmt_pool(mgmt, &poh) != 0)
		return 1;
	pool = dc_pool_get(poh);
	snprintf(uri, sizeof(uri), "%s", pool->dp_ranks[0].ru_uris[0]);
	dc_pool_put(pool);
	daos_pool_disconnect(poh, NULL);

	body = malloc(nbytes > 0 ? nbytes : 1);
	if (body == NULL)
		return 1;
	srand((unsigned int)time(NULL));
	for (i = 0; i < nbytes; i++)
		body[i] = (uint8_t)rand();
	attr.ca_provider = "tcp;ofi_rxm";
	rc = net_context_create(&attr, &ctx);
	if (rc == 0)
		rc = net_peer_lookup(ctx, uri, &peer);
	if (rc != 0) {
		fprintf(stderr, "net context to %s: %s\n", uri, d_errstr(rc));
		return 1;
	}
	in.si_method = method;
	in.si_timeout_ms = 5000;
	d_iov_set(&in.si_body, body, nbytes);
	rc = net_rpc_call(ctx, peer, SVC_OPC_CALL, &in, NULL, 10000, &out, &msg);
	if (rc == 0)
		rc = out.so_status;
	print_status(rc);
	net_msg_free(msg);
	net_context_destroy(ctx);
	free(body);
	daos_fini();
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 4 && (strcmp(argv[1], "call") == 0 || strcmp(argv[1], "call-uri") == 0))
		return do_call(argv[2], (uint32_t)strtoul(argv[3], NULL, 10));
	if (argc == 5 && strcmp(argv[1], "raw") == 0)
		return do_raw(argv[2], (uint32_t)strtoul(argv[3], NULL, 10),
			      (uint32_t)strtoul(argv[4], NULL, 10));
	fprintf(stderr, "usage: %s call MGMT|- METHOD | raw MGMT METHOD NBYTES\n", argv[0]);
	return 2;
}
