/*
 * ctl_frame.c: the management-port wire format (frame header + protobuf-c ctl.Envelope) and
 * address strings, shared by the control thread (ctl_srv.c, ctl_call.c) and the blocking
 * client (ctl_client.c). Pure functions on buffers over libgurt and libprotobuf-c; the
 * format and its invariants are in ctl_frame.h.
 */
#define D_LOGFAC ctl

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gurt/common.h>

#include "ctl_frame.h"

/* The facility of the control thread and its client; the other ctl_*.c declare it. */
D_LOG_FAC_DEFINE(ctl);

_Static_assert(CTL__KIND__KIND_REQUEST == 1 && CTL__KIND__KIND_REPLY == 2, "kinds");

/* Did an allocation of this thread's protobuf-c decoding fail? (unpack only says NULL) */
static __thread bool ctl_pb_nomem;

static void *
ctl_pb_alloc(void *data, size_t size)
{
	void *p;

	(void)data;
	/* protobuf-c may ask for 0 bytes (an empty repeated field): hand out a real block. */
	p = d_malloc(size == 0 ? 1 : size);
	if (p == NULL)
		ctl_pb_nomem = true;
	return p;
}

static void
ctl_pb_free(void *data, void *ptr)
{
	(void)data;
	d_free(ptr);
}

ProtobufCAllocator ctl_pb_allocator = {
    .alloc = ctl_pb_alloc,
    .free = ctl_pb_free,
};

/*
 * Headers sit anywhere in a receive buffer: they are read and written byte by byte at the
 * offsets of struct ctl_hdr_df, never through a (possibly misaligned) struct pointer.
 */
int
ctl_hdr_decode(const void *hdr, uint32_t max_frame, uint32_t *len)
{
	const uint8_t *h = hdr;
	uint32_t n;

	if (h[offsetof(struct ctl_hdr_df, ch_magic)] != CTL_MAGIC0 ||
	    h[offsetof(struct ctl_hdr_df, ch_magic) + 1] != CTL_MAGIC1 ||
	    h[offsetof(struct ctl_hdr_df, ch_version)] != CTL_VERSION ||
	    h[offsetof(struct ctl_hdr_df, ch_flags)] != 0)
		return -DER_PROTO;
	memcpy(&n, h + offsetof(struct ctl_hdr_df, ch_len), sizeof(n));
	n = ntohl(n);
	if (n > max_frame)
		return -DER_REC2BIG;
	*len = n;
	return 0;
}

