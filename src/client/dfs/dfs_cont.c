/*
 * dfs_cont.c: POSIX containers over the container API of libdaos: dfs_cont_create[_with_
 * label] (a container with the POSIX layout type, mounted once read-write so that its
 * superblock and root exist, with the caller's chunk size and object class), and
 * dfs_connect / dfs_disconnect / dfs_destroy, which take pool and container names (labels
 * or uuids) and keep the handles they open for themselves.
 *
 * Every function returns 0 or a positive errno. Events: dfs_destroy completes synchronously
 * (the container destroy completes @ev before returning).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>

#include <daos.h>
#include <daos_fs.h>
#include <daos/event.h>
#include <gurt/common.h>
#include <gurt/list.h>

#include "dfs_internal.h"

static int
der2errno(int rc)
{
	return rc == 0 ? 0 : d_der2errno(rc);
}

/* Write the chunk size and object class of @attr into the superblock of a fresh @dfs. */
static int
sb_attr_store(dfs_t *dfs, uint64_t chunk, uint64_t oclass)
{
	static const char *const names[2] = {DFS_SB_CHUNK_AKEY, DFS_SB_OCLASS_AKEY};
	uint64_t vals[2] = {chunk, oclass};
	daos_iod_t iods[2];
	d_iov_t iovs[2];
	d_sg_list_t sgls[2];
	daos_key_t dkey;
	int i;
	int rc;

	memset(iods, 0, sizeof(iods));
	for (i = 0; i < 2; i++) {
		d_iov_set(&iods[i].iod_name, (void *)names[i], strlen(names[i]));
		iods[i].iod_type = DAOS_IOD_SINGLE;
		iods[i].iod_size = sizeof(uint64_t);
		iods[i].iod_nr = 1;
		d_iov_set(&iovs[i], &vals[i], sizeof(uint64_t));
		sgls[i] = (d_sg_list_t){.sg_nr = 1, .sg_iovs = &iovs[i]};
	}
	d_iov_set(&dkey, DFS_SB_DKEY, strlen(DFS_SB_DKEY));
	rc = daos_obj_update(dfs->dn_sb_oh, DAOS_TX_NONE, 0, &dkey, 2, iods, sgls, NULL);
	if (rc != 0)
		return der2errno(rc);
	dfs->dn_chunk = chunk;
	dfs->dn_oclass = (daos_oclass_id_t)oclass;
	return 0;
}

/* The creation properties: the caller's, with the POSIX layout type. */
static int
cont_props(dfs_attr_t *attr, daos_prop_t **propp)
{
	daos_prop_t *layout;
	daos_prop_t *merged;
	int rc;

	layout = daos_prop_alloc(1);
	if (layout == NULL)
		return -DER_NOMEM;
	layout->dpp_entries[0].dpe_type = DAOS_PROP_CO_LAYOUT_TYPE;
	layout->dpp_entries[0].dpe_val = DAOS_PROP_CO_LAYOUT_POSIX;
	if (attr == NULL || attr->da_props == NULL) {
		*propp = layout;
		return 0;
	}
	rc = daos_prop_merge2(attr->da_props, layout, &merged);
	daos_prop_free(layout);
	if (rc == 0)
		*propp = merged;
	return rc;
}

static int
cont_create(daos_handle_t poh, const char *label, dfs_attr_t *attr, uuid_t *uuidp,
	    daos_handle_t *cohp, dfs_t **dfsp)
{
	char ustr[DAOS_UUID_STR_SIZE];
	daos_prop_t *prop = NULL;
	daos_handle_t coh;
	dfs_t *dfs = NULL;
	uuid_t uuid;
	int flags = O_RDWR;
	int rc;

	if (dfsp != NULL && cohp == NULL)
		return EINVAL;
	if (attr != NULL && attr->da_mode != DFS_RELAXED && attr->da_mode != DFS_BALANCED)
		return EINVAL;
	if (attr != NULL && attr->da_mode == DFS_BALANCED)
		flags |= DFS_BALANCED;
	rc = cont_props(attr, &prop);
	if (rc != 0)
		return der2errno(rc);
	if (label != NULL)
		rc = daos_cont_create_with_label(poh, label, prop, &uuid, NULL);
	else
		rc = daos_cont_create(poh, &uuid, prop, NULL);
	daos_prop_free(prop);
	if (rc != 0)
		return der2errno(rc);
	uuid_unparse_lower(uuid, ustr);
	rc = daos_cont_open(poh, ustr, DAOS_COO_RW, &coh, NULL, NULL);
	if (rc != 0) {
		rc = der2errno(rc);
		goto out_destroy;
	}
	rc = dfs_mount(poh, coh, flags, &dfs);
	if (rc == 0 && attr != NULL && (attr->da_chunk_size != 0 || attr->da_oclass_id != 0))
		rc = sb_attr_store(
		    dfs, attr->da_chunk_size != 0 ? attr->da_chunk_size : DFS_DEFAULT_CHUNK_SIZE,
		    attr->da_oclass_id);
	if (rc != 0) {
		if (dfs != NULL)
			dfs_umount(dfs);
		daos_cont_close(coh, NULL);
		goto out_destroy;
	}
	if (dfsp != NULL)
		*dfsp = dfs;
	else
		dfs_umount(dfs);
	if (cohp != NULL)
		*cohp = coh;
	else
		daos_cont_close(coh, NULL);
	if (uuidp != NULL)
		uuid_copy(*uuidp, uuid);
	return 0;

out_destroy:
	/* do not leave a container that is not a file system behind */
	daos_cont_destroy(poh, ustr, 1, NULL);
	return rc;
}

