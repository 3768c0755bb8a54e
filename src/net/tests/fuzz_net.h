/*
 * fuzz_net.h: the fuzz entries of the net decoders (fuzz_net.c), shared by the libFuzzer
 * targets and the corpus replay.
 */
#ifndef FUZZ_NET_H
#define FUZZ_NET_H

#include <stddef.h>
#include <stdint.h>

enum {
	NET_FUZZ_HDR,
	NET_FUZZ_PING_IN,
	NET_FUZZ_PING_OUT,
	NET_FUZZ_BULK_IN,
	NET_FUZZ_BULK_OUT,
	NET_FUZZ_NAME_IN,
	NET_FUZZ_MSG,
	NET_FUZZ_NR,
};

/* Corpus directory names, by target. */
extern const char *const net_fuzz_names[NET_FUZZ_NR];

/* Feed @size bytes to decoder @target; returns its result, aborts on a broken invariant. */
int net_fuzz_one(int target, const uint8_t *data, size_t size);

#endif /* FUZZ_NET_H */
