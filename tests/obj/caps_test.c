/*
 * caps_test.c: the targets' checks of container handles and pool map versions, against a
 * real daos_server (engines told by the management service) and a real daos_agent. Run by
 * test_caps.sh, which creates the pool with dmg.
 *
 *   caps_test caps LABEL MGMT_ADDR PUUID    the capability checks (one server)
 *   caps_test hold LABEL MGMT_ADDR PUUID    open a container, write, print "ready", wait for a
 *                                           line (the script restarts the engine at
 *                                           MGMT_ADDR), then: that engine knows the handle
 *                                           again, I/O goes on, unknown handles are refused
 *   caps_test lost LABEL RANK ADDR PUUID    (test_caps_three.sh: every engine lost the open's
 *                                           TgtHdl ADD, fault 300) open a container: I/O
 *                                           on S1 objects off rank RANK (the MS leader's,
 *                                           killed meanwhile) is refused -DER_NO_HDL; print
 *                                           "ready", wait for a line; then the engine at
 *                                           ADDR knows the handle again (the new leader's
 *                                           push) and the same I/O works
 *   caps_test virgin LABEL                  a pool where no container was ever opened (the
 *                                           targets were never told a handle): a handle
 *                                           forged on the client is refused, update and fetch
 *   caps_test stale LABEL MGMT_ADDR PUUID   connect, open, update, print "ready", wait for a
 *                                           line on stdin (the script excludes a rank and
 *                                           bumps the pool map), update and fetch again:
 *                                           the client must refresh its map (-DER_STALE)
 *
 * MGMT_ADDR is an engine's management address: TgtQuery there tells what its targets know
 * (container handles, map version). Prints one "ok: ..." or "FAIL: ..." line per check;
 * exits 0 when every check passed.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <daos.h>
#include <daos/client.h>
#include <daos_srv/ctl.h>
#include <gurt/common.h>

#include "mgmt/tgt.pb-c.h"

#include "../common/ok_check.h"

/* What the targets of the engine at @addr know of pool @puuid. */
struct tgt_view {
	uint32_t tv_nr;      /* targets answering */
	uint32_t tv_hdl_min; /* handles known, fewest and most over the targets */
	uint32_t tv_hdl_max;
	uint32_t tv_ver_min; /* map version known */
	uint32_t tv_ver_max;
};

static int
tgt_query(const char *addr, const char *puuid, struct tgt_view *tv)
{
	Mgmt__TgtQueryReq req = MGMT__TGT_QUERY_REQ__INIT;
	Mgmt__TgtQueryResp *resp;
	struct dss_ctl_client *cli;
	uint8_t buf[128];
	void *reply = NULL;
	size_t len, i;
	int rc;

	memset(tv, 0, sizeof(*tv));
	req.pool_uuid = (char *)puuid;
	rc = dss_ctl_client_open(addr, 10000, &cli);
	if (rc != 0)
		return rc;
	len = mgmt__tgt_query_req__pack(&req, buf);
	rc = dss_ctl_client_call(cli, DSS_CTL_TGT_QUERY, buf, len, 30000, &reply, &len);
	dss_ctl_client_close(cli);
	if (rc != 0)
		return rc;
	resp = mgmt__tgt_query_resp__unpack(NULL, len, reply);
	free(reply);
	if (resp == NULL)
		return -DER_PROTO;
	rc = resp->status;
	tv->tv_hdl_min = UINT32_MAX;
	tv->tv_ver_min = UINT32_MAX;
	for (i = 0; rc == 0 && i < resp->n_shards; i++) {
		Mgmt__TgtShard *s = resp->shards[i];

		tv->tv_nr++;
		tv->tv_hdl_min = s->nhdls < tv->tv_hdl_min ? s->nhdls : tv->tv_hdl_min;
		tv->tv_hdl_max = s->nhdls > tv->tv_hdl_max ? s->nhdls : tv->tv_hdl_max;
		tv->tv_ver_min = s->map_version < tv->tv_ver_min ? s->map_version : tv->tv_ver_min;
		tv->tv_ver_max = s->map_version > tv->tv_ver_max ? s->map_version : tv->tv_ver_max;
	}
	mgmt__tgt_query_resp__free_unpacked(resp, NULL);
	return rc;
}

