/*
 * cont_svc_test.c: the management service's pool-handle and container methods (220-247),
 * called over the management port like the fabric relay does, with a credential from a real
 * daos_agent ($DAOS_AGENT_DRPC_DIR). Driven by test_cont_svc.sh:
 *
 *   cont_svc_test main ADDR POOL STATE [SEED]  connect/disconnect, credentials, pool ACL
 *                                               denial, pool attributes, a random sequence
 *                                               of container operations checked against a
 *                                               model, container ACL denial; leaves a pool
 *                                               handle and a container handle open and
 *                                               writes what must survive to STATE
 *   cont_svc_test restart ADDR POOL STATE      after a server restart: the handles, the
 *                                               containers, snapshots, attributes; new OIDs
 *                                               above every range answered before
 *   cont_svc_test nohdl ADDR POOL STATE        after dmg pool evict: the handles are gone
 *   cont_svc_test connect ADDR POOL -           connect and leave the handle open
 *   cont_svc_test race ADDR POOL STATE         4 processes at once on one container: OID
 *                                               ranges, attributes, snapshots (none lost,
 *                                               no range twice), container ACL entries,
 *                                               and on the pool record: attributes, ACL
 *                                               entries, properties
 *
 * ADDR may list several servers ("a:p,b:q"): calls follow leader hints and move on to the
 * next server while none answers.
 *
 * Prints "ok: ..." / "FAIL: ..." lines; exits 1 if any check failed, 2 on a setup error.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uuid/uuid.h>

#include <gurt/common.h>
#include <daos_cont.h>
#include <daos_errno.h>
#include <daos_prop.h>
#include <daos_types.h>
#include <daos/security.h>
#include <daos_srv/ctl.h>

#include "mgmt/acl.pb-c.h"
#include "mgmt/cont.pb-c.h"
#include "mgmt/pool.pb-c.h"
#include "mgmt/svc.pb-c.h"

static struct dss_ctl_client *cli;
static const char *pool_id;
static ProtobufCBinaryData cred;
static int fails;

static void
check(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf(ok ? "ok: " : "FAIL: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!ok)
		fails++;
}

/* The servers to try (ADDR may be a comma-separated list) and the one in use. */
static char *addrs[8];
static int naddrs, cur;

/* Reconnect to @addr, or to the next server of the list if NULL. */
static void
reconnect(const char *addr)
{
	dss_ctl_client_close(cli);
	cli = NULL;
	if (addr == NULL)
		cur = (cur + 1) % naddrs;
	if (dss_ctl_client_open(addr != NULL ? addr : addrs[cur], 5000, &cli) != 0)
		cli = NULL;
}

static void
msg_free(ProtobufCMessage *m)
{
	if (m != NULL)
		protobuf_c_message_free_unpacked(m, NULL);
}

/*
 * Call @method with @req; the reply unpacked as @desc. @resp is the address of a pointer to
 * the reply's type (every reply type is a ProtobufCMessage), which gets the reply (NULL on
 * an error without one) for the caller to msg_free; or NULL: the reply is freed here.
 * Follows leader hints, and tries the other servers while none answers (a leader died),
 * for 30 s at most. Returns the envelope status, else the reply's status field.
 */
static int
call(uint32_t method, const ProtobufCMessage *req, const ProtobufCMessageDescriptor *desc,
     void *resp)
{
	size_t len = protobuf_c_message_get_packed_size(req);
	void *buf = malloc(len + 1), *reply = NULL;
	ProtobufCMessage *m = NULL;
	size_t rlen = 0;
	int rc = -DER_UNREACH, tries;

	protobuf_c_message_pack(req, buf);
	/* 30 s at most: 150 tries, each after a pause of 200 ms but the first after a hint */
	for (tries = 0; tries < 150; tries++) {
		rc = cli == NULL ? -DER_UNREACH
				 : dss_ctl_client_call(cli, method, buf, len, 30000, &reply, &rlen);
		if (rc == -DER_NOTLEADER) {
			Mgmt__LeaderHint *h = mgmt__leader_hint__unpack(NULL, rlen, reply);

			free(reply);
			reply = NULL;
			rlen = 0;
			/* an election: hints may name a dead or a stale leader; pace the tries */
			if (h != NULL && h->leader[0] != '\0' && tries % 2 == 0) {
				usleep(20000);
				reconnect(h->leader);
			} else {
				usleep(200000);
				reconnect(NULL);
			}
			if (h != NULL)
				mgmt__leader_hint__free_unpacked(h, NULL);
			continue;
		}
		if (rc == -DER_UNREACH || rc == -DER_TIMEDOUT) {
			free(reply);
			reply = NULL;
			rlen = 0;
			usleep(200000);
			reconnect(NULL);
			continue;
		}
		break;
	}
	free(buf);
	if (rc == 0 || rlen > 0) {
		m = protobuf_c_message_unpack(desc, NULL, rlen, reply);
		if (rc == 0 && m == NULL)
			rc = -DER_PROTO;
	}
	if (rc == 0) {
		/* every reply of these methods has "status" as field 1 */
		const ProtobufCFieldDescriptor *f =
		    protobuf_c_message_descriptor_get_field(desc, 1);

		if (f != NULL && strcmp(f->name, "status") == 0)
			rc = *(int32_t *)((char *)m + f->offset);
	}
	free(reply);
	/* all pointers to structures have one representation (C11 6.2.5) */
	if (resp != NULL)
		memcpy(resp, &m, sizeof(m));
	else
		msg_free(m);
	return rc;
}

/* Fill @h for the request's hdr field, which gets the return value. */
static Mgmt__ClientHeader *
hdr_init(Mgmt__ClientHeader *h, const char *phdl, const char *cont, const char *chdl)
{
	mgmt__client_header__init(h);
	h->pool = (char *)pool_id;
	h->pool_hdl = (char *)(phdl != NULL ? phdl : "");
	h->cont = (char *)(cont != NULL ? cont : "");
	h->cont_hdl = (char *)(chdl != NULL ? chdl : "");
	h->cred = cred;
	return h;
}

static void
new_uuid(char *buf)
{
	uuid_t u;

	uuid_generate(u);
	uuid_unparse_lower(u, buf);
}

static int
connect_pool(const char *hdl, uint64_t flags, Mgmt__PoolConnectResp **out)
{
	Mgmt__PoolConnectReq req = MGMT__POOL_CONNECT_REQ__INIT;
	Mgmt__ClientHeader h;

	req.hdr = hdr_init(&h, hdl, NULL, NULL);
	req.flags = flags;
	return call(DSS_CTL_POOL_CONNECT, &req.base, &mgmt__pool_connect_resp__descriptor, out);
}

static int
pool_hdl_call(uint32_t method, const char *hdl, const ProtobufCMessageDescriptor *desc,
	      ProtobufCMessage **out)
{
	Mgmt__PoolHdlReq req = MGMT__POOL_HDL_REQ__INIT;
	Mgmt__ClientHeader h;

	req.hdr = hdr_init(&h, hdl, NULL, NULL);
	req.query_mask = 1;
	return call(method, &req.base, desc, out);
}

static int
disconnect_pool(const char *hdl)
{
	Mgmt__PoolDisconnectReq req = MGMT__POOL_DISCONNECT_REQ__INIT;
	Mgmt__ClientHeader h;

	req.hdr = hdr_init(&h, hdl, NULL, NULL);
	return call(DSS_CTL_POOL_DISCONNECT, &req.base, &mgmt__pool_disconnect_resp__descriptor,
		    NULL);
}

static int
pool_acl_set(const char **ents, size_t n)
{
	Mgmt__ModifyACLReq req = MGMT__MODIFY_ACLREQ__INIT;

	req.id = (char *)pool_id;
	req.entries = (char **)ents;
	req.n_entries = n;
	return call(DSS_CTL_POOL_OVERWRITE_ACL, &req.base, &mgmt__aclresp__descriptor, NULL);
}

