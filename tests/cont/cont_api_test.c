/*
 * cont_api_test.c POOL [--oid CONT]: the container API of libdaos (and dfs_cont_create /
 * dfs_connect) against a real daos_server + daos_agent, through the public headers and shared
 * libraries only, as an application uses them. Run by test_cont.sh, which creates pool POOL with
 * dmg.
 *
 * Prints one "ok: ..." or "FAIL: ..." line per check; exits 0 when every check passed.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <daos.h>
#include <daos_fs.h>

#include "../common/ok_check.h"

static daos_prop_t *
label_prop(const char *label)
{
	daos_prop_t *prop = daos_prop_alloc(1);

	prop->dpp_entries[0].dpe_type = DAOS_PROP_CO_LABEL;
	daos_prop_entry_set_str(&prop->dpp_entries[0], label, strlen(label));
	return prop;
}

static const char *
query_label(daos_handle_t coh, char *buf, size_t len)
{
	daos_prop_t *prop = daos_prop_alloc(1);
	int rc;

	prop->dpp_entries[0].dpe_type = DAOS_PROP_CO_LABEL;
	rc = daos_cont_query(coh, NULL, prop, NULL);
	if (rc != 0 || prop->dpp_entries[0].dpe_str == NULL)
		snprintf(buf, len, "<%s>", d_errstr(rc));
	else
		snprintf(buf, len, "%s", prop->dpp_entries[0].dpe_str);
	daos_prop_free(prop);
	return buf;
}

static void
test_lifecycle(daos_handle_t poh)
{
	daos_cont_info_t info;
	daos_handle_t coh;
	daos_handle_t coh2;
	daos_prop_t *prop;
	char ustr[DAOS_UUID_STR_SIZE];
	char buf[256];
	uuid_t uuid;
	uuid_t uuid2;
	daos_event_t ev;
	daos_handle_t eqh;
	daos_event_t *evp;
	int rc;

	printf("== lifecycle, labels, properties\n");
	prop = label_prop("life1");
	CHECK_RC(daos_cont_create(poh, &uuid, prop, NULL), 0, "create with a label property");
	CHECK_RC(daos_cont_create(poh, &uuid2, prop, NULL), -DER_EXIST, "same label again");
	daos_prop_free(prop);
	CHECK_RC(daos_cont_create_with_label(poh, "bad/label", NULL, NULL, NULL), -DER_INVAL,
		 "invalid label");
	uuid_unparse_lower(uuid, ustr);
	CHECK_RC(daos_cont_open(poh, "life1", DAOS_COO_RW, &coh, &info, NULL), 0, "open by label");
	check(uuid_compare(info.ci_uuid, uuid) == 0, "open by label: info has the uuid");
	CHECK_RC(daos_cont_open(poh, ustr, DAOS_COO_RO, &coh2, &info, NULL), 0, "open by uuid");
	check(info.ci_nhandles >= 1, "info: %u open handles", info.ci_nhandles);
	check(strcmp(query_label(coh2, buf, sizeof(buf)), "life1") == 0, "query label: %s", buf);
	CHECK_RC(daos_cont_close(coh2, NULL), 0, "close the uuid handle");
	CHECK_RC(daos_cont_open(poh, "nonesuch", DAOS_COO_RO, &coh2, NULL, NULL), -DER_NONEXIST,
		 "open a missing container");

	/* relabel */
	prop = label_prop("life1-renamed");
	CHECK_RC(daos_cont_set_prop(coh, prop, NULL), 0, "set-prop label");
	daos_prop_free(prop);
	check(strcmp(query_label(coh, buf, sizeof(buf)), "life1-renamed") == 0,
	      "label after set-prop: %s", buf);
	CHECK_RC(daos_cont_open(poh, "life1", DAOS_COO_RO, &coh2, NULL, NULL), -DER_NONEXIST,
		 "old label no longer opens");

	/* an immutable property */
	prop = daos_prop_alloc(1);
	prop->dpp_entries[0].dpe_type = DAOS_PROP_CO_LAYOUT_TYPE;
	prop->dpp_entries[0].dpe_val = DAOS_PROP_CO_LAYOUT_HDF5;
	CHECK_RC(daos_cont_set_prop(coh, prop, NULL), -DER_NO_PERM, "set-prop layout type");
	daos_prop_free(prop);

	/* all properties */
	prop = daos_prop_alloc(0);
	rc = daos_cont_query(coh, &info, prop, NULL);
	check(rc == 0 && prop->dpp_nr > 5, "query all properties: %s, %u of them", d_errstr(rc),
	      prop->dpp_nr);
	check(daos_prop_entry_get(prop, DAOS_PROP_CO_OWNER) != NULL &&
		  daos_prop_entry_get(prop, DAOS_PROP_CO_ACL) != NULL,
	      "owner and ACL among them");
	daos_prop_free(prop);

	/* destroy: busy while open, then forced */
	CHECK_RC(daos_cont_destroy(poh, ustr, 0, NULL), -DER_BUSY, "destroy an open container");
	CHECK_RC(daos_cont_close(coh, NULL), 0, "close");
	CHECK_RC(daos_cont_close(coh, NULL), -DER_NO_HDL, "close twice");
	CHECK_RC(daos_cont_destroy(poh, "life1-renamed", 0, NULL), 0, "destroy by label");
	CHECK_RC(daos_cont_open(poh, ustr, DAOS_COO_RO, &coh, NULL, NULL), -DER_NONEXIST,
		 "open a destroyed container");

	/* with an event */
	CHECK_RC(daos_eq_create(&eqh), 0, "eq create");
	daos_event_init(&ev, eqh, NULL);
	CHECK_RC(daos_cont_create_with_label(poh, "evcont", NULL, &uuid, &ev), 0,
		 "create with an event: launched");
	rc = daos_eq_poll(eqh, 1, 5 * 1000 * 1000, 1, &evp);
	check(rc == 1 && evp == &ev && ev.ev_error == 0, "event completed: %d, ev_error %d", rc,
	      ev.ev_error);
	daos_event_fini(&ev);
	daos_event_init(&ev, eqh, NULL);
	CHECK_RC(daos_cont_destroy(poh, "evcont", 0, &ev), 0, "destroy with an event: launched");
	rc = daos_eq_poll(eqh, 1, 5 * 1000 * 1000, 1, &evp);
	check(rc == 1 && ev.ev_error == 0, "destroy event: %d, ev_error %d", rc, ev.ev_error);
	daos_event_fini(&ev);
	daos_eq_destroy(eqh, 0);
}

