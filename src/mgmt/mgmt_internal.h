/*
 * mgmt_internal.h: private to src/mgmt. The service state (struct ds_mgmt), the rdb tables,
 * the helpers shared by srv_system.c (membership, system methods), srv_pool.c (pools) and
 * srv_cont.c (pool handles, containers).
 * Everything here runs on the control thread's loop unless said otherwise.
 */
#ifndef MGMT_INTERNAL_H
#define MGMT_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <gurt/list.h>
#include <daos_srv/ctl.h>
#include <daos_srv/mgmt.h>
#include <daos_srv/rdb.h>

#include "mgmt/msdb.pb-c.h"

struct sec_verifier;

/* rdb tables */
#define MS_T_SYS "sys"                 /* "map_version" -> u64 (LE) */
#define MS_T_MEMBERS "members"         /* rank (BE32) -> MsMember */
#define MS_T_UUIDS "uuids"             /* engine uuid string -> rank (BE32) */
#define MS_T_POOLS "pools"             /* pool uuid string -> MsPool */
#define MS_T_LABELS "labels"           /* pool label -> pool uuid string */
#define MS_T_POOL_HDLS "pool_hdls"     /* pool handle uuid -> MsPoolHdl */
#define MS_T_CONTS "conts"             /* "pool uuid/cont uuid" -> MsCont */
#define MS_T_CONT_LABELS "cont_labels" /* "pool uuid/label" -> cont uuid */
#define MS_T_CONT_HDLS "cont_hdls"     /* cont handle uuid -> MsContHdl */
#define MS_T_ORPHANS "orphans"         /* "rank/pool[/cont]" -> "o": shards a destroy missed */

#define MS_NIL_RANK UINT32_MAX

/* Member states, DAOS's names. */
#define MS_ST_JOINED "joined"
#define MS_ST_EXCLUDED "excluded"
#define MS_ST_ADMIN_EXCLUDED "adminexcluded" /* by dmg system exclude: may not join */
#define MS_ST_STOPPED "stopped"              /* by dmg system stop: no deadline, not excluded */

/* Leader-only, in memory: when each rank was last heard of. */
struct ms_hb {
	uint64_t hb_last_ms;
	bool hb_stopping; /* a system stop of the rank is in flight: its silence is expected */
};

/* A pool create in flight on the leader (uuid and label are taken). */
struct ms_pending {
	d_list_t mp_link;
	char mp_uuid[40];
	char *mp_label;
};

struct ds_mgmt {
	struct dss_ctl *ms_ctl;
	char *ms_sys;
	char **ms_aps; /* management addresses of the replicas */
	uint32_t ms_ap_nr;
	int ms_replica; /* index in ms_aps, -1: not a replica */
	char *ms_db_dir;
	struct rdb *ms_db;
	struct rdb_cbs *ms_cbs; /* leadership callbacks (rdb borrows them) */
	bool ms_up;
	uint64_t ms_term;
	bool ms_stopping;
	/* this engine */
	char ms_uuid[40];
	uint32_t ms_rank;
	char *ms_uri;
	uint32_t ms_nctxs;
	char **ms_uris; /* ms_nuris: every context's fabric address */
	uint32_t ms_nuris;
	char *ms_provider;
	char *ms_interface;
	char *ms_domain;
	uint32_t ms_net_timeout;
	struct sec_verifier *ms_verifier;
	uint32_t ms_ntargets;
	char *ms_fault_domain;
	char ms_self[DSS_CTL_ADDR_LEN];
	uint64_t ms_incarnation;
	void (*ms_rank_cb)(uint32_t rank, void *arg);
	void *ms_cb_arg;
	/* membership client */
	struct dss_ctl_timer *ms_client_timer;
	bool ms_joined;
	bool ms_call_busy;
	bool ms_engine_down; /* the engine half is stopped: no join, no heartbeat */
	uint32_t ms_ap_next;
	char ms_leader[DSS_CTL_ADDR_LEN]; /* where the MS leader is believed to be */
	/* leader state */
	struct dss_ctl_timer *ms_check_timer;
	struct ms_hb *ms_hbs;
	uint32_t ms_hb_nr;
	uint32_t ms_next_rank;
	uint64_t ms_map_version;
	bool ms_excl_busy; /* an exclusion transaction is in flight */
	d_list_t ms_pending;
	d_list_t ms_ovl;     /* srv_cont.c: records written by transactions in flight */
	d_list_t ms_rl_held; /* srv_rlock.c: record locks held (struct ms_rl) */
	d_list_t ms_rl_wait; /* srv_rlock.c: writers waiting for one, in order of arrival */
	uint64_t ms_rl_next_id;
	bool ms_rl_draining;
	/* stop */
	pthread_mutex_t ms_lock;
	pthread_cond_t ms_cond;
	bool ms_db_closed;
};

/* srv_system.c */
uint64_t ms_now_ms(void);
bool ms_serving(struct ds_mgmt *ms, struct dss_ctl_req *req);
void ms_reply_notleader(struct ds_mgmt *ms, struct dss_ctl_req *req);
int ms_member_get(struct ds_mgmt *ms, uint32_t rank, Mgmt__MsMember **mem);
int ms_map_version_bump(struct ds_mgmt *ms, struct rdb_tx *tx);
int ms_rankset_parse(const char *s, uint32_t **ranks, uint32_t *nr);
bool ms_rank_in(const uint32_t *ranks, uint32_t nr, uint32_t rank);
int ms_tx_put_msg(struct rdb_tx *tx, const char *table, const void *key, size_t klen,
		  const ProtobufCMessage *msg);
