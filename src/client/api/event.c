/*
 * event.c: events and event queues of libdaos (daos_event.h), the engine every
 * asynchronous call of the client library completes through.
 *
 * An event queue (EQ) has a lock over its lists of running and completed events, an
 * eventfd that wakes threads sleeping in it, and a network context (created on first use)
 * guarded by a separate progress lock. Progress is: whoever holds the progress lock runs
 * net_progress, whose callbacks complete events; a thread finding nothing to do arms the
 * context, drops the progress lock and sleeps in epoll on the context's fd and the eventfd.
 * The process has one shared EQ (eq_shared) for the blocking calls of all its threads
 * (each thread's private event) and for events initialised without a queue: one waiting
 * thread at a time leads (progresses its context for everybody), the others sleep on a
 * futex word of their own that the completion of their event sets (eq_wait_shared).
 *
 * Invariants:
 * 1. An event's state, its list membership and its parent's child counters change only
 *    under its EQ's lock; a child always shares its parent's EQ (one lock covers both).
 * 2. A parent event is in its EQ's lists; a child is only in its parent's child list.
 * 3. Completion callbacks run without the EQ lock, exactly once per launch: the first
 *    dc_ev_complete of a running event claims them (de_completing).
 * 4. eq_net is touched only under eq_prog_lock; completions may happen in any thread,
 *    and a completion wakes sleepers (eq_waiters > 0) through eq_efd, under the EQ lock,
 *    after a sleeper registered itself under the same lock: no wake-up is lost.
 * 5. Each event holds a reference on its EQ; the handle table holds one until destroy.
 * 6. Shared EQ: eq_leader, eq_sleepers and each waiter's w_futex/w_asleep/w_epoll change
 *    under the EQ lock; a waiter clears w_futex before it checks its event, a completion
 *    sets it under the same lock (the FUTEX_WAKE follows once the lock is dropped, and
 *    FUTEX_WAIT returns at once if the word is no longer 0): no wake-up is lost. A leader
 *    leaving hands the lead to a sleeper not yet woken, and so does a woken sleeper that
 *    leaves while nobody leads.
 */
#define D_LOGFAC client

#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <daos/client.h>
#include <daos/event.h>
#include <daos/net.h>
#include <gurt/common.h>
#include <gurt/debug.h>
#include <gurt/hash.h>
#include <gurt/list.h>

#include "client_internal.h"

#define EV_MAGIC 0x45564e54u
/* Busy-polling time of a waiting thread before it sleeps (us); DAOS_EQ_SPIN_US overrides. */
#define EQ_SPIN_US_DEFAULT 1000
/* Longest sleep while another thread holds the progress lock, or with no wait fd (us). */
#define EQ_NAP_US 200
/*
 * A context without wait fd (shm) naps with a doubling back-off from this (us) to EQ_NAP_US,
 * per thread, reset by a completion, with a microsecond sleep (epoll_pwait2): a 200 us nap
 * through epoll_wait's milliseconds slept 1 ms, and 4-thread dfs metadata calls over shm
 * ran at a quarter of tcp's rate.
 */
#define EQ_SHM_NAP_MIN_US 4
/*
 * daos_eq_poll with more than one event in flight skips the busy-poll while at least
 * EQ_SPIN_SKIP_BULK bytes of bulk buffers are registered on the queue's context and the
 * queue's recent waits average more than the spin / EQ_SPIN_SKIP_DIV (250 us by default).
 */
#define EQ_SPIN_SKIP_DIV 4
#define EQ_SPIN_SKIP_BULK (4ULL << 20)
/* Longest futex sleep of a thread waiting for the shared queue's leader (us): a safety net. */
#define EQ_FOLLOW_MAX_US 100000
/* Longest epoll sleep of the shared queue's leader without a deadline (us). */
#define EQ_LEAD_SLEEP_US 1000000

/*
 * A thread waiting on the shared blocking queue (eq_wait_shared). w_futex is the word it
 * sleeps on: set to 1, under the EQ lock, when its event completes or when the lead is
 * handed to it; it sets it to 0, under the lock, before each check.
 */
struct ev_waiter {
	uint32_t w_futex;
	bool w_asleep;   /* in futex_wait: a completion must FUTEX_WAKE */
	bool w_epoll;    /* the leader, in epoll_wait: a completion writes the eventfd */
	d_list_t w_link; /* in eq_sleepers while w_asleep */
};

struct dc_eq {
	struct d_hlink eq_hlink;
	pthread_mutex_t eq_lock;
	d_list_t eq_running;
	d_list_t eq_comp;
	uint32_t eq_n_running;
	uint32_t eq_n_comp;
	uint32_t eq_waiters;
	bool eq_destroying;
	bool eq_private;
	bool eq_shared;       /* the process's blocking queue: waits through eq_wait_shared */
	bool eq_leader;       /* shared: a thread progresses the context for all its waiters */
	d_list_t eq_sleepers; /* shared: ev_waiter of the threads waiting for the leader */
	uint32_t eq_nsleepers;
	uint64_t eq_sleep_until; /* shared: when the leader's epoll sleep ends (d_now_ns) */
	int eq_efd;
	int eq_epfd;
	pthread_mutex_t eq_prog_lock;
	struct net_context *eq_net;
	d_list_t eq_all; /* ev_eqs, under ev_eqs_lock */
	/* moving average of daos_eq_poll's waits that had to progress (ns; racy, a hint) */
	uint64_t eq_poll_wait_ns;
};

struct dc_ev_cb {
	d_list_t cb_link;
	daos_event_comp_cb_t cb_fn;
	void *cb_arg;
};

struct dc_event {
	uint32_t de_magic;
	uint8_t de_state; /* daos_ev_status_t */
	uint8_t de_barrier : 1, de_errno : 1, de_completing : 1, de_internal : 1;
	struct dc_eq *de_eq;
	struct dc_event *de_parent;
	d_list_t de_link;
	d_list_t de_children;
	uint32_t de_nchild;
	uint32_t de_nchild_running;
	uint32_t de_nchild_comp;
	d_list_t de_cbs;
	dc_ev_abort_cb_t de_abort_cb;
	void *de_abort_arg;
	dc_ev_done_t de_done_fn; /* internal events: what their completion calls */
	void *de_done_arg;
	struct ev_waiter *de_waiter; /* the thread waiting for it on the shared queue */
};

_Static_assert(sizeof(struct dc_event) <= sizeof(((daos_event_t *)0)->ev_private),
	       "struct dc_event must fit in daos_event_t");

static struct d_hhash *ev_hhash;
static uint32_t ev_spin_us = EQ_SPIN_US_DEFAULT;
static pthread_mutex_t ev_cfg_lock = PTHREAD_MUTEX_INITIALIZER;
static char *ev_provider;
static char *ev_addr;

static pthread_key_t ev_thkey;
static pthread_once_t ev_thkey_once = PTHREAD_ONCE_INIT;
/* The process's blocking queue (created on first use, freed by the last daos_fini). */
static struct dc_eq *ev_beq;
static pthread_mutex_t ev_beq_lock = PTHREAD_MUTEX_INITIALIZER;
/* This thread's event for blocking calls (on ev_beq) and its waiter. */
static __thread daos_event_t ev_thpriv;
static __thread bool ev_thpriv_init;
static __thread struct ev_waiter ev_thwaiter;
/*
 * DAOS_EQ_SHARED=0: each thread waits on a blocking queue and context of its own instead
 * (the scheme before the shared queue; for comparisons): ev_theq, freed at thread exit.
 */
static bool ev_shared_on = true;
static __thread struct dc_eq *ev_theq;
/* this thread's nap on a context without wait fd (EQ_SHM_NAP_MIN_US..EQ_NAP_US; 0: reset) */
static __thread uint32_t ev_nap_us;
/* Online CPUs: the shared queue's leader spins only while waiters leave one for a server. */
static long ev_ncpu = 1;
/* A moving average of how long the shared queue's leaders waited for their own event (ns). */
static uint64_t ev_lead_wait_ns;
/* The queue whose progress lock this thread holds (callbacks run under it), if any. */
static __thread struct dc_eq *ev_prog_eq;
/* Event queues allocated and not yet freed, private ones included (dc_ev_eq_count). */
static int ev_eq_live;
/* Every queue not yet freed: the last daos_fini closes their net contexts (ev_eqs_close). */
static d_list_t ev_eqs = D_LIST_HEAD_INIT(ev_eqs);
static pthread_mutex_t ev_eqs_lock = PTHREAD_MUTEX_INITIALIZER;
/* eq_progress calls that busy-polled / that skipped it for long waits (dc_ev_spin_stats) */
static uint64_t ev_nspun;
static uint64_t ev_nspin_skipped;

