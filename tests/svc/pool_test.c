/*
 * pool_test.c: libdaos's pool API against a real daos_server and daos_agent, for
 * tests/svc/test_svc_pool.sh.
 *
 *   pool_test run LABEL UUID NTARGETS   every check below; prints "ok: ..." / "FAIL: ..."
 *   pool_test evict LABEL               connect, print "connected", wait for a line on stdin
 *                                       (the script evicts the pool's handles meanwhile),
 *                                       then: query DER_NO_HDL, disconnect still succeeds
 *   pool_test child FILE COUNT_UUID     (started by run) global2local of FILE's handle,
 *                                       a container open, an object written and read
 *
 * Exit 0 when every check passed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <daos.h>
#include <daos/client.h>
#include <daos/security.h>
#include <daos/svc_rpc.h>
#include <daos_srv/ctl.h>
#include <gurt/common.h>

#include "mgmt/cont.pb-c.h"

#include "../common/ok_check.h"

static const char *
err(int rc)
{
	return rc == 0 ? "0" : d_errstr(rc);
}

/* Create container @cuuid labelled @label through the service (daos_cont_create's call). */
static int
cont_create(daos_handle_t poh, const uuid_t cuuid, const char *label)
{
	Mgmt__ContCreateReq req = MGMT__CONT_CREATE_REQ__INIT;
	Mgmt__ClientHeader hdr = MGMT__CLIENT_HEADER__INIT;
	Mgmt__ContProperty prop = MGMT__CONT_PROPERTY__INIT;
	Mgmt__ContProperty *props[1] = {&prop};
	struct dc_pool_hdr_bufs bufs;
	struct dc_pool *pool;
	d_iov_t cred = {0};
	char cstr[37];
	int rc;

	pool = dc_pool_get(poh);
	if (pool == NULL)
		return -DER_NO_HDL;
	rc = dc_sec_request_creds(&cred);
	if (rc != 0)
		goto out;
	dc_pool_hdr_fill(pool, &hdr, &bufs);
	uuid_unparse_lower(cuuid, cstr);
	hdr.cont = cstr;
	hdr.cred.data = cred.iov_buf;
	hdr.cred.len = cred.iov_len;
	prop.number = DAOS_PROP_CO_LABEL;
	prop.strval = (char *)label;
	req.hdr = &hdr;
	req.n_properties = 1;
	req.properties = props;
	rc = dc_svc_call(pool, DSS_CTL_CONT_CREATE, &req.base, &mgmt__cont_create_resp__descriptor,
			 NULL);
	D_FREE(cred.iov_buf);
out:
	dc_pool_put(pool);
	return rc;
}

/* Write @val under "dk"/"ak" of object @oid in container @cuuid of @poh, or read it back. */
static int
obj_io(daos_handle_t poh, const uuid_t cuuid, daos_obj_id_t oid, bool write, char *val, size_t len)
{
	daos_handle_t coh, oh;
	daos_key_t dkey;
	daos_iod_t iod = {0};
	d_sg_list_t sgl;
	d_iov_t iov;
	char cstr[DAOS_UUID_STR_SIZE];
	int rc;

	uuid_unparse_lower(cuuid, cstr);
	rc = daos_cont_open(poh, cstr, write ? DAOS_COO_RW : DAOS_COO_RO, &coh, NULL, NULL);
	if (rc != 0)
		return rc;
	rc = daos_obj_generate_oid(coh, &oid, DAOS_OT_MULTI_HASHED, OC_S1, 0, 0);
	if (rc == 0)
		rc = daos_obj_open(coh, oid, write ? DAOS_OO_RW : DAOS_OO_RO, &oh, NULL);
	if (rc != 0)
		goto out_cont;
	d_iov_set(&dkey, "dk", 2);
	d_iov_set(&iod.iod_name, "ak", 2);
	iod.iod_type = DAOS_IOD_SINGLE;
	iod.iod_nr = 1;
	iod.iod_size = write ? len : DAOS_REC_ANY;
	d_iov_set(&iov, val, len);
	sgl.sg_nr = 1;
	sgl.sg_nr_out = 0;
	sgl.sg_iovs = &iov;
	if (write)
		rc = daos_obj_update(oh, DAOS_TX_NONE, 0, &dkey, 1, &iod, &sgl, NULL);
	else
		rc = daos_obj_fetch(oh, DAOS_TX_NONE, 0, &dkey, 1, &iod, &sgl, NULL, NULL);
	if (rc == 0 && !write && iod.iod_size != len)
		rc = -DER_MISMATCH;
	daos_obj_close(oh, NULL);
out_cont:
	daos_cont_close(coh, NULL);
	return rc;
}