static void
test_attrs(daos_handle_t coh)
{
	const char *names[] = {"alpha", "beta", "gamma"};
	const void *vals[] = {"1", "twenty-two", "three hundred and thirty-three"};
	size_t sizes[] = {1, 10, 30};
	char b0[64], b1[4], b2[64];
	void *bufs[] = {b0, b1, b2};
	size_t gsizes[] = {sizeof(b0), sizeof(b1), sizeof(b2)};
	const char *missing[] = {"delta"};
	char list[256];
	size_t lsize = sizeof(list);
	int rc;

	printf("== attributes\n");
	CHECK_RC(daos_cont_set_attr(coh, 3, names, vals, sizes, NULL), 0, "set 3 attributes");
	rc = daos_cont_list_attr(coh, list, &lsize, NULL);
	check(rc == 0 && lsize == 5 + 4 + 5 && strcmp(list, "alpha") == 0 &&
		  strcmp(list + 6, "beta") == 0 && strcmp(list + 11, "gamma") == 0,
	      "list: %s, size %zu, sorted names", d_errstr(rc), lsize);
	lsize = 0;
	rc = daos_cont_list_attr(coh, NULL, &lsize, NULL);
	check(rc == 0 && lsize == 14, "list size only: %zu", lsize);
	rc = daos_cont_get_attr(coh, 3, names, bufs, gsizes, NULL);
	check(rc == 0 && gsizes[0] == 1 && gsizes[1] == 10 && gsizes[2] == 30 &&
		  memcmp(b0, "1", 1) == 0 && memcmp(b1, "twen", 4) == 0 &&
		  memcmp(b2, vals[2], 30) == 0,
	      "get: values, truncated to the buffer, full sizes back");
	CHECK_RC(daos_cont_get_attr(coh, 1, missing, bufs, gsizes, NULL), -DER_NONEXIST,
		 "get a missing attribute");
	CHECK_RC(daos_cont_del_attr(coh, 1, &names[1], NULL), 0, "delete beta");
	CHECK_RC(daos_cont_del_attr(coh, 1, missing, NULL), 0, "delete a missing one");
	lsize = sizeof(list);
	rc = daos_cont_list_attr(coh, list, &lsize, NULL);
	check(rc == 0 && lsize == 10 && strcmp(list + 6, "gamma") == 0, "list after delete");
	CHECK_RC(daos_cont_set_attr(coh, 1, names, vals, (size_t[]){0}, NULL), -DER_INVAL,
		 "empty value refused");
}

