/*
 * srv_net.h: the engine's fabric (srv_net.c): one net context per xstream (tag 0 the system
 * xstream, tag 1 + i target i), each polled by its xstream and created, served and destroyed
 * on that xstream's thread; every loaded module's opcodes served in ULTs; the built-in `srv`
 * module (the self-test protocol); and the helpers a module's request handler uses.
 *
 * A module's handler (struct dss_module.sm_handlers) runs in a ULT of the xstream whose
 * context received the request, with @arg the engine's per-context state (a struct
 * srv_tgt, read it with dss_tgt_idx). It may yield (dss_req_bulk_get/put, dss_sleep,
 * eventuals...) and must call net_reply_send on the request exactly once, before it
 * returns or from code it hands the request to on the same xstream.
 *
 * Private to src/engine for now; the dss_* helpers move to daos_srv/daos_engine.h when the
 * first module outside src/engine needs them.
 */
#ifndef SRV_NET_H
#define SRV_NET_H

#include <stdbool.h>
#include <stdint.h>

#include <gurt/types.h>
#include <daos/net.h>
#include <daos_srv/daos_engine.h>

struct srv_tgt;

/** Where and how the engine listens on the fabric. Strings are borrowed. */
struct srv_net_attr {
	const char *na_provider;  /* libfabric form ("tcp;ofi_rxm", "shm"); NULL: default */
	const char *na_provider2; /* a secondary listener on each context for same-host
				   * clients ("shm"), named after the primary's IP:PORT
				   * (fi_ns://IP:PORT); NULL: none */
	const char *na_host;      /* IP address to bind (an interface's, already resolved) */
	uint32_t na_port;         /* the system xstream's port; target i gets na_port + 1 + i;
				   * 0: any free port for each (tests) */
	uint32_t na_drain_ms;     /* stop: wait this long for in-flight requests (0: 3000) */
};

#define SRV_NET_DRAIN_MS_DEFAULT 3000

/**
 * Start the fabric of @eng (borrowed, must outlive srv_net_stop): on each xstream (system
 * first, then the targets) a ULT creates the context at @attr's address, registers the
 * handlers of every loaded module (dss_module_foreach: each module's sm_proto is registered
 * with the net layer here) and adds the context's completion queue as a poller. Requests are
 * served from then on. On failure everything started is stopped again.
 * Returns 0, -DER_ALREADY, -DER_INVAL (a module's opcode outside its sm_mod_id), or the error
 * of net_context_create (-DER_HG if the address is in use), -DER_NOMEM.
 *
 * Context: the engine's main thread, xstreams running, modules initialised.
 */
int srv_net_start(const struct dss_engine *eng, const struct srv_net_attr *attr);

/**
 * Stop the fabric: on each xstream at once, new requests are answered -DER_SHUTDOWN while
 * the request ULTs in flight finish (up to na_drain_ms), then the context is destroyed on
 * its thread. Returns 0, or -DER_TIMEDOUT if some request ULTs did not finish in time: their
 * contexts are left open (destroying one would free requests that live ULTs still use), so
 * the xstreams cannot stop either and the caller should exit the process.
 *
 * Context: the engine's main thread; a no-op if the fabric is not started.
 */
int srv_net_stop(void);

/** Contexts of the started fabric (1 + targets), 0 if not started. Context: any thread. */
uint32_t srv_net_ctx_nr(void);

/**
 * The fabric address of context @tag (0: system xstream, 1 + i: target i), borrowed until
 * srv_net_stop, or NULL if @tag is out of range. Context: any thread, while started.
 */
const char *srv_net_ctx_addr(uint32_t tag);

/** The secondary listener's address of context @tag, or NULL (none, or out of range). */
const char *srv_net_ctx_addr2(uint32_t tag);

/** The built-in module: the self-test protocol (ping, bulk echo) served from ULTs. */
extern struct dss_module srv_module;

/**
 * The target index of @tgt (a handler's @arg), or -1 for the system xstream's context.
 * Context: any thread.
 */
int dss_tgt_idx(const struct srv_tgt *tgt);

/** The context state of the calling xstream, or NULL. Context: any thread. */
struct srv_tgt *dss_tgt_self(void);

/** Counters of the started fabric, summed over its contexts. */
struct srv_net_stats {
	uint64_t sns_reqs;     /* requests handed to a ULT */
	uint64_t sns_rejected; /* requests answered -DER_SHUTDOWN or -DER_NOMEM at arrival */
	uint64_t sns_inflight; /* request ULTs running now */
};

/** A loose snapshot of the counters (for tests). Context: any thread. */
void srv_net_stats_get(struct srv_net_stats *st);

#endif /* SRV_NET_H */
