/*
 * srv_orphan.c: shards that a pool or container destroy could not reach (the rank was not
 * joined, or did not answer a forced destroy), removed when the rank joins again.
 *
 * A destroy records, in its own transaction, one "orphans" entry per rank it missed:
 * "RRRRRRRRRR/pool uuid" (a pool shard) or "RRRRRRRRRR/pool uuid/cont uuid" (a container
 * in a pool shard), the rank as ten decimal digits so that one rank's entries are adjacent.
 * After a rank's join commits, the leader sends it TgtDestroy / TgtContDestroy for each of
 * its entries (both idempotent) and removes the entries whose destroy succeeded; the others
 * stay for the next join. An entry whose pool (or container) exists again (a create retried
 * with the same uuid) is dropped without a destroy.
 *
 * Context: the control thread's loop.
 */
#define D_LOGFAC mgmt

#include <stdio.h>
#include <string.h>

#include <gurt/common.h>
#include <daos_errno.h>

#include "mgmt_internal.h"
#include "mgmt/tgt.pb-c.h"

D_LOG_FAC_DECLARE(mgmt);

#define MS_ORPHAN_KEY_LEN 96
#define MS_ORPHAN_BATCH 64 /* entries cleaned per join (the rest at the next one) */

static int
ms_orphan_put(struct rdb_tx *tx, uint32_t rank, const char *pool, const char *cont)
{
	char key[MS_ORPHAN_KEY_LEN];
	d_iov_t k, v;

	if (cont != NULL)
		snprintf(key, sizeof(key), "%010u/%s/%s", rank, pool, cont);
	else
		snprintf(key, sizeof(key), "%010u/%s", rank, pool);
	d_iov_set(&k, key, strlen(key));
	d_iov_set(&v, "o", 1);
	D_NOTE("rank %u: %s %s%s%s left to remove at its join\n", rank,
	       cont != NULL ? "container" : "pool shard", pool, cont != NULL ? "/" : "",
	       cont != NULL ? cont : "");
	return rdb_tx_update(tx, MS_T_ORPHANS, &k, &v);
}

int
ms_orphans_add(struct ds_mgmt *ms, struct rdb_tx *tx, const uint32_t *ranks, uint32_t nr,
	       char *const *addrs, const int *rcs, uint32_t naddrs, const char *pool,
	       const char *cont)
{
	Mgmt__MsMember *mem;
	bool missed;
	uint32_t i, j;
	int rc = 0;

	for (i = 0; rc == 0 && i < nr; i++) {
		if (ms_member_get(ms, ranks[i], &mem) != 0)
			continue; /* never joined: it has no shard */
		missed = strcmp(mem->member->state, MS_ST_JOINED) != 0;
		for (j = 0; !missed && rcs != NULL && j < naddrs; j++)
			if (strcmp(addrs[j], mem->member->addr) == 0 && rcs[j] != 0)
				missed = true;
		mgmt__ms_member__free_unpacked(mem, NULL);
		if (missed)
			rc = ms_orphan_put(tx, ranks[i], pool, cont);
	}
	return rc;
}

/* The cleaning of one rank's entries after its join. */
struct ms_orphans {
	struct ds_mgmt *or_ms;
	uint32_t or_rank;
	char or_prefix[16];
	char *or_keys[MS_ORPHAN_BATCH];
	uint32_t or_nr;
};

/* One destroy in flight. */
struct ms_orphan_one {
	struct ds_mgmt *oo_ms;
	char oo_key[MS_ORPHAN_KEY_LEN];
};

static int
ms_orphans_cb(const d_iov_t *key, const d_iov_t *val, void *arg)
{
	struct ms_orphans *oc = arg;
	size_t plen = strlen(oc->or_prefix);

	(void)val;
	if (key->iov_len < plen || memcmp(key->iov_buf, oc->or_prefix, plen) != 0)
		return 1; /* past this rank's entries */
	if (key->iov_len >= MS_ORPHAN_KEY_LEN || oc->or_nr == MS_ORPHAN_BATCH)
		return oc->or_nr == MS_ORPHAN_BATCH ? 1 : 0;
	D_STRNDUP(oc->or_keys[oc->or_nr], key->iov_buf, key->iov_len);
	if (oc->or_keys[oc->or_nr] != NULL)
		oc->or_nr++;
	return 0;
}

static void
ms_orphan_drop_done(int rc, void *arg)
{
	struct ms_orphan_one *oo = arg;

	if (rc != 0)
		D_ERROR("orphan %s: record not removed: " DF_RC "\n", oo->oo_key, DP_RC(rc));
	D_FREE(oo);
}

