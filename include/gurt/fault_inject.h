/*
 * gurt/fault_inject.h: fault-injection points compiled into production code.
 *
 *	if (D_FAIL_CHECK(D_FI_WAL_WRITE))
 *		return -DER_IO;
 *
 * A point costs one predictable branch while no fault is armed. Faults are armed by id,
 * from the environment (D_FI_CONFIG=file.yaml, or D_FAULTS="id:spec,..." -- see
 * src/gurt/README.md) when the process starts, or by tests through d_fault_attr_set().
 * An armed fault fires on a hit when: the hit number is a multiple of fa_interval, a draw
 * with probability fa_probability_x / fa_probability_y succeeds, and fewer than
 * fa_max_faults have fired (0 = no limit). "Once" is max_faults 1; "every Nth" is
 * interval N; "the Nth hit only" is interval N with max_faults 1.
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
#define D_FI_ALLOC 0 /* every D_ALLOC* / d_malloc... returns NULL */
#define D_FI_MAX_ID 4096

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

/** Slow path of D_FAIL_CHECK: count a hit on @id and decide whether it fires. */
bool d_fault_check(uint32_t id);

#define D_FAIL_CHECK(id)                                                                           \
	(__builtin_expect(__atomic_load_n(&d_fault_inject_enabled, __ATOMIC_RELAXED) != 0, 0) &&   \
	 d_fault_check(id))

/**
 * Arm fault @attr->fa_id (counters reset). Returns 0, or -DER_INVAL for a bad id or a
 * probability with x > y.
 */
int d_fault_attr_set(const struct d_fault_attr *attr);

/** Copy the state of fault @id into *@attr. -DER_NONEXIST if it is not armed. */
int d_fault_attr_get(uint32_t id, struct d_fault_attr *attr);

/** Disarm fault @id (no error if it was not armed). */
void d_fault_attr_clear(uint32_t id);

/** Disarm every fault. */
void d_fault_attr_clear_all(void);

/** The error code fault @id carries (fa_err_code), or 0. */
int d_fault_attr_err_code(uint32_t id);

/**
 * Arm the faults the environment names (D_FI_CONFIG, D_FAULTS). Called once automatically
 * when libgurt loads; call again after changing the environment. Returns 0 or -DER_INVAL
 * (with the offending line logged); faults parsed before the error stay armed.
 */
int d_fault_inject_init(void);

/**
 * Arm faults from a D_FAULTS-syntax string: "id:spec[,id:spec...]" where spec is one or more
 * of always | once | every=N | nth=N | prob=P (0..1) | max=N | err=CODE joined by '/'.
 * Returns 0 or -DER_INVAL.
 */
int d_fault_parse(const char *spec);

/** Arm faults from a YAML file (DAOS's fault_config list). 0, -DER_INVAL or -DER_NONEXIST. */
int d_fault_config_load(const char *path);

#if defined(__cplusplus)
}
#endif

#pragma GCC visibility pop

#endif /* D_GURT_FAULT_INJECT_H */
