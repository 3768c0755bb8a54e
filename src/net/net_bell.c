/*
 * net_bell.c: the doorbell of a shm listener. libfabric's shm has no wait fd, so an idle
 * server would have to poll its queue to see a request. A named shm listener
 * ("fi_ns://IP:PORT") also binds a Unix datagram socket in the abstract namespace
 * ("\0daos-bell:IP:PORT": nothing in the file system, gone with the process), which its
 * owner puts in its epoll set. A client that posts a request to such a name after not
 * having sent to it for NET_BELL_GAP_NS writes one byte there (one sendto); while it sends
 * more often than that, nothing. The server's side of the bargain (src/engine/srv_net.c):
 * it only sleeps past its short back-off once it has seen no completion for longer than
 * the gap, so any request that did not ring found it polling. The owner drains the socket
 * just before it sleeps (net_context_bell_arm), and stays awake if it found a byte.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "net_internal.h"

#define NET_BELL_PREFIX "daos-bell:"
#define NET_NS_PREFIX "fi_ns://"
/* Most peers whose bell a context keeps (AV indices of shm are small integers). */
#define NET_BELL_PEERS_MAX 65536

/* The abstract socket address of the bell of shm name @name ("fi_ns://IP:PORT"). */
static int
net_bell_addr(const char *name, size_t len, struct sockaddr_un *sun, socklen_t *slen)
{
	size_t plen = sizeof(NET_NS_PREFIX) - 1;
	size_t blen = sizeof(NET_BELL_PREFIX) - 1;

	/* a raw shm name may carry its NUL */
	while (len > 0 && name[len - 1] == '\0')
		len--;
	if (len <= plen || memcmp(name, NET_NS_PREFIX, plen) != 0)
		return -DER_INVAL;
	name += plen;
	len -= plen;
	if (1 + blen + len > sizeof(sun->sun_path))
		return -DER_INVAL;
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path + 1, NET_BELL_PREFIX, blen);
	memcpy(sun->sun_path + 1 + blen, name, len);
	*slen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + blen + len);
	return 0;
}

void
net_bell_open(struct net_context *ctx)
{
	struct sockaddr_un sun;
	socklen_t slen;
	int fd;

	ctx->c_bell_fd = -1;
	ctx->c_ring_fd = -1;
	if (!ctx->c_fab.nf_shm ||
	    net_bell_addr(ctx->c_fab.nf_straddr, strlen(ctx->c_fab.nf_straddr), &sun, &slen) != 0)
		return;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		D_WARN("%s: no doorbell socket: %s\n", ctx->c_fab.nf_straddr, strerror(errno));
		return;
	}
	if (bind(fd, (struct sockaddr *)&sun, slen) != 0) {
		D_WARN("%s: no doorbell (bind: %s): idle polling only\n", ctx->c_fab.nf_straddr,
		       strerror(errno));
		close(fd);
		return;
	}
	ctx->c_bell_fd = fd;
}

void
net_bell_close(struct net_context *ctx)
{
	if (ctx->c_bell_fd >= 0)
		close(ctx->c_bell_fd);
	if (ctx->c_ring_fd >= 0)
		close(ctx->c_ring_fd);
	ctx->c_bell_fd = -1;
	ctx->c_ring_fd = -1;
	D_FREE(ctx->c_bells);
	ctx->c_bell_nr = 0;
}

void
net_bell_peer(struct net_context *ctx, fi_addr_t fa, const uint8_t *raw, size_t len)
{
	struct sockaddr_un sun;
	struct net_bell *nb;
	socklen_t slen;
	uint32_t nr;

	if (!ctx->c_fab.nf_shm || fa >= NET_BELL_PEERS_MAX)
		return;
	if (net_bell_addr((const char *)raw, len, &sun, &slen) != 0) {
		if (fa < ctx->c_bell_nr)
			ctx->c_bells[fa].nb_len = 0;
		return;
	}
	if (fa >= ctx->c_bell_nr) {
		nr = ctx->c_bell_nr == 0 ? 16 : ctx->c_bell_nr;
		while (nr <= fa)
			nr *= 2;
		D_REALLOC_ARRAY(nb, ctx->c_bells, nr);
		if (nb == NULL)
			return; /* no bell: the peer's own polling finds the request */
		memset(nb + ctx->c_bell_nr, 0, (nr - ctx->c_bell_nr) * sizeof(*nb));
		ctx->c_bells = nb;
		ctx->c_bell_nr = nr;
	}
	nb = &ctx->c_bells[fa];
	nb->nb_addr = sun;
	nb->nb_len = slen;
	nb->nb_last_ns = 0; /* a new peer (or a restarted one) is rung at the first send */
	nb->nb_ring_ns = 0;
}

void
net_bell_ring_slow(struct net_context *ctx, struct net_bell *nb)
{
	static const char b = 1;

	if (ctx->c_ring_fd < 0) {
		ctx->c_ring_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (ctx->c_ring_fd < 0)
			return;
	}
	/* EAGAIN: the bell's queue is full, so it is ringing already; ECONNREFUSED: no bell
	 * (an engine without one polls) */
	if (sendto(ctx->c_ring_fd, &b, 1, MSG_DONTWAIT | MSG_NOSIGNAL,
		   (struct sockaddr *)&nb->nb_addr, nb->nb_len) == 1)
		ctx->c_stats.ns_bells++;
}

/*
 * Whether a live process serves shm name @raw ("fi_ns://IP:PORT") on this host: its
 * doorbell is bound (an abstract socket is gone with its process, and an engine binds it
 * right after it opened the shm listener, whose region it is). A datagram connect() only
 * checks that someone bound the name (ECONNREFUSED: nobody); nothing is sent.
 */
bool
net_bell_live(const uint8_t *raw, size_t len)
{
	struct sockaddr_un sun;
	socklen_t slen;
	bool live;
	int fd;

	if (net_bell_addr((const char *)raw, len, &sun, &slen) != 0)
		return false;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	live = connect(fd, (struct sockaddr *)&sun, slen) == 0;
	close(fd);
	return live;
}

int
net_context_bell_fd(const struct net_context *ctx)
{
	return ctx->c_bell_fd;
}

int
net_context_bell_arm(struct net_context *ctx)
{
	char buf[64];
	int n = 0;

	if (ctx->c_bell_fd < 0)
		return 0;
	while (recv(ctx->c_bell_fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		n++;
	return n;
}