struct d_hhash *
dc_hhash(void)
{
	return ev_hhash;
}

static inline struct dc_event *
ev2de(daos_event_t *ev)
{
	return (struct dc_event *)&ev->ev_private;
}

static inline daos_event_t *
de2ev(struct dc_event *de)
{
	return container_of((void *)de, daos_event_t, ev_private);
}

static void
eq_free(struct d_hlink *hlink)
{
	struct dc_eq *eq = container_of(hlink, struct dc_eq, eq_hlink);

	D_ASSERT(eq->eq_net == NULL);
	pthread_mutex_lock(&ev_eqs_lock);
	d_list_del(&eq->eq_all);
	pthread_mutex_unlock(&ev_eqs_lock);
	close(eq->eq_efd);
	close(eq->eq_epfd);
	pthread_mutex_destroy(&eq->eq_lock);
	pthread_mutex_destroy(&eq->eq_prog_lock);
	D_FREE(eq);
	__atomic_fetch_sub(&ev_eq_live, 1, __ATOMIC_RELAXED);
}

static struct d_hlink_ops eq_hlink_ops = {
    .hop_free = eq_free,
};

static void
eq_get(struct dc_eq *eq)
{
	d_hhash_link_getref(ev_hhash, &eq->eq_hlink);
}

static void
eq_put(struct dc_eq *eq)
{
	d_hhash_link_putref(ev_hhash, &eq->eq_hlink);
}

static int
eq_alloc(bool priv, struct dc_eq **eqp)
{
	struct epoll_event ee = {.events = EPOLLIN};
	struct dc_eq *eq;
	int rc;

	D_ALLOC_PTR(eq);
	if (eq == NULL)
		return -DER_NOMEM;
	eq->eq_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (eq->eq_efd < 0) {
		rc = d_errno2der(errno);
		goto out_free;
	}
	eq->eq_epfd = epoll_create1(EPOLL_CLOEXEC);
	if (eq->eq_epfd < 0) {
		rc = d_errno2der(errno);
		goto out_efd;
	}
	ee.data.fd = eq->eq_efd;
	if (epoll_ctl(eq->eq_epfd, EPOLL_CTL_ADD, eq->eq_efd, &ee) != 0) {
		rc = d_errno2der(errno);
		goto out_epfd;
	}
	pthread_mutex_init(&eq->eq_lock, NULL);
	pthread_mutex_init(&eq->eq_prog_lock, NULL);
	D_INIT_LIST_HEAD(&eq->eq_running);
	D_INIT_LIST_HEAD(&eq->eq_comp);
	eq->eq_private = priv;
	eq->eq_shared = priv;
	D_INIT_LIST_HEAD(&eq->eq_sleepers);
	d_hhash_hlink_init(&eq->eq_hlink, &eq_hlink_ops);
	d_hhash_link_insert(ev_hhash, &eq->eq_hlink, DC_HTYPE_EQ);
	pthread_mutex_lock(&ev_eqs_lock);
	d_list_add_tail(&eq->eq_all, &ev_eqs);
	pthread_mutex_unlock(&ev_eqs_lock);
	__atomic_fetch_add(&ev_eq_live, 1, __ATOMIC_RELAXED);
	*eqp = eq; /* with the caller's reference and the table's */
	return 0;

out_epfd:
	close(eq->eq_epfd);
out_efd:
	close(eq->eq_efd);
out_free:
	D_FREE(eq);
	return rc;
}

static struct dc_eq *
eq_lookup(daos_handle_t eqh)
{
	struct d_hlink *hlink;

	if (ev_hhash == NULL || d_hhash_key_type(eqh.cookie) != DC_HTYPE_EQ)
		return NULL;
	hlink = d_hhash_link_lookup(ev_hhash, eqh.cookie);
	if (hlink == NULL)
		return NULL;
	return container_of(hlink, struct dc_eq, eq_hlink);
}

