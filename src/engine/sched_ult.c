/*
 * sched_ult.c: user-level threads of an xstream: creation, the context switches between
 * the loop and a ULT (sched_ctx.c, annotated for AddressSanitizer), yield, sleep, the
 * block/wake pair every waiting primitive is built on, join, and the timers (a pairing heap
 * of deadlines). Sits on sched.c (loop, queue, stacks); README.md has the state diagram.
 */
#define D_LOGFAC sched

#include <string.h>

#include "sched_internal.h"

#ifdef DSS_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

/*
 * AddressSanitizer tracks one stack per thread; a context switch moves the thread to another.
 * Every switch is announced with start (the stack we go to) and completed with finish on
 * arrival, as <sanitizer/common_interface_defs.h> prescribes. A ULT that ends passes a NULL
 * fake-stack slot so that its fake frames are released.
 */
#ifdef DSS_ASAN
static inline void
asan_start(void **fake, const void *stack, size_t size)
{
	__sanitizer_start_switch_fiber(fake, stack, size);
}

static inline void
asan_finish(void *fake, const void **stack, size_t *size)
{
	__sanitizer_finish_switch_fiber(fake, stack, size);
}
#endif

/* Timers: a pairing heap ordered by (deadline, arming sequence), intrusive, never allocates. */

static bool
tn_less(const struct dss_tnode *a, const struct dss_tnode *b)
{
	return a->tn_deadline < b->tn_deadline ||
	       (a->tn_deadline == b->tn_deadline && a->tn_seq < b->tn_seq);
}

/* Meld two heaps whose roots have no siblings; returns the new root. */
static struct dss_tnode *
tn_meld(struct dss_tnode *a, struct dss_tnode *b)
{
	struct dss_tnode *t;

	if (tn_less(b, a)) {
		t = a;
		a = b;
		b = t;
	}
	b->tn_prev = a;
	b->tn_next = a->tn_child;
	if (a->tn_child != NULL)
		a->tn_child->tn_prev = b;
	a->tn_child = b;
	return a;
}

/* Two-pass pairing of a sibling list into one heap (NULL for an empty list). */
static struct dss_tnode *
tn_merge_pairs(struct dss_tnode *first)
{
	struct dss_tnode *pairs = NULL; /* melded pairs, newest first, linked by tn_next */
	struct dss_tnode *root = NULL;
	struct dss_tnode *a, *b;

	while (first != NULL) {
		a = first;
		b = a->tn_next;
		first = b != NULL ? b->tn_next : NULL;
		a->tn_prev = a->tn_next = NULL;
		if (b != NULL) {
			b->tn_prev = b->tn_next = NULL;
			a = tn_meld(a, b);
		}
		a->tn_next = pairs;
		pairs = a;
	}
	while (pairs != NULL) {
		a = pairs;
		pairs = a->tn_next;
		a->tn_next = NULL;
		root = root == NULL ? a : tn_meld(root, a);
	}
	return root;
}

static void
timer_arm(struct dss_xstream *xs, struct dss_ult *ult, uint64_t deadline)
{
	struct dss_tnode *tn = &ult->ult_timer;

	D_ASSERT(!ult->ult_timer_armed);
	tn->tn_child = tn->tn_next = tn->tn_prev = NULL;
	tn->tn_deadline = deadline;
	tn->tn_seq = xs->xs_timer_seq++;
	xs->xs_timers = xs->xs_timers == NULL ? tn : tn_meld(xs->xs_timers, tn);
	ult->ult_timer_armed = true;
}