int
dfs_cont_create(daos_handle_t poh, uuid_t *uuid, dfs_attr_t *attr, daos_handle_t *coh, dfs_t **dfs)
{
	return cont_create(poh, NULL, attr, uuid, coh, dfs);
}

int
dfs_cont_create_with_label(daos_handle_t poh, const char *label, dfs_attr_t *attr, uuid_t *uuid,
			   daos_handle_t *coh, dfs_t **dfs)
{
	if (label == NULL || !daos_label_is_valid(label))
		return EINVAL;
	return cont_create(poh, label, attr, uuid, coh, dfs);
}

/*
 * Namespaces mounted by dfs_connect, with the handles opened for them (dfs_disconnect
 * closes them). Each dfs_connect opens its own pool and container handles.
 */
struct dfs_conn {
	d_list_t cn_link;
	dfs_t *cn_dfs;
	daos_handle_t cn_poh;
	daos_handle_t cn_coh;
};

static D_LIST_HEAD(dfs_conns);
static pthread_mutex_t dfs_conns_lock = PTHREAD_MUTEX_INITIALIZER;

int
dfs_connect(const char *pool, const char *sys, const char *cont, int flags, dfs_attr_t *attr,
	    dfs_t **dfsp)
{
	struct dfs_conn *conn;
	int acc = flags & O_ACCMODE;
	bool rdonly = acc == O_RDONLY;
	int rc;

	if (pool == NULL || cont == NULL || dfsp == NULL || (acc != O_RDONLY && acc != O_RDWR))
		return EINVAL;
	D_ALLOC_PTR(conn);
	if (conn == NULL)
		return ENOMEM;
	rc = daos_pool_connect(pool, sys, rdonly ? DAOS_PC_RO : DAOS_PC_RW, &conn->cn_poh, NULL,
			       NULL);
	if (rc != 0) {
		rc = rc == -DER_UNINIT ? EACCES : der2errno(rc);
		goto out_free;
	}
	rc = daos_cont_open(conn->cn_poh, cont, rdonly ? DAOS_COO_RO : DAOS_COO_RW, &conn->cn_coh,
			    NULL, NULL);
	if (rc == -DER_NONEXIST && (flags & O_CREAT)) {
		/* only a label names a container to create (as DAOS) */
		if (daos_label_is_valid(cont))
			rc = cont_create(conn->cn_poh, cont, attr, NULL, &conn->cn_coh,
					 &conn->cn_dfs);
		else
			rc = EINVAL;
		if (rc == EEXIST) {
			/* another process created it meanwhile: use theirs */
			rc = der2errno(daos_cont_open(conn->cn_poh, cont,
						      rdonly ? DAOS_COO_RO : DAOS_COO_RW,
						      &conn->cn_coh, NULL, NULL));
			if (rc == 0) {
				rc = dfs_mount(conn->cn_poh, conn->cn_coh, flags & ~O_CREAT,
					       &conn->cn_dfs);
				if (rc != 0)
					daos_cont_close(conn->cn_coh, NULL);
			}
		}
		if (rc != 0)
			goto out_pool;
	} else if (rc != 0) {
		rc = der2errno(rc);
		goto out_pool;
	} else {
		rc = dfs_mount(conn->cn_poh, conn->cn_coh, flags & ~O_CREAT, &conn->cn_dfs);
		if (rc != 0) {
			daos_cont_close(conn->cn_coh, NULL);
			goto out_pool;
		}
	}
	pthread_mutex_lock(&dfs_conns_lock);
	d_list_add(&conn->cn_link, &dfs_conns);
	pthread_mutex_unlock(&dfs_conns_lock);
	*dfsp = conn->cn_dfs;
	return 0;

out_pool:
	daos_pool_disconnect(conn->cn_poh, NULL);
out_free:
	D_FREE(conn);
	return rc;
}

