/*
 * daos_types.h: the types every part of the DAOS API shares: handles, epochs, object IDs, keys,
 * iteration anchors, events, connection flags and system information.
 *
 * Public header: it defines only names starting with D_, DAOS_, daos_, d_ (see shared/API.md).
 */
#ifndef D_DAOS_TYPES_H
#define D_DAOS_TYPES_H

#include <ctype.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <uuid/uuid.h>

#include <daos_errno.h>
#include <gurt/types.h>

#pragma GCC visibility push(default)

#if defined(__cplusplus)
extern "C" {
#endif

/** Longest DAOS system name, without the terminating NUL. */
#define DAOS_SYS_NAME_MAX 15

/** Longest string of the system information returned by the agent, without the NUL. */
#define DAOS_SYS_INFO_STRING_MAX 63

/** Sizes and offsets in the API are 64-bit whatever the platform. */
typedef uint64_t daos_size_t;
typedef uint64_t daos_off_t;

/** Size of a key hash kept in an anchor (a SHA-256). */
#define DAOS_HKEY_MAX 32

/*
 * Iteration anchors. An anchor is allocated by the caller, set to DAOS_ANCHOR_INIT (or zeroed)
 * before the first call of an enumeration, passed unchanged to every following call, and
 * tested with daos_anchor_is_eof() to stop. Its content other than da_type is private.
 */
typedef enum {
	DAOS_ANCHOR_TYPE_ZERO = 0, /* start of the iteration */
	DAOS_ANCHOR_TYPE_HKEY = 1, /* position recorded as a key hash */
	DAOS_ANCHOR_TYPE_KEY = 2,  /* position recorded as a key */
	DAOS_ANCHOR_TYPE_EOF = 3,  /* the iteration is over */
} daos_anchor_type_t;

/** Private bytes of an anchor. */
#define DAOS_ANCHOR_BUF_MAX 104

typedef struct {
	uint16_t da_type;        /* daos_anchor_type_t */
	uint16_t da_shard;       /* private */
	uint32_t da_flags;       /* private */
	uint64_t da_sub_anchors; /* private */
	uint8_t da_buf[DAOS_ANCHOR_BUF_MAX];
} daos_anchor_t;

/** Initial value of an anchor: the start of an iteration. */
#define DAOS_ANCHOR_INIT                                                                           \
	{                                                                                          \
		.da_type = DAOS_ANCHOR_TYPE_ZERO                                                   \
	}

/** Reset @anchor to the start of an iteration. @opts is reserved (0). Returns 0. */
static inline int
daos_anchor_init(daos_anchor_t *anchor, unsigned int opts)
{
	(void)opts;
	memset(anchor, 0, sizeof(*anchor));
	anchor->da_type = DAOS_ANCHOR_TYPE_ZERO;
	return 0;
}

/** Release what an iteration attached to @anchor (nothing today). */
static inline void
daos_anchor_fini(daos_anchor_t *anchor)
{
	(void)anchor;
}

static inline void
daos_anchor_set_zero(daos_anchor_t *anchor)
{
	anchor->da_type = DAOS_ANCHOR_TYPE_ZERO;
}

static inline void
daos_anchor_set_eof(daos_anchor_t *anchor)
{
	anchor->da_type = DAOS_ANCHOR_TYPE_EOF;
}

static inline bool
daos_anchor_is_zero(daos_anchor_t *anchor)
{
	return anchor->da_type == DAOS_ANCHOR_TYPE_ZERO;
}

/** Has the enumeration that uses @anchor returned everything? */
static inline bool
daos_anchor_is_eof(daos_anchor_t *anchor)
{
	return anchor->da_type == DAOS_ANCHOR_TYPE_EOF;
}

/** A handle to a pool, container, object, transaction or event queue. 0 is never valid. */
typedef struct {
	uint64_t cookie;
} daos_handle_t;

#define DAOS_HDL_INVAL ((daos_handle_t){0})
/** "No transaction": the operation is its own transaction. */
#define DAOS_TX_NONE DAOS_HDL_INVAL

static inline bool
daos_handle_is_inval(daos_handle_t hdl)
{
	return hdl.cookie == 0;
}

static inline bool
daos_handle_is_valid(daos_handle_t hdl)
{
	return !daos_handle_is_inval(hdl);
}

/*
 * Pool connection modes, exactly one of them per connection: read-only, read-write, or
 * read-write excluding every other connection.
 */
#define DAOS_PC_RO (1U << 0)
#define DAOS_PC_RW (1U << 1)
#define DAOS_PC_EX (1U << 2)

#define DAOS_PC_NBITS 3
#define DAOS_PC_MASK ((1U << DAOS_PC_NBITS) - 1)

/** An epoch: a hybrid logical clock timestamp ordering all updates of a container. */
typedef uint64_t daos_epoch_t;

/** Epochs epr_lo to epr_hi, both included. */
typedef struct {
	daos_epoch_t epr_lo;
	daos_epoch_t epr_hi;
} daos_epoch_range_t;

/** The highest epoch: "now and forever". */
#define DAOS_EPOCH_MAX (~0ULL)

/** Container information returned by daos_cont_open() and daos_cont_query(). */
typedef struct {
	uuid_t ci_uuid;
	/** Epoch of the latest persistent snapshot. */
	daos_epoch_t ci_lsnapshot;
	/** Number of open handles. */
	uint32_t ci_nhandles;
	/** Number of snapshots. */
	uint32_t ci_nsnapshots;
	/** Last open time (HLC). */
	uint64_t ci_md_otime;
	/** Last close or metadata modification time (HLC). */
	uint64_t ci_md_mtime;
} daos_cont_info_t;

/** A distribution or attribute key: an opaque byte string. */
typedef d_iov_t daos_key_t;

static inline bool
daos_key_is_null(daos_key_t key)
{
	return key.iov_buf_len == 0 || key.iov_buf == NULL;
}

/*
 * Events. An event tracks one asynchronous operation: initialise it with daos_event_init(),
 * pass it as the last argument of a call, then poll its queue or test it. The application
 * owns the memory (it often embeds the event in its own structure); everything after
 * ev_error is private to libdaos. The size is part of the ABI.
 */
typedef struct daos_event {
	/** Result of the operation once it completed: 0 or a negative DER_* (DFS: errno). */
	int ev_error;
	/** Private to libdaos. */
	struct {
		uint64_t space[20];
	} ev_private;
	/** Private to libdaos (debugging). */
	uint64_t ev_debug;
} daos_event_t;

#if defined(__cplusplus) && __cplusplus >= 201103L
static_assert(sizeof(daos_event_t) == 176, "daos_event_t is 176 bytes in the DAOS ABI");
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
_Static_assert(sizeof(daos_event_t) == 176, "daos_event_t is 176 bytes in the DAOS ABI");
#endif

/** Timeouts of daos_eq_poll() and daos_event_test(): wait forever, or not at all. */
#define DAOS_EQ_WAIT -1
#define DAOS_EQ_NOWAIT 0

/** What daos_eq_query() counts. */
typedef enum {
	DAOS_EQR_COMPLETED = (1),
	DAOS_EQR_WAITING = (1 << 1),
	DAOS_EQR_ALL = (DAOS_EQR_COMPLETED | DAOS_EQR_WAITING),
} daos_eq_query_t;

typedef enum {
	DAOS_EVS_READY,
	DAOS_EVS_RUNNING,
	DAOS_EVS_COMPLETED,
	DAOS_EVS_ABORTED,
} daos_ev_status_t;

/** Targets of a pool, each named by engine rank and target index in that engine. */
struct d_tgt_list {
	d_rank_t *tl_ranks;
	int32_t *tl_tgts;
	uint32_t tl_nr;
};

struct daos_eq;

/** Kinds of handles; the low 4 bits of a handle cookie (always odd). */
enum {
	DAOS_HTYPE_EQ = 1,
	DAOS_HTYPE_POOL = 3,
	DAOS_HTYPE_CO = 5,
	DAOS_HTYPE_OBJ = 7,
	DAOS_HTYPE_ARRAY = 9,
	DAOS_HTYPE_TX = 11,
	DAOS_HTYPE_KV = 13,
};

/**
 * A 128-bit object ID, unique in its container. The high 32 bits of @hi belong to DAOS (object
 * type, redundancy, group count: see daos_obj.h); the other 96 bits are the application's.
 */
typedef struct {
	uint64_t lo;
	uint64_t hi;
} daos_obj_id_t;

/** A UUID in text form, with its NUL. */
#define DAOS_UUID_STR_SIZE 37

/** Does @uuid look like a UUID in text form (8-4-4-4-12 hex digits)? */
static inline bool
daos_is_valid_uuid_string(const char *uuid)
{
	size_t i;

	for (i = 0; i < DAOS_UUID_STR_SIZE - 1; i++) {
		if (uuid[i] == '\0')
			return false;
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (uuid[i] != '-')
				return false;
		} else if (!isxdigit((unsigned char)uuid[i])) {
			return false;
		}
	}
	return uuid[i] == '\0';
}

/** An engine and the address clients reach it at. */
struct daos_rank_uri {
	uint32_t dru_rank;
	char *dru_uri;
};

/** What a client learns about its DAOS system from the agent (daos_mgmt_get_sys_info()). */
struct daos_sys_info {
	char dsi_system_name[DAOS_SYS_INFO_STRING_MAX + 1];
	char dsi_fabric_provider[DAOS_SYS_INFO_STRING_MAX + 1];
	/** Path of the agent's socket (PATH_MAX bytes on Linux). */
	char dsi_agent_path[4096];
	uint32_t dsi_nr_ranks;
	struct daos_rank_uri *dsi_ranks;
	/** Ranks that run the management service. */
	uint32_t dsi_nr_ms_ranks;
	uint32_t *dsi_ms_ranks;
};

/** Longest pool or container attribute name. */
#define DAOS_ATTR_NAME_MAX 511

/**
 * Free a rank list returned by the API (e.g. daos_pool_query()); NULL is fine. Also declared
 * by gurt/common.h, which daos.h does not include.
 */
void d_rank_list_free(d_rank_list_t *list);

#if defined(__cplusplus)
}
#endif

#pragma GCC visibility pop

#endif /* D_DAOS_TYPES_H */
