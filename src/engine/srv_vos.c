/*
 * srv_vos.c: the engine's storage. The format of an engine's storage (the superblock in the
 * ram tier's scm_mount, the metadata roots of the targets), the VOS pool shards ("pool
 * children", as DAOS calls them) of every target, each opened, polled and closed on its
 * target's xstream, and the bridge (daos_srv/pool_tgt.h) through which the control thread
 * creates, destroys and queries a pool's shards on every target at once. Sits on VOS
 * (daos_srv/vos.h) and the xstream scheduler.
 *
 * Layout, for target i of an engine:
 *
 *	<scm_mount>/superblock                        the engine's format record (srv_sb_df)
 *	<root(meta, i)>/<pool uuid>/vos-<i>/meta      the shard's metadata checkpoints (VOS)
 *	<root(wal, i)>/<pool uuid>/vos-<i>/wal        its write-ahead log
 *	<root(data, i)>/<pool uuid>/vos-<i>/data      its data file
 *
 * root(role, i) is the ram tier's scm_mount when it holds every role (no bdev tier), else
 * entry i % n of the bdev_list entries, in tier order, of the class file tiers with that
 * role, each used as a directory. With one tier for all roles (the default configuration)
 * the three files share one shard directory.
 *
 * Invariants:
 *   1. A target's list of children, its scm accounting and its children are touched only by
 *      its xstream (ULTs started there by the bridge, its pollers); the bridge's caller only
 *      waits for them. So nothing here locks.
 *   2. A child on the list is open and polled; lookups find only those. Destroy and close
 *      take it off the list first, then wait for its references to go, then remove the
 *      poller, then close: no poll, lookup or wait hook ever sees a closed pool.
 *   3. A shard exists once its meta file does (VOS): create makes the meta root's shard
 *      directory first and the meta file last; destroy removes the meta file first and the
 *      meta root's shard directory last. So a meta shard directory without a meta file is
 *      an interrupted create or destroy, removed with the shard's files under every root at
 *      the next start; files under the WAL or data root whose meta shard directory is gone
 *      too are left alone (the meta tier may be missing), as is a meta file whose WAL or
 *      data file does not open: a missing tier is never a reason to delete.
 *   4. Create is all or nothing across the targets: shards created on some targets are
 *      destroyed again when another target fails.
 */
#define D_LOGFAC server

#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <isa-l/crc.h>

#include <gurt/common.h>
#include <gurt/telemetry.h>
#include <daos_errno.h>
#include <daos_version.h>
#include <daos/security.h>
#include <daos_srv/pool_tgt.h>
#include <daos_srv/sched.h>
#include <daos_srv/vos.h>

#include "config.h"
#include "srv_vos.h"

D_LOG_FAC_DECLARE(server);

/* The superblock, little-endian on disk. */
#define SRV_SB_MAGIC 0x42535344U /* "DSSB" */
#define SRV_SB_VERSION 1

struct srv_sb_df {
	uint32_t sb_magic;
	uint16_t sb_version;
	uint16_t sb_engine_idx;
	uint8_t sb_uuid[16];
	uint32_t sb_rank;
	uint32_t sb_targets;
	uint64_t sb_format_time; /* seconds since the epoch */
	char sb_system[16];      /* NUL-terminated */
	uint32_t sb_daos_version;
	uint32_t sb_csum; /* CRC32C of the bytes before it */
};
_Static_assert(sizeof(struct srv_sb_df) == 64, "superblock size");
_Static_assert(offsetof(struct srv_sb_df, sb_csum) == 60, "superblock csum offset");

/* WAL of a new shard: a quarter of its heap, within these bounds. */
#define SRV_WAL_MAX (64ULL << 20)

/* The container handles a shard knows: SRV_HDL_BUCKETS lists by the handle's first bytes. */
#define SRV_HDL_BUCKETS 64

struct srv_hdl {
	d_list_t sh_link;
	struct ds_tgt_hdl sh_hdl;
};

struct ds_pool_child {
	d_list_t pc_link;
	d_list_t pc_hdls[SRV_HDL_BUCKETS];
	uint32_t pc_nhdls;
	uint32_t pc_map_ver; /* the highest pool map version the service told */
	uuid_t pc_uuid;
	daos_handle_t pc_poh;
	struct srv_vos_tgt *pc_tgt;
	struct dss_poller *pc_poller;
	uint64_t pc_scm; /* heap bytes, counted against the target's share of scm_size */
	uint32_t pc_ref;
	int pc_fd; /* the WAL's completion fd, -1 until open */
	/* ULTs blocked in the VOS wait hook, woken by the poller when the pool's I/O moves */
	struct dss_mutex pc_wait_mx;
	struct dss_cond pc_wait_cv;
	uint32_t pc_waiters;
	uint64_t pc_io_seq;
	/* the WAL's counters already added to the target's metrics */
	uint64_t pc_wal_appends;
	uint64_t pc_wal_flushes;
	uint64_t pc_wal_syncs;
};

/* The roles, as indexes of srv_vos_tgt.vt_roots; the meta role first (invariant 3). */
enum { SRV_META, SRV_WAL, SRV_DATA, SRV_ROLES };

static const uint32_t srv_role_bits[SRV_ROLES] = {DSS_ROLE_META, DSS_ROLE_WAL, DSS_ROLE_DATA};
static const char *const srv_role_files[SRV_ROLES] = {"meta", "wal", "data"};

struct srv_vos_tgt {
	uint32_t vt_idx;
	struct dss_xstream *vt_xs;
	char vt_roots[SRV_ROLES][PATH_MAX]; /* each role's root; the meta one's holds the shards */
	uint32_t vt_nroots;                 /* distinct roots, first in vt_uroots */
	const char *vt_uroots[SRV_ROLES];   /* the distinct roots, the meta one first */
	d_list_t vt_children;
	uint64_t vt_scm_used;
	uint64_t vt_scm_max;
	/* engine/wal/{appends,flushes,syncs}{target="i"}: sums over the target's shards */
	struct d_tm_node_t *vt_tm_appends;
	struct d_tm_node_t *vt_tm_flushes;
	struct d_tm_node_t *vt_tm_syncs;
};

/* The open targets. Written by the main thread; sv_nr published last, withdrawn first. */
static struct {
	struct srv_vos_tgt *sv_tgts;
	uint32_t sv_nr;
	uint32_t sv_ready; /* the bridge may run: 0 or sv_nr */
	uint32_t sv_busy;  /* bridge calls in progress */
} srv_vos;

static __thread struct srv_vos_tgt *srv_vos_tls;

/*
 * Heap bytes of every shard this engine holds, open or not: counted when a shard is opened
 * or created, uncounted when one is destroyed, kept while the shards are closed by a system
 * stop (srv_vos_usage reports the ram tier from it). Any thread, atomically.
 */
static uint64_t srv_vos_scm_held;

/* Paths */

int
srv_mkdir_p(const char *path)
{
	char buf[PATH_MAX];
	struct stat st;
	size_t i, len = strlen(path);

	if (len == 0 || len >= sizeof(buf))
		return -DER_INVAL;
	memcpy(buf, path, len + 1);
	for (i = 1; i <= len; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0700) != 0 && errno != EEXIST)
			return d_errno2der(errno);
		buf[i] = i == len ? '\0' : '/';
	}
	if (stat(path, &st) != 0)
		return d_errno2der(errno);
	if (!S_ISDIR(st.st_mode))
		return -DER_NOTDIR;
	return 0;
}

/* fsync a directory, so that the entries created in it survive a crash. */
static int
srv_dir_sync(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return d_errno2der(errno);
	if (fsync(fd) != 0)
		rc = d_errno2der(errno);
	close(fd);
	return rc;
}

/*
 * The directory holding @role (a DSS_ROLE_* bit) for target @idx: the ram tier's scm_mount
 * if it holds the role, else entry idx % n of the bdev_list entries of the tiers with the
 * role, in tier order (validation gives every role to some tier). NULL if none has it.
 */
static const char *
srv_role_root(const struct dss_engine_config *ec, uint32_t role, uint32_t idx)
{
	uint32_t i, n = 0;

	for (i = 0; i < ec->ec_tier_nr; i++) {
		const struct dss_tier_config *tc = &ec->ec_tiers[i];

		if (!(tc->tc_roles & role))
			continue;
		if (tc->tc_class == DSS_TIER_RAM)
			return tc->tc_scm_mount;
		n += tc->tc_bdev_list.sv_nr;
	}
	if (n == 0)
		return NULL;
	idx %= n;
	for (i = 0; i < ec->ec_tier_nr; i++) {
		const struct dss_tier_config *tc = &ec->ec_tiers[i];

		if (!(tc->tc_roles & role))
			continue;
		if (idx < tc->tc_bdev_list.sv_nr)
			return tc->tc_bdev_list.sv_v[idx];
		idx -= tc->tc_bdev_list.sv_nr;
	}
	return NULL;
}

