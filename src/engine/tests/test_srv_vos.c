/*
 * test_srv_vos.c: the engine's storage (srv_vos.c) in one process, with real xstreams and
 * real VOS files in a fresh directory: format and the superblock checks; the bridge creating,
 * querying and destroying a pool on every target; a container written through a target's
 * shard (ds_pool_child_lookup from a ULT) still there after the shards are closed and opened
 * again; destroy waiting for a held reference; all-or-nothing create when one target fails;
 * an interrupted create (no meta file) removed at open; requests waiting for a WAL flush
 * put the target's loop to sleep without a spin (DAOS_XS_NOSPIN_DURABLE); three tiers with the wal,
 * meta and data roles (each file in its tier, orphans removed, a shard missing a file left alone).
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <daos/security.h>

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

/* cfg_load's storage: one file tier with every role, or (te_roles) three: wal, meta, data */
static bool te_roles;

static void
cfg_load(uint32_t targets, const char *system)
{
	char yml[2048], err[256];
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
		     "        scm_size: 128MiB\n",
		     system, targets, te.te_dir);
	if (te_roles)
		n += snprintf(yml + n, sizeof(yml) - n,
			      "      - {class: file, bdev_list: [%s/w], bdev_size: 1GiB, "
			      "bdev_roles: [wal]}\n"
			      "      - {class: file, bdev_list: [%s/b0, %s/b1], bdev_size: 1GiB, "
			      "bdev_roles: [meta]}\n"
			      "      - {class: file, bdev_list: [%s/d], bdev_size: 1GiB, "
			      "bdev_roles: [data]}\n",
			      te.te_dir, te.te_dir, te.te_dir, te.te_dir);
	else
		n += snprintf(yml + n, sizeof(yml) - n,
			      "      - class: file\n"
			      "        bdev_list: [%s/b0, %s/b1]\n"
			      "        bdev_size: 1GiB\n",
			      te.te_dir, te.te_dir);
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
	/* the check of an unformatted engine creates nothing */
	assert_int_equal(srv_vos_formatted(&te.te_eng, NULL, err, sizeof(err)), -DER_NONEXIST);
	assert_non_null(strstr(err, "not formatted"));
	assert_false(path_exists("%s/scm", te.te_dir) || path_exists("%s/b0", te.te_dir));
	assert_int_equal(srv_vos_format(&te.te_eng, &a, err, sizeof(err)), 0);
	assert_true(a.si_new);
	assert_int_equal(srv_vos_formatted(&te.te_eng, &b, err, sizeof(err)), 0);
	assert_int_equal(uuid_compare(a.si_uuid, b.si_uuid), 0);
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
	assert_int_equal(srv_vos_formatted(&te.te_eng, NULL, err, sizeof(err)), -DER_INVAL);
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

/* A request of dur_round: a container created, then parked until it is durable. */
struct dur_arg {
	uuid_t da_pool;
	struct dss_eventual *da_durable; /* set by the WAL's callback */
	struct dss_eventual *da_done;    /* the ULT's result, to the test */
	int da_rc;
};

static void
dur_cb(void *arg, uint64_t lsn, int rc)
{
	struct dur_arg *da = arg;

	(void)lsn;
	da->da_rc = rc;
	dss_eventual_set(da->da_durable, NULL);
}

static void
dur_ult(void *arg)
{
	struct dur_arg *da = arg;
	struct ds_pool_child *pc;
	daos_handle_t poh;
	uuid_t cont;
	int rc;

	rc = ds_pool_child_lookup(da->da_pool, &pc);
	if (rc != 0)
		goto out;
	poh = ds_pool_child_hdl(pc);
	uuid_generate(cont);
	rc = vos_cont_create(poh, cont);
	/* as obj_wait_durable: parked on an eventual that the WAL's callback sets */
	if (rc == 0)
		rc = dss_eventual_create(&da->da_durable);
	if (rc == 0) {
		rc = vos_pool_on_durable(poh, vos_pool_last_lsn(poh), dur_cb, da);
		if (rc == 0) {
			dss_eventual_wait(da->da_durable, NULL);
			rc = da->da_rc;
		}
		dss_eventual_destroy(da->da_durable);
	}
	ds_pool_child_put(pc);
out:
	dss_eventual_set(da->da_done, (void *)(intptr_t)rc);
}

