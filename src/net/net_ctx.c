/*
 * net_ctx.c: net contexts on libfabric: opening a provider's RDM endpoint with its CQ, AV
 * and domain; string addresses; the peer table; receive buffers; and net_progress, which
 * reads the completion queue, dispatches completions to net_rpc.c (client), net_srv.c
 * (server) and net_bulk.c (RMA), fires timeouts and sleeps on the CQ's wait fd.
 */
#define D_LOGFAC net

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <time.h>

#include "net_internal.h"

D_LOG_FAC_DEFINE(net);

/* Completions read per fi_cq_read. */
#define NET_CQ_BATCH 32
/* Spare receive buffers kept beyond the posted ones. */
#define NET_MSG_FREE_MAX 256
/* Sleep bounds of a wait without fd (shm). */
#define NET_BACKOFF_MIN_NS (4 * D_NSEC_PER_USEC)
#define NET_BACKOFF_MAX_NS (1 * D_NSEC_PER_MSEC)

int
net_fi2der(int fi_err)
{
	switch (fi_err < 0 ? -fi_err : fi_err) {
	case 0:
		return 0;
	case FI_EAGAIN:
		return -DER_AGAIN;
	case FI_ENOMEM:
		return -DER_NOMEM;
	case FI_EINVAL:
		return -DER_INVAL;
	case FI_ECANCELED:
		return -DER_CANCELED;
	case FI_ETIMEDOUT:
		return -DER_TIMEDOUT;
	case FI_ETRUNC:
	case FI_ETOOSMALL:
		return -DER_TRUNC;
	case FI_ENODATA:
	case FI_ENOENT:
		return -DER_NONEXIST;
	case FI_EACCES:
	case FI_EPERM:
	case FI_EKEYREJECTED:
		return -DER_NO_PERM;
	case FI_ECONNREFUSED:
	case FI_ECONNRESET:
	case FI_ECONNABORTED:
	case FI_EHOSTUNREACH:
	case FI_ENOTCONN:
	case FI_EADDRNOTAVAIL:
	case FI_ENETUNREACH:
	case FI_ENETDOWN:
	case FI_EIO:
	case FI_ESHUTDOWN:
		return -DER_UNREACH;
	case FI_ENOSYS:
	case FI_EOPNOTSUPP:
		return -DER_NOSYS;
	default:
		return -DER_HG;
	}
}

/* Split "ip[:port]" into @node and @service (port "0" if none). */
static int
net_addr_split(const char *addr, char *node, size_t node_len, char *service, size_t svc_len)
{
	const char *colon = strrchr(addr, ':');
	size_t n = colon == NULL ? strlen(addr) : (size_t)(colon - addr);
	char *end;
	unsigned long port = 0;

	if (n == 0 || n >= node_len)
		return -DER_INVAL;
	memcpy(node, addr, n);
	node[n] = '\0';
	if (colon != NULL) {
		port = strtoul(colon + 1, &end, 10);
		if (colon[1] == '\0' || *end != '\0' || port > 65535)
			return -DER_INVAL;
	}
	snprintf(service, svc_len, "%lu", port);
	return 0;
}

static int
net_fab_getinfo(const char *prov, const char *addr, struct fi_info **info)
{
	struct fi_info *hints;
	char node[64];
	char service[16];
	const char *svc;
	int rc;

	rc = net_addr_split(addr, node, sizeof(node), service, sizeof(service));
	if (rc != 0) {
		D_ERROR("bad listen address '%s'\n", addr);
		return rc;
	}
	/* shm without a port: let the provider name the endpoint after the process. */
	svc = service;
	if (strcmp(prov, "shm") == 0 && strcmp(service, "0") == 0)
		svc = NULL;

	hints = fi_allocinfo();
	if (hints == NULL)
		return -DER_NOMEM;
	hints->ep_attr->type = FI_EP_RDM;
	hints->caps = FI_MSG | FI_RMA | FI_READ | FI_WRITE | FI_REMOTE_READ | FI_REMOTE_WRITE;
	hints->mode = FI_CONTEXT;
	hints->domain_attr->mr_mode = FI_MR_VIRT_ADDR | FI_MR_ALLOCATED | FI_MR_PROV_KEY;
	hints->domain_attr->threading = FI_THREAD_DOMAIN;
	hints->domain_attr->av_type = FI_AV_TABLE;
	hints->fabric_attr->prov_name = strdup(prov);
	if (hints->fabric_attr->prov_name == NULL) {
		fi_freeinfo(hints);
		return -DER_NOMEM;
	}
	if (svc == NULL)
		rc = fi_getinfo(FI_VERSION(1, 17), NULL, NULL, 0, hints, info);
	else
		rc = fi_getinfo(FI_VERSION(1, 17), node, svc, FI_SOURCE, hints, info);
	fi_freeinfo(hints);
	if (rc != 0) {
		D_ERROR("fi_getinfo(%s, %s) failed: %s\n", prov, addr, fi_strerror(-rc));
		return rc == -FI_ENODATA ? -DER_NONEXIST : net_fi2der(rc);
	}
	return 0;
}

#define NET_FI_CALL(call, what, out)                                                               \
	do {                                                                                       \
		int fi_rc_ = (call);                                                               \
		if (fi_rc_ != 0) {                                                                 \
			D_ERROR("%s failed: %s\n", what, fi_strerror(-fi_rc_));                    \
			rc = net_fi2der(fi_rc_);                                                   \
			goto out;                                                                  \
		}                                                                                  \
	} while (0)