/* Add (or replace) the pool ACL entry @ent. */
static int
pool_acl_update(const char *ent)
{
	Mgmt__ModifyACLReq req = MGMT__MODIFY_ACLREQ__INIT;
	ProtobufCMessage *r;
	int rc;

	req.id = (char *)pool_id;
	req.entries = (char **)&ent;
	req.n_entries = 1;
	rc = call(DSS_CTL_POOL_UPDATE_ACL, &req.base, &mgmt__aclresp__descriptor, &r);
	msg_free(r);
	return rc;
}

/* The pool ACL, its entries joined by ',' into @buf. */
static int
pool_acl_get(char *buf, size_t len)
{
	Mgmt__GetACLReq req = MGMT__GET_ACLREQ__INIT;
	Mgmt__ACLResp *r;
	size_t i, off = 0;
	int rc;

	req.id = (char *)pool_id;
	buf[0] = '\0';
	rc = call(DSS_CTL_POOL_GET_ACL, &req.base, &mgmt__aclresp__descriptor,
		  (ProtobufCMessage **)&r);
	if (rc != 0)
		return rc;
	for (i = 0; r->acl != NULL && i < r->acl->n_entries && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s,", r->acl->entries[i]);
	msg_free(&r->base);
	return 0;
}

/* Set the pool's numeric property @number to @val. */
static int
pool_prop_set(uint32_t number, uint64_t val)
{
	Mgmt__PoolSetPropReq req = MGMT__POOL_SET_PROP_REQ__INIT;
	Mgmt__PoolProperty p = MGMT__POOL_PROPERTY__INIT, *pp = &p;
	ProtobufCMessage *r;
	int rc;

	req.id = (char *)pool_id;
	p.number = number;
	p.value_case = MGMT__POOL_PROPERTY__VALUE_NUMVAL;
	p.numval = val;
	req.properties = &pp;
	req.n_properties = 1;
	rc = call(DSS_CTL_POOL_SET_PROP, &req.base, &mgmt__pool_set_prop_resp__descriptor, &r);
	msg_free(r);
	return rc;
}

/* The pool's numeric property @number into *@val. */
static int
pool_prop_get(uint32_t number, uint64_t *val)
{
	Mgmt__PoolGetPropReq req = MGMT__POOL_GET_PROP_REQ__INIT;
	Mgmt__PoolProperty p = MGMT__POOL_PROPERTY__INIT, *pp = &p;
	Mgmt__PoolGetPropResp *r;
	int rc;

	req.id = (char *)pool_id;
	p.number = number;
	req.properties = &pp;
	req.n_properties = 1;
	rc = call(DSS_CTL_POOL_GET_PROP, &req.base, &mgmt__pool_get_prop_resp__descriptor,
		  (ProtobufCMessage **)&r);
	if (rc != 0)
		return rc;
	if (r->n_properties != 1 ||
	    r->properties[0]->value_case != MGMT__POOL_PROPERTY__VALUE_NUMVAL)
		rc = -DER_NONEXIST;
	else
		*val = r->properties[0]->numval;
	msg_free(&r->base);
	return rc;
}

/* Add @ent to the ACL of the container open as @chdl; *@n (optional): its entries that
 * start with @prefix afterwards. */
static int
cont_acl_update(const char *phdl, const char *chdl, const char *ent, const char *prefix, int *n)
{
	Mgmt__ContAclReq req = MGMT__CONT_ACL_REQ__INIT;
	Mgmt__ClientHeader h;
	Mgmt__ContAclResp *r = NULL;
	size_t i;
	int rc;

	hdr_init(&h, phdl, NULL, chdl);
	req.hdr = &h;
	req.acl = (char **)&ent;
	req.n_acl = 1;
	rc = call(DSS_CTL_CONT_UPDATE_ACL, &req.base, &mgmt__cont_acl_resp__descriptor,
		  (ProtobufCMessage **)&r);
	if (rc == 0 && n != NULL)
		for (*n = 0, i = 0; i < r->n_acl; i++)
			*n += strncmp(r->acl[i], prefix, strlen(prefix)) == 0;
	msg_free(r != NULL ? &r->base : NULL);
	return rc;
}

/*
 * Containers.
 */

static int
cont_create(const char *phdl, const char *uuid, const char *label, const char *owner,
	    const char **acl, size_t nacl, uint64_t layout)
{
	Mgmt__ContCreateReq req = MGMT__CONT_CREATE_REQ__INIT;
	Mgmt__ContProperty p[4], *pp[4];
	Mgmt__ClientHeader h;
	size_t n = 0;

	req.hdr = hdr_init(&h, phdl, uuid, NULL);
	if (label != NULL) {
		mgmt__cont_property__init(&p[n]);
		p[n].number = DAOS_PROP_CO_LABEL;
		p[n++].strval = (char *)label;
	}
	if (owner != NULL) {
		mgmt__cont_property__init(&p[n]);
		p[n].number = DAOS_PROP_CO_OWNER;
		p[n++].strval = (char *)owner;
	}
	if (acl != NULL) {
		mgmt__cont_property__init(&p[n]);
		p[n].number = DAOS_PROP_CO_ACL;
		p[n].acl = (char **)acl;
		p[n++].n_acl = nacl;
	}
	mgmt__cont_property__init(&p[n]);
	p[n].number = DAOS_PROP_CO_LAYOUT_TYPE;
	p[n++].numval = layout;
	for (size_t i = 0; i < n; i++)
		pp[i] = &p[i];
	req.properties = pp;
	req.n_properties = n;
	return call(DSS_CTL_CONT_CREATE, &req.base, &mgmt__cont_create_resp__descriptor, NULL);
}

static int
cont_destroy(const char *phdl, const char *cont, bool force)
{
	Mgmt__ContDestroyReq req = MGMT__CONT_DESTROY_REQ__INIT;
	Mgmt__ClientHeader h;

	req.hdr = hdr_init(&h, phdl, cont, NULL);
	req.force = force;
	return call(DSS_CTL_CONT_DESTROY, &req.base, &mgmt__cont_destroy_resp__descriptor, NULL);
}

static int
cont_open(const char *phdl, const char *cont, const char *chdl, uint64_t flags,
	  Mgmt__ContOpenResp **out)
{
	Mgmt__ContOpenReq req = MGMT__CONT_OPEN_REQ__INIT;
	Mgmt__ClientHeader h;

	req.hdr = hdr_init(&h, phdl, cont, chdl);
	req.flags = flags;
	return call(DSS_CTL_CONT_OPEN, &req.base, &mgmt__cont_open_resp__descriptor, out);
}

static int
cont_close(const char *phdl, const char *chdl)
{
	Mgmt__ContCloseReq req = MGMT__CONT_CLOSE_REQ__INIT;
	Mgmt__ClientHeader h;

	req.hdr = hdr_init(&h, phdl, NULL, chdl);
	return call(DSS_CTL_CONT_CLOSE, &req.base, &mgmt__cont_close_resp__descriptor, NULL);
}

static int
cont_query(const char *phdl, const char *chdl, uint32_t prop, Mgmt__ContQueryResp **out)
{
	Mgmt__ContQueryReq req = MGMT__CONT_QUERY_REQ__INIT;
	Mgmt__ContProperty p = MGMT__CONT_PROPERTY__INIT, *pp = &p;
	Mgmt__ClientHeader h;

	req.hdr = hdr_init(&h, phdl, NULL, chdl);
	if (prop != 0) {
		p.number = prop;
		req.properties = &pp;
		req.n_properties = 1;
	}
	return call(DSS_CTL_CONT_QUERY, &req.base, &mgmt__cont_query_resp__descriptor, out);
}

static int
cont_set_prop(const char *phdl, const char *chdl, uint32_t number, const char *str, uint64_t num)
{
	Mgmt__ContSetPropReq req = MGMT__CONT_SET_PROP_REQ__INIT;
	Mgmt__ContProperty p = MGMT__CONT_PROPERTY__INIT, *pp = &p;
	Mgmt__ClientHeader h;

	req.hdr = hdr_init(&h, phdl, NULL, chdl);
	p.number = number;
	p.strval = (char *)(str != NULL ? str : "");
	p.numval = num;
	req.properties = &pp;
	req.n_properties = 1;
	return call(DSS_CTL_CONT_SET_PROP, &req.base, &mgmt__cont_set_prop_resp__descriptor, NULL);
}

static int
cont_snap(uint32_t method, const char *phdl, const char *chdl, uint64_t epoch,
	  Mgmt__ContSnapResp **out)
{
	Mgmt__ContSnapReq req = MGMT__CONT_SNAP_REQ__INIT;
	Mgmt__ClientHeader h;

	req.hdr = hdr_init(&h, phdl, NULL, chdl);
	req.epoch = epoch;
	return call(method, &req.base, &mgmt__cont_snap_resp__descriptor, out);
}

static int
cont_oids(const char *phdl, const char *chdl, uint64_t n, uint64_t *oid)
{
	Mgmt__ContAllocOidsReq req = MGMT__CONT_ALLOC_OIDS_REQ__INIT;
	Mgmt__ClientHeader h;
	ProtobufCMessage *r;
	int rc;

	req.hdr = hdr_init(&h, phdl, NULL, chdl);
	req.num_oids = n;
	rc = call(DSS_CTL_CONT_ALLOC_OIDS, &req.base, &mgmt__cont_alloc_oids_resp__descriptor, &r);
	if (rc == 0)
		*oid = ((Mgmt__ContAllocOidsResp *)r)->oid;
	msg_free(r);
	return rc;
}

/* Attributes: set one name (@val non-NULL) or delete it; get @name into @buf. */
static int
attr_set(uint32_t method, const char *phdl, const char *chdl, const char *name, const char *val)
{
	Mgmt__AttrSetReq sreq = MGMT__ATTR_SET_REQ__INIT;
	Mgmt__AttrDelReq dreq = MGMT__ATTR_DEL_REQ__INIT;
	Mgmt__Attr a = MGMT__ATTR__INIT, *ap = &a;
	Mgmt__ClientHeader h;

	hdr_init(&h, phdl, NULL, chdl);
	if (val != NULL) {
		sreq.hdr = &h;
		a.name = (char *)name;
		a.value.data = (uint8_t *)val;
		a.value.len = strlen(val);
		sreq.attrs = &ap;
		sreq.n_attrs = 1;
		return call(method, &sreq.base, &mgmt__attr_resp__descriptor, NULL);
	}
	dreq.hdr = &h;
	dreq.names = (char **)&name;
	dreq.n_names = 1;
	return call(method, &dreq.base, &mgmt__attr_resp__descriptor, NULL);
}

static int
attr_get(uint32_t method, const char *phdl, const char *chdl, const char *name, char *buf,
	 size_t len)
{
	Mgmt__AttrGetReq req = MGMT__ATTR_GET_REQ__INIT;
	Mgmt__ClientHeader h;
	ProtobufCMessage *r;
	int rc;

	req.hdr = hdr_init(&h, phdl, NULL, chdl);
	req.names = (char **)&name;
	req.n_names = 1;
	rc = call(method, &req.base, &mgmt__attr_get_resp__descriptor, &r);
	if (rc == 0) {
		Mgmt__AttrGetResp *g = (Mgmt__AttrGetResp *)r;

		if (g->n_attrs != 1 || g->attrs[0]->value.len >= len)
			rc = -DER_PROTO;
		else
			snprintf(buf, len, "%.*s", (int)g->attrs[0]->value.len,
				 (const char *)g->attrs[0]->value.data);
	}
	msg_free(r);
	return rc;
}

static int
attr_list(uint32_t method, const char *phdl, const char *chdl, char *buf, size_t len)
{
	Mgmt__AttrListReq req = MGMT__ATTR_LIST_REQ__INIT;
	Mgmt__ClientHeader h;
	ProtobufCMessage *r;
	size_t i;
	int rc;

	req.hdr = hdr_init(&h, phdl, NULL, chdl);
	rc = call(method, &req.base, &mgmt__attr_list_resp__descriptor, &r);
	buf[0] = '\0';
	if (rc == 0) {
		Mgmt__AttrListResp *l = (Mgmt__AttrListResp *)r;

		for (i = 0; i < l->n_names; i++)
			snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", i ? "," : "",
				 l->names[i]);
	}
	msg_free(r);
	return rc;
}