/* Every target of @addr knows @nhdls handles of pool @puuid. */
static void
check_hdls(const char *addr, const char *puuid, uint32_t nhdls, const char *what)
{
	struct tgt_view tv;
	int rc = tgt_query(addr, puuid, &tv);

	check(rc == 0 && tv.tv_nr > 0 && tv.tv_hdl_min == nhdls && tv.tv_hdl_max == nhdls,
	      "%s: %u targets know %u..%u handles (want %u; TgtQuery %s)", what, tv.tv_nr,
	      tv.tv_hdl_min, tv.tv_hdl_max, nhdls, d_errstr(rc));
}

#define VAL_LEN 16

static int
obj_put(daos_handle_t coh, daos_obj_id_t oid, const char *dk, const char *val)
{
	daos_handle_t oh;
	daos_key_t dkey;
	daos_iod_t iod = {0};
	d_sg_list_t sgl;
	d_iov_t iov;
	char buf[VAL_LEN] = {0};
	int rc;

	rc = daos_obj_open(coh, oid, DAOS_OO_RW, &oh, NULL);
	if (rc != 0)
		return rc;
	snprintf(buf, sizeof(buf), "%s", val);
	d_iov_set(&dkey, (void *)dk, strlen(dk));
	d_iov_set(&iod.iod_name, "a", 1);
	iod.iod_type = DAOS_IOD_SINGLE;
	iod.iod_size = VAL_LEN;
	iod.iod_nr = 1;
	d_iov_set(&iov, buf, VAL_LEN);
	sgl = (d_sg_list_t){.sg_nr = 1, .sg_iovs = &iov};
	rc = daos_obj_update(oh, DAOS_TX_NONE, 0, &dkey, 1, &iod, &sgl, NULL);
	daos_obj_close(oh, NULL);
	return rc;
}

/* Fetch @dk into @out (VAL_LEN bytes; "" if nothing is there). */
static int
obj_get(daos_handle_t coh, daos_obj_id_t oid, const char *dk, char *out)
{
	daos_handle_t oh;
	daos_key_t dkey;
	daos_iod_t iod = {0};
	d_sg_list_t sgl;
	d_iov_t iov;
	int rc;

	memset(out, 0, VAL_LEN);
	rc = daos_obj_open(coh, oid, DAOS_OO_RO, &oh, NULL);
	if (rc != 0)
		return rc;
	d_iov_set(&dkey, (void *)dk, strlen(dk));
	d_iov_set(&iod.iod_name, "a", 1);
	iod.iod_type = DAOS_IOD_SINGLE;
	iod.iod_size = DAOS_REC_ANY;
	iod.iod_nr = 1;
	d_iov_set(&iov, out, VAL_LEN);
	sgl = (d_sg_list_t){.sg_nr = 1, .sg_iovs = &iov};
	rc = daos_obj_fetch(oh, DAOS_TX_NONE, 0, &dkey, 1, &iod, &sgl, NULL, NULL);
	daos_obj_close(oh, NULL);
	out[VAL_LEN - 1] = '\0';
	return rc;
}

/* A handle made on the client only: service handle @hdl on container @cont, all rights. */
static int
forge(daos_handle_t poh, const uuid_t cont, const uuid_t hdl, daos_handle_t *coh)
{
	return dc_cont_hdl_create(poh, cont, hdl, DAOS_COO_RW, 0, UINT64_MAX, coh);
}

/* The service handle uuid of @coh. */
static void
hdl_uuid(daos_handle_t coh, uuid_t out)
{
	struct dc_cont *c = dc_cont_get(coh);

	uuid_clear(out);
	if (c != NULL) {
		uuid_copy(out, c->dc_hdl);
		dc_cont_put(c);
	}
}

static void
forget(daos_handle_t coh)
{
	struct dc_cont *c = dc_cont_get(coh);

	if (c != NULL) {
		dc_cont_hdl_delete(c); /* client side only: the service never knew it */
		dc_cont_put(c);
	}
}

