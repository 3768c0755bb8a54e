/*
 * sched_internal.h: the structures of the ULT scheduler (src/engine/sched*.c), private to
 * it. The invariants they keep are numbered in src/engine/README.md.
 */
#ifndef DSS_SCHED_INTERNAL_H
#define DSS_SCHED_INTERNAL_H

#include <pthread.h>
#include <ucontext.h>

#include <gurt/common.h>
#include <daos_srv/sched.h>

/* gcc says __SANITIZE_ADDRESS__, clang __has_feature(address_sanitizer) */
#if defined(__SANITIZE_ADDRESS__)
#define DSS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DSS_ASAN 1
#endif
#endif

/*
 * The context switch (sched_ctx.c): assembly on x86_64, glibc ucontext elsewhere, when the
 * build asks for it (cmake -DD_ULT_UCONTEXT=ON defines DSS_ULT_UCONTEXT), or when compiled
 * for CET (-fcf-protection: the object would claim shadow-stack support the switch lacks).
 */
#if defined(__x86_64__) && !defined(DSS_ULT_UCONTEXT) && !defined(__CET__)
#define DSS_CTX_ASM 1
#define DSS_CTX_NAME "x86_64 assembly"
#else
#define DSS_CTX_NAME "ucontext"
#endif

D_LOG_FAC_DECLARE(sched);

/* A suspended machine context: a ULT that is not running, or the loop while one runs. */
struct dss_ctx {
#ifdef DSS_CTX_ASM
	void *cx_sp; /* the frame sched_ctx_switch left on the context's stack */
#else
	ucontext_t cx_uc;
#endif
};

/* A node of the lock-free multi-producer queue of an xstream (embedded in what it carries). */
struct dss_rnode {
	struct dss_rnode *rn_next;
	uint32_t rn_type;
};

enum {
	DSS_RN_CREATE = 1, /* a ULT created by another thread: start it */
	DSS_RN_WAKE,       /* a blocked ULT whose eventual another thread set: make it ready */
	DSS_RN_CALL,       /* a dss_call: run its function on the loop, no ULT */
};

/* A function posted to an xstream's loop by dss_call_post (freed once run or cancelled). */
struct dss_call {
	struct dss_rnode dc_rnode;
	dss_call_func_t dc_func;
	void *dc_arg;
};

/* The queue head of an xstream that has stopped and takes no more messages. */
#define DSS_RQ_CLOSED ((struct dss_rnode *)1)

/* A node of the timer pairing heap (embedded in a ULT). */
struct dss_tnode {
	struct dss_tnode *tn_child;
	struct dss_tnode *tn_next; /* right sibling */
	struct dss_tnode *tn_prev; /* left sibling, or the parent of a leftmost child */
	uint64_t tn_deadline;      /* d_now_ns() clock */
	uint64_t tn_seq;           /* ties fire in arming order */
};

struct dss_eventual {
	uint32_t ev_lock;  /* spinlock over everything below */
	uint32_t ev_state; /* 0, or DSS_EV_READY; futex word of plain-thread waiters */
	uint32_t ev_nr_ext;
	void *ev_value;
	d_list_t ev_waiters; /* blocked ULTs, by ult_link */
};

#define DSS_EV_READY 1U

enum dss_ult_state {
	DSS_ULT_QUEUED = 1, /* created by another thread, in the xstream's queue */
	DSS_ULT_READY,      /* in the run queue */
	DSS_ULT_RUNNING,
	DSS_ULT_BLOCKED, /* waiting: see ult_wait */
	DSS_ULT_DONE,    /* its function returned */
};

enum dss_ult_wait {
	DSS_WAIT_NONE = 0,
	DSS_WAIT_SLEEP,    /* on xs_sleepers + a timer */
	DSS_WAIT_EVENTUAL, /* on ult_wait_ev's list (under its lock) [+ a timer] */
	DSS_WAIT_MUTEX,    /* on a mutex's list */
	DSS_WAIT_COND,     /* on a condition variable's list [+ a timer] */
};

