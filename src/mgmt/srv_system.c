/*
 * srv_system.c: the management service's system half. Start and stop of the MS replica (an
 * rdb database on the control thread's loop, among the access points), leadership (tables
 * made at the first step up, the leader's in-memory heartbeat table), the membership client
 * every server runs (Join, then Heartbeat, following leader hints), and the system methods:
 * Join, Heartbeat, SystemQuery, SystemExclude, LeaderQuery, GetAttachInfo (from the system
 * map). Pools are in srv_pool.c, pool handles and containers in srv_cont.c.
 *
 * Every function here runs on the control thread's loop, except ds_mgmt_start/stop/destroy.
 * Nothing blocks the loop: rdb commits and calls to other servers complete in callbacks.
 *
 * Invariants:
 *  1. Only the stepped-up leader (ms_up, and rdb_is_leader in the same term) reads or
 *     writes the tables; any other server answers -DER_NOTLEADER with a mgmt.LeaderHint.
 *  2. A rank is given once: the leader allocates from ms_next_rank (above every rank in the
 *     members table), and an engine uuid found in "uuids" gets its rank back.
 *  3. ms_hbs is leader-only state: reset to "now" for every member at step up, so a new
 *     leader gives every rank a full deadline before excluding it.
 */
#define D_LOGFAC mgmt

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gurt/common.h>
#include <daos_errno.h>

#include "mgmt_internal.h"
#include "mgmt/svc.pb-c.h"
#include "mgmt/system.pb-c.h"
#include <daos/security.h>
#include <daos_version.h>

D_LOG_FAC_DEFINE(mgmt);

#define MS_CALL_TIMEOUT_MS 2000

uint64_t
ms_now_ms(void)
{
	return d_now_ns() / 1000000ULL;
}

void
ms_rank_key(uint32_t rank, uint8_t key[4])
{
	uint32_t be = htonl(rank);

	memcpy(key, &be, 4);
}

/* Pack @msg and add "set @key to it in @table" to @tx. */
int
ms_tx_put_msg(struct rdb_tx *tx, const char *table, const void *key, size_t klen,
	      const ProtobufCMessage *msg)
{
	size_t len = protobuf_c_message_get_packed_size(msg);
	d_iov_t k, v;
	void *buf;
	int rc;

	D_ALLOC(buf, len > 0 ? len : 1);
	if (buf == NULL)
		return -DER_NOMEM;
	protobuf_c_message_pack(msg, buf);
	d_iov_set(&k, (void *)key, klen);
	d_iov_set(&v, buf, len);
	rc = rdb_tx_update(tx, table, &k, &v);
	D_FREE(buf);
	return rc;
}

/* Add the next system map version to @tx. */
int
ms_map_version_bump(struct ds_mgmt *ms, struct rdb_tx *tx)
{
	uint8_t val[8];
	d_iov_t k, v;
	uint64_t ver = ++ms->ms_map_version;
	int i;

	for (i = 0; i < 8; i++)
		val[i] = (uint8_t)(ver >> (8 * i));
	d_iov_set(&k, "map_version", strlen("map_version"));
	d_iov_set(&v, val, sizeof(val));
	return rdb_tx_update(tx, MS_T_SYS, &k, &v);
}

/* The member of @rank, unpacked into *@mem (free with mgmt__ms_member__free_unpacked). */
int
ms_member_get(struct ds_mgmt *ms, uint32_t rank, Mgmt__MsMember **mem)
{
	uint8_t key[4];
	const void *val;
	size_t len;
	d_iov_t k;
	int rc;

	ms_rank_key(rank, key);
	d_iov_set(&k, key, sizeof(key));
	rc = rdb_lookup(ms->ms_db, MS_T_MEMBERS, &k, &val, &len);
	if (rc != 0)
		return rc;
	*mem = mgmt__ms_member__unpack(NULL, len, val);
	if (*mem == NULL || (*mem)->member == NULL) {
		if (*mem != NULL)
			mgmt__ms_member__free_unpacked(*mem, NULL);
		D_ERROR("member %u: record does not decode\n", rank);
		return -DER_DF_INVAL;
	}
	return 0;
}

/* Parse a rank set "0-3,5" (brackets allowed) into a new array *@ranks (D_FREE). */
int
ms_rankset_parse(const char *s, uint32_t **ranks, uint32_t *nr)
{
	uint32_t *v = NULL, *nv;
	uint32_t n = 0, cap = 0;
	const char *p = s;
	char *end;

	*ranks = NULL;
	*nr = 0;
	if (*p == '[')
		p++;
	while (*p != '\0' && *p != ']') {
		unsigned long lo, hi, r;

		if (*p == ',') {
			p++;
			continue;
		}
		lo = strtoul(p, &end, 10);
		if (end == p)
			goto bad;
		hi = lo;
		p = end;
		if (*p == '-') {
			hi = strtoul(p + 1, &end, 10);
			if (end == p + 1)
				goto bad;
			p = end;
		}
		if (hi < lo || hi >= MS_NIL_RANK || hi - lo > 65536)
			goto bad;
		for (r = lo; r <= hi; r++) {
			if (n == cap) {
				cap = cap == 0 ? 16 : cap * 2;
				D_REALLOC_ARRAY(nv, v, cap);
				if (nv == NULL) {
					D_FREE(v);
					return -DER_NOMEM;
				}
				v = nv;
			}
			v[n++] = (uint32_t)r;
		}
	}
	*ranks = v;
	*nr = n;
	return 0;
bad:
	D_FREE(v);
	return -DER_INVAL;
}

bool
ms_rank_in(const uint32_t *ranks, uint32_t nr, uint32_t rank)
{
	uint32_t i;

	for (i = 0; i < nr; i++)
		if (ranks[i] == rank)
			return true;
	return false;
}

/* Leader hint: who leads (a management address), the replicas, the term. */
static void
ms_hint_fill(struct ds_mgmt *ms, Mgmt__LeaderHint *hint, char *leader, size_t len)
{
	struct rdb_hint h;

	leader[0] = '\0';
	hint->term = 0;
	if (ms->ms_db != NULL && rdb_leader_hint(ms->ms_db, &h) == 0) {
		if (h.rh_rank < ms->ms_ap_nr)
			snprintf(leader, len, "%s", ms->ms_aps[h.rh_rank]);
		hint->term = h.rh_term;
	} else if (ms->ms_db == NULL) {
		snprintf(leader, len, "%s", ms->ms_leader);
	}
	hint->leader = leader;
	hint->n_replicas = ms->ms_ap_nr;
	hint->replicas = ms->ms_aps;
}

void
ms_reply_notleader(struct ds_mgmt *ms, struct dss_ctl_req *req)
{
	Mgmt__LeaderHint hint = MGMT__LEADER_HINT__INIT;
	char leader[DSS_CTL_ADDR_LEN];

	ms_hint_fill(ms, &hint, leader, sizeof(leader));
	dss_ctl_reply_msg(req, -DER_NOTLEADER, &hint.base);
}

/* May this server serve an MS request now? If not, @req is answered -DER_NOTLEADER. */
bool
ms_serving(struct ds_mgmt *ms, struct dss_ctl_req *req)
{
	uint64_t term;

	if (ms->ms_db != NULL && ms->ms_up && !ms->ms_stopping && rdb_is_leader(ms->ms_db, &term) &&
	    term == ms->ms_term)
		return true;
	ms_reply_notleader(ms, req);
	return false;
}

static struct ms_hb *
ms_hb_get(struct ds_mgmt *ms, uint32_t rank)
{
	struct ms_hb *n;
	uint32_t nr, i;

	if (rank >= 1U << 20)
		return NULL;
	if (rank >= ms->ms_hb_nr) {
		nr = rank + 16;
		D_REALLOC_ARRAY(n, ms->ms_hbs, nr);
		if (n == NULL)
			return NULL;
		for (i = ms->ms_hb_nr; i < nr; i++) {
			memset(&n[i], 0, sizeof(n[i])); /* realloc leaves new entries undefined */
			n[i].hb_last_ms = ms_now_ms();
		}
		ms->ms_hbs = n;
		ms->ms_hb_nr = nr;
	}
	return &ms->ms_hbs[rank];
}

/*
 * Leadership.
 */

/* An exclusion (or its clearing) of a set of ranks, in one transaction. */
struct ms_excl {
	struct ds_mgmt *ex_ms;
	struct dss_ctl_req *ex_req; /* dmg system exclude, or NULL (heartbeat deadline) */
	const char *ex_state;       /* the members' new state */
	bool ex_clear;
	bool ex_keep_pools; /* a state change only: no target goes DOWN (system stop) */
	/* instead of answering ex_req: called with the outcome (then @ex is freed) */
	void (*ex_done)(int rc, void *arg);
	void *ex_done_arg;
	uint32_t ex_nr;
	uint32_t *ex_ranks;
	char **ex_addrs; /* management address of each rank */
	char ex_absent[256];
	const char *ex_why; /* the members' new info (a string literal) */
};

/*
 * The results of a reply about @n ranks: *@resp, @n of them initialised, and *@ptrsp,
 * their pointers (the reply's results); both freed by the caller (D_FREE). -DER_NOMEM.
 */
static int
ms_rank_results_new(uint32_t n, Mgmt__RankResult **resp, Mgmt__RankResult ***ptrsp)
{
	uint32_t i;

	*resp = NULL;
	*ptrsp = NULL;
	if (n == 0)
		return 0;
	D_ALLOC_ARRAY(*resp, n);
	D_ALLOC_ARRAY(*ptrsp, n);
	if (*resp == NULL || *ptrsp == NULL)
		return -DER_NOMEM;
	for (i = 0; i < n; i++) {
		mgmt__rank_result__init(&(*resp)[i]);
		(*ptrsp)[i] = &(*resp)[i];
	}
	return 0;
}

static void
ms_excl_free(struct ms_excl *ex)
{
	uint32_t i;

	for (i = 0; ex->ex_addrs != NULL && i < ex->ex_nr; i++)
		D_FREE(ex->ex_addrs[i]);
	D_FREE(ex->ex_addrs);
	D_FREE(ex->ex_ranks);
	D_FREE(ex);
}

