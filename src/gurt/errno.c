/*
 * errno.c: names and descriptions of the DER_* error codes, and the conversions between
 * DER_* and the C library's errno values. Part of libgurt, the bottom layer: it depends on
 * nothing but <errno.h> and the table in daos_errno.h.
 *
 * Every lookup is a switch over the X-macro table, which the compiler turns into a jump
 * table; a duplicated value in the table is a duplicate case label, so it cannot build.
 */
#include <errno.h>
#include <gurt/common.h>

/* |v| without overflow: INT_MIN has no positive int, so work in unsigned. */
static unsigned int
err_magnitude(int v)
{
	return v < 0 ? 0U - (unsigned int)v : (unsigned int)v;
}

#define ERR_NAME_CASE_(name, value, desc)                                                          \
	case name:                                                                                 \
		return #name;

const char *
d_errstr(int rc)
{
	switch (err_magnitude(rc)) {
	case DER_SUCCESS:
		return "DER_SUCCESS";
		D_FOREACH_GURT_ERR(ERR_NAME_CASE_)
		D_FOREACH_DAOS_ERR(ERR_NAME_CASE_)
	default:
		return "DER_UNKNOWN";
	}
}

#define ERR_DESC_CASE_(name, value, desc)                                                          \
	case name:                                                                                 \
		return desc;

const char *
d_errdesc(int rc)
{
	switch (err_magnitude(rc)) {
	case DER_SUCCESS:
		return "Success";
		D_FOREACH_GURT_ERR(ERR_DESC_CASE_)
		D_FOREACH_DAOS_ERR(ERR_DESC_CASE_)
	default:
		return "Unknown error code";
	}
}

/*
 * The errno -> DER_* direction. Where DAOS converts an errno, we convert it the same way;
 * the rest are our choices for errnos that file-system code meets. Several errnos share a
 * code (EACCES and EPERM both mean "not allowed"), so not every errno survives a round trip
 * through d_der2errno(); test_errno.c lists which ones do.
 */
int
d_errno2der(int err)
{
	switch (err_magnitude(err)) {
	case 0:
		return 0;
	case EPERM:
	case EACCES:
		return -DER_NO_PERM;
	case ENOMEM:
		return -DER_NOMEM;
	case ENOSPC:
	case EDQUOT:
		return -DER_NOSPACE;
	case EEXIST:
	case ENOTEMPTY: /* POSIX lets rmdir() report a non-empty directory as EEXIST, too */
		return -DER_EXIST;
	case ENOENT:
		return -DER_NONEXIST;
	case ECANCELED:
		return -DER_CANCELED;
	case EBUSY:
		return -DER_BUSY;
	case EOVERFLOW:
		return -DER_OVERFLOW;
	case EBADF:
		return -DER_NO_HDL;
	case ENOSYS:
		return -DER_NOSYS;
	case EOPNOTSUPP:
#if ENOTSUP != EOPNOTSUPP
	case ENOTSUP:
#endif
		return -DER_NOTSUPPORTED;
	case ETIMEDOUT:
		return -DER_TIMEDOUT;
	case EAGAIN:
#if EWOULDBLOCK != EAGAIN
	case EWOULDBLOCK:
#endif
		return -DER_AGAIN;
	case EPROTO:
		return -DER_PROTO;
	case EINVAL:
	case EISDIR: /* no DER_* code for "is a directory"; the request is invalid for it */
		return -DER_INVAL;
	case ENOTDIR:
		return -DER_NOTDIR;
	case ENAMETOOLONG:
		return -DER_EXCEEDS_PATH_LEN;
	case EIO:
		return -DER_IO;
	case E2BIG:
	case EFBIG:
		return -DER_REC2BIG;
	case EALREADY:
		return -DER_ALREADY;
	case EINPROGRESS:
		return -DER_INPROGRESS;
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EHOSTDOWN:
	case ECONNREFUSED:
		return -DER_UNREACH;
	case ESTALE:
		return -DER_STALE;
	case ERESTART:
		return -DER_TX_RESTART;
	default:
		return -DER_MISC;
	}
}

/*
 * The DER_* -> errno direction, as DAOS converts for its DFS API, plus the few codes added
 * here that have an exact errno (DER_NOSYS, DER_NOTSUPPORTED, DER_INPROGRESS and
 * DER_EXCEEDS_PATH_LEN).
 * Everything else is EIO: the caller sees a failure it cannot act on more precisely.
 */
int
d_der2errno(int rc)
{
	switch (err_magnitude(rc)) {
	case DER_SUCCESS:
		return 0;
	case DER_NO_PERM:
	case DER_EP_RO:
	case DER_EP_OLD:
		return EPERM;
	case DER_ENOENT:
	case DER_NONEXIST:
		return ENOENT;
	case DER_INVAL:
	case DER_NOTYPE:
	case DER_NOSCHEMA:
	case DER_NOLOCAL:
	case DER_NO_HDL:
	case DER_IO_INVAL:
		return EINVAL;
	case DER_KEY2BIG:
	case DER_REC2BIG:
		return E2BIG;
	case DER_EXIST:
		return EEXIST;
	case DER_UNREACH:
		return EHOSTUNREACH;
	case DER_NOSPACE:
		return ENOSPC;
	case DER_ALREADY:
		return EALREADY;
	case DER_NOMEM:
		return ENOMEM;
	case DER_NOSYS:
		return ENOSYS;
	case DER_TIMEDOUT:
		return ETIMEDOUT;
	case DER_BUSY:
	case DER_EQ_BUSY:
		return EBUSY;
	case DER_AGAIN:
		return EAGAIN;
	case DER_PROTO:
		return EPROTO;
	case DER_IO:
		return EIO;
	case DER_CANCELED:
		return ECANCELED;
	case DER_OVERFLOW:
		return EOVERFLOW;
	case DER_BADPATH:
	case DER_NOTDIR:
		return ENOTDIR;
	case DER_STALE:
		return ESTALE;
	case DER_TX_RESTART:
		return ERESTART;
	case DER_NOTSUPPORTED:
		return EOPNOTSUPP;
	case DER_INPROGRESS:
		return EINPROGRESS;
	case DER_EXCEEDS_PATH_LEN:
		return ENAMETOOLONG;
	default:
		return EIO;
	}
}
