/*
 * sched.c: the xstream loop of the engine's ULT scheduler: poll, fire timers, run ready
 * ULTs, and sleep in epoll when idle; the lock-free queue through which other threads hand
 * work to an xstream; pollers; and the cache of ULT stacks. Built on libgurt and the
 * kernel (eventfd, epoll, mmap). ULTs themselves are in sched_ult.c, eventuals, mutexes and
 * condition variables in sched_sync.c; src/engine/README.md states the invariants.
 */
#define D_LOGFAC sched

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sched_internal.h"

#ifdef DSS_ASAN
#include <sanitizer/asan_interface.h>
#endif

D_LOG_FAC_DEFINE(sched);

__thread struct dss_xstream *dss_xs_tls;

/* A stopping xstream whose ULTs have not finished after this long says so. */
#define XS_STOP_WARN_NS (10 * D_NSEC_PER_SEC)
#define XS_EPOLL_EVENTS 16

size_t
sched_page_size(void)
{
	static size_t page;
	size_t p = __atomic_load_n(&page, __ATOMIC_RELAXED);

	if (p == 0) {
		p = (size_t)sysconf(_SC_PAGESIZE);
		__atomic_store_n(&page, p, __ATOMIC_RELAXED);
	}
	return p;
}

/* Stacks. A free cached stack links to the next through its top word. */

static void **
stack_link(char *stack, size_t size)
{
	return (void **)(stack + size - sizeof(void *));
}

void
sched_stack_unmap(struct dss_xstream *xs, char *stack, size_t size)
{
	size_t page = sched_page_size();

#ifdef DSS_ASAN
	ASAN_UNPOISON_MEMORY_REGION(stack, size);
#endif
	if (munmap(stack - page, size + page) != 0)
		D_ERROR("xstream %s: munmap of a stack failed: " DF_RC "\n", xs->xs_name,
			DP_RC(d_errno2der(errno)));
	DSS_STAT_ADD(xs, xs_st_stacks_mapped, -1);
}