static void
ms_exclude_done(int rc, void *arg)
{
	struct ms_excl *ex = arg;
	Mgmt__SystemExcludeResp out = MGMT__SYSTEM_EXCLUDE_RESP__INIT;
	Mgmt__RankResult *res = NULL, **resp = NULL;
	uint32_t i;

	ms_rl_unlock(ex->ex_ms, ex); /* the pool records */
	ex->ex_ms->ms_excl_busy = false;
	if (ex->ex_done != NULL) {
		ex->ex_done(rc, ex->ex_done_arg);
		goto out;
	}
	if (rc == 0 && !ex->ex_clear)
		ms_tgt_hdls_push(ex->ex_ms, MS_PUSH_MAPS, 0); /* the new map versions */
	for (i = 0; i < ex->ex_nr; i++)
		if (rc != 0)
			D_ERROR("rank %u: %s failed: " DF_RC "\n", ex->ex_ranks[i],
				ex->ex_clear ? "clear-exclude" : "exclusion", DP_RC(rc));
		else
			D_NOTE("rank %u: %s\n", ex->ex_ranks[i], ex->ex_state);
	if (ex->ex_req == NULL)
		goto out;
	if (rc == -DER_NOTLEADER) {
		ms_reply_notleader(ex->ex_ms, ex->ex_req);
		goto out;
	}
	if (rc == 0)
		rc = ms_rank_results_new(ex->ex_nr, &res, &resp);
	for (i = 0; rc == 0 && i < ex->ex_nr; i++) {
		res[i].rank = ex->ex_ranks[i];
		res[i].action = ex->ex_clear ? "clear" : "exclude";
		res[i].addr = ex->ex_addrs[i];
		res[i].state = (char *)ex->ex_state;
	}
	out.status = rc;
	out.n_results = rc == 0 ? ex->ex_nr : 0;
	out.results = resp;
	out.absent_ranks = ex->ex_absent;
	dss_ctl_reply_msg(ex->ex_req, rc, &out.base);
	D_FREE(resp);
	D_FREE(res);
out:
	ms_excl_free(ex);
}

static bool
ms_excl_pools(const struct ms_excl *ex)
{
	return !ex->ex_clear && !ex->ex_keep_pools;
}

/* The exclusion's transaction; ms_exclude_done runs at its outcome (not on an error). */
static int
ms_exclude_tx(struct ds_mgmt *ms, struct ms_excl *ex)
{
	struct rdb_tx *tx;
	uint8_t key[4];
	uint32_t i;
	int rc;

	rc = rdb_tx_begin(ms->ms_db, ms->ms_term, &tx);
	if (rc != 0)
		return rc;
	for (i = 0; rc == 0 && i < ex->ex_nr; i++) {
		Mgmt__MsMember *mem;
		char *old_state, *old_info;

		rc = ms_member_get(ms, ex->ex_ranks[i], &mem);
		if (rc != 0)
			break;
		D_FREE(ex->ex_addrs[i]);
		D_STRNDUP(ex->ex_addrs[i], mem->member->addr, DSS_CTL_ADDR_LEN);
		old_state = mem->member->state;
		old_info = mem->member->info;
		mem->member->state = (char *)ex->ex_state;
		mem->member->info = (char *)ex->ex_why;
		ms_rank_key(ex->ex_ranks[i], key);
		rc = ms_tx_put_msg(tx, MS_T_MEMBERS, key, sizeof(key), &mem->base);
		mem->member->state = old_state;
		mem->member->info = old_info;
		mgmt__ms_member__free_unpacked(mem, NULL);
		if (rc == 0 && ex->ex_addrs[i] == NULL)
			rc = -DER_NOMEM;
	}
	if (rc == 0 && ms_excl_pools(ex))
		rc = ms_pools_exclude_ranks(ms, tx, ex->ex_ranks, ex->ex_nr);
	if (rc == 0)
		rc = ms_map_version_bump(ms, tx);
	if (rc != 0) {
		rdb_tx_abort(tx);
		return rc;
	}
	return rdb_tx_commit(tx, ms_exclude_done, ex);
}

/* The pool records' lock was granted to a queued exclusion. */
static void
ms_exclude_resume(struct dss_ctl_req *req, void *arg)
{
	struct ms_excl *ex = arg;
	struct ds_mgmt *ms = ex->ex_ms;
	int rc = -DER_NOTLEADER;

	(void)req;
	if (ms->ms_up && !ms->ms_stopping && ms->ms_db != NULL)
		rc = ms_rl_lock(ms, MS_RL_ALL, ex, ms_exclude_resume, NULL, ex);
	if (rc == 1)
		rc = ms_exclude_tx(ms, ex);
	if (rc != 0)
		ms_exclude_done(rc, ex); /* gives the lock back, answers, frees @ex */
}

/*
 * Set the state of the members ex_ranks to ex_state and, unless clearing, their targets DOWN
 * in every pool, in one transaction, holding every pool record's lock (it waits for the
 * writers of pool records in flight); ms_exclude_done runs at its outcome (and frees @ex).
 * Returns 0, or an error (then @ex is still the caller's).
 */
static int
ms_exclude(struct ds_mgmt *ms, struct ms_excl *ex, const char *why)
{
	int rc;

	if (ms->ms_excl_busy)
		return -DER_BUSY;
	D_ALLOC_ARRAY(ex->ex_addrs, ex->ex_nr > 0 ? ex->ex_nr : 1);
	if (ex->ex_addrs == NULL)
		return -DER_NOMEM;
	ex->ex_why = why;
	if (ms_excl_pools(ex)) {
		rc = ms_rl_lock(ms, MS_RL_ALL, ex, ms_exclude_resume, NULL, ex);
		if (rc < 0)
			return rc;
		if (rc == 0) { /* ms_exclude_resume runs once the pool writers in flight ended */
			ms->ms_excl_busy = true;
			return 0;
		}
	}
	rc = ms_exclude_tx(ms, ex);
	if (rc == 0)
		ms->ms_excl_busy = true;
	else
		ms_rl_unlock(ms, ex);
	return rc;
}

struct ms_check {
	struct ds_mgmt *ck_ms;
	uint64_t ck_now;
	uint32_t ck_nr;
	uint32_t ck_dead[64];
};

static int
ms_check_cb(const d_iov_t *key, const d_iov_t *val, void *arg)
{
	struct ms_check *ck = arg;
	Mgmt__MsMember *mem;
	struct ms_hb *hb;

	(void)key;
	mem = mgmt__ms_member__unpack(NULL, val->iov_len, val->iov_buf);
	if (mem == NULL || mem->member == NULL)
		goto out;
	if (strcmp(mem->member->state, MS_ST_JOINED) != 0)
		goto out;
	hb = ms_hb_get(ck->ck_ms, mem->member->rank);
	if (hb == NULL || hb->hb_stopping)
		goto out;
	if (ck->ck_now > hb->hb_last_ms + DS_MGMT_HB_DEADLINE_MS &&
	    ck->ck_nr < D_ARRAY_SIZE(ck->ck_dead))
		ck->ck_dead[ck->ck_nr++] = mem->member->rank;
out:
	if (mem != NULL)
		mgmt__ms_member__free_unpacked(mem, NULL);
	return 0;
}

/* Leader timer: exclude the joined ranks whose heartbeats stopped, all in one transaction. */
static void
ms_check_timer_cb(struct dss_ctl_timer *timer, void *arg)
{
	struct ds_mgmt *ms = arg;
	struct ms_check ck = {.ck_ms = ms, .ck_now = ms_now_ms()};
	struct ms_excl *ex;
	int rc;

	(void)timer;
	if (!ms->ms_up || ms->ms_db == NULL || ms->ms_excl_busy || !rdb_is_leader(ms->ms_db, NULL))
		return;
	if (rdb_iterate(ms->ms_db, MS_T_MEMBERS, NULL, ms_check_cb, &ck) != 0 || ck.ck_nr == 0)
		return;
	D_ALLOC_PTR(ex);
	if (ex == NULL)
		return;
	ex->ex_ms = ms;
	ex->ex_state = MS_ST_EXCLUDED;
	ex->ex_nr = ck.ck_nr;
	D_ALLOC_ARRAY(ex->ex_ranks, ck.ck_nr);
	rc = -DER_NOMEM;
	if (ex->ex_ranks != NULL) {
		memcpy(ex->ex_ranks, ck.ck_dead, ck.ck_nr * sizeof(ck.ck_dead[0]));
		rc = ms_exclude(ms, ex, "missed heartbeats");
	}
	if (rc != 0) {
		D_ERROR("cannot exclude %u silent ranks: " DF_RC "\n", ck.ck_nr, DP_RC(rc));
		ms_excl_free(ex);
	}
}

static int
ms_max_rank_cb(const d_iov_t *key, const d_iov_t *val, void *arg)
{
	struct ds_mgmt *ms = arg;
	uint32_t be, rank;

	(void)val;
	if (key->iov_len != 4)
		return 0;
	memcpy(&be, key->iov_buf, 4);
	rank = ntohl(be);
	if (rank + 1 > ms->ms_next_rank)
		ms->ms_next_rank = rank + 1;
	return 0;
}

/* The tables exist and are loaded: serve. */
static void
ms_serve(struct ds_mgmt *ms, uint64_t term)
{
	const void *val;
	size_t len;
	d_iov_t k;
	uint32_t i;

	ms->ms_next_rank = 0;
	rdb_iterate(ms->ms_db, MS_T_MEMBERS, NULL, ms_max_rank_cb, ms);
	ms->ms_map_version = 0;
	d_iov_set(&k, "map_version", strlen("map_version"));
	if (rdb_lookup(ms->ms_db, MS_T_SYS, &k, &val, &len) == 0 && len == 8)
		for (i = 0; i < 8; i++)
			ms->ms_map_version |= (uint64_t)((const uint8_t *)val)[i] << (8 * i);
	for (i = 0; i < ms->ms_hb_nr; i++)
		ms->ms_hbs[i].hb_last_ms = ms_now_ms();
	ms->ms_excl_busy = false;
	ms->ms_up = true;
	if (dss_ctl_timer_add(ms->ms_ctl, DS_MGMT_HB_INTERVAL_MS, DS_MGMT_HB_INTERVAL_MS,
			      ms_check_timer_cb, ms, &ms->ms_check_timer) != 0)
		ms->ms_check_timer = NULL;
	D_NOTE("management service leader, term %" PRIu64 ", map version %" PRIu64 "\n", term,
	       ms->ms_map_version);
	/*
	 * Engines keep their handle tables across leader changes, but a table the old leader
	 * was changing when it went (an open's ADD, a join's SET not sent or not applied) may
	 * be short: give every engine its pools' tables again.
	 */
	ms_tgt_hdls_push(ms, MS_PUSH_ALL, 0);
}