/*
 * The shard directory of pool @uuid under @root for @tgt into @buf (PATH_MAX bytes), or with
 * @shard false the pool's directory. Roots are checked at open to leave room.
 */
static void
srv_pool_dir(const struct srv_vos_tgt *tgt, const char *root, const uuid_t uuid, bool shard,
	     char *buf)
{
	char us[DAOS_UUID_STR_SIZE];
	int n;

	uuid_unparse_lower(uuid, us);
	if (shard)
		n = snprintf(buf, PATH_MAX, "%s/%s/vos-%u", root, us, tgt->vt_idx);
	else
		n = snprintf(buf, PATH_MAX, "%s/%s", root, us);
	D_ASSERT(n > 0 && n < PATH_MAX);
}

/* The three file paths of @tgt's shard of @uuid (@buf holds them, @paths points into it). */
static void
srv_shard_paths(const struct srv_vos_tgt *tgt, const uuid_t uuid, char (*buf)[PATH_MAX],
		struct vos_pool_paths *paths)
{
	char dir[PATH_MAX];
	uint32_t r;
	int n;

	for (r = 0; r < SRV_ROLES; r++) {
		srv_pool_dir(tgt, tgt->vt_roots[r], uuid, true, dir);
		n = snprintf(buf[r], PATH_MAX, "%s/%s", dir, srv_role_files[r]);
		D_ASSERT(n > 0 && n < PATH_MAX);
	}
	paths->vpp_meta = buf[SRV_META];
	paths->vpp_wal = buf[SRV_WAL];
	paths->vpp_data = buf[SRV_DATA];
}

/*
 * Remove @tgt's shard directories of @uuid and the pool directories left empty, under every
 * root, the meta one last (invariant 3), syncing each directory that lost an entry.
 */
static void
srv_shard_dirs_remove(const struct srv_vos_tgt *tgt, const uuid_t uuid)
{
	char dir[PATH_MAX];
	uint32_t r;

	for (r = tgt->vt_nroots; r-- > 0;) {
		srv_pool_dir(tgt, tgt->vt_uroots[r], uuid, true, dir);
		if (rmdir(dir) != 0)
			continue;
		srv_pool_dir(tgt, tgt->vt_uroots[r], uuid, false, dir);
		if (rmdir(dir) == 0)
			(void)srv_dir_sync(tgt->vt_uroots[r]);
		else
			(void)srv_dir_sync(dir); /* other targets' shards are in it */
	}
}

/* The superblock */

static uint32_t
srv_sb_csum(const struct srv_sb_df *df)
{
	return crc32_iscsi((unsigned char *)df, offsetof(struct srv_sb_df, sb_csum), 0);
}

/* Read and check @path. Returns 0, -DER_NONEXIST, -DER_DF_INVAL, or a read error. */
static int
srv_sb_read(const char *path, struct srv_sb_info *info, uint32_t *engine_idx)
{
	struct srv_sb_df df;
	ssize_t n;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -DER_NONEXIST : d_errno2der(errno);
	n = pread(fd, &df, sizeof(df), 0);
	if (n < 0)
		rc = d_errno2der(errno);
	else if (n != (ssize_t)sizeof(df) || pread(fd, &(char){0}, 1, sizeof(df)) != 0)
		rc = -DER_DF_INVAL; /* a superblock is exactly one record */
	close(fd);
	if (rc != 0)
		return rc;
	if (le32toh(df.sb_magic) != SRV_SB_MAGIC || le16toh(df.sb_version) != SRV_SB_VERSION ||
	    le32toh(df.sb_csum) != srv_sb_csum(&df) ||
	    memchr(df.sb_system, '\0', sizeof(df.sb_system)) == NULL)
		return -DER_DF_INVAL;
	memset(info, 0, sizeof(*info));
	memcpy(info->si_uuid, df.sb_uuid, sizeof(info->si_uuid));
	info->si_rank = le32toh(df.sb_rank);
	info->si_targets = le32toh(df.sb_targets);
	info->si_version = le32toh(df.sb_daos_version);
	memcpy(info->si_system, df.sb_system, sizeof(info->si_system));
	*engine_idx = le16toh(df.sb_engine_idx);
	return 0;
}

/* Write @info to @path atomically: a temporary file, synced, renamed, directory synced. */
static int
srv_sb_write(const char *dir, const char *path, const struct srv_sb_info *info, uint32_t engine_idx)
{
	struct srv_sb_df df = {0};
	char tmp[PATH_MAX];
	int fd, rc = 0;

	df.sb_magic = htole32(SRV_SB_MAGIC);
	df.sb_version = htole16(SRV_SB_VERSION);
	df.sb_engine_idx = htole16((uint16_t)engine_idx);
	memcpy(df.sb_uuid, info->si_uuid, sizeof(df.sb_uuid));
	df.sb_rank = htole32(info->si_rank);
	df.sb_targets = htole32(info->si_targets);
	df.sb_format_time = htole64((uint64_t)time(NULL));
	snprintf(df.sb_system, sizeof(df.sb_system), "%s", info->si_system);
	df.sb_daos_version = htole32(info->si_version);
	df.sb_csum = htole32(srv_sb_csum(&df));

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -DER_INVAL;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return d_errno2der(errno);
	if (pwrite(fd, &df, sizeof(df), 0) != (ssize_t)sizeof(df) || fsync(fd) != 0)
		rc = errno == ENOSPC ? -DER_NOSPACE : -DER_IO;
	close(fd);
	if (rc == 0 && rename(tmp, path) != 0)
		rc = d_errno2der(errno);
	if (rc == 0)
		rc = srv_dir_sync(dir);
	if (rc != 0)
		unlink(tmp);
	return rc;
}

int
srv_vos_rank_save(const struct dss_engine *eng, uint32_t rank)
{
	const struct dss_tier_config *ram = &eng->de_ecfg->ec_tiers[0];
	struct srv_sb_info sb;
	char path[PATH_MAX];
	uint32_t idx = 0;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", ram->tc_scm_mount, SRV_SB_FILE);
	rc = srv_sb_read(path, &sb, &idx);
	if (rc != 0 || sb.si_rank == rank)
		return rc;
	sb.si_rank = rank;
	rc = srv_sb_write(ram->tc_scm_mount, path, &sb, idx);
	if (rc != 0)
		D_ERROR("%s: cannot record rank %u: " DF_RC "\n", path, rank, DP_RC(rc));
	return rc;
}

/*
 * The directories of the tiers with a role: class file tiers' bdev_list entries are made
 * (mkdir -p); class kdev tiers are refused (no file system of ours on a block device yet).
 */
static int
srv_role_dirs_make(const struct dss_engine_config *ec, char *err, size_t errlen)
{
	uint32_t i, j;
	int rc;

	for (i = 0; i < ec->ec_tier_nr; i++) {
		const struct dss_tier_config *tc = &ec->ec_tiers[i];

		if (tc->tc_roles == 0 || tc->tc_class == DSS_TIER_RAM)
			continue;
		if (tc->tc_class == DSS_TIER_KDEV) {
			snprintf(err, errlen,
				 "storage[%u]: class kdev tiers holding a role (wal, meta or data) "
				 "are not supported yet: give the roles to class file tiers",
				 i);
			return -DER_NOSYS;
		}
		for (j = 0; j < tc->tc_bdev_list.sv_nr; j++) {
			rc = srv_mkdir_p(tc->tc_bdev_list.sv_v[j]);
			if (rc != 0) {
				snprintf(err, errlen,
					 "storage[%u]: bdev_list entry %s: cannot use it as a "
					 "directory: %s",
					 i, tc->tc_bdev_list.sv_v[j], d_errdesc(rc));
				return rc;
			}
		}
	}
	return 0;
}