/* Wake the threads sleeping in @eq. Context: under eq_lock (shared queue: the progress lock). */
static void
eq_wake_locked(struct dc_eq *eq)
{
	uint64_t one = 1;

	if (eq->eq_waiters > 0 && write(eq->eq_efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		D_ERROR("eventfd write failed: %s\n", strerror(errno));
}

static long
ev_futex(uint32_t *word, int op, uint32_t val, const struct timespec *ts)
{
	return syscall(SYS_futex, word, op, val, ts, NULL, 0);
}

/*
 * A FUTEX_WAKE this thread owes, made once it has dropped the EQ lock (ev_wake_flush): a
 * waiter woken under the lock would find it held and sleep again on the mutex. A late wake
 * of a waiter that already left (spurious for whoever waits there now) is harmless: every
 * futex waiter re-checks its word.
 */
static __thread uint32_t *ev_wake_pending;

static void
ev_wake_flush(void)
{
	uint32_t *word = ev_wake_pending;

	if (word != NULL) {
		ev_wake_pending = NULL;
		ev_futex(word, FUTEX_WAKE_PRIVATE, 1, NULL);
	}
}

/*
 * Wake @w, the thread waiting on the shared queue @eq (its event completed, or the lead is
 * handed to it): a sleeper's FUTEX_WAKE is left to ev_wake_flush, which the caller runs
 * after dropping the lock. Context: under eq_lock.
 */
static void
ev_waiter_wake_locked(struct dc_eq *eq, struct ev_waiter *w)
{
	uint64_t one = 1;

	__atomic_store_n(&w->w_futex, 1, __ATOMIC_RELEASE);
	if (w->w_asleep) {
		ev_wake_flush(); /* one pending at a time */
		ev_wake_pending = &w->w_futex;
	} else if (w->w_epoll && write(eq->eq_efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		D_ERROR("eventfd write failed: %s\n", strerror(errno));
}

/*
 * @de completed (or became reapable): wake whoever waits for it. On the shared queue only
 * its own waiter is woken (the leader completes the others' events without waking itself);
 * elsewhere every sleeper of the queue. Context: under eq_lock.
 */
static void
de_wake_locked(struct dc_eq *eq, struct dc_event *de)
{
	if (!eq->eq_shared)
		eq_wake_locked(eq);
	else if (de->de_waiter != NULL)
		ev_waiter_wake_locked(eq, de->de_waiter);
}

static void
eq_drain_efd(struct dc_eq *eq)
{
	uint64_t v;

	while (read(eq->eq_efd, &v, sizeof(v)) > 0)
		;
}

/* Close the network context of @eq: its RPCs in flight complete with -DER_CANCELED. */
static void
eq_net_close(struct dc_eq *eq)
{
	pthread_mutex_lock(&eq->eq_prog_lock);
	if (eq->eq_net != NULL) {
		net_context_destroy(eq->eq_net);
		eq->eq_net = NULL;
	}
	pthread_mutex_unlock(&eq->eq_prog_lock);
}

/*
 * Thread exit (the key destructor; TLS is still valid there): finalise the thread's private
 * event, which holds a reference on the shared queue.
 */
static void
ev_thread_exit(void *arg)
{
	struct dc_eq *eq = ev_theq;

	(void)arg;
	if (ev_thpriv_init) {
		daos_event_fini(&ev_thpriv);
		ev_thpriv_init = false;
	}
	if (eq != NULL) {
		ev_theq = NULL;
		eq_net_close(eq);
		d_hhash_link_delete(ev_hhash, &eq->eq_hlink);
		eq_put(eq);
	}
}

static void
ev_thkey_create(void)
{
	if (pthread_key_create(&ev_thkey, ev_thread_exit) != 0)
		D_ERROR("pthread_key_create failed\n");
}

/*
 * The process's blocking queue, created on first use; NULL if that fails. Every thread's
 * blocking calls and the events initialised without a queue complete through it, so one
 * network context (one thread progressing it at a time, eq_wait_shared) serves them all.
 */
static struct dc_eq *
ev_shared_eq(void)
{
	struct dc_eq *eq;

	eq = __atomic_load_n(&ev_beq, __ATOMIC_ACQUIRE);
	if (eq != NULL)
		return eq;
	pthread_mutex_lock(&ev_beq_lock);
	if (ev_beq == NULL && eq_alloc(true, &eq) == 0)
		__atomic_store_n(&ev_beq, eq, __ATOMIC_RELEASE);
	eq = ev_beq;
	pthread_mutex_unlock(&ev_beq_lock);
	return eq;
}

/* The queue of this thread's blocking calls: the shared one, or with DAOS_EQ_SHARED=0 its own. */
static struct dc_eq *
ev_blocking_eq(void)
{
	struct dc_eq *eq;

	if (ev_shared_on)
		return ev_shared_eq();
	if (ev_theq != NULL)
		return ev_theq;
	if (eq_alloc(true, &eq) != 0)
		return NULL;
	eq->eq_shared = false; /* waits through eq_progress */
	pthread_once(&ev_thkey_once, ev_thkey_create);
	pthread_setspecific(ev_thkey, eq);
	ev_theq = eq;
	return eq;
}

/* Does a thread of this process busy-poll now (eq_progress)? At most one does. */
static bool ev_spinning;

/* Set how long waiting threads busy-poll before they sleep. */
static void
ev_spin_init(void)
{
	const char *s = getenv("DAOS_EQ_SPIN_US");
	char *end;
	unsigned long v;

	ev_shared_on =
	    !(getenv("DAOS_EQ_SHARED") != NULL && strcmp(getenv("DAOS_EQ_SHARED"), "0") == 0);
	if (s == NULL)
		return;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > UINT32_MAX)
		D_WARN("ignoring DAOS_EQ_SPIN_US=%s: not a number of microseconds\n", s);
	else
		ev_spin_us = (uint32_t)v;
}

/**
 * Set up the event engine (once per daos_init reference 0 -> 1). Returns 0 or -DER_NOMEM.
 * Context: daos_init, under its lock.
 */
int
dc_ev_lib_init(void)
{
	int rc;

	if (ev_hhash == NULL) {
		rc = d_hhash_create(D_HASH_FT_MUTEX, D_HHASH_BITS, &ev_hhash);
		if (rc != 0)
			return rc;
	}
	ev_spin_init();
	ev_ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (ev_ncpu < 1)
		ev_ncpu = 1;
	return 0;
}

/**
 * Free the shared blocking queue (its context is closed; the private events of threads
 * still alive keep its memory until they exit or block again, which moves them to a new
 * queue). Queues the application did not destroy stay valid until destroyed.
 * Context: the last daos_fini, under its lock.
 */
/*
 * Close the net context of every queue still allocated (the application's, other threads'
 * private ones): a context holds a libfabric endpoint, and a shm endpoint's region
 * (/dev/shm/PID:...) is removed only when it is closed, so a queue the application did
 * not destroy (or whose daos_eq_destroy failed with -DER_BUSY) left it behind at exit. The
 * queues stay valid: their next use opens a context again. One being progressed by
 * another thread right now (its progress lock taken) is left alone: no lock order to keep
 * with the callbacks running under it.
 */
static void
ev_eqs_close(void)
{
	struct dc_eq *eq;

	pthread_mutex_lock(&ev_eqs_lock);
	d_list_for_each_entry (eq, &ev_eqs, eq_all) {
		if (pthread_mutex_trylock(&eq->eq_prog_lock) != 0)
			continue;
		if (eq->eq_net != NULL) {
			net_context_destroy(eq->eq_net);
			eq->eq_net = NULL;
		}
		pthread_mutex_unlock(&eq->eq_prog_lock);
	}
	pthread_mutex_unlock(&ev_eqs_lock);
}

void
dc_ev_lib_fini(void)
{
	struct dc_eq *eq;

	ev_thread_exit(NULL);
	ev_eqs_close();
	pthread_mutex_lock(&ev_beq_lock);
	eq = ev_beq;
	ev_beq = NULL;
	pthread_mutex_unlock(&ev_beq_lock);
	if (eq == NULL)
		return;
	pthread_mutex_lock(&eq->eq_lock);
	eq->eq_destroying = true;
	pthread_mutex_unlock(&eq->eq_lock);
	eq_net_close(eq);
	d_hhash_link_delete(ev_hhash, &eq->eq_hlink);
	eq_put(eq);
}

/** How many event queues exist (not yet freed), the threads' private ones included. */
int
dc_ev_eq_count(void)
{
	return __atomic_load_n(&ev_eq_live, __ATOMIC_RELAXED);
}

/** How many waits busy-polled and how many skipped it (daos_eq_poll's long waits). */
void
dc_ev_spin_stats(uint64_t *spun, uint64_t *skipped)
{
	*spun = __atomic_load_n(&ev_nspun, __ATOMIC_RELAXED);
	*skipped = __atomic_load_n(&ev_nspin_skipped, __ATOMIC_RELAXED);
}

/** After fork: the parent's queues and contexts are unusable here; forget them. */
void
dc_ev_lib_forget(void)
{
	/* The memory stays reachable from the handle table, which is simply replaced. */
	ev_hhash = NULL;
	ev_beq = NULL;
	ev_theq = NULL;
	pthread_mutex_init(&ev_beq_lock, NULL);
	ev_thpriv_init = false;
}

int
dc_ev_net_cfg_set(const char *provider, const char *addr)
{
	char *p = NULL;
	char *a = NULL;

	if (provider != NULL) {
		D_STRNDUP(p, provider, NET_ADDR_STR_MAX);
		if (p == NULL)
			return -DER_NOMEM;
	}
	if (addr != NULL) {
		D_STRNDUP(a, addr, NET_ADDR_STR_MAX);
		if (a == NULL) {
			D_FREE(p);
			return -DER_NOMEM;
		}
	}
	pthread_mutex_lock(&ev_cfg_lock);
	if (p != NULL) {
		D_FREE(ev_provider);
		ev_provider = p;
	}
	if (a != NULL) {
		D_FREE(ev_addr);
		ev_addr = a;
	}
	pthread_mutex_unlock(&ev_cfg_lock);
	return 0;
}

/* Create the network context of @eq. Context: under eq_prog_lock. */
static int
eq_net_open(struct dc_eq *eq)
{
	struct net_context_attr attr = {0};
	struct epoll_event ee = {.events = EPOLLIN};
	int rc;
	int fd;

	pthread_mutex_lock(&ev_cfg_lock);
	/*
	 * D_PROVIDER in the environment wins over the agent's provider: D_PROVIDER=shm makes
	 * a client on the engines' host talk to their shm listeners (DAOS_SHM=1 engines;
	 * net_peer_lookup maps their tcp URIs to the shm names).
	 */
	attr.ca_provider = getenv("D_PROVIDER");
	if (attr.ca_provider == NULL || attr.ca_provider[0] == '\0')
		attr.ca_provider = ev_provider;
	attr.ca_addr = ev_addr;
	/*
	 * A shm context reaches engines that do not serve shm here (no DAOS_SHM, another
	 * host) through a second context of the agent's provider, per engine (src/net README,
	 * "Same-host clients over shm"); D_SHM_FALLBACK=0 turns that off.
	 */
	if (attr.ca_provider != NULL && strcmp(attr.ca_provider, "shm") == 0 &&
	    (getenv("D_SHM_FALLBACK") == NULL || strcmp(getenv("D_SHM_FALLBACK"), "0") != 0))
		attr.ca_fallback = ev_provider != NULL && strcmp(ev_provider, "shm") != 0
				       ? ev_provider
				       : NET_PROVIDER_DEFAULT;
	/* Waiting threads spin here, in eq_progress; net_progress itself never sleeps. */
	rc = net_context_create(&attr, &eq->eq_net);
	pthread_mutex_unlock(&ev_cfg_lock);
	if (rc != 0) {
		D_ERROR("cannot create a client network context: " DF_RC "\n", DP_RC(rc));
		return rc;
	}
	fd = net_context_fd(eq->eq_net);
	if (fd >= 0) {
		ee.data.fd = fd;
		if (epoll_ctl(eq->eq_epfd, EPOLL_CTL_ADD, fd, &ee) != 0) {
			rc = d_errno2der(errno);
			net_context_destroy(eq->eq_net);
			eq->eq_net = NULL;
			return rc;
		}
	}
	return 0;
}

static inline bool
de_is_valid(struct dc_event *de)
{
	return de->de_magic == EV_MAGIC;
}

int
daos_event_init(daos_event_t *ev, daos_handle_t eqh, daos_event_t *parent)
{
	struct dc_event *de;
	struct dc_event *pde = NULL;
	struct dc_eq *eq;

	if (ev == NULL)
		return -DER_INVAL;
	if (!dc_lib_initialized())
		return -DER_UNINIT;
	de = ev2de(ev);
	memset(ev, 0, sizeof(*ev));

	if (parent != NULL) {
		pde = ev2de(parent);
		if (!de_is_valid(pde) || pde->de_parent != NULL)
			return -DER_INVAL;
		eq = pde->de_eq;
		eq_get(eq);
	} else if (daos_handle_is_valid(eqh)) {
		eq = eq_lookup(eqh);
		if (eq == NULL)
			return -DER_NONEXIST;
	} else {
		eq = ev_blocking_eq();
		if (eq == NULL)
			return -DER_NOMEM;
		eq_get(eq);
	}

	de->de_eq = eq;
	de->de_state = DAOS_EVS_READY;
	D_INIT_LIST_HEAD(&de->de_link);
	D_INIT_LIST_HEAD(&de->de_children);
	D_INIT_LIST_HEAD(&de->de_cbs);

	pthread_mutex_lock(&eq->eq_lock);
	if (eq->eq_destroying) {
		pthread_mutex_unlock(&eq->eq_lock);
		eq_put(eq);
		return -DER_NONEXIST;
	}
	if (pde != NULL) {
		if (pde->de_state != DAOS_EVS_READY) {
			pthread_mutex_unlock(&eq->eq_lock);
			eq_put(eq);
			return -DER_NO_PERM;
		}
		de->de_parent = pde;
		d_list_add_tail(&de->de_link, &pde->de_children);
		pde->de_nchild++;
	}
	de->de_magic = EV_MAGIC;
	pthread_mutex_unlock(&eq->eq_lock);
	return 0;
}

static void
de_free_cbs(struct dc_event *de)
{
	struct dc_ev_cb *cb;
	struct dc_ev_cb *tmp;

	d_list_for_each_entry_safe (cb, tmp, &de->de_cbs, cb_link) {
		d_list_del(&cb->cb_link);
		D_FREE(cb);
	}
}

/* Finalise @de and its children. Context: under the EQ lock. */
static int
de_fini_locked(struct dc_eq *eq, struct dc_event *de)
{
	struct dc_event *child;
	struct dc_event *tmp;
	int rc;

	if (de->de_state == DAOS_EVS_RUNNING)
		return -DER_BUSY;
	d_list_for_each_entry_safe (child, tmp, &de->de_children, de_link) {
		rc = de_fini_locked(eq, child);
		if (rc != 0)
			return rc;
	}
	if (de->de_parent != NULL) {
		d_list_del_init(&de->de_link);
		de->de_parent->de_nchild--;
		if (de->de_state == DAOS_EVS_COMPLETED || de->de_state == DAOS_EVS_ABORTED)
			de->de_parent->de_nchild_comp--;
	} else if (!d_list_empty(&de->de_link)) {
		/* completed, never polled out */
		D_ASSERT(eq->eq_n_comp > 0);
		d_list_del_init(&de->de_link);
		eq->eq_n_comp--;
	}
	de_free_cbs(de);
	de->de_magic = 0;
	/* The reference on eq is dropped by the caller once the lock is released. */
	return 0;
}

static uint32_t
de_count(struct dc_event *de)
{
	struct dc_event *child;
	uint32_t n = 1;

	d_list_for_each_entry (child, &de->de_children, de_link)
		n += de_count(child);
	return n;
}

int
daos_event_fini(daos_event_t *ev)
{
	struct dc_event *de;
	struct dc_eq *eq;
	uint32_t n;
	int rc;

	if (ev == NULL)
		return -DER_INVAL;
	de = ev2de(ev);
	if (!de_is_valid(de))
		return -DER_INVAL;
	eq = de->de_eq;
	pthread_mutex_lock(&eq->eq_lock);
	n = de_count(de);
	rc = de_fini_locked(eq, de);
	pthread_mutex_unlock(&eq->eq_lock);
	if (rc != 0)
		return rc;
	while (n-- > 0)
		eq_put(eq);
	return 0;
}

daos_event_t *
daos_event_next(daos_event_t *parent, daos_event_t *child)
{
	struct dc_event *pde;
	struct dc_event *cde;

	if (parent == NULL)
		return NULL;
	pde = ev2de(parent);
	if (!de_is_valid(pde))
		return NULL;
	if (child == NULL) {
		if (d_list_empty(&pde->de_children))
			return NULL;
		return de2ev(d_list_entry(pde->de_children.next, struct dc_event, de_link));
	}
	cde = ev2de(child);
	if (cde->de_link.next == &pde->de_children)
		return NULL;
	return de2ev(d_list_entry(cde->de_link.next, struct dc_event, de_link));
}

int
daos_event_register_comp_cb(struct daos_event *ev, daos_event_comp_cb_t cb, void *arg)
{
	struct dc_event *de;
	struct dc_ev_cb *ecb;

	if (ev == NULL || cb == NULL)
		return -DER_INVAL;
	de = ev2de(ev);
	if (!de_is_valid(de))
		return -DER_INVAL;
	D_ALLOC_PTR(ecb);
	if (ecb == NULL)
		return -DER_NOMEM;
	ecb->cb_fn = cb;
	ecb->cb_arg = arg;
	pthread_mutex_lock(&de->de_eq->eq_lock);
	d_list_add_tail(&ecb->cb_link, &de->de_cbs);
	pthread_mutex_unlock(&de->de_eq->eq_lock);
	return 0;
}

void
dc_ev_errno_rc(daos_event_t *ev)
{
	ev2de(ev)->de_errno = 1;
}

void
dc_ev_set_abort(daos_event_t *ev, dc_ev_abort_cb_t cb, void *arg)
{
	struct dc_event *de = ev2de(ev);

	pthread_mutex_lock(&de->de_eq->eq_lock);
	de->de_abort_cb = cb;
	de->de_abort_arg = arg;
	pthread_mutex_unlock(&de->de_eq->eq_lock);
}

/* Mark @de completed with @rc and account for it. Context: under the EQ lock. */
static void
de_done_locked(struct dc_eq *eq, struct dc_event *de, int rc)
{
	daos_event_t *ev = de2ev(de);

	ev->ev_error = de->de_errno && rc < 0 ? d_der2errno(rc) : rc;
	de->de_state = DAOS_EVS_COMPLETED;
	de->de_completing = 0;
	de->de_abort_cb = NULL;
	if (de->de_internal)
		return;
	if (de->de_parent != NULL) {
		struct dc_event *pde = de->de_parent;

		D_ASSERT(pde->de_nchild_running > 0);
		pde->de_nchild_running--;
		pde->de_nchild_comp++;
		if (de2ev(pde)->ev_error == 0)
			de2ev(pde)->ev_error = ev->ev_error;
		/* a running parent still waiting for children becomes reapable: wake */
		de_wake_locked(eq, pde);
		return;
	}
	d_list_move_tail(&de->de_link, &eq->eq_comp);
	D_ASSERT(eq->eq_n_running > 0);
	eq->eq_n_running--;
	eq->eq_n_comp++;
	de_wake_locked(eq, de);
}

/*
 * Claim the completion of a running @de (false if it is not running or already being
 * completed) and take its callbacks into @cbs. Context: under the EQ lock.
 */
static bool
de_claim_locked(struct dc_event *de, d_list_t *cbs)
{
	if (de->de_state != DAOS_EVS_RUNNING || de->de_completing)
		return false;
	de->de_completing = 1;
	d_list_splice_init(&de->de_cbs, cbs);
	return true;
}

static int
de_run_cbs(struct dc_event *de, d_list_t *cbs, int rc)
{
	struct dc_ev_cb *ecb;
	struct dc_ev_cb *tmp;
	int ret = rc;
	int err;

	d_list_for_each_entry_safe (ecb, tmp, cbs, cb_link) {
		d_list_del(&ecb->cb_link);
		err = ecb->cb_fn(ecb->cb_arg, de2ev(de), rc);
		if (ret == 0)
			ret = err;
		D_FREE(ecb);
	}
	return ret;
}

void
dc_ev_complete(daos_event_t *ev, int rc)
{
	struct dc_event *de = ev2de(ev);
	struct dc_eq *eq = de->de_eq;
	d_list_t cbs;

	D_ASSERT(de_is_valid(de));
	while (de != NULL) {
		struct dc_event *pde;

		D_INIT_LIST_HEAD(&cbs);
		pthread_mutex_lock(&eq->eq_lock);
		if (!de_claim_locked(de, &cbs)) {
			pthread_mutex_unlock(&eq->eq_lock);
			return;
		}
		if (!d_list_empty(&cbs)) {
			/* callbacks run without the lock (invariant 3); else one lock hold */
			pthread_mutex_unlock(&eq->eq_lock);
			rc = de_run_cbs(de, &cbs, rc);
			pthread_mutex_lock(&eq->eq_lock);
		}
		de_done_locked(eq, de, rc);
		if (de->de_internal) {
			dc_ev_done_t fn = de->de_done_fn;
			void *arg = de->de_done_arg;

			rc = de2ev(de)->ev_error;
			pthread_mutex_unlock(&eq->eq_lock);
			ev_wake_flush();
			/* may finalise and free the event: nothing touches it after */
			fn(arg, de2ev(de), rc);
			return;
		}
		/* The last child of a launched barrier parent completes it. */
		pde = de->de_parent;
		if (pde != NULL && pde->de_barrier && pde->de_state == DAOS_EVS_RUNNING &&
		    pde->de_nchild_comp == pde->de_nchild) {
			rc = de2ev(pde)->ev_error;
			de = pde;
		} else {
			de = NULL;
		}
		pthread_mutex_unlock(&eq->eq_lock);
		ev_wake_flush();
	}
}

/* Launch @de. Context: under the EQ lock. */
static int
de_launch_locked(struct dc_eq *eq, struct dc_event *de)
{
	if (eq->eq_destroying)
		return -DER_NONEXIST;
	if (de->de_state != DAOS_EVS_READY)
		return -DER_NO_PERM;
	if (de->de_nchild != de->de_nchild_running + de->de_nchild_comp) {
		D_ERROR("launch every child event before the parent\n");
		return -DER_NO_PERM;
	}
	de2ev(de)->ev_error = 0;
	de->de_state = DAOS_EVS_RUNNING;
	if (de->de_internal)
		return 0; /* in no list: its completion calls its done function */
	if (de->de_parent != NULL) {
		de->de_parent->de_nchild_running++;
		return 0;
	}
	d_list_add_tail(&de->de_link, &eq->eq_running);
	eq->eq_n_running++;
	return 0;
}

int
daos_event_parent_barrier(struct daos_event *ev)
{
	struct dc_event *de;
	struct dc_eq *eq;
	bool done;
	int rc;

	if (ev == NULL)
		return -DER_INVAL;
	de = ev2de(ev);
	if (!de_is_valid(de))
		return -DER_INVAL;
	eq = de->de_eq;
	pthread_mutex_lock(&eq->eq_lock);
	if (de->de_nchild == 0) {
		pthread_mutex_unlock(&eq->eq_lock);
		return -DER_INVAL;
	}
	rc = de_launch_locked(eq, de);
	if (rc == 0)
		de->de_barrier = 1;
	done = rc == 0 && de->de_nchild_comp == de->de_nchild;
	pthread_mutex_unlock(&eq->eq_lock);
	if (done)
		dc_ev_complete(ev, ev->ev_error);
	return rc;
}

int
dc_ev_init_internal(daos_event_t *iev, daos_event_t *ev, dc_ev_done_t done, void *arg)
{
	struct dc_event *de = ev2de(iev);
	struct dc_event *ude = ev2de(ev);
	struct dc_eq *eq;

	if (!de_is_valid(ude) || done == NULL)
		return -DER_INVAL;
	eq = ude->de_eq;
	memset(iev, 0, sizeof(*iev));
	eq_get(eq);
	de->de_eq = eq;
	de->de_state = DAOS_EVS_READY;
	de->de_internal = 1;
	de->de_done_fn = done;
	de->de_done_arg = arg;
	D_INIT_LIST_HEAD(&de->de_link);
	D_INIT_LIST_HEAD(&de->de_children);
	D_INIT_LIST_HEAD(&de->de_cbs);
	de->de_magic = EV_MAGIC;
	return 0;
}

void
dc_ev_internal_check(daos_event_t *iev, int rc)
{
	struct dc_event *de = ev2de(iev);

	/* an operation given an event returns non-zero only when it did not launch it */
	if (rc != 0)
		de->de_done_fn(de->de_done_arg, iev, rc);
}

int
dc_ev_begin(daos_event_t *ev, daos_event_t **priv)
{
	struct dc_event *de;
	struct dc_eq *eq;
	int rc;

	*priv = NULL;
	if (!dc_lib_initialized())
		return -DER_UNINIT;
	if (ev == NULL) {
		if (ev_thpriv_init && ev_shared_on && ev2de(&ev_thpriv)->de_eq != ev_beq &&
		    ev2de(&ev_thpriv)->de_state == DAOS_EVS_READY) {
			/* made before a daos_fini: move to the current shared queue */
			daos_event_fini(&ev_thpriv);
			ev_thpriv_init = false;
		}
		if (!ev_thpriv_init) {
			rc = daos_event_init(&ev_thpriv, DAOS_HDL_INVAL, NULL);
			if (rc != 0)
				return rc;
			ev_thpriv_init = true;
			pthread_once(&ev_thkey_once, ev_thkey_create);
			pthread_setspecific(ev_thkey, &ev_thpriv);
		}
		if (ev2de(&ev_thpriv)->de_state != DAOS_EVS_READY) {
			/* a blocking call from inside a completion callback of this thread */
			D_ERROR("nested blocking call on one thread\n");
			return -DER_BUSY;
		}
		ev = &ev_thpriv;
		*priv = ev;
	}
	de = ev2de(ev);
	if (!de_is_valid(de))
		return -DER_INVAL;
	eq = de->de_eq;
	pthread_mutex_lock(&eq->eq_lock);
	rc = de_launch_locked(eq, de);
	pthread_mutex_unlock(&eq->eq_lock);
	return rc;
}

/*
 * One round of progress on @eq for at most @timeout_us (0: one pass): run the network
 * context, or sleep until a completion (or the timeout) if there is nothing to run.
 * Context: any thread; not under the EQ lock.
 */
/*
 * Are large bulk transfers in flight on @eq's context? Their completions come far apart
 * whatever the load, whereas small requests' waits grow long only when the machine is
 * loaded, and sleeping then would make them longer still. Context: under eq_prog_lock.
 */
static bool
eq_bulk_heavy(struct dc_eq *eq)
{
	struct net_stats st;

	net_context_stats(eq->eq_net, &st);
	return st.ns_bulk_bytes >= EQ_SPIN_SKIP_BULK;
}

/*
 * @long_waits: the caller (daos_eq_poll) has several events in flight and its recent
 * waits were long: no busy-poll if bulk transfers are heavy too.
 */
static void
eq_progress(struct dc_eq *eq, uint64_t timeout_us, bool long_waits)
{
	struct epoll_event ees[2];
	uint64_t start = d_now_ns();
	uint64_t spin_ns = (uint64_t)ev_spin_us * 1000;
	uint64_t sleep_us = timeout_us;
	bool can_sleep = true;
	bool fine = false;
	int n;

	if (ev_prog_eq == eq) {
		/* from a completion callback: the caller is progressing already */
		return;
	}
	if (pthread_mutex_trylock(&eq->eq_prog_lock) == 0) {
		if (eq->eq_net != NULL) {
			/*
			 * One thread of the process spins at a time: with many threads each
			 * spinning, a small machine has no core left for the server that is to
			 * answer them (16 threads on 2 cores: 10x fewer operations).
			 */
			bool skip =
			    long_waits && spin_ns > 0 && timeout_us > 0 && eq_bulk_heavy(eq);
			bool spinner = !skip && spin_ns > 0 && timeout_us > 0 &&
				       !__atomic_exchange_n(&ev_spinning, true, __ATOMIC_ACQUIRE);

			if (!spinner)
				spin_ns = 0;
			if (spinner)
				__atomic_fetch_add(&ev_nspun, 1, __ATOMIC_RELAXED);
			else if (skip)
				__atomic_fetch_add(&ev_nspin_skipped, 1, __ATOMIC_RELAXED);
			do {
				ev_prog_eq = eq;
				n = net_progress(eq->eq_net, 0);
				ev_prog_eq = NULL;
				if (n != 0 || eq->eq_n_comp > 0 || timeout_us == 0) {
					if (n != 0 || eq->eq_n_comp > 0)
						ev_nap_us = 0;
					if (spinner)
						__atomic_store_n(&ev_spinning, false,
								 __ATOMIC_RELEASE);
					pthread_mutex_unlock(&eq->eq_prog_lock);
					return;
				}
				/* let a server thread sharing this core run (2 cores here) */
				sched_yield();
			} while (d_now_ns() - start < spin_ns &&
				 d_now_ns() - start < timeout_us * 1000);
			if (spinner)
				__atomic_store_n(&ev_spinning, false, __ATOMIC_RELEASE);
			if (net_context_fd(eq->eq_net) < 0) {
				ev_nap_us = ev_nap_us == 0              ? EQ_SHM_NAP_MIN_US
					    : ev_nap_us * 2 > EQ_NAP_US ? EQ_NAP_US
									: ev_nap_us * 2;
				sleep_us = ev_nap_us;
				fine = true;
			} else if (net_context_arm(eq->eq_net) != 0) {
				can_sleep = false;
			} else {
				uint64_t dl = net_context_deadline(eq->eq_net);
				uint64_t now = d_now_ns();

				if (dl != 0)
					sleep_us = dl > now ? (dl - now) / 1000 + 1 : 0;
			}
		}
		pthread_mutex_unlock(&eq->eq_prog_lock);
	} else {
		/* another thread is progressing: nap, it wakes us on completions */
		sleep_us = EQ_NAP_US;
	}
	if (!can_sleep || timeout_us == 0)
		return;
	if (sleep_us > timeout_us)
		sleep_us = timeout_us;

	pthread_mutex_lock(&eq->eq_lock);
	if (eq->eq_n_comp > 0) {
		pthread_mutex_unlock(&eq->eq_lock);
		return;
	}
	eq->eq_waiters++;
	pthread_mutex_unlock(&eq->eq_lock);

	n = -1;
	if (fine && sleep_us < 1000) {
		struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)sleep_us * 1000};

		n = epoll_pwait2(eq->eq_epfd, ees, 2, &ts, NULL);
	}
	if (n < 0 && !(fine && sleep_us < 1000 && errno != ENOSYS))
		n = epoll_wait(eq->eq_epfd, ees, 2,
			       sleep_us > INT32_MAX / 1000 ? INT32_MAX
							   : (int)((sleep_us + 999) / 1000));
	(void)n;
	eq_drain_efd(eq);

	pthread_mutex_lock(&eq->eq_lock);
	eq->eq_waiters--;
	pthread_mutex_unlock(&eq->eq_lock);
}

/* Reap @de if it has completed with no child still running. Context: under the EQ lock. */
static bool
de_reap_locked(struct dc_eq *eq, struct dc_event *de)
{
	if (de->de_state != DAOS_EVS_COMPLETED && de->de_state != DAOS_EVS_ABORTED)
		return false;
	if (de->de_nchild_running > 0)
		return false;
	D_ASSERT(eq->eq_n_comp > 0);
	d_list_del_init(&de->de_link);
	eq->eq_n_comp--;
	de->de_state = DAOS_EVS_READY;
	return true;
}

static uint64_t
us_left(uint64_t deadline_ns)
{
	uint64_t now = d_now_ns();

	return deadline_ns > now ? (deadline_ns - now + 999) / 1000 : 0;
}

/*
 * The leader of the shared queue @eq: progress its context for every waiting thread until
 * its own waiter @w is woken (its event completed) or @deadline (d_now_ns; 0: none). It
 * busy-polls (yielding) for at most ev_spin_us, unless leaders recently waited more than
 * twice that for their own events (ev_lead_wait_ns), and only while the waiting threads leave a
 * core free for a server (a leader alone on two cores spins; with more waiters it sleeps at
 * once: they are the ones whose replies keep it busy). Then it arms the context and sleeps
 * in epoll on its fd and the eventfd, never past the next RPC deadline. The progress lock
 * is held only during a pass, so other threads send meanwhile (dc_ev_net_exec).
 * Context: not under the EQ lock; eq_leader set by the caller.
 */
static void
eq_lead(struct dc_eq *eq, struct ev_waiter *w, uint64_t deadline)
{
	struct epoll_event ees[2];
	uint64_t start = d_now_ns();
	uint64_t spin_ns = (uint64_t)ev_spin_us * 1000;
	uint64_t avg = __atomic_load_n(&ev_lead_wait_ns, __ATOMIC_RELAXED);
	uint64_t now;
	uint64_t until;
	uint64_t dl;
	bool fine;
	int n;

	/* replies usually far beyond the spin (a durable update on a busy disk): sleep at once */
	if (avg > 2 * spin_ns)
		spin_ns = 0;
	for (;;) {
		if (__atomic_load_n(&w->w_futex, __ATOMIC_ACQUIRE) != 0) {
			now = d_now_ns() - start;
			/* racy read-modify-write between leaders: a rough average is enough */
			__atomic_store_n(&ev_lead_wait_ns, avg - avg / 8 + now / 8,
					 __ATOMIC_RELAXED);
			return;
		}
		until = deadline != 0 ? deadline : 0;
		pthread_mutex_lock(&eq->eq_prog_lock);
		if (eq->eq_net != NULL) {
			ev_prog_eq = eq;
			n = net_progress(eq->eq_net, 0);
			ev_prog_eq = NULL;
			if (n != 0 || __atomic_load_n(&w->w_futex, __ATOMIC_ACQUIRE) != 0) {
				ev_nap_us = 0;
				pthread_mutex_unlock(&eq->eq_prog_lock);
				continue;
			}
		}
		now = d_now_ns();
		if (deadline != 0 && now >= deadline) {
			pthread_mutex_unlock(&eq->eq_prog_lock);
			return;
		}
		if (eq->eq_net != NULL && now - start < spin_ns &&
		    (long)__atomic_load_n(&eq->eq_nsleepers, __ATOMIC_RELAXED) + 2 <= ev_ncpu) {
			pthread_mutex_unlock(&eq->eq_prog_lock);
			/* let a server thread sharing this core run */
			sched_yield();
			continue;
		}
		if (until == 0 || until > now + EQ_LEAD_SLEEP_US * 1000ULL)
			until = now + EQ_LEAD_SLEEP_US * 1000ULL;
		fine = false;
		if (eq->eq_net != NULL) {
			if (net_context_fd(eq->eq_net) < 0) {
				ev_nap_us = ev_nap_us == 0              ? EQ_SHM_NAP_MIN_US
					    : ev_nap_us * 2 > EQ_NAP_US ? EQ_NAP_US
									: ev_nap_us * 2;
				if (until > now + ev_nap_us * 1000ULL)
					until = now + ev_nap_us * 1000ULL;
				fine = true;
			} else if (net_context_arm(eq->eq_net) != 0) {
				pthread_mutex_unlock(&eq->eq_prog_lock);
				continue;
			} else {
				dl = net_context_deadline(eq->eq_net);
				if (dl != 0 && dl < until)
					until = dl > now ? dl : now;
			}
		}
		pthread_mutex_lock(&eq->eq_lock);
		if (__atomic_load_n(&w->w_futex, __ATOMIC_ACQUIRE) != 0) {
			pthread_mutex_unlock(&eq->eq_lock);
			pthread_mutex_unlock(&eq->eq_prog_lock);
			continue;
		}
		w->w_epoll = true;
		__atomic_fetch_add(&eq->eq_waiters, 1, __ATOMIC_RELAXED);
		eq->eq_sleep_until = until;
		pthread_mutex_unlock(&eq->eq_lock);
		pthread_mutex_unlock(&eq->eq_prog_lock);

		if (until > now && fine && until - now < D_NSEC_PER_SEC) {
			struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)(until - now)};

			if (epoll_pwait2(eq->eq_epfd, ees, 2, &ts, NULL) < 0 && errno == ENOSYS)
				(void)epoll_wait(eq->eq_epfd, ees, 2, 1);
		} else if (until > now) {
			(void)epoll_wait(eq->eq_epfd, ees, 2,
					 (int)((until - now + 999999) / 1000000));
		}
		eq_drain_efd(eq);

		pthread_mutex_lock(&eq->eq_lock);
		w->w_epoll = false;
		__atomic_fetch_sub(&eq->eq_waiters, 1, __ATOMIC_RELAXED);
		pthread_mutex_unlock(&eq->eq_lock);
	}
}