int
net_fab_open(const char *prov, const char *addr, bool want_fd, struct net_fab *fab)
{
	struct fi_av_attr av_attr = {.type = FI_AV_TABLE};
	struct fi_cq_attr cq_attr = {.format = FI_CQ_FORMAT_MSG, .wait_obj = FI_WAIT_NONE};
	uint64_t mode;
	size_t len;
	int rc;

	memset(fab, 0, sizeof(*fab));
	fab->nf_fd = -1;
	fab->nf_key_next = 1;
	rc = net_fab_getinfo(prov, addr, &fab->nf_info);
	if (rc != 0)
		return rc;
	mode = fab->nf_info->domain_attr->mr_mode;
	if (mode & (FI_MR_LOCAL | FI_MR_RAW)) {
		D_ERROR("provider %s wants MR mode %#" PRIx64 ", unsupported\n", prov, mode);
		rc = -DER_NOSYS;
		goto out;
	}
	fab->nf_virt_addr = (mode & FI_MR_VIRT_ADDR) != 0;
	fab->nf_shm = strcmp(fab->nf_info->fabric_attr->prov_name, "shm") == 0;
	fab->nf_prov_key = (mode & FI_MR_PROV_KEY) != 0;
	fab->nf_mr_endpoint = (mode & FI_MR_ENDPOINT) != 0;
	fab->nf_rma_max = fab->nf_info->ep_attr->max_msg_size;

	NET_FI_CALL(fi_fabric(fab->nf_info->fabric_attr, &fab->nf_fabric, NULL), "fi_fabric", out);
	NET_FI_CALL(fi_domain(fab->nf_fabric, fab->nf_info, &fab->nf_domain, NULL), "fi_domain",
		    out);
	NET_FI_CALL(fi_av_open(fab->nf_domain, &av_attr, &fab->nf_av, NULL), "fi_av_open", out);
	if (want_fd) {
		cq_attr.wait_obj = FI_WAIT_FD;
		if (fi_cq_open(fab->nf_domain, &cq_attr, &fab->nf_cq, NULL) != 0) {
			fab->nf_cq = NULL;
			cq_attr.wait_obj = FI_WAIT_NONE;
		}
	}
	if (fab->nf_cq == NULL)
		NET_FI_CALL(fi_cq_open(fab->nf_domain, &cq_attr, &fab->nf_cq, NULL), "fi_cq_open",
			    out);
	NET_FI_CALL(fi_endpoint(fab->nf_domain, fab->nf_info, &fab->nf_ep, NULL), "fi_endpoint",
		    out);
	NET_FI_CALL(fi_ep_bind(fab->nf_ep, &fab->nf_av->fid, 0), "fi_ep_bind(av)", out);
	NET_FI_CALL(fi_ep_bind(fab->nf_ep, &fab->nf_cq->fid, FI_TRANSMIT | FI_RECV),
		    "fi_ep_bind(cq)", out);
	NET_FI_CALL(fi_enable(fab->nf_ep), "fi_enable", out);
	if (cq_attr.wait_obj == FI_WAIT_FD &&
	    fi_control(&fab->nf_cq->fid, FI_GETWAIT, &fab->nf_fd) != 0)
		fab->nf_fd = -1;

	fab->nf_name_len = sizeof(fab->nf_name);
	NET_FI_CALL(fi_getname(&fab->nf_ep->fid, fab->nf_name, &fab->nf_name_len), "fi_getname",
		    out);
	len = sizeof(fab->nf_straddr);
	fi_av_straddr(fab->nf_av, fab->nf_name, fab->nf_straddr, &len);
	if (len > sizeof(fab->nf_straddr)) {
		D_ERROR("address of %s too long (%zu)\n", prov, len);
		rc = -DER_HG;
		goto out;
	}
	D_DEBUG("opened %s at %s (mr mode %#" PRIx64 ", fd %d)\n", prov, fab->nf_straddr, mode,
		fab->nf_fd);
	return 0;
out:
	net_fab_close(fab);
	return rc;
}

void
net_fab_close(struct net_fab *fab)
{
	if (fab->nf_ep != NULL)
		fi_close(&fab->nf_ep->fid);
	if (fab->nf_cq != NULL)
		fi_close(&fab->nf_cq->fid);
	if (fab->nf_av != NULL)
		fi_close(&fab->nf_av->fid);
	if (fab->nf_domain != NULL)
		fi_close(&fab->nf_domain->fid);
	if (fab->nf_fabric != NULL)
		fi_close(&fab->nf_fabric->fid);
	if (fab->nf_info != NULL)
		fi_freeinfo(fab->nf_info);
	memset(fab, 0, sizeof(*fab));
	fab->nf_fd = -1;
}

/* Does @str's scheme ("fi_xxx://") belong to @fab's provider? */
static bool
net_fab_scheme_ok(const struct net_fab *fab, const char *str)
{
	const char *end = strstr(str, "://");
	const char *own = strstr(fab->nf_straddr, "://");
	size_t len;

	if (end == NULL || own == NULL || end[3] == '\0')
		return false;
	len = (size_t)(end - str);
	if (len == (size_t)(own - fab->nf_straddr) && strncmp(str, fab->nf_straddr, len) == 0)
		return true;
	/* shm names an endpoint after the process (fi_shm) or after an address (fi_ns). */
	if (strcmp(fab->nf_info->fabric_attr->prov_name, "shm") == 0)
		return strncmp(str, "fi_shm://", 9) == 0 || strncmp(str, "fi_ns://", 8) == 0;
	return false;
}

/* Parse "fi_sockaddr_in://IP:PORT" (a dotted IPv4 address, a port 1..65535) into @sin. */
static int
net_in4_parse(const char *str, struct sockaddr_in *sin)
{
	static const char in4[] = "fi_sockaddr_in://";
	char ip[INET_ADDRSTRLEN];
	char *end;
	unsigned long port;
	const char *colon;

	if (strncmp(str, in4, sizeof(in4) - 1) != 0)
		return -DER_INVAL;
	str += sizeof(in4) - 1;
	colon = strrchr(str, ':');
	if (colon == NULL || (size_t)(colon - str) >= sizeof(ip) || colon == str)
		return -DER_INVAL;
	memcpy(ip, str, (size_t)(colon - str));
	ip[colon - str] = '\0';
	port = strtoul(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || port == 0 || port > 65535)
		return -DER_INVAL;
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, ip, &sin->sin_addr) != 1)
		return -DER_INVAL;
	return 0;
}