static int
run_caps(const char *label, const char *addr, const char *puuid)
{
	daos_handle_t poh, rw, ro, rwb, fake, cross, unknown;
	daos_obj_id_t oid = {.lo = 1};
	uuid_t ua, ub, h, hrw;
	char val[VAL_LEN];
	int rc;

	rc = daos_pool_connect(label, NULL, DAOS_PC_RW, &poh, NULL, NULL);
	CHECK_RC(rc, 0, "pool connect RW");
	if (rc != 0)
		return 1;
	CHECK_RC(daos_cont_create_with_label(poh, "a", NULL, &ua, NULL), 0, "create a");
	CHECK_RC(daos_cont_create_with_label(poh, "b", NULL, &ub, NULL), 0, "create b");
	check_hdls(addr, puuid, 0, "no container open");

	/* RW: the targets know it once the open returns */
	rc = daos_cont_open(poh, "a", DAOS_COO_RW, &rw, NULL, NULL);
	CHECK_RC(rc, 0, "open a RW");
	if (rc != 0)
		return 1;
	check_hdls(addr, puuid, 1, "after open RW");
	CHECK_RC(daos_obj_generate_oid(rw, &oid, 0, OC_S1, 0, 0), 0, "oid");
	CHECK_RC(obj_put(rw, oid, "d0", "one"), 0, "update through RW");
	rc = obj_get(rw, oid, "d0", val);
	check(rc == 0 && strcmp(val, "one") == 0, "fetch through RW: %s '%s'", d_errstr(rc), val);

	/* RO: the client refuses early; a handle forged RW over it is refused by the server */
	CHECK_RC(daos_cont_open(poh, "a", DAOS_COO_RO, &ro, NULL, NULL), 0, "open a RO");
	check_hdls(addr, puuid, 2, "after open RO");
	CHECK_RC(obj_put(ro, oid, "d0", "two"), -DER_NO_PERM, "update through RO (client)");
	rc = obj_get(ro, oid, "d0", val);
	check(rc == 0 && strcmp(val, "one") == 0, "fetch through RO: %s '%s'", d_errstr(rc), val);
	hdl_uuid(ro, h);
	CHECK_RC(forge(poh, ua, h, &fake), 0, "forge RW over the RO handle");
	CHECK_RC(obj_put(fake, oid, "d0", "two"), -DER_NO_PERM, "update, forged RW (server)");
	CHECK_RC(obj_put(fake, oid, "d9", "new"), -DER_NO_PERM, "update of a new dkey, forged RW");
	rc = obj_get(fake, oid, "d0", val);
	check(rc == 0 && strcmp(val, "one") == 0, "fetch through the forged handle: %s '%s'",
	      d_errstr(rc), val);
	rc = obj_get(rw, oid, "d9", val);
	check(rc == 0 && val[0] == '\0', "the refused update wrote nothing: %s '%s'", d_errstr(rc),
	      val);

	/* a handle of container a used on container b */
	hdl_uuid(rw, hrw);
	CHECK_RC(forge(poh, ub, hrw, &cross), 0, "forge a's RW handle onto b");
	CHECK_RC(obj_put(cross, oid, "d0", "x"), -DER_NO_PERM, "update of b through a's handle");
	CHECK_RC(obj_get(cross, oid, "d0", val), -DER_NO_PERM, "fetch of b through a's handle");
	CHECK_RC(daos_cont_open(poh, "b", DAOS_COO_RW, &rwb, NULL, NULL), 0, "open b RW");
	CHECK_RC(obj_put(rwb, oid, "d0", "bee"), 0, "update of b through b's handle");
	rc = obj_get(rw, oid, "d0", val);
	check(rc == 0 && strcmp(val, "one") == 0, "a unchanged: %s '%s'", d_errstr(rc), val);
	check_hdls(addr, puuid, 3, "three handles open");

	/* a handle the service never gave */
	uuid_generate(h);
	CHECK_RC(forge(poh, ua, h, &unknown), 0, "forge an unknown handle");
	CHECK_RC(obj_put(unknown, oid, "d0", "x"), -DER_NO_HDL, "update, unknown handle");
	CHECK_RC(obj_get(unknown, oid, "d0", val), -DER_NO_HDL, "fetch, unknown handle");

	/* close: the targets forget */
	CHECK_RC(daos_cont_close(ro, NULL), 0, "close RO");
	check_hdls(addr, puuid, 2, "after close RO");
	CHECK_RC(obj_get(fake, oid, "d0", val), -DER_NO_HDL, "fetch through the closed handle");
	CHECK_RC(daos_cont_close(rwb, NULL), 0, "close b");
	CHECK_RC(daos_cont_close(rw, NULL), 0, "close RW");
	check_hdls(addr, puuid, 0, "after closing all");
	CHECK_RC(obj_get(cross, oid, "d0", val), -DER_NO_HDL, "fetch through a closed RW handle");
	CHECK_RC(forge(poh, ua, hrw, &rw), 0, "forge the closed RW handle again on a");
	CHECK_RC(obj_put(rw, oid, "d0", "x"), -DER_NO_HDL, "update through the closed RW handle");
	CHECK_RC(obj_get(rw, oid, "d0", val), -DER_NO_HDL, "fetch through the closed RW handle");
	forget(rw);
	forget(fake);
	forget(cross);
	forget(unknown);

	/* destroy with a handle open (forced) removes it from the targets too */
	CHECK_RC(daos_cont_open(poh, "b", DAOS_COO_RW, &rwb, NULL, NULL), 0, "open b again");
	check_hdls(addr, puuid, 1, "b open");
	CHECK_RC(daos_cont_destroy(poh, "b", 1, NULL), 0, "destroy b (forced)");
	check_hdls(addr, puuid, 0, "after destroy of b");
	forget(rwb);

	CHECK_RC(daos_pool_disconnect(poh, NULL), 0, "disconnect");
	return 0;
}

