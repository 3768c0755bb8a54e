/*
 * duns.c: libduns, the unified namespace of daos_uns.h (README.md). A directory (POSIX
 * container) or file (other layouts) of a local file system stands for a container through
 * its extended attribute DUNS_XATTR_NAME = "DAOS.<TYPE>://<pool uuid>/<cont uuid>"; direct
 * paths "daos://POOL/CONT[/path]" (and "/POOL/CONT[/path]" with DUNS_NO_PREFIX or
 * DUNS_NO_CHECK_PATH) name pool and container by label or uuid. Sits on libdaos (pools,
 * containers) and libdfs (POSIX containers are created with dfs_cont_create).
 *
 * Every call returns 0 or a positive errno, as DAOS's. Context: any thread; the calls that
 * take a pool handle block in libdaos.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <daos.h>
#include <daos_fs.h>
#include <daos_uns.h>

#define DUNS_PREFIX "daos://"
#define DUNS_PREFIX_LEN (sizeof(DUNS_PREFIX) - 1)
#define DUNS_ATTR_HEAD "DAOS."

/* The layout names of the attribute, indexed by DAOS_PROP_CO_LAYOUT_* (as DAOS's daos tool). */
static const char *const duns_types[] = {"unknown",  "POSIX", "HDF5",    "PYTHON", "SPARK",
					 "DATABASE", "ROOT",  "SEISMIC", "METEO"};
_Static_assert(sizeof(duns_types) / sizeof(duns_types[0]) == DAOS_PROP_CO_LAYOUT_MAX,
	       "one name per layout");

static int
der2errno(int rc)
{
	return rc == 0 ? 0 : d_der2errno(rc);
}

/* A pool or container component: a uuid or a valid label of at most @max bytes. */
static bool
duns_id_valid(const char *s, size_t len)
{
	char buf[DAOS_PROP_LABEL_MAX_LEN + 1];
	uuid_t u;

	if (len == 0 || len > DAOS_PROP_LABEL_MAX_LEN)
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (strlen(buf) != len)
		return false; /* a NUL inside */
	if (len == 36 && uuid_parse(buf, u) == 0)
		return true;
	return daos_label_is_valid(buf);
}

/*
 * Parse "POOL/CONT[/rest]" (after "daos://" or the leading '/' of a direct path) into
 * attr->da_pool, da_cont and da_rel_path ("/rest", NULL when nothing follows CONT).
 */
static int
duns_parse_direct(const char *p, struct duns_attr_t *attr)
{
	const char *pool;
	const char *cont;
	size_t plen;
	size_t clen;

	while (*p == '/')
		p++;
	pool = p;
	plen = strcspn(pool, "/");
	if (plen == 0 || pool[plen] != '/')
		return EINVAL; /* no pool, or no container after it */
	cont = pool + plen;
	while (*cont == '/')
		cont++;
	clen = strcspn(cont, "/");
	if (clen == 0)
		return EINVAL;
	if (!duns_id_valid(pool, plen) || !duns_id_valid(cont, clen))
		return EINVAL;
	memcpy(attr->da_pool, pool, plen);
	attr->da_pool[plen] = '\0';
	memcpy(attr->da_cont, cont, clen);
	attr->da_cont[clen] = '\0';
	attr->da_rel_path = NULL;
	if (cont[clen] != '\0') {
		attr->da_rel_path = strdup(cont + clen);
		if (attr->da_rel_path == NULL)
			return ENOMEM;
	}
	return 0;
}