/* Read and check the superblock of @eng into @sb: 0, -DER_NONEXIST, or an error in @err. */
static int
srv_sb_check(const struct dss_engine *eng, const char *path, struct srv_sb_info *sb, char *err,
	     size_t errlen)
{
	const struct dss_engine_config *ec = eng->de_ecfg;
	uint32_t idx = 0;
	int rc;

	rc = srv_sb_read(path, sb, &idx);
	if (rc == -DER_NONEXIST)
		return rc;
	if (rc != 0) {
		snprintf(err, errlen, "%s: %s", path,
			 rc == -DER_DF_INVAL ? "damaged superblock (bad size, magic or checksum)"
					     : d_errdesc(rc));
		return rc;
	}
	if (strcmp(sb->si_system, eng->de_cfg->dc_name) != 0) {
		snprintf(err, errlen, "%s: formatted for system '%s', the configuration says '%s'",
			 path, sb->si_system, eng->de_cfg->dc_name);
		return -DER_INVAL;
	}
	if (sb->si_targets != ec->ec_targets) {
		snprintf(err, errlen,
			 "%s: formatted with %u targets, the configuration has %u (the pool "
			 "shards are laid out per target)",
			 path, sb->si_targets, ec->ec_targets);
		return -DER_INVAL;
	}
	if (idx != eng->de_idx)
		D_WARN("%s: formatted as engine %u, started as engine %u\n", path, idx,
		       eng->de_idx);
	sb->si_new = false;
	return 0;
}

int
srv_vos_formatted(const struct dss_engine *eng, struct srv_sb_info *info, char *err, size_t errlen)
{
	const struct dss_tier_config *ram = &eng->de_ecfg->ec_tiers[0];
	struct srv_sb_info sb;
	char path[PATH_MAX];
	int rc;

	D_ASSERT(ram->tc_class == DSS_TIER_RAM);
	snprintf(path, sizeof(path), "%s/%s", ram->tc_scm_mount, SRV_SB_FILE);
	rc = srv_sb_check(eng, path, &sb, err, errlen);
	if (rc == -DER_NONEXIST)
		snprintf(err, errlen, "%s: not formatted (no superblock)", path);
	if (rc == 0 && info != NULL)
		*info = sb;
	return rc;
}

int
srv_vos_format(const struct dss_engine *eng, struct srv_sb_info *info, char *err, size_t errlen)
{
	const struct dss_engine_config *ec = eng->de_ecfg;
	const struct dss_tier_config *ram = &ec->ec_tiers[0];
	struct srv_sb_info sb;
	char path[PATH_MAX];
	int rc;

	D_ASSERT(ram->tc_class == DSS_TIER_RAM);
	rc = srv_mkdir_p(ram->tc_scm_mount);
	if (rc != 0) {
		snprintf(err, errlen, "scm_mount %s: cannot create the directory: %s",
			 ram->tc_scm_mount, d_errdesc(rc));
		return rc;
	}
	rc = srv_role_dirs_make(ec, err, errlen);
	if (rc != 0)
		return rc;

	snprintf(path, sizeof(path), "%s/%s", ram->tc_scm_mount, SRV_SB_FILE);
	rc = srv_sb_check(eng, path, &sb, err, errlen);
	if (rc == -DER_NONEXIST) {
		memset(&sb, 0, sizeof(sb));
		uuid_generate(sb.si_uuid);
		sb.si_rank = ec->ec_rank_set ? ec->ec_rank : SRV_SB_RANK_NONE;
		sb.si_targets = ec->ec_targets;
		snprintf(sb.si_system, sizeof(sb.si_system), "%s", eng->de_cfg->dc_name);
		sb.si_version =
		    DAOS_VERSION_MAJOR << 16 | DAOS_VERSION_MINOR << 8 | DAOS_VERSION_FIX;
		rc = srv_sb_write(ram->tc_scm_mount, path, &sb, eng->de_idx);
		if (rc != 0) {
			snprintf(err, errlen, "%s: cannot write the superblock: %s", path,
				 d_errdesc(rc));
			return rc;
		}
		sb.si_new = true;
		D_NOTE("storage formatted: engine " DF_UUID ", %u targets, superblock %s\n",
		       DP_UUID(sb.si_uuid), sb.si_targets, path);
	} else if (rc != 0) {
		return rc;
	}
	if (info != NULL)
		*info = sb;
	return 0;
}

/* Children, on their target's xstream */

static struct ds_pool_child *
srv_child_find(struct srv_vos_tgt *tgt, const uuid_t uuid)
{
	struct ds_pool_child *pc;

	d_list_for_each_entry (pc, &tgt->vt_children, pc_link)
		if (uuid_compare(pc->pc_uuid, uuid) == 0)
			return pc;
	return NULL;
}

/*
 * The VOS wait hook (a data-file write or a WAL flush to complete): in a ULT, block until
 * the pool's poller sees its I/O move (srv_child_poll), so the xstream runs other requests
 * or sleeps on the WAL's fd meanwhile. (A yield here kept the xstream spinning through
 * every wait, burning the core the I/O workers and the other xstreams needed: up to 1.8 ms
 * of CPU per 4 KiB update, docs/PERFORMANCE.md.) In a poller (vos_pool_poll checkpointing)
 * block on the WAL's completions, as tools do.
 */
#define SRV_CHILD_WAIT_MAX_NS (1000 * 1000)

/*
 * A shard with at least SRV_NOSPIN_DURABLE_DEFAULT requests waiting for a WAL flush in
 * flight (durability callbacks, vos_pool_durable_waiters), whose recent flushes took at
 * least SRV_NOSPIN_DURABLE_NS_DEFAULT (ws_flush_ns), is bound by that flush: the loop's
 * next event is its completion, or a new request, which at such a depth comes only as the
 * answer to a reply that the flush releases. So the loop sleeps in epoll at once instead of
 * spinning (dss_xstream_nospin): the spin's sched_yield turns took ~10 % of the target's
 * CPU samples during 4 KiB updates at QD64, on a machine whose two cores the client,
 * io_uring's workers and the softirqs share. Flushes quicker than a wake-up and a little
 * (tmpfs: a few us) keep the spin, which meets their completion with no wake-up (sleeping
 * there cost CPU instead of saving it: 25.3 against 22.2 us an update, medians of three at
 * load 15-21); so does a QD1 stream (one waiter).
 * DAOS_XS_NOSPIN_DURABLE (a count; 0: never) and DAOS_XS_NOSPIN_DURABLE_US override them,
 * read at srv_vos_open.
 */
#define SRV_NOSPIN_DURABLE_DEFAULT 8
#define SRV_NOSPIN_DURABLE_NS_DEFAULT (200 * 1000ULL)
static uint32_t srv_nospin_durable = SRV_NOSPIN_DURABLE_DEFAULT;
static uint64_t srv_nospin_durable_ns = SRV_NOSPIN_DURABLE_NS_DEFAULT;

static int
srv_child_wait(void *arg)
{
	struct ds_pool_child *pc = arg;
	struct pollfd pfd = {.fd = pc->pc_fd, .events = POLLIN};

	if (dss_ult_self() != NULL && pc->pc_poller == NULL) {
		/* before the poller is attached or after it is gone (open, close) */
		dss_yield();
		return 0;
	}
	if (dss_ult_self() != NULL) {
		dss_mutex_lock(&pc->pc_wait_mx);
		pc->pc_waiters++;
		/* the deadline is a safety net for a wait with no I/O behind it */
		dss_cond_timedwait(&pc->pc_wait_cv, &pc->pc_wait_mx,
				   d_now_ns() + SRV_CHILD_WAIT_MAX_NS);
		pc->pc_waiters--;
		dss_mutex_unlock(&pc->pc_wait_mx);
		return 0;
	}
	if (pc->pc_fd >= 0 && poll(&pfd, 1, 10) < 0 && errno != EINTR)
		return d_errno2der(errno);
	return 0;
}

/*
 * Add what the shard's WAL did since the last call to its target's metrics (records
 * appended, flushes, syncs): appends / flushes per second shows how many updates each
 * group commit carries. Context: the target's xstream.
 */
static void
srv_child_metrics(struct ds_pool_child *pc, bool count)
{
	struct srv_vos_tgt *tgt = pc->pc_tgt;
	struct bio_wal_stats st;

	vos_pool_wal_query(pc->pc_poh, &st);
	if (count) {
		d_tm_inc_counter(tgt->vt_tm_appends, st.ws_appends - pc->pc_wal_appends);
		d_tm_inc_counter(tgt->vt_tm_flushes, st.ws_flushes - pc->pc_wal_flushes);
		d_tm_inc_counter(tgt->vt_tm_syncs,
				 st.ws_syncs + st.ws_dep_syncs - pc->pc_wal_syncs);
	}
	pc->pc_wal_appends = st.ws_appends;
	pc->pc_wal_flushes = st.ws_flushes;
	pc->pc_wal_syncs = st.ws_syncs + st.ws_dep_syncs; /* device syncs: data ones too */
}