static void
test_snapshots(daos_handle_t coh)
{
	daos_epoch_t e[3];
	daos_epoch_t got[8];
	char nbuf[8][DAOS_SNAPSHOT_MAX_LEN];
	char *names[8];
	daos_anchor_t anchor = DAOS_ANCHOR_INIT;
	daos_epoch_range_t epr;
	int nr;
	int i;
	int rc;

	printf("== snapshots\n");
	for (i = 0; i < 8; i++)
		names[i] = nbuf[i];
	CHECK_RC(daos_cont_create_snap(coh, &e[0], "first", NULL), 0, "snapshot 1");
	CHECK_RC(daos_cont_create_snap(coh, &e[1], NULL, NULL), 0, "snapshot 2 (no name)");
	CHECK_RC(daos_cont_create_snap_opt(coh, &e[2], "third", DAOS_SNAP_OPT_CR, NULL), 0,
		 "snapshot 3 (opt)");
	check(e[0] < e[1] && e[1] < e[2], "epochs increase: %#" PRIx64 " %#" PRIx64 " %#" PRIx64,
	      e[0], e[1], e[2]);
	nr = 0;
	rc = daos_cont_list_snap(coh, &nr, NULL, NULL, &anchor, NULL);
	check(rc == 0 && nr == 3, "count: %d", nr);
	nr = 8;
	memset(&anchor, 0, sizeof(anchor));
	rc = daos_cont_list_snap(coh, &nr, got, names, &anchor, NULL);
	check(rc == 0 && nr == 3 && got[0] == e[0] && got[1] == e[1] && got[2] == e[2] &&
		  strcmp(names[0], "first") == 0 && strcmp(names[2], "third") == 0,
	      "list: oldest first, with names");
	epr.epr_lo = epr.epr_hi = e[1];
	CHECK_RC(daos_cont_destroy_snap(coh, epr, NULL), 0, "destroy the middle one");
	nr = 8;
	rc = daos_cont_list_snap(coh, &nr, got, names, NULL, NULL);
	check(rc == 0 && nr == 2 && got[0] == e[0] && got[1] == e[2], "two left");
	epr.epr_lo = 0;
	epr.epr_hi = e[2];
	CHECK_RC(daos_cont_destroy_snap(coh, epr, NULL), 0, "destroy all up to the last");
	nr = 8;
	rc = daos_cont_list_snap(coh, &nr, got, names, NULL, NULL);
	check(rc == 0 && nr == 0, "none left: %d", nr);
	epr.epr_lo = 5;
	epr.epr_hi = 4;
	CHECK_RC(daos_cont_destroy_snap(coh, epr, NULL), -DER_INVAL, "reversed range");
}

static void
test_oids(daos_handle_t coh, daos_handle_t coh2)
{
	uint64_t lo[40];
	uint64_t n[40];
	int bad = 0;
	int i;
	int j;
	int rc = 0;

	printf("== object id allocation\n");
	srand(42);
	for (i = 0; i < 40 && rc == 0; i++) {
		n[i] = 1 + rand() % 1000;
		rc = daos_cont_alloc_oids(i % 2 ? coh : coh2, n[i], &lo[i], NULL);
	}
	check(rc == 0, "40 allocations on two handles: %s", d_errstr(rc));
	for (i = 0; i < 40; i++)
		for (j = i + 1; j < 40; j++)
			if (lo[i] < lo[j] + n[j] && lo[j] < lo[i] + n[i])
				bad++;
	check(bad == 0, "no two ranges overlap (%d overlaps)", bad);
	CHECK_RC(daos_cont_alloc_oids(coh, 0, &lo[0], NULL), -DER_INVAL, "zero ids");
}