static int
run_stale(const char *label, const char *addr, const char *puuid)
{
	daos_handle_t poh, coh;
	daos_obj_id_t oids[8];
	struct dc_pool *pool;
	struct tgt_view tv;
	uint32_t v0, v1;
	char val[VAL_LEN];
	char line[16];
	int rc, i;

	rc = daos_pool_connect(label, NULL, DAOS_PC_RW, &poh, NULL, NULL);
	CHECK_RC(rc, 0, "pool connect RW");
	if (rc != 0)
		return 1;
	CHECK_RC(daos_cont_create_with_label(poh, "s", NULL, NULL, NULL), 0, "create s");
	CHECK_RC(daos_cont_open(poh, "s", DAOS_COO_RW, &coh, NULL, NULL), 0, "open s");
	/* single-shard objects over the three targets: a spare is left for those on rank 1 */
	for (i = 0; i < 8; i++) {
		oids[i] = (daos_obj_id_t){.lo = 100 + i};
		CHECK_RC(daos_obj_generate_oid(coh, &oids[i], 0, OC_S1, 0, 0), 0, "oid S1");
		CHECK_RC(obj_put(coh, oids[i], "k", "before"), 0, "update before the exclusion");
	}
	pool = dc_pool_get(poh);
	v0 = dc_pool_map_version(pool);
	rc = tgt_query(addr, puuid, &tv);
	check(rc == 0 && tv.tv_ver_min == v0 && tv.tv_ver_max == v0,
	      "targets know map version %u..%u, the client %u", tv.tv_ver_min, tv.tv_ver_max, v0);
	printf("ready\n");
	fflush(stdout);
	if (fgets(line, sizeof(line), stdin) == NULL) {
		check(0, "no go from the script");
		return 1;
	}
	rc = tgt_query(addr, puuid, &tv);
	check(rc == 0 && tv.tv_ver_min > v0, "after the exclusion the targets know map %u..%u > %u",
	      tv.tv_ver_min, tv.tv_ver_max, v0);
	check(dc_pool_map_version(pool) == v0, "the client still has map %u",
	      dc_pool_map_version(pool));
	/* the first update is refused -DER_STALE, the client refreshes and retries; objects on
	 * the excluded rank move to a spare of the other (no rebuild: their old data stays) */
	for (i = 0; i < 8; i++) {
		CHECK_RC(obj_put(coh, oids[i], "k", "after"), 0, "update after the exclusion");
		rc = obj_get(coh, oids[i], "k", val);
		check(rc == 0 && strcmp(val, "after") == 0, "fetch object %d: %s '%s'", i,
		      d_errstr(rc), val);
	}
	v1 = dc_pool_map_version(pool);
	check(v1 == tv.tv_ver_max, "the client refreshed its map: %u -> %u (targets %u)", v0, v1,
	      tv.tv_ver_max);
	dc_pool_put(pool);
	CHECK_RC(daos_cont_close(coh, NULL), 0, "close s");
	CHECK_RC(daos_pool_disconnect(poh, NULL), 0, "disconnect");
	return 0;
}

