/*
 * hlc.c: the hybrid logical clock. One process-wide 64-bit timestamp advanced with
 * compare-and-swap: physical time (CLOCK_REALTIME in 1/16 ns since 2021-01-01, low 18 bits
 * cleared) when the wall clock has moved past the last value, otherwise the last value + 1.
 * So timestamps are unique and strictly increasing across threads, and never run ahead of
 * the wall clock by more than the logical counter can absorb.
 */
#define D_LOGFAC gurt

#include <time.h>

#include <gurt/common.h>

static uint64_t hlc_last;
static uint64_t hlc_epsilon = 1ULL * D_NSEC_PER_SEC * D_HLC_NSEC;

/* Physical part of "now", low logical bits cleared. */
static uint64_t
hlc_physical(void)
{
	struct timespec now;
	uint64_t pt;

	clock_gettime(CLOCK_REALTIME, &now);
	D_ASSERTF((uint64_t)now.tv_sec > D_HLC_START_SEC, "wall clock before 2021: %ld",
		  (long)now.tv_sec);
	pt = (((uint64_t)now.tv_sec - D_HLC_START_SEC) * D_NSEC_PER_SEC + (uint64_t)now.tv_nsec) *
	     D_HLC_NSEC;
	return pt & ~D_HLC_MASK;
}

uint64_t
d_hlc_get(void)
{
	uint64_t pt = hlc_physical();
	uint64_t last = __atomic_load_n(&hlc_last, __ATOMIC_RELAXED);
	uint64_t next;

	do {
		next = (last & ~D_HLC_MASK) < pt ? pt : last + 1;
	} while (!__atomic_compare_exchange_n(&hlc_last, &last, next, true, __ATOMIC_ACQ_REL,
					      __ATOMIC_RELAXED));
	return next;
}

int
d_hlc_get_msg(uint64_t msg, uint64_t *hlc_out, uint64_t *offset)
{
	uint64_t pt = hlc_physical();
	uint64_t ml = msg & ~D_HLC_MASK;
	uint64_t off = ml > pt ? ml - pt : 0;
	uint64_t last, next;

	if (offset != NULL)
		*offset = off;
	if (off > __atomic_load_n(&hlc_epsilon, __ATOMIC_RELAXED)) {
		D_ERROR_RL("remote timestamp %#" PRIx64 " is %" PRIu64
			   " ns ahead of the local clock\n",
			   msg, d_hlc2nsec(off));
		return -DER_HLC_SYNC;
	}

	last = __atomic_load_n(&hlc_last, __ATOMIC_RELAXED);
	do {
		uint64_t lp = last & ~D_HLC_MASK;

		if (lp < ml)
			next = ml < pt ? pt : msg + 1; /* the message is the newest thing seen */
		else if (lp < pt)
			next = pt; /* the wall clock is */
		else if (pt <= ml)
			next = (last < msg ? msg : last) + 1;
		else
			next = last + 1;
	} while (!__atomic_compare_exchange_n(&hlc_last, &last, next, true, __ATOMIC_ACQ_REL,
					      __ATOMIC_RELAXED));
	if (hlc_out != NULL)
		*hlc_out = next;
	return 0;
}

void
d_hlc_epsilon_set(uint64_t epsilon)
{
	/* Round up to whole physical ticks so the bound below stays a valid timestamp. */
	__atomic_store_n(&hlc_epsilon, (epsilon + D_HLC_MASK) & ~D_HLC_MASK, __ATOMIC_RELAXED);
}

uint64_t
d_hlc_epsilon_get(void)
{
	return __atomic_load_n(&hlc_epsilon, __ATOMIC_RELAXED);
}

uint64_t
d_hlc_epsilon_get_bound(uint64_t hlc)
{
	return (hlc + d_hlc_epsilon_get()) | D_HLC_MASK;
}

uint64_t
d_hlc2nsec(uint64_t hlc)
{
	return hlc / D_HLC_NSEC;
}

uint64_t
d_nsec2hlc(uint64_t nsec)
{
	return nsec * D_HLC_NSEC;
}

uint64_t
d_hlc2unixnsec(uint64_t hlc)
{
	return hlc / D_HLC_NSEC + D_HLC_START_SEC * D_NSEC_PER_SEC;
}

uint64_t
d_unixnsec2hlc(uint64_t unixnsec)
{
	uint64_t start = D_HLC_START_SEC * D_NSEC_PER_SEC;

	if (unixnsec < start || unixnsec - start > UINT64_MAX / D_HLC_NSEC)
		return 0;
	return (unixnsec - start) * D_HLC_NSEC;
}

int
d_hlc2timespec(uint64_t hlc, struct timespec *ts)
{
	uint64_t nsec = d_hlc2nsec(hlc);

	if (ts == NULL)
		return -DER_INVAL;
	ts->tv_sec = (time_t)(nsec / D_NSEC_PER_SEC + D_HLC_START_SEC);
	ts->tv_nsec = (long)(nsec % D_NSEC_PER_SEC);
	return 0;
}

int
d_timespec2hlc(struct timespec ts, uint64_t *hlc)
{
	if (hlc == NULL || ts.tv_sec < (time_t)D_HLC_START_SEC || ts.tv_nsec < 0 ||
	    ts.tv_nsec >= (long)D_NSEC_PER_SEC)
		return -DER_INVAL;
	*hlc = d_unixnsec2hlc((uint64_t)ts.tv_sec * D_NSEC_PER_SEC + (uint64_t)ts.tv_nsec);
	return 0;
}

uint64_t
d_hlc_age2sec(uint64_t hlc)
{
	uint64_t pt = hlc_physical();

	return pt <= hlc ? 0 : d_hlc2sec(pt - hlc);
}
