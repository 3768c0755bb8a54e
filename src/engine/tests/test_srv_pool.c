/*
 * test_srv_pool.c: engine_srv_pool, a helper of the server system tests. It drives a
 * daos_server's pool shards through its management port (mgmt/tgt.proto) and prints one
 * line per target:
 *
 *	engine_srv_pool [-t MS] ADDR:PORT create UUID SCM_BYTES NVME_BYTES
 *	engine_srv_pool [-t MS] ADDR:PORT destroy UUID
 *	engine_srv_pool [-t MS] ADDR:PORT query UUID
 *
 * create/destroy print "status RC" then "tgt I RC"; query prints "status RC" then
 * "tgt I RC scm_total scm_free data_total data_free last_lsn ckpt_lsn". RC are -DER_* numbers.
 * Exit 0 if the call got a reply (whatever its status), 1 if it did not, 2 on bad usage.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gurt/common.h>
#include <daos_srv/ctl.h>

#include "mgmt/tgt.pb-c.h"

static int
usage(void)
{
	fprintf(stderr, "usage: engine_srv_pool [-t TIMEOUT_MS] ADDR:PORT create UUID SCM NVME\n"
			"       engine_srv_pool [-t TIMEOUT_MS] ADDR:PORT destroy|query UUID\n");
	return 2;
}

static int
call(const char *addr, uint32_t method, const ProtobufCMessage *msg, uint64_t timeout_ms,
     void **reply, size_t *reply_len)
{
	struct dss_ctl_client *cli;
	uint8_t buf[256];
	size_t len = protobuf_c_message_get_packed_size(msg);
	int rc;

	if (len > sizeof(buf))
		return -DER_OVERFLOW;
	protobuf_c_message_pack(msg, buf);
	rc = dss_ctl_client_open(addr, timeout_ms, &cli);
	if (rc != 0)
		return rc;
	rc = dss_ctl_client_call(cli, method, buf, len, timeout_ms, reply, reply_len);
	dss_ctl_client_close(cli);
	return rc;
}

int
main(int argc, char **argv)
{
	uint64_t timeout_ms = 30000;
	const char *addr, *cmd, *uuid;
	size_t reply_len = 0;
	void *reply = NULL;
	size_t i;
	int rc;

	if (argc > 2 && strcmp(argv[1], "-t") == 0) {
		timeout_ms = strtoull(argv[2], NULL, 10);
		argv += 2;
		argc -= 2;
	}
	if (argc < 4)
		return usage();
	addr = argv[1];
	cmd = argv[2];
	uuid = argv[3];
	if (strcmp(cmd, "create") == 0 && argc == 6) {
		Mgmt__TgtCreateReq in = MGMT__TGT_CREATE_REQ__INIT;
		Mgmt__TgtCreateResp *out;

		in.pool_uuid = (char *)uuid;
		in.scm_bytes = strtoull(argv[4], NULL, 0);
		in.nvme_bytes = strtoull(argv[5], NULL, 0);
		rc = call(addr, DSS_CTL_TGT_CREATE, &in.base, timeout_ms, &reply, &reply_len);
		if (rc != 0)
			goto fail;
		out = mgmt__tgt_create_resp__unpack(NULL, reply_len, reply);
		if (out == NULL)
			goto bad;
		printf("status %d\n", out->status);
		for (i = 0; i < out->n_tgt_status; i++)
			printf("tgt %zu %d\n", i, out->tgt_status[i]);
		mgmt__tgt_create_resp__free_unpacked(out, NULL);
	} else if (strcmp(cmd, "destroy") == 0 && argc == 4) {
		Mgmt__TgtDestroyReq in = MGMT__TGT_DESTROY_REQ__INIT;
		Mgmt__TgtDestroyResp *out;

		in.pool_uuid = (char *)uuid;
		rc = call(addr, DSS_CTL_TGT_DESTROY, &in.base, timeout_ms, &reply, &reply_len);
		if (rc != 0)
			goto fail;
		out = mgmt__tgt_destroy_resp__unpack(NULL, reply_len, reply);
		if (out == NULL)
			goto bad;
		printf("status %d\n", out->status);
		for (i = 0; i < out->n_tgt_status; i++)
			printf("tgt %zu %d\n", i, out->tgt_status[i]);
		mgmt__tgt_destroy_resp__free_unpacked(out, NULL);
	} else if (strcmp(cmd, "query") == 0 && argc == 4) {
		Mgmt__TgtQueryReq in = MGMT__TGT_QUERY_REQ__INIT;
		Mgmt__TgtQueryResp *out;

		in.pool_uuid = (char *)uuid;
		rc = call(addr, DSS_CTL_TGT_QUERY, &in.base, timeout_ms, &reply, &reply_len);
		if (rc != 0)
			goto fail;
		out = mgmt__tgt_query_resp__unpack(NULL, reply_len, reply);
		if (out == NULL)
			goto bad;
		printf("status %d\n", out->status);
		for (i = 0; i < out->n_shards; i++) {
			const Mgmt__TgtShard *sh = out->shards[i];

			printf("tgt %u %d %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
			       " %" PRIu64 "\n",
			       sh->tgt, sh->status, sh->scm_total, sh->scm_free, sh->data_total,
			       sh->data_free, sh->last_lsn, sh->ckpt_lsn);
		}
		mgmt__tgt_query_resp__free_unpacked(out, NULL);
	} else {
		return usage();
	}
	D_FREE(reply);
	return 0;

fail:
	fprintf(stderr, "%s at %s: %s\n", cmd, addr, d_errstr(rc));
	return 1;
bad:
	D_FREE(reply);
	fprintf(stderr, "%s: undecodable reply\n", cmd);
	return 1;
}