static int
srv_child_poll(void *arg)
{
	struct ds_pool_child *pc = arg;
	int n = vos_pool_poll(pc->pc_poh);

	if (n != 0)
		srv_child_metrics(pc, true);
	if (srv_nospin_durable != 0) {
		uint64_t flush_ns;

		if (vos_pool_durable_waiters(pc->pc_poh, &flush_ns) >= srv_nospin_durable &&
		    flush_ns >= srv_nospin_durable_ns)
			dss_xstream_nospin();
	}

	/*
	 * Waiters re-check on any progress, including completions that another waiter reaped
	 * for them (the loop polls again after every ULT it ran, before it may sleep).
	 */
	if (pc->pc_waiters > 0 && (n != 0 || vos_pool_io_progress(pc->pc_poh, &pc->pc_io_seq)))
		dss_cond_broadcast(&pc->pc_wait_cv);
	return n;
}

static int
srv_child_arm(void *arg)
{
	struct ds_pool_child *pc = arg;

	return vos_pool_arm(pc->pc_poh);
}

/* Container handles of a shard */

static d_list_t *
srv_hdl_bucket(struct ds_pool_child *pc, const uuid_t hdl)
{
	uint32_t h;

	memcpy(&h, hdl, sizeof(h));
	return &pc->pc_hdls[h % SRV_HDL_BUCKETS];
}

static struct srv_hdl *
srv_hdl_find(struct ds_pool_child *pc, const uuid_t hdl)
{
	struct srv_hdl *sh;

	d_list_for_each_entry (sh, srv_hdl_bucket(pc, hdl), sh_link)
		if (uuid_compare(sh->sh_hdl.th_hdl, hdl) == 0)
			return sh;
	return NULL;
}

static void
srv_hdl_del(struct ds_pool_child *pc, struct srv_hdl *sh)
{
	d_list_del(&sh->sh_link);
	pc->pc_nhdls--;
	D_FREE(sh);
}

static void
srv_hdls_clear(struct ds_pool_child *pc)
{
	struct srv_hdl *sh, *tmp;
	uint32_t i;

	for (i = 0; i < SRV_HDL_BUCKETS; i++)
		d_list_for_each_entry_safe (sh, tmp, &pc->pc_hdls[i], sh_link)
			srv_hdl_del(pc, sh);
}

static int
srv_hdl_add(struct ds_pool_child *pc, const struct ds_tgt_hdl *th)
{
	struct srv_hdl *sh = srv_hdl_find(pc, th->th_hdl);

	if (sh == NULL) {
		D_ALLOC_PTR(sh);
		if (sh == NULL)
			return -DER_NOMEM;
		d_list_add(&sh->sh_link, srv_hdl_bucket(pc, th->th_hdl));
		pc->pc_nhdls++;
	}
	sh->sh_hdl = *th;
	return 0;
}

static void
srv_child_free(struct ds_pool_child *pc)
{
	dss_cond_fini(&pc->pc_wait_cv);
	dss_mutex_fini(&pc->pc_wait_mx);
	D_FREE(pc);
}

static struct ds_pool_child *
srv_child_alloc(struct srv_vos_tgt *tgt, const uuid_t uuid, struct vos_pool_attr *attr)
{
	struct ds_pool_child *pc;
	uint32_t i;

	D_ALLOC_PTR(pc);
	if (pc == NULL)
		return NULL;
	D_INIT_LIST_HEAD(&pc->pc_link);
	for (i = 0; i < SRV_HDL_BUCKETS; i++)
		D_INIT_LIST_HEAD(&pc->pc_hdls[i]);
	uuid_copy(pc->pc_uuid, uuid);
	pc->pc_tgt = tgt;
	pc->pc_fd = -1;
	dss_mutex_init(&pc->pc_wait_mx);
	dss_cond_init(&pc->pc_wait_cv);
	memset(attr, 0, sizeof(*attr));
	attr->pa_wait = srv_child_wait;
	attr->pa_wait_arg = pc;
	return pc;
}

/* The pool is open in pc_poh: poll it and list it. On failure it is closed and freed. */
static int
srv_child_attach(struct ds_pool_child *pc)
{
	struct srv_vos_tgt *tgt = pc->pc_tgt;
	struct vos_pool_info pi;
	int rc;

	pc->pc_fd = vos_pool_fd(pc->pc_poh);
	srv_child_metrics(pc, false); /* the open's own records (replay, format) not counted */
	rc = vos_pool_query(pc->pc_poh, &pi);
	if (rc == 0)
		rc = dss_xstream_poller_add(tgt->vt_xs, srv_child_poll, srv_child_arm, pc->pc_fd,
					    pc, &pc->pc_poller);
	if (rc != 0) {
		vos_pool_close(pc->pc_poh);
		srv_child_free(pc);
		return rc;
	}
	pc->pc_scm = pi.pi_scm_total;
	tgt->vt_scm_used += pc->pc_scm;
	__atomic_add_fetch(&srv_vos_scm_held, pc->pc_scm, __ATOMIC_RELAXED);
	d_list_add_tail(&pc->pc_link, &tgt->vt_children);
	return 0;
}

/* Take @pc off its target, wait for its references, checkpoint and close it, free it. */
static int
srv_child_close(struct ds_pool_child *pc)
{
	struct srv_vos_tgt *tgt = pc->pc_tgt;
	int rc;

	d_list_del_init(&pc->pc_link);
	while (pc->pc_ref > 0)
		dss_usleep(1000);
	dss_xstream_poller_del(tgt->vt_xs, pc->pc_poller);
	pc->pc_poller = NULL; /* the wait hook yields from now on: no poller wakes it */
	srv_child_metrics(pc, true);
	srv_hdls_clear(pc);
	tgt->vt_scm_used -= pc->pc_scm;
	rc = vos_pool_close(pc->pc_poh);
	if (rc != 0)
		D_ERROR("target %u: pool " DF_UUID ": close: " DF_RC "\n", tgt->vt_idx,
			DP_UUID(pc->pc_uuid), DP_RC(rc));
	srv_child_free(pc);
	return rc;
}

/*
 * Remove what is left of @tgt's shard of @uuid after an interrupted create or destroy (no
 * meta file): its other files, then its directories under every root.
 */
static void
srv_shard_remove(struct srv_vos_tgt *tgt, const uuid_t uuid)
{
	char buf[SRV_ROLES][PATH_MAX];
	struct vos_pool_paths paths;
	int rc;

	srv_shard_paths(tgt, uuid, buf, &paths);
	rc = vos_pool_destroy_paths(&paths, uuid);
	if (rc != 0 && rc != -DER_NONEXIST)
		D_ERROR("target %u: pool " DF_UUID ": cannot remove its files: " DF_RC "\n",
			tgt->vt_idx, DP_UUID(uuid), DP_RC(rc));
	srv_shard_dirs_remove(tgt, uuid);
}

/* Open @tgt's shard of @uuid, whose directory is under the meta root; see invariant 3. */
static void
srv_child_open(struct srv_vos_tgt *tgt, const uuid_t uuid)
{
	char buf[SRV_ROLES][PATH_MAX];
	struct vos_pool_paths paths;
	struct vos_pool_attr attr;
	struct ds_pool_child *pc;
	int rc;

	srv_shard_paths(tgt, uuid, buf, &paths);
	if (access(paths.vpp_meta, F_OK) != 0 && errno == ENOENT) {
		D_WARN("target %u: pool " DF_UUID ": creation never finished (no %s): removed\n",
		       tgt->vt_idx, DP_UUID(uuid), paths.vpp_meta);
		srv_shard_remove(tgt, uuid);
		return;
	}
	pc = srv_child_alloc(tgt, uuid, &attr);
	if (pc == NULL) {
		D_ERROR("target %u: pool " DF_UUID ": no memory to open it\n", tgt->vt_idx,
			DP_UUID(uuid));
		return;
	}
	rc = vos_pool_open_paths(&paths, uuid, 0, &attr, &pc->pc_poh);
	if (rc != 0) {
		D_ERROR("target %u: pool " DF_UUID
			" (meta %s, wal %s, data %s) does not open: " DF_RC "; left on disk\n",
			tgt->vt_idx, DP_UUID(uuid), paths.vpp_meta, paths.vpp_wal, paths.vpp_data,
			DP_RC(rc));
		srv_child_free(pc);
		return;
	}
	rc = srv_child_attach(pc);
	if (rc != 0) {
		D_ERROR("target %u: pool " DF_UUID ": " DF_RC "\n", tgt->vt_idx, DP_UUID(uuid),
			DP_RC(rc));
		return;
	}
	D_DEBUG("target %u: pool " DF_UUID " open\n", tgt->vt_idx, DP_UUID(uuid));
}