/* Hand the lead of the shared @eq to a waiting thread not yet woken. Context: eq_lock. */
static void
eq_handoff_locked(struct dc_eq *eq)
{
	struct ev_waiter *w;

	d_list_for_each_entry (w, &eq->eq_sleepers, w_link) {
		if (__atomic_load_n(&w->w_futex, __ATOMIC_RELAXED) == 0) {
			ev_waiter_wake_locked(eq, w);
			return;
		}
	}
}

/*
 * Wait on the shared queue @eq until @de completes (reaped: true) or @deadline (d_now_ns;
 * 0: none; false). One waiting thread at a time leads (eq_lead): it progresses the context
 * and its callbacks complete the others' events, each of which wakes only its own waiter
 * (futex). The others sleep on their futex word. A leader whose event completed hands the
 * lead to a waiter whose event has not. Context: not under the EQ lock.
 */
static bool
eq_wait_shared(struct dc_eq *eq, struct dc_event *de, uint64_t deadline)
{
	struct ev_waiter *w = &ev_thwaiter;
	bool handed = false; /* this thread led and handed the lead on */
	struct timespec ts;
	uint64_t wait_ns;
	uint64_t now;
	bool done;

	pthread_mutex_lock(&eq->eq_lock);
	for (;;) {
		if (de_reap_locked(eq, de)) {
			done = true;
			break;
		}
		now = d_now_ns();
		if (deadline != 0 && now >= deadline) {
			done = false;
			break;
		}
		w->w_futex = 0;
		de->de_waiter = w;
		if (!eq->eq_leader && ev_prog_eq != eq) {
			eq->eq_leader = true;
			pthread_mutex_unlock(&eq->eq_lock);
			ev_wake_flush();
			eq_lead(eq, w, deadline);
			pthread_mutex_lock(&eq->eq_lock);
			eq->eq_leader = false;
			eq_handoff_locked(eq);
			handed = true;
			continue;
		}
		/* another thread leads (or this one, from a callback: no progress possible) */
		handed = false;
		w->w_asleep = true;
		d_list_add_tail(&w->w_link, &eq->eq_sleepers);
		eq->eq_nsleepers++;
		pthread_mutex_unlock(&eq->eq_lock);
		ev_wake_flush();
		wait_ns = EQ_FOLLOW_MAX_US * 1000ULL;
		if (deadline != 0 && deadline - now < wait_ns)
			wait_ns = deadline - now;
		ts.tv_sec = (time_t)(wait_ns / 1000000000ULL);
		ts.tv_nsec = (long)(wait_ns % 1000000000ULL);
		(void)ev_futex(&w->w_futex, FUTEX_WAIT_PRIVATE, 0, &ts);
		pthread_mutex_lock(&eq->eq_lock);
		w->w_asleep = false;
		d_list_del(&w->w_link);
		eq->eq_nsleepers--;
	}
	de->de_waiter = NULL;
	/* woken for the lead (a hand-off) just as its event completed: pass it on */
	if (!eq->eq_leader && !handed)
		eq_handoff_locked(eq);
	pthread_mutex_unlock(&eq->eq_lock);
	ev_wake_flush();
	return done;
}