int
dfs_disconnect(dfs_t *dfs)
{
	struct dfs_conn *conn;
	struct dfs_conn *found = NULL;
	int rc;

	if (dfs == NULL)
		return EINVAL;
	pthread_mutex_lock(&dfs_conns_lock);
	d_list_for_each_entry (conn, &dfs_conns, cn_link) {
		if (conn->cn_dfs == dfs) {
			found = conn;
			d_list_del(&conn->cn_link);
			break;
		}
	}
	pthread_mutex_unlock(&dfs_conns_lock);
	if (found == NULL)
		return EINVAL; /* not from dfs_connect: dfs_umount it */
	rc = dfs_umount(dfs);
	if (rc == 0)
		rc = der2errno(daos_cont_close(found->cn_coh, NULL));
	if (rc == 0)
		rc = der2errno(daos_pool_disconnect(found->cn_poh, NULL));
	D_FREE(found);
	return rc;
}

int
dfs_destroy(const char *pool, const char *sys, const char *cont, int force, daos_event_t *ev)
{
	daos_handle_t poh;
	int rc2;
	int rc;

	if (pool == NULL || cont == NULL)
		return EINVAL;
	rc = daos_pool_connect(pool, sys, DAOS_PC_RW, &poh, NULL, NULL);
	if (rc != 0)
		return rc == -DER_UNINIT ? EACCES : der2errno(rc);
	/*
	 * Blocking, then @ev completed: the pool handle must outlive the destroy, and the
	 * service would refuse a destroy that arrived after the disconnect.
	 */
	rc = daos_cont_destroy(poh, cont, force, NULL);
	daos_pool_disconnect(poh, NULL);
	if (ev == NULL)
		return der2errno(rc);
	rc2 = daos_event_launch(ev);
	if (rc2 != 0)
		return der2errno(rc2);
	daos_event_complete(ev, der2errno(rc));
	return 0;
}

/*
 * The blob of dfs_local2global_all: this header, then the pool handle's global form
 * (daos_pool_local2global), the container handle's (daos_cont_local2global) and the
 * mount's (dfs_local2global), each of the length the header gives. Host byte order: the
 * blob goes to another process of the same job, not to storage.
 */
struct dfs_glob_all_df {
	uint32_t ga_magic;
	uint32_t ga_version;
	uint64_t ga_pool_len;
	uint64_t ga_cont_len;
	uint64_t ga_dfs_len;
};
_Static_assert(sizeof(struct dfs_glob_all_df) == 32, "dfs_glob_all_df layout");

#define DFS_GLOB_ALL_MAGIC 0xdf5a11a1U
#define DFS_GLOB_ALL_VERSION 1

int
dfs_local2global_all(dfs_t *dfs, d_iov_t *glob)
{
	struct dfs_glob_all_df g = {.ga_magic = DFS_GLOB_ALL_MAGIC,
				    .ga_version = DFS_GLOB_ALL_VERSION};
	d_iov_t piov = {0};
	d_iov_t civ = {0};
	d_iov_t div = {0};
	char *tmp;
	char *p;
	size_t total;
	int rc;

	if (dfs == NULL || glob == NULL)
		return EINVAL;
	/* the sizes first */
	rc = daos_pool_local2global(dfs->dn_poh, &piov);
	if (rc == 0)
		rc = daos_cont_local2global(dfs->dn_coh, &civ);
	if (rc != 0)
		return der2errno(rc);
	rc = dfs_local2global(dfs, &div);
	if (rc != 0)
		return rc;
	total = sizeof(g) + piov.iov_buf_len + civ.iov_buf_len + div.iov_buf_len;
	if (glob->iov_buf == NULL) {
		glob->iov_buf_len = total;
		glob->iov_len = 0;
		return 0;
	}
	if (glob->iov_buf_len < total)
		return ERANGE;
	/* each part is encoded in an aligned scratch buffer (the encoders write their structs
	 * in place), then packed after the header */
	D_ALLOC(tmp, total);
	if (tmp == NULL)
		return ENOMEM;
	p = (char *)glob->iov_buf + sizeof(g);
	d_iov_set(&piov, tmp, piov.iov_buf_len);
	rc = daos_pool_local2global(dfs->dn_poh, &piov);
	if (rc != 0) {
		rc = rc == -DER_TRUNC ? ERANGE : der2errno(rc); /* the pool map grew meanwhile */
		goto out_tmp;
	}
	memcpy(p, tmp, piov.iov_len);
	p += piov.iov_len;
	d_iov_set(&civ, tmp, civ.iov_buf_len);
	rc = der2errno(daos_cont_local2global(dfs->dn_coh, &civ));
	if (rc != 0)
		goto out_tmp;
	memcpy(p, tmp, civ.iov_len);
	p += civ.iov_len;
	d_iov_set(&div, tmp, div.iov_buf_len);
	rc = dfs_local2global(dfs, &div);
	if (rc != 0)
		goto out_tmp;
	memcpy(p, tmp, div.iov_len);
	g.ga_pool_len = piov.iov_len;
	g.ga_cont_len = civ.iov_len;
	g.ga_dfs_len = div.iov_len;
	memcpy(glob->iov_buf, &g, sizeof(g));
	glob->iov_len = sizeof(g) + piov.iov_len + civ.iov_len + div.iov_len;
out_tmp:
	D_FREE(tmp);
	return rc;
}