static void
timer_disarm(struct dss_xstream *xs, struct dss_ult *ult)
{
	struct dss_tnode *tn = &ult->ult_timer;
	struct dss_tnode *sub;

	D_ASSERT(ult->ult_timer_armed);
	sub = tn_merge_pairs(tn->tn_child);
	if (tn == xs->xs_timers) {
		xs->xs_timers = sub;
	} else {
		/* unlink from the sibling list: tn_prev is the left sibling or the parent */
		if (tn->tn_prev->tn_child == tn)
			tn->tn_prev->tn_child = tn->tn_next;
		else
			tn->tn_prev->tn_next = tn->tn_next;
		if (tn->tn_next != NULL)
			tn->tn_next->tn_prev = tn->tn_prev;
		if (sub != NULL)
			xs->xs_timers = tn_meld(xs->xs_timers, sub);
	}
	tn->tn_child = tn->tn_next = tn->tn_prev = NULL;
	ult->ult_timer_armed = false;
}

/* A ULT's timer expired while it was blocked. */
static void
ult_timeout(struct dss_xstream *xs, struct dss_ult *ult)
{
	D_ASSERT(ult->ult_state == DSS_ULT_BLOCKED);
	switch (ult->ult_wait) {
	case DSS_WAIT_SLEEP:
		d_list_del_init(&ult->ult_link);
		sched_ult_wake(xs, ult, 0);
		break;
	case DSS_WAIT_COND:
		d_list_del_init(&ult->ult_link);
		sched_ult_wake(xs, ult, -DER_TIMEDOUT);
		break;
	case DSS_WAIT_EVENTUAL:
		/* if a set took it off the list first, its wake-up is on the way: let it win */
		if (sched_eventual_unwait(ult->ult_wait_ev, ult))
			sched_ult_wake(xs, ult, -DER_TIMEDOUT);
		break;
	default:
		D_ASSERTF(0, "xstream %s: timer of a ULT waiting for %u", xs->xs_name,
			  ult->ult_wait);
	}
}

int
sched_timers_fire(struct dss_xstream *xs)
{
	struct dss_tnode *tn;
	uint64_t now;
	int n = 0;

	if (xs->xs_timers == NULL)
		return 0;
	now = d_now_ns();
	while ((tn = xs->xs_timers) != NULL && tn->tn_deadline <= now) {
		struct dss_ult *ult = container_of(tn, struct dss_ult, ult_timer);

		timer_disarm(xs, ult);
		ult_timeout(xs, ult);
		n++;
	}
	return n;
}

/* Switches */

struct dss_ult *
sched_ult_current(const char *what)
{
	struct dss_xstream *xs = dss_xs_tls;

	D_ASSERTF(xs != NULL && xs->xs_current != NULL,
		  "%s may block and must be called from a ULT (xstream %s)", what,
		  xs != NULL ? xs->xs_name : "none");
	return xs->xs_current;
}

/* Leave the running ULT for the loop; returns when the loop switches back to it. */
static void
ult_switch_out(struct dss_xstream *xs, struct dss_ult *ult)
{
#ifdef DSS_ASAN
	asan_start(&ult->ult_asan_fake, xs->xs_sched_stack, xs->xs_sched_stack_size);
	sched_ctx_switch(&ult->ult_ctx, &xs->xs_sched_ctx);
	asan_finish(ult->ult_asan_fake, NULL, NULL);
#else
	sched_ctx_switch(&ult->ult_ctx, &xs->xs_sched_ctx);
#endif
}

/* Where every ULT starts; never returns (the loop reclaims the stack it runs on). */
static void
ult_entry(void)
{
	struct dss_xstream *xs = dss_xs_tls;
	struct dss_ult *ult = xs->xs_current;

#ifdef DSS_ASAN
	/* the first arrival on this stack: learn where the loop's stack is */
	asan_finish(NULL, &xs->xs_sched_stack, &xs->xs_sched_stack_size);
#endif
	ult->ult_func(ult->ult_arg);
	ult->ult_state = DSS_ULT_DONE;
#ifdef DSS_ASAN
	asan_start(NULL, xs->xs_sched_stack, xs->xs_sched_stack_size);
#endif
	/* the saved context is never resumed: the loop frees the stack it would run on */
	sched_ctx_switch(&ult->ult_ctx, &xs->xs_sched_ctx);
	D_ASSERTF(0, "a finished ULT was resumed");
}

