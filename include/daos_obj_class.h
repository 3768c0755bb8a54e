/*
 * daos_obj_class.h: object classes. A class says how an object's data is spread and protected:
 * no redundancy over 1..N shards (OC_S*), N-way replication over G groups (OC_RP_<n>G<g>), or
 * Reed-Solomon erasure coding with k data and p parity cells over G groups (OC_EC_<k>P<p>G<g>).
 * "GX" (and SX) means as many groups as the pool's targets allow.
 *
 * A class ID (daos_oclass_id_t) is (redundancy << OC_REDUN_SHIFT) | groups: the redundancy
 * scheme in bits 24-31, the group count in bits 0-15 (DAOS_OBJ_GRP_MAX for "X"). The same two
 * numbers are encoded into the high bits of every OID (see daos_obj.h), so the values below
 * are part of the on-disk and on-wire format and never change.
 */
#ifndef D_DAOS_OBJ_CLASS_H
#define D_DAOS_OBJ_CLASS_H

#include <inttypes.h>
#include <sys/types.h>

#include <daos_types.h>

#pragma GCC visibility push(default)

#if defined(__cplusplus)
extern "C" {
#endif

/** Position of the redundancy scheme in a class ID. */
#define OC_REDUN_SHIFT 24

/** Group count that means "as many as possible" (the X of SX, RP_3GX, EC_4P2GX...). */
#define DAOS_OBJ_GRP_MAX 0xFFFF

/**
 * Redundancy schemes (DAOS_OR_*), then the predefined classes (OC_*). A scheme alone is not a
 * class; OC_UNKNOWN (0) means "let DAOS choose" wherever a class is asked for.
 */
enum daos_obj_redun {
	OC_UNKNOWN = 0,

	/* no data protection: one replica */
	DAOS_OR_RP_1 = 1,

	/* N-way replication */
	DAOS_OR_RP_2 = 8,
	DAOS_OR_RP_3,
	DAOS_OR_RP_4,
	DAOS_OR_RP_5,
	DAOS_OR_RP_6,
	DAOS_OR_RP_8,
	DAOS_OR_RP_12,
	DAOS_OR_RP_16,
	DAOS_OR_RP_24,
	DAOS_OR_RP_32,
	DAOS_OR_RP_48,
	DAOS_OR_RP_64,
	DAOS_OR_RP_128,

	/* Reed-Solomon k data + p parity cells per group */
	DAOS_OR_RS_2P1 = 32,
	DAOS_OR_RS_2P2,
	DAOS_OR_RS_4P1,
	DAOS_OR_RS_4P2,
	DAOS_OR_RS_8P1,
	DAOS_OR_RS_8P2,
	DAOS_OR_RS_16P1,
	DAOS_OR_RS_16P2,
	DAOS_OR_RS_4P3,
	DAOS_OR_RS_8P3,
	DAOS_OR_RS_16P3,

	/*
	 * Classes whose shard or group count DAOS picks from the pool size (IDs below 50 are
	 * kept for old applications).
	 */
	OC_BACK_COMPAT = 50,
	OC_TINY,  /* one shard */
	OC_SMALL, /* a few shards */
	OC_LARGE, /* many shards */
	OC_MAX,   /* every target */

	OC_RP_TINY = 60,
	OC_RP_SMALL,
	OC_RP_LARGE,
	OC_RP_MAX,

	/* replicated, "scalable fetch": more replicas, slower updates, faster reads */
	OC_RP_SF_TINY = 70,
	OC_RP_SF_SMALL,
	OC_RP_SF_LARGE,
	OC_RP_SF_MAX,

	/* replicated on very many targets: read-mostly data */
	OC_RP_XSF = 80,

	OC_EC_TINY = 100,
	OC_EC_SMALL,
	OC_EC_LARGE,
	OC_EC_MAX,

	/* classes with an explicit layout: (scheme << OC_REDUN_SHIFT) | groups */
	/* no redundancy: S<shards>, SX spreads over every target */
	OC_S1 = (DAOS_OR_RP_1 << OC_REDUN_SHIFT) | 1,
	OC_S2 = (DAOS_OR_RP_1 << OC_REDUN_SHIFT) | 2,
	OC_S4 = (DAOS_OR_RP_1 << OC_REDUN_SHIFT) | 4,
	OC_S6 = (DAOS_OR_RP_1 << OC_REDUN_SHIFT) | 6,
	OC_S8 = (DAOS_OR_RP_1 << OC_REDUN_SHIFT) | 8,
	OC_S12 = (DAOS_OR_RP_1 << OC_REDUN_SHIFT) | 12,
	OC_S16 = (DAOS_OR_RP_1 << OC_REDUN_SHIFT) | 16,
	OC_S32 = (DAOS_OR_RP_1 << OC_REDUN_SHIFT) | 32,
	OC_SX = (DAOS_OR_RP_1 << OC_REDUN_SHIFT) | DAOS_OBJ_GRP_MAX,
	/* 2-way replication: RP_2G<groups> */
	OC_RP_2G1 = (DAOS_OR_RP_2 << OC_REDUN_SHIFT) | 1,
	OC_RP_2G2 = (DAOS_OR_RP_2 << OC_REDUN_SHIFT) | 2,
	OC_RP_2G4 = (DAOS_OR_RP_2 << OC_REDUN_SHIFT) | 4,
	OC_RP_2G6 = (DAOS_OR_RP_2 << OC_REDUN_SHIFT) | 6,
	OC_RP_2G8 = (DAOS_OR_RP_2 << OC_REDUN_SHIFT) | 8,
	OC_RP_2G12 = (DAOS_OR_RP_2 << OC_REDUN_SHIFT) | 12,
	OC_RP_2G16 = (DAOS_OR_RP_2 << OC_REDUN_SHIFT) | 16,
	OC_RP_2G32 = (DAOS_OR_RP_2 << OC_REDUN_SHIFT) | 32,
	OC_RP_2GX = (DAOS_OR_RP_2 << OC_REDUN_SHIFT) | DAOS_OBJ_GRP_MAX,
	/* 3-way replication: RP_3G<groups> */
	OC_RP_3G1 = (DAOS_OR_RP_3 << OC_REDUN_SHIFT) | 1,
	OC_RP_3G2 = (DAOS_OR_RP_3 << OC_REDUN_SHIFT) | 2,
	OC_RP_3G4 = (DAOS_OR_RP_3 << OC_REDUN_SHIFT) | 4,
	OC_RP_3G6 = (DAOS_OR_RP_3 << OC_REDUN_SHIFT) | 6,
	OC_RP_3G8 = (DAOS_OR_RP_3 << OC_REDUN_SHIFT) | 8,
	OC_RP_3G12 = (DAOS_OR_RP_3 << OC_REDUN_SHIFT) | 12,
	OC_RP_3G16 = (DAOS_OR_RP_3 << OC_REDUN_SHIFT) | 16,
	OC_RP_3G32 = (DAOS_OR_RP_3 << OC_REDUN_SHIFT) | 32,
	OC_RP_3GX = (DAOS_OR_RP_3 << OC_REDUN_SHIFT) | DAOS_OBJ_GRP_MAX,
	/* 4-way replication: RP_4G<groups> */
	OC_RP_4G1 = (DAOS_OR_RP_4 << OC_REDUN_SHIFT) | 1,
	OC_RP_4G2 = (DAOS_OR_RP_4 << OC_REDUN_SHIFT) | 2,
	OC_RP_4G4 = (DAOS_OR_RP_4 << OC_REDUN_SHIFT) | 4,
	OC_RP_4G6 = (DAOS_OR_RP_4 << OC_REDUN_SHIFT) | 6,
	OC_RP_4G8 = (DAOS_OR_RP_4 << OC_REDUN_SHIFT) | 8,
	OC_RP_4G12 = (DAOS_OR_RP_4 << OC_REDUN_SHIFT) | 12,
	OC_RP_4G16 = (DAOS_OR_RP_4 << OC_REDUN_SHIFT) | 16,
	OC_RP_4G32 = (DAOS_OR_RP_4 << OC_REDUN_SHIFT) | 32,
	OC_RP_4GX = (DAOS_OR_RP_4 << OC_REDUN_SHIFT) | DAOS_OBJ_GRP_MAX,
	/* 5-way replication: RP_5G<groups> */
	OC_RP_5G1 = (DAOS_OR_RP_5 << OC_REDUN_SHIFT) | 1,
	OC_RP_5G2 = (DAOS_OR_RP_5 << OC_REDUN_SHIFT) | 2,
	OC_RP_5G4 = (DAOS_OR_RP_5 << OC_REDUN_SHIFT) | 4,
	OC_RP_5G6 = (DAOS_OR_RP_5 << OC_REDUN_SHIFT) | 6,
	OC_RP_5G8 = (DAOS_OR_RP_5 << OC_REDUN_SHIFT) | 8,
	OC_RP_5G12 = (DAOS_OR_RP_5 << OC_REDUN_SHIFT) | 12,
	OC_RP_5G16 = (DAOS_OR_RP_5 << OC_REDUN_SHIFT) | 16,
	OC_RP_5G32 = (DAOS_OR_RP_5 << OC_REDUN_SHIFT) | 32,
	OC_RP_5GX = (DAOS_OR_RP_5 << OC_REDUN_SHIFT) | DAOS_OBJ_GRP_MAX,
	/* 6-way replication: RP_6G<groups> */
	OC_RP_6G1 = (DAOS_OR_RP_6 << OC_REDUN_SHIFT) | 1,
	OC_RP_6G2 = (DAOS_OR_RP_6 << OC_REDUN_SHIFT) | 2,
	OC_RP_6G4 = (DAOS_OR_RP_6 << OC_REDUN_SHIFT) | 4,
	OC_RP_6G6 = (DAOS_OR_RP_6 << OC_REDUN_SHIFT) | 6,
	OC_RP_6G8 = (DAOS_OR_RP_6 << OC_REDUN_SHIFT) | 8,
	OC_RP_6G12 = (DAOS_OR_RP_6 << OC_REDUN_SHIFT) | 12,
	OC_RP_6G16 = (DAOS_OR_RP_6 << OC_REDUN_SHIFT) | 16,
	OC_RP_6G32 = (DAOS_OR_RP_6 << OC_REDUN_SHIFT) | 32,
	OC_RP_6GX = (DAOS_OR_RP_6 << OC_REDUN_SHIFT) | DAOS_OBJ_GRP_MAX,
	/* many replicas, one group: what OC_RP_XSF picks from */
	OC_RP_12G1 = (DAOS_OR_RP_12 << OC_REDUN_SHIFT) | 1,
	OC_RP_16G1 = (DAOS_OR_RP_16 << OC_REDUN_SHIFT) | 1,
	OC_RP_24G1 = (DAOS_OR_RP_24 << OC_REDUN_SHIFT) | 1,
	OC_RP_32G1 = (DAOS_OR_RP_32 << OC_REDUN_SHIFT) | 1,
	OC_RP_48G1 = (DAOS_OR_RP_48 << OC_REDUN_SHIFT) | 1,
	OC_RP_64G1 = (DAOS_OR_RP_64 << OC_REDUN_SHIFT) | 1,
	OC_RP_128G1 = (DAOS_OR_RP_128 << OC_REDUN_SHIFT) | 1,
	/* Reed-Solomon 2+1: EC_2P1G<groups> */
	OC_EC_2P1G1 = (DAOS_OR_RS_2P1 << OC_REDUN_SHIFT) | 1,
	OC_EC_2P1G2 = (DAOS_OR_RS_2P1 << OC_REDUN_SHIFT) | 2,
	OC_EC_2P1G4 = (DAOS_OR_RS_2P1 << OC_REDUN_SHIFT) | 4,
	OC_EC_2P1G6 = (DAOS_OR_RS_2P1 << OC_REDUN_SHIFT) | 6,
	OC_EC_2P1G8 = (DAOS_OR_RS_2P1 << OC_REDUN_SHIFT) | 8,
	OC_EC_2P1G12 = (DAOS_OR_RS_2P1 << OC_REDUN_SHIFT) | 12,
	OC_EC_2P1G16 = (DAOS_OR_RS_2P1 << OC_REDUN_SHIFT) | 16,
	OC_EC_2P1G32 = (DAOS_OR_RS_2P1 << OC_REDUN_SHIFT) | 32,
	OC_EC_2P1GX = (DAOS_OR_RS_2P1 << OC_REDUN_SHIFT) | DAOS_OBJ_GRP_MAX,
	/* Reed-Solomon 2+2: EC_2P2G<groups> */
	OC_EC_2P2G1 = (DAOS_OR_RS_2P2 << OC_REDUN_SHIFT) | 1,
	OC_EC_2P2G2 = (DAOS_OR_RS_2P2 << OC_REDUN_SHIFT) | 2,
	OC_EC_2P2G4 = (DAOS_OR_RS_2P2 << OC_REDUN_SHIFT) | 4,
	OC_EC_2P2G6 = (DAOS_OR_RS_2P2 << OC_REDUN_SHIFT) | 6,
	OC_EC_2P2G8 = (DAOS_OR_RS_2P2 << OC_REDUN_SHIFT) | 8,
	OC_EC_2P2G12 = (DAOS_OR_RS_2P2 << OC_REDUN_SHIFT) | 12,
	OC_EC_2P2G16 = (DAOS_OR_RS_2P2 << OC_REDUN_SHIFT) | 16,
	OC_EC_2P2G32 = (DAOS_OR_RS_2P2 << OC_REDUN_SHIFT) | 32,
	OC_EC_2P2GX = (DAOS_OR_RS_2P2 << OC_REDUN_SHIFT) | DAOS_OBJ_GRP_MAX,
	/* Reed-Solomon 4+1: EC_4P1G<groups> */
	OC_EC_4P1G1 = (DAOS_OR_RS_4P1 << OC_REDUN_SHIFT) | 1,
	OC_EC_4P1G2 = (DAOS_OR_RS_4P1 << OC_REDUN_SHIFT) | 2,
	OC_EC_4P1G4 = (DAOS_OR_RS_4P1 << OC_REDUN_SHIFT) | 4,
	OC_EC_4P1G6 = (DAOS_OR_RS_4P1 << OC_REDUN_SHIFT) | 6,
	OC_EC_4P1G8 = (DAOS_OR_RS_4P1 << OC_REDUN_SHIFT) | 8,
	OC_EC_4P1G12 = (DAOS_OR_RS_4P1 << OC_REDUN_SHIFT) | 12,
	OC_EC_4P1G16 = (DAOS_OR_RS_4P1 << OC_REDUN_SHIFT) | 16,
	OC_EC_4P1G32 = (DAOS_OR_RS_4P1 << OC_REDUN_SHIFT) | 32,
	OC_EC_4P1GX = (DAOS_OR_RS_4P1 << OC_REDUN_SHIFT) | DAOS_OBJ_GRP_MAX,
	/* Reed-Solomon 4+2: EC_4P2G<groups> */
	OC_EC_4P2G1 = (DAOS_OR_RS_4P2 << OC_REDUN_SHIFT) | 1,
	OC_EC_4P2G2 = (DAOS_OR_RS_4P2 << OC_REDUN_SHIFT) | 2,
	OC_EC_4P2G4 = (DAOS_OR_RS_4P2 << OC_REDUN_SHIFT) | 4,
	OC_EC_4P2G6 = (DAOS_OR_RS_4P2 << OC_REDUN_SHIFT) | 6,
	OC_EC_4P2G8 = (DAOS_OR_RS_4P2 << OC_REDUN_SHIFT) | 8,
	OC_EC_4P2G12 = (DAOS_OR_RS_4P2 << OC_REDUN_SHIFT) | 12,
	OC_EC_4P2G16 = (DAOS_OR_RS_4P2 << OC_REDUN_SHIFT) | 16,
	OC_EC_4P2G32 = (DAOS_OR_RS_4P2 << OC_REDUN_SHIFT) | 32,
	OC_EC_4P2GX = (DAOS_OR_RS_4P2 << OC_REDUN_SHIFT) | DAOS_OBJ_GRP_MAX,
	/* Reed-Solomon 4+3: EC_4P3G<groups> */
	OC_EC_4P3G1 = (DAOS_OR_RS_4P3 << OC_REDUN_SHIFT) | 1,
	OC_EC_4P3G2 = (DAOS_OR_RS_4P3 << OC_REDUN_SHIFT) | 2,
	OC_EC_4P3G4 = (DAOS_OR_RS_4P3 << OC_REDUN_SHIFT) | 4,
	OC_EC_4P3G6 = (DAOS_OR_RS_4P3 << OC_REDUN_SHIFT) | 6,
	OC_EC_4P3G8 = (DAOS_OR_RS_4P3 << OC_REDUN_SHIFT) | 8,
	OC_EC_4P3G12 = (DAOS_OR_RS_4P3 << OC_REDUN_SHIFT) | 12,
	OC_EC_4P3G16 = (DAOS_OR_RS_4P3 << OC_REDUN_SHIFT) | 16,
	OC_EC_4P3G32 = (DAOS_OR_RS_4P3 << OC_REDUN_SHIFT) | 32,
	OC_EC_4P3GX = (DAOS_OR_RS_4P3 << OC_REDUN_SHIFT) | DAOS_OBJ_GRP_MAX,
	/* Reed-Solomon 8+1: EC_8P1G<groups> */
	OC_EC_8P1G1 = (DAOS_OR_RS_8P1 << OC_REDUN_SHIFT) | 1,
	OC_EC_8P1G2 = (DAOS_OR_RS_8P1 << OC_REDUN_SHIFT) | 2,
	OC_EC_8P1G4 = (DAOS_OR_RS_8P1 << OC_REDUN_SHIFT) | 4,
	OC_EC_8P1G6 = (DAOS_OR_RS_8P1 << OC_REDUN_SHIFT) | 6,
	OC_EC_8P1G8 = (DAOS_OR_RS_8P1 << OC_REDUN_SHIFT) | 8,
	OC_EC_8P1G12 = (DAOS_OR_RS_8P1 << OC_REDUN_SHIFT) | 12,
	OC_EC_8P1G16 = (DAOS_OR_RS_8P1 << OC_REDUN_SHIFT) | 16,
	OC_EC_8P1G32 = (DAOS_OR_RS_8P1 << OC_REDUN_SHIFT) | 32,
	OC_EC_8P1GX = (DAOS_OR_RS_8P1 << OC_REDUN_SHIFT) | DAOS_OBJ_GRP_MAX,
	/* Reed-Solomon 8+2: EC_8P2G<groups> */
	OC_EC_8P2G1 = (DAOS_OR_RS_8P2 << OC_REDUN_SHIFT) | 1,
	OC_EC_8P2G2 = (DAOS_OR_RS_8P2 << OC_REDUN_SHIFT) | 2,
	OC_EC_8P2G4 = (DAOS_OR_RS_8P2 << OC_REDUN_SHIFT) | 4,
	OC_EC_8P2G6 = (DAOS_OR_RS_8P2 << OC_REDUN_SHIFT) | 6,
	OC_EC_8P2G8 = (DAOS_OR_RS_8P2 << OC_REDUN_SHIFT) | 8,
	OC_EC_8P2G12 = (DAOS_OR_RS_8P2 << OC_REDUN_SHIFT) | 12,
	OC_EC_8P2G16 = (DAOS_OR_RS_8P2 << OC_REDUN_SHIFT) | 16,
	OC_EC_8P2G32 = (DAOS_OR_RS_8P2 << OC_REDUN_SHIFT) | 32,
	OC_EC_8P2GX = (DAOS_OR_RS_8P2 << OC_REDUN_SHIFT) | DAOS_OBJ_GRP_MAX,
	/* Reed-Solomon 8+3: EC_8P3G<groups> */
	OC_EC_8P3G1 = (DAOS_OR_RS_8P3 << OC_REDUN_SHIFT) | 1,
	OC_EC_8P3G2 = (DAOS_OR_RS_8P3 << OC_REDUN_SHIFT) | 2,
	OC_EC_8P3G4 = (DAOS_OR_RS_8P3 << OC_REDUN_SHIFT) | 4,
	OC_EC_8P3G6 = (DAOS_OR_RS_8P3 << OC_REDUN_SHIFT) | 6,
	OC_EC_8P3G8 = (DAOS_OR_RS_8P3 << OC_REDUN_SHIFT) | 8,
	OC_EC_8P3G12 = (DAOS_OR_RS_8P3 << OC_REDUN_SHIFT) | 12,
	OC_EC_8P3G16 = (DAOS_OR_RS_8P3 << OC_REDUN_SHIFT) | 16,
	OC_EC_8P3G32 = (DAOS_OR_RS_8P3 << OC_REDUN_SHIFT) | 32,
	OC_EC_8P3GX = (DAOS_OR_RS_8P3 << OC_REDUN_SHIFT) | DAOS_OBJ_GRP_MAX,
	/* Reed-Solomon 16+1: EC_16P1G<groups> */
	OC_EC_16P1G1 = (DAOS_OR_RS_16P1 << OC_REDUN_SHIFT) | 1,
	OC_EC_16P1G2 = (DAOS_OR_RS_16P1 << OC_REDUN_SHIFT) | 2,
	OC_EC_16P1G4 = (DAOS_OR_RS_16P1 << OC_REDUN_SHIFT) | 4,
	OC_EC_16P1G6 = (DAOS_OR_RS_16P1 << OC_REDUN_SHIFT) | 6,
	OC_EC_16P1G8 = (DAOS_OR_RS_16P1 << OC_REDUN_SHIFT) | 8,
	OC_EC_16P1G12 = (DAOS_OR_RS_16P1 << OC_REDUN_SHIFT) | 12,
	OC_EC_16P1G16 = (DAOS_OR_RS_16P1 << OC_REDUN_SHIFT) | 16,
	OC_EC_16P1G32 = (DAOS_OR_RS_16P1 << OC_REDUN_SHIFT) | 32,
	OC_EC_16P1GX = (DAOS_OR_RS_16P1 << OC_REDUN_SHIFT) | DAOS_OBJ_GRP_MAX,
	/* Reed-Solomon 16+2: EC_16P2G<groups> */
	OC_EC_16P2G1 = (DAOS_OR_RS_16P2 << OC_REDUN_SHIFT) | 1,
	OC_EC_16P2G2 = (DAOS_OR_RS_16P2 << OC_REDUN_SHIFT) | 2,
	OC_EC_16P2G4 = (DAOS_OR_RS_16P2 << OC_REDUN_SHIFT) | 4,
	OC_EC_16P2G6 = (DAOS_OR_RS_16P2 << OC_REDUN_SHIFT) | 6,
	OC_EC_16P2G8 = (DAOS_OR_RS_16P2 << OC_REDUN_SHIFT) | 8,
	OC_EC_16P2G12 = (DAOS_OR_RS_16P2 << OC_REDUN_SHIFT) | 12,
	OC_EC_16P2G16 = (DAOS_OR_RS_16P2 << OC_REDUN_SHIFT) | 16,
	OC_EC_16P2G32 = (DAOS_OR_RS_16P2 << OC_REDUN_SHIFT) | 32,
	OC_EC_16P2GX = (DAOS_OR_RS_16P2 << OC_REDUN_SHIFT) | DAOS_OBJ_GRP_MAX,
	/* Reed-Solomon 16+3: EC_16P3G<groups> */
	OC_EC_16P3G1 = (DAOS_OR_RS_16P3 << OC_REDUN_SHIFT) | 1,
	OC_EC_16P3G2 = (DAOS_OR_RS_16P3 << OC_REDUN_SHIFT) | 2,
	OC_EC_16P3G4 = (DAOS_OR_RS_16P3 << OC_REDUN_SHIFT) | 4,
	OC_EC_16P3G6 = (DAOS_OR_RS_16P3 << OC_REDUN_SHIFT) | 6,
	OC_EC_16P3G8 = (DAOS_OR_RS_16P3 << OC_REDUN_SHIFT) | 8,
	OC_EC_16P3G12 = (DAOS_OR_RS_16P3 << OC_REDUN_SHIFT) | 12,
	OC_EC_16P3G16 = (DAOS_OR_RS_16P3 << OC_REDUN_SHIFT) | 16,
	OC_EC_16P3G32 = (DAOS_OR_RS_16P3 << OC_REDUN_SHIFT) | 32,
	OC_EC_16P3GX = (DAOS_OR_RS_16P3 << OC_REDUN_SHIFT) | DAOS_OBJ_GRP_MAX,

	/* IDs from here on are reserved */
	OC_RESERVED = 1 << 30,
};

/** Placement schema of a class (reserved). */
enum daos_obj_schema {
	DAOS_OS_SINGLE,      /* single stripe */
	DAOS_OS_STRIPED,     /* fixed striping */
	DAOS_OS_DYN_STRIPED, /* dynamic striping */
	DAOS_OS_DYN_CHUNKED, /* dynamic chunking */
};

/** How a class protects data. */
enum daos_obj_resil {
	DAOS_RES_EC,   /* erasure code */
	DAOS_RES_REPL, /* replication */
};

/** Attributes of an object class. */
struct daos_oclass_attr {
	/** reserved: placement schema */
	enum daos_obj_schema ca_schema;
	/** replication or erasure code */
	enum daos_obj_resil ca_resil;
	/** reserved */
	unsigned int ca_resil_degree;
	/** number of redundancy groups (DAOS_OBJ_GRP_MAX: as many as fit) */
	unsigned int ca_grp_nr;
	union {
		/** ca_resil == DAOS_RES_REPL */
		struct daos_rp_attr {
			/** reserved */
			unsigned int r_proto;
			/** replicas per group */
			unsigned int r_num;
		} rp;
		/** ca_resil == DAOS_RES_EC */
		struct daos_ec_attr {
			/** data cells per group */
			unsigned short e_k;
			/** parity cells per group */
			unsigned short e_p;
			/** cell size in bytes */
			unsigned int e_len;
		} ec;
	} u;
};

/** Object class ID: (redundancy scheme << OC_REDUN_SHIFT) | group count. */
typedef uint32_t daos_oclass_id_t;

/** DAOS_OCH_* hints for choosing a class (daos_obj_generate_oid()). */
typedef uint16_t daos_oclass_hints_t;

/** A list of classes, filled by daos_obj_list_class(). */
struct daos_oclass_list {
	/** capacity of cl_cids (and cl_cattrs) */
	uint32_t cl_nr;
	/** number of classes returned */
	uint32_t cl_nr_out;
	daos_oclass_id_t *cl_cids;
	/** optional: attributes of each class */
	struct daos_oclass_attr *cl_cattrs;
};

/**
 * The ID of the class named @name ("S1", "SX", "RP_2G1", "RP_3GX", "EC_4P2GX", ...; an OC_
 * prefix and lower case are accepted too), or OC_UNKNOWN (0) if there is none.
 */
int daos_oclass_name2id(const char *name);

/**
 * Write the names of all predefined classes into @str (@size bytes), each followed by ", ".
 * Returns the length written (excluding the NUL), -DER_OVERFLOW if @size is too small, or
 * -DER_INVAL.
 */
ssize_t daos_oclass_names_list(size_t size, char *str);

/** Number of predefined classes. @opts is reserved (0). */
int daos_oclass_nr(int opts);

/**
 * Write the name of class @oc_id (without OC_) into @name, which must hold at least 24 bytes.
 * Returns 0, or -1 for an unknown class.
 */
int daos_oclass_id2name(daos_oclass_id_t oc_id, char *name);

/** Register class @cid with attributes @attr in container @coh. */
int daos_obj_register_class(daos_handle_t coh, daos_oclass_id_t cid, struct daos_oclass_attr *attr,
			    daos_event_t *ev);

/** Return the attributes of class @cid in *@attr. */
int daos_obj_query_class(daos_handle_t coh, daos_oclass_id_t cid, struct daos_oclass_attr *attr,
			 daos_event_t *ev);

/** List the classes of container @coh into @list, @anchor as for every enumeration. */
int daos_obj_list_class(daos_handle_t coh, struct daos_oclass_list *list, daos_anchor_t *anchor,
			daos_event_t *ev);

#if defined(__cplusplus)
}
#endif

#pragma GCC visibility pop

#endif /* D_DAOS_OBJ_CLASS_H */
