/*
 * dfs_ns_test.c: the DFS namespace (libdfs) against a real daos_server.
 *
 *	dfs_ns_test MGMT_ADDR [NENTRIES]
 *	dfs_ns_test MGMT_ADDR race POOL_UUID CONT_UUID ROUNDS   (a racer, started by the above)
 *
 * Creates a pool on every target of the server and its containers through the management
 * service (sys_pool.h; each racer connects and opens on its own), and checks:
 * mount of an empty container (superblock created, checked on the next mount, read-only
 * mounts), names with '/' and NAME_MAX + 1, O_CREAT/O_EXCL, lookups through symbolic links,
 * remove, rename, attributes, extended attributes, global handles, readdir of NENTRIES
 * (10000) entries in small batches, two processes racing O_EXCL creations of the same names
 * (exactly one wins each), and a seeded random sequence of operations on a small tree
 * compared with a model. Exits 0 when everything matched.
 */
#include <errno.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <d_test.h>
#include <daos.h>
#include <daos_fs.h>
#include <daos/client.h>
#include <gurt/common.h>

#include "../common/model_check.h"

extern char **environ;

#define CHECK_RC(expr, want)                                                                       \
	do {                                                                                       \
		int rc_ = (expr);                                                                  \
		CHECK(rc_ == (want), "%s: %d (%s), want %d", #expr, rc_, strerror(rc_), (want));   \
	} while (0)

static void
cont_open(daos_handle_t poh, const uuid_t cuuid, daos_handle_t *coh)
{
	if (sys_cont_open(poh, cuuid, DAOS_COO_RW, coh) != 0)
		exit(1);
}

/* A new container (through the service): its uuid in @cuuid, opened RW in *@coh. */
static void
cont_new(daos_handle_t poh, uuid_t cuuid, daos_handle_t *coh)
{
	if (sys_cont_create(poh, cuuid) != 0)
		exit(1);
	cont_open(poh, cuuid, coh);
}

static void
test_mount(daos_handle_t poh)
{
	daos_handle_t coh;
	dfs_t *dfs;
	dfs_obj_t *root;
	dfs_attr_t attr;
	mode_t mode;
	uuid_t cuuid;

	cont_new(poh, cuuid, &coh);
	/* an empty container mounted read-only has no namespace */
	CHECK_RC(dfs_mount(poh, coh, O_RDONLY, &dfs), ENOENT);
	CHECK_RC(dfs_mount(poh, coh, O_RDWR, &dfs), 0);
	CHECK_RC(dfs_query(dfs, &attr), 0);
	CHECK(attr.da_chunk_size == DFS_DEFAULT_CHUNK_SIZE, "chunk %" PRIu64, attr.da_chunk_size);
	CHECK_RC(dfs_mkdir(dfs, NULL, "kept", 0755, 0), 0);
	CHECK_RC(dfs_umount(dfs), 0);
	/* the second mount reads the superblock and sees what the first one did */
	CHECK_RC(dfs_mount(poh, coh, O_RDONLY, &dfs), 0);
	CHECK_RC(dfs_lookup(dfs, "/", O_RDONLY, &root, &mode, NULL), 0);
	CHECK(S_ISDIR(mode), "root mode %o", mode);
	dfs_release(root);
	CHECK_RC(dfs_lookup(dfs, "/kept", O_RDONLY, &root, &mode, NULL), 0);
	CHECK(S_ISDIR(mode), "kept mode %o", mode);
	dfs_release(root);
	CHECK_RC(dfs_open(dfs, NULL, "new", S_IFREG | 0644, O_RDWR | O_CREAT, 0, 0, NULL, &root),
		 EPERM);
	CHECK_RC(dfs_mkdir(dfs, NULL, "new", 0755, 0), EPERM);
	CHECK_RC(dfs_umount(dfs), 0);
	daos_cont_close(coh, NULL);

	/* a superblock with another magic is not mounted, read-only or not */
	cont_new(poh, cuuid, &coh);
	{
		daos_obj_id_t sb = {.lo = 0, .hi = 0};
		uint64_t bad = 0x1234;
		daos_handle_t oh;
		daos_key_t dkey;
		daos_iod_t iod = {0};
		d_iov_t iov;
		d_sg_list_t sgl = {.sg_nr = 1, .sg_iovs = &iov};

		CHECK_RC(daos_obj_generate_oid(coh, &sb, DAOS_OT_MULTI_HASHED, OC_S1, 0, 0), 0);
		CHECK_RC(daos_obj_open(coh, sb, DAOS_OO_RW, &oh, NULL), 0);
		d_iov_set(&dkey, "DFS_SB_METADATA", 15);
		d_iov_set(&iod.iod_name, "DFS_MAGIC", 9);
		iod.iod_type = DAOS_IOD_SINGLE;
		iod.iod_size = sizeof(bad);
		iod.iod_nr = 1;
		d_iov_set(&iov, &bad, sizeof(bad));
		CHECK_RC(daos_obj_update(oh, DAOS_TX_NONE, 0, &dkey, 1, &iod, &sgl, NULL), 0);
		daos_obj_close(oh, NULL);
	}
	CHECK_RC(dfs_mount(poh, coh, O_RDWR, &dfs), EINVAL);
	CHECK_RC(dfs_mount(poh, coh, O_RDONLY, &dfs), EINVAL);
	daos_cont_close(coh, NULL);
}

static void
test_names(dfs_t *dfs)
{
	char longname[DFS_MAX_NAME + 2];
	struct stat st;
	dfs_obj_t *obj;

	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	CHECK_RC(dfs_mkdir(dfs, NULL, "a/b", 0755, 0), EINVAL);
	CHECK_RC(dfs_open(dfs, NULL, "x/y", S_IFREG | 0644, O_RDWR | O_CREAT, 0, 0, NULL, &obj),
		 EINVAL);
	CHECK_RC(dfs_stat(dfs, NULL, "a/b", &st), EINVAL);
	CHECK_RC(dfs_mkdir(dfs, NULL, "", 0755, 0), EINVAL);
	CHECK_RC(dfs_mkdir(dfs, NULL, longname, 0755, 0), EINVAL);
	CHECK_RC(dfs_open(dfs, NULL, longname, S_IFREG | 0644, O_RDWR | O_CREAT, 0, 0, NULL, &obj),
		 EINVAL);
	longname[DFS_MAX_NAME] = '\0';
	CHECK_RC(dfs_mkdir(dfs, NULL, longname, 0755, 0), 0);
	CHECK_RC(dfs_stat(dfs, NULL, longname, &st), 0);
	CHECK_RC(dfs_remove(dfs, NULL, longname, false, NULL), 0);
	CHECK_RC(dfs_stat(dfs, NULL, "missing", &st), ENOENT);
}

static void
test_open(dfs_t *dfs)
{
	dfs_obj_t *d1;
	dfs_obj_t *f;
	dfs_obj_t *g;
	daos_obj_id_t oid1;
	daos_obj_id_t oid2;
	daos_size_t chunk;
	struct stat st;
	mode_t mode;

	CHECK_RC(dfs_mkdir(dfs, NULL, "d1", 0750, 0), 0);
	CHECK_RC(dfs_mkdir(dfs, NULL, "d1", 0750, 0), EEXIST);
	CHECK_RC(dfs_lookup(dfs, "/d1", O_RDWR, &d1, &mode, &st), 0);
	CHECK(S_ISDIR(mode) && (st.st_mode & 0777) == 0750, "d1 mode %o", st.st_mode);
	CHECK_RC(dfs_open(dfs, d1, "f", S_IFREG | 0640, O_RDWR | O_CREAT | O_EXCL, 0, 0, NULL, &f),
		 0);
	CHECK_RC(dfs_get_chunk_size(f, &chunk), 0);
	CHECK(chunk == DFS_DEFAULT_CHUNK_SIZE, "chunk %" PRIu64, chunk);
	CHECK_RC(dfs_open(dfs, d1, "f", S_IFREG | 0640, O_RDWR | O_CREAT | O_EXCL, 0, 0, NULL, &g),
		 EEXIST);
	CHECK_RC(dfs_open(dfs, d1, "f", S_IFREG | 0640, O_RDWR | O_CREAT, 0, 0, NULL, &g), 0);
	dfs_obj2id(f, &oid1);
	dfs_obj2id(g, &oid2);
	CHECK(oid1.lo == oid2.lo && oid1.hi == oid2.hi, "O_CREAT reopened another object");
	CHECK(daos_obj_id2type(oid1) == DAOS_OT_ARRAY_BYTE, "file type %d", daos_obj_id2type(oid1));
	dfs_release(g);
	CHECK_RC(dfs_open(dfs, d1, "f", S_IFREG, O_RDWR | O_APPEND, 0, 0, NULL, &g), ENOTSUP);
	CHECK_RC(dfs_open(dfs, d1, "f", S_IFDIR, O_RDWR, 0, 0, NULL, &g), ENOTDIR);
	CHECK_RC(dfs_open(dfs, NULL, "d1", S_IFREG, O_RDWR, 0, 0, NULL, &g), EISDIR);
	CHECK_RC(dfs_open(dfs, d1, "nope", S_IFREG, O_RDWR, 0, 0, NULL, &g), ENOENT);
	CHECK_RC(dfs_open(dfs, d1, "c", S_IFREG | 0600, O_RDWR | O_CREAT, OC_S1, 4096, NULL, &g),
		 0);
	CHECK_RC(dfs_get_chunk_size(g, &chunk), 0);
	CHECK(chunk == 4096, "chunk %" PRIu64, chunk);
	dfs_obj2id(g, &oid2);
	CHECK(daos_obj_id2class(oid2) == OC_S1, "class %u", daos_obj_id2class(oid2));
	dfs_release(g);
	CHECK_RC(dfs_mkdir(dfs, f, "sub", 0755, 0), ENOTDIR);

	CHECK_RC(dfs_lookup(dfs, "/d1/f", O_RDONLY, &g, &mode, NULL), 0);
	CHECK(S_ISREG(mode), "f mode %o", mode);
	dfs_release(g);
	CHECK_RC(dfs_lookup(dfs, "//d1/./f/", O_RDONLY, &g, &mode, NULL), 0);
	dfs_release(g);
	CHECK_RC(dfs_lookup(dfs, "/d1/nope", O_RDONLY, &g, NULL, NULL), ENOENT);
	CHECK_RC(dfs_lookup(dfs, "/d1/f/x", O_RDONLY, &g, NULL, NULL), ENOTDIR);
	CHECK_RC(dfs_lookup(dfs, "d1", O_RDONLY, &g, NULL, NULL), EINVAL);
	CHECK_RC(dfs_lookup_rel(dfs, d1, "f", O_RDONLY, &g, &mode, &st), 0);
	CHECK(S_ISREG(st.st_mode) && st.st_uid == geteuid(), "stat %o %u", st.st_mode, st.st_uid);
	dfs_release(g);
	dfs_release(f);
	dfs_release(d1);
}

static void
test_symlink(dfs_t *dfs)
{
	dfs_obj_t *l;
	dfs_obj_t *o;
	char buf[64];
	daos_size_t size;
	struct stat st;
	mode_t mode;

	CHECK_RC(
	    dfs_open(dfs, NULL, "l", S_IFLNK | 0777, O_RDWR | O_CREAT | O_EXCL, 0, 0, "/d1/f", &l),
	    0);
	size = sizeof(buf);
	CHECK_RC(dfs_get_symlink_value(l, buf, &size), 0);
	CHECK(size == 6 && strcmp(buf, "/d1/f") == 0, "value %s size %" PRIu64, buf, size);
	size = 3;
	CHECK_RC(dfs_get_symlink_value(l, buf, &size), 0);
	CHECK(size == 6 && strcmp(buf, "/d") == 0, "short value %s", buf);
	dfs_release(l);
	CHECK_RC(dfs_stat(dfs, NULL, "l", &st), 0);
	CHECK(S_ISLNK(st.st_mode) && st.st_size == 5, "link stat %o %ld", st.st_mode,
	      (long)st.st_size);
	CHECK_RC(dfs_lookup(dfs, "/l", O_RDONLY, &o, &mode, NULL), 0);
	CHECK(S_ISREG(mode), "followed mode %o", mode);
	dfs_release(o);
	CHECK_RC(dfs_lookup(dfs, "/l", O_RDONLY | O_NOFOLLOW, &o, &mode, NULL), 0);
	CHECK(S_ISLNK(mode), "nofollow mode %o", mode);
	dfs_release(o);
	/* a relative link in the middle of a path */
	CHECK_RC(dfs_open(dfs, NULL, "rl", S_IFLNK | 0777, O_RDWR | O_CREAT, 0, 0, "d1", &l), 0);
	dfs_release(l);
	CHECK_RC(dfs_lookup(dfs, "/rl/f", O_RDONLY, &o, &mode, NULL), 0);
	CHECK(S_ISREG(mode), "through rl mode %o", mode);
	dfs_release(o);
	/* a loop */
	CHECK_RC(dfs_open(dfs, NULL, "loop", S_IFLNK | 0777, O_RDWR | O_CREAT, 0, 0, "loop", &l),
		 0);
	dfs_release(l);
	CHECK_RC(dfs_lookup(dfs, "/loop", O_RDONLY, &o, NULL, NULL), ELOOP);
	CHECK_RC(dfs_remove(dfs, NULL, "loop", false, NULL), 0);
	CHECK_RC(dfs_lookup_rel(dfs, NULL, "rl", O_RDONLY, &o, &mode, NULL), 0);
	CHECK(S_ISLNK(mode), "lookup_rel does not follow: %o", mode);
	dfs_release(o);
}

static void
test_remove_move(dfs_t *dfs)
{
	dfs_obj_t *d2;
	dfs_obj_t *d3;
	dfs_obj_t *f;
	daos_obj_id_t oid;
	daos_obj_id_t foid;
	struct stat st;

	CHECK_RC(dfs_mkdir(dfs, NULL, "d2", 0755, 0), 0);
	CHECK_RC(dfs_lookup(dfs, "/d2", O_RDWR, &d2, NULL, NULL), 0);
	CHECK_RC(dfs_mkdir(dfs, d2, "sub", 0755, 0), 0);
	CHECK_RC(dfs_open(dfs, d2, "g", S_IFREG | 0644, O_RDWR | O_CREAT, 0, 0, NULL, &f), 0);
	dfs_obj2id(f, &foid);
	dfs_release(f);
	CHECK_RC(dfs_remove(dfs, NULL, "d2", false, NULL), ENOTEMPTY);
	CHECK_RC(dfs_remove(dfs, d2, "nope", false, NULL), ENOENT);

	/* across directories, then back over an existing file */
	CHECK_RC(dfs_mkdir(dfs, NULL, "d3", 0755, 0), 0);
	CHECK_RC(dfs_lookup(dfs, "/d3", O_RDWR, &d3, NULL, NULL), 0);
	CHECK_RC(dfs_move(dfs, d2, "g", d3, "g2", NULL), 0);
	CHECK_RC(dfs_stat(dfs, d2, "g", &st), ENOENT);
	CHECK_RC(dfs_lookup(dfs, "/d3/g2", O_RDONLY, &f, NULL, NULL), 0);
	dfs_obj2id(f, &oid);
	CHECK(oid.lo == foid.lo && oid.hi == foid.hi, "moved file has another oid");
	dfs_release(f);
	CHECK_RC(dfs_open(dfs, d2, "victim", S_IFREG | 0644, O_RDWR | O_CREAT, 0, 0, NULL, &f), 0);
	dfs_obj2id(f, &foid);
	dfs_release(f);
	CHECK_RC(dfs_move(dfs, d3, "g2", d2, "victim", &oid), 0);
	CHECK(oid.lo == foid.lo && oid.hi == foid.hi, "replaced oid not returned");
	CHECK_RC(dfs_stat(dfs, d3, "g2", &st), ENOENT);
	CHECK_RC(dfs_stat(dfs, d2, "victim", &st), 0);
	/* directories: over a file, over a non-empty directory, over an empty one */
	CHECK_RC(dfs_move(dfs, d2, "sub", d2, "victim", NULL), ENOTDIR);
	CHECK_RC(dfs_move(dfs, d2, "victim", NULL, "d3", NULL), EISDIR);
	CHECK_RC(dfs_mkdir(dfs, d3, "x", 0755, 0), 0);
	CHECK_RC(dfs_move(dfs, NULL, "d2", NULL, "d3", NULL), ENOTEMPTY);
	CHECK_RC(dfs_remove(dfs, d3, "x", false, NULL), 0);
	CHECK_RC(dfs_move(dfs, d2, "sub", NULL, "d3", NULL), 0);
	CHECK_RC(dfs_stat(dfs, NULL, "d3", &st), 0);
	CHECK(S_ISDIR(st.st_mode), "d3 %o", st.st_mode);
	/* same name: nothing happens */
	CHECK_RC(dfs_move(dfs, d2, "victim", d2, "victim", NULL), 0);
	CHECK_RC(dfs_stat(dfs, d2, "victim", &st), 0);
	dfs_release(d3);
	dfs_release(d2);
	CHECK_RC(dfs_remove(dfs, NULL, "d2", true, &oid), 0);
	CHECK_RC(dfs_stat(dfs, NULL, "d2", &st), ENOENT);
	CHECK_RC(dfs_remove(dfs, NULL, "d3", false, NULL), 0);
}

static void
test_attrs(dfs_t *dfs)
{
	struct stat st = {0};
	dfs_obj_t *f;
	char list[64];
	char val[16];
	daos_size_t size;

	CHECK_RC(dfs_open(dfs, NULL, "af", S_IFREG | 0600, O_RDWR | O_CREAT, 0, 0, NULL, &f), 0);
	CHECK_RC(dfs_chmod(dfs, NULL, "af", 0444), 0);
	CHECK_RC(dfs_stat(dfs, NULL, "af", &st), 0);
	CHECK((st.st_mode & 0777) == 0444 && S_ISREG(st.st_mode), "chmod %o", st.st_mode);
	CHECK_RC(dfs_access(dfs, NULL, "af", R_OK), 0);
	if (geteuid() != 0)
		CHECK_RC(dfs_access(dfs, NULL, "af", W_OK), EACCES);
	CHECK_RC(dfs_access(dfs, NULL, "af", X_OK), EACCES);
	CHECK_RC(dfs_access(dfs, NULL, "nope", F_OK), ENOENT);
	CHECK_RC(dfs_chown(dfs, NULL, "af", 1234, (gid_t)-1, 0), 0);
	CHECK_RC(dfs_ostat(dfs, f, &st), 0);
	CHECK(st.st_uid == 1234 && st.st_gid == getegid(), "chown %u %u", st.st_uid, st.st_gid);
	st.st_mtim.tv_sec = 1000;
	st.st_mtim.tv_nsec = 5;
	CHECK_RC(dfs_osetattr(dfs, f, &st, DFS_SET_ATTR_MTIME), 0);
	CHECK_RC(dfs_stat(dfs, NULL, "af", &st), 0);
	CHECK(st.st_mtim.tv_sec == 1000 && st.st_mtim.tv_nsec == 5, "mtime %ld",
	      (long)st.st_mtim.tv_sec);
	/* symbolic links are followed by chmod */
	{
		dfs_obj_t *l;

		CHECK_RC(
		    dfs_open(dfs, NULL, "al", S_IFLNK | 0777, O_RDWR | O_CREAT, 0, 0, "af", &l), 0);
		dfs_release(l);
		CHECK_RC(dfs_chmod(dfs, NULL, "al", 0640), 0);
		CHECK_RC(dfs_stat(dfs, NULL, "af", &st), 0);
		CHECK((st.st_mode & 0777) == 0640, "chmod through link %o", st.st_mode);
	}

	CHECK_RC(dfs_setxattr(dfs, f, "user.a", "one", 3, XATTR_CREATE), 0);
	CHECK_RC(dfs_setxattr(dfs, f, "user.a", "two", 3, XATTR_CREATE), EEXIST);
	CHECK_RC(dfs_setxattr(dfs, f, "user.b", "two", 3, XATTR_REPLACE), ENODATA);
	CHECK_RC(dfs_setxattr(dfs, f, "user.b", "bee", 3, 0), 0);
	size = sizeof(val);
	CHECK_RC(dfs_getxattr(dfs, f, "user.a", val, &size), 0);
	CHECK(size == 3 && memcmp(val, "one", 3) == 0, "getxattr");
	size = 0;
	CHECK_RC(dfs_getxattr(dfs, f, "user.b", NULL, &size), 0);
	CHECK(size == 3, "getxattr size %" PRIu64, size);
	size = sizeof(list);
	CHECK_RC(dfs_listxattr(dfs, f, list, &size), 0);
	CHECK(size == 14, "listxattr size %" PRIu64, size);
	CHECK_RC(dfs_removexattr(dfs, f, "user.a"), 0);
	CHECK_RC(dfs_removexattr(dfs, f, "user.a"), ENODATA);
	size = sizeof(val);
	CHECK_RC(dfs_getxattr(dfs, f, "user.a", val, &size), ENODATA);
	dfs_release(f);
	/* extended attributes move with the entry */
	CHECK_RC(dfs_move(dfs, NULL, "af", NULL, "af2", NULL), 0);
	CHECK_RC(dfs_lookup(dfs, "/af2", O_RDWR, &f, NULL, NULL), 0);
	size = sizeof(val);
	CHECK_RC(dfs_getxattr(dfs, f, "user.b", val, &size), 0);
	CHECK(size == 3 && memcmp(val, "bee", 3) == 0, "xattr after move");
	dfs_release(f);
}

static void
test_global(daos_handle_t poh, daos_handle_t coh, dfs_t *dfs)
{
	d_iov_t glob = {0};
	dfs_t *dfs2;
	dfs_obj_t *o;

	CHECK_RC(dfs_local2global(dfs, &glob), 0);
	CHECK(glob.iov_buf_len > 0, "global size");
	glob.iov_buf = malloc(glob.iov_buf_len);
	CHECK_RC(dfs_local2global(dfs, &glob), 0);
	CHECK_RC(dfs_global2local(poh, coh, 0, glob, &dfs2), 0);
	CHECK_RC(dfs_lookup(dfs2, "/d1/f", O_RDONLY, &o, NULL, NULL), 0);
	dfs_release(o);
	CHECK_RC(dfs_umount(dfs2), 0);
	((char *)glob.iov_buf)[0] ^= 1;
	CHECK_RC(dfs_global2local(poh, coh, 0, glob, &dfs2), EINVAL);
	free(glob.iov_buf);
}

static void
test_readdir(dfs_t *dfs, int nent)
{
	daos_anchor_t anchor = DAOS_ANCHOR_INIT;
	struct dirent ents[7];
	uint8_t *seen = calloc((size_t)nent, 1);
	dfs_obj_t *dir;
	char name[32];
	int total = 0;
	int i;

	CHECK_RC(dfs_mkdir(dfs, NULL, "big", 0755, 0), 0);
	CHECK_RC(dfs_lookup(dfs, "/big", O_RDWR, &dir, NULL, NULL), 0);
	for (i = 0; i < nent; i++) {
		dfs_obj_t *f;

		snprintf(name, sizeof(name), "e%d", i);
		CHECK_RC(dfs_open(dfs, dir, name, (i % 3 ? S_IFREG : S_IFDIR) | 0644,
				  O_RDWR | O_CREAT | O_EXCL, 0, 0, NULL, &f),
			 0);
		if (failures)
			break;
		dfs_release(f);
	}
	while (!daos_anchor_is_eof(&anchor) && failures == 0) {
		uint32_t nr = 1 + (uint32_t)(d_test_rand(&rs) % 7);

		CHECK_RC(dfs_readdir(dfs, dir, &anchor, &nr, ents), 0);
		for (i = 0; i < (int)nr; i++) {
			int idx = atoi(ents[i].d_name + 1);

			CHECK(ents[i].d_name[0] == 'e' && idx >= 0 && idx < nent && !seen[idx],
			      "readdir gave %s", ents[i].d_name);
			if (idx >= 0 && idx < nent)
				seen[idx] = 1;
		}
		total += (int)nr;
	}
	CHECK(total == nent, "readdir listed %d of %d", total, nent);
	/* dfs_iterate in small buffers */
	{
		daos_anchor_t a2 = DAOS_ANCHOR_INIT;
		int n2 = 0;

		while (!daos_anchor_is_eof(&a2) && failures == 0) {
			uint32_t nr = 50;

			CHECK_RC(dfs_iterate(dfs, dir, &a2, &nr, 300, NULL, NULL), 0);
			n2 += (int)nr;
		}
		CHECK(n2 == nent, "iterate listed %d of %d", n2, nent);
	}
	dfs_release(dir);
	CHECK_RC(dfs_remove(dfs, NULL, "big", true, NULL), 0);
	free(seen);
}

/* Spawn @n racers creating the same @rounds names with O_EXCL; exactly one wins each. */
static void
test_race(const char *self, const char *addr, daos_handle_t poh, const uuid_t puuid, int rounds)
{
	char pstr[37];
	char cstr[37];
	char rstr[16];
	char out[2][64];
	pid_t pids[2];
	int wins[64] = {0};
	int i;
	int r;
	uuid_t cuuid;

	if (sys_cont_create(poh, cuuid) != 0) {
		CHECK(0, "race container");
		return;
	}
	uuid_unparse(puuid, pstr);
	uuid_unparse(cuuid, cstr);
	snprintf(rstr, sizeof(rstr), "%d", rounds);
	for (i = 0; i < 2; i++) {
		char *argv[] = {(char *)self, (char *)addr, "race", pstr, cstr, rstr, out[i], NULL};

		snprintf(out[i], sizeof(out[i]), "/tmp/dfs_race.%d.%d", (int)getpid(), i);
		CHECK(posix_spawn(&pids[i], self, NULL, NULL, argv, environ) == 0, "spawn");
	}
	for (i = 0; i < 2; i++) {
		int st = 0;
		FILE *fp;

		waitpid(pids[i], &st, 0);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "racer %d status %d", i, st);
		fp = fopen(out[i], "r");
		CHECK(fp != NULL, "racer %d output", i);
		if (fp == NULL)
			continue;
		while (fscanf(fp, "%d", &r) == 1)
			if (r >= 0 && r < 64)
				wins[r]++;
		fclose(fp);
		unlink(out[i]);
	}
	for (r = 0; r < rounds; r++)
		CHECK(wins[r] == 1, "name %d created %d times", r, wins[r]);
}

