/* PLACEHOLDER: being replaced by the errno helper. */
#include <errno.h>
#include <gurt/common.h>

#define D_ERR_CASE_(name, value, desc)                                                             \
	case name:                                                                                 \
		return #name;
const char *
d_errstr(int rc)
{
	switch (rc < 0 ? -rc : rc) {
	case 0:
		return "DER_SUCCESS";
		D_FOREACH_GURT_ERR(D_ERR_CASE_)
		D_FOREACH_DAOS_ERR(D_ERR_CASE_)
	default:
		return "DER_UNKNOWN";
	}
}
const char *
d_errdesc(int rc)
{
	return d_errstr(rc);
}
int
d_errno2der(int err)
{
	return err == 0 ? 0 : (err == ENOMEM ? -DER_NOMEM : -DER_MISC);
}
int
d_der2errno(int rc)
{
	return rc == 0 ? 0 : EIO;
}