static void
ult_finish(struct dss_xstream *xs, struct dss_ult *ult)
{
	sched_stack_put(xs, ult->ult_stack, ult->ult_stack_size);
	ult->ult_stack = NULL;
	__atomic_store_n(&xs->xs_nr_ults, xs->xs_nr_ults - 1, __ATOMIC_RELAXED);
	if (ult->ult_detached) {
		D_FREE(ult);
		return;
	}
	ult->ult_rc = 0;
	/* the joiner may free @ult as soon as this is done */
	dss_eventual_set(&ult->ult_done, NULL);
}

void
sched_ult_run(struct dss_xstream *xs, struct dss_ult *ult)
{
	D_ASSERT(ult->ult_state == DSS_ULT_READY && ult->ult_xs == xs);
	xs->xs_current = ult;
	ult->ult_state = DSS_ULT_RUNNING;
	DSS_STAT_ADD(xs, xs_st_switches, 1);
#ifdef DSS_ASAN
	asan_start(&xs->xs_asan_fake, ult->ult_stack, ult->ult_stack_size);
	sched_ctx_switch(&xs->xs_sched_ctx, &ult->ult_ctx);
	asan_finish(xs->xs_asan_fake, NULL, NULL);
#else
	sched_ctx_switch(&xs->xs_sched_ctx, &ult->ult_ctx);
#endif
	xs->xs_current = NULL;
	if (ult->ult_state == DSS_ULT_DONE)
		ult_finish(xs, ult);
}

/* Life of a ULT */

static void
ult_ready(struct dss_xstream *xs, struct dss_ult *ult)
{
	ult->ult_state = DSS_ULT_READY;
	d_list_add_tail(&ult->ult_link, &xs->xs_runq);
	xs->xs_nr_ready++;
}

void
sched_ult_start(struct dss_xstream *xs, struct dss_ult *ult)
{
	/* on the xstream's thread: the ULT starts with its floating-point modes */
	sched_ctx_make(&ult->ult_ctx, ult->ult_stack, ult->ult_stack_size, ult_entry);
	__atomic_store_n(&xs->xs_nr_ults, xs->xs_nr_ults + 1, __ATOMIC_RELAXED);
	DSS_STAT_ADD(xs, xs_st_created, 1);
	ult_ready(xs, ult);
}

void
sched_ult_cancel(struct dss_xstream *xs, struct dss_ult *ult)
{
	if (ult->ult_stack != NULL)
		sched_stack_unmap(xs, ult->ult_stack, ult->ult_stack_size);
	ult->ult_stack = NULL;
	if (ult->ult_detached) {
		D_FREE(ult);
		return;
	}
	ult->ult_rc = -DER_CANCELED;
	dss_eventual_set(&ult->ult_done, NULL);
}

int
sched_ult_block(struct dss_xstream *xs, struct dss_ult *ult, uint64_t deadline)
{
	if (deadline != 0)
		timer_arm(xs, ult, deadline);
	ult->ult_state = DSS_ULT_BLOCKED;
	ult_switch_out(xs, ult);
	return ult->ult_wake_rc;
}

void
sched_ult_wake(struct dss_xstream *xs, struct dss_ult *ult, int rc)
{
	D_ASSERTF(ult->ult_xs == xs && ult->ult_state == DSS_ULT_BLOCKED,
		  "xstream %s: waking a ULT of %s in state %u", xs->xs_name, ult->ult_xs->xs_name,
		  ult->ult_state);
	D_ASSERT(d_list_empty(&ult->ult_link));
	if (ult->ult_timer_armed)
		timer_disarm(xs, ult);
	ult->ult_wait = DSS_WAIT_NONE;
	ult->ult_wait_ev = NULL;
	ult->ult_wake_rc = rc;
	ult_ready(xs, ult);
}

int
dss_ult_create(struct dss_xstream *xs, dss_ult_func_t func, void *arg, size_t stack_size,
	       struct dss_ult **ultp)
{
	struct dss_ult *ult;
	size_t page = sched_page_size();
	bool local;
	int rc;

