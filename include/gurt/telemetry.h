/*
 * gurt/telemetry.h: in-process metrics (counters, gauges, latency histograms) cheap enough
 * for hot paths, dumped in the Prometheus text exposition format.
 *
 * Names follow DAOS's telemetry (d_tm_add_metric, d_tm_inc_counter, D_TM_GAUGE...), but
 * the registry lives in the process's own memory, not in shared memory: the engine exports
 * it on its management port and `dmg telemetry` shows it.
 *
 * Lifecycle: d_tm_init(), then d_tm_add_metric() (rare, takes the registry lock) hands back
 * a node; the update functions (d_tm_inc_counter, d_tm_set_gauge, d_tm_observe...) are
 * lock-free (relaxed atomics on the node's own cache line) and accept a NULL node as a
 * no-op, so a caller whose metric could not be created carries on without checks.
 *
 * Names. A metric is created from a path and optional labels:
 *
 *	engine/io/update/latency{rank="0",target="1"}
 *
 * The path is one or more components of [A-Za-z0-9_] separated by single '/', at most
 * D_TM_MAX_NAME_LEN characters. The labels, if any, use Prometheus syntax: a brace, then
 * name="value" pairs separated by ','; label names are [A-Za-z_][A-Za-z0-9_]* and must not
 * start with "__" (nor be "le" on a histogram); values are non-empty and escape '\' as
 * \\, '"' as \" and a newline as \n. At most D_TM_MAX_LABELS labels; their order does not
 * matter (they are kept sorted by name).
 *
 * The Prometheus name of a metric is D_TM_PROM_PREFIX followed by the path with every '/'
 * replaced by '_': "engine/io/update/latency" is daos_engine_io_update_latency. Metrics
 * with the same Prometheus name form one family (one # HELP and # TYPE) and must have the
 * same type; within a family each label set is one series. Two paths differing only in
 * '/' versus '_' therefore name the same family. A histogram family N also owns N_bucket,
 * N_sum and N_count, and a stats gauge N owns N_min, N_max, N_mean and N_samples: another
 * family may not take those names.
 */
#ifndef D_GURT_TELEMETRY_H
#define D_GURT_TELEMETRY_H

#include <stdint.h>
#include <stdio.h>

#pragma GCC visibility push(default)