/*
 * The model.
 */

#define M_CONTS 6
#define M_HDLS 4
#define M_SNAPS 32
#define M_RANGES 4096

struct m_cont {
	bool live;
	char uuid[40];
	char label[64]; /* "" if none */
	char hdls[M_HDLS][40];
	uint64_t hflags[M_HDLS];
	uint32_t nh;
	uint64_t snaps[M_SNAPS];
	uint32_t ns;
	char attr[16]; /* value of attribute "k", "" if unset */
};

static struct m_cont conts[M_CONTS];
static uint64_t ranges[M_RANGES][2];
static uint32_t nranges;
static char phdl_rw[40], phdl_ro[40];

static bool
ranges_disjoint(uint64_t lo, uint64_t hi)
{
	uint32_t i;

	for (i = 0; i < nranges; i++)
		if (lo < ranges[i][1] && ranges[i][0] < hi)
			return false;
	return true;
}

static void
range_add(uint64_t lo, uint64_t hi)
{
	if (nranges < M_RANGES) {
		ranges[nranges][0] = lo;
		ranges[nranges][1] = hi;
		nranges++;
	}
}

/* The containers the service lists (228) equal the model's. */
static void
check_list(int step)
{
	ProtobufCMessage *r;
	Mgmt__ListContResp *l;
	size_t i, j, live = 0;
	bool ok;
	int rc;

	rc = pool_hdl_call(DSS_CTL_POOL_HDL_LIST_CONT, phdl_rw, &mgmt__list_cont_resp__descriptor,
			   &r);
	l = (Mgmt__ListContResp *)r;
	for (j = 0; j < M_CONTS; j++)
		live += conts[j].live;
	ok = rc == 0 && l->n_containers == live;
	for (i = 0; ok && i < l->n_containers; i++) {
		bool found = false;

		for (j = 0; j < M_CONTS; j++)
			if (conts[j].live && strcmp(conts[j].uuid, l->containers[i]->uuid) == 0 &&
			    strcmp(conts[j].label, l->containers[i]->label) == 0)
				found = true;
		ok = found;
	}
	if (!ok)
		check(false, "step %d: list-cont: rc %d, %zu containers, model %zu", step, rc,
		      rc == 0 ? l->n_containers : 0, live);
	msg_free(r);
}

static int
expect(int step, const char *what, int rc, int want)
{
	if (rc != want) {
		check(false, "step %d: %s: %s, expected %s", step, what, d_errstr(rc),
		      d_errstr(want));
		return 1;
	}
	return 0;
}

