/*
 * daos_srv/mgmt.h: the management service (MS, src/mgmt) as daos_server starts it.
 *
 * Every server runs the membership client: it joins the MS leader at start (getting its rank,
 * the same one across restarts because the MS maps the engine uuid to it) and then sends a
 * heartbeat every second. Servers listed as access points also run a replica of the MS: an
 * rdb database (raft) holding the system map and the pool table, whose leader serves the
 * system and pool methods of the management port (src/proto/README.md, ids 100-199); other
 * replicas answer -DER_NOTLEADER with a mgmt.LeaderHint. With no access point configured, the
 * server is the only replica (a single-node system bootstraps itself).
 *
 * Raft listens on the host of the replica's access point, at its management port plus
 * DS_MGMT_RAFT_PORT_OFFSET.
 *
 * Threads: ds_mgmt_start/stop/destroy on the main thread; everything else on the control
 * thread's loop.
 */
#ifndef DAOS_SRV_MGMT_H
#define DAOS_SRV_MGMT_H

#include <stdbool.h>
#include <stdint.h>

#include <daos_types.h>

struct dss_ctl;
struct ds_mgmt;

/** Raft port of a replica = its management port + this. */
#define DS_MGMT_RAFT_PORT_OFFSET 7
/** Heartbeat interval, and the silence after which a rank is marked excluded (ms). */
#define DS_MGMT_HB_INTERVAL_MS 500
#define DS_MGMT_HB_DEADLINE_MS 4000

/** What the MS and the membership client need to know about this server. */
struct ds_mgmt_attr {
	struct dss_ctl *ma_ctl;     /* the started control thread (borrowed) */
	const char *ma_sys;         /* system name */
	const char *const *ma_aps;  /* access points "host:port" (borrowed) */
	uint32_t ma_ap_nr;          /* 0: this server alone */
	const char *ma_db_dir;      /* directory of this replica's raft log */
	uuid_t ma_uuid;             /* the engine's uuid (superblock) */
	uint32_t ma_rank;           /* its last rank, UINT32_MAX if none yet */
	const char *ma_uri;         /* fabric address of its first context */
	uint32_t ma_nctxs;          /* fabric contexts */
	const char *const *ma_uris; /* every context's address, ma_nctxs of them (may be NULL) */
	/* GetAttachInfo's network hint (may be NULL/0) */
	const char *ma_provider;
	const char *ma_interface;
	const char *ma_domain;
	uint32_t ma_net_timeout;
	/* credentials: trusted agent keys (transport_config.client_cert_dir), or insecure */
	const char *ma_client_cert_dir;
	bool ma_allow_insecure;
	uint32_t ma_ntargets;        /* targets */
	const char *ma_fault_domain; /* "/hostname" */
	/* called on the loop when the MS assigned a rank (may be NULL) */
	void (*ma_rank_cb)(uint32_t rank, void *arg);
	void *ma_cb_arg;
};

/**
 * Start the MS replica (if this server is an access point) and the membership client, and
 * register the MS methods on @attr->ma_ctl (strings are copied). Returns 0 with *@ms owned by
 * the caller (ds_mgmt_stop, then ds_mgmt_destroy after the control thread stopped),
 * -DER_INVAL (bad access points), -DER_NOMEM, or an rdb error (-DER_BUSY: raft port in use).
 * Context: the main thread, after dss_ctl_start.
 */
int ds_mgmt_start(const struct ds_mgmt_attr *attr, struct ds_mgmt **ms);

/**
 * Stop serving: unregister the methods, stop the timers and the rdb replica (waits until raft
 * closed its files and sockets). Context: the main thread, before dss_ctl_stop.
 */
void ds_mgmt_stop(struct ds_mgmt *ms);

/**
 * The engine half of this server is stopping (system stop): the membership client stops
 * joining and heartbeating; returns once no call of it is in flight (so that no join lands
 * after the MS recorded the rank stopped). Returns 0 or -DER_UNINIT (@ms NULL).
 * Context: the main thread (waits for the loop).
 */
int ds_mgmt_engine_stopped(struct ds_mgmt *ms);

/**
 * The engine half runs again (system start) with fabric addresses @uris (@nr, copied): the
 * membership client joins again with a new incarnation. Returns 0, -DER_NOMEM, -DER_UNINIT.
 * Context: the main thread (waits for the loop).
 */
int ds_mgmt_engine_started(struct ds_mgmt *ms, const char *const *uris, uint32_t nr);

/** Free @ms (NULL is fine). Context: the main thread, after the control thread stopped. */
void ds_mgmt_destroy(struct ds_mgmt *ms);

#endif /* DAOS_SRV_MGMT_H */