static daos_obj_id_t
test_oid(void)
{
	daos_obj_id_t oid = {.lo = 42, .hi = 0};

	return oid;
}

static int
do_child(const char *file, const char *cuuid_str)
{
	char buf[65536];
	char val[32] = {0};
	d_iov_t glob;
	daos_handle_t poh;
	uuid_t cuuid;
	size_t n;
	FILE *f;
	int rc;

	if (uuid_parse(cuuid_str, cuuid) != 0)
		return 2;
	f = fopen(file, "rb");
	if (f == NULL)
		return 2;
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	rc = daos_init();
	if (rc != 0)
		return 2;
	d_iov_set(&glob, buf, n);
	rc = daos_pool_global2local(glob, &poh);
	CHECK(rc == 0, "child: global2local of %zu bytes: %s", n, err(rc));
	if (rc != 0)
		return 1;
	rc = obj_io(poh, cuuid, test_oid(), false, val, 16);
	CHECK(rc == 0 && strcmp(val, "from the parent") == 0,
	      "child: reads the parent's object through the global handle: %s '%s'", err(rc), val);
	snprintf(val, sizeof(val), "%-15s", "from the child");
	rc = obj_io(poh, cuuid, test_oid(), true, val, 16);
	CHECK(rc == 0, "child: writes the object: %s", err(rc));
	rc = daos_pool_disconnect(poh, NULL);
	CHECK(rc == 0, "child: disconnect (local only): %s", err(rc));
	daos_fini();
	return fails == 0 ? 0 : 1;
}

static void
check_attrs(daos_handle_t poh)
{
	const char *names[] = {"zeta", "alpha", "mid"};
	const void *vals[] = {"last value", "1", "middle"};
	size_t sizes[] = {10, 1, 6};
	const char *get_names[] = {"alpha", "zeta"};
	char b0[16] = {0}, b1[4] = {0};
	void *bufs[] = {b0, b1};
	size_t gsizes[] = {sizeof(b0), sizeof(b1)};
	const char *del_names[] = {"mid", "never-set"};
	char list[64];
	size_t lsize = sizeof(list);
	int rc;

	rc = daos_pool_set_attr(poh, 3, names, vals, sizes, NULL);
	CHECK(rc == 0, "set 3 attributes: %s", err(rc));
	rc = daos_pool_list_attr(poh, list, &lsize, NULL);
	CHECK(rc == 0 && lsize == 15 && memcmp(list, "alpha\0mid\0zeta\0", 15) == 0,
	      "list_attr: sorted names, size %zu: %s", lsize, err(rc));
	lsize = 0;
	rc = daos_pool_list_attr(poh, NULL, &lsize, NULL);
	CHECK(rc == 0 && lsize == 15, "list_attr without a buffer: size %zu", lsize);
	rc = daos_pool_get_attr(poh, 2, get_names, bufs, gsizes, NULL);
	CHECK(rc == 0 && gsizes[0] == 1 && memcmp(b0, "1", 1) == 0 && gsizes[1] == 10 &&
		  memcmp(b1, "last", 4) == 0,
	      "get_attr: values, sizes %zu/%zu, truncated to the buffer: %s", gsizes[0], gsizes[1],
	      err(rc));
	rc = daos_pool_del_attr(poh, 2, del_names, NULL);
	CHECK(rc == 0, "del_attr (one absent name is fine): %s", err(rc));
	lsize = sizeof(list);
	rc = daos_pool_list_attr(poh, list, &lsize, NULL);
	CHECK(rc == 0 && lsize == 11 && memcmp(list, "alpha\0zeta\0", 11) == 0,
	      "list after del: size %zu", lsize);
	get_names[0] = "mid";
	gsizes[0] = sizeof(b0);
	rc = daos_pool_get_attr(poh, 1, get_names, bufs, gsizes, NULL);
	CHECK(rc == -DER_NONEXIST, "get of a deleted attribute: %s", err(rc));
	rc = daos_pool_set_attr(poh, 0, names, vals, sizes, NULL);
	CHECK(rc == -DER_INVAL, "set_attr of 0 attributes: %s", err(rc));
}

