/*
 * test_srv_attach.c: engine_srv_attach, a helper of the server system tests. It asks a
 * daos_server's management port for GetAttachInfo and prints what a client attaches with:
 *
 *	sys NAME
 *	provider PROVIDER
 *	uri RANK TAG ADDR          (one line per fabric context, in tag order)
 *	targets ADDR,ADDR,...      (the target contexts: tags 1 and up)
 *
 * Usage: engine_srv_attach [-t TIMEOUT_MS] ADDR:PORT. Exit 0, or 1 if the call fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gurt/common.h>
#include <daos_srv/ctl.h>

#include "mgmt/svc.pb-c.h"

int
main(int argc, char **argv)
{
	Mgmt__GetAttachInfoReq in = MGMT__GET_ATTACH_INFO_REQ__INIT;
	Mgmt__GetAttachInfoResp *out;
	struct dss_ctl_client *cli;
	uint64_t timeout_ms = 5000;
	uint8_t buf[64];
	size_t reply_len = 0;
	void *reply = NULL;
	size_t len;
	size_t i;
	int rc;

	if (argc == 4 && strcmp(argv[1], "-t") == 0) {
		timeout_ms = strtoull(argv[2], NULL, 10);
		argv += 2;
		argc -= 2;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: engine_srv_attach [-t TIMEOUT_MS] ADDR:PORT\n");
		return 2;
	}
	in.sys = "";
	in.all_ranks = true;
	len = mgmt__get_attach_info_req__pack(&in, buf);
	rc = dss_ctl_client_open(argv[1], timeout_ms, &cli);
	if (rc == 0) {
		rc = dss_ctl_client_call(cli, DSS_CTL_GET_ATTACH_INFO, buf, len, timeout_ms, &reply,
					 &reply_len);
		dss_ctl_client_close(cli);
	}
	if (rc != 0) {
		/* an error's reply may carry a body too (a leader hint) */
		D_FREE(reply);
		fprintf(stderr, "GetAttachInfo at %s: %s\n", argv[1], d_errstr(rc));
		return 1;
	}
	out = mgmt__get_attach_info_resp__unpack(NULL, reply_len, reply);
	D_FREE(reply);
	if (out == NULL) {
		fprintf(stderr, "GetAttachInfo: undecodable reply\n");
		return 1;
	}
	printf("sys %s\n", out->sys);
	if (out->client_net_hint != NULL)
		printf("provider %s\n", out->client_net_hint->provider);
	for (i = 0; i < out->n_rank_uris; i++)
		printf("uri %u %zu %s\n", out->rank_uris[i]->rank, i, out->rank_uris[i]->uri);
	printf("targets ");
	for (i = 1; i < out->n_rank_uris; i++)
		printf("%s%s", i > 1 ? "," : "", out->rank_uris[i]->uri);
	printf("\n");
	for (i = 0; i < out->n_access_points; i++)
		printf("access_point %s\n", out->access_points[i]);
	rc = out->status;
	mgmt__get_attach_info_resp__free_unpacked(out, NULL);
	return rc == 0 ? 0 : 1;
}