static int
m_random_ops(unsigned seed, int nops)
{
	int step, bad = 0;

	srandom(seed);
	for (step = 0; step < nops && bad < 5; step++) {
		int ci = (int)(random() % M_CONTS);
		struct m_cont *c = &conts[ci];
		int op = (int)(random() % 10);
		char chdl[40], label[64];
		int rc, want;

		switch (op) {
		case 0: /* create */
		case 1:
			if (c->live) {
				/* a retry of the same create succeeds */
				rc = cont_create(phdl_rw, c->uuid, c->label[0] ? c->label : NULL,
						 NULL, NULL, 0, DAOS_PROP_CO_LAYOUT_POSIX);
				bad += expect(step, "create retry", rc, 0);
				break;
			}
			new_uuid(c->uuid);
			if (random() % 2)
				snprintf(label, sizeof(label), "c%d_%ld", ci, random() % 3);
			else
				label[0] = '\0';
			want = 0;
			for (int j = 0; j < M_CONTS; j++)
				if (label[0] && conts[j].live && strcmp(conts[j].label, label) == 0)
					want = -DER_EXIST;
			rc = cont_create(phdl_rw, c->uuid, label[0] ? label : NULL, NULL, NULL, 0,
					 DAOS_PROP_CO_LAYOUT_POSIX);
			bad += expect(step, "create", rc, want);
			if (rc == 0) {
				/* a new container: a new OID space under this index */
				uint32_t j, m = 0;

				for (j = 0; j < nranges; j++)
					if ((ranges[j][0] >> 48) != (uint64_t)ci) {
						ranges[m][0] = ranges[j][0];
						ranges[m++][1] = ranges[j][1];
					}
				nranges = m;
				memset(c->hdls, 0, sizeof(c->hdls));
				c->live = true;
				c->nh = 0;
				c->ns = 0;
				c->attr[0] = '\0';
				snprintf(c->label, sizeof(c->label), "%s", label);
			}
			break;
		case 2: { /* destroy */
			bool force = random() % 4 == 0;

			if (!c->live) {
				new_uuid(chdl);
				bad += expect(step, "destroy unknown",
					      cont_destroy(phdl_rw, chdl, false), -DER_NONEXIST);
				break;
			}
			want = c->nh > 0 && !force ? -DER_BUSY : 0;
			rc = cont_destroy(phdl_rw, c->label[0] && random() % 2 ? c->label : c->uuid,
					  force);
			bad += expect(step, "destroy", rc, want);
			if (rc == 0) {
				/* its handles are gone with it */
				for (uint32_t k = 0; k < c->nh; k++)
					bad += expect(step, "query after destroy",
						      cont_query(phdl_rw, c->hdls[k], 0, NULL),
						      -DER_NO_HDL);
				c->live = false;
				c->nh = 0;
			}
			break;
		}
		case 3: { /* open */
			uint64_t flags = random() % 3 == 0 ? DAOS_COO_EX
					 : random() % 2    ? DAOS_COO_RO
							   : DAOS_COO_RW;
			bool ex = false;
			Mgmt__ContOpenResp *o = NULL;

			if (!c->live || c->nh == M_HDLS)
				break;
			for (uint32_t k = 0; k < c->nh; k++)
				ex |= (c->hflags[k] & DAOS_COO_EX) != 0;
			want = c->nh > 0 && (ex || flags == DAOS_COO_EX) ? -DER_BUSY : 0;
			new_uuid(chdl);
			rc = cont_open(phdl_rw, c->uuid, chdl, flags, &o);
			bad += expect(step, "open", rc, want);
			if (rc == 0) {
				if (o->info == NULL || o->info->nhandles != c->nh + 1 ||
				    o->info->nsnapshots != c->ns)
					bad += expect(step, "open info", -DER_MISMATCH, 0);
				snprintf(c->hdls[c->nh], 40, "%s", chdl);
				c->hflags[c->nh++] = flags;
			}
			msg_free(o != NULL ? &o->base : NULL);
			break;
		}
		case 4: { /* close */
			uint32_t k;

			if (!c->live || c->nh == 0) {
				new_uuid(chdl);
				bad += expect(step, "close unknown", cont_close(phdl_rw, chdl), 0);
				break;
			}
			k = (uint32_t)(random() % c->nh);
			bad += expect(step, "close", cont_close(phdl_rw, c->hdls[k]), 0);
			bad += expect(step, "close again", cont_close(phdl_rw, c->hdls[k]), 0);
			c->nh--;
			memmove(&c->hdls[k], &c->hdls[k + 1], (c->nh - k) * sizeof(c->hdls[0]));
			memmove(&c->hflags[k], &c->hflags[k + 1], (c->nh - k) * sizeof(uint64_t));
			break;
		}
		case 5: { /* set-prop: label or an immutable property */
			uint32_t k;

			if (!c->live || c->nh == 0)
				break;
			k = (uint32_t)(random() % c->nh);
			if (c->hflags[k] & DAOS_COO_RO) {
				rc = cont_set_prop(phdl_rw, c->hdls[k], DAOS_PROP_CO_SNAPSHOT_MAX,
						   NULL, 5);
				bad += expect(step, "set-prop on RO", rc, -DER_NO_PERM);
				break;
			}
			if (random() % 3 == 0) {
				rc = cont_set_prop(phdl_rw, c->hdls[k], DAOS_PROP_CO_REDUN_FAC,
						   NULL, 1);
				bad += expect(step, "set immutable", rc, -DER_NO_PERM);
				break;
			}
			snprintf(label, sizeof(label), "c%d_%ld", ci, random() % 3);
			want = 0;
			for (int j = 0; j < M_CONTS; j++)
				if (j != ci && conts[j].live && strcmp(conts[j].label, label) == 0)
					want = -DER_EXIST;
			rc = cont_set_prop(phdl_rw, c->hdls[k], DAOS_PROP_CO_LABEL, label, 0);
			bad += expect(step, "set label", rc, want);
			if (rc == 0)
				snprintf(c->label, sizeof(c->label), "%s", label);
			break;
		}
		case 6: { /* attribute "k" */
			char val[16], got[16];
			uint32_t k;

			if (!c->live || c->nh == 0)
				break;
			k = (uint32_t)(random() % c->nh);
			rc = attr_get(DSS_CTL_CONT_ATTR_GET, phdl_rw, c->hdls[k], "k", got,
				      sizeof(got));
			bad += expect(step, "attr get", rc, c->attr[0] ? 0 : -DER_NONEXIST);
			if (rc == 0 && strcmp(got, c->attr) != 0)
				bad += expect(step, "attr value", -DER_MISMATCH, 0);
			if (c->hflags[k] & DAOS_COO_RO)
				break;
			if (random() % 3 == 0) {
				bad += expect(
				    step, "attr del",
				    attr_set(DSS_CTL_CONT_ATTR_DEL, phdl_rw, c->hdls[k], "k", NULL),
				    0);
				c->attr[0] = '\0';
			} else {
				snprintf(val, sizeof(val), "v%ld", random() % 1000);
				bad += expect(
				    step, "attr set",
				    attr_set(DSS_CTL_CONT_ATTR_SET, phdl_rw, c->hdls[k], "k", val),
				    0);
				snprintf(c->attr, sizeof(c->attr), "%s", val);
			}
			break;
		}
		case 7: { /* snapshots */
			Mgmt__ContSnapResp *s = NULL;
			uint32_t k, j;

			if (!c->live || c->nh == 0)
				break;
			k = (uint32_t)(random() % c->nh);
			if ((c->hflags[k] & DAOS_COO_RO) || c->ns == M_SNAPS) {
				rc = cont_snap(DSS_CTL_CONT_SNAP_LIST, phdl_rw, c->hdls[k], 0, &s);
				bad += expect(step, "snap list", rc, 0);
				if (rc == 0 && s->n_snapshots != c->ns)
					bad += expect(step, "snap count", -DER_MISMATCH, 0);
				for (j = 0; rc == 0 && j < s->n_snapshots && j < c->ns; j++)
					if (s->snapshots[j]->epoch != c->snaps[j])
						bad += expect(step, "snap epoch", -DER_MISMATCH, 0);
			} else if (c->ns > 0 && random() % 3 == 0) {
				j = (uint32_t)(random() % c->ns);
				rc = cont_snap(DSS_CTL_CONT_SNAP_DESTROY, phdl_rw, c->hdls[k],
					       c->snaps[j], NULL);
				bad += expect(step, "snap destroy", rc, 0);
				c->ns--;
				memmove(&c->snaps[j], &c->snaps[j + 1], (c->ns - j) * 8);
			} else {
				rc =
				    cont_snap(DSS_CTL_CONT_SNAP_CREATE, phdl_rw, c->hdls[k], 0, &s);
				bad += expect(step, "snap create", rc, 0);
				if (rc == 0) {
					if (s->n_snapshots != 1 ||
					    (c->ns > 0 &&
					     s->snapshots[0]->epoch <= c->snaps[c->ns - 1]))
						bad += expect(step, "snap epoch grows",
							      -DER_MISMATCH, 0);
					else
						c->snaps[c->ns++] = s->snapshots[0]->epoch;
				}
			}
			msg_free(s != NULL ? &s->base : NULL);
			break;
		}
		default: { /* OIDs */
			uint64_t n = 1 + (uint64_t)(random() % 1000), oid = 0;
			uint32_t k;

			if (!c->live || c->nh == 0)
				break;
			k = (uint32_t)(random() % c->nh);
			rc = cont_oids(phdl_rw, c->hdls[k], n, &oid);
			bad += expect(step, "alloc oids", rc,
				      (c->hflags[k] & DAOS_COO_RO) ? -DER_NO_PERM : 0);
			if (rc == 0) {
				/* per container: keep ranges apart by tagging with the index */
				uint64_t lo = oid + ((uint64_t)ci << 48);

				if (!ranges_disjoint(lo, lo + n))
					bad += expect(step, "oid range overlaps", -DER_MISMATCH, 0);
				range_add(lo, lo + n);
			}
			break;
		}
		}
		if (step % 25 == 0)
			check_list(step);
	}
	check_list(step);
	return bad;
}

