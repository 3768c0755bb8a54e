/*
 * duns_path_test.c POOL LINKED_CONT DIR: libduns against a real server (run by
 * test_fs_copy.sh): duns_create_path makes a directory linked to a new POSIX container
 * (with its chunk size) and a file linked to an HDF5 one, duns_resolve_path finds them,
 * duns_link_cont links an existing container, duns_destroy_path destroys the container and
 * removes the path. Prints ok:/FAIL: lines; exit 0 when all held.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <daos.h>
#include <daos_fs.h>
#include <daos_uns.h>

#include "../common/ok_check.h"

static int
resolve(const char *path, struct duns_attr_t *attr)
{
	memset(attr, 0, sizeof(*attr));
	return duns_resolve_path(path, attr);
}

int
main(int argc, char **argv)
{
	struct duns_attr_t attr;
	struct duns_attr_t got;
	daos_pool_info_t pinfo;
	daos_cont_info_t cinfo;
	daos_handle_t poh;
	daos_handle_t coh;
	dfs_attr_t dattr;
	char puuid[37];
	char cuuid[37];
	char path[512];
	char hpath[512];
	char lpath[512];
	struct stat st;
	dfs_t *dfs;
	int rc;

	if (argc != 4) {
		fprintf(stderr, "usage: %s POOL LINKED_CONT DIR\n", argv[0]);
		return 2;
	}
	if (daos_init() != 0 ||
	    daos_pool_connect(argv[1], NULL, DAOS_PC_RW, &poh, NULL, NULL) != 0) {
		printf("FAIL: connect to pool %s\n", argv[1]);
		return 1;
	}
	memset(&pinfo, 0, sizeof(pinfo));
	daos_pool_query(poh, NULL, &pinfo, NULL, NULL);
	uuid_unparse(pinfo.pi_uuid, puuid);
	snprintf(path, sizeof(path), "%s/posix_link", argv[3]);
	snprintf(hpath, sizeof(hpath), "%s/h5_link", argv[3]);
	snprintf(lpath, sizeof(lpath), "%s/existing_link", argv[3]);

	/* a new POSIX container behind a new directory */
	memset(&attr, 0, sizeof(attr));
	attr.da_type = DAOS_PROP_CO_LAYOUT_POSIX;
	attr.da_chunk_size = 128 * 1024;
	rc = duns_create_path(poh, path, &attr);
	CHECK(rc == 0 && stat(path, &st) == 0 && S_ISDIR(st.st_mode),
	      "duns_create_path POSIX: %d, a directory, container %s", rc, attr.da_cont);
	rc = resolve(path, &got);
	CHECK(rc == 0 && got.da_type == DAOS_PROP_CO_LAYOUT_POSIX &&
		  strcmp(got.da_pool, puuid) == 0 && strcmp(got.da_cont, attr.da_cont) == 0 &&
		  got.da_rel_path == NULL,
	      "resolve it: %d, pool %s, cont %s", rc, got.da_pool, got.da_cont);
	duns_destroy_attr(&got);
	rc = dfs_connect(argv[1], NULL, attr.da_cont, O_RDONLY, NULL, &dfs);
	if (rc == 0) {
		memset(&dattr, 0, sizeof(dattr));
		dfs_query(dfs, &dattr);
		CHECK(dattr.da_chunk_size == 128 * 1024, "the container mounts, chunk size %zu",
		      (size_t)dattr.da_chunk_size);
		dfs_disconnect(dfs);
	} else {
		CHECK(0, "dfs_connect to the new container: %d", rc);
	}
	rc = duns_create_path(poh, path, &attr);
	CHECK(rc == EEXIST, "duns_create_path on an existing path: %d (EEXIST)", rc);

	/* HDF5: a file */
	memset(&attr, 0, sizeof(attr));
	attr.da_type = DAOS_PROP_CO_LAYOUT_HDF5;
	rc = duns_create_path(poh, hpath, &attr);
	CHECK(rc == 0 && stat(hpath, &st) == 0 && S_ISREG(st.st_mode),
	      "duns_create_path HDF5: %d, a file", rc);
	rc = resolve(hpath, &got);
	CHECK(rc == 0 && got.da_type == DAOS_PROP_CO_LAYOUT_HDF5, "resolve the HDF5 link: %d", rc);
	duns_destroy_attr(&got);
	rc = duns_destroy_path(poh, hpath);
	CHECK(rc == 0 && stat(hpath, &st) != 0, "duns_destroy_path HDF5: %d, file gone", rc);

	/* an existing container */
	rc = daos_cont_open(poh, argv[2], DAOS_COO_RO, &coh, &cinfo, NULL);
	CHECK(rc == 0, "open %s", argv[2]);
	if (rc == 0) {
		uuid_unparse(cinfo.ci_uuid, cuuid);
		daos_cont_close(coh, NULL);
		rc = duns_link_cont(poh, argv[2], lpath);
		CHECK(rc == 0, "duns_link_cont %s: %d", argv[2], rc);
		rc = resolve(lpath, &got);
		CHECK(rc == 0 && strcmp(got.da_cont, cuuid) == 0 &&
			  got.da_type == DAOS_PROP_CO_LAYOUT_POSIX,
		      "resolve the link: %d, %s", rc, got.da_cont);
		duns_destroy_attr(&got);
		rc = duns_link_cont(poh, argv[2], lpath);
		CHECK(rc == EEXIST, "linking again: %d (EEXIST)", rc);
		rc = duns_link_cont(poh, "no_such_cont", lpath);
		CHECK(rc == ENOENT, "linking a missing container: %d (ENOENT)", rc);
	}

	/* destroy the POSIX one: container gone, directory removed */
	memset(&attr, 0, sizeof(attr));
	rc = resolve(path, &attr);
	duns_destroy_attr(&attr);
	rc = duns_destroy_path(poh, path);
	CHECK(rc == 0 && stat(path, &st) != 0, "duns_destroy_path POSIX: %d, directory gone", rc);
	rc = daos_cont_open(poh, attr.da_cont, DAOS_COO_RO, &coh, NULL, NULL);
	CHECK(rc == -DER_NONEXIST, "its container is gone: %d", rc);
	rc = duns_destroy_path(poh, path);
	CHECK(rc == ENOENT, "destroying it again: %d (ENOENT)", rc);

	daos_pool_disconnect(poh, NULL);
	daos_fini();
	return fails == 0 ? 0 : 1;
}
