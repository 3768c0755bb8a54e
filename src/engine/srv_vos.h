/*
 * srv_vos.h: the engine's storage (srv_vos.c): the format of an engine's storage (its
 * superblock and the per-target layout under the storage tiers), and the VOS pool shards
 * of every target, opened at start and closed at stop. The bridge the control plane uses is
 * daos_srv/pool_tgt.h.
 */
#ifndef SRV_VOS_H
#define SRV_VOS_H

#include <stdbool.h>
#include <stdint.h>

#include <daos_srv/daos_engine.h>

/** File name of the engine superblock, in the ram tier's scm_mount (as in DAOS). */
#define SRV_SB_FILE "superblock"
/** Rank recorded before the management service assigns one. */
#define SRV_SB_RANK_NONE UINT32_MAX

/** What the superblock records (srv_vos_format fills it). */
struct srv_sb_info {
	uuid_t si_uuid;      /* the engine's uuid, made at the first format */
	uint32_t si_rank;    /* SRV_SB_RANK_NONE until known */
	uint32_t si_targets; /* targets the layout was made for */
	char si_system[16];  /* system name */
	uint32_t si_version; /* DAOS version that formatted: major << 16 | minor << 8 | fix */
	bool si_new;         /* formatted by this call */
};

/** mkdir -p @path (absolute), mode 0700 for what it creates. 0, -DER_NOTDIR, -DER_*. */
int srv_mkdir_p(const char *path);

/**
 * Is the storage of engine @eng formatted? Reads and checks its superblock (as
 * srv_vos_format) without creating anything. Returns 0 (@info, may be NULL, filled),
 * -DER_NONEXIST (no superblock: not formatted), or as srv_vos_format, with @err set.
 * Context: any thread but an xstream (blocking file I/O).
 */
int srv_vos_formatted(const struct dss_engine *eng, struct srv_sb_info *info, char *err,
		      size_t errlen);

/**
 * Format the storage of engine @eng on its first start, or check it on later ones: create
 * the ram tier's scm_mount and the directory of every role (each bdev_list entry of the
 * class file tiers holding the meta, wal or data role), then write the superblock
 * (scm_mount/superblock: system name, engine uuid, rank from the configuration if set,
 * targets, version). A superblock that exists must be intact and match the configuration's
 * system name and target count. @info (may be NULL) receives what the superblock holds.
 * On failure @err (@errlen bytes) holds a message for the operator.
 * Returns 0, -DER_INVAL (mismatch: another system or target count), -DER_DF_INVAL (a
 * damaged superblock), -DER_NOSYS (a class kdev tier with a role), -DER_NOTDIR, -DER_IO...
 * Context: the main thread, before the xstreams start.
 */
int srv_vos_format(const struct dss_engine *eng, struct srv_sb_info *info, char *err,
		   size_t errlen);

/**
 * Record @rank, given by the management service, in the superblock of engine @eng (a no-op
 * if it holds it already), so that a restarted engine asks for it again. Returns 0,
 * -DER_NONEXIST / -DER_DF_INVAL (no valid superblock), -DER_IO, -DER_NOSPACE.
 * Context: any thread; blocking file I/O (one small synced write, at a rank change only).
 */
int srv_vos_rank_save(const struct dss_engine *eng, uint32_t rank);

/**
 * Open the VOS pool shards of every target of @eng (borrowed until srv_vos_close), each on
 * its own xstream: <root>/<uuid>/vos-<target> for every pool directory under the target's
 * root. A shard whose creation never finished (no meta file) is removed; one that does not
 * open is logged and left on disk (the pool's other shards still open). Each open shard's
 * WAL is polled by its xstream. Returns 0, -DER_NOMEM, or a ULT creation error.
 * Context: the main thread, the xstreams running.
 */
int srv_vos_open(const struct dss_engine *eng);

/**
 * Checkpoint and close every open shard, each on its xstream (after the last request ULT:
 * the fabric is stopped), then forget the targets. No-op if srv_vos_open did not run.
 * Context: the main thread, the xstreams still running.
 */
void srv_vos_close(void);

/** One storage tier's capacity (srv_vos_usage). */
struct srv_tier_usage {
	uint32_t tu_tier;     /* index in the engine's storage: list */
	bool tu_scm;          /* the ram (metadata) tier, else a file/kdev entry */
	const char *tu_class; /* "ram", "file", "kdev" (static) */
	const char *tu_path;  /* scm_mount or the bdev_list entry (the configuration's) */
	uint64_t tu_total;
	uint64_t tu_avail;
};

/**
 * The capacity of engine @eng's tiers into @tu (@max entries), *@nr of them: the ram tier
 * (scm_size, minus the heaps of the shards held, open or closed by a system stop), then one
 * entry per bdev_list path of each file/kdev tier: class file: bdev_size, minus the bytes
 * allocated under the path, at most what its file system has free; kdev: the file system.
 * Returns 0, -DER_OVERFLOW (more than @max), or the statvfs error.
 * Context: any thread but an xstream (blocking file system calls); strings borrowed from the
 * configuration.
 */
int srv_vos_usage(const struct dss_engine *eng, struct srv_tier_usage *tu, uint32_t max,
		  uint32_t *nr);

struct dss_ctl;

/**
 * Serve TgtCreate, TgtDestroy and TgtQuery (mgmt/tgt.proto) on @ctl for engine @eng (both
 * borrowed; @eng must outlive @ctl's requests): each request runs the bridge in a ULT on
 * the system xstream. Returns 0, or the error of dss_ctl_register.
 * Context: the main thread, before dss_ctl_start.
 */
int srv_tgt_ctl_register(struct dss_ctl *ctl, const struct dss_engine *eng);

#endif /* SRV_VOS_H */