/* Remove the entry of @oo (consumed). */
static void
ms_orphan_drop(struct ms_orphan_one *oo)
{
	struct ds_mgmt *ms = oo->oo_ms;
	struct rdb_tx *tx;
	d_iov_t k;
	int rc;

	if (ms->ms_db == NULL || ms->ms_stopping || !ms->ms_up) {
		D_FREE(oo);
		return;
	}
	rc = rdb_tx_begin(ms->ms_db, ms->ms_term, &tx);
	if (rc == 0) {
		d_iov_set(&k, oo->oo_key, strlen(oo->oo_key));
		rc = rdb_tx_delete(tx, MS_T_ORPHANS, &k);
		if (rc == 0)
			rc = rdb_tx_commit(tx, ms_orphan_drop_done, oo);
		else
			rdb_tx_abort(tx);
	}
	if (rc != 0)
		ms_orphan_drop_done(rc, oo);
}

static void
ms_orphan_destroyed(const int *rcs, uint32_t nr, void *arg)
{
	struct ms_orphan_one *oo = arg;
	int rc = rcs == NULL || nr != 1 ? -DER_NOMEM : rcs[0];

	if (rc == -DER_NONEXIST)
		rc = 0; /* nothing there: nothing to remove */
	if (rc != 0) {
		D_ERROR("orphan %s: destroy failed, kept for the next join: " DF_RC "\n",
			oo->oo_key, DP_RC(rc));
		D_FREE(oo);
		return;
	}
	D_NOTE("orphan %s removed\n", oo->oo_key);
	ms_orphan_drop(oo);
}

/* Does the pool (@cont NULL) or container still exist (a create with the same uuid)? */
static bool
ms_orphan_live(struct ds_mgmt *ms, const char *pool, const char *cont)
{
	char key[MS_ORPHAN_KEY_LEN];
	const void *val;
	size_t len;
	d_iov_t k;

	if (cont == NULL)
		snprintf(key, sizeof(key), "%s", pool);
	else
		snprintf(key, sizeof(key), "%s/%s", pool, cont);
	d_iov_set(&k, key, strlen(key));
	return rdb_lookup(ms->ms_db, cont == NULL ? MS_T_POOLS : MS_T_CONTS, &k, &val, &len) == 0;
}

void
ms_orphans_clean(struct ds_mgmt *ms, uint32_t rank)
{
	struct ms_orphans oc = {.or_ms = ms, .or_rank = rank};
	Mgmt__TgtDestroyReq dr = MGMT__TGT_DESTROY_REQ__INIT;
	Mgmt__TgtContDestroyReq cr = MGMT__TGT_CONT_DESTROY_REQ__INIT;
	struct ms_orphan_one *oo;
	char **addrs = NULL;
	uint32_t naddrs = 0, i;
	char pool[48], *cont;
	const char *p;
	d_iov_t start;
	int rc;

	if (ms->ms_db == NULL || !ms->ms_up)
		return;
	snprintf(oc.or_prefix, sizeof(oc.or_prefix), "%010u/", rank);
	d_iov_set(&start, oc.or_prefix, strlen(oc.or_prefix));
	rc = rdb_iterate(ms->ms_db, MS_T_ORPHANS, &start, ms_orphans_cb, &oc);
	if ((rc != 0 && rc != 1) || oc.or_nr == 0)
		goto out;
	rc = ms_rank_addrs(ms, &rank, 1, &addrs, &naddrs);
	if (rc != 0 || naddrs != 1)
		goto out;
	for (i = 0; i < oc.or_nr; i++) {
		p = oc.or_keys[i] + strlen(oc.or_prefix);
		snprintf(pool, sizeof(pool), "%.*s", (int)strcspn(p, "/"), p);
		cont = strchr(p, '/');
		if (cont != NULL)
			cont++;
		D_ALLOC_PTR(oo);
		if (oo == NULL)
			break;
		oo->oo_ms = ms;
		snprintf(oo->oo_key, sizeof(oo->oo_key), "%s", oc.or_keys[i]);
		if (ms_orphan_live(ms, pool, cont)) {
			ms_orphan_drop(oo);
			continue;
		}
		if (cont == NULL) {
			dr.pool_uuid = pool;
			rc = ms_call_all(ms, addrs, 1, DSS_CTL_TGT_DESTROY, &dr.base,
					 ms_orphan_destroyed, oo);
		} else {
			cr.pool_uuid = pool;
			cr.cont_uuid = cont;
			rc = ms_call_all(ms, addrs, 1, DSS_CTL_TGT_CONT_DESTROY, &cr.base,
					 ms_orphan_destroyed, oo);
		}
		if (rc != 0) {
			D_ERROR("orphan %s: " DF_RC "\n", oo->oo_key, DP_RC(rc));
			D_FREE(oo);
		}
	}
out:
	ms_addrs_free(addrs, naddrs);
	for (i = 0; i < oc.or_nr; i++)
		D_FREE(oc.or_keys[i]);
}