/* The RW pool handle, the open container and everything that must survive a restart. */
static void
state_write(const char *path)
{
	FILE *f = fopen(path, "w");
	int i;

	if (f == NULL) {
		perror(path);
		exit(2);
	}
	fprintf(f, "phdl %s\n", phdl_rw);
	for (i = 0; i < M_CONTS; i++) {
		struct m_cont *c = &conts[i];

		if (!c->live)
			continue;
		fprintf(f, "cont %d %s %s %s %u %s\n", i, c->uuid, c->label[0] ? c->label : "-",
			c->attr[0] ? c->attr : "-", c->nh, c->nh > 0 ? c->hdls[0] : "-");
		for (uint32_t j = 0; j < c->ns; j++)
			fprintf(f, "snap %d %" PRIu64 "\n", i, c->snaps[j]);
	}
	for (uint32_t j = 0; j < nranges; j++)
		fprintf(f, "range %" PRIu64 " %" PRIu64 "\n", ranges[j][0], ranges[j][1]);
	fclose(f);
}

static void
state_read(const char *path, char hdls[M_CONTS][40])
{
	FILE *f = fopen(path, "r");
	char line[512];

	if (f == NULL) {
		perror(path);
		exit(2);
	}
	memset(hdls, 0, M_CONTS * 40);
	while (fgets(line, sizeof(line), f) != NULL) {
		char a[64], b[64], c2[64], d[64];
		unsigned nh;
		int i;
		uint64_t x, y;

		if (sscanf(line, "phdl %39s", phdl_rw) == 1)
			continue;
		if (sscanf(line, "cont %d %39s %63s %15s %u %39s", &i, a, b, c2, &nh, d) == 6 &&
		    i >= 0 && i < M_CONTS) {
			conts[i].live = true;
			snprintf(conts[i].uuid, 40, "%.39s", a);
			snprintf(conts[i].label, 64, "%s", strcmp(b, "-") ? b : "");
			snprintf(conts[i].attr, 16, "%.15s", strcmp(c2, "-") ? c2 : "");
			conts[i].nh = nh;
			if (strcmp(d, "-") != 0)
				snprintf(hdls[i], 40, "%.39s", d);
		} else if (sscanf(line, "snap %d %" SCNu64, &i, &x) == 2 && i >= 0 && i < M_CONTS &&
			   conts[i].ns < M_SNAPS) {
			conts[i].snaps[conts[i].ns++] = x;
		} else if (sscanf(line, "range %" SCNu64 " %" SCNu64, &x, &y) == 2) {
			range_add(x, y);
		}
	}
	fclose(f);
}

/*
 * The phases.
 */