int
dc_ev_end(daos_event_t *ev, daos_event_t *priv)
{
	struct dc_event *de;

	if (priv == NULL)
		return 0;
	(void)ev;
	de = ev2de(priv);
	if (de->de_eq->eq_shared) {
		eq_wait_shared(de->de_eq, de, 0);
		return priv->ev_error;
	}
	for (;;) {
		struct dc_eq *eq = de->de_eq;

		pthread_mutex_lock(&eq->eq_lock);
		if (de_reap_locked(eq, de)) {
			pthread_mutex_unlock(&eq->eq_lock);
			return priv->ev_error;
		}
		pthread_mutex_unlock(&eq->eq_lock);
		eq_progress(eq, 1000000, false);
	}
}

int
daos_event_test(struct daos_event *ev, int64_t timeout, bool *flag)
{
	struct dc_event *de;
	struct dc_eq *eq;
	uint64_t deadline = 0;
	bool done;

	if (ev == NULL || flag == NULL)
		return -DER_INVAL;
	de = ev2de(ev);
	if (!de_is_valid(de))
		return -DER_INVAL;
	if (de->de_parent != NULL)
		return -DER_NO_PERM;
	eq = de->de_eq;
	if (timeout > 0)
		deadline = d_now_ns() + (uint64_t)timeout * 1000;
	for (;;) {
		pthread_mutex_lock(&eq->eq_lock);
		done = de->de_state == DAOS_EVS_READY || de_reap_locked(eq, de);
		pthread_mutex_unlock(&eq->eq_lock);
		if (done || timeout == DAOS_EQ_NOWAIT)
			break;
		if (eq->eq_shared) {
			done = eq_wait_shared(eq, de, deadline);
			break;
		}
		if (timeout > 0 && us_left(deadline) == 0)
			break;
		eq_progress(eq, timeout < 0 ? 1000000 : us_left(deadline), false);
	}
	if (!done && timeout == DAOS_EQ_NOWAIT) {
		eq_progress(eq, 0, false);
		pthread_mutex_lock(&eq->eq_lock);
		done = de->de_state == DAOS_EVS_READY || de_reap_locked(eq, de);
		pthread_mutex_unlock(&eq->eq_lock);
	}
	*flag = done;
	return 0;
}

