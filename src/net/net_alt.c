/*
 * net_alt.c: the fallback of a shm client context (net_context_attr.ca_fallback). A client
 * on the engines' host that asked for shm still has to reach engines that do not serve it
 * (started without DAOS_SHM, or on another host): net_peer_lookup (net_ctx.c) routes each
 * engine either to its shm name or, when no live engine serves that name here, to a second
 * context of the fallback provider (c_alt, opened at the first such lookup). The peers of
 * c_alt carry NET_PEER_ALT in their low half. Everything else makes the pair look like one
 * context: requests to such a peer are sent on c_alt (with a copy of their bulk handle
 * registered there, made at the first use and freed with the handle), progress polls both,
 * deadlines, pending work and counters are the two combined, cancel tries both. c_alt has
 * the same owner thread as its context and is destroyed with it.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "net_internal.h"

int
net_alt_open(struct net_context *ctx)
{
	struct net_context_attr attr = {
	    .ca_provider = ctx->c_alt_prov,
	    .ca_addr = ctx->c_alt_addr,
	    .ca_inline_max = ctx->c_inline_max,
	    .ca_spin_us = (uint32_t)(ctx->c_spin_ns / D_NSEC_PER_USEC),
	    .ca_spin_rpc_us = (uint32_t)(ctx->c_spin_rpc_ns / D_NSEC_PER_USEC),
	    .ca_no_batch = !ctx->c_batch,
	};
	int rc;

	D_ASSERT(ctx->c_alt == NULL && ctx->c_alt_prov != NULL);
	rc = net_context_create(&attr, &ctx->c_alt);
	if (rc != 0) {
		D_ERROR("%s: cannot open the fallback context (%s): " DF_RC "\n",
			ctx->c_fab.nf_straddr, ctx->c_alt_prov, DP_RC(rc));
		ctx->c_alt = NULL;
		return rc;
	}
	/* the two contexts' request ids never meet: net_rpc_cancel tries both */
	ctx->c_alt->c_next_id ^= 1ULL << 63;
	D_DEBUG("%s: fallback context %s\n", ctx->c_fab.nf_straddr, ctx->c_alt->c_fab.nf_straddr);
	return 0;
}

/* The copy of @bulk (registered on ctx) on ctx->c_alt: made at the first use. */
static int
net_alt_bulk(struct net_context *ctx, struct net_bulk *bulk, struct net_bulk **altp)
{
	d_iov_t iovs[NET_BULK_SEG_MAX];
	d_sg_list_t sgl = {.sg_nr = bulk->b_nr, .sg_iovs = iovs};
	uint32_t i;
	int rc;

	if (bulk->b_alt != NULL) {
		*altp = bulk->b_alt;
		return 0;
	}
	/* the shm context registers virtual addresses (FI_MR_VIRT_ADDR): the buffers */
	D_ASSERT(ctx->c_fab.nf_virt_addr && bulk->b_nr <= NET_BULK_SEG_MAX);
	for (i = 0; i < bulk->b_nr; i++)
		d_iov_set(&iovs[i], (void *)(uintptr_t)bulk->b_segs[i].bs_addr,
			  bulk->b_segs[i].bs_len);
	rc = net_bulk_create(ctx->c_alt, &sgl, bulk->b_perm, &bulk->b_alt);
	if (rc != 0)
		return rc;
	bulk->b_alt->b_parent = bulk;
	*altp = bulk->b_alt;
	return 0;
}

int
net_alt_send(struct net_context *ctx, net_peer_t peer, uint16_t opc, const void *req,
	     const struct net_bulk *bulk, uint32_t timeout_ms, net_rpc_cb_t cb, void *arg,
	     uint64_t *id)
{
	struct net_bulk *alt = NULL;
	int rc;

	D_ASSERT(ctx->c_alt != NULL);
	if (bulk != NULL) {
		if (bulk->b_ctx != ctx)
			return -DER_INVAL;
		/* the copy is the handle's own, freed with it (net_bulk_free) */
		rc = net_alt_bulk(ctx, (struct net_bulk *)bulk, &alt);
		if (rc != 0)
			return rc;
	}
	return net_rpc_send(ctx->c_alt, peer & ~NET_PEER_ALT, opc, req, alt, timeout_ms, cb, arg,
			    id);
}

void
net_alt_stats_add(const struct net_context *ctx, struct net_stats *st)
{
	struct net_stats as;
	uint64_t *dst = (uint64_t *)st;
	const uint64_t *src = (const uint64_t *)&as;
	size_t i;

	if (ctx->c_alt == NULL)
		return;
	net_context_stats(ctx->c_alt, &as);
	/* its bulk handles are copies of the context's own */
	as.ns_bulks = 0;
	as.ns_bulk_bytes = 0;
	for (i = 0; i < sizeof(as) / sizeof(uint64_t); i++)
		dst[i] += src[i];
}

void
net_alt_close(struct net_context *ctx)
{
	struct net_bulk *bulk;

	if (ctx->c_alt != NULL) {
		/* the copies first: c_alt would log them as left registered */
		d_list_for_each_entry (bulk, &ctx->c_bulks, b_link)
			if (bulk->b_alt != NULL)
				net_bulk_destroy(bulk->b_alt);
		net_context_destroy(ctx->c_alt);
		ctx->c_alt = NULL;
	}
	D_FREE(ctx->c_alt_prov);
	D_FREE(ctx->c_alt_addr);
}