int
duns_parse_attr(char *str, daos_size_t len, struct duns_attr_t *attr)
{
	char buf[DUNS_MAX_XATTR_LEN + 1];
	const char *type;
	char *sep;
	char *pool;
	char *cont;
	size_t i;
	int t;

	if (str == NULL || attr == NULL || len == 0)
		return EINVAL;
	/* a stored value may or may not count its terminating NUL */
	if (str[len - 1] == '\0')
		len--;
	if (len == 0 || len > DUNS_MAX_XATTR_LEN)
		return EINVAL;
	memcpy(buf, str, len);
	buf[len] = '\0';
	if (strlen(buf) != len || strncmp(buf, DUNS_ATTR_HEAD, strlen(DUNS_ATTR_HEAD)) != 0)
		return EINVAL;
	type = buf + strlen(DUNS_ATTR_HEAD);
	sep = strstr(type, "://");
	if (sep == NULL)
		return EINVAL;
	*sep = '\0';
	t = -1;
	for (i = 0; i < sizeof(duns_types) / sizeof(duns_types[0]); i++)
		if (strcasecmp(type, duns_types[i]) == 0)
			t = (int)i;
	if (t < 0)
		return EINVAL;
	pool = sep + 3;
	sep = strchr(pool, '/');
	if (sep == NULL)
		return EINVAL;
	*sep = '\0';
	cont = sep + 1;
	if (strchr(cont, '/') != NULL || !duns_id_valid(pool, strlen(pool)) ||
	    !duns_id_valid(cont, strlen(cont)))
		return EINVAL;
	attr->da_type = (daos_cont_layout_t)t;
	strcpy(attr->da_pool, pool);
	strcpy(attr->da_cont, cont);
	return 0;
}

/* The attribute of @path itself: 0, ENODATA (none), or the error of getxattr / parsing. */
static int
duns_get_attr(const char *path, struct duns_attr_t *attr)
{
	char val[DUNS_MAX_XATTR_LEN + 1];
	ssize_t n;

	n = getxattr(path, DUNS_XATTR_NAME, val, sizeof(val));
	if (n < 0) {
		if (errno == ERANGE)
			return EINVAL; /* longer than any value we write */
		if (errno == ENOTSUP)
			return ENODATA;
		return errno;
	}
	if (n == 0)
		return EINVAL;
	return duns_parse_attr(val, (daos_size_t)n, attr);
}

/*
 * Look for the attribute on @path, then (unless DUNS_NO_REVERSE_LOOKUP) on each parent of
 * its real path; what lies below the entry found goes to da_rel_path.
 */
static int
duns_resolve_uns(const char *path, struct duns_attr_t *attr)
{
	char *real;
	char *full;
	char *cut;
	int rc;

	rc = duns_get_attr(path, attr);
	if ((rc != ENODATA && rc != ENOENT) || (attr->da_flags & DUNS_NO_REVERSE_LOOKUP))
		return rc;
	real = realpath(path, NULL);
	if (real == NULL) {
		/* the last component need not exist yet: resolve its parent */
		char *copy = strdup(path);
		char *slash;
		char *parent;

		if (copy == NULL)
			return ENOMEM;
		slash = strrchr(copy, '/');
		if (slash == NULL) {
			free(copy);
			return ENODATA;
		}
		*slash = '\0';
		parent = realpath(copy[0] != '\0' ? copy : "/", NULL);
		if (parent == NULL) {
			rc = errno;
			free(copy);
			return rc == ENOENT ? ENODATA : rc;
		}
		real = malloc(strlen(parent) + strlen(slash + 1) + 2);
		if (real == NULL) {
			free(parent);
			free(copy);
			return ENOMEM;
		}
		sprintf(real, "%s/%s", strcmp(parent, "/") == 0 ? "" : parent, slash + 1);
		free(parent);
		free(copy);
	}
	full = strdup(real);
	if (full == NULL) {
		free(real);
		return ENOMEM;
	}
	rc = ENODATA;
	for (;;) {
		cut = strrchr(real, '/');
		if (cut == NULL || cut == real)
			break;
		*cut = '\0';
		rc = duns_get_attr(real, attr);
		if (rc == 0) {
			/* what lies below, from the untouched copy */
			attr->da_rel_path = strdup(full + (cut - real));
			rc = attr->da_rel_path == NULL ? ENOMEM : 0;
			break;
		}
		if (rc != ENODATA && rc != ENOENT)
			break;
		rc = ENODATA;
	}
	free(full);
	free(real);
	return rc;
}

