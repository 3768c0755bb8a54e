/*
 * dfs_global_all_test.c POOL CONT BLOBFILE: dfs_local2global_all / dfs_global2local_all
 * with a real agent and server (run by test_fs_copy.sh). The parent connects with
 * dfs_connect, writes a file over several chunks, serialises the whole mount (pool,
 * container and mount handles) and checks the size query, a short buffer and damaged
 * blobs; a copy rebuilt in the same process reads the file and its dfs_disconnect leaves
 * the parent's handles working; then a second process (this program again, "child" mode)
 * rebuilds the mount from the blob in BLOBFILE alone, reads the parent's file and writes
 * one the parent then reads. Prints ok:/FAIL: lines; exit 0 when all held.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <daos.h>
#include <daos_fs.h>

#include "../common/ok_check.h"

extern char **environ;

#define FILE_LEN (3 * 1024 * 1024 + 4321) /* four chunks of the default 1 MiB */

static void
pat_fill(uint8_t *buf, unsigned int seed, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)((i * 131 + seed * 7 + (i >> 12)) & 0xff);
}

static int
file_write(dfs_t *dfs, const char *name, unsigned int seed)
{
	uint8_t *buf = malloc(FILE_LEN);
	d_sg_list_t sgl;
	d_iov_t iov;
	dfs_obj_t *f;
	int rc;

	if (buf == NULL)
		return ENOMEM;
	pat_fill(buf, seed, FILE_LEN);
	rc = dfs_open(dfs, NULL, name, S_IFREG | 0644, O_RDWR | O_CREAT | O_TRUNC, 0, 0, NULL, &f);
	if (rc == 0) {
		d_iov_set(&iov, buf, FILE_LEN);
		sgl = (d_sg_list_t){.sg_nr = 1, .sg_iovs = &iov};
		rc = dfs_write(dfs, f, &sgl, 0, NULL);
		dfs_release(f);
	}
	free(buf);
	return rc;
}

/* 0 if file @name holds the pattern @seed, else an errno or EILSEQ. */
static int
file_check(dfs_t *dfs, const char *name, unsigned int seed)
{
	uint8_t *want = malloc(FILE_LEN);
	uint8_t *got = malloc(FILE_LEN + 16);
	daos_size_t n = 0;
	d_sg_list_t sgl;
	d_iov_t iov;
	dfs_obj_t *f;
	int rc;

	if (want == NULL || got == NULL) {
		free(want);
		free(got);
		return ENOMEM;
	}
	pat_fill(want, seed, FILE_LEN);
	rc = dfs_open(dfs, NULL, name, S_IFREG, O_RDONLY, 0, 0, NULL, &f);
	if (rc == 0) {
		d_iov_set(&iov, got, FILE_LEN + 16);
		sgl = (d_sg_list_t){.sg_nr = 1, .sg_iovs = &iov};
		rc = dfs_read(dfs, f, &sgl, 0, &n, NULL);
		dfs_release(f);
	}
	if (rc == 0 && (n != FILE_LEN || memcmp(want, got, FILE_LEN) != 0))
		rc = EILSEQ;
	free(want);
	free(got);
	return rc;
}

static int
child(const char *blobfile)
{
	d_iov_t glob;
	struct stat st;
	dfs_t *dfs;
	FILE *f;
	int rc;

	f = fopen(blobfile, "rb");
	if (f == NULL || fstat(fileno(f), &st) != 0)
		return 10;
	glob.iov_buf = malloc((size_t)st.st_size);
	glob.iov_buf_len = glob.iov_len = (size_t)st.st_size;
	if (glob.iov_buf == NULL || fread(glob.iov_buf, 1, glob.iov_len, f) != glob.iov_len)
		return 11;
	fclose(f);
	/* before dfs_init: the library is not set up */
	if (dfs_global2local_all(0, glob, &dfs) == 0)
		return 12;
	if (dfs_init() != 0)
		return 13;
	rc = dfs_global2local_all(0, glob, &dfs);
	if (rc != 0) {
		fprintf(stderr, "child: global2local_all: %s\n", strerror(rc));
		return 14;
	}
	rc = file_check(dfs, "g_parent", 1);
	if (rc != 0) {
		fprintf(stderr, "child: reading the parent's file: %s\n", strerror(rc));
		return 15;
	}
	rc = file_write(dfs, "g_child", 2);
	if (rc != 0) {
		fprintf(stderr, "child: writing: %s\n", strerror(rc));
		return 16;
	}
	if (dfs_disconnect(dfs) != 0)
		return 17;
	free(glob.iov_buf);
	return dfs_fini() == 0 ? 0 : 18;
}