int
daos_event_abort(daos_event_t *ev)
{
	struct dc_event *de;
	struct dc_eq *eq;
	dc_ev_abort_cb_t cb;
	void *arg;

	if (ev == NULL)
		return -DER_INVAL;
	de = ev2de(ev);
	if (!de_is_valid(de))
		return -DER_INVAL;
	eq = de->de_eq;
	pthread_mutex_lock(&eq->eq_lock);
	if (de->de_state != DAOS_EVS_RUNNING) {
		pthread_mutex_unlock(&eq->eq_lock);
		return 0;
	}
	cb = de->de_abort_cb;
	arg = de->de_abort_arg;
	pthread_mutex_unlock(&eq->eq_lock);
	if (cb != NULL)
		cb(ev, arg);
	else
		dc_ev_complete(ev, -DER_CANCELED);
	return 0;
}

int
dc_ev_net_exec(daos_event_t *ev, int (*fn)(struct net_context *ctx, void *arg), void *arg)
{
	struct dc_eq *eq = ev2de(ev)->de_eq;
	int rc = 0;

	if (ev_prog_eq == eq) /* from a callback run by this queue's progress */
		return fn(eq->eq_net, arg);
	pthread_mutex_lock(&eq->eq_prog_lock);
	if (eq->eq_net == NULL)
		rc = eq_net_open(eq);
	if (rc == 0)
		rc = fn(eq->eq_net, arg);
	if (eq->eq_shared) {
		uint64_t dl = rc == 0 ? net_context_deadline(eq->eq_net) : 0;

		/*
		 * The sleeping leader wakes by itself when the context's fd has something
		 * (the send's completion, the reply); it must be woken only if it would
		 * sleep past the deadline of this new RPC.
		 */
		/*
		 * No EQ lock needed: the leader sets eq_waiters and eq_sleep_until under the
		 * progress lock too (held here); a count it lowered since only costs a
		 * needless eventfd write.
		 */
		if (__atomic_load_n(&eq->eq_waiters, __ATOMIC_RELAXED) > 0 && dl != 0 &&
		    dl < eq->eq_sleep_until)
			eq_wake_locked(eq);
		pthread_mutex_unlock(&eq->eq_prog_lock);
		return rc;
	}
	pthread_mutex_unlock(&eq->eq_prog_lock);
	/* A sleeper must re-run progress: sends may wait in the context for it. */
	pthread_mutex_lock(&eq->eq_lock);
	eq_wake_locked(eq);
	pthread_mutex_unlock(&eq->eq_lock);
	return rc;
}

