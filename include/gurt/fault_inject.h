/*
 * gurt/fault_inject.h: fault-injection points compiled into production code.
 *
 *	if (D_FAIL_CHECK(D_FI_WAL_WRITE))
 *		return -DER_IO;
 *
 * A point costs one predictable branch while no fault is armed. Faults are armed by id,
 * from the environment when the process starts, or by tests through d_fault_attr_set().
 * An armed fault fires on a hit when: the hit number is a multiple of fa_interval, a draw
 * with probability fa_probability_x / fa_probability_y succeeds, and fewer than
 * fa_max_faults have fired (0 = no limit). "Once" is max_faults 1; "every Nth" is
 * interval N; "the Nth hit only" is interval N with max_faults 1. Ids are
 * 0 .. D_FI_MAX_ID - 1; a point with any other id never fires.
 *
 * Environment, read when libgurt loads and by d_fault_inject_init():
 *   D_FI_SEED=N        seed of the draws (decimal or 0x hex); default: random, logged at INFO.
 *                      Each fault draws from its own stream, seeded from the seed and its id
 *                      when it is armed, so a run with the same seed repeats itself.
 *   D_FI_CONFIG=path   a YAML file in DAOS's format:
 *                        seed: 12345              # optional, overrides D_FI_SEED
 *                        fault_config:
 *                          - id: 0                # required
 *                            probability_x: 1     # x / y, default 1 / 1; x 0 = never
 *                            probability_y: 100   #   (y 0 = always)
 *                            interval: 5          # default 1
 *                            max_faults: 1        # default 0 = no limit
 *                            err_code: -DER_IO    # a DER_* name or number, either sign
 *                            argument: 42         # an unsigned number
 *                        thread_default: true     # accepted; false is not supported
 *   D_FAULTS=spec      "id:tokens[,id:tokens...]" (id decimal or 0x hex), the tokens
 *                      joined by '/':
 *                        always     every hit (the default)
 *                        once       the first hit only (max=1)
 *                        every=N    hits N, 2N, 3N, ... (N >= 1)
 *                        nth=N      hit N only (every=N/max=1)
 *                        prob=P     with probability P: 0, 1, or a decimal such as 0.25
 *                                   (at most 9 places)
 *                        max=N      at most N faults (0 = no limit)
 *                        err=CODE   the error the point returns: DER_IO, -DER_IO or -2001
 *                      A token may not set a property an earlier one set ("once/max=2" and
 *                      "every=2/nth=3" are errors). Examples: "0:nth=5" fails the 5th
 *                      allocation only; "12:every=3/max=2"; "7:prob=0.25/err=DER_IO".
 * Error codes from either source are stored negative (-DER_*). A file or string is armed
 * whole or not at all: any error arms none of its faults. A later entry for an id already
 * armed replaces it (counters reset).
 */
#ifndef D_GURT_FAULT_INJECT_H
#define D_GURT_FAULT_INJECT_H

#include <stdbool.h>
#include <stdint.h>

#pragma GCC visibility push(default)

#if defined(__cplusplus)
extern "C" {
#endif

/* Fault ids. 0..99 belong to gurt and the foundation; each module reserves a range. */
#define D_FI_ALLOC 0     /* every D_ALLOC* / d_malloc... returns NULL */
#define D_FI_MAX_ID 4096 /* ids are below this */

struct d_fault_attr {
	uint32_t fa_id;
	uint32_t fa_interval;      /* fire on hits that are multiples of this (0 or 1 = every) */
	uint32_t fa_probability_x; /* fire with probability x / y (y == 0: always) */
	uint32_t fa_probability_y;
	uint64_t fa_max_faults; /* stop after this many (0 = unlimited) */
	uint64_t fa_num_faults; /* out: how many fired */
	uint64_t fa_num_hits;   /* out: how many times the point was reached */
	int32_t fa_err_code;    /* optional error the point should return (0 = its own) */
	uint32_t fa_pad;
	uint64_t fa_argument; /* optional argument for the point */
};

/** Non-zero while any fault is armed: the fast-path test of D_FAIL_CHECK. */
extern int d_fault_inject_enabled;

/**
 * Slow path of D_FAIL_CHECK: count a hit on @id and decide whether it fires. False for an
 * id that is not armed (its hit is not counted).
 *
 * Context: any thread; takes the fault table's mutex when @id is armed; never allocates or
 * logs, so it is safe inside the allocator and the logger.
 */
bool d_fault_check(uint32_t id);

#define D_FAIL_CHECK(id)                                                                           \
	(__builtin_expect(__atomic_load_n(&d_fault_inject_enabled, __ATOMIC_RELAXED) != 0, 0) &&   \
	 d_fault_check(id))

/**
 * Arm fault @attr->fa_id (borrowed; copied) with its counters reset to 0 and its draws
 * reseeded. Returns 0, or -DER_INVAL for an id >= D_FI_MAX_ID or a probability with
 * y != 0 and x > y.
 */
int d_fault_attr_set(const struct d_fault_attr *attr);

/**
 * Copy the state of fault @id into *@attr. -DER_NONEXIST if it is not armed, -DER_INVAL if
 * @id >= D_FI_MAX_ID.
 */
int d_fault_attr_get(uint32_t id, struct d_fault_attr *attr);

/** Disarm fault @id (no error if it was not armed). */
void d_fault_attr_clear(uint32_t id);

/** Disarm every fault; D_FAIL_CHECK is back to its one branch. */
void d_fault_attr_clear_all(void);

/** The error code fault @id carries (fa_err_code), or 0 if it carries none or is not armed. */
int d_fault_attr_err_code(uint32_t id);

/**
 * Arm the faults the environment names (D_FI_SEED, then D_FI_CONFIG, then D_FAULTS; see
 * above). Called once automatically when libgurt loads, where an error is logged and the
 * process continues without that source's faults; call again after changing the
 * environment (faults armed before stay armed). Returns 0 or the first error: -DER_INVAL
 * (logged with the offending token or line) or -DER_NONEXIST (no such config file).
 *
 * Context: not concurrently with itself; reads the environment.
 */
int d_fault_inject_init(void);

/**
 * Arm faults from a D_FAULTS-syntax string (see above; borrowed). Returns 0, or -DER_INVAL
 * (logged, naming the bad token) and nothing armed.
 */
int d_fault_parse(const char *spec);

/**
 * Arm faults from a YAML file (DAOS's fault_config format, see above) at @path (borrowed).
 * Returns 0; or -DER_INVAL (logged with the line number), -DER_NONEXIST (no such file), or
 * the error of opening it, and nothing armed.
 */
int d_fault_config_load(const char *path);

#if defined(__cplusplus)
}
#endif

#pragma GCC visibility pop

#endif /* D_GURT_FAULT_INJECT_H */