int
net_fab_str2raw(const struct net_fab *fab, const char *str, uint8_t *raw, size_t *len)
{
	static const char in4[] = "fi_sockaddr_in://";
	size_t n = strnlen(str, NET_ADDR_STR_MAX);

	if (n == 0 || n >= NET_ADDR_STR_MAX)
		return -DER_INVAL;
	switch (fab->nf_info->addr_format) {
	case FI_SOCKADDR_IN: {
		struct sockaddr_in sin;
		int rc = net_in4_parse(str, &sin);

		if (rc != 0)
			return rc;
		memcpy(raw, &sin, sizeof(sin));
		*len = sizeof(sin);
		return 0;
	}
	case FI_ADDR_STR:
		/*
		 * A shm context given a tcp URI: the engine listening at that ip:port also
		 * listens on shm under "fi_ns://ip:port" (src/engine/srv_net.c), so that a
		 * same-host client reaches it by the addresses the system map already has.
		 */
		if (strncmp(str, in4, sizeof(in4) - 1) == 0 && fab->nf_shm) {
			struct sockaddr_in sin;
			char ip[INET_ADDRSTRLEN];
			int rc = net_in4_parse(str, &sin);
			int w;

			if (rc != 0)
				return rc;
			inet_ntop(AF_INET, &sin.sin_addr, ip, sizeof(ip));
			w = snprintf((char *)raw, NET_ADDR_RAW_MAX, "fi_ns://%s:%u", ip,
				     ntohs(sin.sin_port));
			*len = (size_t)w + 1;
			return 0;
		}
		/* The raw address is the string itself, NUL included. */
		if (!net_fab_scheme_ok(fab, str) || n + 1 > NET_ADDR_RAW_MAX)
			return -DER_INVAL;
		memcpy(raw, str, n + 1);
		*len = n + 1;
		return 0;
	default:
		D_ERROR("address format %u unsupported\n", fab->nf_info->addr_format);
		return -DER_NOSYS;
	}
}

int
net_fab_mr_reg(struct net_fab *fab, void *buf, size_t len, uint64_t access, struct fid_mr **mr,
	       uint64_t *key, uint64_t *raddr)
{
	uint64_t want = fab->nf_prov_key ? 0 : fab->nf_key_next++;
	int rc;

	rc = fi_mr_reg(fab->nf_domain, buf, len, access, 0, want, 0, mr, NULL);
	if (rc != 0) {
		D_ERROR("fi_mr_reg(%zu bytes) failed: %s\n", len, fi_strerror(-rc));
		return net_fi2der(rc);
	}
	if (fab->nf_mr_endpoint) {
		rc = fi_mr_bind(*mr, &fab->nf_ep->fid, 0);
		if (rc == 0)
			rc = fi_mr_enable(*mr);
		if (rc != 0) {
			D_ERROR("binding an MR failed: %s\n", fi_strerror(-rc));
			fi_close(&(*mr)->fid);
			*mr = NULL;
			return net_fi2der(rc);
		}
	}
	*key = fi_mr_key(*mr);
	*raddr = fab->nf_virt_addr ? (uint64_t)(uintptr_t)buf : 0;
	return 0;
}

/* Peers */

static uint32_t
net_peer_hash(const uint8_t *raw, size_t len)
{
	return (uint32_t)d_hash_murmur64(raw, (unsigned int)len, 5381) &
	       ((1U << NET_PEER_HASH_BITS) - 1);
}

/*
 * A shm client with a fallback, after an RPC to an engine's shm name failed: the engine
 * likely died, and its other contexts with it. Every shm name whose doorbell nobody binds
 * any more is marked stale too, so that the next lookup of each routes it anew (tcp, or
 * the restarted engine's shm) instead of paying one RPC timeout per context.
 */
static void
net_peer_forget_dead(struct net_context *ctx)
{
	struct net_peer_ent *pe;
	uint32_t i;

	for (i = 0; i < (1U << NET_PEER_HASH_BITS); i++)
		d_list_for_each_entry (pe, &ctx->c_peer_hash[i], pe_link)
			if (!pe->pe_stale && !pe->pe_alt && pe->pe_len > 8 &&
			    memcmp(pe->pe_raw, "fi_ns://", 8) == 0 &&
			    !net_bell_live(pe->pe_raw, pe->pe_len))
				pe->pe_stale = true;
}

void
net_peer_forget(struct net_context *ctx, fi_addr_t fa)
{
	struct net_peer_ent *pe;
	uint32_t i;

	for (i = 0; i < (1U << NET_PEER_HASH_BITS); i++) {
		d_list_for_each_entry (pe, &ctx->c_peer_hash[i], pe_link) {
			if (pe->pe_fa != fa)
				continue;
			/* only names a restarted engine takes again (shm: fi_ns://IP:PORT) */
			if (pe->pe_stale || pe->pe_len < 8 ||
			    memcmp(pe->pe_raw, "fi_ns://", 8) != 0)
				return;
			D_DEBUG("%s: %s marked stale\n", ctx->c_fab.nf_straddr, (char *)pe->pe_raw);
			pe->pe_stale = true;
			if (ctx->c_alt_prov != NULL)
				net_peer_forget_dead(ctx);
			return;
		}
	}
}

/* Whether a send to @fa waits in c_pending (so @fa must stay in the AV). */
static bool
net_peer_pending(struct net_context *ctx, fi_addr_t fa)
{
	struct net_op *op;

	d_list_for_each_entry (op, &ctx->c_pending, no_link) {
		if (op->no_type == NET_OP_RPC_SEND &&
		    container_of(op, struct net_rpc, r_op)->r_dest == fa)
			return true;
	}
	return false;
}