int
sched_stack_get(struct dss_xstream *xs, size_t size, bool cache, char **stack)
{
	size_t page = sched_page_size();
	char *base;
	int rc;

	if (cache && size == xs->xs_stack_size && xs->xs_stack_free != NULL) {
		base = xs->xs_stack_free;
		xs->xs_stack_free = *stack_link(base, size);
		DSS_STAT_ADD(xs, xs_st_stacks_cached, -1);
		*stack = base;
		return 0;
	}

	base = mmap(NULL, size + page, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
	if (base == MAP_FAILED) {
		rc = d_errno2der(errno);
		D_ERROR("xstream %s: cannot map a %zu-byte stack: " DF_RC "\n", xs->xs_name, size,
			DP_RC(rc));
		return rc;
	}
	/* the guard page: an overflow faults instead of corrupting the neighbour */
	if (mprotect(base, page, PROT_NONE) != 0) {
		rc = d_errno2der(errno);
		D_ERROR("xstream %s: cannot protect a stack guard page: " DF_RC "\n", xs->xs_name,
			DP_RC(rc));
		munmap(base, size + page);
		return rc;
	}
	DSS_STAT_ADD(xs, xs_st_stacks_mapped, 1);
	DSS_STAT_ADD(xs, xs_st_stack_mmaps, 1);
	*stack = base + page;
	return 0;
}

void
sched_stack_put(struct dss_xstream *xs, char *stack, size_t size)
{
	if (size != xs->xs_stack_size ||
	    __atomic_load_n(&xs->xs_st_stacks_cached, __ATOMIC_RELAXED) >= xs->xs_stack_cache) {
		sched_stack_unmap(xs, stack, size);
		return;
	}
#ifdef DSS_ASAN
	/* frames that never returned (the ULT switched away for good) left redzones behind */
	ASAN_UNPOISON_MEMORY_REGION(stack, size);
#endif
	*stack_link(stack, size) = xs->xs_stack_free;
	xs->xs_stack_free = stack;
	DSS_STAT_ADD(xs, xs_st_stacks_cached, 1);
}

static void
stack_cache_free(struct dss_xstream *xs)
{
	char *stack;

	while ((stack = xs->xs_stack_free) != NULL) {
		xs->xs_stack_free = *stack_link(stack, xs->xs_stack_size);
		DSS_STAT_ADD(xs, xs_st_stacks_cached, -1);
		sched_stack_unmap(xs, stack, xs->xs_stack_size);
	}
}

/*
 * The cross-thread queue: a Treiber stack that producers push on with a CAS and the xstream
 * empties with one exchange, then reverses into arrival order. Producers never pop, so the
 * ABA problem of lock-free stacks cannot arise. The wake-up protocol (README invariant 4):
 * the loop stores xs_sleeping = 1 and then re-reads the head before it sleeps; a producer
 * pushes and then exchanges xs_sleeping with 0, kicking the eventfd if it was 1. Both sides
 * are sequentially consistent, so either the loop sees the message or the producer sees the
 * flag: a message never waits for a sleeping xstream.
 */

static void
xs_kick(struct dss_xstream *xs)
{
	uint64_t one = 1;

	if (write(xs->xs_evfd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		D_ERROR("xstream %s: eventfd write failed: " DF_RC "\n", xs->xs_name,
			DP_RC(d_errno2der(errno)));
}

int
sched_rq_push(struct dss_xstream *xs, struct dss_rnode *rn)
{
	struct dss_rnode *head;
	int rc = 0;

	__atomic_fetch_add(&xs->xs_producers, 1, __ATOMIC_SEQ_CST);
	head = __atomic_load_n(&xs->xs_rq, __ATOMIC_RELAXED);
	do {
		if (head == DSS_RQ_CLOSED) {
			rc = -DER_SHUTDOWN;
			goto out;
		}
		rn->rn_next = head;
	} while (!__atomic_compare_exchange_n(&xs->xs_rq, &head, rn, true, __ATOMIC_SEQ_CST,
					      __ATOMIC_RELAXED));
	if (__atomic_exchange_n(&xs->xs_sleeping, 0, __ATOMIC_SEQ_CST) != 0)
		xs_kick(xs);
out:
	__atomic_fetch_sub(&xs->xs_producers, 1, __ATOMIC_RELEASE);
	return rc;
}

/* Reverse a detached queue (newest first) into arrival order. */
static struct dss_rnode *
rq_reverse(struct dss_rnode *head)
{
	struct dss_rnode *fifo = NULL, *rn;

	while (head != NULL) {
		rn = head;
		head = rn->rn_next;
		rn->rn_next = fifo;
		fifo = rn;
	}
	return fifo;
}

static int
xs_rq_drain(struct dss_xstream *xs)
{
	struct dss_rnode *rn, *next;
	int n = 0;

	if (__atomic_load_n(&xs->xs_rq, __ATOMIC_RELAXED) == NULL)
		return 0;
	rn = __atomic_exchange_n(&xs->xs_rq, NULL, __ATOMIC_ACQUIRE);
	D_ASSERT(rn != DSS_RQ_CLOSED);
	for (rn = rq_reverse(rn); rn != NULL; rn = next, n++) {
		struct dss_ult *ult = container_of(rn, struct dss_ult, ult_rnode);

		next = rn->rn_next;
		switch (rn->rn_type) {
		case DSS_RN_CREATE:
			/* created by another thread: its stack comes from this one's cache */
			if (ult->ult_stack == NULL &&
			    sched_stack_get(xs, ult->ult_stack_size, true, &ult->ult_stack) != 0) {
				sched_ult_cancel(xs, ult);
				break;
			}
			sched_ult_start(xs, ult);
			break;
		case DSS_RN_WAKE:
			sched_ult_wake(xs, ult, 0);
			break;
		case DSS_RN_CALL: {
			struct dss_call *call = container_of(rn, struct dss_call, dc_rnode);

			/* on the loop itself, as a poller callback: it may not block */
			call->dc_func(call->dc_arg, 0);
			D_FREE(call);
			break;
		}
		default:
			D_ASSERTF(0, "xstream %s: message type %u", xs->xs_name, rn->rn_type);
		}
	}
	DSS_STAT_ADD(xs, xs_st_remote, n);
	return n;
}

/* Close the queue of an xstream that never ran and cancel the ULTs queued on it. */
static void
xs_rq_cancel(struct dss_xstream *xs)
{
	struct dss_rnode *rn, *next;

	rn = __atomic_exchange_n(&xs->xs_rq, DSS_RQ_CLOSED, __ATOMIC_ACQUIRE);
	if (rn == DSS_RQ_CLOSED)
		return;
	for (rn = rq_reverse(rn); rn != NULL; rn = next) {
		next = rn->rn_next;
		if (rn->rn_type == DSS_RN_CALL) {
			struct dss_call *call = container_of(rn, struct dss_call, dc_rnode);

			call->dc_func(call->dc_arg, -DER_CANCELED);
			D_FREE(call);
			continue;
		}
		D_ASSERT(rn->rn_type == DSS_RN_CREATE);
		sched_ult_cancel(xs, container_of(rn, struct dss_ult, ult_rnode));
	}
}

int
dss_call_post(struct dss_xstream *xs, dss_call_func_t func, void *arg)
{
	struct dss_call *call;
	int rc;

	D_ASSERT(xs != NULL && func != NULL);
	if (dss_xstream_stopping(xs))
		return -DER_SHUTDOWN;
	D_ALLOC_PTR_NZ(call);
	if (call == NULL)
		return -DER_NOMEM;
	call->dc_rnode.rn_type = DSS_RN_CALL;
	call->dc_func = func;
	call->dc_arg = arg;
	rc = sched_rq_push(xs, &call->dc_rnode);
	if (rc != 0)
		D_FREE(call);
	return rc;
}

/* Pollers */

int
dss_xstream_poller_add(struct dss_xstream *xs, dss_poll_cb_t poll, dss_arm_cb_t arm, int fd,
		       void *arg, struct dss_poller **poller)
{
	struct dss_poller *pl;
	int rc;

	D_ASSERT(xs != NULL && poll != NULL);
	D_ASSERTF(__atomic_load_n(&xs->xs_run, __ATOMIC_ACQUIRE) == DSS_XS_NEW || dss_xs_tls == xs,
		  "poller added to running xstream %s from another thread", xs->xs_name);

	D_ALLOC_PTR(pl);
	if (pl == NULL)
		return -DER_NOMEM;
	pl->pl_poll = poll;
	pl->pl_arm = arm;
	pl->pl_arg = arg;
	pl->pl_fd = fd;
	if (fd >= 0) {
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = pl};

		if (epoll_ctl(xs->xs_epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
			rc = d_errno2der(errno);
			D_ERROR("xstream %s: cannot add fd %d to epoll: " DF_RC "\n", xs->xs_name,
				fd, DP_RC(rc));
			goto out_free;
		}
	}
	d_list_add_tail(&pl->pl_link, &xs->xs_pollers);
	if (poller != NULL)
		*poller = pl;
	return 0;

out_free:
	D_FREE(pl);
	return rc;
}

void
dss_xstream_poller_del(struct dss_xstream *xs, struct dss_poller *pl)
{
	D_ASSERT(xs != NULL && pl != NULL && !pl->pl_dead);
	D_ASSERTF(__atomic_load_n(&xs->xs_run, __ATOMIC_ACQUIRE) != DSS_XS_RUNNING ||
		      dss_xs_tls == xs,
		  "poller removed from running xstream %s by another thread", xs->xs_name);

	/* the caller may have closed the fd already, which removed it from the set */
	if (pl->pl_fd >= 0)
		(void)epoll_ctl(xs->xs_epfd, EPOLL_CTL_DEL, pl->pl_fd, NULL);
	if (xs->xs_polling) {
		pl->pl_dead = true;
		xs->xs_pollers_dead = true;
		return;
	}
	d_list_del(&pl->pl_link);
	D_FREE(pl);
}

static void
xs_pollers_reap(struct dss_xstream *xs)
{
	struct dss_poller *pl, *tmp;

	d_list_for_each_entry_safe (pl, tmp, &xs->xs_pollers, pl_link) {
		if (pl->pl_dead) {
			d_list_del(&pl->pl_link);
			D_FREE(pl);
		}
	}
	xs->xs_pollers_dead = false;
}

static int
xs_pollers_run(struct dss_xstream *xs)
{
	struct dss_poller *pl;
	int n = 0;
	int rc;

	if (d_list_empty(&xs->xs_pollers))
		return 0;
	xs->xs_polling = true;
	d_list_for_each_entry (pl, &xs->xs_pollers, pl_link) {
		if (pl->pl_dead)
			continue;
		rc = pl->pl_poll(pl->pl_arg);
		if (rc > 0)
			n += rc;
		else if (rc < 0)
			D_ERROR_RL("xstream %s: poller %p failed: " DF_RC "\n", xs->xs_name, pl,
				   DP_RC(rc));
	}
	xs->xs_polling = false;
	if (xs->xs_pollers_dead)
		xs_pollers_reap(xs);
	return n;
}

/* Ask every poller whether the loop may sleep: non-zero if one has work. */
static int
xs_pollers_arm(struct dss_xstream *xs)
{
	struct dss_poller *pl;
	int rc = 0;

	xs->xs_polling = true;
	d_list_for_each_entry (pl, &xs->xs_pollers, pl_link) {
		if (pl->pl_dead || pl->pl_arm == NULL)
			continue;
		rc = pl->pl_arm(pl->pl_arg);
		if (rc != 0)
			break;
	}
	xs->xs_polling = false;
	if (xs->xs_pollers_dead)
		xs_pollers_reap(xs);
	return rc;
}

/* The loop */

static int
xs_epoll(struct dss_xstream *xs, struct epoll_event *evs, const struct timespec *ts)
{
	static int no_pwait2;
	int ms;
	int n;

	if (!__atomic_load_n(&no_pwait2, __ATOMIC_RELAXED)) {
		n = epoll_pwait2(xs->xs_epfd, evs, XS_EPOLL_EVENTS, ts, NULL);
		if (n >= 0 || errno != ENOSYS)
			return n;
		__atomic_store_n(&no_pwait2, 1, __ATOMIC_RELAXED);
	}
	/* before Linux 5.11: millisecond resolution, rounded up so a timer never fires early */
	ms = ts == NULL ? -1 : (int)(ts->tv_sec * 1000 + (ts->tv_nsec + 999999) / 1000000);
	return epoll_wait(xs->xs_epfd, evs, XS_EPOLL_EVENTS, ms);
}

/*
 * After a sleep of @slept ns, ended by an event (@event) or not: adapt the idle spin. An
 * event that came soon after the loop fell asleep would have been met by a longer spin:
 * grow it by twice the sleep (bounded); otherwise the source is quiet: back to the base.
 */
static void
xs_spin_adapt(struct dss_xstream *xs, uint64_t slept, bool event)
{
	uint64_t spin = xs->xs_idle_spin_ns;

	if (event && slept < xs->xs_idle_spin_max_ns) {
		spin = xs->xs_spin_ns + 2 * slept;
		if (spin > xs->xs_idle_spin_max_ns)
			spin = xs->xs_idle_spin_max_ns;
	}
	__atomic_store_n(&xs->xs_spin_ns, spin, __ATOMIC_RELAXED);
}

/* Nothing to do for xs_spin_ns: sleep until an fd, a message or the next timer. */
static void
xs_idle_wait(struct dss_xstream *xs, uint64_t now)
{
	struct epoll_event evs[XS_EPOLL_EVENTS];
	struct timespec ts;
	struct timespec *tsp = NULL;
	uint64_t wake = UINT64_MAX;
	uint64_t buf;
	int n;
	int i;

	if (xs->xs_timers != NULL)
		wake = xs->xs_timers->tn_deadline;
	if (xs->xs_stopping && !xs->xs_stop_warned) {
		if (now >= xs->xs_stop_ns + XS_STOP_WARN_NS) {
			D_WARN("xstream %s: stopping for %us, %" PRIu64 " ULTs still blocked\n",
			       xs->xs_name, (unsigned int)(XS_STOP_WARN_NS / D_NSEC_PER_SEC),
			       xs->xs_nr_ults);
			xs->xs_stop_warned = true;
		} else if (xs->xs_stop_ns + XS_STOP_WARN_NS < wake) {
			wake = xs->xs_stop_ns + XS_STOP_WARN_NS;
		}
	}
	if (wake != UINT64_MAX) {
		if (wake <= now)
			return;
		ts.tv_sec = (time_t)((wake - now) / D_NSEC_PER_SEC);
		ts.tv_nsec = (long)((wake - now) % D_NSEC_PER_SEC);
		tsp = &ts;
	}

	__atomic_store_n(&xs->xs_sleeping, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&xs->xs_rq, __ATOMIC_SEQ_CST) != NULL)
		goto out;
	if (!xs->xs_stopping && __atomic_load_n(&xs->xs_stop, __ATOMIC_SEQ_CST))
		goto out;
	if (xs_pollers_arm(xs) != 0)
		goto out;

	n = xs_epoll(xs, evs, tsp);
	DSS_STAT_ADD(xs, xs_st_sleeps, 1);
	if (xs->xs_nospin)
		DSS_STAT_ADD(xs, xs_st_nospin, 1);
	if (xs->xs_idle_spin_max_ns > xs->xs_idle_spin_ns)
		xs_spin_adapt(xs, d_now_ns() - now, n > 0);
	if (n < 0 && errno != EINTR)
		D_ERROR_RL("xstream %s: epoll failed: " DF_RC "\n", xs->xs_name,
			   DP_RC(d_errno2der(errno)));
	for (i = 0; i < n; i++) {
		/* the eventfd is the only member without a poller */
		if (evs[i].data.ptr == NULL && read(xs->xs_evfd, &buf, sizeof(buf)) < 0 &&
		    errno != EAGAIN)
			D_ERROR_RL("xstream %s: eventfd read failed: " DF_RC "\n", xs->xs_name,
				   DP_RC(d_errno2der(errno)));
	}
out:
	__atomic_store_n(&xs->xs_sleeping, 0, __ATOMIC_RELAXED);
}

/* Run the ULTs that are ready now; those they make ready run on the next pass. */
static int
xs_runq_run(struct dss_xstream *xs)
{
	uint32_t n = xs->xs_nr_ready;
	uint32_t i;

	for (i = 0; i < n; i++) {
		struct dss_ult *ult = d_list_first_entry(&xs->xs_runq, struct dss_ult, ult_link);

		d_list_del_init(&ult->ult_link);
		xs->xs_nr_ready--;
		sched_ult_run(xs, ult);
	}
	return (int)n;
}

/* The loop has seen dss_xstream_stop: cut every dss_sleep short. */
static void
xs_stopping_begin(struct dss_xstream *xs)
{
	xs->xs_stopping = true;
	xs->xs_stop_ns = d_now_ns();
	D_DEBUG("xstream %s stopping with %" PRIu64 " ULTs\n", xs->xs_name, xs->xs_nr_ults);
	while (!d_list_empty(&xs->xs_sleepers)) {
		struct dss_ult *ult =
		    d_list_first_entry(&xs->xs_sleepers, struct dss_ult, ult_link);

		d_list_del_init(&ult->ult_link);
		sched_ult_wake(xs, ult, -DER_SHUTDOWN);
	}
}

int
dss_xstream_run(struct dss_xstream *xs)
{
	uint32_t expected = DSS_XS_NEW;
	uint64_t idle_start = 0;
	uint64_t now;
	int work;

	D_ASSERT(xs != NULL);
	D_ASSERTF(dss_xs_tls == NULL, "xstream %s run inside xstream %s", xs->xs_name,
		  dss_xs_tls->xs_name);
	if (!__atomic_compare_exchange_n(&xs->xs_run, &expected, DSS_XS_RUNNING, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
		return -DER_ALREADY;
	dss_xs_tls = xs;
	D_DEBUG("xstream %s running\n", xs->xs_name);

	for (;;) {
		work = xs_rq_drain(xs);
		work += xs_pollers_run(xs);
		work += sched_timers_fire(xs);
		work += xs_runq_run(xs);

		if (D_UNLIKELY(!xs->xs_stopping &&
			       __atomic_load_n(&xs->xs_stop, __ATOMIC_RELAXED))) {
			xs_stopping_begin(xs);
			work++;
		}
		if (D_UNLIKELY(xs->xs_stopping && xs->xs_nr_ults == 0)) {
			struct dss_rnode *empty = NULL;

			/* fails if a message slipped in: drain it on the next pass */
			if (__atomic_compare_exchange_n(&xs->xs_rq, &empty, DSS_RQ_CLOSED, false,
							__ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
				break;
			continue;
		}
		if (work > 0) {
			idle_start = 0;
			continue;
		}
		now = d_now_ns();
		if (idle_start == 0) {
			idle_start = now;
			continue;
		}
		if (now - idle_start < xs->xs_spin_ns && !xs->xs_nospin) {
			/*
			 * Spin politely: with more runnable threads than cores (several xstreams
			 * and the clients on two cores) a spinning xstream held the core for
			 * its whole spin while a woken one with a request waited behind it.
			 */
			sched_yield();
			continue;
		}
		xs_idle_wait(xs, now);
		xs->xs_nospin = false;
		idle_start = 0;
	}

	D_DEBUG("xstream %s stopped\n", xs->xs_name);
	dss_xs_tls = NULL;
	__atomic_store_n(&xs->xs_run, DSS_XS_DONE, __ATOMIC_RELEASE);
	return 0;
}

void
dss_xstream_nospin(void)
{
	if (dss_xs_tls != NULL)
		dss_xs_tls->xs_nospin = true;
}

static void *
xs_thread_main(void *arg)
{
	struct dss_xstream *xs = arg;
	char name[16];

	/* thread names are at most 15 characters */
	memcpy(name, xs->xs_name, sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	(void)pthread_setname_np(pthread_self(), name);
	if (xs->xs_cpu >= 0) {
		cpu_set_t set;
		int rc;

		CPU_ZERO(&set);
		CPU_SET(xs->xs_cpu, &set);
		rc = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
		if (rc != 0)
			D_WARN("xstream %s: cannot bind to CPU %d: " DF_RC "; it runs unbound\n",
			       xs->xs_name, xs->xs_cpu, DP_RC(d_errno2der(rc)));
	}
	(void)dss_xstream_run(xs);
	return NULL;
}

int
dss_xstream_start(struct dss_xstream *xs)
{
	int rc;

	D_ASSERT(xs != NULL);
	if (xs->xs_thread_started || __atomic_load_n(&xs->xs_run, __ATOMIC_ACQUIRE) != DSS_XS_NEW)
		return -DER_ALREADY;
	rc = pthread_create(&xs->xs_thread, NULL, xs_thread_main, xs);
	if (rc != 0) {
		rc = d_errno2der(rc);
		D_ERROR("xstream %s: cannot create its thread: " DF_RC "\n", xs->xs_name,
			DP_RC(rc));
		return rc;
	}
	xs->xs_thread_started = true;
	return 0;
}

int
dss_xstream_cpu_set(struct dss_xstream *xs, int cpu)
{
	D_ASSERT(xs != NULL);
	if (xs->xs_thread_started)
		return -DER_ALREADY;
	if (cpu < -1 || cpu >= CPU_SETSIZE)
		return -DER_INVAL;
	xs->xs_cpu = cpu;
	return 0;
}

void
dss_xstream_stop(struct dss_xstream *xs)
{
	D_ASSERT(xs != NULL);
	__atomic_store_n(&xs->xs_stop, 1, __ATOMIC_SEQ_CST);
	xs_kick(xs);
}

bool
dss_xstream_stopping(const struct dss_xstream *xs)
{
	return __atomic_load_n(&xs->xs_stop, __ATOMIC_RELAXED) != 0;
}

struct dss_xstream *
dss_xstream_self(void)
{
	return dss_xs_tls;
}

const char *
dss_xstream_name(const struct dss_xstream *xs)
{
	return xs->xs_name;
}

void
dss_xstream_stats_get(const struct dss_xstream *xs, struct dss_xstream_stats *st)
{
	st->xss_ults = __atomic_load_n(&xs->xs_nr_ults, __ATOMIC_RELAXED);
	st->xss_ults_created = __atomic_load_n(&xs->xs_st_created, __ATOMIC_RELAXED);
	st->xss_switches = __atomic_load_n(&xs->xs_st_switches, __ATOMIC_RELAXED);
	st->xss_idle_sleeps = __atomic_load_n(&xs->xs_st_sleeps, __ATOMIC_RELAXED);
	st->xss_idle_nospin = __atomic_load_n(&xs->xs_st_nospin, __ATOMIC_RELAXED);
	st->xss_idle_spin_ns = __atomic_load_n(&xs->xs_spin_ns, __ATOMIC_RELAXED);
	st->xss_remote_msgs = __atomic_load_n(&xs->xs_st_remote, __ATOMIC_RELAXED);
	st->xss_stacks_mapped = __atomic_load_n(&xs->xs_st_stacks_mapped, __ATOMIC_RELAXED);
	st->xss_stacks_cached = __atomic_load_n(&xs->xs_st_stacks_cached, __ATOMIC_RELAXED);
	st->xss_stack_mmaps = __atomic_load_n(&xs->xs_st_stack_mmaps, __ATOMIC_RELAXED);
}

int
dss_xstream_create(const char *name, const struct dss_xstream_attr *attr, struct dss_xstream **xsp)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
	struct dss_xstream *xs;
	size_t page = sched_page_size();
	int rc;

	D_ASSERT(name != NULL && xsp != NULL);
	D_ALLOC_PTR(xs);
	if (xs == NULL)
		return -DER_NOMEM;
	snprintf(xs->xs_name, sizeof(xs->xs_name), "%s", name);
	xs->xs_idle_spin_ns = DSS_IDLE_SPIN_NS_DEFAULT;
	xs->xs_idle_spin_max_ns = DSS_IDLE_SPIN_MAX_NS_DEFAULT;
	xs->xs_stack_size = DSS_STACK_SIZE_DEFAULT;
	xs->xs_stack_cache = DSS_STACK_CACHE_DEFAULT;
	if (attr != NULL) {
		if (attr->xa_idle_spin_ns != 0)
			xs->xs_idle_spin_ns = attr->xa_idle_spin_ns;
		if (attr->xa_idle_spin_max_ns != 0)
			xs->xs_idle_spin_max_ns = attr->xa_idle_spin_max_ns;
		if (attr->xa_stack_size != 0)
			xs->xs_stack_size = attr->xa_stack_size < DSS_STACK_SIZE_MIN
						? DSS_STACK_SIZE_MIN
						: attr->xa_stack_size;
		if (attr->xa_stack_cache != 0)
			xs->xs_stack_cache = attr->xa_stack_cache;
	}
	xs->xs_stack_size = (xs->xs_stack_size + page - 1) / page * page;
	xs->xs_spin_ns = xs->xs_idle_spin_ns;
	xs->xs_cpu = -1;
	D_INIT_LIST_HEAD(&xs->xs_runq);
	D_INIT_LIST_HEAD(&xs->xs_sleepers);
	D_INIT_LIST_HEAD(&xs->xs_pollers);

	xs->xs_evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (xs->xs_evfd < 0) {
		rc = d_errno2der(errno);
		D_ERROR("xstream %s: eventfd failed: " DF_RC "\n", name, DP_RC(rc));
		goto out_free;
	}
	xs->xs_epfd = epoll_create1(EPOLL_CLOEXEC);
	if (xs->xs_epfd < 0) {
		rc = d_errno2der(errno);
		D_ERROR("xstream %s: epoll_create1 failed: " DF_RC "\n", name, DP_RC(rc));
		goto out_evfd;
	}
	if (epoll_ctl(xs->xs_epfd, EPOLL_CTL_ADD, xs->xs_evfd, &ev) != 0) {
		rc = d_errno2der(errno);
		D_ERROR("xstream %s: cannot add its eventfd to epoll: " DF_RC "\n", name,
			DP_RC(rc));
		goto out_epfd;
	}
	*xsp = xs;
	return 0;

out_epfd:
	close(xs->xs_epfd);
out_evfd:
	close(xs->xs_evfd);
out_free:
	D_FREE(xs);
	return rc;
}

void
dss_xstream_destroy(struct dss_xstream *xs)
{
	struct dss_poller *pl, *tmp;
	uint32_t run;

	if (xs == NULL)
		return;
	D_ASSERTF(dss_xs_tls != xs, "xstream %s destroyed from its own thread", xs->xs_name);
	if (xs->xs_thread_started) {
		dss_xstream_stop(xs);
		pthread_join(xs->xs_thread, NULL);
	}
	run = __atomic_load_n(&xs->xs_run, __ATOMIC_ACQUIRE);
	D_ASSERTF(run != DSS_XS_RUNNING, "xstream %s destroyed while running", xs->xs_name);
	if (run == DSS_XS_NEW)
		xs_rq_cancel(xs);
	D_ASSERT(xs->xs_nr_ults == 0 && d_list_empty(&xs->xs_runq) && xs->xs_timers == NULL);

	/* a producer may still be between its push and its kick (README invariant 5) */
	while (__atomic_load_n(&xs->xs_producers, __ATOMIC_ACQUIRE) != 0)
		sched_yield();

	d_list_for_each_entry_safe (pl, tmp, &xs->xs_pollers, pl_link) {
		d_list_del(&pl->pl_link);
		D_FREE(pl);
	}
	stack_cache_free(xs);
	if (xs->xs_st_stacks_mapped != 0)
		D_ERROR("xstream %s: %" PRIu64 " stacks still mapped\n", xs->xs_name,
			xs->xs_st_stacks_mapped);
	close(xs->xs_epfd);
	close(xs->xs_evfd);
	D_FREE(xs);
}
