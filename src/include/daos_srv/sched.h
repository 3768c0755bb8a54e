/*
 * daos_srv/sched.h: the user-level-thread (ULT) scheduler of an engine xstream.
 *
 * An xstream is one OS thread running a loop that polls its event sources (pollers: the
 * fabric completion queue, io_uring completions), fires timers and runs ready ULTs. ULTs are
 * cooperative: a ULT runs until it yields, sleeps, waits on an eventual, a mutex or a
 * condition variable, or returns. After a short idle period (50 us by default) the loop
 * sleeps in epoll on an eventfd and the pollers' file descriptors, so an idle xstream costs
 * no CPU and a busy one never pays a wake-up.
 *
 * What may be called from where:
 *   - any thread: dss_ult_create, dss_call_post, dss_eventual_create/set/test/destroy,
 *     dss_xstream_stop,
 *     dss_xstream_stopping, dss_xstream_stats_get, and dss_eventual_wait/timedwait and
 *     dss_ult_join from a thread that is not an xstream (they block that OS thread);
 *   - a ULT only: everything that may block (dss_yield, dss_sleep, dss_eventual_wait,
 *     dss_ult_join, dss_mutex_lock, dss_cond_wait). Calling them from an xstream outside a
 *     ULT (a poller callback) is a programming error and asserts: a handler never blocks
 *     its OS thread;
 *   - the owning xstream only: dss_mutex_* and dss_cond_* (all users of one mutex or
 *     condition variable live on one xstream), and dss_xstream_poller_add/del once the
 *     xstream runs.
 * See src/engine/README.md for the invariants and the life of a ULT.
 */
#ifndef DAOS_SRV_SCHED_H
#define DAOS_SRV_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gurt/list.h>

struct dss_xstream;
struct dss_ult;
struct dss_eventual;
struct dss_poller;

/** Defaults of struct dss_xstream_attr. */
#define DSS_IDLE_SPIN_NS_DEFAULT (50 * 1000ULL)
#define DSS_IDLE_SPIN_MAX_NS_DEFAULT (500 * 1000ULL)
#define DSS_STACK_SIZE_DEFAULT (64 * 1024)
#define DSS_STACK_SIZE_MIN (16 * 1024)
#define DSS_STACK_CACHE_DEFAULT 1024
/** Longest xstream name kept (longer ones are cut). */
#define DSS_XS_NAME_MAX 32

/** Tunables of an xstream; a zero field takes its default. */
struct dss_xstream_attr {
	/** Time with nothing to do before the loop sleeps in epoll (ns). */
	uint64_t xa_idle_spin_ns;
	/** Stack size of a ULT created with stack_size 0 (rounded up to pages). */
	size_t xa_stack_size;
	/** Free stacks of the default size kept for reuse; beyond that they are unmapped. */
	uint32_t xa_stack_cache;
	/**
	 * Adaptive spin: when an event wakes the loop less than this after it fell asleep, the
	 * next idle spin grows by twice that sleep, up to this (ns); a longer sleep, or one
	 * ended by a timer, brings the spin back to xa_idle_spin_ns. Requests that keep
	 * arriving just after the loop fell asleep (a client that sleeps between its RPCs) are
	 * then met by a spinning loop, with no wake-up; an idle xstream still sleeps. Set it
	 * to xa_idle_spin_ns (or below) for a fixed spin.
	 */
	uint64_t xa_idle_spin_max_ns;
};

/** Counters of an xstream. Read from another thread they are a loose snapshot. */
struct dss_xstream_stats {
	uint64_t xss_ults;          /* ULTs alive on the xstream (ready, running, blocked) */
	uint64_t xss_ults_created;  /* ULTs that ever started here */
	uint64_t xss_switches;      /* switches into a ULT */
	uint64_t xss_idle_sleeps;   /* times the loop slept in epoll */
	uint64_t xss_idle_nospin;   /* of which without a spin first (dss_xstream_nospin) */
	uint64_t xss_idle_spin_ns;  /* the adaptive idle spin now (ns) */
	uint64_t xss_remote_msgs;   /* messages from other threads (creations, wake-ups) */
	uint64_t xss_stacks_mapped; /* stacks mapped for this xstream: in use + cached */
	uint64_t xss_stacks_cached; /* free stacks in its cache */
	uint64_t xss_stack_mmaps;   /* stacks ever mapped (cache misses and other threads) */
};