/* Insert the name of stale @pe again: a restarted engine's new region gets mapped. */
static void
net_peer_remap(struct net_context *ctx, struct net_peer_ent *pe)
{
	fi_addr_t fa;
	int rc;

	if (net_peer_pending(ctx, pe->pe_fa))
		return; /* a later lookup tries again */
	(void)fi_av_remove(ctx->c_fab.nf_av, &pe->pe_fa, 1, 0);
	rc = fi_av_insert(ctx->c_fab.nf_av, pe->pe_raw, 1, &fa, 0, NULL);
	if (rc != 1) {
		/* the entry's fi_addr is gone: the lookup fails, the next one inserts anew */
		D_ERROR_RL("%s: inserting %s again failed: %d\n", ctx->c_fab.nf_straddr,
			   (char *)pe->pe_raw, rc);
		pe->pe_fa = FI_ADDR_NOTAVAIL;
		return;
	}
	D_DEBUG("%s: %s remapped\n", ctx->c_fab.nf_straddr, (char *)pe->pe_raw);
	pe->pe_fa = fa;
	pe->pe_stale = false;
	net_bell_peer(ctx, fa, pe->pe_raw, pe->pe_len);
	ctx->c_stats.ns_peers_forgotten++;
}

int
net_peer_insert(struct net_context *ctx, const uint8_t *raw, size_t len, fi_addr_t *fa)
{
	d_list_t *head = &ctx->c_peer_hash[net_peer_hash(raw, len)];
	struct net_peer_ent *pe;
	int rc;

	d_list_for_each_entry (pe, head, pe_link) {
		if (pe->pe_len == len && memcmp(pe->pe_raw, raw, len) == 0) {
			if (pe->pe_stale)
				net_peer_remap(ctx, pe);
			if (pe->pe_fa == FI_ADDR_NOTAVAIL) {
				d_list_del(&pe->pe_link);
				D_FREE(pe);
				ctx->c_stats.ns_peers--;
				break; /* inserted anew below */
			}
			*fa = pe->pe_fa;
			return 0;
		}
	}
	D_ALLOC(pe, sizeof(*pe) + len);
	if (pe == NULL)
		return -DER_NOMEM;
	rc = fi_av_insert(ctx->c_fab.nf_av, raw, 1, &pe->pe_fa, 0, NULL);
	if (rc != 1) {
		D_ERROR_RL("fi_av_insert failed: %d\n", rc);
		D_FREE(pe);
		return rc < 0 ? net_fi2der(rc) : -DER_INVAL;
	}
	pe->pe_len = (uint16_t)len;
	memcpy(pe->pe_raw, raw, len);
	d_list_add(&pe->pe_link, head);
	net_bell_peer(ctx, pe->pe_fa, raw, len);
	ctx->c_stats.ns_peers++;
	*fa = pe->pe_fa;
	return 0;
}

/* How often an engine reached through c_alt is checked for shm again (a restart with it). */
#define NET_ALT_RECHECK_NS (1 * D_NSEC_PER_SEC)

/*
 * The lookup of a shm client with a fallback (net_alt.c): an engine's tcp URI goes to its
 * shm name ("fi_ns://IP:PORT") while a live engine serves that name here (its doorbell is
 * bound), otherwise to c_alt. The entry of the shm name records the choice: a shm peer is
 * checked again once an RPC to it failed (pe_stale: the engine died; restarted, it may
 * serve shm or not), a c_alt peer every NET_ALT_RECHECK_NS.
 */
static int
net_peer_route(struct net_context *ctx, const char *addr, net_peer_t *peer)
{
	uint8_t raw[NET_ADDR_RAW_MAX];
	struct net_peer_ent *pe = NULL;
	struct net_peer_ent *e;
	uint64_t now = 0;
	size_t len;
	net_peer_t ap;
	fi_addr_t fa;
	int rc;

	rc = net_fab_str2raw(&ctx->c_fab, addr, raw, &len);
	if (rc != 0)
		return rc;
	d_list_for_each_entry (e, &ctx->c_peer_hash[net_peer_hash(raw, len)], pe_link) {
		if (e->pe_len == len && memcmp(e->pe_raw, raw, len) == 0) {
			pe = e;
			break;
		}
	}
	if (pe != NULL && !pe->pe_alt && !pe->pe_stale) {
		*peer = pe->pe_fa;
		return 0;
	}
	if (pe != NULL && pe->pe_alt) {
		now = d_now_ns();
		if (now - pe->pe_check_ns < NET_ALT_RECHECK_NS) {
			*peer = pe->pe_alt_peer;
			return 0;
		}
	}
	if (net_bell_live(raw, len)) {
		if (pe != NULL && pe->pe_alt) { /* it serves shm now: a shm entry anew */
			d_list_del(&pe->pe_link);
			D_FREE(pe);
		}
		rc = net_peer_insert(ctx, raw, len, &fa);
		if (rc != 0)
			return rc;
		if (fa >= NET_PEER_ALT)
			return -DER_OVERFLOW;
		*peer = fa;
		return 0;
	}
	/* No live engine serves that name here: the fallback. */
	if (pe != NULL && !pe->pe_alt && net_peer_pending(ctx, pe->pe_fa)) {
		*peer = pe->pe_fa; /* sends to the old one wait: a later lookup decides */
		return 0;
	}
	if (ctx->c_alt == NULL) {
		rc = net_alt_open(ctx);
		if (rc != 0)
			return rc;
	}
	rc = net_peer_lookup(ctx->c_alt, addr, &ap);
	if (rc != 0)
		return rc;
	if (ap >= NET_PEER_ALT)
		return -DER_OVERFLOW;
	if (pe == NULL) {
		D_ALLOC(pe, sizeof(*pe) + len);
		if (pe == NULL)
			return -DER_NOMEM;
		pe->pe_len = (uint16_t)len;
		memcpy(pe->pe_raw, raw, len);
		d_list_add(&pe->pe_link, &ctx->c_peer_hash[net_peer_hash(raw, len)]);
	} else if (!pe->pe_alt) {
		/* a shm engine that went away and came back without shm (or not yet) */
		(void)fi_av_remove(ctx->c_fab.nf_av, &pe->pe_fa, 1, 0);
		ctx->c_stats.ns_peers--;
		ctx->c_stats.ns_peers_forgotten++;
	}
	D_DEBUG("%s: %s not served here, through %s\n", ctx->c_fab.nf_straddr, addr,
		ctx->c_alt->c_fab.nf_straddr);
	pe->pe_fa = FI_ADDR_NOTAVAIL;
	pe->pe_stale = false;
	pe->pe_alt = true;
	pe->pe_alt_peer = ap | NET_PEER_ALT;
	pe->pe_check_ns = now != 0 ? now : d_now_ns();
	*peer = pe->pe_alt_peer;
	return 0;
}

