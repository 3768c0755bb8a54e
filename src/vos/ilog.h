/*
 * ilog.h: the incarnation log of a VOS object, dkey or akey. Private to src/vos.
 *
 * Every object, dkey and akey records the epochs at which it was created (an update under
 * it) and punched. A reader at epoch E asks the log: does the key exist at E, since when,
 * and which punch bounds what it may see underneath (values at or below the punch are
 * hidden)? The log lives in the umem heap: a 16-byte root embedded in the parent's record
 * holds one entry inline; a log with more entries keeps them in a sorted out-of-line array.
 *
 * Epochs: a major epoch (64-bit, from the HLC; 0 is not an epoch) and a minor epoch (16-bit,
 * the order of operations within one major epoch, e.g. the operation sequence of a
 * transaction; 0 is reserved for "none"). Readers read at a major epoch and see every minor
 * epoch of it. Events at the same major epoch are ordered by minor epoch; the log keeps one
 * entry per major epoch holding the newest create and the newest punch minor seen at it,
 * so updates commute: the log depends on the set of updates applied, not on their order.
 *
 * Every function that changes a log opens a (nested) umem transaction of its own; call it
 * inside the caller's transaction to make it part of a larger change. Errors detected
 * before anything changes (-DER_INVAL, -DER_NO_PERM, -DER_DF_INVAL) leave the caller's
 * transaction usable; -DER_NOSPACE / -DER_NOMEM from the heap doom the enclosing
 * transaction, which aborts at its outermost end and leaves the log as it was.
 *
 * Context: the heap's thread (a target xstream); nothing here locks or yields.
 */
#ifndef D_VOS_ILOG_H
#define D_VOS_ILOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gurt/common.h>
#include <daos_srv/umem.h>

/** Largest minor epoch; 0 means "no event". */
#define ILOG_MINOR_MAX UINT16_MAX
/** Read "now": every entry of the log. */
#define ILOG_EPOCH_MAX UINT64_MAX
/** ilog_aggregate(): the log is empty, the parent may delete the key and what is under it. */
#define ILOG_AGG_EMPTY 1

/**
 * One entry of the log, on media: what happened to the key at one major epoch. The entry
 * is a create if le_update_minor > le_punch_minor, a punch otherwise; a non-zero minor of
 * the other kind means that event happened too, earlier within the epoch.
 */
struct ilog_entry_df {
	uint64_t le_epoch;        /* major epoch, > 0 */
	uint32_t le_tx;           /* 0: committed; reserved for DTX (local transaction id) */
	uint16_t le_punch_minor;  /* newest punch at this epoch; 0: none */
	uint16_t le_update_minor; /* newest create at this epoch; 0: none */
};
D_CASSERT(sizeof(struct ilog_entry_df) == 16);
D_CASSERT(offsetof(struct ilog_entry_df, le_tx) == 8);
D_CASSERT(offsetof(struct ilog_entry_df, le_punch_minor) == 12);
D_CASSERT(offsetof(struct ilog_entry_df, le_update_minor) == 14); /* minors adjacent */

/**
 * The root, embedded in the parent's record. Private to ilog.c: the log's only entry, or the
 * location of its entries (see the layout there).
 */
struct ilog_df {
	struct ilog_entry_df ld_root;
};
D_CASSERT(sizeof(struct ilog_df) == 16);

/** A point in time: major and minor epoch. */
struct ilog_epc {
	uint64_t ec_epoch;
	uint16_t ec_minor;
};

/** What a reader at epoch E learns from the log (ilog_query). */
struct ilog_info {
	/** The key exists at E: its newest event at or before E is a create. */
	bool ii_visible;
	/** If visible: the epoch its current incarnation began (first create after ii_punch). */
	uint64_t ii_create;
	/** If visible: the epoch of the newest create at or before E. */
	uint64_t ii_last_create;
	/**
	 * The punch bound: the newest punch at or before E ({0, 0}: none). Values under the
	 * key written at or before it are hidden (ilog_epc_punched).
	 */
	struct ilog_epc ii_punch;
};

/** Entries of a log in an epoch range (ilog_fetch). */
struct ilog_entries {
	/** Borrowed: points into the heap, valid until the log next changes; NULL if none. */
	const struct ilog_entry_df *ie_ents;
	uint32_t ie_nr;
};

/** Is an event at (@epoch, @minor) hidden by the punch bound @punch? */
static inline bool
ilog_epc_punched(uint64_t epoch, uint16_t minor, const struct ilog_epc *punch)
{
	return epoch < punch->ec_epoch || (epoch == punch->ec_epoch && minor <= punch->ec_minor);
}