static void
phase_main(const char *state, unsigned seed)
{
	static const char *const acl_def[] = {"A::OWNER@:rw", "A:G:GROUP@:rw"};
	Mgmt__PoolConnectResp *pc = NULL;
	ProtobufCMessage *r = NULL;
	uint8_t *saved;
	char buf[256], other[40], cu[40], ch[40];
	int rc, bad;

	new_uuid(phdl_rw);
	new_uuid(phdl_ro);

	printf("== pool connect\n");
	rc = connect_pool(phdl_rw, DAOS_PC_RW, &pc);
	check(rc == 0, "connect RW: %s", d_errstr(rc));
	if (rc != 0)
		exit(1);
	check(pc->map.len > 0 && pc->map_version >= 1 && pc->n_ranks >= 1 &&
		  pc->ranks[0]->n_uris >= 2 && strncmp(pc->ranks[0]->uris[0], "fi_", 3) == 0,
	      "connect answers map (%zu bytes, version %u) and %zu ranks, rank %u with %zu URIs",
	      pc->map.len, pc->map_version, pc->n_ranks, pc->n_ranks ? pc->ranks[0]->rank : 0,
	      pc->n_ranks ? pc->ranks[0]->n_uris : 0);
	check(pc->capas == SEC_POOL_CAPAS_ALL, "RW handle capas %#" PRIx64, pc->capas);
	check(strcmp(pc->label, pool_id) == 0 || strcmp(pc->uuid, pool_id) == 0,
	      "connect names the pool (%s, %s)", pc->uuid, pc->label);
	msg_free(&pc->base);
	rc = connect_pool(phdl_rw, DAOS_PC_RW, NULL);
	check(rc == 0, "connect retried with the same handle: %s", d_errstr(rc));
	rc = connect_pool(phdl_ro, DAOS_PC_RO, &pc);
	check(rc == 0 && pc->capas == SEC_POOL_CAPA_READ, "connect RO: %s, capas %#" PRIx64,
	      d_errstr(rc), rc == 0 ? pc->capas : 0);
	msg_free(pc != NULL ? &pc->base : NULL);
	new_uuid(other);
	rc = connect_pool(other, DAOS_PC_EX, NULL);
	check(rc == -DER_BUSY, "connect EX while others are connected: %s", d_errstr(rc));

	printf("== credentials\n");
	saved = malloc(cred.len);
	memcpy(saved, cred.data, cred.len);
	cred.data[cred.len / 2] ^= 0x40;
	rc = connect_pool(other, DAOS_PC_RO, NULL);
	check(rc == -DER_NO_PERM, "a tampered credential: %s", d_errstr(rc));
	memcpy(cred.data, saved, cred.len);
	free(saved);
	{
		ProtobufCBinaryData keep = cred;

		cred.len = 0;
		rc = connect_pool(other, DAOS_PC_RO, NULL);
		check(rc == -DER_NO_PERM, "no credential: %s", d_errstr(rc));
		cred = keep;
	}

	printf("== pool ACL\n");
	{
		const char *none[] = {"A::somebody_else@:rw"};
		const char *ro[] = {"A::OWNER@:r"};

		rc = pool_acl_set(none, 1);
		check(rc == 0, "overwrite pool ACL without us: %s", d_errstr(rc));
		rc = connect_pool(other, DAOS_PC_RO, NULL);
		check(rc == -DER_NO_PERM, "connect excluded by the ACL: %s", d_errstr(rc));
		rc = pool_acl_set(NULL, 0);
		check(rc == 0, "overwrite the pool ACL with nothing: %s", d_errstr(rc));
		rc = connect_pool(other, DAOS_PC_RO, NULL);
		check(rc == -DER_NO_PERM, "connect with an empty pool ACL: %s", d_errstr(rc));
		rc = pool_acl_set(ro, 1);
		rc = connect_pool(other, DAOS_PC_RW, NULL);
		check(rc == -DER_NO_PERM, "connect RW with a read-only ACL: %s", d_errstr(rc));
		rc = connect_pool(other, DAOS_PC_RO, NULL);
		check(rc == 0, "connect RO with a read-only ACL: %s", d_errstr(rc));
		check(disconnect_pool(other) == 0, "disconnect");
		rc = pool_acl_set((const char **)acl_def, 2);
		check(rc == 0, "default pool ACL back: %s", d_errstr(rc));
	}

	printf("== pool handle methods\n");
	rc = pool_hdl_call(DSS_CTL_POOL_MAP_GET, other, &mgmt__pool_connect_resp__descriptor, NULL);
	check(rc == -DER_NO_HDL, "map-get with a disconnected handle: %s", d_errstr(rc));
	rc = disconnect_pool(other);
	check(rc == 0, "disconnect again (idempotent): %s", d_errstr(rc));
	rc = pool_hdl_call(DSS_CTL_POOL_MAP_GET, phdl_rw, &mgmt__pool_connect_resp__descriptor, &r);
	check(rc == 0 && ((Mgmt__PoolConnectResp *)r)->map.len > 0, "map-get: %s", d_errstr(rc));
	msg_free(r);
	rc = pool_hdl_call(DSS_CTL_POOL_HDL_QUERY, phdl_ro, &mgmt__pool_query_resp__descriptor, &r);
	check(rc == 0 && ((Mgmt__PoolQueryResp *)r)->total_targets > 0 &&
		  ((Mgmt__PoolQueryResp *)r)->n_tier_stats == 2 &&
		  ((Mgmt__PoolQueryResp *)r)->tier_stats[0]->total > 0,
	      "pool query through a handle: %s", d_errstr(rc));
	msg_free(r);
	rc = attr_set(DSS_CTL_POOL_ATTR_SET, phdl_rw, NULL, "a", "1");
	rc |= attr_set(DSS_CTL_POOL_ATTR_SET, phdl_rw, NULL, "b", "22");
	rc |= attr_list(DSS_CTL_POOL_ATTR_LIST, phdl_ro, NULL, buf, sizeof(buf));
	check(rc == 0 && strcmp(buf, "a,b") == 0, "pool attrs set, list: %s", buf);
	rc = attr_get(DSS_CTL_POOL_ATTR_GET, phdl_ro, NULL, "b", buf, sizeof(buf));
	check(rc == 0 && strcmp(buf, "22") == 0, "pool attr get: %s", buf);
	rc = attr_get(DSS_CTL_POOL_ATTR_GET, phdl_ro, NULL, "zz", buf, sizeof(buf));
	check(rc == -DER_NONEXIST, "missing pool attr: %s", d_errstr(rc));
	rc = attr_set(DSS_CTL_POOL_ATTR_SET, phdl_ro, NULL, "c", "3");
	check(rc == -DER_NO_PERM, "pool attr set through a RO handle: %s", d_errstr(rc));
	rc = attr_set(DSS_CTL_POOL_ATTR_DEL, phdl_rw, NULL, "a", NULL);
	rc |= attr_list(DSS_CTL_POOL_ATTR_LIST, phdl_ro, NULL, buf, sizeof(buf));
	check(rc == 0 && strcmp(buf, "b") == 0, "pool attr del: %s", buf);

	printf("== garbage\n");
	{
		uint8_t junk[64];
		uint32_t m;
		int nbad = 0, n = 0;

		srandom(seed);
		for (m = DSS_CTL_POOL_CONNECT; m <= DSS_CTL_CONT_ALLOC_OIDS; m++) {
			for (int k = 0; k < 20; k++) {
				size_t jl = (size_t)(random() % (int)sizeof(junk));
				void *reply = NULL;
				size_t rlen = 0;

				for (size_t b = 0; b < jl; b++)
					junk[b] = (uint8_t)random();
				rc = dss_ctl_client_call(cli, m, junk, jl, 10000, &reply, &rlen);
				free(reply);
				n++;
				/* garbage is refused (or the method does not exist: 229) */
				if (rc == 0 || rc == -DER_UNREACH || rc == -DER_TIMEDOUT)
					nbad++;
			}
		}
		check(nbad == 0, "%d garbage requests to methods 220-247 refused (%d not)", n,
		      nbad);
		rc = pool_hdl_call(DSS_CTL_POOL_MAP_GET, phdl_rw,
				   &mgmt__pool_connect_resp__descriptor, NULL);
		check(rc == 0, "the service still answers: %s", d_errstr(rc));
	}

	printf("== containers: create rules\n");
	new_uuid(cu);
	rc = cont_create(phdl_ro, cu, NULL, NULL, NULL, 0, 0);
	check(rc == -DER_NO_PERM, "create through a RO handle: %s", d_errstr(rc));
	rc = cont_create(phdl_rw, cu, "bad label!", NULL, NULL, 0, 0);
	check(rc == -DER_INVAL, "invalid label: %s", d_errstr(rc));
	rc = cont_create(phdl_rw, cu, "rules", NULL, NULL, 0, 0);
	check(rc == 0, "create labelled: %s", d_errstr(rc));
	rc = cont_create(phdl_rw, cu, "rules", NULL, NULL, 0, 0);
	check(rc == 0, "same uuid and label again: %s", d_errstr(rc));
	rc = cont_create(phdl_rw, cu, "rules2", NULL, NULL, 0, 0);
	check(rc == -DER_EXIST, "same uuid, other label: %s", d_errstr(rc));
	new_uuid(other);
	rc = cont_create(phdl_rw, other, "rules", NULL, NULL, 0, 0);
	check(rc == -DER_EXIST, "other uuid, same label: %s", d_errstr(rc));
	new_uuid(ch);
	{
		Mgmt__ContOpenResp *o = NULL;
		Mgmt__ContQueryResp *q = NULL;
		size_t i;
		bool layout = false, acl = false;

		rc = cont_open(phdl_ro, "rules", ch, DAOS_COO_RW, NULL);
		check(rc == -DER_NO_PERM, "open RW through a RO pool handle: %s", d_errstr(rc));
		rc = cont_open(phdl_rw, "rules", ch, DAOS_COO_RW, &o);
		check(rc == 0, "open by label: %s", d_errstr(rc));
		for (i = 0; rc == 0 && i < o->n_properties; i++) {
			layout |= o->properties[i]->number == DAOS_PROP_CO_LAYOUT_TYPE;
			acl |= o->properties[i]->number == DAOS_PROP_CO_ACL &&
			       o->properties[i]->n_acl == 2 &&
			       strcmp(o->properties[i]->acl[0], "A::OWNER@:rwdtTaAo") == 0;
		}
		check(layout && acl,
		      "open answers the properties (default ACL A::OWNER@:rwdtTaAo)");
		msg_free(o != NULL ? &o->base : NULL);
		rc = cont_query(phdl_rw, ch, DAOS_PROP_CO_LABEL, &q);
		check(rc == 0 && q->n_properties == 1 &&
			  strcmp(q->properties[0]->strval, "rules") == 0 && q->info->nhandles == 1,
		      "query the label: %s", d_errstr(rc));
		msg_free(q != NULL ? &q->base : NULL);
	}
	rc = cont_close(phdl_rw, ch);
	check(rc == 0, "close: %s", d_errstr(rc));
	rc = cont_query(phdl_rw, ch, 0, NULL);
	check(rc == -DER_NO_HDL, "query a closed handle: %s", d_errstr(rc));
	rc = cont_destroy(phdl_rw, "rules", false);
	check(rc == 0, "destroy by label: %s", d_errstr(rc));

	printf("== container ACL\n");
	{
		const char *acl[] = {"A::OWNER@:rwdtTaAo"};

		new_uuid(cu);
		rc = cont_create(phdl_rw, cu, "theirs", "somebody_else@", acl, 1, 0);
		check(rc == 0, "create owned by another user: %s", d_errstr(rc));
		new_uuid(ch);
		rc = cont_open(phdl_rw, cu, ch, DAOS_COO_RO, NULL);
		check(rc == -DER_NO_PERM, "open excluded by the container ACL: %s", d_errstr(rc));
		rc = cont_destroy(phdl_rw, cu, false);
		check(rc == 0, "destroy with the pool handle's delete capability: %s",
		      d_errstr(rc));
	}
	{
		const char *acl[] = {"A::OWNER@:rwdtTaAo", "A::somebody@:r"};
		const char *ent[] = {"A::friend@:rw"};
		Mgmt__ContAclReq req = MGMT__CONT_ACL_REQ__INIT;
		Mgmt__ClientHeader h;

		new_uuid(cu);
		rc = cont_create(phdl_rw, cu, NULL, NULL, acl, 2, 0);
		new_uuid(ch);
		rc |= cont_open(phdl_rw, cu, ch, DAOS_COO_RW, NULL);
		req.hdr = hdr_init(&h, phdl_rw, NULL, ch);
		req.acl = (char **)ent;
		req.n_acl = 1;
		rc |=
		    call(DSS_CTL_CONT_UPDATE_ACL, &req.base, &mgmt__cont_acl_resp__descriptor, &r);
		check(rc == 0 && ((Mgmt__ContAclResp *)r)->n_acl == 3, "update-acl: %s",
		      d_errstr(rc));
		msg_free(r);
		req.acl = NULL;
		req.n_acl = 0;
		req.principal = "u:somebody@";
		rc = call(DSS_CTL_CONT_DELETE_ACL, &req.base, &mgmt__cont_acl_resp__descriptor, &r);
		check(rc == 0 && ((Mgmt__ContAclResp *)r)->n_acl == 2, "delete-acl: %s",
		      d_errstr(rc));
		msg_free(r);
		rc = call(DSS_CTL_CONT_DELETE_ACL, &req.base, &mgmt__cont_acl_resp__descriptor, &r);
		check(rc == -DER_NONEXIST, "delete-acl of an absent principal: %s", d_errstr(rc));
		msg_free(r);
		rc = cont_destroy(phdl_rw, cu, false);
		check(rc == -DER_BUSY, "destroy an open container: %s", d_errstr(rc));
		rc = cont_destroy(phdl_rw, cu, true);
		check(rc == 0, "forced destroy: %s", d_errstr(rc));
		rc = cont_query(phdl_rw, ch, 0, NULL);
		check(rc == -DER_NO_HDL, "the forced destroy closed its handle: %s", d_errstr(rc));
	}

	printf("== containers against a model (seed %u)\n", seed);
	bad = m_random_ops(seed, 400);
	check(bad == 0, "400 random container operations match the model");

	/* leave container 0 (or the first live one) with an open RW handle */
	{
		int i;
		bool done = false;

		for (i = 0; i < M_CONTS && !done; i++) {
			struct m_cont *c = &conts[i];
			uint64_t oid;

			if (!c->live)
				continue;
			while (c->nh > 0) {
				cont_close(phdl_rw, c->hdls[0]);
				c->nh--;
				memmove(&c->hdls[0], &c->hdls[1], c->nh * sizeof(c->hdls[0]));
				memmove(&c->hflags[0], &c->hflags[1], c->nh * sizeof(uint64_t));
			}
			new_uuid(c->hdls[0]);
			rc = cont_open(phdl_rw, c->uuid, c->hdls[0], DAOS_COO_RW, NULL);
			check(rc == 0, "open container %d for the restart: %s", i, d_errstr(rc));
			c->nh = 1;
			rc = cont_oids(phdl_rw, c->hdls[0], 10, &oid);
			check(rc == 0, "alloc oids: %s", d_errstr(rc));
			range_add(oid + ((uint64_t)i << 48), oid + 10 + ((uint64_t)i << 48));
			done = true;
		}
		for (; i < M_CONTS; i++) {
			while (conts[i].live && conts[i].nh > 0)
				cont_close(phdl_rw, conts[i].hdls[--conts[i].nh]);
		}
		check(done, "a container left open");
	}
	disconnect_pool(phdl_ro);
	state_write(state);
}

