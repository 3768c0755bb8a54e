/*
 * dfuse_local.c: TEST-ONLY launcher of the dfuse core. Takes dfuse's options plus
 * --mgmt ADDR (a running daos_server's management address) and --create; --pool is a UUID,
 * --cont a label or UUID. With --create it first makes the pool (through the management
 * service, tests/common/sys_pool.h) and a container labelled --cont. The handles come from
 * the service (daos_pool_connect, daos_cont_open through the agent, as dfuse's), then it
 * mounts the namespace and serves it with the same core as dfuse
 * (src/client/dfuse/dfuse_core.c); unlike dfuse it reports the client's object RPCs.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <daos.h>
#include <daos_fs.h>
#include <daos/client.h>
#include <daos/obj_shard.h>
#include <gurt/common.h>

#include "../common/sys_pool.h"
#include "dfuse_internal.h"

_Static_assert(DC_OBJ_RPC_NR == DFUSE_RPC_NR, "the RPC counts dfuse reports");

int
main(int argc, char **argv)
{
	struct dfuse_opts o;
	daos_handle_t poh;
	daos_handle_t coh;
	uuid_t puuid;
	dfs_t *dfs;
	int rc;

	/* RPC counts through getxattr DFUSE_XATTR_RPCS (README "Tests") */
	dfuse_rpc_counts = dc_obj_rpc_counts;
	rc = dfuse_opts_parse(argc, argv, true, &o);
	if (rc != 0)
		return rc < 0 ? 0 : 2;
	if (uuid_parse(o.do_pool, puuid) != 0) {
		fprintf(stderr, "dfuse_local: --pool must be a UUID\n");
		return 2;
	}
	dfuse_bg_start(&o);
	dfuse_env_defaults();
	if (o.do_create) {
		rc = sys_pool_create(o.do_mgmt, puuid);
		if (rc != 0) {
			fprintf(stderr, "dfuse_local: pool create: %s\n", d_errstr(rc));
			return 1;
		}
	}
	rc = daos_init();
	if (rc != 0) {
		fprintf(stderr, "dfuse_local: daos_init: %s\n", d_errstr(rc));
		return 1;
	}
	rc = sys_pool_connect(o.do_mgmt, puuid, &poh);
	if (rc != 0) {
		fprintf(stderr, "dfuse_local: pool handle: %s\n", d_errstr(rc));
		goto out_fini;
	}
	if (o.do_create) {
		rc = daos_cont_create_with_label(poh, o.do_cont, NULL, NULL, NULL);
		if (rc != 0) {
			fprintf(stderr, "dfuse_local: container create %s: %s\n", o.do_cont,
				d_errstr(rc));
			goto out_pool;
		}
	}
	rc = daos_cont_open(poh, o.do_cont, o.do_rdonly ? DAOS_COO_RO : DAOS_COO_RW, &coh, NULL,
			    NULL);
	if (rc != 0) {
		fprintf(stderr, "dfuse_local: container open %s: %s\n", o.do_cont, d_errstr(rc));
		goto out_pool;
	}
	rc = dfs_mount(poh, coh, o.do_rdonly ? O_RDONLY : O_RDWR, &dfs);
	if (rc != 0) {
		fprintf(stderr, "dfuse_local: dfs_mount: %s\n", strerror(rc));
		goto out_cont;
	}
	rc = dfuse_serve(dfs, &o, dfuse_bg_ready, NULL);
	dfs_umount(dfs);
out_cont:
	daos_cont_close(coh, NULL);
out_pool:
	daos_pool_disconnect(poh, NULL);
out_fini:
	daos_fini();
	return rc == 0 ? 0 : 1;
}
