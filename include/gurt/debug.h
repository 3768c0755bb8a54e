/*
 * gurt/debug.h: logging and assertions.
 *
 * Every message belongs to a facility (one per module) and has a level. A source file names
 * its facility before including any gurt header:
 *
 *	#define D_LOGFAC vos
 *
 * and exactly one file of the module defines it with D_LOG_FAC_DEFINE(vos) (the module's
 * internal header declares it with D_LOG_FAC_DECLARE(vos)). Files that name none log as
 * `misc`.
 *
 * What is printed is set by the environment, read on first use and again by d_log_init():
 *   D_LOG_MASK=ERR,vos=DEBUG   the default level, then per-facility levels
 *   DD_SUBSYS=vos,rdb          facilities allowed to print DEBUG ("all" = every one)
 *   D_LOG_FILE=/path           append to this file instead of stderr
 * Levels: DEBUG (DBUG), INFO, NOTE, WARN, ERR, CRIT, EMRG, and NONE to silence a facility.
 *
 * A line is: date time.usec pid/tid facility LEVEL file:line function() message
 */
#ifndef D_GURT_DEBUG_H
#define D_GURT_DEBUG_H

#include <stdbool.h>
#include <stdint.h>

#pragma GCC visibility push(default)

#if defined(__cplusplus)
extern "C" {
#endif

enum d_log_level {
	D_LOG_DEBUG = 0,
	D_LOG_INFO,
	D_LOG_NOTE,
	D_LOG_WARN,
	D_LOG_ERR,
	D_LOG_CRIT,
	D_LOG_EMERG,
	D_LOG_NONE, /* as a threshold: print nothing */
};

/** A log facility. Long-lived; defined by D_LOG_FAC_DEFINE, never freed. */
struct d_log_fac {
	const char *lf_name;
	int lf_gen;   /* d_log_gen for which lf_level was computed */
	int lf_level; /* lowest level printed */
};

/** Bumped whenever the masks change, so each facility recomputes its level once. */
extern int d_log_gen;

#define D_LOG_FAC_DEFINE(name) struct d_log_fac d_logfac_##name = {#name, -1, D_LOG_NONE}
#define D_LOG_FAC_DECLARE(name) extern struct d_log_fac d_logfac_##name

D_LOG_FAC_DECLARE(misc);
D_LOG_FAC_DECLARE(gurt);

#ifndef D_LOGFAC
#define D_LOGFAC misc
#endif
#define D_LOGFAC_PTR_(name) (&d_logfac_##name)
#define D_LOGFAC_PTR(name) D_LOGFAC_PTR_(name)

/** Recompute @fac's level from the current masks (slow path of d_log_enabled). */
void d_log_fac_refresh(struct d_log_fac *fac);

/** Is a message of @level on @fac printed? Cheap: one load and one compare. */
static inline bool
d_log_enabled(struct d_log_fac *fac, int level)
{
	if (__builtin_expect(__atomic_load_n(&fac->lf_gen, __ATOMIC_ACQUIRE) !=
				 __atomic_load_n(&d_log_gen, __ATOMIC_RELAXED),
			     0))
		d_log_fac_refresh(fac);
	return level >= __atomic_load_n(&fac->lf_level, __ATOMIC_RELAXED);
}

/** Format and write one line (no check of the level; use the D_* macros). */
void d_log_write(struct d_log_fac *fac, int level, const char *file, int line, const char *func,
		 const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/**
 * (Re)read D_LOG_MASK, DD_SUBSYS and D_LOG_FILE from the environment. Optional: logging
 * initialises itself on first use. Returns 0 or -DER_INVAL for a bad mask (the old masks
 * stay in force).
 */
int d_log_init(void);

/** Close the log file, if any; later messages go to stderr. */
void d_log_fini(void);

/**
 * Replace the level masks, in D_LOG_MASK syntax ("WARN,vos=DEBUG"). Returns 0, or
 * -DER_INVAL (masks unchanged) if @masks does not parse.
 */
int d_log_setmasks(const char *masks);

/** Replace the DD_SUBSYS list ("all", or comma-separated facility names; NULL = all). */
int d_log_set_subsys(const char *subsys);

/**
 * Send log lines to @fd (borrowed: never closed by the log) instead of the current output;
 * -1 restores stderr. Returns the previous fd.
 */
int d_log_set_fd(int fd);

/** Parse a level name (DEBUG/DBUG, INFO, NOTE, WARN, ERR/ERROR, CRIT, EMRG/EMERG, NONE). */
int d_log_str2level(const char *str);

/** Rate limiter state of one call site of a *_RL macro. */
struct d_log_rl {
	int64_t rl_window; /* second the counts belong to */
	uint32_t rl_count; /* messages in that second */
	uint32_t rl_dropped;
};

/** Messages a rate-limited call site may print per second. */
#define D_LOG_RL_BURST 10

/**
 * May this rate-limited call site print now? Sets *@dropped to the number of messages it
 * suppressed since it last printed.
 */
bool d_log_rl_allow(struct d_log_rl *rl, uint32_t *dropped);

#define D_LOG_AT(level, fmt, ...)                                                                  \
	do {                                                                                       \
		if (d_log_enabled(D_LOGFAC_PTR(D_LOGFAC), level))                                  \
			d_log_write(D_LOGFAC_PTR(D_LOGFAC), level, __FILE__, __LINE__, __func__,   \
				    fmt, ##__VA_ARGS__);                                           \
	} while (0)

#define D_DEBUG(fmt, ...) D_LOG_AT(D_LOG_DEBUG, fmt, ##__VA_ARGS__)
#define D_INFO(fmt, ...) D_LOG_AT(D_LOG_INFO, fmt, ##__VA_ARGS__)
#define D_NOTE(fmt, ...) D_LOG_AT(D_LOG_NOTE, fmt, ##__VA_ARGS__)
#define D_WARN(fmt, ...) D_LOG_AT(D_LOG_WARN, fmt, ##__VA_ARGS__)
#define D_ERROR(fmt, ...) D_LOG_AT(D_LOG_ERR, fmt, ##__VA_ARGS__)
#define D_CRIT(fmt, ...) D_LOG_AT(D_LOG_CRIT, fmt, ##__VA_ARGS__)
#define D_FATAL(fmt, ...) D_LOG_AT(D_LOG_EMERG, fmt, ##__VA_ARGS__)

/** Like D_LOG_AT, but a call site prints at most D_LOG_RL_BURST lines a second. */
#define D_LOG_RL(level, fmt, ...)                                                                  \
	do {                                                                                       \
		static struct d_log_rl d_rl_;                                                      \
		uint32_t d_rl_dropped_;                                                            \
		if (d_log_enabled(D_LOGFAC_PTR(D_LOGFAC), level) &&                                \
		    d_log_rl_allow(&d_rl_, &d_rl_dropped_)) {                                      \
			if (d_rl_dropped_ != 0)                                                    \
				d_log_write(D_LOGFAC_PTR(D_LOGFAC), level, __FILE__, __LINE__,     \
					    __func__, "(%u similar messages suppressed)\n",        \
					    d_rl_dropped_);                                        \
			d_log_write(D_LOGFAC_PTR(D_LOGFAC), level, __FILE__, __LINE__, __func__,   \
				    fmt, ##__VA_ARGS__);                                           \
		}                                                                                  \
	} while (0)

#define D_ERROR_RL(fmt, ...) D_LOG_RL(D_LOG_ERR, fmt, ##__VA_ARGS__)
#define D_WARN_RL(fmt, ...) D_LOG_RL(D_LOG_WARN, fmt, ##__VA_ARGS__)

/** Report a failed assertion and abort. */
void d_assert_fail(const char *cond, const char *file, int line, const char *func, const char *fmt,
		   ...) __attribute__((noreturn, format(printf, 5, 6)));

/* Programming invariants only: never assert on bytes from a disk or a network. */
#define D_ASSERT(cond)                                                                             \
	do {                                                                                       \
		if (__builtin_expect(!(cond), 0))                                                  \
			d_assert_fail(#cond, __FILE__, __LINE__, __func__, NULL);                  \
	} while (0)

#define D_ASSERTF(cond, fmt, ...)                                                                  \
	do {                                                                                       \
		if (__builtin_expect(!(cond), 0))                                                  \
			d_assert_fail(#cond, __FILE__, __LINE__, __func__, fmt, ##__VA_ARGS__);    \
	} while (0)

#define D_CASSERT(cond, ...) _Static_assert(cond, #cond)

/* Printing helpers: D_ERROR("open failed: " DF_RC "\n", DP_RC(rc)); */
#define DF_RC "%s(%d)"
#define DP_RC(rc) d_errstr(rc), (rc)

#if defined(__cplusplus)
}
#endif

#pragma GCC visibility pop

#endif /* D_GURT_DEBUG_H */