/*
 * Random damage to a global handle (a few bytes changed, or the buffer cut): every decode
 * must return without crashing; one that is accepted (a changed label byte) is a usable
 * handle, freed again.
 */
static void
glob_mutations(d_iov_t glob)
{
	uint8_t *copy = malloc(glob.iov_len);
	uint32_t ok = 0, refused = 0, i, k;
	daos_handle_t h;
	d_iov_t m;
	int rc;

	srand(12345);
	for (i = 0; copy != NULL && i < 3000; i++) {
		memcpy(copy, glob.iov_buf, glob.iov_len);
		d_iov_set(&m, copy, glob.iov_len);
		for (k = 0; k < 1 + (uint32_t)rand() % 4; k++)
			copy[(size_t)rand() % glob.iov_len] = (uint8_t)rand();
		if (rand() % 4 == 0)
			m.iov_len = (size_t)rand() % glob.iov_len;
		rc = daos_pool_global2local(m, &h);
		if (rc == 0) {
			ok++;
			daos_pool_disconnect(h, NULL);
		} else {
			refused++;
		}
	}
	free(copy);
	/* only a change that wrote the same byte back can pass the CRC */
	CHECK(ok < 60, "3000 damaged global handles: %u refused, %u accepted (unchanged)", refused,
	      ok);
}