#if defined(__cplusplus)
extern "C" {
#endif

/** Prefix of every Prometheus metric name. */
#define D_TM_PROM_PREFIX "daos_"
/** Longest path (without labels). */
#define D_TM_MAX_NAME_LEN 256
/** Longest formatted name (path and labels together). */
#define D_TM_MAX_FULL_LEN 1024
/** Most labels on one metric. */
#define D_TM_MAX_LABELS 8
/** Most finite buckets of a histogram (the +Inf bucket comes on top). */
#define D_TM_MAX_BUCKETS 64

/*
 * Default histogram buckets: powers of two from 2^D_TM_POW2_FIRST to 2^D_TM_POW2_LAST
 * inclusive, i.e. 1024 ns (1 us) to ~34 s for durations, 1 KiB to 32 GiB for sizes.
 */
#define D_TM_POW2_FIRST 10
#define D_TM_POW2_LAST 35

/* Suggested units (shown in the HELP text). */
#define D_TM_NANOSECOND "ns"
#define D_TM_MICROSECOND "us"
#define D_TM_MILLISECOND "ms"
#define D_TM_SECOND "s"
#define D_TM_BYTE "B"
#define D_TM_KIBIBYTE "KiB"
#define D_TM_MEBIBYTE "MiB"
#define D_TM_GIBIBYTE "GiB"

/** Metric types (the values are DAOS's where DAOS has the type). */
enum d_tm_metric_type {
	/** Monotonically increasing uint64_t. Prometheus "counter". */
	D_TM_COUNTER = 0x002,
	/** Wall-clock time of the last d_tm_record_timestamp(), in Unix seconds. "gauge". */
	D_TM_TIMESTAMP = 0x004,
	/** Histogram of durations in nanoseconds. Prometheus "histogram". */
	D_TM_DURATION = 0x010,
	/** int64_t that goes up and down. Prometheus "gauge". */
	D_TM_GAUGE = 0x020,
	/** A gauge that also tracks min, max, mean and the number of samples (each update). */
	D_TM_STATS_GAUGE = 0x200,
	/** Histogram of any other value (sizes, queue depths). Prometheus "histogram". */
	D_TM_HISTOGRAM = 0x400,
};

/** A metric. Opaque; owned by the registry, valid until d_tm_del_metric() or d_tm_fini(). */
struct d_tm_node_t;

/** Statistics of a D_TM_STATS_GAUGE (all zero while it has no sample). */
struct d_tm_stats_t {
	int64_t dtm_min;
	int64_t dtm_max;
	int64_t dtm_sum;      /* wraps after 2^63 in total */
	double mean;          /* dtm_sum / sample_size */
	uint64_t sample_size; /* updates since creation */
};

/** A snapshot of a histogram. */
struct d_tm_histogram_t {
	uint64_t dth_count;                /* observations: the sum of dth_counts */
	uint64_t dth_sum;                  /* sum of the observed values */
	int dth_nr_buckets;                /* finite buckets; dth_counts has one more (+Inf) */
	uint64_t dth_le[D_TM_MAX_BUCKETS]; /* inclusive upper bound of bucket i */
	uint64_t dth_counts[D_TM_MAX_BUCKETS + 1]; /* per bucket, not cumulative */
};

/**
 * Start the registry (or take one more reference on it). Returns 0.
 * Context: any thread; pairs with d_tm_fini().
 */
int d_tm_init(void);

/**
 * Drop a reference on the registry; the last one frees every metric, so every node pointer
 * becomes invalid. The caller makes sure no thread updates a metric any more.
 * Context: any thread; takes the registry lock.
 */
void d_tm_fini(void);

/**
 * Create a metric of @metric_type named by the printf-style @fmt (a path and optional labels,
 * see the top of this file) and store it in *@node. Histogram types get the default
 * power-of-two buckets. @desc and @units (either may be NULL) are copied; the first metric
 * of a family sets its HELP text.
 *
 * Returns 0; -DER_INVAL for a bad name, labels or type; -DER_EXIST if the name is taken
 * (the same name and label set exist, the family has another type, or another family owns
 * the name as a suffix); -DER_NOMEM; -DER_UNINIT before d_tm_init(). On error *@node is
 * NULL (which the update functions accept).
 * Context: any thread; takes the registry lock. The node belongs to the registry.
 */
int d_tm_add_metric(struct d_tm_node_t **node, int metric_type, const char *desc, const char *units,
		    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/**
 * Like d_tm_add_metric() for D_TM_DURATION or D_TM_HISTOGRAM, with the @nr_bounds finite
 * buckets (1..D_TM_MAX_BUCKETS) whose inclusive upper bounds are @bounds, strictly
 * increasing (copied; the +Inf bucket is implicit). -DER_INVAL for bad bounds.
 * Context: as d_tm_add_metric().
 */
int d_tm_add_histogram(struct d_tm_node_t **node, int metric_type, const char *desc,
		       const char *units, const uint64_t *bounds, int nr_bounds, const char *fmt,
		       ...) __attribute__((format(printf, 7, 8)));

/**
 * Remove @node from the registry and free it (NULL is fine). The caller makes sure no
 * thread uses the node any more.
 * Context: any thread; takes the registry lock.
 */
void d_tm_del_metric(struct d_tm_node_t *node);

/**
 * Look a metric up by @path, written as for d_tm_add_metric() (labels in any order).
 * Returns the node (borrowed, as the creator's) or NULL if there is none or @path is bad.
 * Context: any thread; takes the registry lock.
 */
struct d_tm_node_t *d_tm_find_metric(const char *path);

/*
 * Updates. Lock-free and safe from any number of threads; a NULL @node does nothing.
 * Calling one on a node of another type is a programming error (asserted).
 */

/** Add @value to a counter. */
void d_tm_inc_counter(struct d_tm_node_t *node, uint64_t value);

/** Set a counter, to mirror one kept elsewhere; it should never go down. */
void d_tm_set_counter(struct d_tm_node_t *node, uint64_t value);

/** Set a gauge (D_TM_GAUGE or D_TM_STATS_GAUGE). */
void d_tm_set_gauge(struct d_tm_node_t *node, int64_t value);

/** Add @value to a gauge. */
void d_tm_inc_gauge(struct d_tm_node_t *node, int64_t value);

/** Subtract @value from a gauge. */
void d_tm_dec_gauge(struct d_tm_node_t *node, int64_t value);

/** Set a D_TM_TIMESTAMP to the current wall-clock time. */
void d_tm_record_timestamp(struct d_tm_node_t *node);

/** Record @value (nanoseconds for a D_TM_DURATION) in a histogram. */
void d_tm_observe(struct d_tm_node_t *node, uint64_t value);

/**
 * Start timing a section for the histogram @node: returns a start time to hand to
 * d_tm_mark_duration_end(), or 0 (no clock read) if @node is NULL. Keeps no state in the
 * node, so any number of threads may time sections of the same metric.
 */
uint64_t d_tm_mark_duration_start(const struct d_tm_node_t *node);

/** Observe the nanoseconds elapsed since @start (from d_tm_mark_duration_start). */
void d_tm_mark_duration_end(struct d_tm_node_t *node, uint64_t start);

/*
 * Readers, for tests and `dmg telemetry`. Values are read with relaxed atomics: a reader
 * racing with updates sees each field at some recent value.
 */

/** Read a counter into *@val. -DER_INVAL if @node is NULL or not a counter. */
int d_tm_get_counter(const struct d_tm_node_t *node, uint64_t *val);

/**
 * Read a gauge, stats gauge or timestamp into *@val and, if @stats is not NULL, its
 * statistics into *@stats (zeros unless it is a stats gauge). -DER_INVAL for another type.
 */
int d_tm_get_gauge(const struct d_tm_node_t *node, int64_t *val, struct d_tm_stats_t *stats);

/**
 * Snapshot a histogram into *@hist. dth_count is computed from the buckets, so it always
 * equals their total. -DER_INVAL if @node is NULL or not a histogram.
 */
int d_tm_get_histogram(const struct d_tm_node_t *node, struct d_tm_histogram_t *hist);

/*
 * Export. Families come sorted by Prometheus name, the series of a family in creation
 * order. Histogram buckets are cumulative; the +Inf bucket equals _count.
 */

/**
 * Format every metric in the Prometheus text format into a new NUL-terminated buffer:
 * *@buf (the caller frees it with D_FREE) of *@len bytes (without the NUL). Returns 0,
 * -DER_NOMEM, or -DER_UNINIT before d_tm_init(); on error *@buf is NULL.
 * Context: any thread; holds the registry lock while formatting.
 */
int d_tm_print_prometheus(char **buf, size_t *len);

/**
 * Write every metric in the Prometheus text format to @out (borrowed, not flushed).
 * Returns 0, -DER_NOMEM, -DER_UNINIT or -DER_IO if the write fails.
 * Context: any thread; the registry lock is not held while writing.
 */
int d_tm_dump_prometheus(FILE *out);

#if defined(__cplusplus)
}
#endif

#pragma GCC visibility pop

#endif /* D_GURT_TELEMETRY_H */
