/*
 * test_srv_vos.c: the engine's storage (srv_vos.c) in one process, with real xstreams and
 * real VOS files in a fresh directory: format and the superblock checks; the bridge creating,
 * querying and destroying a pool on every target; a container written through a target's
 * shard (ds_pool_child_lookup from a ULT) still there after the shards are closed and opened
 * again; destroy waiting for a held reference; all-or-nothing create when one target fails;
 * an interrupted create (no meta file) removed at open.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <gurt/common.h>
#include <daos_srv/pool_tgt.h>
#include <daos_srv/sched.h>

#include "config.h"
#include "srv_vos.h"

#define TGT_NR 2
#define MiB (1ULL << 20)

struct tenv {
	char te_dir[64];
	struct dss_config *te_cfg;
	struct dss_engine te_eng;
};

static struct tenv te;

static void
cfg_load(uint32_t targets, const char *system)
{
	char yml[1024], err[256];
	int n;

	n = snprintf(yml, sizeof(yml),
		     "name: %s\n"
		     "engines:\n"
		     "  - targets: %u\n"
		     "    fabric_iface: lo\n"
		     "    fabric_iface_port: 31416\n"
		     "    storage:\n"
		     "      - class: ram\n"
		     "        scm_mount: %s/scm\n"
		     "        scm_size: 128MiB\n"
		     "      - class: file\n"
		     "        bdev_list: [%s/b0, %s/b1]\n"
		     "        bdev_size: 1GiB\n",
		     system, targets, te.te_dir, te.te_dir, te.te_dir);
	assert_true(n > 0 && n < (int)sizeof(yml));
	dss_config_free(te.te_cfg);
	te.te_cfg = NULL;
	if (dss_config_parse(yml, strlen(yml), "t.yml", te.te_dir, &te.te_cfg, err, sizeof(err)) !=
	    0)
		fail_msg("%s", err);
	memset(&te.te_eng, 0, sizeof(te.te_eng));
	te.te_eng.de_cfg = te.te_cfg;
	te.te_eng.de_ecfg = &te.te_cfg->dc_engines[0];
}

static void
xs_start(void)
{
	uint32_t i;

	D_ALLOC_ARRAY(te.te_eng.de_tgt_xs, TGT_NR);
	assert_non_null(te.te_eng.de_tgt_xs);
	assert_int_equal(dss_xstream_create("sys", NULL, &te.te_eng.de_sys_xs), 0);
	assert_int_equal(dss_xstream_start(te.te_eng.de_sys_xs), 0);
	for (i = 0; i < TGT_NR; i++) {
		assert_int_equal(dss_xstream_create("tgt", NULL, &te.te_eng.de_tgt_xs[i]), 0);
		assert_int_equal(dss_xstream_start(te.te_eng.de_tgt_xs[i]), 0);
	}
	te.te_eng.de_tgt_nr = TGT_NR;
}

static void
xs_stop(void)
{
	uint32_t i;

	for (i = 0; i < TGT_NR; i++)
		dss_xstream_stop(te.te_eng.de_tgt_xs[i]);
	dss_xstream_stop(te.te_eng.de_sys_xs);
	for (i = 0; i < TGT_NR; i++)
		dss_xstream_destroy(te.te_eng.de_tgt_xs[i]);
	dss_xstream_destroy(te.te_eng.de_sys_xs);
	D_FREE(te.te_eng.de_tgt_xs);
}

/* format + xstreams + open, as daos_server starts */
static void
engine_up(void)
{
	char err[256];

	cfg_load(TGT_NR, "vostest");
	assert_int_equal(srv_vos_format(&te.te_eng, NULL, err, sizeof(err)), 0);
	xs_start();
	assert_int_equal(srv_vos_open(&te.te_eng), 0);
	assert_int_equal(ds_pool_tgt_nr(), TGT_NR);
}

static void
engine_down(void)
{
	srv_vos_close();
	assert_int_equal(ds_pool_tgt_nr(), 0);
	xs_stop();
}

