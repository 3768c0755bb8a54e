/*
 * sched_sync.c: what ULTs wait on: eventuals (one-shot values any thread may set, waited for
 * by ULTs of any xstream or by plain threads), and the mutex and condition variable of the
 * ULTs of one xstream. Built on the block/wake pair of sched_ult.c; a plain thread waits on
 * a futex. README.md explains why the cross-thread paths are safe.
 */
#define D_LOGFAC sched

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sched_internal.h"

static inline void
cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

/*
 * The eventual's spinlock guards a handful of loads and stores, never a syscall or a switch
 * (except the futex wake of plain-thread waiters). Its holder can still be preempted, so a
 * waiter gives the CPU away after a short spin instead of burning a time slice.
 */
static void
ev_lock(struct dss_eventual *ev)
{
	unsigned int spins = 0;

	while (__atomic_exchange_n(&ev->ev_lock, 1, __ATOMIC_ACQUIRE) != 0) {
		while (__atomic_load_n(&ev->ev_lock, __ATOMIC_RELAXED) != 0) {
			if (++spins < 64)
				cpu_relax();
			else
				sched_yield();
		}
	}
}

static void
ev_unlock(struct dss_eventual *ev)
{
	__atomic_store_n(&ev->ev_lock, 0, __ATOMIC_RELEASE);
}

void
sched_eventual_init(struct dss_eventual *ev)
{
	ev->ev_lock = 0;
	ev->ev_state = 0;
	ev->ev_nr_ext = 0;
	ev->ev_value = NULL;
	D_INIT_LIST_HEAD(&ev->ev_waiters);
}

int
dss_eventual_create(struct dss_eventual **evp)
{
	struct dss_eventual *ev;

	D_ASSERT(evp != NULL);
	D_ALLOC_PTR(ev);
	if (ev == NULL)
		return -DER_NOMEM;
	sched_eventual_init(ev);
	*evp = ev;
	return 0;
}

void
dss_eventual_destroy(struct dss_eventual *ev)
{
	if (ev == NULL)
		return;
	/* taking the lock also waits for a setter still inside its critical section */
	ev_lock(ev);
	D_ASSERTF(d_list_empty(&ev->ev_waiters) && ev->ev_nr_ext == 0,
		  "eventual %p destroyed with waiters", ev);
	ev_unlock(ev);
	D_FREE(ev);
}