/**
 * Create an xstream named @name (borrowed; copied, cut at DSS_XS_NAME_MAX - 1 bytes) with
 * tunables @attr (borrowed; NULL for defaults). It does not run until dss_xstream_run or
 * dss_xstream_start. On success *@xs is owned by the caller, freed by dss_xstream_destroy.
 * Returns 0, -DER_NOMEM, or the error of eventfd/epoll_create.
 *
 * Context: any thread.
 */
int dss_xstream_create(const char *name, const struct dss_xstream_attr *attr,
		       struct dss_xstream **xs);

/**
 * Destroy @xs (NULL is fine). An xstream started with dss_xstream_start is stopped and its
 * thread joined first; one run with dss_xstream_run must have returned. ULTs queued on an
 * xstream that never ran are cancelled: a detached one is freed without running, a joinable
 * one is completed so that dss_ult_join returns -DER_CANCELED. Pollers are freed, their
 * file descriptors are not closed (the caller owns them).
 *
 * Context: any thread but @xs's own; no other thread may be calling into @xs except to set
 * eventuals.
 */
void dss_xstream_destroy(struct dss_xstream *xs);

/**
 * Run the loop of @xs on the calling thread until dss_xstream_stop has been called and every
 * ULT of @xs has finished. An xstream runs once. Returns 0, or -DER_ALREADY if @xs has run
 * or is running.
 *
 * Context: a thread that is not already running an xstream.
 */
int dss_xstream_run(struct dss_xstream *xs);

/**
 * Run @xs on a new thread (its name is the xstream's). dss_xstream_destroy joins it.
 * Returns 0, -DER_ALREADY, or the error of pthread_create.
 *
 * Context: any thread.
 */
int dss_xstream_start(struct dss_xstream *xs);

/**
 * Bind the thread dss_xstream_start will create for @xs to CPU @cpu (-1: unbound, the
 * default), as DAOS binds its xstreams from first_core on. A CPU the process may not use
 * is logged and the thread runs unbound. Returns 0, -DER_INVAL (@cpu out of range), or
 * -DER_ALREADY (the thread runs already).
 *
 * Context: any thread, before dss_xstream_start.
 */
int dss_xstream_cpu_set(struct dss_xstream *xs, int cpu);

/**
 * Ask @xs to stop. From then on dss_ult_create on it fails with -DER_SHUTDOWN, ULTs in
 * dss_sleep wake up at once (it returns -DER_SHUTDOWN, as do later calls), and the loop
 * returns once every ULT has finished. Timed waits keep their deadlines: an eventual may be
 * set by a completion still in flight. ULTs that wait forever keep the xstream running
 * (a warning is logged after 10 s). Idempotent.
 *
 * Context: any thread, including a ULT of @xs.
 */
void dss_xstream_stop(struct dss_xstream *xs);

/** Has dss_xstream_stop been called on @xs? Long-running ULTs check it. Context: any thread. */
bool dss_xstream_stopping(const struct dss_xstream *xs);

/** The xstream the calling thread runs, or NULL. Context: any thread. */
struct dss_xstream *dss_xstream_self(void);

/** The name of @xs (borrowed, lives as long as @xs). Context: any thread. */
const char *dss_xstream_name(const struct dss_xstream *xs);

/** Copy @xs's counters into *@st. Context: any thread (a loose snapshot from another one). */
void dss_xstream_stats_get(const struct dss_xstream *xs, struct dss_xstream_stats *st);

/**
 * A poller: called on every pass of the loop; returns how many events it handled (> 0
 * keeps the loop awake), or a negative -DER_* error (logged, counted as no work).
 */
typedef int (*dss_poll_cb_t)(void *arg);

/**
 * Called just before the loop sleeps: returns 0 if it is safe to sleep on the poller's fd
 * (nothing is pending that the fd would not signal, e.g. fi_trywait succeeded), non-zero
 * to stay awake.
 */
typedef int (*dss_arm_cb_t)(void *arg);

/**
 * Add a poller to @xs: @poll (required) is called with @arg on every pass; @arm (may be
 * NULL) before sleeping; @fd (-1 for none; borrowed, never closed here) joins the epoll set
 * the idle loop sleeps on, level-triggered for input. A poller without an fd is polled
 * only while the loop is awake: such a source must wake the xstream some other way.
 * *@poller (may be NULL) receives a handle for dss_xstream_poller_del.
 * Returns 0, -DER_NOMEM, or the error of epoll_ctl.
 *
 * Context: before @xs runs, or on @xs's thread (a ULT or a poller callback).
 */
