/*
 * srv_relay.h: the engine's fabric relay to the management service (srv_relay.c).
 *
 * Clients send SVC_OPC_CALL (daos/svc_rpc.h) to any context of an engine; the relay hands
 * the call to the control thread, which forwards it to the management service leader over
 * the management port and returns the leader's answer as the reply. The relay is a module
 * of daos_server (svc_relay_module, in srv_modules.c); it serves once daos_server has given
 * it the started control thread (ds_svc_relay_start) and answers -DER_UNREACH before that
 * and after ds_svc_relay_stop, so that the client tries another engine.
 */
#ifndef SRV_RELAY_H
#define SRV_RELAY_H

#include <stdint.h>

#include <daos_srv/daos_engine.h>

struct dss_ctl;
struct net_req;

/** How long the relay waits for the service when the client gives no timeout (ms). */
#define SVC_RELAY_TIMEOUT_DEFAULT_MS 10000
/** The longest wait a client may ask for (ms). */
#define SVC_RELAY_TIMEOUT_MAX_MS 120000
/** Pause before trying the replicas again when none knows a leader (ms). */
#define SVC_RELAY_RETRY_MS 100

/**
 * Test hook: this environment variable, read at module init, names one extra method the
 * relay forwards although SVC_METHOD_ALLOWED excludes it. Only the read-only methods Ping
 * (1), GetAttachInfo (100), SystemQuery (101) and LeaderQuery (105) may be named; any
 * other value is ignored with a warning. Lets the relay be tested without the pool service.
 */
#define SVC_RELAY_TEST_METHOD_ENV "DAOS_SVC_RELAY_TEST_METHOD"

/** The relay module (svc_proto and its handler), listed in dss_module_table. */
extern struct dss_module svc_relay_module;

/**
 * Serve relayed calls through @ctl (borrowed; started, must stay valid until
 * ds_svc_relay_stop): the service is at the access points of the running engine's
 * configuration, or at @ctl's own listen address when it has none. Returns 0, -DER_NOMEM,
 * or -DER_UNINIT if no engine is published.
 *
 * Context: the engine's main thread, after dss_ctl_start.
 */
int ds_svc_relay_start(struct dss_ctl *ctl);

/**
 * Stop relaying: new calls are answered -DER_UNREACH, calls waiting to retry end with
 * -DER_SHUTDOWN, calls in flight end when the control thread stops (their calls fail). After
 * it returns the relay never touches the control thread again.
 *
 * Context: the engine's main thread, before dss_ctl_stop/destroy. A no-op if not started.
 */
void ds_svc_relay_stop(void);

/** The SVC_OPC_CALL handler (run in a ULT of the context's xstream). */
void ds_svc_relay_handler(struct net_req *req, void *body, void *arg);

/** Counters of the relay (tests). */
struct svc_relay_stats {
	uint64_t srs_calls;     /* calls forwarded to the control thread */
	uint64_t srs_refused;   /* -DER_NO_PERM and relay not running */
	uint64_t srs_redirects; /* LeaderHint bodies followed */
};

void ds_svc_relay_stats_get(struct svc_relay_stats *st);

#endif /* SRV_RELAY_H */
