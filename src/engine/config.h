/*
 * config.h: the daos_server configuration (daos_server.yml), parsed and validated.
 *
 * Keys follow DAOS's daos_server.yml where the concept exists. A configuration is loaded
 * once at start, then read-only: every thread may read it without locks. Every size is in
 * bytes, every path absolute (relative paths in the file are resolved against the data
 * directory), every default filled in.
 *
 * Keys used (DAOS's meaning unless said):
 *   name port access_points (or DAOS 2.6's mgmt_svc_replicas) provider socket_dir
 *   control_log_file control_log_mask control_metadata:{path} transport_config:{
 *   allow_insecure client_cert_dir ca_cert cert key} fault_path telemetry_port crt_timeout
 *   core_dump_filter client_env_vars engines, and two of ours: data_dir (the directory
 *   relative paths live under) and auto_format (a boolean: format the storage at the first
 *   start instead of waiting for dmg storage format; default false, true for the embedded
 *   default configuration);
 *   engines[]: targets nr_xs_helpers first_core rank fabric_iface fabric_iface_port
 *   provider log_file log_mask env_vars storage;
 *   storage[]: class (ram, file, kdev) scm_mount scm_size bdev_list bdev_size bdev_roles.
 * Ignored with a warning (no meaning without SPDK, hugepages, PMem or NUMA placement):
 *   fault_cb nr_hugepages disable_hugepages allow_thp system_ram_reserved bdev_include
 *   bdev_exclude disable_vfio disable_vmd enable_vmd enable_hotplug hyperthreads
 *   allow_numa_imbalance helper_log_file firmware_helper_log_file crt_ctx_share_addr
 *   disable_srx fabric_auth_key telemetry_config support_config control_metadata:device;
 *   engines[]: pinned_numa_node bypass_health_chk accel_engine accel_opt_move accel_opt_crc
 *   acceleration spdk_rpc_server crt_ctx_share_addr crt_timeout;
 *   storage[]: scm_list scm_hugepages_disabled bdev_number bdev_busid_range, and bdev_size
 *   of class kdev.
 * Rejected with a hint: class dcpm and nvme, UCX providers, DAOS 1.x's servers: and
 * engine-level scm_* / bdev_* keys. Anything else is an unknown key.
 * Sizes: a bare number counts GiB (scm_size, bdev_size), or a number with a unit (4GiB,
 * 512MB; see dss_config_size_parse).
 * Environment overrides, applied after the file and the defaults (so that tests and several
 * servers on one host need no file), each a decimal port 1..65535, else the load fails with
 * an error naming the variable:
 *   DAOS_SERVER_PORT  port: (management); a loopback access point (127.x, localhost, ::1)
 *                     on the old port, such as the default one, moves with it;
 *   DAOS_FABRIC_PORT  engines[0].fabric_iface_port.
 */
#ifndef DSS_ENGINE_CONFIG_H
#define DSS_ENGINE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Limits enforced by validation. */
#define DSS_CFG_ENGINES_MAX 8          /* engines: entries */
#define DSS_CFG_TIERS_MAX 5            /* storage: tiers of an engine (one ram + four bdev tiers) */
#define DSS_CFG_TARGETS_MAX 64         /* targets: of an engine */
#define DSS_CFG_HELPERS_MAX 64         /* nr_xs_helpers: of an engine */
#define DSS_CFG_AP_MAX 7               /* access_points: entries (an odd number) */
#define DSS_CFG_BDEVS_MAX 64           /* bdev_list: entries of a tier */
#define DSS_CFG_ENV_MAX 128            /* env_vars: / client_env_vars: entries */
#define DSS_CFG_NAME_MAX 15            /* system name length (DAOS_SYS_NAME_MAX) */
#define DSS_CFG_SIZE_MIN (16ULL << 20) /* smallest scm_size / bdev_size */
#define DSS_CFG_SIZE_MAX (1ULL << 50)  /* largest scm_size / bdev_size (1 PiB) */