struct dss_ult {
	struct dss_xstream *ult_xs;
	dss_ult_func_t ult_func;
	void *ult_arg;
	char *ult_stack;       /* lowest usable byte; a guard page lies below */
	size_t ult_stack_size; /* usable bytes */
	bool ult_detached;
	bool ult_timer_armed;
	uint8_t ult_state; /* enum dss_ult_state */
	uint8_t ult_wait;  /* enum dss_ult_wait */
	int ult_rc;        /* what dss_ult_join returns */
	int ult_wake_rc;   /* why the last block ended: 0, -DER_TIMEDOUT, -DER_SHUTDOWN */
	/* run queue, or the list of what it waits on; empty while running */
	d_list_t ult_link;
	struct dss_eventual *ult_wait_ev; /* while DSS_WAIT_EVENTUAL */
	struct dss_ult *ult_wake_next;    /* chain of waiters an eventual set is waking */
	struct dss_rnode ult_rnode;
	struct dss_tnode ult_timer;
	struct dss_eventual ult_done; /* set when it finishes (joinable ULTs) */
#ifdef DSS_ASAN
	void *ult_asan_fake;
#endif
	struct dss_ctx ult_ctx;
};

struct dss_poller {
	d_list_t pl_link;
	dss_poll_cb_t pl_poll;
	dss_arm_cb_t pl_arm;
	void *pl_arg;
	int pl_fd;
	bool pl_dead; /* deleted during a pass; freed after it */
};

enum dss_xs_run {
	DSS_XS_NEW = 0,
	DSS_XS_RUNNING,
	DSS_XS_DONE,
};

struct dss_xstream {
	/* Written by other threads: the queue head and the wake protocol, on their own line. */
	struct dss_rnode *xs_rq __attribute__((aligned(64)));
	uint32_t xs_sleeping;  /* the loop is (about to be) in epoll: producers must kick */
	uint32_t xs_stop;      /* dss_xstream_stop was called */
	uint32_t xs_producers; /* threads inside xs_rq_push: destroy waits for them */
	uint32_t xs_run;       /* enum dss_xs_run */

	/* Owned by the xstream's thread. */
	struct dss_ctx xs_sched_ctx __attribute__((aligned(64)));
	struct dss_ult *xs_current; /* the running ULT, NULL in the loop */
	d_list_t xs_runq;
	uint32_t xs_nr_ready;
	d_list_t xs_sleepers;
	struct dss_tnode *xs_timers; /* root of the pairing heap */
	uint64_t xs_timer_seq;
	d_list_t xs_pollers;
	bool xs_polling; /* inside the pollers (poller_del defers) */
	bool xs_pollers_dead;
	bool xs_stopping; /* the loop has seen xs_stop and woken the sleepers */
	bool xs_stop_warned;
	uint64_t xs_stop_ns;
	uint64_t xs_spin_ns; /* the adaptive idle spin now (read loosely by stats) */
	bool xs_nospin;      /* dss_xstream_nospin: the next idle period sleeps at once */
	uint64_t xs_nr_ults; /* alive: ready, running or blocked */
	void *xs_stack_free; /* cached stacks, linked through their top word */

	/* Fixed at creation. */
	char xs_name[DSS_XS_NAME_MAX];
	uint64_t xs_idle_spin_ns;     /* the base spin */
	uint64_t xs_idle_spin_max_ns; /* the adaptive spin's bound */
	size_t xs_stack_size;
	uint32_t xs_stack_cache;
	int xs_evfd;
	int xs_epfd;
	pthread_t xs_thread;
	bool xs_thread_started;
	int xs_cpu; /* the CPU its thread is bound to, -1: not bound (dss_xstream_cpu_set) */

	/* Counters: written with relaxed atomics so other threads may read them. */
	uint64_t xs_st_created;
	uint64_t xs_st_switches;
	uint64_t xs_st_sleeps;
	uint64_t xs_st_nospin;
	uint64_t xs_st_remote;
	uint64_t xs_st_stacks_mapped;
	uint64_t xs_st_stacks_cached;
	uint64_t xs_st_stack_mmaps;

#ifdef DSS_ASAN
	void *xs_asan_fake;
	const void *xs_sched_stack;
	size_t xs_sched_stack_size;
#endif
};

