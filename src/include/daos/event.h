/*
 * daos/event.h: the client's event engine, as the rest of libdaos sees it.
 *
 * Every libdaos call is asynchronous: it launches an event, starts its work (usually RPCs on
 * the event queue's network context) and returns; the work completes the event later, from
 * inside the progress of that queue (daos_eq_poll, daos_event_test) or from any other
 * thread. A blocking call (ev == NULL) runs the same code on a private event of the calling
 * thread and progresses it until it completes.
 *
 * An operation is written like this:
 *
 *	rc = dc_ev_begin(ev, &priv);       // ev NULL: a private event, waited for below
 *	if (rc != 0)
 *		return rc;
 *	rc = dc_ev_net_exec(evp, start_rpcs, op);  // evp = priv ? priv : ev
 *	if (rc != 0)
 *		dc_ev_complete(evp, rc);   // the work never started: complete it now
 *	return dc_ev_end(ev, priv);        // blocking: wait and return ev_error; else 0
 *
 * and the RPC callbacks finally call dc_ev_complete(evp, rc).
 */
#ifndef DAOS_EVENT_INTERNAL_H
#define DAOS_EVENT_INTERNAL_H

#include <daos_event.h>

struct net_context;

/**
 * Start an operation on @ev (NULL: on a private event of this thread, returned in *@priv,
 * which the caller then uses for the operation and passes to dc_ev_end). The event must be
 * initialised and not running. Returns 0, -DER_UNINIT (daos_init not called), -DER_NO_PERM
 * (@ev is running or has children still to launch), -DER_NONEXIST (its queue is gone).
 *
 * Context: any application thread.
 */
int dc_ev_begin(daos_event_t *ev, daos_event_t **priv);

/**
 * Finish what dc_ev_begin started: for a private event (@priv non-NULL), progress until it
 * completes and return its result; otherwise return 0 (the application polls @ev).
 */
int dc_ev_end(daos_event_t *ev, daos_event_t *priv);

/**
 * Complete a running @ev with @rc: run its completion callbacks, set ev_error, move it to its
 * queue's completed list and wake a waiter. A second completion is ignored. Context: any
 * thread, including a network callback of the event's queue.
 */
void dc_ev_complete(daos_event_t *ev, int rc);

/**
 * Report @rc, the outcome of an operation decided before any work started (its arguments,
 * its handle): without @ev, return it; with @ev, launch @ev, complete it with @rc at once
 * and return 0, or the launch's error (@ev not launched). Context: any application thread.
 */
static inline int
dc_ev_done(daos_event_t *ev, int rc)
{
	daos_event_t *priv = NULL;
	int rc2;

	if (ev == NULL)
		return rc;
	rc2 = dc_ev_begin(ev, &priv);
	if (rc2 != 0)
		return rc2;
	dc_ev_complete(ev, rc);
	return dc_ev_end(ev, priv);
}

/**
 * For the libraries over libdaos (libdfs), which see only its exported daos_* symbols:
 * launch @ev as an operation of their own (dc_ev_begin on an application event; returns its
 * errors), and complete it with @rc (dc_ev_complete). DAOS has both under these names.
 */
#pragma GCC visibility push(default)
int daos_event_launch(daos_event_t *ev);
void daos_event_complete(daos_event_t *ev, int rc);
#pragma GCC visibility pop

/** Make ev_error of @ev a positive errno (the DFS convention) when it completes. */
void dc_ev_errno_rc(daos_event_t *ev);

/**
 * Run @fn with the network context of @ev's queue (created on first use), serialised with
 * that queue's progress: @fn may send RPCs and register bulk buffers; their callbacks later
 * run inside the queue's progress. Returns what @fn returns, or -DER_NOMEM/-DER_HG/... if
 * the context cannot be created.
 */
int dc_ev_net_exec(daos_event_t *ev, int (*fn)(struct net_context *ctx, void *arg), void *arg);

/** Called by daos_event_abort on a running event, with the event's queue unlocked. */
typedef void (*dc_ev_abort_cb_t)(daos_event_t *ev, void *arg);

/** Set how a running @ev is aborted (NULL: it cannot be; abort only marks it). */
void dc_ev_set_abort(daos_event_t *ev, dc_ev_abort_cb_t cb, void *arg);

/**
 * What the completion of an internal event calls, once per launch, with its result, in the
 * completing thread (often a network callback of its queue, where further operations may be
 * started on the queue). It may finalise the event (daos_event_fini) and free its memory.
 */
typedef void (*dc_ev_done_t)(void *arg, daos_event_t *iev, int rc);

/**
 * Initialise @iev as an internal event on the queue of @ev (an initialised event, usually the
 * running event of an API call): a sub-operation of the library. It is in none of the
 * queue's lists (daos_eq_poll never returns it, daos_eq_query never counts it); its
 * completion calls @done(@arg, @iev, rc) instead, which typically accounts for it and
 * completes @ev with the last one. Launch it by passing it to an operation (daos_obj_*...).
 * Returns 0 or -DER_INVAL.
 */
int dc_ev_init_internal(daos_event_t *iev, daos_event_t *ev, dc_ev_done_t done, void *arg);

/**
 * After an operation was given internal event @iev and returned @rc. An operation given an
 * event returns non-zero only when it did not launch it (dc_ev_begin failed; dc_ev_end
 * returns 0 for an application event), so @done will never be called: this calls it now
 * with @rc. With @rc 0, nothing (@done was or will be called by the completion).
 */
void dc_ev_internal_check(daos_event_t *iev, int rc);

/** Library setup and teardown, called by daos_init/daos_fini. */
int dc_ev_lib_init(void);
void dc_ev_lib_fini(void);

/**
 * How many event queues exist (allocated, not yet freed), the threads' private ones
 * included: what tests check to see that an exiting thread frees its private queue.
 */
int dc_ev_eq_count(void);

/**
 * How many waits in eq_progress busy-polled (@spun) and how many daos_eq_poll made without
 * it because its queue's recent waits were long with several events in flight and at least
 * 4 MiB of bulk buffers registered on its context (@skipped), since the process started:
 * what tests check to see the spin policy.
 */
void dc_ev_spin_stats(uint64_t *spun, uint64_t *skipped);

/**
 * The provider and local address new network contexts use (NULL: keep the current one).
 * Defaults: NET_PROVIDER_DEFAULT and "127.0.0.1". Attach info from the agent sets them.
 * D_PROVIDER in the environment, when set, wins over the provider set here (D_PROVIDER=shm:
 * a same-host client over the engines' shm listeners). Contexts created earlier keep theirs.
 */
int dc_ev_net_cfg_set(const char *provider, const char *addr);

#endif /* DAOS_EVENT_INTERNAL_H */