static size_t
ctl_varint_size(size_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static uint8_t *
ctl_varint_put(uint8_t *p, size_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

int
ctl_frame_encode(const struct ctl_env *env, const void *body, size_t len,
		 const ProtobufCMessage *msg, size_t headroom, uint32_t max_frame, char **buf,
		 size_t *frame_len)
{
	Ctl__Envelope e = CTL__ENVELOPE__INIT;
	uint8_t *h;
	size_t head;
	size_t total;
	uint32_t be;
	uint8_t *p;
	char *b;

	e.kind = (Ctl__Kind)env->ce_kind;
	e.method = env->ce_method;
	e.sequence = env->ce_seq;
	e.status = env->ce_status;
	head = ctl__envelope__get_packed_size(&e);
	if (msg != NULL)
		len = protobuf_c_message_get_packed_size(msg);
	total = head;
	if (len > 0)
		total += 1 + ctl_varint_size(len) + len;
	if (len > max_frame || total > max_frame)
		return -DER_REC2BIG;

	D_ALLOC_NZ(b, headroom + CTL_HDR_SIZE + total);
	if (b == NULL)
		return -DER_NOMEM;
	h = (uint8_t *)b + headroom;
	h[offsetof(struct ctl_hdr_df, ch_magic)] = CTL_MAGIC0;
	h[offsetof(struct ctl_hdr_df, ch_magic) + 1] = CTL_MAGIC1;
	h[offsetof(struct ctl_hdr_df, ch_version)] = CTL_VERSION;
	h[offsetof(struct ctl_hdr_df, ch_flags)] = 0;
	be = htonl((uint32_t)total);
	memcpy(h + offsetof(struct ctl_hdr_df, ch_len), &be, sizeof(be));

	p = h + CTL_HDR_SIZE;
	p += ctl__envelope__pack(&e, p);
	if (len > 0) {
		*p++ = CTL_ENV_BODY_TAG;
		p = ctl_varint_put(p, len);
		if (msg != NULL) {
			p += protobuf_c_message_pack(msg, p);
		} else {
			memcpy(p, body, len);
			p += len;
		}
	}
	D_ASSERT((size_t)(p - h) == CTL_HDR_SIZE + total);
	*buf = b;
	*frame_len = CTL_HDR_SIZE + total;
	return 0;
}

int
ctl_env_decode(const void *data, size_t len, struct ctl_env *env, Ctl__Envelope **msg)
{
	Ctl__Envelope *e;

	ctl_pb_nomem = false;
	e = ctl__envelope__unpack(&ctl_pb_allocator, len, data);
	if (e == NULL)
		return ctl_pb_nomem ? -DER_NOMEM : -DER_PROTO;
	if ((e->kind != CTL__KIND__KIND_REQUEST && e->kind != CTL__KIND__KIND_REPLY) ||
	    (e->kind == CTL__KIND__KIND_REQUEST && (e->method == 0 || e->status != 0)) ||
	    (e->kind == CTL__KIND__KIND_REPLY && e->status > 0)) {
		ctl__envelope__free_unpacked(e, &ctl_pb_allocator);
		return -DER_PROTO;
	}
	env->ce_kind = e->kind;
	env->ce_method = e->method;
	env->ce_seq = e->sequence;
	env->ce_status = e->status;
	*msg = e;
	return 0;
}

void
ctl_env_free(Ctl__Envelope *msg)
{
	if (msg != NULL)
		ctl__envelope__free_unpacked(msg, &ctl_pb_allocator);
}

void
ctl_env_body_detach(Ctl__Envelope *msg, void **body, size_t *len)
{
	/* The body was allocated by ctl_pb_allocator, i.e. d_malloc: the caller's D_FREE fits. */
	if (msg->body.len == 0) {
		*body = NULL;
		*len = 0;
		return;
	}
	*body = msg->body.data;
	*len = msg->body.len;
	msg->body.data = NULL;
	msg->body.len = 0;
}

int
ctl_addr_split(const char *addr, char *host, size_t hostlen, uint16_t *port)
{
	const char *colon;
	const char *h = addr;
	size_t hlen;
	unsigned long p;
	char *end;

	if (addr == NULL)
		return -DER_INVAL;
	if (addr[0] == '[') {
		const char *rb = strchr(addr, ']');

		if (rb == NULL || rb[1] != ':')
			return -DER_INVAL;
		h = addr + 1;
		hlen = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		colon = strrchr(addr, ':');
		if (colon == NULL)
			return -DER_INVAL;
		hlen = (size_t)(colon - addr);
		if (memchr(addr, ':', hlen) != NULL) /* a bare IPv6 address needs brackets */
			return -DER_INVAL;
	}
	if (hlen >= hostlen || colon[1] < '0' || colon[1] > '9')
		return -DER_INVAL;
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (errno != 0 || *end != '\0' || p > 65535)
		return -DER_INVAL;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	*port = (uint16_t)p;
	return 0;
}

int
ctl_addr_numeric(const char *host, uint16_t port, struct sockaddr_storage *ss)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (host[0] == '\0') {
		in4->sin_family = AF_INET;
		in4->sin_addr.s_addr = htonl(INADDR_ANY);
	} else if (strcmp(host, "localhost") == 0) {
		in4->sin_family = AF_INET;
		in4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	} else if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
	} else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
	} else {
		return -DER_NONEXIST;
	}
	if (ss->ss_family == AF_INET)
		in4->sin_port = htons(port);
	else
		in6->sin6_port = htons(port);
	return 0;
}

int
ctl_addr_format(const struct sockaddr *sa, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];
	int n;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in4 = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &in4->sin_addr, ip, sizeof(ip));
		n = snprintf(buf, len, "%s:%u", ip, ntohs(in4->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
		n = snprintf(buf, len, "[%s]:%u", ip, ntohs(in6->sin6_port));
	} else {
		n = snprintf(buf, len, "?");
	}
	return (n < 0 || (size_t)n >= len) ? -DER_TRUNC : 0;
}