static void
test_acl(daos_handle_t coh)
{
	daos_prop_t *prop = NULL;
	struct daos_prop_entry *e;
	struct daos_acl *acl = NULL;
	const char *ace[] = {"A::EVERYONE@:r"};
	char mine[DAOS_ACL_MAX_ACE_STR_LEN + 1];
	struct daos_ace *found;
	char *me = NULL;
	int rc;

	printf("== ACL and owner\n");
	rc = daos_cont_get_acl(coh, &prop, NULL);
	check(rc == 0, "get-acl: %s", d_errstr(rc));
	if (rc != 0)
		return;
	daos_acl_uid_to_principal(getuid(), &me);
	e = daos_prop_entry_get(prop, DAOS_PROP_CO_OWNER);
	check(e != NULL && me != NULL && e->dpe_str != NULL && strcmp(e->dpe_str, me) == 0,
	      "owner is the creator (%s)", me);
	e = daos_prop_entry_get(prop, DAOS_PROP_CO_ACL);
	check(e != NULL && e->dpe_val_ptr != NULL &&
		  daos_acl_get_ace_for_principal(e->dpe_val_ptr, DAOS_ACL_OWNER, NULL, &found) == 0,
	      "default ACL has an OWNER@ entry");
	daos_prop_free(prop);

	daos_acl_from_strs(ace, 1, &acl);
	CHECK_RC(daos_cont_update_acl(coh, acl, NULL), 0, "update-acl EVERYONE@:r");
	daos_acl_free(acl);
	prop = NULL;
	daos_cont_get_acl(coh, &prop, NULL);
	e = prop == NULL ? NULL : daos_prop_entry_get(prop, DAOS_PROP_CO_ACL);
	check(e != NULL && daos_acl_get_ace_for_principal(e->dpe_val_ptr, DAOS_ACL_EVERYONE, NULL,
							  &found) == 0,
	      "EVERYONE@ entry present");
	daos_prop_free(prop);
	CHECK_RC(daos_cont_delete_acl(coh, DAOS_ACL_EVERYONE, NULL, NULL), 0, "delete-acl");
	CHECK_RC(daos_cont_delete_acl(coh, DAOS_ACL_EVERYONE, NULL, NULL), -DER_NONEXIST,
		 "delete-acl again");
	/* keep our access through a user entry once we no longer own it */
	snprintf(mine, sizeof(mine), "A::%s:rwdtTaAo", me);
	ace[0] = mine;
	daos_acl_from_strs(ace, 1, &acl);
	CHECK_RC(daos_cont_update_acl(coh, acl, NULL), 0, "update-acl: a user entry for us");
	daos_acl_free(acl);
	CHECK_RC(daos_cont_set_owner(coh, "no-such-user-xyz@", NULL, NULL), -DER_NONEXIST,
		 "set-owner to an unknown user (checked)");
	CHECK_RC(daos_cont_set_owner_no_check(coh, "someone@", NULL, NULL), 0,
		 "set-owner without the check");
	prop = NULL;
	daos_cont_get_acl(coh, &prop, NULL);
	e = prop == NULL ? NULL : daos_prop_entry_get(prop, DAOS_PROP_CO_OWNER);
	check(e != NULL && e->dpe_str != NULL && strcmp(e->dpe_str, "someone@") == 0,
	      "owner is someone@");
	daos_prop_free(prop);
	CHECK_RC(daos_cont_set_owner_no_check(coh, me, NULL, NULL), 0, "owner back");
	free(me);
}