static int
run_hold(const char *label, const char *addr, const char *puuid)
{
	daos_handle_t poh, coh, unknown;
	daos_obj_id_t oids[8];
	struct tgt_view tv;
	char val[VAL_LEN];
	char line[16];
	uuid_t cu, h;
	int rc, i;

	rc = daos_pool_connect(label, NULL, DAOS_PC_RW, &poh, NULL, NULL);
	CHECK_RC(rc, 0, "pool connect RW");
	if (rc != 0)
		return 1;
	CHECK_RC(daos_cont_create_with_label(poh, "h", NULL, &cu, NULL), 0, "create h");
	CHECK_RC(daos_cont_open(poh, "h", DAOS_COO_RW, &coh, NULL, NULL), 0, "open h");
	for (i = 0; i < 8; i++) {
		oids[i] = (daos_obj_id_t){.lo = 200 + i};
		CHECK_RC(daos_obj_generate_oid(coh, &oids[i], 0, OC_S1, 0, 0), 0, "oid S1");
		CHECK_RC(obj_put(coh, oids[i], "k", "before"), 0, "update before the restart");
	}
	check_hdls(addr, puuid, 1, "the second engine knows the handle");
	printf("ready\n");
	fflush(stdout);
	if (fgets(line, sizeof(line), stdin) == NULL) {
		check(0, "no go from the script");
		return 1;
	}
	/* the restarted engine gets the table after its join: wait for it (30 s at most) */
	for (i = 0; i < 300; i++) {
		rc = tgt_query(addr, puuid, &tv);
		if (rc == 0 && tv.tv_nr > 0 && tv.tv_hdl_min == 1)
			break;
		usleep(100 * 1000);
	}
	check_hdls(addr, puuid, 1, "the restarted engine knows the handle again");
	uuid_generate(h);
	CHECK_RC(forge(poh, cu, h, &unknown), 0, "forge an unknown handle");
	for (i = 0; i < 8; i++) {
		rc = obj_put(coh, oids[i], "k", "after");
		/* the client's first call to the restarted engine may time out on the old
		 * connection (src/net finds it dead only then): once, then it reconnects */
		if (rc == -DER_TIMEDOUT) {
			printf("note: object %d: first call after the restart timed out\n", i);
			rc = obj_put(coh, oids[i], "k", "after");
		}
		CHECK_RC(rc, 0, "update after the restart");
		rc = obj_get(coh, oids[i], "k", val);
		check(rc == 0 && strcmp(val, "after") == 0, "fetch object %d: %s '%s'", i,
		      d_errstr(rc), val);
		CHECK_RC(obj_put(unknown, oids[i], "k", "x"), -DER_NO_HDL,
			 "update through an unknown handle");
	}
	forget(unknown);
	CHECK_RC(daos_cont_close(coh, NULL), 0, "close h");
	CHECK_RC(daos_pool_disconnect(poh, NULL), 0, "disconnect");
	return 0;
}

/*
 * Pool LABEL has shards on the targets but no container was ever opened in it: the service
 * never told the targets a handle of it. A handle forged on the client (any uuid, all
 * rights) must be refused there, for update and fetch, on every object (every target).
 */
static int
run_virgin(const char *label)
{
	daos_handle_t poh, coh;
	daos_obj_id_t oid;
	char val[VAL_LEN];
	uuid_t cu, h;
	int i;

	CHECK_RC(daos_pool_connect(label, NULL, DAOS_PC_RW, &poh, NULL, NULL), 0, "connect");
	if (fails != 0)
		return 1;
	uuid_generate(cu);
	uuid_generate(h);
	CHECK_RC(forge(poh, cu, h, &coh), 0, "forge a handle on a pool never opened");
	for (i = 0; i < 8; i++) {
		oid = (daos_obj_id_t){.lo = 400 + i};
		CHECK_RC(daos_obj_generate_oid(coh, &oid, 0, OC_S1, 0, 0), 0, "oid S1");
		CHECK_RC(obj_put(coh, oid, "k", "forged"), -DER_NO_HDL, "update, forged handle");
		CHECK_RC(obj_get(coh, oid, "k", val), -DER_NO_HDL, "fetch, forged handle");
	}
	forget(coh);
	CHECK_RC(daos_pool_disconnect(poh, NULL), 0, "disconnect");
	return 0;
}

#define LOST_NR 6

/* The rank of @oid's only shard (S1) in @coh, or UINT32_MAX. */
static uint32_t
oid_rank(daos_handle_t coh, daos_obj_id_t oid)
{
	struct daos_obj_layout *lo = NULL;
	uint32_t rank = UINT32_MAX;

	if (daos_obj_layout_get(coh, oid, &lo) == 0 && lo->ol_nr == 1 &&
	    lo->ol_shards[0]->os_replica_nr == 1)
		rank = lo->ol_shards[0]->os_shard_loc[0].sd_rank;
	daos_obj_layout_free(lo);
	return rank;
}