int
daos_eq_create(daos_handle_t *eqh)
{
	struct dc_eq *eq;
	int rc;

	if (eqh == NULL)
		return -DER_INVAL;
	if (!dc_lib_initialized())
		return -DER_UNINIT;
	rc = eq_alloc(false, &eq);
	if (rc != 0)
		return rc;
	d_hhash_link_key(&eq->eq_hlink, &eqh->cookie);
	eq_put(eq);
	return 0;
}

int
daos_eq_destroy(daos_handle_t eqh, int flags)
{
	struct dc_event *de;
	struct dc_event *tmp;
	struct dc_eq *eq;

	eq = eq_lookup(eqh);
	if (eq == NULL || eq->eq_private) {
		if (eq != NULL)
			eq_put(eq);
		return -DER_NONEXIST;
	}
	pthread_mutex_lock(&eq->eq_lock);
	if (eq->eq_destroying) {
		pthread_mutex_unlock(&eq->eq_lock);
		eq_put(eq);
		return -DER_NONEXIST;
	}
	if ((eq->eq_n_running > 0 || eq->eq_n_comp > 0) && !(flags & DAOS_EQ_DESTROY_FORCE)) {
		pthread_mutex_unlock(&eq->eq_lock);
		eq_put(eq);
		return -DER_BUSY;
	}
	eq->eq_destroying = true;
	pthread_mutex_unlock(&eq->eq_lock);

	/* Forced: running operations are aborted, then their RPCs cancelled. */
	for (;;) {
		daos_event_t *ev = NULL;

		pthread_mutex_lock(&eq->eq_lock);
		d_list_for_each_entry (de, &eq->eq_running, de_link) {
			if (!de->de_completing) {
				ev = de2ev(de);
				break;
			}
		}
		pthread_mutex_unlock(&eq->eq_lock);
		if (ev == NULL)
			break;
		daos_event_abort(ev);
		dc_ev_complete(ev, -DER_CANCELED);
	}
	eq_net_close(eq);

	pthread_mutex_lock(&eq->eq_lock);
	d_list_for_each_entry_safe (de, tmp, &eq->eq_comp, de_link) {
		d_list_del_init(&de->de_link);
		de->de_state = DAOS_EVS_READY;
		eq->eq_n_comp--;
	}
	pthread_mutex_unlock(&eq->eq_lock);

	d_hhash_link_delete(ev_hhash, &eq->eq_hlink);
	eq_put(eq);
	return 0;
}