static void
test_ro(daos_handle_t poh, const char *label)
{
	daos_handle_t coh;
	const char *name = "ro";
	const void *val = "x";
	size_t size = 1;
	uint64_t oid;

	printf("== read-only handle\n");
	CHECK_RC(daos_cont_open(poh, label, DAOS_COO_RO, &coh, NULL, NULL), 0, "open RO");
	CHECK_RC(daos_cont_set_attr(coh, 1, &name, &val, &size, NULL), -DER_NO_PERM,
		 "RO handle: set-attr refused by the service");
	CHECK_RC(daos_cont_alloc_oids(coh, 1, &oid, NULL), -DER_NO_PERM, "RO handle: alloc-oids");
	CHECK_RC(daos_cont_create_snap(coh, &oid, NULL, NULL), -DER_NO_PERM,
		 "RO handle: snapshot refused");
	{
		daos_obj_id_t id = {.lo = 7, .hi = 0};
		daos_handle_t oh;
		daos_iod_t iod = {0};
		d_sg_list_t sgl;
		d_iov_t dkey;
		d_iov_t iov;
		char v[4] = "abc";

		daos_obj_generate_oid(coh, &id, 0, OC_S1, 0, 0);
		CHECK_RC(daos_obj_open(coh, id, DAOS_OO_RW, &oh, NULL), 0,
			 "RO handle: object open");
		d_iov_set(&dkey, "d", 1);
		d_iov_set(&iod.iod_name, "a", 1);
		iod.iod_type = DAOS_IOD_SINGLE;
		iod.iod_size = sizeof(v);
		iod.iod_nr = 1;
		d_iov_set(&iov, v, sizeof(v));
		sgl = (d_sg_list_t){.sg_nr = 1, .sg_iovs = &iov};
		CHECK_RC(daos_obj_update(oh, DAOS_TX_NONE, 0, &dkey, 1, &iod, &sgl, NULL),
			 -DER_NO_PERM, "RO handle: object update refused");
		daos_obj_close(oh, NULL);
	}
	daos_cont_close(coh, NULL);
}

