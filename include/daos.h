/*
 * daos.h: the DAOS API. Including it gives the whole native API: versions, types and errors,
 * events, pools, containers, objects, object classes, arrays, key-value objects, properties,
 * ACLs, management, and transactions (declared below).
 *
 * Conventions of every daos_* function: 0 or a negative DER_* (daos_errno.h); a trailing
 * daos_event_t *ev selects blocking (NULL) or non-blocking mode (see daos_event.h); handles
 * are values, never pointers, and DAOS_HDL_INVAL is never a valid one.
 *
 * This header does not include gurt/common.h: applications define their own container_of,
 * min, max...
 */
#ifndef D_DAOS_H
#define D_DAOS_H

#include <daos_version.h>
#include <daos_types.h>
#include <daos_errno.h>
#include <daos_event.h>
#include <daos_obj_class.h>
#include <daos_prop.h>
#include <daos_obj.h>
#include <daos_array.h>
#include <daos_kv.h>
#include <daos_security.h>
#include <daos_cont.h>
#include <daos_pool.h>
#include <daos_mgmt.h>

#pragma GCC visibility push(default)

#if defined(__cplusplus)
extern "C" {
#endif

/**
 * Initialise the library. Reference-counted: every successful call must be matched by a
 * daos_fini(); a repeated call succeeds. Returns 0 or a negative DER_*.
 */
int daos_init(void);

/** Drop one reference taken by daos_init(); the last one tears the library down. */
int daos_fini(void);

/** Flags of daos_tx_open(). */
enum {
	/** the transaction only reads */
	DAOS_TF_RDONLY = (1 << 0),
	/**
	 * Do not copy the caller's value buffers when caching modifications: they must stay
	 * unchanged until daos_tx_commit() completes. Key buffers are always copied.
	 */
	DAOS_TF_ZERO_COPY = (1 << 1),
};

/*
 * Transactions. Operations given a transaction handle instead of DAOS_TX_NONE are applied
 * atomically, at one epoch, when the transaction commits; reads see a consistent snapshot.
 */

/** Open a transaction on container @coh; the handle is returned in *@th. */
int daos_tx_open(daos_handle_t coh, daos_handle_t *th, uint64_t flags, daos_event_t *ev);

/**
 * Commit. On -DER_TX_RESTART (a conflict) call daos_tx_restart(), redo the transaction's
 * operations with the same handle and commit again. After success the handle only serves
 * daos_tx_close() and daos_tx_hdl2epoch().
 */
int daos_tx_commit(daos_handle_t th, daos_event_t *ev);

/** A read-only transaction reading the snapshot at @epoch. */
int daos_tx_open_snap(daos_handle_t coh, daos_epoch_t epoch, daos_handle_t *th, daos_event_t *ev);

/** Drop every modification of the transaction; the handle can only be closed afterwards. */
int daos_tx_abort(daos_handle_t th, daos_event_t *ev);

/** Free a transaction handle (local). */
int daos_tx_close(daos_handle_t th, daos_event_t *ev);

/** Drop the operations issued so far after -DER_TX_RESTART, to redo them (local). */
int daos_tx_restart(daos_handle_t th, daos_event_t *ev);

/** The epoch of the transaction in *@epoch; -DER_UNINIT before it has one (tests). */
int daos_tx_hdl2epoch(daos_handle_t th, daos_epoch_t *epoch);

#if defined(__cplusplus)
}
#endif

#pragma GCC visibility pop

#endif /* D_DAOS_H */