static int
setup(void **state)
{
	(void)state;
	snprintf(te.te_dir, sizeof(te.te_dir), "/tmp/test_srv_vos.XXXXXX");
	assert_non_null(mkdtemp(te.te_dir));
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	dss_config_free(te.te_cfg);
	te.te_cfg = NULL;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", te.te_dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static bool
path_exists(const char *fmt, ...)
{
	char path[512];
	struct stat st;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	return stat(path, &st) == 0;
}

/* Format writes the superblock once; it is checked on later starts. */
static void
test_format(void **state)
{
	struct srv_sb_info a, b;
	char err[256], path[128];
	int fd;

	(void)state;
	cfg_load(TGT_NR, "vostest");
	assert_int_equal(srv_vos_format(&te.te_eng, &a, err, sizeof(err)), 0);
	assert_true(a.si_new);
	assert_int_equal(a.si_targets, TGT_NR);
	assert_int_equal(a.si_rank, SRV_SB_RANK_NONE);
	assert_string_equal(a.si_system, "vostest");
	assert_true(path_exists("%s/b0", te.te_dir) && path_exists("%s/b1", te.te_dir));
	assert_int_equal(srv_vos_format(&te.te_eng, &b, err, sizeof(err)), 0);
	assert_false(b.si_new);
	assert_int_equal(uuid_compare(a.si_uuid, b.si_uuid), 0);

	cfg_load(TGT_NR + 1, "vostest");
	assert_int_equal(srv_vos_format(&te.te_eng, NULL, err, sizeof(err)), -DER_INVAL);
	assert_non_null(strstr(err, "formatted with 2 targets"));
	cfg_load(TGT_NR, "other");
	assert_int_equal(srv_vos_format(&te.te_eng, NULL, err, sizeof(err)), -DER_INVAL);
	assert_non_null(strstr(err, "system 'vostest'"));

	/* a flipped byte, then a truncated file: damaged */
	cfg_load(TGT_NR, "vostest");
	snprintf(path, sizeof(path), "%s/scm/superblock", te.te_dir);
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "X", 1, 30), 1);
	assert_int_equal(srv_vos_format(&te.te_eng, NULL, err, sizeof(err)), -DER_DF_INVAL);
	assert_int_equal(ftruncate(fd, 10), 0);
	close(fd);
	assert_int_equal(srv_vos_format(&te.te_eng, NULL, err, sizeof(err)), -DER_DF_INVAL);
	assert_non_null(strstr(err, "damaged superblock"));
}

struct io_arg {
	uuid_t ia_pool;
	uuid_t ia_cont;
	bool ia_create; /* create the container, else check it is there */
	uint64_t ia_hold_ms;
	int ia_rc;
	struct dss_eventual *ia_ev;
};

/* In a ULT on a target: use the shard through a referenced lookup. */
static void
io_ult(void *arg)
{
	struct io_arg *ia = arg;
	struct ds_pool_child *pc;
	daos_handle_t poh, coh;
	int rc;

	rc = ds_pool_child_lookup(ia->ia_pool, &pc);
	if (rc != 0)
		goto out;
	poh = ds_pool_child_hdl(pc);
	if (ia->ia_create) {
		rc = vos_cont_create(poh, ia->ia_cont);
		if (rc == 0)
			rc = vos_pool_wait(poh, vos_pool_last_lsn(poh));
	} else {
		rc = vos_cont_open(poh, ia->ia_cont, &coh);
		if (rc == 0)
			vos_cont_close(coh);
	}
	if (rc == 0 && ia->ia_hold_ms > 0) {
		/* the reference is held: let the test go on, put it later */
		dss_eventual_set(ia->ia_ev, (void *)(intptr_t)0);
		dss_sleep(ia->ia_hold_ms);
		ds_pool_child_put(pc);
		ia->ia_rc = 0;
		return;
	}
	ds_pool_child_put(pc);
out:
	dss_eventual_set(ia->ia_ev, (void *)(intptr_t)rc);
}

/* Run io_ult on target @tgt; its result (with ia_hold_ms: once the reference is held). */
static int
io_run(uint32_t tgt, struct io_arg *ia)
{
	void *val;

	ia->ia_rc = -DER_INPROGRESS;
	assert_int_equal(dss_eventual_create(&ia->ia_ev), 0);
	assert_int_equal(dss_ult_create(te.te_eng.de_tgt_xs[tgt], io_ult, ia, 0, NULL), 0);
	dss_eventual_wait(ia->ia_ev, &val);
	dss_eventual_destroy(ia->ia_ev);
	return (int)(intptr_t)val;
}