/* Operations run on every target at once */

struct srv_vos_create_arg {
	uuid_t ca_uuid;
	uint64_t ca_scm;
	uint64_t ca_data;
	uint64_t ca_wal;
};

struct srv_vos_op {
	struct srv_vos_tgt *op_tgt;
	void (*op_fn)(struct srv_vos_op *op);
	const void *op_arg;
	struct ds_pool_tgt_info *op_info;
	struct dss_eventual *op_ev;
	int op_rc;
	bool op_skip;
};

static void
srv_vos_op_ult(void *arg)
{
	struct srv_vos_op *op = arg;

	op->op_fn(op);
	dss_eventual_set(op->op_ev, NULL);
}

/* Run @ops[i].op_fn on target i's xstream for each op not skipped, at once; wait for all. */
static void
srv_vos_run(struct srv_vos_op *ops, uint32_t nr)
{
	uint32_t i;

	for (i = 0; i < nr; i++) {
		struct srv_vos_op *op = &ops[i];
		int rc;

		op->op_ev = NULL;
		if (op->op_skip)
			continue;
		rc = dss_eventual_create(&op->op_ev);
		if (rc == 0) {
			/* the ULT may run and set op_rc before this returns: op_rc is its alone */
			rc = dss_ult_create(op->op_tgt->vt_xs, srv_vos_op_ult, op, 0, NULL);
			if (rc != 0) {
				dss_eventual_destroy(op->op_ev);
				op->op_ev = NULL;
			}
		}
		if (rc != 0)
			op->op_rc = rc;
	}
	for (i = 0; i < nr; i++) {
		if (ops[i].op_ev == NULL)
			continue;
		dss_eventual_wait(ops[i].op_ev, NULL);
		dss_eventual_destroy(ops[i].op_ev);
		ops[i].op_ev = NULL;
	}
}

/* Allocate the ops of every target, for @fn with @arg. NULL without memory. */
static struct srv_vos_op *
srv_vos_ops(void (*fn)(struct srv_vos_op *op), const void *arg)
{
	struct srv_vos_op *ops;
	uint32_t i;

	D_ALLOC_ARRAY(ops, srv_vos.sv_nr);
	if (ops == NULL)
		return NULL;
	for (i = 0; i < srv_vos.sv_nr; i++) {
		ops[i].op_tgt = &srv_vos.sv_tgts[i];
		ops[i].op_fn = fn;
		ops[i].op_arg = arg;
	}
	return ops;
}

/*
 * Call @fn(@tgt, uuid) for every pool directory under @root that holds a directory
 * vos-<tgt's index>. Returns 0 or the error of opening @root.
 */
static int
srv_shards_scan(struct srv_vos_tgt *tgt, const char *root,
		void (*fn)(struct srv_vos_tgt *tgt, const uuid_t uuid))
{
	char path[PATH_MAX];
	struct dirent *de;
	uuid_t uuid;
	DIR *dir;
	int rc;

	dir = opendir(root);
	if (dir == NULL) {
		rc = d_errno2der(errno);
		D_ERROR("target %u: cannot read %s: %s\n", tgt->vt_idx, root, strerror(errno));
		return rc;
	}
	while ((de = readdir(dir)) != NULL) {
		struct stat st;

		if (strlen(de->d_name) != DAOS_UUID_STR_SIZE - 1 ||
		    uuid_parse(de->d_name, uuid) != 0)
			continue;
		srv_pool_dir(tgt, root, uuid, true, path);
		if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
			continue;
		fn(tgt, uuid);
	}
	closedir(dir);
	return 0;
}

/*
 * A shard directory under the WAL's or the data's root. The scan of the meta root removed
 * every interrupted create or destroy (invariant 3), so one without its meta file here has
 * lost its meta shard directory: the meta tier may be missing. Logged, left alone.
 */
static void
srv_orphan_check(struct srv_vos_tgt *tgt, const uuid_t uuid)
{
	char buf[SRV_ROLES][PATH_MAX];
	struct vos_pool_paths paths;

	srv_shard_paths(tgt, uuid, buf, &paths);
	if (access(paths.vpp_meta, F_OK) == 0 || errno != ENOENT)
		return;
	D_ERROR("target %u: pool " DF_UUID ": WAL or data files without %s (the meta tier "
		"lost?): left alone\n",
		tgt->vt_idx, DP_UUID(uuid), paths.vpp_meta);
}

static void
srv_op_open(struct srv_vos_op *op)
{
	struct srv_vos_tgt *tgt = op->op_tgt;
	uint32_t r;

	srv_vos_tls = tgt;
	op->op_rc = srv_shards_scan(tgt, tgt->vt_roots[SRV_META], srv_child_open);
	for (r = 1; op->op_rc == 0 && r < tgt->vt_nroots; r++)
		(void)srv_shards_scan(tgt, tgt->vt_uroots[r], srv_orphan_check);
}

static void
srv_op_close(struct srv_vos_op *op)
{
	struct srv_vos_tgt *tgt = op->op_tgt;
	struct ds_pool_child *pc, *tmp;

	d_list_for_each_entry_safe (pc, tmp, &tgt->vt_children, pc_link)
		(void)srv_child_close(pc);
	srv_vos_tls = NULL;
	op->op_rc = 0;
}

static void
srv_op_destroy(struct srv_vos_op *op)
{
	const uuid_t *uuid = op->op_arg;
	struct srv_vos_tgt *tgt = op->op_tgt;
	char buf[SRV_ROLES][PATH_MAX];
	struct vos_pool_paths paths;
	struct ds_pool_child *pc;
	int rc;

	pc = srv_child_find(tgt, *uuid);
	if (pc != NULL) {
		__atomic_sub_fetch(&srv_vos_scm_held, pc->pc_scm, __ATOMIC_RELAXED);
		(void)srv_child_close(pc); /* its WAL holds everything: the files go anyway */
	}
	srv_shard_paths(tgt, *uuid, buf, &paths);
	rc = vos_pool_destroy_paths(&paths, *uuid); /* the meta file first: invariant 3 */
	if (rc == -DER_NONEXIST)
		rc = 0;
	if (rc != 0)
		D_ERROR("target %u: pool " DF_UUID ": cannot remove its files: " DF_RC "\n",
			tgt->vt_idx, DP_UUID(*uuid), DP_RC(rc));
	srv_shard_dirs_remove(tgt, *uuid);
	op->op_rc = rc;
}

/* Make @tgt's shard directories of @uuid (and the pool directories) under every root. */
static int
srv_shard_dirs_make(const struct srv_vos_tgt *tgt, const uuid_t uuid)
{
	char dir[PATH_MAX];
	uint32_t r;

	for (r = 0; r < tgt->vt_nroots; r++) {
		srv_pool_dir(tgt, tgt->vt_uroots[r], uuid, false, dir);
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			return d_errno2der(errno);
		srv_pool_dir(tgt, tgt->vt_uroots[r], uuid, true, dir);
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			return d_errno2der(errno);
	}
	return 0;
}

/* Sync what a create made: each shard directory, pool directory and root. */
static int
srv_shard_dirs_sync(const struct srv_vos_tgt *tgt, const uuid_t uuid)
{
	char dir[PATH_MAX];
	uint32_t r;
	int rc = 0;

	for (r = 0; rc == 0 && r < tgt->vt_nroots; r++) {
		srv_pool_dir(tgt, tgt->vt_uroots[r], uuid, true, dir);
		rc = srv_dir_sync(dir);
		srv_pool_dir(tgt, tgt->vt_uroots[r], uuid, false, dir);
		if (rc == 0)
			rc = srv_dir_sync(dir);
		if (rc == 0)
			rc = srv_dir_sync(tgt->vt_uroots[r]);
	}
	return rc;
}