int
net_peer_lookup(struct net_context *ctx, const char *addr, net_peer_t *peer)
{
	uint8_t raw[NET_ADDR_RAW_MAX];
	size_t len;
	fi_addr_t fa;
	int rc;

	if (addr == NULL || peer == NULL)
		return -DER_INVAL;
	if (ctx->c_alt_prov != NULL && strncmp(addr, "fi_sockaddr_in://", 17) == 0)
		return net_peer_route(ctx, addr, peer); /* a shm client with a tcp fallback */
	rc = net_fab_str2raw(&ctx->c_fab, addr, raw, &len);
	if (rc != 0) {
		D_DEBUG("bad peer address '%s' for %s\n", addr, ctx->c_fab.nf_straddr);
		return rc;
	}
	rc = net_peer_insert(ctx, raw, len, &fa);
	if (rc != 0)
		return rc;
	if (fa > 0xffffffffULL) { /* the high half of a net_peer_t holds its tag */
		D_ERROR("%s: address vector index %" PRIu64 " too large\n", ctx->c_fab.nf_straddr,
			(uint64_t)fa);
		return -DER_OVERFLOW;
	}
	*peer = fa;
	return 0;
}

/* Receive buffers */

struct net_msg *
net_msg_get(struct net_context *ctx)
{
	struct net_msg *msg;

	msg = d_list_pop_entry(&ctx->c_msg_free, struct net_msg, m_link);
	if (msg != NULL) {
		ctx->c_msg_free_nr--;
		return msg;
	}
	D_ALLOC_NZ(msg, sizeof(*msg) + ctx->c_msg_max);
	if (msg == NULL)
		return NULL;
	memset(msg, 0, sizeof(*msg));
	msg->m_op.no_type = NET_OP_RECV;
	msg->m_ctx = ctx;
	msg->m_size = ctx->c_msg_max;
	D_INIT_LIST_HEAD(&msg->m_link);
	D_INIT_LIST_HEAD(&msg->m_op.no_link);
	return msg;
}

void
net_msg_put(struct net_context *ctx, struct net_msg *msg)
{
	if (ctx->c_msg_free_nr >= NET_MSG_FREE_MAX) {
		D_FREE(msg);
		return;
	}
	d_list_add(&msg->m_link, &ctx->c_msg_free);
	ctx->c_msg_free_nr++;
}

void
net_msg_free(struct net_msg *msg)
{
	D_FREE(msg);
}

int
net_rx_refill(struct net_context *ctx)
{
	struct net_msg *msg;
	ssize_t rc;

	while (ctx->c_rx_posted < ctx->c_rx_nr && !ctx->c_stopping) {
		msg = net_msg_get(ctx);
		if (msg == NULL)
			return -DER_NOMEM;
		rc = fi_recv(ctx->c_fab.nf_ep, msg->m_data, msg->m_size, NULL, FI_ADDR_UNSPEC,
			     &msg->m_op.no_fictx);
		if (rc != 0) {
			net_msg_put(ctx, msg);
			if (rc == -FI_EAGAIN)
				return 0;
			D_ERROR_RL("fi_recv failed: %s\n", fi_strerror((int)-rc));
			return net_fi2der((int)rc);
		}
		d_list_add_tail(&msg->m_link, &ctx->c_msg_posted);
		ctx->c_rx_posted++;
	}
	return 0;
}

/* What a message handled by net_msg_handle may be: anything, or an entry of a batch of
 * requests or of replies (which cannot be a batch itself). */
enum { NET_ENT_NONE, NET_ENT_REQ, NET_ENT_REPLY };
static void net_msg_handle(struct net_context *ctx, struct net_msg *msg, size_t len, int entry);

/*
 * A batch of requests or replies: each entry is copied into a buffer of its own (a request
 * keeps its message until its reply, a reply's callback may keep it) and handled like a
 * message received alone. A malformed entry ends the
 * batch (what follows cannot be found); the entries before it were handled.
 */
static void
net_batch_recv(struct net_context *ctx, struct net_msg *msg, const struct net_hdr *hdr)
{
	const uint8_t *ent;
	size_t off = 0;
	size_t len;
	int rc;

	while ((rc = net_batch_next(hdr, &off, &ent, &len)) == 0) {
		struct net_msg *one = net_msg_get(ctx);

		if (one == NULL) {
			/* the RPCs time out: memory is what we lack */
			D_ERROR_RL("%s: no buffer for a batched message\n", ctx->c_fab.nf_straddr);
			continue;
		}
		memcpy(one->m_data, ent, len);
		net_msg_handle(ctx, one, len,
			       hdr->nh_flags & NET_HF_REPLY ? NET_ENT_REPLY : NET_ENT_REQ);
	}
	if (rc < 0) {
		ctx->c_stats.ns_bad_msgs++;
		D_ERROR_RL("%s: dropped the rest of a malformed batch\n", ctx->c_fab.nf_straddr);
	}
	net_msg_put(ctx, msg);
}

/* A received message: a request for the server side or a reply for the client side. */
static void
net_msg_recv(struct net_context *ctx, struct net_msg *msg, size_t len, int err)
{
	ctx->c_rx_posted--;
	d_list_del_init(&msg->m_link);
	if (err != 0) {
		if (err != FI_ECANCELED)
			D_ERROR_RL("%s: receive failed: %s\n", ctx->c_fab.nf_straddr,
				   fi_strerror(err));
		net_msg_put(ctx, msg);
		return;
	}
	if (D_FAIL_CHECK(NET_FI_RECV_DROP)) {
		net_msg_put(ctx, msg);
		return;
	}
	net_msg_handle(ctx, msg, len, NET_ENT_NONE);
}