int
duns_resolve_path(const char *path, struct duns_attr_t *attr)
{
	bool direct;
	size_t len;

	if (path == NULL || attr == NULL)
		return EINVAL;
	attr->da_rel_path = NULL;
	attr->da_sys = NULL;
	len = strnlen(path, PATH_MAX + 1);
	if (len == 0)
		return EINVAL;
	if (len > PATH_MAX)
		return ENAMETOOLONG;
	if (strncmp(path, DUNS_PREFIX, DUNS_PREFIX_LEN) == 0) {
		attr->da_no_prefix = false;
		return duns_parse_direct(path + DUNS_PREFIX_LEN, attr);
	}
	direct = attr->da_no_prefix || (attr->da_flags & (DUNS_NO_PREFIX | DUNS_NO_CHECK_PATH));
	if (direct) {
		if (path[0] != '/')
			return EINVAL;
		attr->da_no_prefix = true;
		return duns_parse_direct(path, attr);
	}
	return duns_resolve_uns(path, attr);
}

int
duns_set_sys_name(struct duns_attr_t *attrp, const char *sys)
{
	char *s = NULL;

	if (attrp == NULL)
		return EINVAL;
	if (sys != NULL) {
		s = strdup(sys);
		if (s == NULL)
			return ENOMEM;
	}
	free(attrp->da_sys);
	attrp->da_sys = s;
	return 0;
}

void
duns_destroy_attr(struct duns_attr_t *attrp)
{
	if (attrp == NULL)
		return;
	free(attrp->da_rel_path);
	attrp->da_rel_path = NULL;
	free(attrp->da_sys);
	attrp->da_sys = NULL;
}

/* Make @path the link: a directory for POSIX, an empty file otherwise. */
static int
duns_path_make(const char *path, daos_cont_layout_t type)
{
	int fd;

	if (type == DAOS_PROP_CO_LAYOUT_POSIX)
		return mkdir(path, 0755) == 0 ? 0 : errno;
	fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0644);
	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static void
duns_path_unmake(const char *path, daos_cont_layout_t type)
{
	if (type == DAOS_PROP_CO_LAYOUT_POSIX)
		rmdir(path);
	else
		unlink(path);
}

/* Write the attribute naming pool @puuid and container @cuuid of layout @type on @path. */
static int
duns_set_attr(const char *path, daos_cont_layout_t type, const uuid_t puuid, const uuid_t cuuid)
{
	char val[DUNS_MAX_XATTR_LEN + 1];
	char ps[37];
	char cs[37];
	int n;

	if (type >= DAOS_PROP_CO_LAYOUT_MAX)
		return EINVAL;
	uuid_unparse(puuid, ps);
	uuid_unparse(cuuid, cs);
	n = snprintf(val, sizeof(val), DUNS_ATTR_HEAD "%s://%s/%s", duns_types[type], ps, cs);
	if (n < 0 || n > DUNS_MAX_XATTR_LEN)
		return EINVAL;
	if (setxattr(path, DUNS_XATTR_NAME, val, (size_t)n + 1, XATTR_CREATE) != 0)
		return errno;
	return 0;
}

static int
duns_pool_uuid(daos_handle_t poh, uuid_t puuid)
{
	daos_pool_info_t info;
	int rc;

	memset(&info, 0, sizeof(info));
	rc = daos_pool_query(poh, NULL, &info, NULL, NULL);
	if (rc != 0)
		return der2errno(rc);
	uuid_copy(puuid, info.pi_uuid);
	return 0;
}

