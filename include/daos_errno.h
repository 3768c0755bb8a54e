/*
 * daos_errno.h: DAOS error numbers. Functions return 0 or a negative DER_* value.
 * The table is one X-macro list per range; the enum, d_errstr() and d_errdesc() are all
 * generated from it, so a code, its name and its text cannot drift apart.
 */
#ifndef D_DAOS_ERRNO_H
#define D_DAOS_ERRNO_H

#pragma GCC visibility push(default)

#if defined(__cplusplus)
extern "C" {
#endif

#define DER_ERR_GURT_BASE 1000
#define DER_ERR_DAOS_BASE 2000

/* ACTION(name, value, description) */
#define D_FOREACH_GURT_ERR(ACTION)                                                                 \
	ACTION(DER_NO_PERM, (DER_ERR_GURT_BASE + 1), "Operation not permitted")                    \
	ACTION(DER_NO_HDL, (DER_ERR_GURT_BASE + 2), "Invalid handle")                              \
	ACTION(DER_INVAL, (DER_ERR_GURT_BASE + 3), "Invalid parameters")                           \
	ACTION(DER_EXIST, (DER_ERR_GURT_BASE + 4), "Entity already exists")                        \
	ACTION(DER_NONEXIST, (DER_ERR_GURT_BASE + 5), "The specified entity does not exist")       \
	ACTION(DER_UNREACH, (DER_ERR_GURT_BASE + 6), "Unreachable node")                           \
	ACTION(DER_NOSPACE, (DER_ERR_GURT_BASE + 7), "No space on storage target")                 \
	ACTION(DER_ALREADY, (DER_ERR_GURT_BASE + 8), "Operation already performed")                \
	ACTION(DER_NOMEM, (DER_ERR_GURT_BASE + 9), "Out of memory")                                \
	ACTION(DER_NOSYS, (DER_ERR_GURT_BASE + 10), "Function not implemented")                    \
	ACTION(DER_TIMEDOUT, (DER_ERR_GURT_BASE + 11), "Timed out")                                \
	ACTION(DER_BUSY, (DER_ERR_GURT_BASE + 12), "Device or resource busy")                      \
	ACTION(DER_AGAIN, (DER_ERR_GURT_BASE + 13), "Try again")                                   \
	ACTION(DER_UNINIT, (DER_ERR_GURT_BASE + 15), "Not initialized")                            \
	ACTION(DER_NOTDIR, (DER_ERR_GURT_BASE + 27), "Not a directory")                            \
	ACTION(DER_MISC, (DER_ERR_GURT_BASE + 39), "Miscellaneous error")

#define D_FOREACH_DAOS_ERR(ACTION)                                                                 \
	ACTION(DER_IO, (DER_ERR_DAOS_BASE + 1), "Generic I/O error")                               \
	ACTION(DER_ENOENT, (DER_ERR_DAOS_BASE + 3), "Entity not found")                            \
	ACTION(DER_HLC_SYNC, (DER_ERR_DAOS_BASE + 33), "Timestamps out of sync")                   \
	ACTION(DER_STALE, (DER_ERR_DAOS_BASE + 16), "Stale pool map version")

#define D_DEFINE_ERRNO_(name, value, desc) name = value,

enum daos_errno {
	DER_SUCCESS = 0,
	DER_ERR_GURT_BASE_ = DER_ERR_GURT_BASE,
	D_FOREACH_GURT_ERR(D_DEFINE_ERRNO_) DER_ERR_GURT_LAST,
	DER_ERR_DAOS_BASE_ = DER_ERR_DAOS_BASE,
	D_FOREACH_DAOS_ERR(D_DEFINE_ERRNO_) DER_ERR_DAOS_LAST,
};

#undef D_DEFINE_ERRNO_

/** The name of @rc ("DER_NONEXIST"); sign ignored; "DER_UNKNOWN" for an unknown code. */
const char *d_errstr(int rc);

/** A description of @rc; sign ignored. */
const char *d_errdesc(int rc);

/** -DER_* for a positive errno (0 stays 0; unknown errnos give -DER_MISC). */
int d_errno2der(int err);

/** A positive errno for a DER_* code of either sign (0 stays 0). */
int d_der2errno(int rc);

#if defined(__cplusplus)
}
#endif

#pragma GCC visibility pop

#endif /* D_DAOS_ERRNO_H */