int
dfs_global2local_all(int flags, d_iov_t glob, dfs_t **dfsp)
{
	struct dfs_glob_all_df g;
	struct dfs_conn *conn;
	d_iov_t piov;
	d_iov_t civ;
	d_iov_t div;
	char *pbuf;
	char *cbuf;
	char *dbuf;
	char *p;
	int acc = flags & O_ACCMODE;
	int rc;

	if (dfsp == NULL || glob.iov_buf == NULL || glob.iov_len < sizeof(g) ||
	    glob.iov_buf_len < glob.iov_len || (flags != 0 && acc != O_RDONLY && acc != O_RDWR))
		return EINVAL;
	memcpy(&g, glob.iov_buf, sizeof(g));
	if (g.ga_magic != DFS_GLOB_ALL_MAGIC || g.ga_version != DFS_GLOB_ALL_VERSION ||
	    g.ga_pool_len == 0 || g.ga_cont_len == 0 || g.ga_dfs_len == 0 ||
	    g.ga_pool_len > glob.iov_len || g.ga_cont_len > glob.iov_len ||
	    g.ga_dfs_len > glob.iov_len ||
	    sizeof(g) + g.ga_pool_len + g.ga_cont_len + g.ga_dfs_len != glob.iov_len)
		return EINVAL;
	/* each part in its own (aligned) buffer: the decoders read their structs in place */
	p = (char *)glob.iov_buf + sizeof(g);
	D_ALLOC(pbuf, g.ga_pool_len + g.ga_cont_len + g.ga_dfs_len + 16);
	if (pbuf == NULL)
		return ENOMEM;
	memcpy(pbuf, p, g.ga_pool_len);
	d_iov_set(&piov, pbuf, g.ga_pool_len);
	cbuf = pbuf + ((g.ga_pool_len + 7) & ~7ULL);
	memcpy(cbuf, p + g.ga_pool_len, g.ga_cont_len);
	d_iov_set(&civ, cbuf, g.ga_cont_len);
	dbuf = cbuf + ((g.ga_cont_len + 7) & ~7ULL);
	memcpy(dbuf, p + g.ga_pool_len + g.ga_cont_len, g.ga_dfs_len);
	d_iov_set(&div, dbuf, g.ga_dfs_len);
	D_ALLOC_PTR(conn);
	if (conn == NULL) {
		D_FREE(pbuf);
		return ENOMEM;
	}
	rc = daos_pool_global2local(piov, &conn->cn_poh);
	if (rc != 0) {
		rc = rc == -DER_UNINIT ? EACCES : der2errno(rc);
		goto out_free;
	}
	rc = daos_cont_global2local(conn->cn_poh, civ, &conn->cn_coh);
	if (rc != 0) {
		rc = der2errno(rc);
		goto out_pool;
	}
	rc = dfs_global2local(conn->cn_poh, conn->cn_coh, flags, div, &conn->cn_dfs);
	if (rc != 0)
		goto out_cont;
	pthread_mutex_lock(&dfs_conns_lock);
	d_list_add(&conn->cn_link, &dfs_conns);
	pthread_mutex_unlock(&dfs_conns_lock);
	D_FREE(pbuf);
	*dfsp = conn->cn_dfs;
	return 0;

out_cont:
	daos_cont_close(conn->cn_coh, NULL);
out_pool:
	daos_pool_disconnect(conn->cn_poh, NULL);
out_free:
	D_FREE(conn);
	D_FREE(pbuf);
	return rc;
}