static void
srv_op_create(struct srv_vos_op *op)
{
	const struct srv_vos_create_arg *ca = op->op_arg;
	struct srv_vos_tgt *tgt = op->op_tgt;
	char buf[SRV_ROLES][PATH_MAX];
	struct vos_pool_paths paths;
	struct vos_pool_attr attr;
	struct ds_pool_child *pc;
	int rc;

	if (srv_child_find(tgt, ca->ca_uuid) != NULL) {
		op->op_rc = -DER_EXIST;
		return;
	}
	if (tgt->vt_scm_max != 0 && tgt->vt_scm_used + ca->ca_scm > tgt->vt_scm_max) {
		D_ERROR("target %u: pool " DF_UUID ": %" PRIu64 " bytes of heap asked, %" PRIu64
			" of %" PRIu64 " left\n",
			tgt->vt_idx, DP_UUID(ca->ca_uuid), ca->ca_scm,
			tgt->vt_scm_max - tgt->vt_scm_used, tgt->vt_scm_max);
		op->op_rc = -DER_NOSPACE;
		return;
	}
	pc = srv_child_alloc(tgt, ca->ca_uuid, &attr);
	if (pc == NULL) {
		op->op_rc = -DER_NOMEM;
		return;
	}
	srv_shard_paths(tgt, ca->ca_uuid, buf, &paths);
	rc = srv_shard_dirs_make(tgt, ca->ca_uuid);
	if (rc != 0)
		goto out_rmdir;
	rc = vos_pool_create_paths(&paths, ca->ca_uuid, ca->ca_scm, ca->ca_data, ca->ca_wal, &attr,
				   &pc->pc_poh);
	if (rc != 0)
		goto out_rmdir;
	rc = srv_shard_dirs_sync(tgt, ca->ca_uuid);
	if (rc != 0) {
		vos_pool_close(pc->pc_poh);
		goto out_files;
	}
	rc = srv_child_attach(pc); /* frees pc on failure */
	if (rc != 0) {
		pc = NULL;
		goto out_files;
	}
	D_DEBUG("target %u: pool " DF_UUID " created\n", tgt->vt_idx, DP_UUID(ca->ca_uuid));
	op->op_rc = 0;
	return;

out_files:
	vos_pool_destroy_paths(&paths, ca->ca_uuid);
out_rmdir:
	/* the pool directories stay while another target's shard is in them */
	srv_shard_dirs_remove(tgt, ca->ca_uuid);
	D_ERROR("target %u: pool " DF_UUID ": create: " DF_RC "\n", tgt->vt_idx,
		DP_UUID(ca->ca_uuid), DP_RC(rc));
	if (pc != NULL)
		srv_child_free(pc);
	op->op_rc = rc;
}

static void
srv_op_query(struct srv_vos_op *op)
{
	const uuid_t *uuid = op->op_arg;
	struct ds_pool_child *pc = srv_child_find(op->op_tgt, *uuid);

	op->op_rc = pc == NULL ? -DER_NONEXIST : vos_pool_query(pc->pc_poh, &op->op_info->ti_vos);
	if (pc != NULL) {
		op->op_info->ti_nhdls = pc->pc_nhdls;
		op->op_info->ti_map_ver = pc->pc_map_ver;
	}
}

/* Open and close, from the main thread */

/*
 * The WAL metrics of target @idx, made on the first open and found again after a system
 * stop (the registry lives as long as the process). A failure leaves a NULL node, which
 * the update functions ignore: metrics never stop the engine.
 */
static void
srv_tgt_metrics(struct srv_vos_tgt *tgt)
{
	static const char *const names[] = {"appends", "flushes", "syncs"};
	static const char *const descs[] = {
	    "WAL records appended (committed transactions: updates, punches...)",
	    "WAL flushes submitted (group commits)",
	    "durability points of WAL flushes (fdatasync or RWF_DSYNC writes, and the data-file "
	    "fdatasyncs they chain)"};
	struct d_tm_node_t **nodes[] = {&tgt->vt_tm_appends, &tgt->vt_tm_flushes,
					&tgt->vt_tm_syncs};
	static bool tm_started;
	char path[96];
	int i;

	if (!tm_started) {
		tm_started = d_tm_init() == 0;
		if (!tm_started)
			return;
	}
	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "engine/wal/%s{target=\"%u\"}", names[i], tgt->vt_idx);
		if (d_tm_add_metric(nodes[i], D_TM_COUNTER, descs[i], NULL, "%s", path) != 0)
			*nodes[i] = d_tm_find_metric(path);
	}
}

/* Environment variable @name as a number, or @def when unset or not a number */
static uint64_t
srv_env_u64(const char *name, uint64_t def)
{
	const char *env = getenv(name);
	uint64_t v;

	if (env == NULL || *env == '\0')
		return def;
	if (d_getenv_uint64_t(name, &v) == 0)
		return v;
	D_WARN("ignoring %s=%s: not a number\n", name, env);
	return def;
}

int
srv_vos_open(const struct dss_engine *eng)
{
	const struct dss_engine_config *ec = eng->de_ecfg;
	struct srv_vos_tgt *tgts;
	struct srv_vos_op *ops;
	uint32_t nr = eng->de_tgt_nr;
	uint32_t i;

	D_ASSERT(srv_vos.sv_tgts == NULL);
	srv_nospin_durable =
	    (uint32_t)srv_env_u64("DAOS_XS_NOSPIN_DURABLE", SRV_NOSPIN_DURABLE_DEFAULT);
	srv_nospin_durable_ns =
	    srv_env_u64("DAOS_XS_NOSPIN_DURABLE_US", SRV_NOSPIN_DURABLE_NS_DEFAULT / 1000) * 1000;
	D_ALLOC_ARRAY(tgts, nr);
	if (tgts == NULL)
		return -DER_NOMEM;
	for (i = 0; i < nr; i++) {
		struct srv_vos_tgt *tgt = &tgts[i];
		uint32_t r, u;

		for (r = 0; r < SRV_ROLES; r++) {
			const char *root = srv_role_root(ec, srv_role_bits[r], i);

			/* room for "/<uuid>/vos-<idx>/<file>" */
			if (root == NULL || strlen(root) >= sizeof(tgt->vt_roots[r]) - 80) {
				D_ERROR("target %u: no %s root, or too long a path: %s\n", i,
					srv_role_files[r], root != NULL ? root : "(none)");
				D_FREE(tgts);
				return -DER_INVAL;
			}
			strcpy(tgt->vt_roots[r], root);
			for (u = 0; u < tgt->vt_nroots; u++)
				if (strcmp(tgt->vt_uroots[u], root) == 0)
					break;
			if (u == tgt->vt_nroots)
				tgt->vt_uroots[tgt->vt_nroots++] = tgt->vt_roots[r];
		}
		tgt->vt_idx = i;
		tgt->vt_xs = eng->de_tgt_xs[i];
		D_INIT_LIST_HEAD(&tgts[i].vt_children);
		tgts[i].vt_scm_max = ec->ec_tiers[0].tc_scm_size / nr;
		srv_tgt_metrics(&tgts[i]);
	}
	srv_vos.sv_tgts = tgts;
	srv_vos.sv_nr = nr;
	__atomic_store_n(&srv_vos_scm_held, 0, __ATOMIC_RELAXED); /* the opens count again */
	ops = srv_vos_ops(srv_op_open, NULL);
	if (ops == NULL) {
		srv_vos.sv_nr = 0;
		srv_vos.sv_tgts = NULL;
		D_FREE(tgts);
		return -DER_NOMEM;
	}
	srv_vos_run(ops, nr);
	for (i = 0; i < nr; i++)
		if (ops[i].op_rc != 0)
			D_ERROR("target %u: shards not opened: " DF_RC "\n", i,
				DP_RC(ops[i].op_rc));
	D_FREE(ops);
	/* the bridge may run from now on */
	__atomic_store_n(&srv_vos.sv_ready, nr, __ATOMIC_RELEASE);
	return 0;
}

void
srv_vos_close(void)
{
	struct srv_vos_op *ops;
	uint32_t nr = srv_vos.sv_nr;
	uint32_t i;

	if (srv_vos.sv_tgts == NULL)
		return;
	__atomic_store_n(&srv_vos.sv_ready, 0, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&srv_vos.sv_busy, __ATOMIC_SEQ_CST) > 0)
		usleep(1000); /* a bridge call still running (a ULT of the control plane) */
	ops = srv_vos_ops(srv_op_close, NULL);
	if (ops != NULL) {
		srv_vos_run(ops, nr);
		for (i = 0; i < nr; i++)
			if (ops[i].op_rc != 0)
				D_ERROR("target %u: cannot close its shards: " DF_RC "\n", i,
					DP_RC(ops[i].op_rc));
		D_FREE(ops);
	} else {
		D_ERROR("no memory to close the shards: their WALs hold everything\n");
	}
	srv_vos.sv_nr = 0;
	D_FREE(srv_vos.sv_tgts);
}

/* The bridge (daos_srv/pool_tgt.h) */

uint32_t
ds_pool_tgt_nr(void)
{
	return __atomic_load_n(&srv_vos.sv_ready, __ATOMIC_ACQUIRE);
}