#define DUR_ULTS 32

/* DUR_ULTS requests at once on target 0, each waiting for its WAL record; all succeed. */
static void
dur_round(const uuid_t pool)
{
	struct dur_arg das[DUR_ULTS];
	uint32_t i;

	for (i = 0; i < DUR_ULTS; i++) {
		memset(&das[i], 0, sizeof(das[i]));
		uuid_copy(das[i].da_pool, pool);
		assert_int_equal(dss_eventual_create(&das[i].da_done), 0);
		assert_int_equal(dss_ult_create(te.te_eng.de_tgt_xs[0], dur_ult, &das[i], 0, NULL),
				 0);
	}
	for (i = 0; i < DUR_ULTS; i++) {
		void *val;

		dss_eventual_wait(das[i].da_done, &val);
		dss_eventual_destroy(das[i].da_done);
		assert_int_equal((int)(intptr_t)val, 0);
	}
}

/* Rounds of dur_round (at most @max, fewer once one slept without a spin): such sleeps. */
static uint64_t
dur_nospin_sleeps(const uuid_t pool, uint32_t max)
{
	struct dss_xstream_stats st0, st1;
	uint32_t r;

	dss_xstream_stats_get(te.te_eng.de_tgt_xs[0], &st0);
	for (r = 0; r < max; r++) {
		dur_round(pool);
		dss_xstream_stats_get(te.te_eng.de_tgt_xs[0], &st1);
		if (st1.xss_idle_nospin != st0.xss_idle_nospin)
			break;
	}
	dss_xstream_stats_get(te.te_eng.de_tgt_xs[0], &st1);
	return st1.xss_idle_nospin - st0.xss_idle_nospin;
}

/*
 * A target whose requests wait for a WAL flush in flight sleeps at once instead of spinning
 * (srv_child_poll: SRV_NOSPIN_DURABLE_DEFAULT waiters, flushes of at least
 * DAOS_XS_NOSPIN_DURABLE_US, here 0 so that a fast disk's flushes count too);
 * DAOS_XS_NOSPIN_DURABLE=0, or flushes quicker than DAOS_XS_NOSPIN_DURABLE_US (60 s here),
 * keep the spin. Nothing else in this process asks for a sleep without a spin (no
 * network), so the count of such sleeps is the rule's alone. Robust at any load: the
 * positive side retries up to 50 rounds of 32 ULTs (each round's first flush is in flight,
 * a device flush long, while 31 requests wait); the negative sides are "never".
 */
