/*
 * daos_event.h: event queues and events, the asynchronous half of the API.
 *
 * Every call that takes a trailing `daos_event_t *ev` runs in one of two modes:
 * - ev == NULL: blocking. The call returns when the operation is over, with its result.
 * - ev != NULL: non-blocking. The call returns once the operation is launched: 0, or a
 *   negative DER_* for an error found before launching (the event is then not used). The
 *   result of the operation arrives later in ev->ev_error, when the event completes.
 *
 * An event belongs to an event queue (daos_eq_poll() returns it when it completes) or to no
 * queue (eqh = DAOS_HDL_INVAL: daos_event_test() progresses and completes it). A completed
 * event can be reused for a new operation without daos_event_fini()/daos_event_init().
 * Several threads may poll their own queues concurrently.
 */
#ifndef D_DAOS_EVENT_H
#define D_DAOS_EVENT_H

#include <daos_types.h>
#include <daos_errno.h>

#pragma GCC visibility push(default)

#if defined(__cplusplus)
extern "C" {
#endif

/**
 * Create an event queue.
 * Returns 0 and the queue in *@eqh, or a negative DER_*.
 */
int daos_eq_create(daos_handle_t *eqh);

/** daos_eq_destroy() flag: destroy even if events are still in flight (they are aborted). */
#define DAOS_EQ_DESTROY_FORCE 1

/**
 * Destroy an event queue. Without DAOS_EQ_DESTROY_FORCE in @flags, fails with -DER_BUSY while
 * the queue holds launched or completed-but-unpolled events.
 */
int daos_eq_destroy(daos_handle_t eqh, int flags);

/**
 * Reap completed events from a queue.
 *
 * @wait_running: wait only while some event of the queue is running (a queue whose events are
 * all merely initialised returns at once).
 * @timeout: microseconds to wait for at least one completion; DAOS_EQ_NOWAIT or DAOS_EQ_WAIT.
 * @nevents, @events: room for that many event pointers; completed events are stored there and
 * leave the queue.
 * Returns the number of events stored (0 on timeout), or a negative DER_*.
 */
int daos_eq_poll(daos_handle_t eqh, int wait_running, int64_t timeout, unsigned int nevents,
		 daos_event_t **events);

/**
 * Count (and optionally list, up to @nevents into @events) the events of a queue selected by
 * @query. The events listed stay owned by the queue. Returns the count or a negative DER_*.
 */
int daos_eq_query(daos_handle_t eqh, daos_eq_query_t query, unsigned int nevents,
		  daos_event_t **events);

/**
 * Initialise @ev (memory owned by the caller) on queue @eqh, or on no queue if @eqh is
 * DAOS_HDL_INVAL. With a @parent, @ev is a child: the caller never reaps it, and the parent
 * completes when all its children have.
 * Returns 0, -DER_INVAL, -DER_NONEXIST (no such queue).
 */
int daos_event_init(daos_event_t *ev, daos_handle_t eqh, daos_event_t *parent);

/**
 * Finalise @ev (and, for a parent, all its children). An event that was launched may be
 * finalised only after it was reaped from its queue or tested complete.
 */
int daos_event_fini(daos_event_t *ev);

/** The child of @parent after @child (the first one if @child is NULL); NULL at the end. */
daos_event_t *daos_event_next(daos_event_t *parent, daos_event_t *child);

/**
 * Progress and test one event (not a child). @timeout as daos_eq_poll(). *@flag is true once
 * the event is over (completed or aborted); a completed event of a queue leaves its queue.
 * Returns 0 or a negative DER_*.
 */
int daos_event_test(struct daos_event *ev, int64_t timeout, bool *flag);

/** Completion callback: (arg, event, result). Its return value is ignored. */
typedef int (*daos_event_comp_cb_t)(void *, daos_event_t *, int);

/** Have @cb called with @arg when @ev completes (before it is reaped). */
int daos_event_register_comp_cb(struct daos_event *ev, daos_event_comp_cb_t cb, void *arg);

/**
 * Launch parent event @ev as a barrier: no child can be added any more, and the parent
 * completes when all its children have.
 */
int daos_event_parent_barrier(struct daos_event *ev);

/** Try to abort the operation(s) tracked by @ev; the event still has to be reaped. */
int daos_event_abort(daos_event_t *ev);

#if defined(__cplusplus)
}
#endif

#pragma GCC visibility pop

#endif /* D_DAOS_EVENT_H */