static int
racer(const char *addr, const char *pstr, const char *cstr, int rounds, const char *out)
{
	daos_handle_t poh;
	daos_handle_t coh;
	uuid_t puuid;
	uuid_t cuuid;
	dfs_t *dfs;
	FILE *fp;
	int r;
	int rc;

	if (uuid_parse(pstr, puuid) != 0 || uuid_parse(cstr, cuuid) != 0 || rounds > 64)
		return 2;
	if (daos_init() != 0 || sys_pool_connect(addr, puuid, &poh) != 0)
		return 1;
	cont_open(poh, cuuid, &coh);
	/* both racers may find the container empty: the superblock is created once */
	rc = dfs_mount(poh, coh, O_RDWR, &dfs);
	if (rc != 0) {
		fprintf(stderr, "racer mount: %s\n", strerror(rc));
		return 1;
	}
	fp = fopen(out, "w");
	if (fp == NULL)
		return 1;
	for (r = 0; r < rounds; r++) {
		char name[16];
		dfs_obj_t *f;

		snprintf(name, sizeof(name), "r%d", r);
		rc = dfs_open(dfs, NULL, name, S_IFREG | 0644, O_RDWR | O_CREAT | O_EXCL, 0, 0,
			      NULL, &f);
		if (rc == 0) {
			fprintf(fp, "%d\n", r);
			dfs_release(f);
		} else if (rc != EEXIST) {
			fprintf(stderr, "racer create %s: %s\n", name, strerror(rc));
			return 1;
		}
	}
	fclose(fp);
	dfs_umount(dfs);
	daos_cont_close(coh, NULL);
	daos_pool_disconnect(poh, NULL);
	daos_fini();
	return 0;
}