struct ms_init {
	struct ds_mgmt *in_ms;
	uint64_t in_term;
};

static void
ms_tables_done(int rc, void *arg)
{
	struct ms_init *in = arg;
	struct ds_mgmt *ms = in->in_ms;
	uint64_t term;

	if (rc == 0 && ms->ms_db != NULL && rdb_is_leader(ms->ms_db, &term) &&
	    term == in->in_term && ms->ms_term == term)
		ms_serve(ms, term);
	else if (rc != 0)
		D_ERROR("cannot create the MS tables: " DF_RC "\n", DP_RC(rc));
	D_FREE(in);
}

static int
ms_exists_cb(const d_iov_t *key, const d_iov_t *val, void *arg)
{
	(void)key;
	(void)val;
	(void)arg;
	return 1;
}

static void
ms_step_up(struct rdb *db, uint64_t term, void *arg)
{
	static const char *const tables[] = {
	    MS_T_SYS,       MS_T_MEMBERS, MS_T_UUIDS,       MS_T_POOLS,     MS_T_LABELS,
	    MS_T_POOL_HDLS, MS_T_CONTS,   MS_T_CONT_LABELS, MS_T_CONT_HDLS, MS_T_ORPHANS};
	struct ds_mgmt *ms = arg;
	struct ms_init *in;
	struct rdb_tx *tx;
	bool missing[D_ARRAY_SIZE(tables)];
	uint32_t i, nmissing = 0;
	int rc;

	ms->ms_term = term;
	for (i = 0; i < D_ARRAY_SIZE(tables); i++) {
		missing[i] = rdb_iterate(db, tables[i], NULL, ms_exists_cb, NULL) == -DER_NONEXIST;
		nmissing += missing[i];
	}
	if (nmissing == 0) {
		ms_serve(ms, term);
		return;
	}
	/* the first leader of a new system makes the tables (or those a newer version added) */
	D_ALLOC_PTR(in);
	if (in == NULL)
		return;
	in->in_ms = ms;
	in->in_term = term;
	rc = rdb_tx_begin(db, term, &tx);
	for (i = 0; rc == 0 && i < D_ARRAY_SIZE(tables); i++)
		if (missing[i])
			rc = rdb_tx_table_create(tx, tables[i]);
	if (rc == 0) {
		rc = rdb_tx_commit(tx, ms_tables_done, in);
		tx = NULL;
	}
	if (rc != 0) {
		rdb_tx_abort(tx);
		D_FREE(in);
		D_ERROR("cannot create the MS tables: " DF_RC "\n", DP_RC(rc));
	}
}

static void
ms_step_down(struct rdb *db, uint64_t term, void *arg)
{
	struct ds_mgmt *ms = arg;

	(void)db;
	ms->ms_up = false;
	dss_ctl_timer_del(ms->ms_check_timer);
	ms->ms_check_timer = NULL;
	D_NOTE("management service: no longer leader of term %" PRIu64 "\n", term);
}

/*
 * The membership client.
 */

static void
ms_client_hint(struct ds_mgmt *ms, int rc, const void *body, size_t len)
{
	Mgmt__LeaderHint *hint;

	ms->ms_leader[0] = '\0';
	if (rc != -DER_NOTLEADER || body == NULL)
		return;
	hint = mgmt__leader_hint__unpack(NULL, len, body);
	if (hint == NULL)
		return;
	if (strlen(hint->leader) < sizeof(ms->ms_leader))
		snprintf(ms->ms_leader, sizeof(ms->ms_leader), "%s", hint->leader);
	mgmt__leader_hint__free_unpacked(hint, NULL);
}

static void
ms_join_cb(int rc, const void *body, size_t len, void *arg)
{
	struct ds_mgmt *ms = arg;
	Mgmt__JoinResp *resp;

	ms->ms_call_busy = false;
	if (ms->ms_stopping || ms->ms_engine_down)
		return;
	if (rc != 0) {
		D_DEBUG("join: " DF_RC "\n", DP_RC(rc));
		ms_client_hint(ms, rc, body, len);
		return;
	}
	resp = mgmt__join_resp__unpack(NULL, len, body);
	if (resp == NULL)
		return;
	if (resp->status == 0 && resp->state == MGMT__JOIN_RESP__STATE__IN) {
		if (!ms->ms_joined || ms->ms_rank != resp->rank)
			D_NOTE("joined the system as rank %u\n", resp->rank);
		ms->ms_joined = true;
		ms->ms_rank = resp->rank;
		if (ms->ms_rank_cb != NULL)
			ms->ms_rank_cb(resp->rank, ms->ms_cb_arg);
	}
	mgmt__join_resp__free_unpacked(resp, NULL);
}

static void
ms_hb_cb(int rc, const void *body, size_t len, void *arg)
{
	struct ds_mgmt *ms = arg;

	ms->ms_call_busy = false;
	if (ms->ms_stopping || rc == 0)
		return;
	if (rc == -DER_NONEXIST) {
		D_NOTE("the management service does not know rank %u any more: rejoining\n",
		       ms->ms_rank);
		ms->ms_joined = false;
		return;
	}
	ms_client_hint(ms, rc, body, len);
}

static void
ms_client_timer_cb(struct dss_ctl_timer *timer, void *arg)
{
	struct ds_mgmt *ms = arg;
	Mgmt__JoinReq jr = MGMT__JOIN_REQ__INIT;
	Mgmt__HeartbeatReq hr = MGMT__HEARTBEAT_REQ__INIT;
	ProtobufCMessage *msg;
	const char *target;
	uint32_t method;
	uint8_t *buf;
	size_t len;
	int rc;

	(void)timer;
	if (ms->ms_call_busy || ms->ms_stopping || ms->ms_engine_down)
		return;
	if (ms->ms_leader[0] != '\0')
		target = ms->ms_leader;
	else
		target = ms->ms_aps[ms->ms_ap_next++ % ms->ms_ap_nr];
	if (!ms->ms_joined) {
		jr.sys = ms->ms_sys;
		jr.uuid = ms->ms_uuid;
		jr.rank = ms->ms_rank;
		jr.uri = ms->ms_uri;
		jr.nctxs = ms->ms_nctxs;
		jr.addr = ms->ms_self;
		jr.srv_fault_domain = ms->ms_fault_domain;
		jr.incarnation = ms->ms_incarnation;
		jr.ntargets = ms->ms_ntargets;
		jr.n_uris = ms->ms_nuris;
		jr.uris = ms->ms_uris;
		msg = &jr.base;
		method = DSS_CTL_JOIN;
	} else {
		hr.sys = ms->ms_sys;
		hr.rank = ms->ms_rank;
		hr.incarnation = ms->ms_incarnation;
		msg = &hr.base;
		method = DSS_CTL_HEARTBEAT;
	}
	len = protobuf_c_message_get_packed_size(msg);
	D_ALLOC(buf, len > 0 ? len : 1);
	if (buf == NULL)
		return;
	protobuf_c_message_pack(msg, buf);
	rc = dss_ctl_call_async(ms->ms_ctl, target, method, buf, len, MS_CALL_TIMEOUT_MS,
				method == DSS_CTL_JOIN ? ms_join_cb : ms_hb_cb, ms);
	D_FREE(buf);
	if (rc == 0)
		ms->ms_call_busy = true;
	else
		ms->ms_leader[0] = '\0';
}

/*
 * Join and Heartbeat (engine -> MS leader).
 */

struct ms_join {
	struct ds_mgmt *jo_ms;
	struct dss_ctl_req *jo_req;
	uint32_t jo_rank;
	uint64_t jo_version;
};

static void
ms_join_done(int rc, void *arg)
{
	struct ms_join *jo = arg;
	Mgmt__JoinResp out = MGMT__JOIN_RESP__INIT;

	out.status = rc;
	out.rank = jo->jo_rank;
	out.state = MGMT__JOIN_RESP__STATE__IN;
	out.map_version = jo->jo_version;
	dss_ctl_reply_msg(jo->jo_req, rc, &out.base);
	/* a (re)started engine knows no container handle: give it its pools' tables */
	if (rc == 0)
		ms_tgt_hdls_push(jo->jo_ms, MS_PUSH_RANK, jo->jo_rank);
	/* and remove what destroys it missed while it was away */
	if (rc == 0)
		ms_orphans_clean(jo->jo_ms, jo->jo_rank);
	D_FREE(jo);
}