static void
test_global(daos_handle_t poh, daos_handle_t coh)
{
	d_iov_t pg = {0};
	d_iov_t cg = {0};
	daos_cont_info_t info;
	pid_t pid;
	int status;
	int rc;

	printf("== local2global in a child process\n");
	rc = daos_pool_local2global(poh, &pg);
	if (rc == 0) {
		pg.iov_buf = malloc(pg.iov_buf_len);
		rc = daos_pool_local2global(poh, &pg);
	}
	check(rc == 0, "pool local2global: %s", d_errstr(rc));
	rc = daos_cont_local2global(coh, &cg);
	check(rc == 0 && cg.iov_buf_len > 0, "cont local2global size: %zu", cg.iov_buf_len);
	cg.iov_buf = malloc(cg.iov_buf_len);
	CHECK_RC(daos_cont_local2global(coh, &cg), 0, "cont local2global");
	daos_cont_query(coh, &info, NULL, NULL);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		daos_handle_t cpoh;
		daos_handle_t ccoh;
		daos_cont_info_t cinfo;
		const char *name = "alpha";
		char b[8];
		void *bufs[] = {b};
		size_t sz = sizeof(b);

		if (daos_init() != 0 || daos_pool_global2local(pg, &cpoh) != 0 ||
		    daos_cont_global2local(cpoh, cg, &ccoh) != 0)
			_exit(2);
		if (daos_cont_query(ccoh, &cinfo, NULL, NULL) != 0 ||
		    uuid_compare(cinfo.ci_uuid, info.ci_uuid) != 0)
			_exit(3);
		if (daos_cont_get_attr(ccoh, 1, &name, bufs, &sz, NULL) != 0 || sz != 1 ||
		    b[0] != '1')
			_exit(4);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	check(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "child: global2local, query and get-attr on the parent's handle (exit %d)",
	      WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	cg.iov_len = 3;
	check(daos_cont_global2local(poh, cg, &coh) == -DER_INVAL, "a truncated blob is refused");
	free(pg.iov_buf);
	free(cg.iov_buf);
}

static void
test_dfs(daos_handle_t poh, const char *pool)
{
	dfs_attr_t attr;
	daos_handle_t coh;
	dfs_t *dfs;
	dfs_obj_t *dir;
	struct dirent ents[4];
	daos_anchor_t anchor = {0};
	uint32_t nr = 4;
	daos_prop_t *prop;
	uuid_t uuid;
	int rc;

	printf("== POSIX containers\n");
	memset(&attr, 0, sizeof(attr));
	attr.da_chunk_size = 65536;
	attr.da_oclass_id = OC_S1;
	rc = dfs_cont_create_with_label(poh, "posix1", &attr, &uuid, &coh, &dfs);
	check(rc == 0, "dfs_cont_create_with_label: %d", rc);
	if (rc != 0)
		return;
	memset(&attr, 0, sizeof(attr));
	rc = dfs_query(dfs, &attr);
	check(rc == 0 && attr.da_chunk_size == 65536 && attr.da_oclass_id == OC_S1,
	      "superblock: chunk %" PRIu64 ", class %#x", (uint64_t)attr.da_chunk_size,
	      attr.da_oclass_id);
	CHECK_RC(dfs_mkdir(dfs, NULL, "d1", 0755, 0), 0, "mkdir d1");
	dfs_umount(dfs);
	prop = daos_prop_alloc(1);
	prop->dpp_entries[0].dpe_type = DAOS_PROP_CO_LAYOUT_TYPE;
	rc = daos_cont_query(coh, NULL, prop, NULL);
	check(rc == 0 && prop->dpp_entries[0].dpe_val == DAOS_PROP_CO_LAYOUT_POSIX,
	      "layout type POSIX");
	daos_prop_free(prop);
	daos_cont_close(coh, NULL);

	CHECK_RC(dfs_init(), 0, "dfs_init");
	rc = dfs_connect(pool, NULL, "posix1", O_RDWR, NULL, &dfs);
	check(rc == 0, "dfs_connect posix1: %d", rc);
	if (rc == 0) {
		rc = dfs_lookup(dfs, "/d1", O_RDONLY, &dir, NULL, NULL);
		check(rc == 0, "lookup /d1 after reconnect: %d", rc);
		if (rc == 0)
			dfs_release(dir);
		rc = dfs_lookup(dfs, "/", O_RDONLY, &dir, NULL, NULL);
		if (rc == 0) {
			rc = dfs_readdir(dfs, dir, &anchor, &nr, ents);
			dfs_release(dir);
		}
		check(rc == 0 && nr == 1 && strcmp(ents[0].d_name, "d1") == 0,
		      "readdir /: %d, %u entries", rc, nr);
		CHECK_RC(dfs_disconnect(dfs), 0, "dfs_disconnect");
	}
	rc = dfs_connect(pool, NULL, "posix2", O_RDWR | O_CREAT, NULL, &dfs);
	check(rc == 0, "dfs_connect O_CREAT posix2: %d", rc);
	if (rc == 0)
		CHECK_RC(dfs_disconnect(dfs), 0, "dfs_disconnect posix2");
	rc = dfs_connect(pool, NULL, "posix3", O_RDWR, NULL, &dfs);
	check(rc == ENOENT, "dfs_connect without O_CREAT to a missing one: %d (ENOENT)", rc);
	/* dfs_destroy with an event: the result (an errno) comes through the event */
	{
		daos_handle_t eqh;
		daos_event_t ev, *evp;

		CHECK_RC(daos_eq_create(&eqh), 0, "eq create");
		daos_event_init(&ev, eqh, NULL);
		CHECK_RC(dfs_destroy(pool, NULL, "posix2", 0, &ev), 0, "dfs_destroy posix2 (ev)");
		rc = daos_eq_poll(eqh, 1, 5 * 1000 * 1000, 1, &evp);
		check(rc == 1 && evp == &ev && ev.ev_error == 0, "dfs_destroy event: %d, %d", rc,
		      ev.ev_error);
		daos_event_fini(&ev);
		daos_event_init(&ev, eqh, NULL);
		CHECK_RC(dfs_destroy(pool, NULL, "posix2", 0, &ev), 0, "dfs_destroy again (ev)");
		rc = daos_eq_poll(eqh, 1, 5 * 1000 * 1000, 1, &evp);
		check(rc == 1 && ev.ev_error == ENOENT, "second dfs_destroy event: %d, %d (ENOENT)",
		      rc, ev.ev_error);
		daos_event_fini(&ev);
		daos_eq_destroy(eqh, 0);
	}

	/* racing creators: every one connects, each makes its own directory */
	{
		pid_t pids[4];
		int ok = 0;
		int k;

		fflush(stdout);
		for (k = 0; k < 4; k++) {
			pids[k] = fork();
			if (pids[k] == 0) {
				char name[16];

				snprintf(name, sizeof(name), "c%d", k);
				if (dfs_init() != 0 ||
				    dfs_connect(pool, NULL, "race", O_RDWR | O_CREAT, NULL, &dfs) !=
					0)
					_exit(2);
				if (dfs_mkdir(dfs, NULL, name, 0755, 0) != 0)
					_exit(3);
				_exit(dfs_disconnect(dfs) == 0 ? 0 : 4);
			}
		}
		for (k = 0; k < 4; k++) {
			int status;

			waitpid(pids[k], &status, 0);
			if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
				ok++;
			else
				printf("    child %d: exit %d\n", k,
				       WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		}
		check(ok == 4, "4 racing dfs_connect O_CREAT: %d succeeded", ok);
		rc = dfs_connect(pool, NULL, "race", O_RDONLY, NULL, &dfs);
		nr = 4;
		memset(&anchor, 0, sizeof(anchor));
		if (rc == 0 && dfs_lookup(dfs, "/", O_RDONLY, &dir, NULL, NULL) == 0) {
			rc = dfs_readdir(dfs, dir, &anchor, &nr, ents);
			dfs_release(dir);
		}
		check(rc == 0 && nr == 4, "one container holds the 4 directories: %u", nr);
		if (dfs != NULL && rc == 0)
			dfs_disconnect(dfs);
		CHECK_RC(dfs_destroy(pool, NULL, "race", 0, NULL), 0, "dfs_destroy race");
	}
	CHECK_RC(dfs_destroy(pool, NULL, "posix1", 0, NULL), 0, "dfs_destroy posix1");
	dfs_fini();
}

int
main(int argc, char **argv)
{
	daos_handle_t poh;
	daos_handle_t coh;
	daos_handle_t coh2;
	int rc;

	if (argc != 2 && !(argc == 4 && strcmp(argv[2], "--oid") == 0)) {
		fprintf(stderr, "usage: %s POOL [--oid CONT]\n", argv[0]);
		return 2;
	}
	if (argc == 4) {
		/* print an OC_S2 object id of container CONT (for `daos object query`) */
		daos_obj_id_t oid = {.lo = 99, .hi = 0};

		if (daos_init() != 0 ||
		    daos_pool_connect(argv[1], NULL, DAOS_PC_RO, &poh, NULL, NULL) ||
		    daos_cont_open(poh, argv[3], DAOS_COO_RO, &coh, NULL, NULL) != 0 ||
		    daos_obj_generate_oid(coh, &oid, 0, OC_S2, 0, 0) != 0)
			return 1;
		printf("%" PRIu64 ".%" PRIu64 "\n", oid.hi, oid.lo);
		daos_cont_close(coh, NULL);
		daos_pool_disconnect(poh, NULL);
		daos_fini();
		return 0;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	rc = daos_init();
	if (rc != 0) {
		printf("FAIL: daos_init: %s\n", d_errstr(rc));
		return 1;
	}
	rc = daos_pool_connect(argv[1], NULL, DAOS_PC_RW, &poh, NULL, NULL);
	check(rc == 0, "connect to pool %s: %s", argv[1], d_errstr(rc));
	if (rc != 0)
		return 1;
	test_lifecycle(poh);
	rc = daos_cont_create_with_label(poh, "work", NULL, NULL, NULL);
	check(rc == 0, "create work: %s", d_errstr(rc));
	rc = daos_cont_open(poh, "work", DAOS_COO_RW, &coh, NULL, NULL);
	check(rc == 0, "open work: %s", d_errstr(rc));
	rc = daos_cont_open(poh, "work", DAOS_COO_RW, &coh2, NULL, NULL);
	check(rc == 0, "open work again: %s", d_errstr(rc));
	if (fails == 0) {
		test_attrs(coh);
		test_snapshots(coh);
		test_oids(coh, coh2);
		test_acl(coh);
		test_ro(poh, "work");
		test_global(poh, coh);
		daos_cont_close(coh2, NULL);
		daos_cont_close(coh, NULL);
		CHECK_RC(daos_cont_destroy(poh, "work", 0, NULL), 0, "destroy work");
		test_dfs(poh, argv[1]);
	}
	CHECK_RC(daos_pool_disconnect(poh, NULL), 0, "disconnect");
	daos_fini();
	printf("%s\n", fails == 0 ? "all checks passed" : "some checks failed");
	return fails == 0 ? 0 : 1;
}