/** Is the net effect of entry @ent at its epoch a punch? */
static inline bool
ilog_entry_is_punch(const struct ilog_entry_df *ent)
{
	return ent->le_punch_minor > ent->le_update_minor;
}

/**
 * Initialise the root @root (in the heap, borrowed) as an empty log, inside a nested
 * transaction. An all-zero root is already an empty log. Returns 0 or a umem error.
 * Context: the heap's thread; does not yield.
 */
int ilog_create(struct umem_instance *umm, struct ilog_df *root);

/**
 * Free everything the log @root owns (its out-of-line array) and leave an empty log, inside
 * a nested transaction. Returns 0, -DER_DF_INVAL (corrupt root: nothing is freed) or a umem
 * error. Context: the heap's thread; does not yield.
 */
int ilog_destroy(struct umem_instance *umm, struct ilog_df *root);

/**
 * Record a create (@punch false) or a punch of the key at (@epoch, @minor), committed.
 * Repeating an update already recorded, or one older within @epoch than the newest event of
 * the same kind there, changes nothing (and opens no transaction). At one major epoch the
 * higher minor epoch wins; a create and a punch may not both be the newest events of one
 * epoch at the same minor epoch (-DER_NO_PERM: their order would be undefined).
 * Returns 0, -DER_INVAL (epoch or minor 0), -DER_NO_PERM, -DER_DF_INVAL (corrupt log),
 * -DER_NOSPACE / -DER_NOMEM (heap).
 * Context: the heap's thread; does not yield.
 */
int ilog_update(struct umem_instance *umm, struct ilog_df *root, uint64_t epoch, uint16_t minor,
		bool punch);

/**
 * Answer a reader at major epoch @epoch (it sees every minor epoch of @epoch) in *@info.
 * Returns 0 or -DER_DF_INVAL (corrupt log). An empty log gives "not visible, no punch".
 * Context: the heap's thread; does not yield; O(log n) when @epoch is at or after the newest
 * punch, otherwise plus the entries between @epoch and the punch before it.
 */
int ilog_query(struct umem_instance *umm, const struct ilog_df *root, uint64_t epoch,
	       struct ilog_info *info);

/**
 * The entries with epochs in [@lo, @hi], in epoch order, in *@ents (borrowed, see struct
 * ilog_entries). Returns 0 (possibly no entries) or -DER_DF_INVAL.
 * Context: the heap's thread; does not yield.
 */
int ilog_fetch(struct umem_instance *umm, const struct ilog_df *root, uint64_t lo, uint64_t hi,
	       struct ilog_entries *ents);

/**
 * The earliest create the log still records (for listing with history) in *@epc.
 * Returns 0, -DER_NONEXIST (no create) or -DER_DF_INVAL.
 * Context: the heap's thread; does not yield.
 */
int ilog_earliest_create(struct umem_instance *umm, const struct ilog_df *root,
			 struct ilog_epc *epc);

/** Does the log record nothing? Context: any; reads the root only. */
bool ilog_is_empty(const struct ilog_df *root);

/**
 * Is the key punched "now": the log is not empty and its newest entry is a punch? (Such a
 * key becomes deletable once aggregation past that punch returns ILOG_AGG_EMPTY.) A corrupt
 * log answers false. Context: the heap's thread; does not yield.
 */
bool ilog_is_punched(struct umem_instance *umm, const struct ilog_df *root);

/**
 * Aggregate the log up to epoch @bound: remove the entries at or before @bound that no
 * retained reader can tell apart from the log without them. Retained readers are every
 * epoch after @bound and each snapshot epoch in @snaps (@nr_snaps of them, any order,
 * borrowed; those after @bound change nothing). For each of them ilog_query gives the same
 * answer afterwards (ii_create and ii_last_create count only while visible), unless the
 * key is visible to none of them and nothing is recorded after @bound: then the log is
 * emptied and ILOG_AGG_EMPTY returned, so the parent deletes the key and its subtree.
 * The caller must not update the log at or before @bound afterwards.
 * Returns 0 (entries remain), ILOG_AGG_EMPTY (the log is, or already was, empty),
 * -DER_DF_INVAL, -DER_NOMEM, -DER_NOSPACE.
 * Context: the heap's thread; does not yield.
 */
int ilog_aggregate(struct umem_instance *umm, struct ilog_df *root, uint64_t bound,
		   const uint64_t *snaps, uint32_t nr_snaps);

/**
 * Check every invariant of the log (sorted entries, well-formed entries and root, the
 * array's bookkeeping). Returns 0 or -DER_DF_INVAL. O(n); for tests and consistency checks.
 * Context: the heap's thread; does not yield.
 */
int ilog_check(struct umem_instance *umm, const struct ilog_df *root);

#endif /* D_VOS_ILOG_H */