/* Dispatch @msg (@len bytes; @entry: NET_ENT_*, what it must be). */
static void
net_msg_handle(struct net_context *ctx, struct net_msg *msg, size_t len, int entry)
{
	struct net_hdr hdr;
	int rc;

	msg->m_len = (uint32_t)len;
	rc = net_hdr_decode(msg->m_data, len, &hdr);
	if (rc == 0 && entry != NET_ENT_NONE &&
	    ((hdr.nh_flags & NET_HF_BATCH) ||
	     !(hdr.nh_flags & NET_HF_REPLY) != (entry == NET_ENT_REQ)))
		rc = -DER_PROTO;
	if (rc == -DER_MISMATCH && !entry && !(hdr.nh_flags & NET_HF_REPLY) &&
	    hdr.nh_addr_len > 0) {
		/* Another version: net_req_recv answers -DER_PROTO if it can. */
		net_req_recv(ctx, msg, &hdr);
		return;
	}
	if (rc != 0) {
		ctx->c_stats.ns_bad_msgs++;
		D_ERROR_RL("%s: dropped a malformed message of %zu bytes: " DF_RC "\n",
			   ctx->c_fab.nf_straddr, len, DP_RC(rc));
		net_msg_put(ctx, msg);
		return;
	}
	if (hdr.nh_flags & NET_HF_BATCH)
		net_batch_recv(ctx, msg, &hdr);
	else if (hdr.nh_flags & NET_HF_REPLY)
		net_rpc_recv_reply(ctx, msg, &hdr);
	else
		net_req_recv(ctx, msg, &hdr);
}

static void
net_cq_dispatch(struct net_context *ctx, void *op_ctx, size_t len, int err)
{
	struct net_op *op = op_ctx;

	if (op == NULL) {
		/* shm reports some failures a peer caused (a bad RMA key) without a context. */
		D_DEBUG("%s: completion without context (err %d)\n", ctx->c_fab.nf_straddr, err);
		return;
	}
	switch (op->no_type) {
	case NET_OP_RECV:
		net_msg_recv(ctx, container_of(op, struct net_msg, m_op), len, err);
		break;
	case NET_OP_RPC_SEND:
		net_rpc_send_done(ctx, container_of(op, struct net_rpc, r_op), net_fi2der(err));
		break;
	case NET_OP_REPLY_SEND:
		net_req_send_done(ctx, container_of(op, struct net_req, q_op), net_fi2der(err));
		break;
	case NET_OP_RMA:
		net_rma_done(ctx, container_of(op, struct net_rma_piece, p_op), net_fi2der(err));
		break;
	default:
		D_ASSERTF(0, "bad op type %u", op->no_type);
	}
}

/* Read completions until the CQ is empty or a batch limit; returns how many or -DER_*. */
static int
net_cq_poll(struct net_context *ctx)
{
	struct fi_cq_msg_entry ents[NET_CQ_BATCH];
	struct fi_cq_err_entry err;
	ssize_t n;
	int total = 0;
	int i;

	for (;;) {
		n = fi_cq_read(ctx->c_fab.nf_cq, ents, NET_CQ_BATCH);
		if (n == -FI_EAGAIN)
			break;
		if (n == -FI_EAVAIL) {
			memset(&err, 0, sizeof(err));
			n = fi_cq_readerr(ctx->c_fab.nf_cq, &err, 0);
			if (n != 1)
				continue;
			if (err.err != FI_ECANCELED)
				D_DEBUG("%s: completion error %s (prov %d)\n",
					ctx->c_fab.nf_straddr, fi_strerror(err.err),
					err.prov_errno);
			net_cq_dispatch(ctx, err.op_context, err.len,
					err.err != 0 ? err.err : FI_EIO);
			total++;
			continue;
		}
		if (n < 0) {
			D_ERROR_RL("%s: fi_cq_read failed: %s\n", ctx->c_fab.nf_straddr,
				   fi_strerror((int)-n));
			return net_fi2der((int)n);
		}
		for (i = 0; i < n; i++)
			net_cq_dispatch(ctx, ents[i].op_context, ents[i].len, 0);
		total += (int)n;
		if (n < NET_CQ_BATCH || total >= 4 * NET_CQ_BATCH)
			break;
	}
	return total;
}

/* Post what waits for a post: sends first (they may free TX slots for nothing), then RMA. */
static int
net_pending_run(struct net_context *ctx)
{
	struct net_op *op;
	int n = 0;
	int rc;

	while (!d_list_empty(&ctx->c_pending)) {
		op = d_list_first_entry(&ctx->c_pending, struct net_op, no_link);
		if (op->no_type == NET_OP_RPC_SEND) {
			rc = net_rpc_post(ctx, container_of(op, struct net_rpc, r_op));
		} else {
			D_ASSERT(op->no_type == NET_OP_REPLY_SEND);
			rc = net_req_post(ctx, container_of(op, struct net_req, q_op));
		}
		if (rc == -DER_AGAIN)
			break;
		n++;
	}
	n += net_bulk_pending_run(ctx);
	return n;
}

/* One pass: post, read, run due callbacks, fire timers. Returns events handled or -DER_*. */
static int
net_poll_once(struct net_context *ctx, uint64_t *now)
{
	int n = 0;
	int rc;

	if (!d_list_empty(&ctx->c_pending) || !d_list_empty(&ctx->c_bulk_pending))
		n += net_pending_run(ctx);
	rc = net_cq_poll(ctx);
	if (rc < 0)
		return rc;
	n += rc;
	if (!d_list_empty(&ctx->c_done))
		n += net_rpc_done_run(ctx);
	if (!d_list_empty(&ctx->c_bulk_done))
		n += net_bulk_done_run(ctx);
	if (ctx->c_rx_posted < ctx->c_rx_nr)
		net_rx_refill(ctx);
	if (ctx->c_heap_nr > 0) {
		*now = d_now_ns();
		if (ctx->c_heap[0]->r_deadline <= *now)
			n += net_rpc_timers_fire(ctx, *now);
	}
	if (ctx->c_alt != NULL) { /* a shm client's fallback (net_alt.c): one pass of it too */
		ctx->c_alt->c_in_progress = true;
		rc = net_poll_once(ctx->c_alt, now);
		ctx->c_alt->c_in_progress = false;
		if (rc > 0)
			n += rc;
	}
	return n;
}