static void
phase_restart(const char *state)
{
	char hdls[M_CONTS][40];
	ProtobufCMessage *r = NULL;
	int i, rc;

	state_read(state, hdls);
	rc = pool_hdl_call(DSS_CTL_POOL_MAP_GET, phdl_rw, &mgmt__pool_connect_resp__descriptor, &r);
	check(rc == 0, "the pool handle survived the restart: %s", d_errstr(rc));
	msg_free(r);
	check_list(-1);
	for (i = 0; i < M_CONTS; i++) {
		struct m_cont *c = &conts[i];
		char ch[40], got[16];
		Mgmt__ContSnapResp *s = NULL;
		uint64_t oid = 0, hi = 0;
		uint32_t j;

		if (!c->live)
			continue;
		if (hdls[i][0] != '\0') {
			rc = cont_query(phdl_rw, hdls[i], 0, NULL);
			check(rc == 0, "container %d: its handle survived: %s", i, d_errstr(rc));
			snprintf(ch, sizeof(ch), "%.39s", hdls[i]);
		} else {
			new_uuid(ch);
			rc = cont_open(phdl_rw, c->uuid, ch, DAOS_COO_RW, NULL);
			check(rc == 0, "container %d: open: %s", i, d_errstr(rc));
		}
		rc = cont_snap(DSS_CTL_CONT_SNAP_LIST, phdl_rw, ch, 0, &s);
		check(rc == 0 && s->n_snapshots == c->ns, "container %d: %u snapshots", i, c->ns);
		for (j = 0; rc == 0 && j < c->ns && j < s->n_snapshots; j++)
			if (s->snapshots[j]->epoch != c->snaps[j])
				check(false, "container %d: snapshot %u epoch", i, j);
		msg_free(s != NULL ? &s->base : NULL);
		rc = attr_get(DSS_CTL_CONT_ATTR_GET, phdl_rw, ch, "k", got, sizeof(got));
		check(c->attr[0] ? rc == 0 && strcmp(got, c->attr) == 0 : rc == -DER_NONEXIST,
		      "container %d: attribute k", i);
		rc = cont_oids(phdl_rw, ch, 100, &oid);
		snprintf(c->hdls[0], 40, "%s", ch);
		c->nh = 1;
		for (j = 0; j < nranges; j++)
			if ((ranges[j][0] >> 48) == (uint64_t)i && ranges[j][1] > hi)
				hi = ranges[j][1];
		hi &= (1ULL << 48) - 1;
		check(
		    rc == 0 && oid >= hi &&
			ranges_disjoint(oid + ((uint64_t)i << 48), oid + 100 + ((uint64_t)i << 48)),
		    "container %d: new OIDs %" PRIu64 " above every range answered (%" PRIu64 ")",
		    i, oid, hi);
		if (rc == 0)
			range_add(oid + ((uint64_t)i << 48), oid + 100 + ((uint64_t)i << 48));
	}
	state_write(state);
}

/*
 * Concurrent read-modify-writes: RACE_PROCS processes, each on its own connection, allocate
 * OIDs, set container and pool attributes and take snapshots of one container at once. No
 * range twice, no update lost.
 */
#define RACE_PROCS 4
#define RACE_ITERS 40

/* The pool property each racing process sets (to 1, 2, ... RACE_ITERS). */
static const uint32_t race_props[RACE_PROCS] = {DAOS_PROP_PO_SCRUB_FREQ, DAOS_PROP_PO_SCRUB_THRESH,
						DAOS_PROP_PO_CHECKPOINT_FREQ,
						DAOS_PROP_PO_CHECKPOINT_THRESH};

static void
race_child(int id, const char *chdl, const char *path)
{
	FILE *f = fopen(path, "w");
	char name[32], val[32], ace[64];
	uint64_t oid;
	int j, rc, errs = 0;

	if (f == NULL)
		_exit(2);
	cli = NULL;
	reconnect(addrs[0]);
	srandom((unsigned)id + 100);
	for (j = 0; j < RACE_ITERS; j++) {
		uint64_t n = 1 + (uint64_t)(random() % 20);

		rc = cont_oids(phdl_rw, chdl, n, &oid);
		if (rc == 0)
			fprintf(f, "range %" PRIu64 " %" PRIu64 "\n", oid, oid + n);
		else
			errs++;
		snprintf(name, sizeof(name), "w%d_%d", id, j);
		snprintf(val, sizeof(val), "%d", j);
		errs += attr_set(DSS_CTL_CONT_ATTR_SET, phdl_rw, chdl, name, val) != 0;
		snprintf(name, sizeof(name), "p%d_%d", id, j);
		errs += attr_set(DSS_CTL_POOL_ATTR_SET, phdl_rw, NULL, name, val) != 0;
		errs += cont_snap(DSS_CTL_CONT_SNAP_CREATE, phdl_rw, chdl, 0, NULL) != 0;
		/* the pool record through set-prop and the ACL methods too (srv_pool.c) */
		snprintf(ace, sizeof(ace), "A::race%d_%d@:r", id, j);
		errs += pool_acl_update(ace) != 0;
		errs += pool_prop_set(race_props[id], (uint64_t)j + 1) != 0;
		snprintf(ace, sizeof(ace), "A::crace%d_%d@:r", id, j);
		errs += cont_acl_update(phdl_rw, chdl, ace, NULL, NULL) != 0;
	}
	fprintf(f, "errors %d\n", errs);
	fclose(f);
	dss_ctl_client_close(cli);
	_exit(0);
}