int dss_xstream_poller_add(struct dss_xstream *xs, dss_poll_cb_t poll, dss_arm_cb_t arm, int fd,
			   void *arg, struct dss_poller **poller);

/**
 * Remove and free @poller (from dss_xstream_poller_add on @xs). It is not called again.
 *
 * Context: as dss_xstream_poller_add; may be called from inside a poller callback.
 */
void dss_xstream_poller_del(struct dss_xstream *xs, struct dss_poller *poller);

/**
 * From a poller callback (or a ULT) of the calling xstream: the loop's next idle period
 * goes to sleep in epoll at once instead of spinning first (the flag is cleared by that
 * sleep). For work that is bound by bandwidth, not by a round trip: e.g. a target with
 * several MiB of bulk transfers in flight, whose next event (a ring or CQ completion, the
 * next request of a deep queue) is hundreds of microseconds away, where a spin costs a core
 * and shortens nothing. Set it again on every pass the condition holds.
 *
 * Context: the xstream's thread; no-op elsewhere.
 */
void dss_xstream_nospin(void);

/** The body of a ULT. */
typedef void (*dss_ult_func_t)(void *arg);

/**
 * Create a ULT on @xs running @func(@arg) (@arg borrowed by the ULT), with a stack of
 * @stack_size bytes (0: the xstream's default, 64 KiB unless tuned; stacks of the default
 * size come from the xstream's cache). If @ult is NULL the ULT is detached and frees itself
 * when @func returns; otherwise *@ult is a handle the caller must pass to dss_ult_join.
 * New ULTs run in creation order after the ULTs already ready.
 * From another thread the ULT travels through @xs's lock-free queue and wakes @xs if it
 * sleeps; @xs takes its stack from its own cache when it receives it (a mapping only when
 * the cache is empty), so no stack is mapped per cross-thread creation once the cache is warm.
 * Returns 0, -DER_NOMEM, or -DER_SHUTDOWN once @xs is stopping.
 *
 * Context: any thread; does not block or yield.
 */
int dss_ult_create(struct dss_xstream *xs, dss_ult_func_t func, void *arg, size_t stack_size,
		   struct dss_ult **ult);

/** What dss_call_post runs: @rc is 0 on the xstream, -DER_CANCELED if it never got there. */
typedef void (*dss_call_func_t)(void *arg, int rc);

/**
 * Have @xs's loop call @func(@arg, 0) itself, between ULTs, with no ULT: no stack, no
 * context switch, no join. For short work that must run on @xs (its VOS) and never blocks
 * or yields: @func runs as a poller callback does. It travels through @xs's queue like a
 * ULT created from another thread, in arrival order with them. If @xs is destroyed before
 * running it, the destroying thread calls @func(@arg, -DER_CANCELED) instead (then @func
 * must only report). @func signals its own completion (e.g. dss_eventual_set).
 * Returns 0, -DER_NOMEM, or -DER_SHUTDOWN once @xs is stopping (@func is not called).
 *
 * Context: any thread; does not block or yield.
 */
int dss_call_post(struct dss_xstream *xs, dss_call_func_t func, void *arg);

/**
 * Wait until @ult (a handle from dss_ult_create) has finished, then free it. Returns 0, or
 * -DER_CANCELED if it never ran (its xstream was destroyed before running it).
 *
 * Context: a ULT (it yields) of any xstream, or a thread that is not an xstream (it
 * blocks); exactly once per handle; not by @ult itself.
 */
int dss_ult_join(struct dss_ult *ult);

/** The calling ULT, or NULL outside a ULT. Context: any thread. */
struct dss_ult *dss_ult_self(void);

/**
 * Put the calling ULT at the end of the ready queue and let the loop run pollers, timers
 * and the other ready ULTs first.
 *
 * Context: a ULT.
 */
void dss_yield(void);

/**
 * Suspend the calling ULT for at least @ms milliseconds (@us microseconds). Returns 0, or
 * -DER_SHUTDOWN, early, when the xstream is asked to stop.
 *
 * Context: a ULT.
 */
int dss_sleep(uint64_t ms);
int dss_usleep(uint64_t us);

/**
 * Suspend the calling ULT until @deadline_ns on the d_now_ns() clock (drift-free periodic
 * work). ULTs with equal deadlines wake in the order they went to sleep. Returns as
 * dss_sleep.
 *
 * Context: a ULT.
 */