/* Sleep until the CQ has something, @until (d_now_ns), whichever first. */
static void
net_wait(struct net_context *ctx, uint64_t now, uint64_t until)
{
	uint64_t ns = until - now;
	struct timespec ts;

	if (!d_list_empty(&ctx->c_pending) || !d_list_empty(&ctx->c_bulk_pending))
		ns = ns > NET_BACKOFF_MAX_NS ? NET_BACKOFF_MAX_NS : ns;
	if (ctx->c_fab.nf_fd >= 0) {
		struct fid *fids[1] = {&ctx->c_fab.nf_cq->fid};
		struct pollfd pfd = {.fd = ctx->c_fab.nf_fd, .events = POLLIN};

		if (fi_trywait(ctx->c_fab.nf_fabric, fids, 1) != FI_SUCCESS)
			return;
		ts.tv_sec = (time_t)(ns / D_NSEC_PER_SEC);
		ts.tv_nsec = (long)(ns % D_NSEC_PER_SEC);
		(void)ppoll(&pfd, 1, &ts, NULL);
		return;
	}
	if (ns > ctx->c_backoff_ns)
		ns = ctx->c_backoff_ns;
	if (ctx->c_backoff_ns < NET_BACKOFF_MAX_NS)
		ctx->c_backoff_ns *= 2;
	ts.tv_sec = 0;
	ts.tv_nsec = (long)ns;
	nanosleep(&ts, NULL);
}

/*
 * How long net_progress busy-polls before it sleeps: ca_spin_us, or, while RPCs wait for
 * replies that usually come within c_spin_rpc_ns, four times their recent round trip. A
 * reply that is due soon is worth spinning for: sleeping costs a wake-up on each side of
 * the round trip (tens of microseconds each here, more under load).
 */
static uint64_t
net_spin_ns(const struct net_context *ctx)
{
	uint64_t spin = ctx->c_spin_ns;
	uint64_t want;

	if (ctx->c_heap_nr == 0 || ctx->c_rtt_ns == 0 || ctx->c_rtt_ns > ctx->c_spin_rpc_ns)
		return spin;
	want = 4 * ctx->c_rtt_ns;
	if (want > ctx->c_spin_rpc_ns)
		want = ctx->c_spin_rpc_ns;
	return want > spin ? want : spin;
}

int
net_progress(struct net_context *ctx, uint64_t timeout_us)
{
	uint64_t start = d_now_ns();
	uint64_t now = start;
	uint64_t end;
	uint64_t until;
	int n;

	D_ASSERTF(!ctx->c_in_progress, "net_progress called from a callback");
	ctx->c_in_progress = true;
	end = timeout_us > (UINT64_MAX - start) / 1000 ? UINT64_MAX : start + timeout_us * 1000;
	for (;;) {
		n = net_poll_once(ctx, &now);
		if (n != 0 || timeout_us == 0)
			break;
		now = d_now_ns();
		if (now >= end)
			break;
		if (now - start < net_spin_ns(ctx)) {
			/*
			 * Spin politely. A client sharing its core with the server thread that is
			 * to answer it (two cores, scheduler's choice) held the core for its whole
			 * spin and the request waited behind it: ~95 us per round trip instead of
			 * ~28 (docs/PERFORMANCE.md); alone on a core the yield returns at once.
			 */
			sched_yield();
			continue;
		}
		until = end;
		if (net_context_deadline(ctx) != 0 && net_context_deadline(ctx) < until)
			until = net_context_deadline(ctx);
		if (until > now)
			net_wait(ctx, now, until);
	}
	if (n > 0)
		ctx->c_backoff_ns = NET_BACKOFF_MIN_NS;
	ctx->c_in_progress = false;
	return n;
}

int
net_context_fd(const struct net_context *ctx)
{
	return ctx->c_fab.nf_fd;
}

bool
net_context_pending(const struct net_context *ctx)
{
	return !d_list_empty(&ctx->c_pending) || !d_list_empty(&ctx->c_bulk_pending) ||
	       !d_list_empty(&ctx->c_done) || !d_list_empty(&ctx->c_bulk_done) ||
	       (ctx->c_alt != NULL && net_context_pending(ctx->c_alt));
}

int
net_context_arm(struct net_context *ctx)
{
	struct fid *fids[1] = {&ctx->c_fab.nf_cq->fid};

	if (ctx->c_fab.nf_fd < 0 || net_context_pending(ctx))
		return 1;
	return fi_trywait(ctx->c_fab.nf_fabric, fids, 1) == FI_SUCCESS ? 0 : 1;
}

uint64_t
net_context_deadline(const struct net_context *ctx)
{
	uint64_t dl = ctx->c_heap_nr == 0 ? 0 : ctx->c_heap[0]->r_deadline;
	uint64_t adl;

	if (ctx->c_alt == NULL)
		return dl;
	adl = net_context_deadline(ctx->c_alt);
	return dl == 0 || (adl != 0 && adl < dl) ? adl : dl;
}

void
net_context_stats(const struct net_context *ctx, struct net_stats *st)
{
	*st = ctx->c_stats;
	net_alt_stats_add(ctx, st);
}

const char *
net_context_addr(const struct net_context *ctx)
{
	return ctx->c_fab.nf_straddr;
}

const char *
net_context_provider(const struct net_context *ctx)
{
	return ctx->c_fab.nf_info->fabric_attr->prov_name;
}

uint32_t
net_context_inline_max(const struct net_context *ctx)
{
	return ctx->c_inline_max;
}

