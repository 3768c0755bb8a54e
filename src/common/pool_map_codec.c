/*
 * pool_map_codec.c: the wire and disk encoding of a pool map (layout in daos/pool_map.h).
 * Every field is written little-endian one by one, so the encoding does not depend on the
 * host or on struct padding; the decoder trusts nothing and hands the components to
 * pm_build, which checks the tree.
 */
#define D_LOGFAC common

#include <endian.h>
#include <isa-l/crc.h>

#include "common_internal.h"
#include <daos/pool_map.h>

/* Byte offsets in the header. */
#define PMH_MAGIC 0
#define PMH_FORMAT 4
#define PMH_LEVELS 6
#define PMH_VERSION 8
#define PMH_DOM_NR 12
#define PMH_TGT_NR 16
#define PMH_CSUM 20
#define PMH_SIZE 24

static void
put16(uint8_t *p, uint16_t v)
{
	v = htole16(v);
	memcpy(p, &v, sizeof(v));
}

static void
put32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, sizeof(v));
}

static void
put64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, sizeof(v));
}

static uint16_t
get16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return le16toh(v);
}

static uint32_t
get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

static uint64_t
get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

static void
comp_put(uint8_t *p, const struct pool_component *c)
{
	put16(p, c->co_type);
	p[2] = c->co_status;
	p[3] = c->co_index;
	put32(p + 4, c->co_id);
	put32(p + 8, c->co_rank);
	put32(p + 12, c->co_ver);
	put32(p + 16, c->co_in_ver);
	put32(p + 20, c->co_fseq);
	put32(p + 24, c->co_flags);
	put32(p + 28, c->co_nr);
}

static void
comp_get(const uint8_t *p, struct pool_component *c)
{
	c->co_type = get16(p);
	c->co_status = p[2];
	c->co_index = p[3];
	c->co_id = get32(p + 4);
	c->co_rank = get32(p + 8);
	c->co_ver = get32(p + 12);
	c->co_in_ver = get32(p + 16);
	c->co_fseq = get32(p + 20);
	c->co_flags = get32(p + 24);
	c->co_nr = get32(p + 28);
}

/* crc32c of @size bytes with the checksum field counted as zero. */
static uint32_t
pm_csum(const uint8_t *buf, size_t size)
{
	static const uint8_t zero[4];
	uint32_t crc;

	crc = crc32_iscsi((unsigned char *)buf, PMH_CSUM, 0);
	crc = crc32_iscsi((unsigned char *)zero, sizeof(zero), crc);
	return crc32_iscsi((unsigned char *)buf + PMH_CSUM + 4, (int)(size - PMH_CSUM - 4), crc);
}

size_t
pool_map_encoded_size(const struct pool_map *map)
{
	return POOL_MAP_HDR_SIZE + (size_t)POOL_MAP_REC_SIZE * (map->pm_dom_nr + map->pm_tgt_nr);
}

ssize_t
pool_map_encode(const struct pool_map *map, void *buf, size_t size)
{
	size_t need = pool_map_encoded_size(map);
	uint8_t *p = buf;
	uint8_t *rec;
	uint32_t i;

	if (size < need)
		return -DER_OVERFLOW;
	memset(p, 0, POOL_MAP_HDR_SIZE);
	put32(p + PMH_MAGIC, POOL_MAP_MAGIC);
	put16(p + PMH_FORMAT, POOL_MAP_FORMAT);
	put16(p + PMH_LEVELS, (uint16_t)map->pm_level_nr);
	put32(p + PMH_VERSION, map->pm_version);
	put32(p + PMH_DOM_NR, map->pm_dom_nr);
	put32(p + PMH_TGT_NR, map->pm_tgt_nr);
	put64(p + PMH_SIZE, need);
	rec = p + POOL_MAP_HDR_SIZE;
	for (i = 0; i < map->pm_dom_nr; i++, rec += POOL_MAP_REC_SIZE)
		comp_put(rec, &map->pm_doms[i].do_comp);
	for (i = 0; i < map->pm_tgt_nr; i++, rec += POOL_MAP_REC_SIZE)
		comp_put(rec, &map->pm_tgts[i].ta_comp);
	put32(p + PMH_CSUM, pm_csum(p, need));
	return (ssize_t)need;
}

int
pool_map_decode(const void *buf, size_t size, struct pool_map **mapp)
{
	const uint8_t *p = buf;
	struct pool_component *doms = NULL;
	struct pool_component *tgts = NULL;
	uint32_t dom_nr;
	uint32_t tgt_nr;
	uint32_t levels;
	uint32_t i;
	int rc;

	if (p == NULL || size < POOL_MAP_HDR_SIZE || get32(p + PMH_MAGIC) != POOL_MAP_MAGIC)
		return -DER_INVAL;
	if (get16(p + PMH_FORMAT) != POOL_MAP_FORMAT) {
		D_ERROR_RL("pool map format %u, expected %u\n", get16(p + PMH_FORMAT),
			   POOL_MAP_FORMAT);
		return -DER_MISMATCH;
	}
	dom_nr = get32(p + PMH_DOM_NR);
	tgt_nr = get32(p + PMH_TGT_NR);
	levels = get16(p + PMH_LEVELS);
	if (dom_nr > POOL_MAP_COMP_MAX || tgt_nr > POOL_MAP_COMP_MAX ||
	    get64(p + PMH_SIZE) != size ||
	    size != POOL_MAP_HDR_SIZE + (size_t)POOL_MAP_REC_SIZE * ((size_t)dom_nr + tgt_nr))
		return -DER_INVAL;
	if (get32(p + PMH_CSUM) != pm_csum(p, size)) {
		D_ERROR_RL("pool map checksum mismatch\n");
		return -DER_INVAL;
	}
	if (dom_nr < 2 || tgt_nr < 1)
		return -DER_INVAL;

	D_ALLOC_ARRAY(doms, dom_nr);
	D_ALLOC_ARRAY(tgts, tgt_nr);
	if (doms == NULL || tgts == NULL) {
		rc = -DER_NOMEM;
		goto out;
	}
	p += POOL_MAP_HDR_SIZE;
	for (i = 0; i < dom_nr; i++, p += POOL_MAP_REC_SIZE)
		comp_get(p, &doms[i]);
	for (i = 0; i < tgt_nr; i++, p += POOL_MAP_REC_SIZE)
		comp_get(p, &tgts[i]);
	rc = pm_build(doms, dom_nr, tgts, tgt_nr, get32((const uint8_t *)buf + PMH_VERSION), mapp);
	if (rc == 0 && (*mapp)->pm_level_nr != levels) {
		pool_map_destroy(*mapp);
		*mapp = NULL;
		rc = -DER_INVAL;
	}
out:
	D_FREE(doms);
	D_FREE(tgts);
	return rc;
}

void
pm_encode_fixup(void *buf, size_t size)
{
	uint8_t *p = buf;

	D_ASSERT(size >= POOL_MAP_HDR_SIZE);
	put64(p + PMH_SIZE, size);
	put32(p + PMH_CSUM, pm_csum(p, size));
}