/* Create, use, close/reopen, query, destroy, through the bridge. */
static void
test_bridge(void **state)
{
	struct ds_pool_tgt_info infos[TGT_NR];
	struct io_arg ia = {0};
	int rcs[TGT_NR];
	uuid_t pool;
	uint32_t i;

	(void)state;
	engine_up();
	uuid_generate(pool);
	assert_int_equal(ds_pool_tgt_query(pool, infos, TGT_NR), -DER_NONEXIST);
	assert_int_equal(ds_pool_tgt_create(pool, 64 * MiB, 16 * MiB, rcs, TGT_NR), 0);
	for (i = 0; i < TGT_NR; i++)
		assert_int_equal(rcs[i], 0);
	assert_int_equal(ds_pool_tgt_create(pool, 64 * MiB, 16 * MiB, rcs, TGT_NR), -DER_EXIST);
	assert_int_equal(ds_pool_tgt_query(pool, infos, TGT_NR), 0);
	for (i = 0; i < TGT_NR; i++) {
		assert_int_equal(infos[i].ti_rc, 0);
		assert_int_equal(infos[i].ti_tgt, i);
		assert_int_equal(infos[i].ti_vos.pi_scm_total, 32 * MiB);
		assert_int_equal(infos[i].ti_vos.pi_data_total, 8 * MiB - 4096); /* block 0 */
	}
	/* sizes below the VOS minimums per target */
	uuid_generate(ia.ia_pool);
	assert_int_equal(ds_pool_tgt_create(ia.ia_pool, 16 * MiB, 0, rcs, TGT_NR), -DER_INVAL);

	/* a container on target 1, durable; the shards closed and opened again */
	uuid_copy(ia.ia_pool, pool);
	uuid_generate(ia.ia_cont);
	ia.ia_create = true;
	assert_int_equal(io_run(1, &ia), 0);
	engine_down();
	assert_int_equal(ds_pool_tgt_create(pool, 64 * MiB, 16 * MiB, NULL, 0), -DER_UNINIT);
	engine_up();
	ia.ia_create = false;
	assert_int_equal(io_run(1, &ia), 0);
	assert_int_equal(io_run(0, &ia), -DER_NONEXIST); /* target 0 never had it */

	/* destroy waits for a reference held 200 ms */
	ia.ia_hold_ms = 200;
	assert_int_equal(io_run(1, &ia), 0);
	{
		uint64_t t0 = d_now_ns();

		assert_int_equal(ds_pool_tgt_destroy(pool, rcs, TGT_NR), 0);
		assert_true(d_now_ns() - t0 >= 150 * 1000 * 1000ULL);
	}
	assert_int_equal(ia.ia_rc, 0); /* the holder finished before the shard closed */
	ia.ia_hold_ms = 0;
	assert_int_equal(io_run(1, &ia), -DER_NONEXIST);
	{
		char us[DAOS_UUID_STR_SIZE];

		uuid_unparse_lower(pool, us);
		assert_false(path_exists("%s/b0/%s", te.te_dir, us));
		assert_false(path_exists("%s/b1/%s", te.te_dir, us));
	}
	assert_int_equal(ds_pool_tgt_query(pool, infos, TGT_NR), -DER_NONEXIST);
	assert_int_equal(ds_pool_tgt_destroy(pool, rcs, TGT_NR), 0);
	engine_down();
}