int
main(int argc, char **argv)
{
	struct stat st;
	d_iov_t glob = {0};
	d_iov_t bad;
	daos_cont_info_t info;
	daos_handle_t coh;
	dfs_t *dfs;
	dfs_t *d2;
	pid_t pid;
	FILE *f;
	char *cargv[4];
	uint8_t *copy;
	int status = 0;
	int rc;

	if (argc == 3 && strcmp(argv[1], "child") == 0)
		return child(argv[2]);
	if (argc != 4) {
		fprintf(stderr, "usage: %s POOL CONT BLOBFILE\n", argv[0]);
		return 2;
	}
	if (dfs_init() != 0)
		return 2;
	rc = dfs_connect(argv[1], NULL, argv[2], O_RDWR, NULL, &dfs);
	CHECK(rc == 0, "dfs_connect %s %s: %d", argv[1], argv[2], rc);
	if (rc != 0)
		return 1;
	rc = file_write(dfs, "g_parent", 1);
	CHECK(rc == 0, "write g_parent (%d bytes): %d", FILE_LEN, rc);

	CHECK(dfs_local2global_all(NULL, &glob) == EINVAL, "local2global_all(NULL) is EINVAL");
	rc = dfs_local2global_all(dfs, &glob);
	CHECK(rc == 0 && glob.iov_buf_len > 32, "size query: %d, %zu bytes", rc, glob.iov_buf_len);
	glob.iov_buf = malloc(glob.iov_buf_len);
	glob.iov_buf_len -= 1;
	CHECK(dfs_local2global_all(dfs, &glob) == ERANGE, "a short buffer is ERANGE");
	glob.iov_buf_len += 1;
	rc = dfs_local2global_all(dfs, &glob);
	CHECK(rc == 0 && glob.iov_len == glob.iov_buf_len, "local2global_all: %d, %zu bytes", rc,
	      glob.iov_len);

	/* damaged blobs: every one refused, none crashes */
	copy = malloc(glob.iov_len);
	memcpy(copy, glob.iov_buf, glob.iov_len);
	d_iov_set(&bad, copy, glob.iov_len);
	bad.iov_len = glob.iov_len - 1;
	CHECK(dfs_global2local_all(0, bad, &d2) == EINVAL, "a truncated blob is EINVAL");
	bad.iov_len = 10;
	CHECK(dfs_global2local_all(0, bad, &d2) == EINVAL, "a 10-byte blob is EINVAL");
	bad.iov_len = glob.iov_len;
	copy[0] ^= 0xff;
	CHECK(dfs_global2local_all(0, bad, &d2) == EINVAL, "a wrong magic is EINVAL");
	copy[0] ^= 0xff;
	copy[8] ^= 0x01; /* the pool part's length */
	CHECK(dfs_global2local_all(0, bad, &d2) == EINVAL, "wrong part lengths are EINVAL");
	copy[8] ^= 0x01;
	copy[40] ^= 0x5a; /* inside the pool handle: its crc */
	rc = dfs_global2local_all(0, bad, &d2);
	CHECK(rc != 0, "a damaged pool part is refused: %d", rc);
	copy[40] ^= 0x5a;
	CHECK(dfs_global2local_all(O_WRONLY | O_RDWR, bad, &d2) == EINVAL, "bad flags are EINVAL");
	CHECK(dfs_global2local_all(0, bad, NULL) == EINVAL, "NULL dfs is EINVAL");
	free(copy);

	/* in this process: a second mount over copies of the handles */
	rc = dfs_global2local_all(0, glob, &d2);
	CHECK(rc == 0, "global2local_all here: %d", rc);
	if (rc == 0) {
		rc = file_check(d2, "g_parent", 1);
		CHECK(rc == 0, "read g_parent through the copy: %d", rc);
		/* flags 0: the original's (read-write) */
		rc = dfs_mkdir(d2, NULL, "copy_dir", 0755, 0);
		CHECK(rc == 0, "the copy (flags 0: read-write as the original) makes a dir: %d",
		      rc);
		CHECK(dfs_stat(dfs, NULL, "copy_dir", &st) == 0 && S_ISDIR(st.st_mode),
		      "the original sees the copy's dir");
		CHECK(dfs_disconnect(d2) == 0, "dfs_disconnect of the copy");
	}
	dfs_cont_get(dfs, &coh);
	rc = daos_cont_query(coh, &info, NULL, NULL);
	CHECK(rc == 0, "the parent's container handle works after the copy's disconnect: %d", rc);
	dfs_cont_put(dfs, coh);
	CHECK(dfs_stat(dfs, NULL, "g_parent", &st) == 0 && st.st_size == FILE_LEN,
	      "the parent's mount works after the copy's disconnect");

	/* another process */
	f = fopen(argv[3], "wb");
	CHECK(f != NULL && fwrite(glob.iov_buf, 1, glob.iov_len, f) == glob.iov_len &&
		  fclose(f) == 0,
	      "blob written to %s", argv[3]);
	cargv[0] = argv[0];
	cargv[1] = "child";
	cargv[2] = argv[3];
	cargv[3] = NULL;
	fflush(stdout);
	rc = posix_spawn(&pid, argv[0], NULL, NULL, cargv, environ);
	CHECK(rc == 0, "spawn the child");
	if (rc == 0) {
		waitpid(pid, &status, 0);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "child: global2local_all, read the parent's file, wrote its own (exit %d)",
		      WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	}
	rc = file_check(dfs, "g_child", 2);
	CHECK(rc == 0, "the parent reads the child's file: %d", rc);
	rc = daos_cont_query(coh, &info, NULL, NULL);
	CHECK(rc == 0, "the parent's container handle works after the child's disconnect: %d", rc);
	CHECK(dfs_disconnect(dfs) == 0, "dfs_disconnect");
	free(glob.iov_buf);
	dfs_fini();
	return fails == 0 ? 0 : 1;
}