static int
do_run(const char *self, const char *label, const char *uuid_str, uint32_t ntargets)
{
	daos_pool_info_t info = {0};
	struct daos_pool_cont_info conts[4];
	daos_size_t ncont;
	daos_handle_t poh_l, poh_u, poh_x;
	daos_event_t ev;
	daos_handle_t eqh;
	daos_event_t *evp;
	d_rank_list_t *ranks = NULL;
	char val[32];
	char file[256];
	d_iov_t glob = {0};
	uuid_t uuid, cuuid;
	char cstr[37];
	pid_t pid;
	FILE *f;
	int status;
	int rc;

	if (uuid_parse(uuid_str, uuid) != 0)
		return 2;
	rc = daos_init();
	if (rc != 0)
		return 2;

	info.pi_bits = DPI_ALL;
	rc = daos_pool_connect(label, NULL, DAOS_PC_RW, &poh_l, &info, NULL);
	CHECK(rc == 0, "connect by label %s: %s", label, err(rc));
	if (rc != 0)
		return 1;
	CHECK(uuid_compare(info.pi_uuid, uuid) == 0 && info.pi_ntargets == ntargets &&
		  info.pi_nnodes == 1 && info.pi_ndisabled == 0 && info.pi_map_ver >= 1,
	      "connect info: uuid, %u targets, %u engine, %u disabled, map version %u",
	      info.pi_ntargets, info.pi_nnodes, info.pi_ndisabled, info.pi_map_ver);
	rc = daos_pool_connect(uuid_str, NULL, DAOS_PC_RO, &poh_u, NULL, NULL);
	CHECK(rc == 0, "connect by uuid: %s", err(rc));
	rc = daos_pool_connect("no-such-pool", NULL, DAOS_PC_RO, &poh_x, NULL, NULL);
	CHECK(rc == -DER_NONEXIST, "connect to an unknown label: %s", err(rc));
	rc = daos_pool_connect(label, "another_system", DAOS_PC_RO, &poh_x, NULL, NULL);
	CHECK(rc != 0, "connect naming another system: %s", err(rc));
	rc = daos_pool_connect(label, NULL, 0, &poh_x, NULL, NULL);
	CHECK(rc == -DER_INVAL, "connect without a mode: %s", err(rc));

	memset(&info, 0, sizeof(info));
	info.pi_bits = DPI_SPACE | DPI_REBUILD_STATUS | DPI_ENGINES_ENABLED;
	rc = daos_pool_query(poh_u, &ranks, &info, NULL, NULL);
	CHECK(rc == 0 && info.pi_space.ps_space.s_total[DAOS_MEDIA_SCM] > 0 &&
		  info.pi_space.ps_space.s_free[DAOS_MEDIA_SCM] <=
		      info.pi_space.ps_space.s_total[DAOS_MEDIA_SCM] &&
		  info.pi_space.ps_ntargets == ntargets && info.pi_rebuild_st.rs_errno == 0,
	      "query: scm %" PRIu64 " free of %" PRIu64 ", nvme %" PRIu64 " of %" PRIu64
	      ", %u targets, rebuild state %d: %s",
	      info.pi_space.ps_space.s_free[DAOS_MEDIA_SCM],
	      info.pi_space.ps_space.s_total[DAOS_MEDIA_SCM],
	      info.pi_space.ps_space.s_free[DAOS_MEDIA_NVME],
	      info.pi_space.ps_space.s_total[DAOS_MEDIA_NVME], info.pi_space.ps_ntargets,
	      info.pi_rebuild_st.rs_state, err(rc));
	CHECK(ranks != NULL && ranks->rl_nr == 1 && ranks->rl_ranks[0] == 0,
	      "query: enabled engines [0]");
	d_rank_list_free(ranks);
	{
		struct dc_pool *dp = dc_pool_get(poh_u);
		uint32_t v0 = dc_pool_map_version(dp);

		rc = dc_pool_map_refresh(dp);
		CHECK(rc == 0 && dc_pool_map_version(dp) == v0 && v0 == info.pi_map_ver,
		      "map refresh (the -DER_STALE path, POOL_MAP_GET): %s, version %u", err(rc),
		      dc_pool_map_version(dp));
		dc_pool_put(dp);
	}

	/* an event: the call returns once sent, the poll completes it */
	rc = daos_eq_create(&eqh);
	if (rc == 0)
		rc = daos_event_init(&ev, eqh, NULL);
	if (rc == 0)
		rc = daos_pool_query(poh_l, NULL, &info, NULL, &ev);
	if (rc == 0)
		rc = daos_eq_poll(eqh, 0, 10 * 1000 * 1000, 1, &evp);
	CHECK(rc == 1 && evp == &ev && ev.ev_error == 0, "query with an event: polled %d, %s", rc,
	      err(ev.ev_error));
	daos_event_fini(&ev);
	daos_eq_destroy(eqh, 0);

	check_attrs(poh_l);

	ncont = 4;
	rc = daos_pool_list_cont(poh_l, &ncont, conts, NULL);
	CHECK(rc == 0 && ncont == 0, "list_cont of a new pool: %zu: %s", (size_t)ncont, err(rc));
	uuid_generate(cuuid);
	uuid_unparse_lower(cuuid, cstr);
	rc = cont_create(poh_l, cuuid, "c1");
	CHECK(rc == 0, "a container created through the service: %s", err(rc));
	ncont = 4;
	rc = daos_pool_list_cont(poh_u, &ncont, conts, NULL);
	CHECK(rc == 0 && ncont == 1 && uuid_compare(conts[0].pci_uuid, cuuid) == 0 &&
		  strcmp(conts[0].pci_label, "c1") == 0,
	      "list_cont: the container and its label: %zu: %s", (size_t)ncont, err(rc));
	ncont = 0;
	rc = daos_pool_list_cont(poh_u, &ncont, conts, NULL);
	CHECK(rc == -DER_TRUNC && ncont == 1, "list_cont into no room: %s, needs %zu", err(rc),
	      (size_t)ncont);
	ncont = 0;
	rc = daos_pool_list_cont(poh_u, &ncont, NULL, NULL);
	CHECK(rc == 0 && ncont == 1, "list_cont count only: %zu", (size_t)ncont);

	/* the global handle, to a child process */
	snprintf(val, sizeof(val), "%-15s", "from the parent");
	rc = obj_io(poh_l, cuuid, test_oid(), true, val, 16);
	CHECK(rc == 0, "parent writes an object: %s", err(rc));
	rc = daos_pool_local2global(poh_l, &glob);
	CHECK(rc == 0 && glob.iov_buf_len > 64, "local2global size: %zu", glob.iov_buf_len);
	glob.iov_buf = malloc(glob.iov_buf_len);
	glob.iov_buf_len -= 1;
	rc = daos_pool_local2global(poh_l, &glob);
	CHECK(rc == -DER_TRUNC, "local2global into a short buffer: %s", err(rc));
	glob.iov_buf_len += 1;
	rc = daos_pool_local2global(poh_l, &glob);
	CHECK(rc == 0 && glob.iov_len == glob.iov_buf_len, "local2global: %zu bytes: %s",
	      glob.iov_len, err(rc));
	((char *)glob.iov_buf)[0] ^= 1;
	rc = daos_pool_global2local(glob, &poh_x);
	CHECK(rc == -DER_INVAL, "global2local of a damaged buffer: %s", err(rc));
	((char *)glob.iov_buf)[0] ^= 1;
	glob.iov_len -= 3;
	rc = daos_pool_global2local(glob, &poh_x);
	CHECK(rc == -DER_INVAL, "global2local of a truncated buffer: %s", err(rc));
	glob.iov_len += 3;
	glob_mutations(glob);
	snprintf(file, sizeof(file), "%s.glob", label);
	f = fopen(file, "wb");
	if (f != NULL) {
		fwrite(glob.iov_buf, 1, glob.iov_len, f);
		fclose(f);
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		execl(self, self, "child", file, cstr, (char *)NULL);
		_exit(3);
	}
	status = -1;
	if (pid > 0)
		waitpid(pid, &status, 0);
	CHECK(pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "the child used the global handle (exit %d)",
	      WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	unlink(file);
	free(glob.iov_buf);
	memset(val, 0, sizeof(val));
	rc = obj_io(poh_u, cuuid, test_oid(), false, val, 16);
	CHECK(rc == 0 && strcmp(val, "from the child ") == 0,
	      "parent reads the child's write: '%s'", val);
	rc = daos_pool_query(poh_l, NULL, NULL, NULL, NULL);
	CHECK(rc == 0, "the handle still works after the child's local disconnect: %s", err(rc));

	rc = daos_pool_disconnect(poh_l, NULL);
	CHECK(rc == 0, "disconnect (label handle): %s", err(rc));
	rc = daos_pool_query(poh_l, NULL, NULL, NULL, NULL);
	CHECK(rc == -DER_NO_HDL, "query after disconnect: %s", err(rc));
	rc = daos_pool_disconnect(poh_u, NULL);
	CHECK(rc == 0, "disconnect (uuid handle): %s", err(rc));
	daos_fini();
	return fails == 0 ? 0 : 1;
}

static int
do_evict(const char *label)
{
	daos_handle_t poh;
	char line[16];
	int rc;

	if (daos_init() != 0)
		return 2;
	rc = daos_pool_connect(label, NULL, DAOS_PC_RW, &poh, NULL, NULL);
	CHECK(rc == 0, "evict: connect: %s", err(rc));
	if (rc != 0)
		return 1;
	printf("connected\n");
	fflush(stdout);
	if (fgets(line, sizeof(line), stdin) == NULL)
		return 2;
	rc = daos_pool_query(poh, NULL, NULL, NULL, NULL);
	CHECK(rc == -DER_NO_HDL, "query with an evicted handle: %s", err(rc));
	rc = daos_pool_disconnect(poh, NULL);
	CHECK(rc == 0, "disconnect of an evicted handle frees it: %s", err(rc));
	rc = daos_pool_query(poh, NULL, NULL, NULL, NULL);
	CHECK(rc == -DER_NO_HDL, "the local handle is gone: %s", err(rc));
	daos_fini();
	return fails == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 5 && strcmp(argv[1], "run") == 0)
		return do_run(argv[0], argv[2], argv[3], (uint32_t)atoi(argv[4]));
	if (argc == 3 && strcmp(argv[1], "evict") == 0)
		return do_evict(argv[2]);
	if (argc == 4 && strcmp(argv[1], "child") == 0)
		return do_child(argv[2], argv[3]);
	fprintf(stderr, "usage: %s run LABEL UUID NTARGETS | child FILE CONT_UUID\n", argv[0]);
	return 2;
}