/* TgtContDestroy's bridge: a container removed from every shard, idempotently. */
static void
test_cont_destroy(void **state)
{
	struct io_arg ia = {0};
	int rcs[TGT_NR];
	uuid_t other;
	uint32_t i;

	(void)state;
	engine_up();
	uuid_generate(ia.ia_pool);
	uuid_generate(ia.ia_cont);
	assert_int_equal(ds_pool_tgt_create(ia.ia_pool, 64 * MiB, 16 * MiB, rcs, TGT_NR), 0);
	ia.ia_create = true;
	for (i = 0; i < TGT_NR; i++)
		assert_int_equal(io_run(i, &ia), 0);
	ia.ia_create = false;
	assert_int_equal(io_run(0, &ia), 0);
	assert_int_equal(ds_pool_tgt_cont_destroy(ia.ia_pool, ia.ia_cont, rcs, TGT_NR), 0);
	for (i = 0; i < TGT_NR; i++) {
		assert_int_equal(rcs[i], 0);
		assert_int_equal(io_run(i, &ia), -DER_NONEXIST);
	}
	/* again, and a container only one target has, and a pool no target has */
	assert_int_equal(ds_pool_tgt_cont_destroy(ia.ia_pool, ia.ia_cont, rcs, TGT_NR), 0);
	ia.ia_create = true;
	assert_int_equal(io_run(1, &ia), 0);
	assert_int_equal(ds_pool_tgt_cont_destroy(ia.ia_pool, ia.ia_cont, rcs, TGT_NR), 0);
	ia.ia_create = false;
	assert_int_equal(io_run(1, &ia), -DER_NONEXIST);
	uuid_generate(other);
	assert_int_equal(ds_pool_tgt_cont_destroy(other, ia.ia_cont, rcs, TGT_NR), 0);
	/* its uuid is free again at once */
	ia.ia_create = true;
	assert_int_equal(io_run(0, &ia), 0);
	assert_int_equal(ds_pool_tgt_destroy(ia.ia_pool, rcs, TGT_NR), 0);
	engine_down();
	assert_int_equal(ds_pool_tgt_cont_destroy(ia.ia_pool, ia.ia_cont, rcs, TGT_NR),
			 -DER_UNINIT);
}

/* One target cannot create: the other's shard is removed; nothing is left. */
static void
test_create_undo(void **state)
{
	char us[DAOS_UUID_STR_SIZE], path[256];
	int rcs[TGT_NR];
	uuid_t pool;
	int fd;

	(void)state;
	engine_up();
	uuid_generate(pool);
	uuid_unparse_lower(pool, us);
	snprintf(path, sizeof(path), "%s/b1/%s", te.te_dir, us);
	fd = open(path, O_CREAT | O_WRONLY, 0600); /* a file where target 1's directory goes */
	assert_true(fd >= 0);
	close(fd);
	assert_int_not_equal(ds_pool_tgt_create(pool, 64 * MiB, 16 * MiB, rcs, TGT_NR), 0);
	assert_int_equal(rcs[0], -DER_CANCELED);
	assert_int_not_equal(rcs[1], 0);
	assert_false(path_exists("%s/b0/%s", te.te_dir, us));
	unlink(path);
	/* now it works; more than the ram tier allows per target does not */
	assert_int_equal(ds_pool_tgt_create(pool, 64 * MiB, 16 * MiB, rcs, TGT_NR), 0);
	uuid_generate(pool);
	assert_int_equal(ds_pool_tgt_create(pool, 128 * MiB, 16 * MiB, rcs, TGT_NR), -DER_NOSPACE);
	uuid_unparse_lower(pool, us);
	assert_false(path_exists("%s/b0/%s", te.te_dir, us));
	assert_false(path_exists("%s/b1/%s", te.te_dir, us));
	engine_down();
}

/* A shard directory without its meta file (a create cut short) is removed at open. */
static void
test_open_partial(void **state)
{
	char us[DAOS_UUID_STR_SIZE];
	uuid_t pool;

	(void)state;
	uuid_generate(pool);
	uuid_unparse_lower(pool, us);
	cfg_load(TGT_NR, "vostest");
	assert_int_equal(srv_vos_format(&te.te_eng, NULL, (char[64]){0}, 64), 0);
	{
		char path[256];

		snprintf(path, sizeof(path), "%s/b0/%s", te.te_dir, us);
		assert_int_equal(mkdir(path, 0700), 0);
		snprintf(path, sizeof(path), "%s/b0/%s/vos-0", te.te_dir, us);
		assert_int_equal(mkdir(path, 0700), 0);
	}
	engine_up();
	assert_false(path_exists("%s/b0/%s/vos-0", te.te_dir, us));
	engine_down();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_format, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bridge, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cont_destroy, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_create_undo, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_open_partial, setup, teardown),
	};
	int rc;

	assert_int_equal(d_log_init(), 0);
	rc = cmocka_run_group_tests_name("engine_srv_vos", tests, NULL, NULL);
	d_log_fini();
	return rc;
}