static void
test_nospin_durable(void **state)
{
	int rcs[TGT_NR];
	uuid_t pool;

	(void)state;
	unsetenv("DAOS_XS_NOSPIN_DURABLE");
	setenv("DAOS_XS_NOSPIN_DURABLE_US", "0", 1);
	engine_up();
	uuid_generate(pool);
	assert_int_equal(ds_pool_tgt_create(pool, 64 * MiB, 16 * MiB, rcs, TGT_NR), 0);
	assert_true(dur_nospin_sleeps(pool, 50) > 0);
	engine_down();

	setenv("DAOS_XS_NOSPIN_DURABLE", "0", 1);
	engine_up();
	assert_int_equal(dur_nospin_sleeps(pool, 10), 0);
	engine_down();

	unsetenv("DAOS_XS_NOSPIN_DURABLE");
	setenv("DAOS_XS_NOSPIN_DURABLE_US", "60000000", 1);
	engine_up();
	assert_int_equal(dur_nospin_sleeps(pool, 10), 0);
	engine_down();
	unsetenv("DAOS_XS_NOSPIN_DURABLE_US");

	engine_up();
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

/* ds_pool_child_io_check on target @tgt, from a ULT there. */
struct chk_arg {
	uuid_t ca_pool;
	uuid_t ca_coh;
	uuid_t ca_cont;
	uint32_t ca_ver;
	bool ca_write;
	struct dss_eventual *ca_ev;
};

static void
chk_ult(void *arg)
{
	struct chk_arg *ca = arg;
	struct ds_pool_child *pc;
	int rc;

	rc = ds_pool_child_lookup(ca->ca_pool, &pc);
	if (rc == 0) {
		rc = ds_pool_child_io_check(pc, ca->ca_coh, ca->ca_cont, ca->ca_ver, ca->ca_write);
		ds_pool_child_put(pc);
	}
	dss_eventual_set(ca->ca_ev, (void *)(intptr_t)rc);
}

static int
chk_run(uint32_t tgt, struct chk_arg *ca)
{
	void *val;

	assert_int_equal(dss_eventual_create(&ca->ca_ev), 0);
	assert_int_equal(dss_ult_create(te.te_eng.de_tgt_xs[tgt], chk_ult, ca, 0, NULL), 0);
	dss_eventual_wait(ca->ca_ev, &val);
	dss_eventual_destroy(ca->ca_ev);
	return (int)(intptr_t)val;
}

#define HDL_NR 12
#define HDL_ROUNDS 60

/* What the check must answer, by the model: @known/@cont/@capas per handle, @ver. */
static int
chk_model(uint32_t ver, const bool *known, const int *cont, const uint64_t *capas, int h, int c,
	  uint32_t rver, bool write)
{
	if (rver < ver)
		return -DER_STALE;
	if (!known[h])
		return -DER_NO_HDL;
	if (cont[h] != c)
		return -DER_NO_PERM;
	if (!(capas[h] & (write ? SEC_CONT_CAPA_WRITE_DATA : SEC_CONT_CAPA_READ_DATA)))
		return -DER_NO_PERM;
	return 0;
}

/* TgtHdl's bridge against a model: random ADD/REMOVE/SET/MAP, every check on every target. */
static void
test_hdls(void **state)
{
	static const uint64_t capa_set[] = {0, SEC_CONT_CAPA_READ_DATA, SEC_CONT_CAPA_WRITE_DATA,
					    SEC_CONT_CAPA_READ_DATA | SEC_CONT_CAPA_WRITE_DATA};
	struct ds_pool_tgt_info infos[TGT_NR];
	struct ds_tgt_hdl ths[HDL_NR];
	struct chk_arg ca = {0};
	uuid_t hdls[HDL_NR], conts[2], pool, other;
	bool known[HDL_NR] = {0};
	int cont[HDL_NR] = {0};
	uint64_t capas[HDL_NR] = {0};
	uint32_t ver = 0, nknown, n, t, r, i;
	int rcs[TGT_NR];
	int h, c, w;

	(void)state;
	srand(1234);
	engine_up();
	uuid_generate(pool);
	uuid_generate(other);
	for (i = 0; i < HDL_NR; i++)
		uuid_generate(hdls[i]);
	uuid_generate(conts[0]);
	uuid_generate(conts[1]);
	assert_int_equal(ds_pool_tgt_create(pool, 64 * MiB, 16 * MiB, rcs, TGT_NR), 0);
	/* no shard: ADD and SET fail, REMOVE and MAP are done; a bad op is refused */
	assert_int_equal(ds_pool_tgt_hdl(other, 1, DS_TGT_HDL_ADD, ths, 0, rcs, TGT_NR),
			 -DER_NONEXIST);
	assert_int_equal(ds_pool_tgt_hdl(other, 1, DS_TGT_HDL_REMOVE, ths, 0, rcs, TGT_NR), 0);
	assert_int_equal(ds_pool_tgt_hdl(other, 1, DS_TGT_HDL_MAP, NULL, 0, rcs, TGT_NR), 0);
	assert_int_equal(ds_pool_tgt_hdl(pool, 1, (enum ds_tgt_hdl_op)7, NULL, 0, rcs, TGT_NR),
			 -DER_INVAL);

	for (r = 0; r < HDL_ROUNDS; r++) {
		enum ds_tgt_hdl_op op = (enum ds_tgt_hdl_op)(r == 0 ? DS_TGT_HDL_MAP : rand() % 4);
		uint32_t nver = ver + (uint32_t)(rand() % 3) - 1; /* older, same or newer */

		if (r > 0) {
			/* the checks first, before anything was told on round 0 */
			for (h = 0; h < HDL_NR; h++)
				for (c = 0; c < 2; c++)
					for (w = 0; w < 2; w++) {
						uuid_copy(ca.ca_pool, pool);
						uuid_copy(ca.ca_coh, hdls[h]);
						uuid_copy(ca.ca_cont, conts[c]);
						ca.ca_ver = ver + (uint32_t)(rand() % 3) - 1;
						if (ver == 0)
							ca.ca_ver = (uint32_t)(rand() % 2);
						ca.ca_write = w;
						t = (uint32_t)rand() % TGT_NR;
						assert_int_equal(chk_run(t, &ca),
								 chk_model(ver, known, cont, capas,
									   h, c, ca.ca_ver, w));
					}
		} else {
			/* a shard never told anything serves no handle, read or write */
			uuid_copy(ca.ca_pool, pool);
			uuid_copy(ca.ca_coh, hdls[0]);
			uuid_copy(ca.ca_cont, conts[0]);
			ca.ca_write = true;
			assert_int_equal(chk_run(0, &ca), -DER_NO_HDL);
			ca.ca_write = false;
			assert_int_equal(chk_run(1, &ca), -DER_NO_HDL);
		}
		n = (uint32_t)(rand() % 5);
		if (ver == 0 && nver == UINT32_MAX)
			nver = 0;
		for (i = 0; i < n; i++) {
			h = rand() % HDL_NR;
			uuid_copy(ths[i].th_hdl, hdls[h]);
			c = rand() % 2;
			uuid_copy(ths[i].th_cont, conts[c]);
			ths[i].th_capas = capa_set[rand() % 4];
		}
		assert_int_equal(ds_pool_tgt_hdl(pool, nver, op, ths, n, rcs, TGT_NR), 0);
		for (t = 0; t < TGT_NR; t++)
			assert_int_equal(rcs[t], 0);
		/* the model */
		ver = nver > ver ? nver : ver;
		if (op == DS_TGT_HDL_SET)
			memset(known, 0, sizeof(known));
		for (i = 0; i < n && op != DS_TGT_HDL_MAP; i++) {
			for (h = 0; uuid_compare(hdls[h], ths[i].th_hdl) != 0; h++)
				;
			known[h] = op != DS_TGT_HDL_REMOVE;
			cont[h] = uuid_compare(ths[i].th_cont, conts[0]) == 0 ? 0 : 1;
			capas[h] = ths[i].th_capas;
		}
		for (h = 0, nknown = 0; h < HDL_NR; h++)
			nknown += known[h];
		assert_int_equal(ds_pool_tgt_query(pool, infos, TGT_NR), 0);
		for (t = 0; t < TGT_NR; t++) {
			assert_int_equal(infos[t].ti_nhdls, nknown);
			assert_int_equal(infos[t].ti_map_ver, ver);
		}
	}
	/* nothing persists: after a restart the shard knows no handle and refuses every one */
	engine_down();
	engine_up();
	assert_int_equal(ds_pool_tgt_query(pool, infos, TGT_NR), 0);
	assert_int_equal(infos[0].ti_nhdls, 0);
	assert_int_equal(infos[0].ti_map_ver, 0);
	/* a handle known (with the read capability) before the restart is refused after it */
	for (h = 0; h < HDL_NR && !(known[h] && (capas[h] & SEC_CONT_CAPA_READ_DATA)); h++)
		;
	if (h < HDL_NR) {
		uuid_copy(ca.ca_coh, hdls[h]);
		uuid_copy(ca.ca_cont, conts[cont[h]]);
		ca.ca_write = false;
		ca.ca_ver = ver;
		assert_int_equal(chk_run(1, &ca), -DER_NO_HDL);
	}
	ca.ca_ver = 0;
	uuid_generate(ca.ca_coh);
	assert_int_equal(chk_run(1, &ca), -DER_NO_HDL);
	assert_int_equal(ds_pool_tgt_destroy(pool, rcs, TGT_NR), 0);
	engine_down();
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

/*
 * Three tiers, wal / meta (two entries) / data: each file of target i's shard in its role's
 * tier (meta entry i % 2); at open, an interrupted create (meta shard directory without a
 * meta file) is removed under every root, while a WAL without any meta shard directory and
 * a shard whose data file is missing are left alone; destroy removes everything.
 */
static void
test_roles(void **state)
{
	char us[DAOS_UUID_STR_SIZE], us2[DAOS_UUID_STR_SIZE], path[512];
	struct ds_pool_tgt_info infos[TGT_NR];
	int rcs[TGT_NR], fd;
	uuid_t pool, orphan;
	uint32_t i;

	(void)state;
	te_roles = true;
	engine_up();
	uuid_generate(pool);
	uuid_unparse_lower(pool, us);
	assert_int_equal(ds_pool_tgt_create(pool, 64 * MiB, 16 * MiB, rcs, TGT_NR), 0);
	for (i = 0; i < TGT_NR; i++) {
		assert_true(path_exists("%s/b%u/%s/vos-%u/meta", te.te_dir, i, us, i));
		assert_true(path_exists("%s/w/%s/vos-%u/wal", te.te_dir, us, i));
		assert_true(path_exists("%s/d/%s/vos-%u/data", te.te_dir, us, i));
		assert_false(path_exists("%s/b%u/%s/vos-%u/wal", te.te_dir, i, us, i));
		assert_false(path_exists("%s/b%u/%s/vos-%u/data", te.te_dir, i, us, i));
		assert_false(path_exists("%s/b%u/%s/vos-%u", te.te_dir, 1 - i, us, i));
	}
	engine_down();

	/*
	 * A create cut short before its meta file: the meta shard directory and a WAL (both
	 * removed at open); and a WAL whose meta shard directory is gone too (left alone).
	 */
	uuid_generate(orphan);
	uuid_unparse_lower(orphan, us2);
	{
		static const char *const dirs[][2] = {
		    {"b0", ""}, {"b0", "/vos-0"}, {"w", ""}, {"w", "/vos-0"}, {"w", "/vos-1"}};

		for (i = 0; i < D_ARRAY_SIZE(dirs); i++) {
			snprintf(path, sizeof(path), "%s/%s/%s%s", te.te_dir, dirs[i][0], us2,
				 dirs[i][1]);
			assert_int_equal(mkdir(path, 0700), 0);
		}
	}
	for (i = 0; i < TGT_NR; i++) {
		snprintf(path, sizeof(path), "%s/w/%s/vos-%u/wal", te.te_dir, us2, i);
		fd = open(path, O_CREAT | O_WRONLY, 0600);
		assert_true(fd >= 0);
		close(fd);
	}
	/* target 1's data file lost: its shard does not open, and nothing is deleted */
	snprintf(path, sizeof(path), "%s/d/%s/vos-1/data", te.te_dir, us);
	assert_int_equal(unlink(path), 0);
	engine_up();
	assert_false(path_exists("%s/b0/%s", te.te_dir, us2));
	assert_false(path_exists("%s/w/%s/vos-0", te.te_dir, us2));
	assert_true(path_exists("%s/w/%s/vos-1/wal", te.te_dir, us2));
	assert_true(path_exists("%s/b1/%s/vos-1/meta", te.te_dir, us));
	assert_true(path_exists("%s/w/%s/vos-1/wal", te.te_dir, us));
	assert_int_not_equal(ds_pool_tgt_query(pool, infos, TGT_NR), 0);
	assert_int_equal(infos[0].ti_rc, 0);
	assert_int_equal(infos[1].ti_rc, -DER_NONEXIST);
	assert_int_equal(ds_pool_tgt_destroy(pool, rcs, TGT_NR), 0);
	assert_false(path_exists("%s/b0/%s", te.te_dir, us) ||
		     path_exists("%s/b1/%s", te.te_dir, us));
	assert_false(path_exists("%s/w/%s", te.te_dir, us) ||
		     path_exists("%s/d/%s", te.te_dir, us));
	engine_down();
	te_roles = false;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_format, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bridge, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_nospin_durable, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cont_destroy, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hdls, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_create_undo, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_open_partial, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_roles, setup, teardown),
	};
	int rc;

	assert_int_equal(d_log_init(), 0);
	rc = cmocka_run_group_tests_name("engine_srv_vos", tests, NULL, NULL);
	d_log_fini();
	return rc;
}
