/*
 * ctl_frame.h: the management-port wire format, private to the control thread (ctl_*.c) and
 * its blocking client. No libuv here: the blocking client and the fuzzers use it alone.
 *
 * A frame is a fixed 8-byte header followed by a protobuf ctl.Envelope
 * (src/proto/ctl/envelope.proto):
 *
 *	0      2         3       4                8
 *	+------+---------+-------+----------------+------------------------------+
 *	| 0xDA | version | flags | length (BE32)  | Envelope (length bytes)      |
 *	| 0xC7 |    1    |   0   |                | kind method sequence status  |
 *	+------+---------+-------+----------------+ body (field 5, always last)  |
 *
 * Invariants:
 * 1. The length is checked against the receiver's limit before a byte is allocated for it;
 *    a bad magic, version, flags or length closes the connection (nothing in the stream
 *    after a bad header can be trusted).
 * 2. Encoders write the body field last, by hand (tag 0x2A, varint length, bytes), after
 *    the protobuf-c packed envelope without its body: protobuf allows fields in any order,
 *    so any decoder reads it, and a message body is packed in place with no extra copy.
 * 3. Decoding never trusts the bytes: protobuf-c checks every length against the buffer,
 *    and ctl_env_decode checks kind, method and status before anyone acts on them.
 */
#ifndef CTL_FRAME_H
#define CTL_FRAME_H

#include <stdint.h>
#include <stddef.h>
#include <sys/socket.h>

#include <protobuf-c/protobuf-c.h>

#include "ctl/envelope.pb-c.h"

#define CTL_MAGIC0 0xDA
#define CTL_MAGIC1 0xC7
#define CTL_VERSION 1
#define CTL_HDR_SIZE 8
/* Tag of Envelope.body: field 5, wire type 2 (length-delimited). */
#define CTL_ENV_BODY_TAG ((5 << 3) | 2)

/* The frame header as it sits on the wire. */
struct ctl_hdr_df {
	uint8_t ch_magic[2];
	uint8_t ch_version;
	uint8_t ch_flags; /* none defined: must be 0 */
	uint32_t ch_len;  /* big endian: bytes of envelope that follow */
};
_Static_assert(sizeof(struct ctl_hdr_df) == CTL_HDR_SIZE, "frame header is 8 bytes");
_Static_assert(offsetof(struct ctl_hdr_df, ch_len) == 4, "length at offset 4");

/* The envelope's fields other than the body. */
struct ctl_env {
	uint32_t ce_kind; /* CTL__KIND__KIND_REQUEST or _REPLY */
	uint32_t ce_method;
	uint64_t ce_seq;
	int32_t ce_status;
};

/* protobuf-c allocations through d_malloc/d_free (fault point D_FI_ALLOC). */
extern ProtobufCAllocator ctl_pb_allocator;

/*
 * Check the frame header at @hdr (CTL_HDR_SIZE bytes) and store the envelope length in
 * *@len. Returns 0, -DER_PROTO (bad magic, version or flags) or -DER_REC2BIG (longer than
 * @max_frame).
 */
int ctl_hdr_decode(const void *hdr, uint32_t max_frame, uint32_t *len);

/*
 * Encode a frame carrying @env and, as its body, either the message @msg (if not NULL) or
 * @len bytes at @body, into a new buffer with @headroom free bytes in front (room for the
 * caller's write request). *@buf (caller frees with D_FREE) receives the buffer, the frame
 * starting at *@buf + @headroom, and *@frame_len the frame's length.
 * Returns 0, -DER_REC2BIG if the envelope would exceed @max_frame, or -DER_NOMEM.
 */
int ctl_frame_encode(const struct ctl_env *env, const void *body, size_t len,
		     const ProtobufCMessage *msg, size_t headroom, uint32_t max_frame, char **buf,
		     size_t *frame_len);

/*
 * Decode the envelope of @len bytes at @data: its fields into *@env and the unpacked
 * message into *@msg (the body is (*msg)->body; free with ctl_env_free). Returns 0,
 * -DER_PROTO (undecodable, bad kind, no method, or a reply status > 0) or -DER_NOMEM.
 */
int ctl_env_decode(const void *data, size_t len, struct ctl_env *env, Ctl__Envelope **msg);

/* Free an envelope from ctl_env_decode (NULL is fine). */
void ctl_env_free(Ctl__Envelope *msg);

/*
 * Take the body out of @msg: *@body (caller frees with D_FREE; NULL if empty) and *@len.
 * @msg keeps an empty body.
 */
void ctl_env_body_detach(Ctl__Envelope *msg, void **body, size_t *len);

/*
 * Split "host:port", "[v6]:port" into @host (@hostlen bytes, NUL-terminated; may come out
 * empty for ":port") and *@port. Returns 0 or -DER_INVAL.
 */
int ctl_addr_split(const char *addr, char *host, size_t hostlen, uint16_t *port);

/*
 * Fill *@ss from a numeric @host (IPv4, IPv6, "localhost" = 127.0.0.1, "" = 0.0.0.0) and
 * @port. Returns 0, or -DER_NONEXIST if @host is a name to resolve.
 */
int ctl_addr_numeric(const char *host, uint16_t port, struct sockaddr_storage *ss);

/* Format @sa as "1.2.3.4:port" or "[v6]:port" into @buf of @len bytes. 0 or -DER_TRUNC. */
int ctl_addr_format(const struct sockaddr *sa, char *buf, size_t len);

#endif /* CTL_FRAME_H */