	D_ASSERT(xs != NULL && func != NULL);
	if (dss_xstream_stopping(xs))
		return -DER_SHUTDOWN;
	local = dss_xs_tls == xs;
	if (stack_size == 0)
		stack_size = xs->xs_stack_size;
	else if (stack_size < DSS_STACK_SIZE_MIN)
		stack_size = DSS_STACK_SIZE_MIN;
	stack_size = (stack_size + page - 1) / page * page;

	D_ALLOC_PTR_NZ(ult);
	if (ult == NULL)
		return -DER_NOMEM;
	memset(ult, 0, offsetof(struct dss_ult, ult_ctx));
	ult->ult_xs = xs;
	ult->ult_func = func;
	ult->ult_arg = arg;
	ult->ult_stack_size = stack_size;
	ult->ult_detached = ultp == NULL;
	D_INIT_LIST_HEAD(&ult->ult_link);
	sched_eventual_init(&ult->ult_done);

	if (ultp != NULL)
		*ultp = ult;
	if (local) {
		rc = sched_stack_get(xs, stack_size, true, &ult->ult_stack);
		if (rc != 0)
			goto out_free;
		sched_ult_start(xs, ult);
		return 0;
	}
	/*
	 * Another thread may not touch the cache: @xs takes the stack from it when it drains
	 * the queue (xs_rq_drain), so a ULT sent to another xstream costs no mmap once the
	 * cache is warm. ult_stack stays NULL until then.
	 */

	ult->ult_state = DSS_ULT_QUEUED;
	ult->ult_rnode.rn_type = DSS_RN_CREATE;
	rc = sched_rq_push(xs, &ult->ult_rnode);
	if (rc != 0)
		goto out_free;
	return 0;

out_free:
	if (ultp != NULL)
		*ultp = NULL;
	D_FREE(ult);
	return rc;
}

int
dss_ult_join(struct dss_ult *ult)
{
	int rc;

	D_ASSERT(ult != NULL && !ult->ult_detached);
	D_ASSERTF(ult != dss_ult_self(), "a ULT cannot join itself");
	(void)sched_eventual_wait(&ult->ult_done, NULL, 0, DSS_WAIT_EVENTUAL);
	rc = ult->ult_rc;
	D_FREE(ult);
	return rc;
}

struct dss_ult *
dss_ult_self(void)
{
	struct dss_xstream *xs = dss_xs_tls;

	return xs != NULL ? xs->xs_current : NULL;
}

void
dss_yield(void)
{
	struct dss_ult *ult = sched_ult_current("dss_yield");
	struct dss_xstream *xs = ult->ult_xs;

	ult_ready(xs, ult);
	ult_switch_out(xs, ult);
}

int
dss_sleep_until(uint64_t deadline_ns)
{
	struct dss_ult *ult = sched_ult_current("dss_sleep");
	struct dss_xstream *xs = ult->ult_xs;

	if (xs->xs_stopping)
		return -DER_SHUTDOWN;
	ult->ult_wait = DSS_WAIT_SLEEP;
	d_list_add_tail(&ult->ult_link, &xs->xs_sleepers);
	/* 0 means "no timer" to sched_ult_block; the past is the past either way */
	return sched_ult_block(xs, ult, deadline_ns == 0 ? 1 : deadline_ns);
}

int
dss_usleep(uint64_t us)
{
	uint64_t now = d_now_ns();

	/* saturate: a sleep of "forever" must not wrap into the past */
	if (us > (UINT64_MAX - now) / D_NSEC_PER_USEC)
		return dss_sleep_until(UINT64_MAX);
	return dss_sleep_until(now + us * D_NSEC_PER_USEC);
}

int
dss_sleep(uint64_t ms)
{
	if (ms > UINT64_MAX / 1000)
		ms = UINT64_MAX / 1000;
	return dss_usleep(ms * 1000);
}