void
dss_eventual_set(struct dss_eventual *ev, void *value)
{
	struct dss_xstream *self = dss_xs_tls;
	struct dss_ult *chain = NULL;
	struct dss_ult **tail = &chain;
	struct dss_ult *ult, *next;
	int rc;

	D_ASSERT(ev != NULL);
	ev_lock(ev);
	D_ASSERTF(ev->ev_state == 0, "eventual %p set twice", ev);
	ev->ev_value = value;
	__atomic_store_n(&ev->ev_state, DSS_EV_READY, __ATOMIC_RELEASE);
	/* under the lock: a woken thread cannot free @ev before we are out */
	if (ev->ev_nr_ext != 0)
		syscall(SYS_futex, &ev->ev_state, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
	while (!d_list_empty(&ev->ev_waiters)) {
		ult = d_list_first_entry(&ev->ev_waiters, struct dss_ult, ult_link);
		d_list_del_init(&ult->ult_link);
		ult->ult_wake_next = NULL;
		*tail = ult;
		tail = &ult->ult_wake_next;
	}
	ev_unlock(ev);

	/*
	 * @ev may be gone now; the ULTs on the chain are not: each stays blocked until it is
	 * woken here (README invariant 6). Read the link before waking: a woken ULT may run and
	 * end at once on its own xstream.
	 */
	for (ult = chain; ult != NULL; ult = next) {
		next = ult->ult_wake_next;
		if (ult->ult_xs == self) {
			sched_ult_wake(self, ult, 0);
		} else {
			ult->ult_rnode.rn_type = DSS_RN_WAKE;
			rc = sched_rq_push(ult->ult_xs, &ult->ult_rnode);
			/* an xstream with a blocked ULT has not closed its queue */
			D_ASSERTF(rc == 0, "wake-up refused by xstream %s", ult->ult_xs->xs_name);
		}
	}
}

bool
dss_eventual_test(struct dss_eventual *ev, void **value)
{
	bool ready;

	ev_lock(ev);
	ready = ev->ev_state != 0;
	if (ready && value != NULL)
		*value = ev->ev_value;
	ev_unlock(ev);
	return ready;
}

bool
sched_eventual_unwait(struct dss_eventual *ev, struct dss_ult *ult)
{
	bool queued;

	ev_lock(ev);
	queued = !d_list_empty(&ult->ult_link);
	if (queued)
		d_list_del_init(&ult->ult_link);
	ev_unlock(ev);
	return queued;
}

/* A thread that is not an xstream waits on the futex of ev_state. */
static int
ev_wait_thread(struct dss_eventual *ev, void **value, uint64_t deadline)
{
	struct timespec ts;
	struct timespec *tsp;
	uint64_t now;
	int rc = 0;

	ev_lock(ev);
	if (ev->ev_state != 0)
		goto out_ready;
	ev->ev_nr_ext++;
	ev_unlock(ev);

	while (__atomic_load_n(&ev->ev_state, __ATOMIC_ACQUIRE) == 0) {
		tsp = NULL;
		if (deadline != 0) {
			now = d_now_ns();
			if (now >= deadline)
				break;
			ts.tv_sec = (time_t)((deadline - now) / D_NSEC_PER_SEC);
			ts.tv_nsec = (long)((deadline - now) % D_NSEC_PER_SEC);
			tsp = &ts;
		}
		/* returns at once if ev_state is no longer 0; EINTR and timeouts loop */
		syscall(SYS_futex, &ev->ev_state, FUTEX_WAIT_PRIVATE, 0, tsp, NULL, 0);
	}

	/* the lock, again, waits for the setter to leave before the caller may free @ev */
	ev_lock(ev);
	ev->ev_nr_ext--;
	if (ev->ev_state == 0) {
		rc = -DER_TIMEDOUT;
		goto out;
	}
out_ready:
	if (value != NULL)
		*value = ev->ev_value;
out:
	ev_unlock(ev);
	return rc;
}

int
sched_eventual_wait(struct dss_eventual *ev, void **value, uint64_t deadline, uint8_t wait)
{
	struct dss_ult *ult;
	int rc;

	D_ASSERT(ev != NULL);
	if (dss_xs_tls == NULL)
		return ev_wait_thread(ev, value, deadline);

	ult = sched_ult_current("dss_eventual_wait");
	ev_lock(ev);
	if (ev->ev_state != 0) {
		if (value != NULL)
			*value = ev->ev_value;
		ev_unlock(ev);
		return 0;
	}
	ult->ult_wait = wait;
	ult->ult_wait_ev = ev;
	d_list_add_tail(&ult->ult_link, &ev->ev_waiters);
	ev_unlock(ev);

	/* a set from now on wakes us through our own xstream, after we are switched out */
	rc = sched_ult_block(ult->ult_xs, ult, deadline);
	if (rc == 0 && value != NULL)
		*value = ev->ev_value;
	return rc;
}

void
dss_eventual_wait(struct dss_eventual *ev, void **value)
{
	(void)sched_eventual_wait(ev, value, 0, DSS_WAIT_EVENTUAL);
}

int
dss_eventual_timedwait(struct dss_eventual *ev, void **value, uint64_t deadline_ns)
{
	return sched_eventual_wait(ev, value, deadline_ns, DSS_WAIT_EVENTUAL);
}

/* Mutex and condition variable: one xstream, no atomics. */

/* The calling ULT, after checking that @bound (bound on first use) is its xstream. */
static struct dss_ult *
sync_bind(struct dss_xstream **bound, const char *what)
{
	struct dss_ult *ult = sched_ult_current(what);

	if (*bound == NULL)
		*bound = ult->ult_xs;
	D_ASSERTF(*bound == ult->ult_xs, "%s on xstream %s, bound to xstream %s", what,
		  ult->ult_xs->xs_name, (*bound)->xs_name);
	return ult;
}

void
dss_mutex_init(struct dss_mutex *mx)
{
	mx->mx_owner = NULL;
	mx->mx_xs = NULL;
	D_INIT_LIST_HEAD(&mx->mx_waiters);
}

void
dss_mutex_fini(struct dss_mutex *mx)
{
	D_ASSERTF(mx->mx_owner == NULL && d_list_empty(&mx->mx_waiters),
		  "dss_mutex %p finalised while held", mx);
}

void
dss_mutex_lock(struct dss_mutex *mx)
{
	struct dss_ult *ult = sync_bind(&mx->mx_xs, "dss_mutex_lock");

	if (mx->mx_owner == NULL) {
		mx->mx_owner = ult;
		return;
	}
	D_ASSERTF(mx->mx_owner != ult, "dss_mutex %p locked twice by one ULT", mx);
	ult->ult_wait = DSS_WAIT_MUTEX;
	d_list_add_tail(&ult->ult_link, &mx->mx_waiters);
	(void)sched_ult_block(ult->ult_xs, ult, 0);
	/* unlock handed it over */
	D_ASSERT(mx->mx_owner == ult);
}

bool
dss_mutex_trylock(struct dss_mutex *mx)
{
	struct dss_ult *ult = sync_bind(&mx->mx_xs, "dss_mutex_trylock");

	if (mx->mx_owner != NULL)
		return false;
	mx->mx_owner = ult;
	return true;
}

void
dss_mutex_unlock(struct dss_mutex *mx)
{
	struct dss_ult *ult = sched_ult_current("dss_mutex_unlock");
	struct dss_ult *next;

	D_ASSERTF(mx->mx_owner == ult, "dss_mutex %p unlocked by a ULT that does not hold it", mx);
	if (d_list_empty(&mx->mx_waiters)) {
		mx->mx_owner = NULL;
		return;
	}
	next = d_list_first_entry(&mx->mx_waiters, struct dss_ult, ult_link);
	d_list_del_init(&next->ult_link);
	mx->mx_owner = next;
	sched_ult_wake(ult->ult_xs, next, 0);
}

void
dss_cond_init(struct dss_cond *cv)
{
	cv->cv_xs = NULL;
	D_INIT_LIST_HEAD(&cv->cv_waiters);
}

void
dss_cond_fini(struct dss_cond *cv)
{
	D_ASSERTF(d_list_empty(&cv->cv_waiters), "dss_cond %p finalised with waiters", cv);
}

int
dss_cond_timedwait(struct dss_cond *cv, struct dss_mutex *mx, uint64_t deadline_ns)
{
	struct dss_ult *ult = sync_bind(&cv->cv_xs, "dss_cond_wait");
	int rc;

	D_ASSERTF(mx->mx_owner == ult, "dss_cond_wait on %p without holding mutex %p", cv, mx);
	ult->ult_wait = DSS_WAIT_COND;
	d_list_add_tail(&ult->ult_link, &cv->cv_waiters);
	dss_mutex_unlock(mx);
	rc = sched_ult_block(ult->ult_xs, ult, deadline_ns);
	dss_mutex_lock(mx);
	return rc;
}

void
dss_cond_wait(struct dss_cond *cv, struct dss_mutex *mx)
{
	(void)dss_cond_timedwait(cv, mx, 0);
}

static void
cond_wake(struct dss_cond *cv, bool all)
{
	struct dss_ult *ult;

	if (d_list_empty(&cv->cv_waiters))
		return;
	D_ASSERTF(dss_xs_tls == cv->cv_xs, "dss_cond %p signalled from another thread", cv);
	do {
		ult = d_list_first_entry(&cv->cv_waiters, struct dss_ult, ult_link);
		d_list_del_init(&ult->ult_link);
		sched_ult_wake(cv->cv_xs, ult, 0);
	} while (all && !d_list_empty(&cv->cv_waiters));
}

void
dss_cond_signal(struct dss_cond *cv)
{
	cond_wake(cv, false);
}

void
dss_cond_broadcast(struct dss_cond *cv)
{
	cond_wake(cv, true);
}