int
net_context_create(const struct net_context_attr *attr, struct net_context **ctxp)
{
	struct net_context_attr def = {0};
	struct net_context *ctx;
	uint32_t i;
	int rc;

	if (ctxp == NULL)
		return -DER_INVAL;
	if (attr == NULL)
		attr = &def;
	if (attr->ca_inline_max > (64U << 20))
		return -DER_INVAL;
	rc = net_proto_register(&net_selftest_proto);
	if (rc != 0)
		return rc;
	D_ALLOC_PTR(ctx);
	if (ctx == NULL)
		return -DER_NOMEM;
	ctx->c_inline_max = attr->ca_inline_max == 0 ? NET_INLINE_MAX_DEFAULT : attr->ca_inline_max;
	ctx->c_msg_max = ctx->c_inline_max + NET_MSG_OVERHEAD;
	ctx->c_rx_nr = attr->ca_rx_nr == 0 ? NET_RX_NR_DEFAULT : attr->ca_rx_nr;
	ctx->c_spin_ns =
	    (uint64_t)(attr->ca_spin_us == 0 ? NET_SPIN_US_DEFAULT : attr->ca_spin_us) *
	    D_NSEC_PER_USEC;
	ctx->c_spin_rpc_ns =
	    (uint64_t)(attr->ca_spin_rpc_us == 0 ? NET_SPIN_RPC_US_DEFAULT : attr->ca_spin_rpc_us) *
	    D_NSEC_PER_USEC;
	ctx->c_tag = attr->ca_tag_set ? attr->ca_tag : NET_TAG_ANY;
	ctx->c_batch = !attr->ca_no_batch &&
		       (getenv("D_NET_BATCH") == NULL || strcmp(getenv("D_NET_BATCH"), "0") != 0);
	ctx->c_backoff_ns = NET_BACKOFF_MIN_NS;
	ctx->c_bell_fd = -1;
	ctx->c_ring_fd = -1;
	/* Ids start at a random point so that a restarted client never matches stale replies. */
	ctx->c_next_id = (d_now_ns() << 20) ^ ((uint64_t)(uintptr_t)ctx >> 4);
	for (i = 0; i < (1U << NET_RPC_HASH_BITS); i++)
		D_INIT_LIST_HEAD(&ctx->c_rpc_hash[i]);
	for (i = 0; i < (1U << NET_PEER_HASH_BITS); i++)
		D_INIT_LIST_HEAD(&ctx->c_peer_hash[i]);
	D_INIT_LIST_HEAD(&ctx->c_pending);
	D_INIT_LIST_HEAD(&ctx->c_done);
	D_INIT_LIST_HEAD(&ctx->c_bulk_pending);
	D_INIT_LIST_HEAD(&ctx->c_bulk_done);
	D_INIT_LIST_HEAD(&ctx->c_msg_free);
	D_INIT_LIST_HEAD(&ctx->c_msg_posted);
	D_INIT_LIST_HEAD(&ctx->c_rpcs);
	D_INIT_LIST_HEAD(&ctx->c_reqs);
	D_INIT_LIST_HEAD(&ctx->c_bulks);
	D_INIT_LIST_HEAD(&ctx->c_bulk_ops);

	rc = net_fab_open(attr->ca_provider == NULL ? NET_PROVIDER_DEFAULT : attr->ca_provider,
			  attr->ca_addr == NULL ? "127.0.0.1" : attr->ca_addr, !attr->ca_no_wait_fd,
			  &ctx->c_fab);
	if (rc != 0)
		goto out_free;
	if (ctx->c_fab.nf_name_len > NET_ADDR_RAW_MAX) {
		rc = -DER_HG;
		goto out_fab;
	}
	rc = net_rx_refill(ctx);
	if (rc != 0)
		goto out_fab;
	net_bell_open(ctx);
	if (attr->ca_fallback != NULL && ctx->c_fab.nf_shm) {
		D_STRNDUP(ctx->c_alt_prov, attr->ca_fallback, NET_ADDR_STR_MAX);
		if (attr->ca_addr != NULL)
			D_STRNDUP(ctx->c_alt_addr, attr->ca_addr, NET_ADDR_STR_MAX);
		if (ctx->c_alt_prov == NULL || (attr->ca_addr != NULL && ctx->c_alt_addr == NULL)) {
			net_context_destroy(ctx);
			return -DER_NOMEM;
		}
	}
	*ctxp = ctx;
	return 0;
out_fab:
	net_fab_close(&ctx->c_fab);
out_free:
	while (!d_list_empty(&ctx->c_msg_free)) {
		struct net_msg *msg = d_list_pop_entry(&ctx->c_msg_free, struct net_msg, m_link);

		D_FREE(msg);
	}
	while (!d_list_empty(&ctx->c_msg_posted)) {
		struct net_msg *msg = d_list_pop_entry(&ctx->c_msg_posted, struct net_msg, m_link);

		D_FREE(msg);
	}
	D_FREE(ctx);
	return rc;
}

void
net_context_destroy(struct net_context *ctx)
{
	struct net_peer_ent *pe;
	struct net_msg *msg;
	uint32_t i;

	if (ctx == NULL)
		return;
	D_ASSERT(!ctx->c_in_progress);
	net_alt_close(ctx); /* a shm client's fallback context, with its callbacks */
	ctx->c_stopping = true;
	/* Closing the endpoint first ends every posted operation: buffers are ours again. */
	fi_close(&ctx->c_fab.nf_ep->fid);
	ctx->c_fab.nf_ep = NULL;
	net_rpc_fini_all(ctx);
	net_bulk_fini_all(ctx);
	net_req_fini_all(ctx);
	net_fab_close(&ctx->c_fab);
	/* The endpoint is closed: posted receives are ours again. */
	while ((msg = d_list_pop_entry(&ctx->c_msg_posted, struct net_msg, m_link)) != NULL)
		D_FREE(msg);
	while ((msg = d_list_pop_entry(&ctx->c_msg_free, struct net_msg, m_link)) != NULL)
		D_FREE(msg);
	for (i = 0; i < (1U << NET_PEER_HASH_BITS); i++)
		while ((pe = d_list_pop_entry(&ctx->c_peer_hash[i], struct net_peer_ent,
					      pe_link)) != NULL)
			D_FREE(pe);
	for (i = 0; i < NET_MODULE_MAX; i++)
		D_FREE(ctx->c_handlers[i]);
	D_FREE(ctx->c_heap);
	net_bell_close(ctx);
	D_FREE(ctx);
}