int
duns_create_path(daos_handle_t poh, const char *path, struct duns_attr_t *attrp)
{
	char ustr[37];
	uuid_t puuid;
	uuid_t cuuid;
	int rc;

	if (path == NULL || attrp == NULL || attrp->da_type == DAOS_PROP_CO_LAYOUT_UNKNOWN ||
	    attrp->da_type >= DAOS_PROP_CO_LAYOUT_MAX)
		return EINVAL;
	rc = duns_pool_uuid(poh, puuid);
	if (rc != 0)
		return rc;
	rc = duns_path_make(path, attrp->da_type);
	if (rc != 0)
		return rc;
	if (attrp->da_type == DAOS_PROP_CO_LAYOUT_POSIX) {
		dfs_attr_t dattr;

		memset(&dattr, 0, sizeof(dattr));
		dattr.da_chunk_size = attrp->da_chunk_size;
		dattr.da_oclass_id = attrp->da_oclass_id;
		dattr.da_props = attrp->da_props;
		rc = dfs_cont_create(poh, &cuuid, &dattr, NULL, NULL);
	} else {
		daos_prop_t *prop = daos_prop_alloc(1);
		daos_prop_t *all = NULL;

		if (prop == NULL) {
			rc = ENOMEM;
		} else {
			prop->dpp_entries[0].dpe_type = DAOS_PROP_CO_LAYOUT_TYPE;
			prop->dpp_entries[0].dpe_val = attrp->da_type;
			all =
			    attrp->da_props != NULL ? daos_prop_merge(attrp->da_props, prop) : prop;
			rc = all == NULL ? ENOMEM
					 : der2errno(daos_cont_create(poh, &cuuid, all, NULL));
			if (all != prop)
				daos_prop_free(all);
			daos_prop_free(prop);
		}
	}
	if (rc != 0)
		goto out_path;
	uuid_unparse(cuuid, ustr);
	rc = duns_set_attr(path, attrp->da_type, puuid, cuuid);
	if (rc != 0) {
		daos_cont_destroy(poh, ustr, 1, NULL);
		goto out_path;
	}
	uuid_copy(attrp->da_cuuid, cuuid);
	strcpy(attrp->da_cont, ustr);
	return 0;

out_path:
	duns_path_unmake(path, attrp->da_type);
	return rc;
}

int
duns_link_cont(daos_handle_t poh, const char *cont, const char *path)
{
	struct daos_prop_entry *e;
	daos_cont_info_t info;
	daos_cont_layout_t type;
	daos_handle_t coh;
	daos_prop_t *prop;
	uuid_t puuid;
	int rc;

	if (cont == NULL || path == NULL)
		return EINVAL;
	rc = duns_pool_uuid(poh, puuid);
	if (rc != 0)
		return rc;
	prop = daos_prop_alloc(1);
	if (prop == NULL)
		return ENOMEM;
	prop->dpp_entries[0].dpe_type = DAOS_PROP_CO_LAYOUT_TYPE;
	rc = daos_cont_open(poh, cont, DAOS_COO_RO, &coh, &info, NULL);
	if (rc != 0) {
		rc = der2errno(rc);
		goto out_prop;
	}
	rc = der2errno(daos_cont_query(coh, NULL, prop, NULL));
	daos_cont_close(coh, NULL);
	if (rc != 0)
		goto out_prop;
	e = daos_prop_entry_get(prop, DAOS_PROP_CO_LAYOUT_TYPE);
	type = e != NULL && e->dpe_val < DAOS_PROP_CO_LAYOUT_MAX ? (daos_cont_layout_t)e->dpe_val
								 : DAOS_PROP_CO_LAYOUT_UNKNOWN;
	rc = duns_path_make(path, type);
	if (rc != 0)
		goto out_prop;
	rc = duns_set_attr(path, type, puuid, info.ci_uuid);
	if (rc != 0)
		duns_path_unmake(path, type);
out_prop:
	daos_prop_free(prop);
	return rc;
}

int
duns_destroy_path(daos_handle_t poh, const char *path)
{
	struct duns_attr_t attr;
	int rc;

	if (path == NULL)
		return EINVAL;
	memset(&attr, 0, sizeof(attr));
	rc = duns_get_attr(path, &attr);
	if (rc != 0)
		return rc;
	rc = der2errno(daos_cont_destroy(poh, attr.da_cont, 1, NULL));
	if (rc != 0 && rc != ENOENT)
		return rc;
	if (attr.da_type == DAOS_PROP_CO_LAYOUT_POSIX)
		rc = rmdir(path) == 0 ? 0 : errno;
	else
		rc = unlink(path) == 0 ? 0 : errno;
	return rc;
}