/* Defaults of the embedded single-node system. */
#define DSS_CFG_DEF_NAME "daos_server"
#define DSS_CFG_DEF_PORT 10001
#define DSS_CFG_DEF_AP_HOST "127.0.0.1"
#define DSS_CFG_DEF_PROVIDER "ofi+tcp;ofi_rxm"
#define DSS_CFG_DEF_TARGETS 4 /* capped by the number of online CPUs */
#define DSS_CFG_DEF_IFACE "lo"
#define DSS_CFG_DEF_IFACE_PORT 31416
#define DSS_CFG_DEF_LOG_MASK "ERR"
#define DSS_CFG_DEF_CRT_TIMEOUT 60
#define DSS_CFG_DEF_SCM_SIZE (1ULL << 30)         /* ram tier: 1 GiB of metadata memory */
#define DSS_CFG_DEF_BDEV_SIZE (4ULL << 30)        /* file tier: one 4 GiB file */
#define DSS_CFG_DEF_DATA_DIR_HOME ".daos-lite"    /* under $HOME */
#define DSS_CFG_DEF_DATA_DIR_TMP "/tmp/daos-lite" /* + "-<uid>" when $HOME is unset */
#define DSS_CFG_DEF_SOCKET_DIR "run"              /* under the data directory */
#define DSS_CFG_DEF_CTL_META_DIR "control_meta"   /* under the data directory */
#define DSS_CFG_DEF_CERT_DIR "/etc/daos/certs"

/** A list of strings. */
struct dss_strv {
	char **sv_v;
	uint32_t sv_nr;
};

/** Tier classes we run on (DAOS's dcpm and nvme are rejected: no Optane, no SPDK). */
enum dss_tier_class {
	DSS_TIER_RAM,  /* memory that holds metadata; scm_mount is a directory of ours */
	DSS_TIER_FILE, /* regular files (WAL, metadata checkpoints, data) */
	DSS_TIER_KDEV, /* kernel block devices, same roles */
};

/** Roles of a tier (DAOS's bdev_roles of MD-on-SSD). */
enum {
	DSS_ROLE_WAL = 1 << 0,  /* the write-ahead log */
	DSS_ROLE_META = 1 << 1, /* metadata checkpoints */
	DSS_ROLE_DATA = 1 << 2, /* bulk data */
	DSS_ROLE_ALL = DSS_ROLE_WAL | DSS_ROLE_META | DSS_ROLE_DATA,
};

/** One storage: tier of an engine. */
struct dss_tier_config {
	enum dss_tier_class tc_class;
	/* class ram */
	char *tc_scm_mount;   /* directory (absolute) */
	uint64_t tc_scm_size; /* bytes of metadata memory */
	/* class file / kdev */
	struct dss_strv tc_bdev_list; /* absolute paths */
	uint64_t tc_bdev_size;        /* bytes per file (class file; 0 for kdev) */
	/*
	 * Roles: a bdev tier has its bdev_roles, or DAOS's default assignment (one bdev tier:
	 * all; two: wal, then meta+data; more: wal, meta, then data). A ram tier with no bdev
	 * tier after it has all three: its files then live in scm_mount. Otherwise 0.
	 */
	uint32_t tc_roles;
	bool tc_roles_explicit;
	int tc_line; /* line of the tier in the file, 0 if defaulted */
};

/** One engines: entry. */
struct dss_engine_config {
	uint32_t ec_targets;
	uint32_t ec_nr_helpers;
	uint32_t ec_first_core;
	bool ec_first_core_set;
	uint32_t ec_rank;
	bool ec_rank_set;
	char *ec_fabric_iface; /* interface name or IP address */
	uint32_t ec_fabric_iface_port;
	char *ec_log_file;           /* absolute path, NULL: control_log_file, else stderr */
	char *ec_log_mask;           /* D_LOG_MASK syntax */
	struct dss_strv ec_env_vars; /* "NAME=value" */
	struct dss_tier_config ec_tiers[DSS_CFG_TIERS_MAX];
	uint32_t ec_tier_nr;
	int ec_line; /* line of the entry in the file, 0 if defaulted */
};

