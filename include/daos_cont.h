/*
 * daos_cont.h: containers. A container is a private object address space inside a pool, with
 * its own properties, ACL, attributes and snapshots. It is named by a label or a UUID.
 */
#ifndef D_DAOS_CONT_H
#define D_DAOS_CONT_H

#include <daos_types.h>
#include <daos_event.h>
#include <daos_prop.h>
#include <daos_security.h>

#pragma GCC visibility push(default)

#if defined(__cplusplus)
extern "C" {
#endif

/*
 * Container open flags. Exactly one of RO, RW and EX; the others are optional.
 */
/** read only */
#define DAOS_COO_RO (1U << 0)
/** read and write */
#define DAOS_COO_RW (1U << 1)
/** read and write, excluding every other opener */
#define DAOS_COO_EX (1U << 2)
/** open even if the pool no longer meets the container's redundancy factor */
#define DAOS_COO_FORCE (1U << 3)
/** with RO: do not update the open/close times of the container */
#define DAOS_COO_RO_MDSTATS (1U << 4)
/** evict the caller's other handles of this container (with RO or RW) */
#define DAOS_COO_EVICT (1U << 5)
/** evict every handle of this container (with EX) */
#define DAOS_COO_EVICT_ALL (1U << 6)
/** open with the newest object layout */
#define DAOS_COO_NEW_LAYOUT (1U << 7)

#define DAOS_COO_NBITS (8)
#define DAOS_COO_MASK ((1U << DAOS_COO_NBITS) - 1)
#define DAOS_COO_IO_BASE_MASK (DAOS_COO_RO | DAOS_COO_RW | DAOS_COO_EX)

/** Longest hint string of a container (e.g. DFS "file:single,dir:max"). */
#define DAOS_CONT_HINT_MAX_LEN 128

/**
 * Parse a rank list written as ranks separated by @sep (e.g. "1:2:5" with ":"). Returns a new
 * list (free with d_rank_list_free()) or NULL.
 */
d_rank_list_t *daos_rank_list_parse(const char *str, const char *sep);

/**
 * Serialise open container handle @coh for another process, usually on another node. With
 * glob->iov_buf NULL, only the size needed is returned in glob->iov_buf_len; -DER_TRUNC if
 * the buffer is too small. Local; does not block.
 */
int daos_cont_local2global(daos_handle_t coh, d_iov_t *glob);

/** Rebuild a container handle from @glob, under pool handle @poh (itself from global2local). */
int daos_cont_global2local(daos_handle_t poh, d_iov_t glob, daos_handle_t *coh);

/**
 * Create a container in pool @poh with properties @cont_prop (optional; a label may be among
 * them). Its UUID is returned in *@uuid if @uuid is not NULL.
 * Returns 0, -DER_EXIST (label taken), -DER_NO_PERM, -DER_INVAL, -DER_NO_HDL...
 */
int daos_cont_create2(daos_handle_t poh, uuid_t *uuid, daos_prop_t *cont_prop, daos_event_t *ev);

/**
 * Open container @cont (label or UUID string) with DAOS_COO_* @flags. The handle is returned
 * in *@coh, the container information in *@info (optional).
 * Returns 0, -DER_NONEXIST, -DER_NO_PERM, -DER_BUSY (exclusive conflict), -DER_RF...
 */
int daos_cont_open2(daos_handle_t poh, const char *cont, unsigned int flags, daos_handle_t *coh,
		    daos_cont_info_t *info, daos_event_t *ev);

/**
 * Destroy container @cont (label or UUID string) and everything in it. While it has open
 * handles this fails with -DER_BUSY unless @force is set.
 */
int daos_cont_destroy2(daos_handle_t poh, const char *cont, int force, daos_event_t *ev);

/*
 * DAOS 2.x applications call the names below and link the "2" symbols through these macros;
 * libdaos exports both names for each function.
 */
int daos_cont_create(daos_handle_t poh, uuid_t *uuid, daos_prop_t *cont_prop, daos_event_t *ev);
int daos_cont_open(daos_handle_t poh, const char *cont, unsigned int flags, daos_handle_t *coh,
		   daos_cont_info_t *info, daos_event_t *ev);
int daos_cont_destroy(daos_handle_t poh, const char *cont, int force, daos_event_t *ev);

#define daos_cont_open daos_cont_open2
#define daos_cont_destroy daos_cont_destroy2
#define daos_cont_create daos_cont_create2

/**
 * Create a container labelled @label (which overrides any label in @cont_prop); its UUID is
 * returned in *@uuid if @uuid is not NULL.
 */
int daos_cont_create_with_label(daos_handle_t poh, const char *label, daos_prop_t *cont_prop,
				uuid_t *uuid, daos_event_t *ev);

/** Close a container handle. */
int daos_cont_close(daos_handle_t coh, daos_event_t *ev);

/**
 * Container information in *@info (optional) and properties in @cont_prop (optional): with
 * dpp_entries NULL every property is returned in a newly allocated array; otherwise the
 * types listed in the entries are filled in. Values are allocated by the call; free them
 * with daos_prop_free() / daos_prop_fini().
 */
int daos_cont_query(daos_handle_t coh, daos_cont_info_t *info, daos_prop_t *cont_prop,
		    daos_event_t *ev);

/** The ACL, owner and owner-group properties in a new list *@acl_prop (daos_prop_free()). */
int daos_cont_get_acl(daos_handle_t coh, daos_prop_t **acl_prop, daos_event_t *ev);

/** Set the properties listed in @prop. */
int daos_cont_set_prop(daos_handle_t coh, daos_prop_t *prop, daos_event_t *ev);

/** Clear the UNCLEAN status of the container (back to healthy). */
int daos_cont_status_clear(daos_handle_t coh, daos_event_t *ev);

/** Replace the container ACL with @acl. */
int daos_cont_overwrite_acl(daos_handle_t coh, struct daos_acl *acl, daos_event_t *ev);

/** Add the entries of @acl, replacing those of the same principals. */
int daos_cont_update_acl(daos_handle_t coh, struct daos_acl *acl, daos_event_t *ev);

/** Remove the entry of a principal (name for users and groups only). -DER_NONEXIST if absent. */
int daos_cont_delete_acl(daos_handle_t coh, enum daos_acl_principal_type type, d_string_t name,
			 daos_event_t *ev);

/** Change the owner user and/or group ("name@[domain]"; NULL keeps the current one). */
int daos_cont_set_owner(daos_handle_t coh, d_string_t user, d_string_t group, daos_event_t *ev);

/** As daos_cont_set_owner(), without checking that the names exist locally. */
int daos_cont_set_owner_no_check(daos_handle_t coh, d_string_t user, d_string_t group,
				 daos_event_t *ev);

/**
 * List the names of the user attributes, each NUL-terminated, into @buffer (*@size bytes;
 * NULL to get the size only). *@size returns the total size of the names (without NULs).
 */
int daos_cont_list_attr(daos_handle_t coh, char *buffer, size_t *size, daos_event_t *ev);

/**
 * Read @n user attributes: values into @buffers (truncated to @sizes[i]; NULL buffers get
 * sizes only), actual sizes back in @sizes.
 */
int daos_cont_get_attr(daos_handle_t coh, int n, char const *const names[], void *const buffers[],
		       size_t sizes[], daos_event_t *ev);

/** Create or replace @n user attributes. */
int daos_cont_set_attr(daos_handle_t coh, int n, char const *const names[],
		       void const *const values[], size_t const sizes[], daos_event_t *ev);

/** Delete @n user attributes. */
int daos_cont_del_attr(daos_handle_t coh, int n, char const *const names[], daos_event_t *ev);

/**
 * Reserve @num_oids object IDs unique in the container for the caller: *@oid is the first of
 * a range [*oid, *oid + num_oids) that no other caller receives.
 */
int daos_cont_alloc_oids(daos_handle_t coh, daos_size_t num_oids, uint64_t *oid, daos_event_t *ev);

/** Aggregate the container's history up to @epoch (0: now). */
int daos_cont_aggregate(daos_handle_t coh, daos_epoch_t epoch, daos_event_t *ev);

/** Roll the container back to the snapshot at @epoch. */
int daos_cont_rollback(daos_handle_t coh, daos_epoch_t epoch, daos_event_t *ev);

/**
 * Wait for a snapshot at or after *@epoch (0: the oldest one) and return its epoch in *@epoch.
 */
int daos_cont_subscribe(daos_handle_t coh, daos_epoch_t *epoch, daos_event_t *ev);

/** Longest snapshot name. */
#define DAOS_SNAPSHOT_MAX_LEN 128

/** Take a snapshot now, named @name (optional); its epoch is returned in *@epoch. */
int daos_cont_create_snap(daos_handle_t coh, daos_epoch_t *epoch, char *name, daos_event_t *ev);

/** What daos_cont_create_snap_opt() does (bits). */
enum daos_snapshot_opts {
	/** take a snapshot */
	DAOS_SNAP_OPT_CR = (1 << 0),
	/** build the object ID table of the snapshot */
	DAOS_SNAP_OPT_OIT = (1 << 1),
};

int daos_cont_create_snap_opt(daos_handle_t coh, daos_epoch_t *epoch, char *name,
			      enum daos_snapshot_opts opts, daos_event_t *ev);

/**
 * List snapshots: up to *@nr epochs into @epochs and names into @names (optional, each
 * DAOS_SNAPSHOT_MAX_LEN bytes); *@nr returns the count.
 */
int daos_cont_list_snap(daos_handle_t coh, int *nr, daos_epoch_t *epochs, char **names,
			daos_anchor_t *anchor, daos_event_t *ev);

/**
 * Destroy the snapshots in @epr: one if epr_lo == epr_hi, all up to epr_hi if epr_lo is 0,
 * all from epr_lo if epr_hi is DAOS_EPOCH_MAX.
 */
int daos_cont_destroy_snap(daos_handle_t coh, daos_epoch_range_t epr, daos_event_t *ev);

#if defined(__cplusplus)
}
#endif

#pragma GCC visibility pop

#endif /* D_DAOS_CONT_H */