/* Fold a wait of daos_eq_poll on @eq that had to progress into its moving average. */
static void
eq_poll_wait_note(struct dc_eq *eq, uint64_t ns)
{
	uint64_t avg = __atomic_load_n(&eq->eq_poll_wait_ns, __ATOMIC_RELAXED);

	/* racy read-modify-write between pollers of one queue: a rough average is enough */
	__atomic_store_n(&eq->eq_poll_wait_ns, avg - avg / 8 + ns / 8, __ATOMIC_RELAXED);
}

int
daos_eq_poll(daos_handle_t eqh, int wait_running, int64_t timeout, unsigned int nevents,
	     daos_event_t **events)
{
	struct dc_event *de;
	struct dc_event *tmp;
	struct dc_eq *eq;
	uint64_t deadline = 0;
	uint64_t wait_start = 0;
	bool long_waits;
	int count = 0;

	if (nevents == 0 || events == NULL)
		return -DER_INVAL;
	eq = eq_lookup(eqh);
	if (eq == NULL)
		return -DER_NONEXIST;
	if (timeout > 0)
		deadline = d_now_ns() + (uint64_t)timeout * 1000;
	for (bool first = true;; first = false) {
		pthread_mutex_lock(&eq->eq_lock);
		d_list_for_each_entry_safe (de, tmp, &eq->eq_comp, de_link) {
			if (de_reap_locked(eq, de)) {
				events[count++] = de2ev(de);
				if (count == (int)nevents)
					break;
			}
		}
		if (count > 0 || eq->eq_destroying ||
		    (wait_running && eq->eq_n_running == 0 && eq->eq_n_comp == 0)) {
			pthread_mutex_unlock(&eq->eq_lock);
			break;
		}
		/*
		 * No busy-poll with several events in flight whose waits were long and large
		 * bulk transfers among them (eq_progress checks that): 1 MiB transfers at a
		 * high depth complete every few hundred us, the spin would burn the core
		 * the server needs, and an epoll wake-up (~30 us) is hidden by the other
		 * requests in flight. One event in flight (a latency-bound caller) or short
		 * waits: it spins.
		 */
		long_waits =
		    eq->eq_n_running > 1 &&
		    __atomic_load_n(&eq->eq_poll_wait_ns, __ATOMIC_RELAXED) * EQ_SPIN_SKIP_DIV >
			(uint64_t)ev_spin_us * 1000;
		pthread_mutex_unlock(&eq->eq_lock);
		if (!first && timeout >= 0 && us_left(deadline) == 0)
			break;
		if (timeout != 0 && wait_start == 0)
			wait_start = d_now_ns();
		eq_progress(eq,
			    timeout < 0    ? 1000000
			    : timeout == 0 ? 0
					   : us_left(deadline),
			    long_waits);
		if (timeout == 0 && !first)
			break;
	}
	if (wait_start != 0)
		eq_poll_wait_note(eq, d_now_ns() - wait_start);
	eq_put(eq);
	return count;
}

int
daos_eq_query(daos_handle_t eqh, daos_eq_query_t query, unsigned int nevents, daos_event_t **events)
{
	struct dc_event *de;
	struct dc_eq *eq;
	unsigned int count = 0;

	if ((query & DAOS_EQR_ALL) == 0 || (nevents > 0 && events == NULL))
		return -DER_INVAL;
	eq = eq_lookup(eqh);
	if (eq == NULL)
		return -DER_NONEXIST;
	pthread_mutex_lock(&eq->eq_lock);
	if (query & DAOS_EQR_COMPLETED) {
		d_list_for_each_entry (de, &eq->eq_comp, de_link) {
			if (count < nevents)
				events[count] = de2ev(de);
			count++;
		}
	}
	if (query & DAOS_EQR_WAITING) {
		d_list_for_each_entry (de, &eq->eq_running, de_link) {
			if (count < nevents)
				events[count] = de2ev(de);
			count++;
		}
	}
	pthread_mutex_unlock(&eq->eq_lock);
	eq_put(eq);
	return (int)count;
}

int
daos_event_launch(daos_event_t *ev)
{
	daos_event_t *priv = NULL;

	if (ev == NULL)
		return -DER_INVAL;
	return dc_ev_begin(ev, &priv);
}

void
daos_event_complete(daos_event_t *ev, int rc)
{
	dc_ev_complete(ev, rc);
}