void ms_rank_key(uint32_t rank, uint8_t key[4]);

/* srv_pool.c */
int ms_pool_find(struct ds_mgmt *ms, const char *id, Mgmt__MsPool **pool);
int ms_pool_put(struct rdb_tx *tx, const Mgmt__MsPool *pool);
int ms_rank_addrs(struct ds_mgmt *ms, const uint32_t *ranks, uint32_t nr, char ***addrs,
		  uint32_t *naddrs);
void ms_addrs_free(char **addrs, uint32_t nr);
void ms_reply_err(struct ds_mgmt *ms, struct dss_ctl_req *req, int rc);
bool ms_label_valid(const char *label);
int ms_commit_reply(struct ds_mgmt *ms, struct dss_ctl_req *req, struct rdb_tx *tx,
		    const ProtobufCMessage *reply);
/* Start TgtQuery on the ranks of pool @p; reply @req as a PoolQueryResp with @mask. */
int ms_pool_query_start(struct ds_mgmt *ms, struct dss_ctl_req *req, Mgmt__MsPool *p,
			uint64_t mask);
/* Call @method with @msg at @addrs at once; @cb(rcs, arg) with each one's status. */
typedef void (*ms_multi_cb_t)(const int *rcs, uint32_t nr, void *arg);
int ms_call_all(struct ds_mgmt *ms, char *const *addrs, uint32_t nr, uint32_t method,
		const ProtobufCMessage *msg, ms_multi_cb_t cb, void *arg);
int ms_pool_register(struct ds_mgmt *ms);
void ms_pool_unregister(struct ds_mgmt *ms);
/* Add to @tx the pool-map updates that mark the targets of @ranks DOWN in every pool. */
int ms_pools_exclude_ranks(struct ds_mgmt *ms, struct rdb_tx *tx, const uint32_t *ranks,
			   uint32_t nr);

/* srv_cont.c: pool handles and containers (methods 220-247, pool list-cont and evict) */
int ms_cont_register(struct ds_mgmt *ms);
void ms_cont_unregister(struct ds_mgmt *ms);
void ms_ovl_fini(struct ds_mgmt *ms);
/* Handles open on pool @uuid (pool destroy: -DER_BUSY unless forced). */
uint32_t ms_pool_hdl_count(struct ds_mgmt *ms, const char *uuid);
/* What ms_tgt_hdls_push tells the engines. */
enum ms_push {
	MS_PUSH_MAPS, /* pool maps changed (an exclusion): every pool's map version */
	MS_PUSH_RANK, /* a rank joined: each of its pools' whole handle table, to it */
	MS_PUSH_ALL,  /* a new leader: every pool's whole handle table, to all its ranks */
};

/*
 * Tell the joined engines what @what says (TgtHdl, best effort: failures are logged), from
 * the applied tables; @rank is the rank of MS_PUSH_RANK. The tables go as SET (replace),
 * with each pool's map version.
 */
void ms_tgt_hdls_push(struct ds_mgmt *ms, enum ms_push what, uint32_t rank);
/* Add to @tx the removal of every handle and container of pool @uuid; *@nhdls: handles. */
int ms_pool_forget(struct ds_mgmt *ms, struct rdb_tx *tx, const char *uuid, bool conts,
		   uint32_t *nhdls);

/*
 * srv_rlock.c: per-record locks (a pool record's key is its uuid; MS_RL_ALL is every pool
 * record). Writers of a record hold its lock from before they read it until their commit
 * ended, so read-modify-writes of one record apply one after the other.
 */
#define MS_RL_ALL "*"
void ms_rl_init(struct ds_mgmt *ms);
/* Give every lock back and run the waiters (not serving, they answer and give up). */
void ms_rl_fini(struct ds_mgmt *ms);
/*
 * Take the lock of @key for @owner (a token, never dereferenced). Returns 1: held (also when
 * @owner was granted it: it now claims it); 0: queued, @fn(@req, @arg) runs once it is
 * granted to @owner (the caller returns and keeps @req unanswered; @fn must take it again
 * with the same @owner, else it is given back when @fn returns); or an error.
 */
int ms_rl_lock(struct ds_mgmt *ms, const char *key, void *owner, dss_ctl_handler_t fn,
	       struct dss_ctl_req *req, void *arg);
/* Give back @owner's lock, if any (before @owner is answered or freed); runs the next. */
void ms_rl_unlock(struct ds_mgmt *ms, void *owner);

/*
 * srv_orphan.c: add to @tx an orphan entry of pool @pool (container @cont, or NULL: the pool
 * shard) for each of @ranks a destroy missed: not joined, or whose address is @addrs[i]
 * with @rcs[i] != 0 (@rcs NULL: none failed).
 */
int ms_orphans_add(struct ds_mgmt *ms, struct rdb_tx *tx, const uint32_t *ranks, uint32_t nr,
		   char *const *addrs, const int *rcs, uint32_t naddrs, const char *pool,
		   const char *cont);
/* After @rank joined: destroy on it what its orphan entries name (best effort, async). */
void ms_orphans_clean(struct ds_mgmt *ms, uint32_t rank);

#endif /* MGMT_INTERNAL_H */