/* The xstream of the calling thread, NULL on other threads (sched.c). */
extern __thread struct dss_xstream *dss_xs_tls;

#define DSS_STAT_ADD(xs, field, n) __atomic_fetch_add(&(xs)->field, (n), __ATOMIC_RELAXED)

/*
 * Functions shared between the files of the scheduler (prefix sched_). Unless a comment
 * says otherwise they run on the thread of the xstream they are given.
 */

/* sched.c: the loop, the cross-thread queue, stacks */
size_t sched_page_size(void);
/* Push @rn on @xs's queue and wake @xs if it sleeps. 0 or -DER_SHUTDOWN. Any thread. */
int sched_rq_push(struct dss_xstream *xs, struct dss_rnode *rn);
/* A stack of @size usable bytes, from @xs's cache if @cache. 0 or an error. */
int sched_stack_get(struct dss_xstream *xs, size_t size, bool cache, char **stack);
/* Return a stack to @xs's cache, or unmap it. */
void sched_stack_put(struct dss_xstream *xs, char *stack, size_t size);
/* Unmap a stack of @xs without caching it. Any thread. */
void sched_stack_unmap(struct dss_xstream *xs, char *stack, size_t size);

/* sched_ctx.c: the machine context switch */
/*
 * Prepare @ctx so that the first switch to it calls @entry() on the stack [@stack, @stack +
 * @size); @entry must never return. On x86_64 it starts with the ABI's initial floating-point
 * modes; with ucontext it inherits the caller's (and its signal mask).
 */
__attribute__((visibility("hidden"))) void sched_ctx_make(struct dss_ctx *ctx, char *stack,
							  size_t size, void (*entry)(void));
/*
 * Save the running context in @from and resume @to; returns when something switches back
 * to @from. No system call on x86_64 (the signal mask is the thread's, shared by its ULTs).
 */
__attribute__((visibility("hidden"))) void sched_ctx_switch(struct dss_ctx *from,
							    struct dss_ctx *to);

/* sched_ult.c: ULT life, switches, timers */
/* Prepare the context of @ult (stack already set) and make it ready. */
void sched_ult_start(struct dss_xstream *xs, struct dss_ult *ult);
/* Switch from the loop into ready @ult; back when it yields, blocks or ends (then freed). */
void sched_ult_run(struct dss_xstream *xs, struct dss_ult *ult);
/*
 * Block the running @ult, already on its wait list with ult_wait set, until woken or
 * @deadline (0 = none); returns the wake-up's rc. Context: the ULT itself.
 */
int sched_ult_block(struct dss_xstream *xs, struct dss_ult *ult, uint64_t deadline);
/* Make blocked @ult (off every wait list) ready with @rc; disarms its timer. */
void sched_ult_wake(struct dss_xstream *xs, struct dss_ult *ult, int rc);
/* Finish a ULT that never ran: free it, or complete its join with -DER_CANCELED. */
void sched_ult_cancel(struct dss_xstream *xs, struct dss_ult *ult);
/* The running ULT; asserts that there is one (@what names the caller). Any thread. */
struct dss_ult *sched_ult_current(const char *what);
/* Fire the expired timers; returns how many. */
int sched_timers_fire(struct dss_xstream *xs);

/* sched_sync.c: eventuals */
/* Initialise an embedded eventual (unset, no waiters). Any thread. */
void sched_eventual_init(struct dss_eventual *ev);
/*
 * dss_eventual_timedwait, with @wait the ult_wait to record. A ULT yields; a thread that
 * is not an xstream blocks on the futex. 0 or -DER_TIMEDOUT.
 */
int sched_eventual_wait(struct dss_eventual *ev, void **value, uint64_t deadline, uint8_t wait);
/* Take a timed-out ULT off its eventual's list: false if a set already took it. */
bool sched_eventual_unwait(struct dss_eventual *ev, struct dss_ult *ult);

#endif /* DSS_SCHED_INTERNAL_H */