/*
 * Every engine dropped the open's ADD (fault 300 armed once in each server), so no target
 * knows the handle: I/O is refused. The script then kills the MS leader (rank @lrank, its
 * engine with it); the new leader must send the surviving engines their tables (ADDR is
 * one of them), after which the same handle works for objects off @lrank.
 */
static int
run_lost(const char *label, uint32_t lrank, const char *addr, const char *puuid)
{
	daos_handle_t poh, coh;
	daos_obj_id_t oids[LOST_NR];
	struct tgt_view tv;
	char val[VAL_LEN];
	char line[16];
	uint32_t lo;
	int rc, i, n;

	rc = daos_pool_connect(label, NULL, DAOS_PC_RW, &poh, NULL, NULL);
	CHECK_RC(rc, 0, "pool connect RW");
	if (rc != 0)
		return 1;
	CHECK_RC(daos_cont_create_with_label(poh, "lost", NULL, NULL, NULL), 0, "create lost");
	CHECK_RC(daos_cont_open(poh, "lost", DAOS_COO_RW, &coh, NULL, NULL), 0, "open lost");
	if (fails != 0)
		return 1;
	check_hdls(addr, puuid, 0, "the engine dropped the open's handle (fault 300)");
	/* S1 objects whose shard is off the leader's rank (their engines survive) */
	for (lo = 600, n = 0; n < LOST_NR && lo < 1000; lo++) {
		daos_obj_id_t oid = {.lo = lo};

		if (daos_obj_generate_oid(coh, &oid, 0, OC_S1, 0, 0) != 0)
			break;
		if (oid_rank(coh, oid) != lrank && oid_rank(coh, oid) != UINT32_MAX)
			oids[n++] = oid;
	}
	check(n == LOST_NR, "%d S1 objects off rank %u", n, lrank);
	for (i = 0; i < n; i++)
		CHECK_RC(obj_put(coh, oids[i], "k", "before"), -DER_NO_HDL,
			 "update through a handle no target was told");
	printf("ready\n");
	fflush(stdout);
	if (fgets(line, sizeof(line), stdin) == NULL) {
		check(0, "no go from the script");
		return 1;
	}
	/* the new leader pushes the tables once it serves: wait for it (60 s at most) */
	for (i = 0; i < 600; i++) {
		rc = tgt_query(addr, puuid, &tv);
		if (rc == 0 && tv.tv_nr > 0 && tv.tv_hdl_min == 1)
			break;
		usleep(100 * 1000);
	}
	check_hdls(addr, puuid, 1, "after the leader change the engine knows the handle");
	for (i = 0; i < n; i++) {
		CHECK_RC(obj_put(coh, oids[i], "k", "after"), 0, "update after the re-push");
		rc = obj_get(coh, oids[i], "k", val);
		check(rc == 0 && strcmp(val, "after") == 0, "fetch object %d: %s '%s'", i,
		      d_errstr(rc), val);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	int rc;

	if (argc == 6 && strcmp(argv[1], "lost") == 0) {
		rc = daos_init();
		if (rc == 0) {
			rc = run_lost(argv[2], (uint32_t)strtoul(argv[3], NULL, 0), argv[4],
				      argv[5]);
			daos_fini();
		}
		printf("%d failed checks\n", fails);
		return rc != 0 || fails != 0 ? 1 : 0;
	}
	if (argc == 3 && strcmp(argv[1], "virgin") == 0) {
		rc = daos_init();
		if (rc == 0) {
			rc = run_virgin(argv[2]);
			daos_fini();
		}
		printf("%d failed checks\n", fails);
		return rc != 0 || fails != 0 ? 1 : 0;
	}
	if (argc != 5 || (strcmp(argv[1], "caps") != 0 && strcmp(argv[1], "stale") != 0 &&
			  strcmp(argv[1], "hold") != 0)) {
		fprintf(stderr, "usage: %s caps|stale|hold POOL_LABEL MGMT_ADDR POOL_UUID\n",
			argv[0]);
		return 2;
	}
	rc = daos_init();
	if (rc != 0) {
		fprintf(stderr, "daos_init: %s\n", d_errstr(rc));
		return 1;
	}
	if (strcmp(argv[1], "caps") == 0)
		rc = run_caps(argv[2], argv[3], argv[4]);
	else if (strcmp(argv[1], "stale") == 0)
		rc = run_stale(argv[2], argv[3], argv[4]);
	else
		rc = run_hold(argv[2], argv[3], argv[4]);
	daos_fini();
	printf("%d failed checks\n", fails);
	return rc != 0 || fails != 0 ? 1 : 0;
}