/*
 * The model of the random sequence: NSLOT names in each of NDIR fixed directories; a slot is
 * empty, a file or a directory (whose own content is not modelled: kept empty).
 */
#define NDIR 3
#define NSLOT 6
enum { M_NONE, M_FILE, M_DIR };
static int model[NDIR][NSLOT];

static void
test_random(dfs_t *dfs, int ops)
{
	dfs_obj_t *dirs[NDIR];
	char name[16];
	int i;
	int d;
	int s;

	for (d = 0; d < NDIR; d++) {
		snprintf(name, sizeof(name), "m%d", d);
		CHECK_RC(dfs_mkdir(dfs, NULL, name, 0755, 0), 0);
		CHECK_RC(dfs_lookup_rel(dfs, NULL, name, O_RDWR, &dirs[d], NULL, NULL), 0);
		if (failures)
			return;
	}
	for (i = 0; i < ops && failures == 0; i++) {
		int op = (int)(d_test_rand(&rs) % 6);
		int d2 = (int)(d_test_rand(&rs) % NDIR);
		int s2 = (int)(d_test_rand(&rs) % NSLOT);
		char name2[16];
		struct stat st;
		dfs_obj_t *o;
		int want;

		d = (int)(d_test_rand(&rs) % NDIR);
		s = (int)(d_test_rand(&rs) % NSLOT);
		snprintf(name, sizeof(name), "s%d", s);
		snprintf(name2, sizeof(name2), "s%d", s2);
		switch (op) {
		case 0: /* create a file */
			want = model[d][s] == M_NONE ? 0 : EEXIST;
			CHECK_RC(dfs_open(dfs, dirs[d], name, S_IFREG | 0644,
					  O_RDWR | O_CREAT | O_EXCL, 0, 0, NULL, &o),
				 want);
			if (want == 0) {
				dfs_release(o);
				model[d][s] = M_FILE;
			}
			break;
		case 1:
			want = model[d][s] == M_NONE ? 0 : EEXIST;
			CHECK_RC(dfs_mkdir(dfs, dirs[d], name, 0755, 0), want);
			if (want == 0)
				model[d][s] = M_DIR;
			break;
		case 2:
			want = model[d][s] == M_NONE ? ENOENT : 0;
			CHECK_RC(dfs_remove(dfs, dirs[d], name, false, NULL), want);
			model[d][s] = M_NONE;
			break;
		case 3: /* rename */
			if (model[d][s] == M_NONE)
				want = ENOENT;
			else if (d == d2 && s == s2)
				want = 0;
			else if (model[d2][s2] == M_DIR && model[d][s] == M_FILE)
				want = EISDIR;
			else if (model[d2][s2] == M_FILE && model[d][s] == M_DIR)
				want = ENOTDIR;
			else
				want = 0;
			CHECK_RC(dfs_move(dfs, dirs[d], name, dirs[d2], name2, NULL), want);
			if (want == 0 && !(d == d2 && s == s2)) {
				model[d2][s2] = model[d][s];
				model[d][s] = M_NONE;
			}
			break;
		default: /* stat */
			want = model[d][s] == M_NONE ? ENOENT : 0;
			CHECK_RC(dfs_stat(dfs, dirs[d], name, &st), want);
			if (want == 0)
				CHECK(model[d][s] == M_DIR ? S_ISDIR(st.st_mode)
							   : S_ISREG(st.st_mode),
				      "op %d: %s type %o", i, name, st.st_mode);
			break;
		}
	}
	/* every directory lists exactly the model's names */
	for (d = 0; d < NDIR && failures == 0; d++) {
		daos_anchor_t anchor = DAOS_ANCHOR_INIT;
		struct dirent ents[NSLOT + 1];
		int seen[NSLOT] = {0};
		uint32_t nr;

		while (!daos_anchor_is_eof(&anchor)) {
			nr = NSLOT + 1;
			CHECK_RC(dfs_readdir(dfs, dirs[d], &anchor, &nr, ents), 0);
			if (failures)
				break;
			for (i = 0; i < (int)nr; i++) {
				s = atoi(ents[i].d_name + 1);
				if (s >= 0 && s < NSLOT)
					seen[s]++;
			}
		}
		for (s = 0; s < NSLOT; s++)
			CHECK(seen[s] == (model[d][s] != M_NONE), "dir %d slot %d listed %d", d, s,
			      seen[s]);
		dfs_release(dirs[d]);
	}
}

