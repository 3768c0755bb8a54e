/*
 * dfuse_main.c: the dfuse program. Connects to a pool and opens a container through the
 * management service (daos_pool_connect, daos_cont_open), mounts the namespace (dfs_mount)
 * and serves it with the FUSE core until unmounted or signalled.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <daos.h>
#include <daos_fs.h>

#include "dfuse_internal.h"

int
main(int argc, char **argv)
{
	struct dfuse_opts o;
	daos_handle_t poh;
	daos_handle_t coh;
	dfs_t *dfs;
	int rc;

	rc = dfuse_opts_parse(argc, argv, false, &o);
	if (rc != 0)
		return rc < 0 ? 0 : 2;
	dfuse_bg_start(&o);
	dfuse_env_defaults();
	rc = daos_init();
	if (rc != 0) {
		fprintf(stderr, "dfuse: daos_init: %s\n", d_errstr(rc));
		return 1;
	}
	rc = daos_pool_connect(o.do_pool, o.do_sys, o.do_rdonly ? DAOS_PC_RO : DAOS_PC_RW, &poh,
			       NULL, NULL);
	if (rc != 0) {
		fprintf(stderr, "dfuse: connecting to pool %s: %s\n", o.do_pool, d_errstr(rc));
		goto out_fini;
	}
	rc = daos_cont_open(poh, o.do_cont, o.do_rdonly ? DAOS_COO_RO : DAOS_COO_RW, &coh, NULL,
			    NULL);
	if (rc != 0) {
		fprintf(stderr, "dfuse: opening container %s: %s\n", o.do_cont, d_errstr(rc));
		goto out_pool;
	}
	rc = dfs_mount(poh, coh, o.do_rdonly ? O_RDONLY : O_RDWR, &dfs);
	if (rc != 0) {
		fprintf(stderr, "dfuse: dfs_mount: %s\n", strerror(rc));
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