/*
 * Enter a bridge call: the number of targets, or 0 if the shards are not open (then
 * -DER_UNINIT, nothing to leave). srv_vos_close withdraws sv_ready, then waits for sv_busy
 * to drop to 0; a caller counts itself busy before it reads sv_ready, so one of the two
 * sees the other (both sequentially consistent).
 */
static uint32_t
srv_bridge_enter(void)
{
	uint32_t nr;

	D_ASSERT(dss_xstream_self() == NULL || dss_ult_self() != NULL);
	__atomic_add_fetch(&srv_vos.sv_busy, 1, __ATOMIC_SEQ_CST);
	nr = __atomic_load_n(&srv_vos.sv_ready, __ATOMIC_SEQ_CST);
	if (nr == 0)
		__atomic_sub_fetch(&srv_vos.sv_busy, 1, __ATOMIC_SEQ_CST);
	return nr;
}

static int
srv_bridge_leave(int rc)
{
	__atomic_sub_fetch(&srv_vos.sv_busy, 1, __ATOMIC_SEQ_CST);
	return rc;
}

static void
srv_rcs_copy(const struct srv_vos_op *ops, uint32_t nr, int *tgt_rcs, uint32_t tgt_nr)
{
	uint32_t i;

	for (i = 0; tgt_rcs != NULL && i < tgt_nr; i++)
		tgt_rcs[i] = i < nr ? ops[i].op_rc : -DER_NONEXIST;
}

int
ds_pool_tgt_create(const uuid_t uuid, uint64_t scm_size, uint64_t nvme_size, int *tgt_rcs,
		   uint32_t tgt_nr)
{
	struct srv_vos_create_arg ca;
	struct srv_vos_op *ops;
	uint32_t nr = srv_bridge_enter();
	uint32_t i;
	int rc = 0;

	if (nr == 0)
		return -DER_UNINIT;
	uuid_copy(ca.ca_uuid, uuid);
	ca.ca_scm = scm_size / nr / VOS_BLK_SIZE * VOS_BLK_SIZE;
	ca.ca_data =
	    nvme_size == 0 ? VOS_POOL_DATA_MIN : nvme_size / nr / VOS_BLK_SIZE * VOS_BLK_SIZE;
	if (ca.ca_scm < VOS_POOL_SCM_MIN || ca.ca_data < VOS_POOL_DATA_MIN) {
		D_ERROR("pool " DF_UUID ": %" PRIu64 " / %" PRIu64
			" bytes per target, at least %llu "
			"/ %llu needed\n",
			DP_UUID(uuid), ca.ca_scm, ca.ca_data, VOS_POOL_SCM_MIN, VOS_POOL_DATA_MIN);
		return srv_bridge_leave(-DER_INVAL);
	}
	ca.ca_wal = ca.ca_scm / 4 / VOS_BLK_SIZE * VOS_BLK_SIZE;
	ca.ca_wal = ca.ca_wal < VOS_POOL_WAL_MIN ? VOS_POOL_WAL_MIN : ca.ca_wal;
	ca.ca_wal = ca.ca_wal > SRV_WAL_MAX ? SRV_WAL_MAX : ca.ca_wal;

	ops = srv_vos_ops(srv_op_create, &ca);
	if (ops == NULL)
		return srv_bridge_leave(-DER_NOMEM);
	srv_vos_run(ops, nr);
	for (i = 0; i < nr && rc == 0; i++)
		rc = ops[i].op_rc;
	if (rc != 0) {
		/* undo: destroy the shards that were made, nothing else */
		for (i = 0; i < nr; i++) {
			ops[i].op_skip = ops[i].op_rc != 0;
			ops[i].op_fn = srv_op_destroy;
			ops[i].op_arg = &ca.ca_uuid;
		}
		srv_vos_run(ops, nr);
		for (i = 0; i < nr; i++) {
			if (ops[i].op_skip)
				continue;
			if (ops[i].op_rc != 0)
				D_ERROR("target %u: pool " DF_UUID ": undo failed: " DF_RC "\n", i,
					DP_UUID(uuid), DP_RC(ops[i].op_rc));
			ops[i].op_rc = -DER_CANCELED;
		}
		D_ERROR("pool " DF_UUID ": create failed: " DF_RC "\n", DP_UUID(uuid), DP_RC(rc));
	} else {
		D_INFO("pool " DF_UUID ": shards created on %u targets\n", DP_UUID(uuid), nr);
	}
	srv_rcs_copy(ops, nr, tgt_rcs, tgt_nr);
	D_FREE(ops);
	return srv_bridge_leave(rc);
}

int
ds_pool_tgt_destroy(const uuid_t uuid, int *tgt_rcs, uint32_t tgt_nr)
{
	struct srv_vos_op *ops;
	uint32_t nr = srv_bridge_enter();
	uint32_t i;
	int rc = 0;

	if (nr == 0)
		return -DER_UNINIT;
	ops = srv_vos_ops(srv_op_destroy, uuid);
	if (ops == NULL)
		return srv_bridge_leave(-DER_NOMEM);
	srv_vos_run(ops, nr);
	for (i = 0; i < nr && rc == 0; i++)
		rc = ops[i].op_rc;
	srv_rcs_copy(ops, nr, tgt_rcs, tgt_nr);
	D_FREE(ops);
	return srv_bridge_leave(rc);
}

/* The container of a pool shard: TgtContDestroy's argument. */
struct srv_cont_arg {
	uuid_t ca_pool;
	uuid_t ca_cont;
};

static void
srv_op_cont_destroy(struct srv_vos_op *op)
{
	const struct srv_cont_arg *ca = op->op_arg;
	struct ds_pool_child *pc = srv_child_find(op->op_tgt, ca->ca_pool);
	int rc;

	if (pc == NULL) {
		op->op_rc = 0; /* no shard here: nothing to destroy */
		return;
	}
	pc->pc_ref++;
	rc = vos_cont_destroy(pc->pc_poh, ca->ca_cont);
	pc->pc_ref--;
	op->op_rc = rc == -DER_NONEXIST ? 0 : rc;
}

int
ds_pool_tgt_cont_destroy(const uuid_t pool, const uuid_t cont, int *tgt_rcs, uint32_t tgt_nr)
{
	struct srv_cont_arg ca;
	struct srv_vos_op *ops;
	uint32_t nr = srv_bridge_enter();
	uint32_t i;
	int rc = 0;

	if (nr == 0)
		return -DER_UNINIT;
	uuid_copy(ca.ca_pool, pool);
	uuid_copy(ca.ca_cont, cont);
	ops = srv_vos_ops(srv_op_cont_destroy, &ca);
	if (ops == NULL)
		return srv_bridge_leave(-DER_NOMEM);
	srv_vos_run(ops, nr);
	for (i = 0; i < nr && rc == 0; i++)
		rc = ops[i].op_rc;
	srv_rcs_copy(ops, nr, tgt_rcs, tgt_nr);
	D_FREE(ops);
	return srv_bridge_leave(rc);
}

/* TgtHdl's argument. */
struct srv_hdl_arg {
	uuid_t ha_pool;
	uint32_t ha_map_ver;
	enum ds_tgt_hdl_op ha_op;
	const struct ds_tgt_hdl *ha_hdls;
	uint32_t ha_nr;
};

static void
srv_op_hdl(struct srv_vos_op *op)
{
	const struct srv_hdl_arg *ha = op->op_arg;
	struct ds_pool_child *pc = srv_child_find(op->op_tgt, ha->ha_pool);
	struct srv_hdl *sh;
	uint32_t i;
	int rc = 0;

	if (pc == NULL) {
		/* no shard: nothing to remove; a handle cannot be served here */
		op->op_rc =
		    ha->ha_op == DS_TGT_HDL_ADD || ha->ha_op == DS_TGT_HDL_SET ? -DER_NONEXIST : 0;
		return;
	}
	if (ha->ha_map_ver > pc->pc_map_ver)
		pc->pc_map_ver = ha->ha_map_ver;
	if (ha->ha_op == DS_TGT_HDL_SET)
		srv_hdls_clear(pc);
	for (i = 0; i < ha->ha_nr && rc == 0; i++) {
		if (ha->ha_op == DS_TGT_HDL_REMOVE) {
			sh = srv_hdl_find(pc, ha->ha_hdls[i].th_hdl);
			if (sh != NULL)
				srv_hdl_del(pc, sh);
		} else if (ha->ha_op != DS_TGT_HDL_MAP) {
			rc = srv_hdl_add(pc, &ha->ha_hdls[i]);
		}
	}
	op->op_rc = rc;
}