static void
phase_race(const char *state)
{
	char cu[40], ch[40], path[512], buf[65536], line[128];
	Mgmt__ContQueryResp *q = NULL;
	Mgmt__ContSnapResp *sn = NULL;
	pid_t pids[RACE_PROCS];
	uint64_t total = 0, next = 0, x, y;
	int i, rc, errs = 0, n;
	bool distinct = true;
	char *tok, *save;

	new_uuid(phdl_rw);
	new_uuid(cu);
	new_uuid(ch);
	rc = connect_pool(phdl_rw, DAOS_PC_RW, NULL);
	rc = rc != 0 ? rc : cont_create(phdl_rw, cu, NULL, NULL, NULL, 0, 0);
	rc = rc != 0 ? rc : cont_open(phdl_rw, cu, ch, DAOS_COO_RW, NULL);
	check(rc == 0, "race: container open: %s", d_errstr(rc));
	if (rc != 0)
		return;
	fflush(stdout);
	for (i = 0; i < RACE_PROCS; i++) {
		snprintf(path, sizeof(path), "%s.race%d", state, i);
		pids[i] = fork();
		if (pids[i] == 0)
			race_child(i, ch, path);
	}
	for (i = 0; i < RACE_PROCS; i++) {
		int st = 0;

		waitpid(pids[i], &st, 0);
		check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "race: process %d ended", i);
	}
	nranges = 0;
	for (i = 0; i < RACE_PROCS; i++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s.race%d", state, i);
		f = fopen(path, "r");
		while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
			if (sscanf(line, "range %" SCNu64 " %" SCNu64, &x, &y) == 2) {
				if (!ranges_disjoint(x, y))
					check(false,
					      "race: range %" PRIu64 "-%" PRIu64 " answered twice",
					      x, y);
				range_add(x, y);
				total += y - x;
			} else if (sscanf(line, "errors %d", &n) == 1) {
				errs += n;
			}
		}
		if (f != NULL)
			fclose(f);
	}
	check(errs == 0, "race: every call succeeded (%d errors)", errs);
	check(nranges == RACE_PROCS * RACE_ITERS, "race: %u OID ranges, all disjoint", nranges);
	rc = cont_query(phdl_rw, ch, DAOS_PROP_CO_ALLOCED_OID, &q);
	if (rc == 0 && q->n_properties == 1)
		next = q->properties[0]->numval;
	check(rc == 0 && next == 1 + total,
	      "race: next OID %" PRIu64 " = 1 + the %" PRIu64 " OIDs answered (none lost)", next,
	      total);
	msg_free(q != NULL ? &q->base : NULL);
	rc = attr_list(DSS_CTL_CONT_ATTR_LIST, phdl_rw, ch, buf, sizeof(buf));
	for (n = 0, tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save))
		n += tok[0] == 'w';
	check(rc == 0 && n == RACE_PROCS * RACE_ITERS, "race: %d container attributes (of %d)", n,
	      RACE_PROCS * RACE_ITERS);
	rc = attr_list(DSS_CTL_POOL_ATTR_LIST, phdl_rw, NULL, buf, sizeof(buf));
	for (n = 0, tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save))
		n += tok[0] == 'p';
	check(rc == 0 && n == RACE_PROCS * RACE_ITERS, "race: %d pool attributes (of %d)", n,
	      RACE_PROCS * RACE_ITERS);
	rc = cont_snap(DSS_CTL_CONT_SNAP_LIST, phdl_rw, ch, 0, &sn);
	for (i = 1; rc == 0 && i < (int)sn->n_snapshots; i++)
		distinct &= sn->snapshots[i]->epoch > sn->snapshots[i - 1]->epoch;
	check(rc == 0 && sn->n_snapshots == RACE_PROCS * RACE_ITERS && distinct,
	      "race: %zu snapshots, sorted, distinct", rc == 0 ? sn->n_snapshots : 0);
	msg_free(sn != NULL ? &sn->base : NULL);
	rc = cont_acl_update(phdl_rw, ch, "A::crace_last@:r", "A::crace", &n);
	check(rc == 0 && n == RACE_PROCS * RACE_ITERS + 1, "race: %d container ACL entries (of %d)",
	      n, RACE_PROCS * RACE_ITERS + 1);
	rc = pool_acl_get(buf, sizeof(buf));
	for (n = 0, tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save))
		n += strncmp(tok, "A::race", 7) == 0;
	check(rc == 0 && n == RACE_PROCS * RACE_ITERS, "race: %d pool ACL entries (of %d)", n,
	      RACE_PROCS * RACE_ITERS);
	for (i = 0; i < RACE_PROCS; i++) {
		x = 0;
		rc = pool_prop_get(race_props[i], &x);
		check(rc == 0 && x == RACE_ITERS, "race: pool property %u is %" PRIu64 " (%d)",
		      race_props[i], x, RACE_ITERS);
	}
	cont_close(phdl_rw, ch);
	cont_destroy(phdl_rw, cu, false);
	disconnect_pool(phdl_rw);
}

/* Connect RW and leave the handle (a pool destroy must then be forced). */
static void
phase_connect(void)
{
	int rc;

	new_uuid(phdl_rw);
	rc = connect_pool(phdl_rw, DAOS_PC_RW, NULL);
	check(rc == 0, "connect: %s", d_errstr(rc));
}

static void
phase_nohdl(const char *state)
{
	char hdls[M_CONTS][40];
	int i, rc;

	state_read(state, hdls);
	rc = pool_hdl_call(DSS_CTL_POOL_MAP_GET, phdl_rw, &mgmt__pool_connect_resp__descriptor,
			   NULL);
	check(rc == -DER_NO_HDL, "evicted pool handle: %s", d_errstr(rc));
	for (i = 0; i < M_CONTS; i++)
		if (hdls[i][0] != '\0') {
			rc = cont_query(phdl_rw, hdls[i], 0, NULL);
			check(rc == -DER_NO_HDL, "its container handle went with it: %s",
			      d_errstr(rc));
		}
}

int
main(int argc, char **argv)
{
	d_iov_t iov = {0};
	int rc;

	if (argc < 5) {
		fprintf(stderr,
			"usage: %s main|restart|nohdl|connect|race ADDR POOL STATE [SEED]\n",
			argv[0]);
		return 2;
	}
	pool_id = argv[3];
	rc = dc_sec_request_creds(&iov);
	if (rc != 0) {
		fprintf(stderr, "credential from the agent: %s\n", d_errstr(rc));
		return 2;
	}
	cred.data = iov.iov_buf;
	cred.len = iov.iov_len;
	for (char *save = NULL, *t = strtok_r(argv[2], ",", &save); t != NULL && naddrs < 8;
	     t = strtok_r(NULL, ",", &save))
		addrs[naddrs++] = t;
	if (naddrs == 0)
		return 2;
	reconnect(addrs[0]);
	if (strcmp(argv[1], "main") == 0)
		phase_main(argv[4], argc > 5 ? (unsigned)strtoul(argv[5], NULL, 0) : 1);
	else if (strcmp(argv[1], "restart") == 0)
		phase_restart(argv[4]);
	else if (strcmp(argv[1], "nohdl") == 0)
		phase_nohdl(argv[4]);
	else if (strcmp(argv[1], "connect") == 0)
		phase_connect();
	else if (strcmp(argv[1], "race") == 0)
		phase_race(argv[4]);
	dss_ctl_client_close(cli);
	free(iov.iov_buf);
	printf("%d check(s) failed\n", fails);
	return fails > 0 ? 1 : 0;
}