int
main(int argc, char **argv)
{
	daos_handle_t poh;
	daos_handle_t coh;
	uuid_t puuid;
	uuid_t cuuid;
	dfs_t *dfs;
	int nent = 10000;
	int rc;

	if (argc < 2) {
		fprintf(stderr, "usage: %s MGMT_ADDR [NENTRIES]\n", argv[0]);
		return 2;
	}
	if (argc == 7 && strcmp(argv[2], "race") == 0)
		return racer(argv[1], argv[3], argv[4], atoi(argv[5]), argv[6]);
	if (argc > 2)
		nent = atoi(argv[2]);
	rs = d_test_rand_seed(d_test_seed("dfs_ns_test"));
	uuid_generate(puuid);
	rc = sys_pool_create(argv[1], puuid);
	if (rc != 0) {
		fprintf(stderr, "pool create: %s\n", d_errstr(rc));
		return 1;
	}
	if (daos_init() != 0 || sys_pool_connect(argv[1], puuid, &poh) != 0) {
		fprintf(stderr, "setting up the pool handle failed\n");
		return 1;
	}
	test_mount(poh);
	cont_new(poh, cuuid, &coh);
	rc = dfs_mount(poh, coh, O_RDWR, &dfs);
	if (rc != 0) {
		fprintf(stderr, "mount: %s\n", strerror(rc));
		return 1;
	}
	test_names(dfs);
	test_open(dfs);
	test_symlink(dfs);
	test_remove_move(dfs);
	test_attrs(dfs);
	test_global(poh, coh, dfs);
	if (failures == 0)
		test_random(dfs, 600);
	if (failures == 0)
		test_readdir(dfs, nent);
	if (failures == 0)
		test_race(argv[0], argv[1], poh, puuid, 32);
	CHECK_RC(dfs_umount(dfs), 0);
	daos_cont_close(coh, NULL);
	daos_pool_disconnect(poh, NULL);
	daos_fini();
	printf("%d failures\n", failures);
	return failures == 0 ? 0 : 1;
}