int
ds_pool_tgt_hdl(const uuid_t pool, uint32_t map_ver, enum ds_tgt_hdl_op op,
		const struct ds_tgt_hdl *hdls, uint32_t nr, int *tgt_rcs, uint32_t tgt_nr)
{
	struct srv_hdl_arg ha = {.ha_map_ver = map_ver, .ha_op = op, .ha_hdls = hdls, .ha_nr = nr};
	struct srv_vos_op *ops;
	uint32_t tnr;
	uint32_t i;
	int rc = 0;

	if (op < DS_TGT_HDL_ADD || op > DS_TGT_HDL_SET || (nr > 0 && hdls == NULL))
		return -DER_INVAL;
	tnr = srv_bridge_enter();
	if (tnr == 0)
		return -DER_UNINIT;
	uuid_copy(ha.ha_pool, pool);
	ops = srv_vos_ops(srv_op_hdl, &ha);
	if (ops == NULL)
		return srv_bridge_leave(-DER_NOMEM);
	srv_vos_run(ops, tnr);
	for (i = 0; i < tnr && rc == 0; i++)
		rc = ops[i].op_rc;
	srv_rcs_copy(ops, tnr, tgt_rcs, tgt_nr);
	D_FREE(ops);
	return srv_bridge_leave(rc);
}

int
ds_pool_tgt_query(const uuid_t uuid, struct ds_pool_tgt_info *infos, uint32_t tgt_nr)
{
	struct srv_vos_op *ops;
	uint32_t nr = srv_bridge_enter();
	uint32_t i;
	int rc = 0;

	if (nr == 0)
		return -DER_UNINIT;
	ops = srv_vos_ops(srv_op_query, uuid);
	if (ops == NULL)
		return srv_bridge_leave(-DER_NOMEM);
	for (i = 0; i < nr; i++) {
		D_ALLOC_PTR(ops[i].op_info);
		if (ops[i].op_info == NULL) {
			rc = -DER_NOMEM;
			goto out;
		}
	}
	srv_vos_run(ops, nr);
	for (i = 0; i < nr; i++) {
		if (ops[i].op_rc != 0 && rc == 0)
			rc = ops[i].op_rc;
		if (i < tgt_nr) {
			infos[i] = *ops[i].op_info;
			infos[i].ti_rc = ops[i].op_rc;
			infos[i].ti_tgt = i;
		}
	}
out:
	for (i = 0; i < nr; i++)
		D_FREE(ops[i].op_info);
	D_FREE(ops);
	return srv_bridge_leave(rc);
}

int
ds_pool_tgt_ult_create(uint32_t tgt, dss_ult_func_t fn, void *arg, struct dss_ult **ult)
{
	uint32_t nr = srv_bridge_enter();

	if (nr == 0)
		return -DER_UNINIT;
	if (tgt >= nr)
		return srv_bridge_leave(-DER_INVAL);
	return srv_bridge_leave(dss_ult_create(srv_vos.sv_tgts[tgt].vt_xs, fn, arg, 0, ult));
}

int
ds_pool_tgt_call(uint32_t tgt, dss_call_func_t fn, void *arg)
{
	uint32_t nr = srv_bridge_enter();

	if (nr == 0)
		return -DER_UNINIT;
	if (tgt >= nr)
		return srv_bridge_leave(-DER_INVAL);
	return srv_bridge_leave(dss_call_post(srv_vos.sv_tgts[tgt].vt_xs, fn, arg));
}

int
ds_pool_tgt_self(void)
{
	return srv_vos_tls != NULL ? (int)srv_vos_tls->vt_idx : -1;
}

int
ds_pool_child_lookup(const uuid_t uuid, struct ds_pool_child **child)
{
	struct srv_vos_tgt *tgt = srv_vos_tls;
	struct ds_pool_child *pc;

	if (tgt == NULL)
		return -DER_INVAL;
	pc = srv_child_find(tgt, uuid);
	if (pc == NULL)
		return -DER_NONEXIST;
	pc->pc_ref++;
	*child = pc;
	return 0;
}

daos_handle_t
ds_pool_child_hdl(const struct ds_pool_child *child)
{
	return child->pc_poh;
}

int
ds_pool_child_io_check(struct ds_pool_child *child, const uuid_t coh, const uuid_t cont,
		       uint32_t map_ver, bool write)
{
	struct srv_hdl *sh;

	if (map_ver < child->pc_map_ver)
		return -DER_STALE;
	/* only handles the service gave: a restarted engine serves none until it is told */
	sh = srv_hdl_find(child, coh);
	if (sh == NULL)
		return -DER_NO_HDL;
	if (uuid_compare(sh->sh_hdl.th_cont, cont) != 0)
		return -DER_NO_PERM;
	if (!(sh->sh_hdl.th_capas & (write ? SEC_CONT_CAPA_WRITE_DATA : SEC_CONT_CAPA_READ_DATA)))
		return -DER_NO_PERM;
	return 0;
}

void
ds_pool_child_put(struct ds_pool_child *child)
{
	D_ASSERT(child->pc_ref > 0);
	child->pc_ref--;
}

/* Usage of the storage tiers */

/* Bytes allocated to the files under @path (st_blocks, the directory tree walked). */
static uint64_t
srv_du(const char *path, int depth)
{
	char sub[PATH_MAX];
	struct dirent *de;
	struct stat st;
	uint64_t sum = 0;
	DIR *dir;

	if (lstat(path, &st) != 0)
		return 0;
	if (!S_ISDIR(st.st_mode) || depth > 8)
		return (uint64_t)st.st_blocks * 512;
	dir = opendir(path);
	if (dir == NULL)
		return 0;
	while ((de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name) >= (int)sizeof(sub))
			continue;
		sum += srv_du(sub, depth + 1);
	}
	closedir(dir);
	return sum;
}

/*
 * statvfs of @path, or of its nearest existing parent while it does not exist yet (an
 * unformatted engine: the tier's directory is made by the format).
 */
static int
srv_statvfs(const char *path, struct statvfs *sv)
{
	char buf[PATH_MAX];
	char *slash;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -DER_INVAL;
	while (statvfs(buf, sv) != 0) {
		if (errno != ENOENT)
			return d_errno2der(errno);
		slash = strrchr(buf, '/');
		if (slash == NULL || slash == buf)
			return statvfs("/", sv) == 0 ? 0 : d_errno2der(errno);
		*slash = '\0';
	}
	return 0;
}

int
srv_vos_usage(const struct dss_engine *eng, struct srv_tier_usage *tu, uint32_t max, uint32_t *nr)
{
	const struct dss_engine_config *ec = eng->de_ecfg;
	uint32_t n = 0;
	uint32_t i, j;
	int rc;

	for (i = 0; i < ec->ec_tier_nr; i++) {
		const struct dss_tier_config *tc = &ec->ec_tiers[i];

		if (tc->tc_class == DSS_TIER_RAM) {
			uint64_t held = __atomic_load_n(&srv_vos_scm_held, __ATOMIC_RELAXED);

			if (n == max)
				return -DER_OVERFLOW;
			tu[n].tu_tier = i;
			tu[n].tu_scm = true;
			tu[n].tu_class = "ram";
			tu[n].tu_path = tc->tc_scm_mount;
			tu[n].tu_total = tc->tc_scm_size;
			tu[n].tu_avail = held < tc->tc_scm_size ? tc->tc_scm_size - held : 0;
			n++;
			continue;
		}
		for (j = 0; j < tc->tc_bdev_list.sv_nr; j++) {
			const char *path = tc->tc_bdev_list.sv_v[j];
			uint64_t used, avail, total;
			struct statvfs sv;

			if (n == max)
				return -DER_OVERFLOW;
			rc = srv_statvfs(path, &sv);
			if (rc != 0)
				return rc;
			avail = (uint64_t)sv.f_bavail * sv.f_frsize;
			used = srv_du(path, 0);
			/* class file: bdev_size per entry; kdev: the file system (the device) */
			total = tc->tc_class == DSS_TIER_FILE ? tc->tc_bdev_size
							      : (uint64_t)sv.f_blocks * sv.f_frsize;
			if (tc->tc_class == DSS_TIER_FILE && used >= total)
				avail = 0;
			else if (tc->tc_class == DSS_TIER_FILE && avail > total - used)
				avail = total - used;
			tu[n].tu_tier = i;
			tu[n].tu_scm = false;
			tu[n].tu_class = tc->tc_class == DSS_TIER_FILE ? "file" : "kdev";
			tu[n].tu_path = path;
			tu[n].tu_total = total;
			tu[n].tu_avail = avail;
			n++;
		}
	}
	*nr = n;
	return 0;
}