/** The whole configuration. Free with dss_config_free. */
struct dss_config {
	char *dc_file;    /* file it was read from (as given), NULL for the embedded default */
	char *dc_name;    /* system name */
	uint32_t dc_port; /* management (control plane) port */
	struct dss_strv dc_access_points; /* "host:port", IPv6 hosts in brackets */
	char *dc_provider;                /* DAOS form, e.g. "ofi+tcp;ofi_rxm" */
	char *dc_fi_provider;             /* libfabric form, e.g. "tcp;ofi_rxm" */
	char *dc_data_dir;                /* absolute; everything relative lives under it */
	char *dc_socket_dir;
	char *dc_control_log_file; /* NULL: stderr */
	int dc_control_log_level;  /* gurt level (enum d_log_level) */
	char *dc_control_metadata; /* control_metadata: path: (Raft log, system map) */
	bool dc_allow_insecure;
	char *dc_ca_cert;
	char *dc_cert;
	char *dc_key;
	char *dc_client_cert_dir;
	char *dc_fault_path;        /* NULL: "/<hostname>" decided at start */
	uint32_t dc_telemetry_port; /* 0: disabled */
	uint32_t dc_crt_timeout;    /* RPC timeout, seconds */
	uint32_t dc_core_dump_filter;
	bool dc_core_dump_filter_set;
	struct dss_strv dc_client_env_vars;
	bool dc_auto_format; /* format at the first start; else wait for dmg storage format */
	struct dss_engine_config *dc_engines;
	uint32_t dc_engine_nr;
	/* "file:line: key: message" for each key accepted but ignored, in file order */
	struct dss_strv dc_warnings;
};

/**
 * Read and validate the configuration in @path (borrowed; NULL: the embedded default, a
 * single-node system on loopback). @data_dir (borrowed, may be NULL) overrides the file's
 * data_dir: key; relative to the working directory. DAOS_SERVER_PORT and DAOS_FABRIC_PORT
 * are applied (see the top of this file). On success *@cfg is the caller's, freed
 * with dss_config_free; on failure @err (@errlen bytes, may be NULL) holds one line such as
 * "daos_server.yml:12: engines[0].targets: must be 1..64, got 0".
 * Returns 0, -DER_INVAL (bad configuration), -DER_NONEXIST (no such file), -DER_NOMEM, or
 * the error of reading the file.
 *
 * Context: any thread; blocking file I/O.
 */
int dss_config_load(const char *path, const char *data_dir, struct dss_config **cfg, char *err,
		    size_t errlen);

/**
 * As dss_config_load, from @len bytes at @buf (borrowed); @name is the file name used in
 * messages (borrowed, copied into dc_file).
 */
int dss_config_parse(const char *buf, size_t len, const char *name, const char *data_dir,
		     struct dss_config **cfg, char *err, size_t errlen);

/** Free @cfg and everything it holds (NULL is fine). Context: any thread. */
void dss_config_free(struct dss_config *cfg);

/**
 * Write @cfg as YAML that dss_config_parse reads back to the same configuration, or as JSON
 * with @json (sizes in bytes, the libfabric provider added). Returns 0 or -DER_IO.
 *
 * Context: any thread; blocking I/O on @fp.
 */
int dss_config_dump(const struct dss_config *cfg, FILE *fp, bool json);

/**
 * Parse a size: a number with an optional fraction and unit. No unit means @unit bytes
 * (scm_size and bdev_size count GiB, as in DAOS). Units, case-insensitive: B; K, KiB, M,
 * MiB, G, GiB, T, TiB, P, PiB (powers of 1024); KB, MB, GB, TB, PB (powers of 1000).
 * Returns 0 with the byte count in *@bytes, or -DER_INVAL (malformed, or not a whole
 * number of bytes) or -DER_OVERFLOW.
 *
 * Context: any thread.
 */
int dss_config_size_parse(const char *str, uint64_t unit, uint64_t *bytes);

/**
 * Map a provider name, DAOS form ("ofi+tcp;ofi_rxm") or libfabric form ("tcp;ofi_rxm"), to
 * both forms (borrowed static strings). Returns 0, or -DER_INVAL for a provider we do not
 * run on.
 *
 * Context: any thread.
 */
int dss_config_provider_map(const char *name, const char **daos, const char **fi);

#endif /* DSS_ENGINE_CONFIG_H */