int dss_sleep_until(uint64_t deadline_ns);

/**
 * Create an eventual: a one-shot value that ULTs (of any xstream) and plain threads wait
 * for and any thread sets. *@ev is owned by the caller, freed by dss_eventual_destroy.
 * Returns 0 or -DER_NOMEM.
 *
 * Context: any thread.
 */
int dss_eventual_create(struct dss_eventual **ev);

/**
 * Free @ev (NULL is fine). Nobody may wait on it any more: every waiter has returned.
 *
 * Context: any thread.
 */
void dss_eventual_destroy(struct dss_eventual *ev);

/**
 * Wait until @ev is set; *@value (may be NULL) receives the value it was set to.
 *
 * Context: a ULT (it yields) or a thread that is not an xstream (it blocks); never an
 * xstream outside a ULT.
 */
void dss_eventual_wait(struct dss_eventual *ev, void **value);

/**
 * dss_eventual_wait with a deadline: @deadline_ns on the d_now_ns() clock (0 = none).
 * Returns 0 with *@value set, or -DER_TIMEDOUT.
 *
 * Context: as dss_eventual_wait.
 */
int dss_eventual_timedwait(struct dss_eventual *ev, void **value, uint64_t deadline_ns);

/**
 * Set @ev to @value (borrowed: the eventual only carries it) and wake every waiter. An
 * eventual is set once; setting it twice asserts. Waiters on other threads are woken
 * through their xstream's queue.
 *
 * Context: any thread; does not block or yield.
 */
void dss_eventual_set(struct dss_eventual *ev, void *value);

/** Is @ev set? If so and @value != NULL, *@value receives its value. Context: any thread. */
bool dss_eventual_test(struct dss_eventual *ev, void **value);

/*
 * A mutex for the ULTs of one xstream: lock yields instead of blocking the OS thread, unlock
 * hands the mutex to the longest waiter (FIFO, no barging). Not recursive. Embed it and
 * dss_mutex_init it; members are private.
 */
struct dss_mutex {
	struct dss_ult *mx_owner;
	struct dss_xstream *mx_xs; /* bound on first use */
	d_list_t mx_waiters;
};

/*
 * A condition variable for the ULTs of one xstream; waiters wake in FIFO order. Members are
 * private.
 */
struct dss_cond {
	struct dss_xstream *cv_xs; /* bound on first use */
	d_list_t cv_waiters;
};

/** Initialise @mx unlocked. Context: any thread. */
void dss_mutex_init(struct dss_mutex *mx);

/** Finalise @mx: it must be unlocked with no waiter. Context: its xstream or any thread after. */
void dss_mutex_fini(struct dss_mutex *mx);

/** Lock @mx, yielding while another ULT holds it. Context: a ULT of @mx's xstream. */
void dss_mutex_lock(struct dss_mutex *mx);

/** Lock @mx if it is free; true if the caller now holds it. Context: a ULT of its xstream. */
bool dss_mutex_trylock(struct dss_mutex *mx);

/** Unlock @mx, held by the caller. Context: the ULT holding it. */
void dss_mutex_unlock(struct dss_mutex *mx);

/** Initialise @cv. Context: any thread. */
void dss_cond_init(struct dss_cond *cv);

/** Finalise @cv: no ULT may wait on it. Context: its xstream or any thread after. */
void dss_cond_fini(struct dss_cond *cv);

/**
 * Unlock @mx (held by the caller), wait for a signal on @cv, lock @mx again. Callers
 * re-check their predicate in a loop, as with pthreads.
 *
 * Context: a ULT of the xstream @cv and @mx belong to.
 */
void dss_cond_wait(struct dss_cond *cv, struct dss_mutex *mx);

/**
 * dss_cond_wait with a deadline @deadline_ns on the d_now_ns() clock (0 = none). Returns 0
 * if signalled, -DER_TIMEDOUT if the deadline passed; @mx is held again either way.
 *
 * Context: as dss_cond_wait.
 */
int dss_cond_timedwait(struct dss_cond *cv, struct dss_mutex *mx, uint64_t deadline_ns);

/** Wake the longest waiter of @cv, if any. Context: @cv's xstream (a ULT or a poller). */
void dss_cond_signal(struct dss_cond *cv);

/** Wake every waiter of @cv. Context: @cv's xstream (a ULT or a poller). */
void dss_cond_broadcast(struct dss_cond *cv);

#endif /* DAOS_SRV_SCHED_H */