static void
ms_time_str(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void
ms_join_handler(struct dss_ctl_req *req, void *arg)
{
	struct ds_mgmt *ms = arg;
	Mgmt__SystemMember m = MGMT__SYSTEM_MEMBER__INIT;
	Mgmt__MsMember mem = MGMT__MS_MEMBER__INIT;
	Mgmt__MsMember *old = NULL;
	Mgmt__JoinReq *in;
	struct ms_join *jo = NULL;
	struct rdb_tx *tx = NULL;
	char when[32];
	uint8_t key[4];
	const void *val;
	const void *body;
	size_t len;
	uuid_t uu;
	d_iov_t k, v;
	uint32_t rank, be;
	struct ms_hb *hb;
	int rc;

	if (!ms_serving(ms, req))
		return;
	body = dss_ctl_req_body(req, &len);
	in = mgmt__join_req__unpack(NULL, len, body);
	if (in == NULL) {
		dss_ctl_reply(req, -DER_INVAL, NULL, 0);
		return;
	}
	if ((in->sys[0] != '\0' && strcmp(in->sys, ms->ms_sys) != 0) ||
	    uuid_parse(in->uuid, uu) != 0 || in->addr[0] == '\0') {
		rc = -DER_INVAL;
		goto out;
	}
	d_iov_set(&k, in->uuid, strlen(in->uuid));
	rc = rdb_lookup(ms->ms_db, MS_T_UUIDS, &k, &val, &len);
	if (rc == 0 && len == 4) {
		memcpy(&be, val, 4);
		rank = ntohl(be);
		if (ms_member_get(ms, rank, &old) == 0 &&
		    strcmp(old->member->state, MS_ST_ADMIN_EXCLUDED) == 0) {
			Mgmt__JoinResp out = MGMT__JOIN_RESP__INIT;

			/* excluded by the administrator: stays out until clear-exclude */
			out.rank = rank;
			out.state = MGMT__JOIN_RESP__STATE__OUT;
			out.map_version = ms->ms_map_version;
			dss_ctl_reply_msg(req, 0, &out.base);
			mgmt__ms_member__free_unpacked(old, NULL);
			mgmt__join_req__free_unpacked(in, NULL);
			return;
		}
		if (old != NULL)
			mgmt__ms_member__free_unpacked(old, NULL);
		old = NULL;
	} else if (rc == 0 || rc == -DER_NONEXIST) {
		rank = ms->ms_next_rank;
		if (in->rank != MS_NIL_RANK && ms_member_get(ms, in->rank, &old) == -DER_NONEXIST)
			rank = in->rank;
		if (old != NULL)
			mgmt__ms_member__free_unpacked(old, NULL);
		if (rank + 1 > ms->ms_next_rank)
			ms->ms_next_rank = rank + 1;
	} else {
		goto out;
	}
	ms_time_str(when, sizeof(when));
	m.addr = in->addr;
	m.uuid = in->uuid;
	m.rank = rank;
	m.incarnation = in->incarnation;
	m.state = MS_ST_JOINED;
	m.fabric_uri = in->uri;
	m.fabric_contexts = in->nctxs;
	m.fault_domain = in->srv_fault_domain;
	m.last_update = when;
	mem.member = &m;
	mem.ntargets = in->ntargets;
	mem.n_uris = in->n_uris;
	mem.uris = in->uris;
	D_ALLOC_PTR(jo);
	if (jo == NULL) {
		rc = -DER_NOMEM;
		goto out;
	}
	rc = rdb_tx_begin(ms->ms_db, ms->ms_term, &tx);
	if (rc != 0)
		goto out;
	ms_rank_key(rank, key);
	rc = ms_tx_put_msg(tx, MS_T_MEMBERS, key, sizeof(key), &mem.base);
	if (rc == 0) {
		d_iov_set(&v, key, sizeof(key));
		rc = rdb_tx_update(tx, MS_T_UUIDS, &k, &v);
	}
	if (rc == 0)
		rc = ms_map_version_bump(ms, tx);
	if (rc != 0)
		goto out;
	jo->jo_ms = ms;
	jo->jo_req = req;
	jo->jo_rank = rank;
	jo->jo_version = ms->ms_map_version;
	hb = ms_hb_get(ms, rank);
	if (hb != NULL) {
		hb->hb_last_ms = ms_now_ms();
		hb->hb_stopping = false;
	}
	rc = rdb_tx_commit(tx, ms_join_done, jo);
	tx = NULL;
	if (rc == 0) {
		D_NOTE("rank %u (%s, %s) joining, incarnation %" PRIu64 "\n", rank, in->addr,
		       in->uuid, in->incarnation);
		mgmt__join_req__free_unpacked(in, NULL);
		return;
	}
out:
	rdb_tx_abort(tx);
	D_FREE(jo);
	mgmt__join_req__free_unpacked(in, NULL);
	ms_reply_err(ms, req, rc);
}

static void
ms_heartbeat_handler(struct dss_ctl_req *req, void *arg)
{
	struct ds_mgmt *ms = arg;
	Mgmt__HeartbeatResp out = MGMT__HEARTBEAT_RESP__INIT;
	Mgmt__HeartbeatReq *in;
	Mgmt__MsMember *mem = NULL;
	struct ms_hb *hb;
	const void *body;
	size_t len;
	int rc;

	if (!ms_serving(ms, req))
		return;
	body = dss_ctl_req_body(req, &len);
	in = mgmt__heartbeat_req__unpack(NULL, len, body);
	if (in == NULL) {
		dss_ctl_reply(req, -DER_INVAL, NULL, 0);
		return;
	}
	rc = ms_member_get(ms, in->rank, &mem);
	if (rc == 0 && (mem->member->incarnation != in->incarnation ||
			strcmp(mem->member->state, MS_ST_JOINED) != 0))
		rc = -DER_NONEXIST; /* restarted or excluded: it rejoins */
	if (rc == 0) {
		hb = ms_hb_get(ms, in->rank);
		if (hb != NULL)
			hb->hb_last_ms = ms_now_ms();
		out.state = mem->member->state;
	}
	out.status = rc;
	out.map_version = ms->ms_map_version;
	out.interval_ms = DS_MGMT_HB_INTERVAL_MS;
	dss_ctl_reply_msg(req, rc, &out.base);
	if (mem != NULL)
		mgmt__ms_member__free_unpacked(mem, NULL);
	mgmt__heartbeat_req__free_unpacked(in, NULL);
}

/*
 * SystemQuery and LeaderQuery.
 */

struct ms_members {
	Mgmt__MsMember **mm_v;
	uint32_t mm_nr;
	uint32_t mm_cap;
};

static int
ms_members_cb(const d_iov_t *key, const d_iov_t *val, void *arg)
{
	struct ms_members *mm = arg;
	Mgmt__MsMember **nv;
	Mgmt__MsMember *mem;

	(void)key;
	mem = mgmt__ms_member__unpack(NULL, val->iov_len, val->iov_buf);
	if (mem == NULL || mem->member == NULL) {
		if (mem != NULL)
			mgmt__ms_member__free_unpacked(mem, NULL);
		return 0;
	}
	if (mm->mm_nr == mm->mm_cap) {
		mm->mm_cap = mm->mm_cap == 0 ? 16 : mm->mm_cap * 2;
		D_REALLOC_ARRAY(nv, mm->mm_v, mm->mm_cap);
		if (nv == NULL) {
			mgmt__ms_member__free_unpacked(mem, NULL);
			return -DER_NOMEM;
		}
		mm->mm_v = nv;
	}
	mm->mm_v[mm->mm_nr++] = mem;
	return 0;
}

static void
ms_members_free(struct ms_members *mm)
{
	uint32_t i;

	for (i = 0; i < mm->mm_nr; i++)
		mgmt__ms_member__free_unpacked(mm->mm_v[i], NULL);
	D_FREE(mm->mm_v);
}

static void
ms_system_query_handler(struct dss_ctl_req *req, void *arg)
{
	struct ds_mgmt *ms = arg;
	Mgmt__SystemQueryResp out = MGMT__SYSTEM_QUERY_RESP__INIT;
	Mgmt__SystemMember **v = NULL;
	struct ms_members mm = {0};
	Mgmt__SystemQueryReq *in;
	uint32_t *ranks = NULL, nranks = 0, i, n = 0;
	char absent[256] = "";
	const void *body;
	size_t len;
	int rc;

	if (!ms_serving(ms, req))
		return;
	body = dss_ctl_req_body(req, &len);
	in = mgmt__system_query_req__unpack(NULL, len, body);
	if (in == NULL) {
		dss_ctl_reply(req, -DER_INVAL, NULL, 0);
		return;
	}
	rc = ms_rankset_parse(in->ranks, &ranks, &nranks);
	if (rc == 0)
		rc = rdb_iterate(ms->ms_db, MS_T_MEMBERS, NULL, ms_members_cb, &mm);
	if (rc == 0 && mm.mm_nr > 0) {
		D_ALLOC_ARRAY(v, mm.mm_nr);
		if (v == NULL)
			rc = -DER_NOMEM;
	}
	for (i = 0; rc == 0 && i < mm.mm_nr; i++)
		if (nranks == 0 || ms_rank_in(ranks, nranks, mm.mm_v[i]->member->rank))
			v[n++] = mm.mm_v[i]->member;
	for (i = 0; rc == 0 && i < nranks; i++) {
		uint32_t j;
		bool found = false;

		for (j = 0; j < n; j++)
			found |= v[j]->rank == ranks[i];
		if (!found && strlen(absent) + 12 < sizeof(absent))
			snprintf(absent + strlen(absent), sizeof(absent) - strlen(absent), "%s%u",
				 absent[0] != '\0' ? "," : "", ranks[i]);
	}
	out.status = rc;
	out.n_members = n;
	out.members = v;
	out.absent_ranks = absent;
	out.data_version = ms->ms_map_version;
	dss_ctl_reply_msg(req, rc, &out.base);
	D_FREE(v);
	D_FREE(ranks);
	ms_members_free(&mm);
	mgmt__system_query_req__free_unpacked(in, NULL);
}

static void
ms_system_exclude_handler(struct dss_ctl_req *req, void *arg)
{
	struct ds_mgmt *ms = arg;
	Mgmt__SystemExcludeReq *in;
	Mgmt__MsMember *mem;
	struct ms_excl *ex = NULL;
	uint32_t *ranks = NULL, nranks = 0, i;
	const void *body;
	size_t len;
	int rc;

	if (!ms_serving(ms, req))
		return;
	body = dss_ctl_req_body(req, &len);
	in = mgmt__system_exclude_req__unpack(NULL, len, body);
	if (in == NULL) {
		dss_ctl_reply(req, -DER_INVAL, NULL, 0);
		return;
	}
	rc =
	    in->hosts[0] != '\0' ? -DER_NOTSUPPORTED : ms_rankset_parse(in->ranks, &ranks, &nranks);
	if (rc == 0 && nranks == 0)
		rc = -DER_INVAL;
	if (rc != 0)
		goto out;
	rc = -DER_NOMEM;
	D_ALLOC_PTR(ex);
	if (ex == NULL)
		goto out;
	D_ALLOC_ARRAY(ex->ex_ranks, nranks);
	if (ex->ex_ranks == NULL)
		goto out;
	ex->ex_ms = ms;
	ex->ex_req = req;
	ex->ex_clear = in->clear;
	ex->ex_state = in->clear ? MS_ST_EXCLUDED : MS_ST_ADMIN_EXCLUDED;
	for (i = 0; i < nranks; i++) {
		if (ms_member_get(ms, ranks[i], &mem) != 0) {
			size_t n = strlen(ex->ex_absent);

			if (n + 12 < sizeof(ex->ex_absent))
				snprintf(ex->ex_absent + n, sizeof(ex->ex_absent) - n, "%s%u",
					 n > 0 ? "," : "", ranks[i]);
			continue;
		}
		mgmt__ms_member__free_unpacked(mem, NULL);
		ex->ex_ranks[ex->ex_nr++] = ranks[i];
	}
	rc = ms_exclude(ms, ex, in->clear ? "exclusion cleared" : "administratively excluded");
	if (rc == 0)
		ex = NULL;
out:
	if (ex != NULL)
		ms_excl_free(ex);
	D_FREE(ranks);
	mgmt__system_exclude_req__free_unpacked(in, NULL);
	if (rc != 0)
		ms_reply_err(ms, req, rc);
}

static void
ms_leader_query_handler(struct dss_ctl_req *req, void *arg)
{
	struct ds_mgmt *ms = arg;
	Mgmt__LeaderQueryResp out = MGMT__LEADER_QUERY_RESP__INIT;
	Mgmt__LeaderHint hint = MGMT__LEADER_HINT__INIT;
	char leader[DSS_CTL_ADDR_LEN];

	ms_hint_fill(ms, &hint, leader, sizeof(leader));
	out.current_leader = leader;
	out.n_replicas = ms->ms_ap_nr;
	out.replicas = ms->ms_aps;
	out.term = hint.term;
	dss_ctl_reply_msg(req, 0, &out.base);
}

/*
 * SystemStop and SystemStart (dmg -> leader): the leader asks the daos_server of each
 * selected rank, over its management port, to stop or start its engine half
 * (METHOD_ENGINE_STOP / METHOD_ENGINE_START). A stop that succeeded records the rank
 * "stopped" (one transaction; its targets stay in the pool maps, and the heartbeat deadline
 * does not apply to it: the silence is expected), so SystemQuery shows it. A started engine
 * joins again (a new incarnation) and the leader answers once every started rank is
 * "joined" again, or after MS_START_WAIT_MS. One result per rank: rank, action, errored and
 * message, address, state.
 */
#define MS_START_WAIT_MS 20000
#define MS_SYSCTL_TICK_MS 100

static int ms_strdup(char **dst, const char *src);

struct ms_sysctl {
	struct ds_mgmt *sc_ms;
	struct dss_ctl_req *sc_req;
	bool sc_stop;
	uint32_t sc_nr;
	uint32_t *sc_ranks;
	char **sc_addrs;
	char **sc_states; /* state after the action (NULL: the record's) */
	int *sc_rcs;
	char sc_absent[256];
	uint64_t sc_deadline_ms;
	struct dss_ctl_timer *sc_timer;
};

static void
ms_sysctl_free(struct ms_sysctl *sc)
{
	uint32_t i;

	for (i = 0; i < sc->sc_nr; i++) {
		D_FREE(sc->sc_addrs[i]);
		D_FREE(sc->sc_states[i]);
	}
	D_FREE(sc->sc_addrs);
	D_FREE(sc->sc_states);
	D_FREE(sc->sc_ranks);
	D_FREE(sc->sc_rcs);
	D_FREE(sc);
}

/* The state of every rank from its record (unless set), then the answer. Frees @sc. */
static void
ms_sysctl_reply(struct ms_sysctl *sc, int rc)
{
	Mgmt__SystemStopResp out = MGMT__SYSTEM_STOP_RESP__INIT;
	Mgmt__RankResult *res = NULL, **resp = NULL;
	struct ds_mgmt *ms = sc->sc_ms;
	uint32_t i;

	_Static_assert(offsetof(Mgmt__SystemStopResp, results) ==
			       offsetof(Mgmt__SystemStartResp, results) &&
			   offsetof(Mgmt__SystemStopResp, absent_ranks) ==
			       offsetof(Mgmt__SystemStartResp, absent_ranks),
		       "stop and start replies share their layout");
	dss_ctl_timer_del(sc->sc_timer);
	sc->sc_timer = NULL;
	if (rc == -DER_NOTLEADER) {
		ms_reply_notleader(ms, sc->sc_req);
		goto out;
	}
	if (rc == 0)
		rc = ms_rank_results_new(sc->sc_nr, &res, &resp);
	for (i = 0; rc == 0 && i < sc->sc_nr; i++) {
		Mgmt__MsMember *mem;

		if (sc->sc_states[i] == NULL && ms_member_get(ms, sc->sc_ranks[i], &mem) == 0) {
			D_STRNDUP(sc->sc_states[i], mem->member->state, 64);
			mgmt__ms_member__free_unpacked(mem, NULL);
		}
		res[i].rank = sc->sc_ranks[i];
		res[i].action = sc->sc_stop ? "stop" : "start";
		res[i].errored = sc->sc_rcs[i] != 0;
		res[i].msg = sc->sc_rcs[i] != 0 ? (char *)d_errstr(sc->sc_rcs[i]) : "";
		res[i].addr = sc->sc_addrs[i];
		res[i].state = sc->sc_states[i] != NULL ? sc->sc_states[i] : "unknown";
		if (sc->sc_rcs[i] != 0)
			D_ERROR("rank %u (%s): %s failed: " DF_RC "\n", sc->sc_ranks[i],
				sc->sc_addrs[i], res[i].action, DP_RC(sc->sc_rcs[i]));
		else
			D_NOTE("rank %u (%s): %s, now %s\n", sc->sc_ranks[i], sc->sc_addrs[i],
			       res[i].action, res[i].state);
	}
	out.status = rc;
	out.n_results = rc == 0 ? sc->sc_nr : 0;
	out.results = resp;
	out.absent_ranks = sc->sc_absent;
	dss_ctl_reply_msg(sc->sc_req, rc, &out.base);
	D_FREE(resp);
	D_FREE(res);
out:
	for (i = 0; sc->sc_stop && i < sc->sc_nr; i++) {
		struct ms_hb *hb = ms_hb_get(ms, sc->sc_ranks[i]);

		/* stopped: the record keeps the deadline away; failed: it applies again */
		if (hb != NULL) {
			hb->hb_stopping = false;
			hb->hb_last_ms = ms_now_ms();
		}
	}
	ms_sysctl_free(sc);
}

static void ms_sysctl_tick(struct dss_ctl_timer *timer, void *arg);

static int
ms_sysctl_tick_arm(struct ms_sysctl *sc)
{
	dss_ctl_timer_del(sc->sc_timer);
	sc->sc_timer = NULL;
	return dss_ctl_timer_add(sc->sc_ms->ms_ctl, MS_SYSCTL_TICK_MS, 0, ms_sysctl_tick, sc,
				 &sc->sc_timer);
}

static void
ms_stop_recorded(int rc, void *arg)
{
	struct ms_sysctl *sc = arg;
	uint32_t i;

	for (i = 0; i < sc->sc_nr; i++) {
		if (sc->sc_rcs[i] != 0)
			continue;
		if (rc != 0)
			sc->sc_rcs[i] = rc; /* stopped, but not recorded */
		else
			D_STRNDUP(sc->sc_states[i], MS_ST_STOPPED, 16);
	}
	ms_sysctl_reply(sc, rc == -DER_NOTLEADER ? rc : 0);
}

/* Record the ranks whose engine stopped as "stopped", one transaction. */
static void
ms_stop_record(struct ms_sysctl *sc)
{
	struct ds_mgmt *ms = sc->sc_ms;
	struct ms_excl *ex;
	uint32_t i;
	int rc;

	if (ms->ms_excl_busy) { /* an exclusion commits: try again on the next tick */
		if (ms_sysctl_tick_arm(sc) == 0)
			return;
		ms_sysctl_reply(sc, -DER_NOMEM);
		return;
	}
	D_ALLOC_PTR(ex);
	if (ex == NULL) {
		ms_stop_recorded(-DER_NOMEM, sc);
		return;
	}
	D_ALLOC_ARRAY(ex->ex_ranks, sc->sc_nr);
	if (ex->ex_ranks == NULL) {
		D_FREE(ex);
		ms_stop_recorded(-DER_NOMEM, sc);
		return;
	}
	for (i = 0; i < sc->sc_nr; i++)
		if (sc->sc_rcs[i] == 0)
			ex->ex_ranks[ex->ex_nr++] = sc->sc_ranks[i];
	if (ex->ex_nr == 0) {
		ms_excl_free(ex);
		ms_sysctl_reply(sc, 0);
		return;
	}
	ex->ex_ms = ms;
	ex->ex_state = MS_ST_STOPPED;
	ex->ex_keep_pools = true;
	ex->ex_done = ms_stop_recorded;
	ex->ex_done_arg = sc;
	rc = ms_exclude(ms, ex, "system stop");
	if (rc != 0) {
		ms_excl_free(ex);
		ms_stop_recorded(rc, sc);
	}
}

static bool
ms_rank_joined(struct ds_mgmt *ms, uint32_t rank)
{
	Mgmt__MsMember *mem;
	bool joined;

	if (ms_member_get(ms, rank, &mem) != 0)
		return false;
	joined = strcmp(mem->member->state, MS_ST_JOINED) == 0;
	mgmt__ms_member__free_unpacked(mem, NULL);
	return joined;
}

/* Start: are the started ranks joined again? */
static bool
ms_start_joined(struct ms_sysctl *sc)
{
	uint32_t i;

	for (i = 0; i < sc->sc_nr; i++)
		if (sc->sc_rcs[i] == 0 && !ms_rank_joined(sc->sc_ms, sc->sc_ranks[i]))
			return false;
	return true;
}

static void
ms_sysctl_tick(struct dss_ctl_timer *timer, void *arg)
{
	struct ms_sysctl *sc = arg;
	struct ds_mgmt *ms = sc->sc_ms;
	uint64_t term;
	uint32_t i;

	(void)timer;
	if (!ms->ms_up || ms->ms_db == NULL || !rdb_is_leader(ms->ms_db, &term) ||
	    term != ms->ms_term) {
		ms_sysctl_reply(sc, -DER_NOTLEADER);
		return;
	}
	if (sc->sc_stop) {
		ms_stop_record(sc);
		return;
	}
	if (ms_start_joined(sc)) {
		ms_sysctl_reply(sc, 0);
		return;
	}
	if (ms_now_ms() >= sc->sc_deadline_ms) {
		for (i = 0; i < sc->sc_nr; i++)
			if (sc->sc_rcs[i] == 0 && !ms_rank_joined(ms, sc->sc_ranks[i]))
				sc->sc_rcs[i] = -DER_TIMEDOUT; /* started, did not rejoin in time */
		ms_sysctl_reply(sc, 0);
		return;
	}
	if (ms_sysctl_tick_arm(sc) != 0)
		ms_sysctl_reply(sc, -DER_NOMEM);
}

/* Every engine answered the stop or start call (on the loop). */
static void
ms_sysctl_called(const int *rcs, uint32_t nr, void *arg)
{
	struct ms_sysctl *sc = arg;
	uint32_t i;

	for (i = 0; i < sc->sc_nr; i++)
		sc->sc_rcs[i] = rcs == NULL || i >= nr ? -DER_NOMEM : rcs[i];
	sc->sc_deadline_ms = ms_now_ms() + MS_START_WAIT_MS;
	ms_sysctl_tick(NULL, sc);
}

static int
ms_sysctl_add(struct ms_sysctl *sc, const Mgmt__SystemMember *m)
{
	sc->sc_ranks[sc->sc_nr] = m->rank;
	D_STRNDUP(sc->sc_addrs[sc->sc_nr], m->addr, DSS_CTL_ADDR_LEN);
	if (sc->sc_addrs[sc->sc_nr] == NULL)
		return -DER_NOMEM;
	sc->sc_nr++;
	return 0;
}

static void
ms_sysctl_handler(struct dss_ctl_req *req, void *arg, bool stop)
{
	struct ds_mgmt *ms = arg;
	Mgmt__EngineCtlReq ecr = MGMT__ENGINE_CTL_REQ__INIT;
	Mgmt__SystemStopReq *sin = NULL;
	Mgmt__SystemStartReq *tin = NULL;
	struct ms_members mm = {0};
	struct ms_sysctl *sc = NULL;
	uint32_t *ranks = NULL, nranks = 0, i, j, cap;
	const char *rs, *hosts;
	const void *body;
	size_t len;
	int rc;

	if (!ms_serving(ms, req))
		return;
	body = dss_ctl_req_body(req, &len);
	if (stop) {
		sin = mgmt__system_stop_req__unpack(NULL, len, body);
		rs = sin != NULL ? sin->ranks : NULL;
		hosts = sin != NULL ? sin->hosts : NULL;
		ecr.force = sin != NULL && sin->force;
	} else {
		tin = mgmt__system_start_req__unpack(NULL, len, body);
		rs = tin != NULL ? tin->ranks : NULL;
		hosts = tin != NULL ? tin->hosts : NULL;
	}
	if (rs == NULL) {
		dss_ctl_reply(req, -DER_INVAL, NULL, 0);
		return;
	}
	rc = hosts[0] != '\0' ? -DER_NOTSUPPORTED : ms_rankset_parse(rs, &ranks, &nranks);
	if (rc == 0)
		rc = rdb_iterate(ms->ms_db, MS_T_MEMBERS, NULL, ms_members_cb, &mm);
	if (rc != 0)
		goto out;
	rc = -DER_NOMEM;
	D_ALLOC_PTR(sc);
	if (sc == NULL)
		goto out;
	cap = mm.mm_nr > 0 ? mm.mm_nr : 1;
	D_ALLOC_ARRAY(sc->sc_ranks, cap);
	D_ALLOC_ARRAY(sc->sc_addrs, cap);
	D_ALLOC_ARRAY(sc->sc_states, cap);
	D_ALLOC_ARRAY(sc->sc_rcs, cap);
	if (sc->sc_ranks == NULL || sc->sc_addrs == NULL || sc->sc_states == NULL ||
	    sc->sc_rcs == NULL)
		goto out;
	sc->sc_ms = ms;
	sc->sc_req = req;
	sc->sc_stop = stop;
	rc = 0;
	for (i = 0; rc == 0 && i < mm.mm_nr; i++)
		if (nranks == 0 || ms_rank_in(ranks, nranks, mm.mm_v[i]->member->rank))
			rc = ms_sysctl_add(sc, mm.mm_v[i]->member);
	for (i = 0; rc == 0 && i < nranks; i++) {
		bool found = false;

		for (j = 0; j < sc->sc_nr; j++)
			found |= sc->sc_ranks[j] == ranks[i];
		if (!found && strlen(sc->sc_absent) + 12 < sizeof(sc->sc_absent))
			snprintf(sc->sc_absent + strlen(sc->sc_absent),
				 sizeof(sc->sc_absent) - strlen(sc->sc_absent), "%s%u",
				 sc->sc_absent[0] != '\0' ? "," : "", ranks[i]);
	}
	if (rc != 0)
		goto out;
	if (sc->sc_nr == 0) {
		ms_sysctl_reply(sc, 0);
		sc = NULL;
		goto out;
	}
	for (i = 0; stop && i < sc->sc_nr; i++) {
		struct ms_hb *hb = ms_hb_get(ms, sc->sc_ranks[i]);

		if (hb != NULL)
			hb->hb_stopping = true;
	}
	ecr.sys = ms->ms_sys;
	ecr.rank = MS_NIL_RANK;
	D_NOTE("system %s of %u rank%s\n", stop ? "stop" : "start", sc->sc_nr,
	       sc->sc_nr == 1 ? "" : "s");
	rc = ms_call_all(ms, sc->sc_addrs, sc->sc_nr,
			 stop ? DSS_CTL_ENGINE_STOP : DSS_CTL_ENGINE_START, &ecr.base,
			 ms_sysctl_called, sc);
	if (rc == 0) {
		sc = NULL;
	} else {
		for (i = 0; stop && i < sc->sc_nr; i++) {
			struct ms_hb *hb = ms_hb_get(ms, sc->sc_ranks[i]);

			if (hb != NULL)
				hb->hb_stopping = false;
		}
	}
out:
	if (sc != NULL)
		ms_sysctl_free(sc);
	ms_members_free(&mm);
	D_FREE(ranks);
	if (sin != NULL)
		mgmt__system_stop_req__free_unpacked(sin, NULL);
	if (tin != NULL)
		mgmt__system_start_req__free_unpacked(tin, NULL);
	if (rc != 0)
		ms_reply_err(ms, req, rc);
}

static void
ms_system_stop_handler(struct dss_ctl_req *req, void *arg)
{
	ms_sysctl_handler(req, arg, true);
}

static void
ms_system_start_handler(struct dss_ctl_req *req, void *arg)
{
	ms_sysctl_handler(req, arg, false);
}

/*
 * This server's engine half stops or starts (ds_mgmt_engine_stopped/started).
 */

struct ms_eng_arg {
	struct ds_mgmt *ea_ms;
	bool ea_down;
	const char *const *ea_uris;
	uint32_t ea_nr;
	bool ea_busy;
	int ea_rc;
};

static void
ms_engine_on_loop(void *arg)
{
	struct ms_eng_arg *ea = arg;
	struct ds_mgmt *ms = ea->ea_ms;
	struct timespec ts;
	char **uris = NULL;
	uint32_t i;

	if (ea->ea_down) {
		ms->ms_engine_down = true;
		ea->ea_busy = ms->ms_call_busy;
		return;
	}
	if (ea->ea_nr > 0) {
		D_ALLOC_ARRAY(uris, ea->ea_nr);
		for (i = 0; uris != NULL && i < ea->ea_nr; i++) {
			if (ms_strdup(&uris[i], ea->ea_uris[i]) != 0) {
				while (i-- > 0)
					D_FREE(uris[i]);
				D_FREE(uris);
			}
		}
		if (uris == NULL) {
			ea->ea_rc = -DER_NOMEM;
			return;
		}
		for (i = 0; i < ms->ms_nuris; i++)
			D_FREE(ms->ms_uris[i]);
		D_FREE(ms->ms_uris);
		ms->ms_uris = uris;
		ms->ms_nuris = ea->ea_nr;
		ms->ms_nctxs = ea->ea_nr;
		D_FREE(ms->ms_uri);
		if (ms_strdup(&ms->ms_uri, uris[0]) != 0) {
			ea->ea_rc = -DER_NOMEM;
			return;
		}
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	ms->ms_incarnation = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	ms->ms_joined = false;
	ms->ms_engine_down = false;
}

int
ds_mgmt_engine_stopped(struct ds_mgmt *ms)
{
	struct ms_eng_arg ea = {.ea_ms = ms, .ea_down = true};
	int i, rc;

	if (ms == NULL)
		return -DER_UNINIT;
	/* a join or heartbeat in flight ends within MS_CALL_TIMEOUT_MS */
	for (i = 0; i < MS_CALL_TIMEOUT_MS / 10 + 100; i++) {
		rc = dss_ctl_exec_sync(ms->ms_ctl, ms_engine_on_loop, &ea);
		if (rc != 0 || !ea.ea_busy)
			return rc;
		usleep(10 * 1000);
	}
	return -DER_TIMEDOUT;
}

int
ds_mgmt_engine_started(struct ds_mgmt *ms, const char *const *uris, uint32_t nr)
{
	struct ms_eng_arg ea = {.ea_ms = ms, .ea_uris = uris, .ea_nr = nr};
	int rc;

	if (ms == NULL)
		return -DER_UNINIT;
	rc = dss_ctl_exec_sync(ms->ms_ctl, ms_engine_on_loop, &ea);
	return rc != 0 ? rc : ea.ea_rc;
}

/*
 * GetAttachInfo: the leader answers from the system map, every joined rank in rank order
 * with each of its fabric contexts in tag order (the first entry of a rank is its system
 * context: DAOS's one entry per rank is the first of each rank), nr_ctxs on each. A replica
 * that knows another leader answers -DER_NOTLEADER with a hint (daos_agent then asks the
 * next access point); a server with no leader known, or a leader with no joined member yet,
 * answers with its own contexts (its rank, or 0 before its first join).
 */
struct ms_ai {
	struct ds_mgmt *ai_ms;
	Mgmt__GetAttachInfoResp__RankUri *ai_v;
	Mgmt__GetAttachInfoResp__RankUri **ai_p;
	Mgmt__MsMember **ai_mems;
	size_t ai_nr;
	size_t ai_cap;
	size_t ai_nmems;
	size_t ai_mcap;
	uint32_t *ai_ms_ranks;
	size_t ai_nms;
};

static int
ms_ai_add(struct ms_ai *ai, uint32_t rank, char *uri, uint32_t nctxs)
{
	if (ai->ai_nr == ai->ai_cap) {
		size_t cap = ai->ai_cap == 0 ? 16 : 2 * ai->ai_cap;
		Mgmt__GetAttachInfoResp__RankUri *nv;

		D_REALLOC_ARRAY(nv, ai->ai_v, cap);
		if (nv == NULL)
			return -DER_NOMEM;
		ai->ai_v = nv;
		ai->ai_cap = cap;
	}
	mgmt__get_attach_info_resp__rank_uri__init(&ai->ai_v[ai->ai_nr]);
	ai->ai_v[ai->ai_nr].rank = rank;
	ai->ai_v[ai->ai_nr].uri = uri;
	ai->ai_v[ai->ai_nr].nr_ctxs = nctxs;
	ai->ai_nr++;
	return 0;
}

static int
ms_ai_member_cb(const d_iov_t *key, const d_iov_t *val, void *arg)
{
	struct ms_ai *ai = arg;
	Mgmt__MsMember *mem;
	Mgmt__SystemMember *m;
	uint32_t i;
	int rc = 0;

	(void)key;
	mem = mgmt__ms_member__unpack(NULL, val->iov_len, val->iov_buf);
	if (mem == NULL || mem->member == NULL) {
		if (mem != NULL)
			mgmt__ms_member__free_unpacked(mem, NULL);
		return 0;
	}
	if (ai->ai_nmems == ai->ai_mcap) {
		size_t cap = ai->ai_mcap == 0 ? 16 : 2 * ai->ai_mcap;
		Mgmt__MsMember **nm;
		uint32_t *nr;

		D_REALLOC_ARRAY(nm, ai->ai_mems, cap);
		if (nm != NULL)
			ai->ai_mems = nm;
		D_REALLOC_ARRAY(nr, ai->ai_ms_ranks, cap);
		if (nr != NULL)
			ai->ai_ms_ranks = nr;
		if (nm == NULL || nr == NULL) {
			mgmt__ms_member__free_unpacked(mem, NULL);
			return -DER_NOMEM;
		}
		ai->ai_mcap = cap;
	}
	ai->ai_mems[ai->ai_nmems++] = mem; /* the entries borrow its strings */
	m = mem->member;
	if (strcmp(m->state, MS_ST_JOINED) != 0)
		return 0;
	for (i = 0; i < ai->ai_ms->ms_ap_nr; i++)
		if (strcmp(ai->ai_ms->ms_aps[i], m->addr) == 0)
			ai->ai_ms_ranks[ai->ai_nms++] = m->rank;
	if (mem->n_uris == 0)
		return ms_ai_add(ai, m->rank, m->fabric_uri, m->fabric_contexts);
	for (i = 0; rc == 0 && i < mem->n_uris; i++)
		rc = ms_ai_add(ai, m->rank, mem->uris[i], (uint32_t)mem->n_uris);
	return rc;
}

static void
ms_attach_info_handler(struct dss_ctl_req *req, void *arg)
{
	struct ds_mgmt *ms = arg;
	Mgmt__GetAttachInfoResp out = MGMT__GET_ATTACH_INFO_RESP__INIT;
	Mgmt__BuildInfo build = MGMT__BUILD_INFO__INIT;
	Mgmt__ClientNetHint hint = MGMT__CLIENT_NET_HINT__INIT;
	Mgmt__GetAttachInfoReq *in;
	struct ms_ai ai = {.ai_ms = ms};
	struct rdb_hint h;
	uint32_t self_rank, i;
	const void *body;
	uint64_t term;
	size_t len;
	int rc = 0;

	body = dss_ctl_req_body(req, &len);
	in = mgmt__get_attach_info_req__unpack(NULL, len, body);
	if (in == NULL) {
		dss_ctl_reply(req, -DER_INVAL, NULL, 0);
		return;
	}
	if (in->sys[0] != '\0' && strcmp(in->sys, ms->ms_sys) != 0)
		rc = -DER_INVAL;
	mgmt__get_attach_info_req__free_unpacked(in, NULL);
	if (rc != 0) {
		dss_ctl_reply(req, rc, NULL, 0);
		return;
	}
	if (ms->ms_db != NULL && ms->ms_up && !ms->ms_stopping && rdb_is_leader(ms->ms_db, &term) &&
	    term == ms->ms_term) {
		out.data_version = ms->ms_map_version;
		rc = rdb_iterate(ms->ms_db, MS_T_MEMBERS, NULL, ms_ai_member_cb, &ai);
	} else if (ms->ms_db != NULL && rdb_leader_hint(ms->ms_db, &h) == 0 &&
		   (int)h.rh_rank != ms->ms_replica) {
		ms_reply_notleader(ms, req);
		return;
	}
	if (rc == 0 && ai.ai_nr == 0) {
		/* no system map (yet): this engine's own contexts */
		self_rank = ms->ms_rank == MS_NIL_RANK ? 0 : ms->ms_rank;
		for (i = 0; rc == 0 && i < ms->ms_nuris; i++)
			rc = ms_ai_add(&ai, self_rank, ms->ms_uris[i], ms->ms_nuris);
		ai.ai_nms = 0;
		if (ms->ms_replica >= 0) {
			D_FREE(ai.ai_ms_ranks);
			D_ALLOC_ARRAY(ai.ai_ms_ranks, 1);
			if (ai.ai_ms_ranks != NULL)
				ai.ai_ms_ranks[ai.ai_nms++] = self_rank;
		}
	}
	if (rc == 0 && ai.ai_nr > 0) {
		D_ALLOC_ARRAY(ai.ai_p, ai.ai_nr);
		if (ai.ai_p == NULL)
			rc = -DER_NOMEM;
		for (i = 0; ai.ai_p != NULL && i < ai.ai_nr; i++)
			ai.ai_p[i] = &ai.ai_v[i];
	}
	if (rc != 0) {
		ms_reply_err(ms, req, rc);
		goto out;
	}
	build.major = DAOS_VERSION_MAJOR;
	build.minor = DAOS_VERSION_MINOR;
	build.patch = DAOS_VERSION_FIX;
	hint.provider = ms->ms_provider;
	hint.interface = ms->ms_interface;
	hint.domain = ms->ms_domain;
	hint.timeout = ms->ms_net_timeout;
	out.sys = ms->ms_sys;
	out.build_info = &build;
	out.client_net_hint = &hint;
	out.n_rank_uris = ai.ai_nr;
	out.rank_uris = ai.ai_p;
	out.n_ms_ranks = ai.ai_nms;
	out.ms_ranks = ai.ai_ms_ranks;
	out.n_access_points = ms->ms_ap_nr;
	out.access_points = ms->ms_aps;
	dss_ctl_reply_msg(req, 0, &out.base);
out:
	for (i = 0; i < ai.ai_nmems; i++)
		mgmt__ms_member__free_unpacked(ai.ai_mems[i], NULL);
	D_FREE(ai.ai_mems);
	D_FREE(ai.ai_ms_ranks);
	D_FREE(ai.ai_p);
	D_FREE(ai.ai_v);
}

/*
 * Start and stop.
 */

static const struct {
	uint32_t method;
	dss_ctl_handler_t handler;
} ms_sys_methods[] = {
    {DSS_CTL_JOIN, ms_join_handler},
    {DSS_CTL_HEARTBEAT, ms_heartbeat_handler},
    {DSS_CTL_SYSTEM_QUERY, ms_system_query_handler},
    {DSS_CTL_SYSTEM_EXCLUDE, ms_system_exclude_handler},
    {DSS_CTL_SYSTEM_STOP, ms_system_stop_handler},
    {DSS_CTL_SYSTEM_START, ms_system_start_handler},
    {DSS_CTL_LEADER_QUERY, ms_leader_query_handler},
};

/* "localhost:p" -> "127.0.0.1:p"; a missing port -> @port. */
static char *
ms_addr_norm(const char *ap, uint32_t port)
{
	const char *colon = strrchr(ap, ':');
	char *s = NULL;

	if (colon == NULL || strchr(ap, ']') > colon)
		D_ASPRINTF(s, "%s:%u", strcmp(ap, "localhost") == 0 ? "127.0.0.1" : ap, port);
	else if (strncmp(ap, "localhost:", 10) == 0)
		D_ASPRINTF(s, "127.0.0.1%s", colon);
	else
		D_STRNDUP(s, ap, strlen(ap));
	return s;
}

static int
ms_strdup(char **dst, const char *src)
{
	D_STRNDUP(*dst, src != NULL ? src : "", 4096);
	return *dst == NULL ? -DER_NOMEM : 0;
}

struct ms_start_arg {
	struct ds_mgmt *sa_ms;
	int sa_rc;
};

static const struct rdb_cbs ms_rdb_cbs = {
    .dc_step_up = ms_step_up,
    .dc_step_down = ms_step_down,
};

static void
ms_start_on_loop(void *arg)
{
	struct ms_start_arg *sa = arg;
	struct ds_mgmt *ms = sa->sa_ms;
	struct rdb_replica reps[RDB_REPLICAS_MAX];
	char addrs[RDB_REPLICAS_MAX][RDB_ADDR_LEN];
	struct rdb_cbs *cbs;
	struct rdb_attr attr = {0};
	uint32_t i;
	int rc = 0;

	if (ms->ms_replica >= 0) {
		D_ALLOC_PTR(cbs);
		if (cbs == NULL) {
			sa->sa_rc = -DER_NOMEM;
			return;
		}
		*cbs = ms_rdb_cbs;
		cbs->dc_arg = ms;
		attr.da_dir = ms->ms_db_dir;
		attr.da_rank = (uint32_t)ms->ms_replica;
		attr.da_cbs = cbs;
		rc = rdb_start(dss_ctl_uv_loop(ms->ms_ctl), &attr, &ms->ms_db);
		if (rc == -DER_NONEXIST) {
			for (i = 0; i < ms->ms_ap_nr; i++) {
				const char *colon = strrchr(ms->ms_aps[i], ':');
				int port = atoi(colon + 1) + DS_MGMT_RAFT_PORT_OFFSET;

				snprintf(addrs[i], sizeof(addrs[i]), "%.*s:%d",
					 (int)(colon - ms->ms_aps[i]), ms->ms_aps[i], port);
				reps[i].rr_rank = i;
				reps[i].rr_addr = addrs[i];
			}
			rc = rdb_create(dss_ctl_uv_loop(ms->ms_ctl), &attr, reps, (int)ms->ms_ap_nr,
					&ms->ms_db);
		}
		/* the callbacks are read at step up/down: keep them with @ms */
		if (rc != 0)
			D_FREE(cbs);
		else
			ms->ms_cbs = cbs;
	}
	if (rc == 0)
		rc = dss_ctl_timer_add(ms->ms_ctl, 50, DS_MGMT_HB_INTERVAL_MS, ms_client_timer_cb,
				       ms, &ms->ms_client_timer);
	sa->sa_rc = rc;
}

int
ds_mgmt_start(const struct ds_mgmt_attr *attr, struct ds_mgmt **msp)
{
	struct ms_start_arg sa = {0};
	struct ds_mgmt *ms;
	struct timespec ts;
	char uu[40];
	uint32_t i;
	int rc;

	D_ASSERT(attr->ma_ctl != NULL);
	if (attr->ma_ap_nr > RDB_REPLICAS_MAX || (attr->ma_ap_nr % 2 == 0 && attr->ma_ap_nr != 0))
		return -DER_INVAL;
	D_ALLOC_PTR(ms);
	if (ms == NULL)
		return -DER_NOMEM;
	D_INIT_LIST_HEAD(&ms->ms_pending);
	D_INIT_LIST_HEAD(&ms->ms_ovl);
	ms_rl_init(ms);
	pthread_mutex_init(&ms->ms_lock, NULL);
	pthread_cond_init(&ms->ms_cond, NULL);
	ms->ms_ctl = attr->ma_ctl;
	ms->ms_replica = -1;
	rc = dss_ctl_listen_addr(ms->ms_ctl, ms->ms_self, sizeof(ms->ms_self));
	if (rc != 0)
		goto err;
	uuid_unparse_lower(attr->ma_uuid, uu);
	snprintf(ms->ms_uuid, sizeof(ms->ms_uuid), "%s", uu);
	ms->ms_rank = attr->ma_rank;
	ms->ms_nctxs = attr->ma_nctxs;
	ms->ms_ntargets = attr->ma_ntargets;
	ms->ms_rank_cb = attr->ma_rank_cb;
	ms->ms_cb_arg = attr->ma_cb_arg;
	clock_gettime(CLOCK_REALTIME, &ts);
	ms->ms_incarnation = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	D_STRNDUP(ms->ms_sys, attr->ma_sys, strlen(attr->ma_sys));
	D_STRNDUP(ms->ms_db_dir, attr->ma_db_dir, strlen(attr->ma_db_dir));
	D_STRNDUP(ms->ms_uri, attr->ma_uri != NULL ? attr->ma_uri : "", 256);
	D_STRNDUP(ms->ms_fault_domain, attr->ma_fault_domain != NULL ? attr->ma_fault_domain : "",
		  256);
	if (ms_strdup(&ms->ms_provider, attr->ma_provider) != 0 ||
	    ms_strdup(&ms->ms_interface, attr->ma_interface) != 0 ||
	    ms_strdup(&ms->ms_domain, attr->ma_domain) != 0) {
		rc = -DER_NOMEM;
		goto err;
	}
	ms->ms_net_timeout = attr->ma_net_timeout;
	if (attr->ma_uris != NULL && attr->ma_nctxs > 0) {
		D_ALLOC_ARRAY(ms->ms_uris, attr->ma_nctxs);
		if (ms->ms_uris == NULL) {
			rc = -DER_NOMEM;
			goto err;
		}
		for (i = 0; i < attr->ma_nctxs; i++) {
			if (ms_strdup(&ms->ms_uris[i], attr->ma_uris[i]) != 0) {
				rc = -DER_NOMEM;
				goto err;
			}
			ms->ms_nuris++;
		}
	}
	ms->ms_ap_nr = attr->ma_ap_nr == 0 ? 1 : attr->ma_ap_nr;
	D_ALLOC_ARRAY(ms->ms_aps, ms->ms_ap_nr);
	rc = -DER_NOMEM;
	if (ms->ms_sys == NULL || ms->ms_db_dir == NULL || ms->ms_uri == NULL ||
	    ms->ms_fault_domain == NULL || ms->ms_aps == NULL)
		goto err;
	for (i = 0; i < ms->ms_ap_nr; i++) {
		const char *port = strrchr(ms->ms_self, ':');

		ms->ms_aps[i] = attr->ma_ap_nr == 0
				    ? ms_addr_norm(ms->ms_self, 0)
				    : ms_addr_norm(attr->ma_aps[i], (uint32_t)atoi(port + 1));
		if (ms->ms_aps[i] == NULL)
			goto err;
		if (strcmp(ms->ms_aps[i], ms->ms_self) == 0)
			ms->ms_replica = (int)i;
	}
	rc = sec_verifier_create(attr->ma_client_cert_dir, attr->ma_allow_insecure,
				 &ms->ms_verifier);
	if (rc != 0) {
		D_ERROR("credential verifier (%s%s): " DF_RC "\n",
			attr->ma_client_cert_dir != NULL ? attr->ma_client_cert_dir : "no key dir",
			attr->ma_allow_insecure ? ", insecure" : "", DP_RC(rc));
		goto err;
	}
	rc = ms_pool_register(ms);
	if (rc == 0)
		rc = ms_cont_register(ms);
	if (rc == 0) {
		/* GetAttachInfo from the system map replaces the control thread's own */
		dss_ctl_unregister(ms->ms_ctl, DSS_CTL_GET_ATTACH_INFO);
		rc = dss_ctl_register(ms->ms_ctl, DSS_CTL_GET_ATTACH_INFO, ms_attach_info_handler,
				      ms);
	}
	for (i = 0; rc == 0 && i < D_ARRAY_SIZE(ms_sys_methods); i++) {
		rc = dss_ctl_register(ms->ms_ctl, ms_sys_methods[i].method,
				      ms_sys_methods[i].handler, ms);
	}
	if (rc != 0)
		goto err_unreg;
	sa.sa_ms = ms;
	rc = dss_ctl_exec_sync(ms->ms_ctl, ms_start_on_loop, &sa);
	if (rc == 0)
		rc = sa.sa_rc;
	if (rc != 0) {
		D_ERROR("cannot start the management service: " DF_RC "\n", DP_RC(rc));
		goto err_unreg;
	}
	D_NOTE("management service %s on %s (%u replicas)\n",
	       ms->ms_replica >= 0 ? "replica" : "client", ms->ms_self, ms->ms_ap_nr);
	*msp = ms;
	return 0;
err_unreg:
	ds_mgmt_stop(ms);
err:
	ds_mgmt_destroy(ms);
	return rc;
}

static void
ms_db_stopped(void *arg)
{
	struct ds_mgmt *ms = arg;

	pthread_mutex_lock(&ms->ms_lock);
	ms->ms_db_closed = true;
	pthread_cond_broadcast(&ms->ms_cond);
	pthread_mutex_unlock(&ms->ms_lock);
}

static void
ms_stop_on_loop(void *arg)
{
	struct ds_mgmt *ms = arg;
	struct rdb *db = ms->ms_db;

	ms->ms_stopping = true;
	dss_ctl_timer_del(ms->ms_client_timer);
	ms->ms_client_timer = NULL;
	if (db != NULL) {
		rdb_stop(db, ms_db_stopped, ms);
		ms->ms_db = NULL;
	} else {
		ms->ms_db_closed = true;
	}
	dss_ctl_timer_del(ms->ms_check_timer);
	ms->ms_check_timer = NULL;
	ms->ms_up = false;
	ms_rl_fini(ms); /* queued writers answer, not being the leader any more */
}

void
ds_mgmt_stop(struct ds_mgmt *ms)
{
	uint32_t i;

	if (ms == NULL)
		return;
	for (i = 0; i < D_ARRAY_SIZE(ms_sys_methods); i++)
		dss_ctl_unregister(ms->ms_ctl, ms_sys_methods[i].method);
	ms_pool_unregister(ms);
	ms_cont_unregister(ms);
	dss_ctl_unregister(ms->ms_ctl, DSS_CTL_GET_ATTACH_INFO);
	if (dss_ctl_exec_sync(ms->ms_ctl, ms_stop_on_loop, ms) != 0)
		return;
	pthread_mutex_lock(&ms->ms_lock);
	while (!ms->ms_db_closed)
		pthread_cond_wait(&ms->ms_cond, &ms->ms_lock);
	pthread_mutex_unlock(&ms->ms_lock);
}

void
ds_mgmt_destroy(struct ds_mgmt *ms)
{
	uint32_t i;

	if (ms == NULL)
		return;
	for (i = 0; ms->ms_aps != NULL && i < ms->ms_ap_nr; i++)
		D_FREE(ms->ms_aps[i]);
	D_FREE(ms->ms_aps);
	D_FREE(ms->ms_cbs);
	D_FREE(ms->ms_hbs);
	D_FREE(ms->ms_sys);
	D_FREE(ms->ms_db_dir);
	D_FREE(ms->ms_uri);
	for (i = 0; ms->ms_uris != NULL && i < ms->ms_nuris; i++)
		D_FREE(ms->ms_uris[i]);
	D_FREE(ms->ms_uris);
	D_FREE(ms->ms_provider);
	D_FREE(ms->ms_interface);
	D_FREE(ms->ms_domain);
	sec_verifier_destroy(ms->ms_verifier);
	ms_ovl_fini(ms);
	ms_rl_fini(ms);
	D_FREE(ms->ms_fault_domain);
	pthread_cond_destroy(&ms->ms_cond);
	pthread_mutex_destroy(&ms->ms_lock);
	D_FREE(ms);
}
