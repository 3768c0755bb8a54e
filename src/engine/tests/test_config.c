/*
 * test_config.c: daos_server.yml parsing (config.c): every key, the defaults, DAOS-style
 * files, errors that name the file, the line and the key, the dump read back, allocation
 * failures, and random mutations of good files (never a crash, always a located error).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <gurt/common.h>
#include <gurt/fault_inject.h>
#include <daos_errno.h>

#include "config.h"

#define GIB (1ULL << 30)
#define MIB (1ULL << 20)

static char err[1024];

static int
parse(const char *yaml, struct dss_config **cfg)
{
	return dss_config_parse(yaml, strlen(yaml), "test.yml", "/srv/daos", cfg, err, sizeof(err));
}

/* Parse @yaml, which must fail with a message containing @want. */
static void
expect_err_(const char *yaml, const char *want, int line)
{
	struct dss_config *cfg = NULL;
	int rc = parse(yaml, &cfg);

	if (rc == 0 || strstr(err, want) == NULL) {
		print_error("line %d: want error '%s', got rc %d '%s'\n", line, want, rc, err);
		dss_config_free(cfg);
		fail();
	}
	assert_int_equal(rc, -DER_INVAL);
	assert_null(cfg);
}

#define expect_err(yaml, want) expect_err_(yaml, want, __LINE__)

static struct dss_config *
parse_ok_(const char *yaml, int line)
{
	struct dss_config *cfg = NULL;
	int rc = parse(yaml, &cfg);

	if (rc != 0) {
		print_error("line %d: parse failed: rc %d '%s'\n", line, rc, err);
		fail();
	}
	return cfg;
}

#define parse_ok(yaml) parse_ok_(yaml, __LINE__)

static uint32_t
def_targets(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n >= 4 ? 4 : n < 1 ? 1 : (uint32_t)n;
}

/* The embedded default: a single-node system on loopback, everything under one directory. */
static void
check_default_system(struct dss_config *cfg, const char *data)
{
	struct dss_engine_config *ec;
	char buf[512];

	assert_null(cfg->dc_file);
	assert_string_equal(cfg->dc_name, "daos_server");
	assert_int_equal(cfg->dc_port, 10001);
	assert_int_equal(cfg->dc_access_points.sv_nr, 1);
	assert_string_equal(cfg->dc_access_points.sv_v[0], "127.0.0.1:10001");
	assert_string_equal(cfg->dc_provider, "ofi+tcp;ofi_rxm");
	assert_string_equal(cfg->dc_fi_provider, "tcp;ofi_rxm");
	assert_string_equal(cfg->dc_data_dir, data);
	snprintf(buf, sizeof(buf), "%s/run", data);
	assert_string_equal(cfg->dc_socket_dir, buf);
	snprintf(buf, sizeof(buf), "%s/control_meta", data);
	assert_string_equal(cfg->dc_control_metadata, buf);
	assert_null(cfg->dc_control_log_file);
	assert_int_equal(cfg->dc_control_log_level, D_LOG_INFO);
	assert_true(cfg->dc_allow_insecure);
	assert_true(cfg->dc_auto_format); /* the embedded system formats itself */
	assert_null(cfg->dc_ca_cert);
	assert_null(cfg->dc_fault_path);
	assert_int_equal(cfg->dc_telemetry_port, 0);
	assert_int_equal(cfg->dc_crt_timeout, 60);
	assert_false(cfg->dc_core_dump_filter_set);
	assert_int_equal(cfg->dc_client_env_vars.sv_nr, 0);
	assert_int_equal(cfg->dc_warnings.sv_nr, 0);
	assert_int_equal(cfg->dc_engine_nr, 1);
	ec = &cfg->dc_engines[0];
	assert_int_equal(ec->ec_targets, def_targets());
	assert_int_equal(ec->ec_nr_helpers, 0);
	assert_false(ec->ec_first_core_set);
	assert_false(ec->ec_rank_set);
	assert_string_equal(ec->ec_fabric_iface, "lo");
	assert_int_equal(ec->ec_fabric_iface_port, 31416);
	assert_null(ec->ec_log_file);
	assert_string_equal(ec->ec_log_mask, "ERR");
	assert_int_equal(ec->ec_env_vars.sv_nr, 0);
	assert_int_equal(ec->ec_tier_nr, 2);
	assert_int_equal(ec->ec_tiers[0].tc_class, DSS_TIER_RAM);
	snprintf(buf, sizeof(buf), "%s/engine0/scm", data);
	assert_string_equal(ec->ec_tiers[0].tc_scm_mount, buf);
	assert_int_equal(ec->ec_tiers[0].tc_scm_size, GIB);
	assert_int_equal(ec->ec_tiers[0].tc_roles, 0);
	assert_int_equal(ec->ec_tiers[1].tc_class, DSS_TIER_FILE);
	assert_int_equal(ec->ec_tiers[1].tc_bdev_list.sv_nr, 1);
	snprintf(buf, sizeof(buf), "%s/engine0/bdev0", data);
	assert_string_equal(ec->ec_tiers[1].tc_bdev_list.sv_v[0], buf);
	assert_int_equal(ec->ec_tiers[1].tc_bdev_size, 4 * GIB);
	assert_int_equal(ec->ec_tiers[1].tc_roles, DSS_ROLE_ALL);
}

static void
test_defaults(void **state)
{
	struct dss_config *cfg = NULL;
	char *home = getenv("HOME") != NULL ? strdup(getenv("HOME")) : NULL;
	char cwd[1024], buf[1100];

	(void)state;
	setenv("HOME", "/home/alice", 1);
	assert_int_equal(dss_config_load(NULL, NULL, &cfg, err, sizeof(err)), 0);
	check_default_system(cfg, "/home/alice/.daos-lite");
	dss_config_free(cfg);

	/* no HOME: /tmp/daos-lite-<uid> */
	unsetenv("HOME");
	assert_int_equal(dss_config_load(NULL, NULL, &cfg, err, sizeof(err)), 0);
	snprintf(buf, sizeof(buf), "/tmp/daos-lite-%u", (unsigned)getuid());
	check_default_system(cfg, buf);
	dss_config_free(cfg);

	/* an override, relative to the working directory, trailing slashes dropped */
	assert_int_equal(dss_config_load(NULL, "here/dd//", &cfg, err, sizeof(err)), 0);
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	snprintf(buf, sizeof(buf), "%s/here/dd", cwd);
	check_default_system(cfg, buf);
	dss_config_free(cfg);

	assert_int_equal(dss_config_load(NULL, "/", &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg->dc_data_dir, "/");
	assert_string_equal(cfg->dc_socket_dir, "/run");
	dss_config_free(cfg);

	if (home != NULL) {
		setenv("HOME", home, 1);
		free(home);
	}
}

static void
test_empty_files(void **state)
{
	static const char *const empties[] = {"", "# nothing\n", "---\n", "~\n", "---\n...\n"};
	struct dss_config *cfg;
	size_t i;

	(void)state;
	for (i = 0; i < D_ARRAY_SIZE(empties); i++) {
		cfg = parse_ok(empties[i]);
		assert_string_equal(cfg->dc_file, "test.yml");
		assert_string_equal(cfg->dc_data_dir, "/srv/daos");
		assert_int_equal(cfg->dc_engine_nr, 1);
		/* a file gets DAOS's secure default and its certificate paths */
		assert_false(cfg->dc_allow_insecure);
		/* and waits for dmg storage format, as DAOS */
		assert_false(cfg->dc_auto_format);
		assert_string_equal(cfg->dc_ca_cert, "/etc/daos/certs/daosCA.crt");
		assert_string_equal(cfg->dc_cert, "/etc/daos/certs/server.crt");
		assert_string_equal(cfg->dc_key, "/etc/daos/certs/server.key");
		assert_string_equal(cfg->dc_client_cert_dir, "/etc/daos/certs/clients");
		dss_config_free(cfg);
	}
}

/* Every key we use, none at its default. */
static const char all_keys[] =
    "name: daos_test\n" /* 1 */
    "port: 10100\n"     /* 2 */
    "access_points: ['node1', 'node2:10200', '[fe80::1]:7', 'fe80::2', '10.0.0.1']\n"
    "provider: ofi+verbs;ofi_rxm\n"                /* 4 */
    "data_dir: /data/daos\n"                       /* 5 */
    "socket_dir: sock\n"                           /* 6 */
    "control_log_file: /var/log/daos_server.log\n" /* 7 */
    "control_log_mask: DEBUG\n"                    /* 8 */
    "control_metadata:\n"                          /* 9 */
    "  path: /var/daos/config\n"                   /* 10 */
    "transport_config:\n"                          /* 11 */
    "  allow_insecure: false\n"                    /* 12 */
    "  client_cert_dir: certs/clients\n"           /* 13 */
    "  ca_cert: /certs/ca.crt\n"                   /* 14 */
    "  cert: /certs/s.crt\n"                       /* 15 */
    "  key: /certs/s.key\n"                        /* 16 */
    "fault_path: /rack1/node3\n"                   /* 17 */
    "telemetry_port: 9191\n"                       /* 18 */
    "crt_timeout: 30\n"                            /* 19 */
    "core_dump_filter: 0x13\n"                     /* 20 */
    "client_env_vars: [D_LOG_MASK=INFO, EMPTY=]\n" /* 21 */
    "engines:\n"                                   /* 22 */
    "  - targets: 8\n"                             /* 23 */
    "    nr_xs_helpers: 2\n"
    "    first_core: 1\n"
    "    rank: 7\n"
    "    fabric_iface: ib0\n"
    "    fabric_iface_port: 20000\n"
    "    provider: ofi+verbs;ofi_rxm\n"
    "    log_file: engine0.log\n"
    "    log_mask: INFO,vos=DEBUG\n"
    "    env_vars:\n"
    "      - CRT_TIMEOUT=30\n"
    "      - FI_LOG_LEVEL=warn\n"
    "    storage:\n"
    "      - class: ram\n"
    "        scm_mount: /mnt/daos0\n"
    "        scm_size: 512MiB\n"
    "      - class: file\n"
    "        bdev_list: [/var/daos/wal0]\n"
    "        bdev_size: 2\n"
    "        bdev_roles: [wal]\n"
    "      - class: kdev\n"
    "        bdev_list: [/dev/sdc, /dev/sdd]\n"
    "        bdev_roles: [meta, data]\n"
    "  - targets: 1\n"
    "    rank: 8\n"
    "    fabric_iface: 10.0.0.5\n"
    "    fabric_iface_port: 20009\n"
    "    storage:\n"
    "      - class: ram\n"
    "        scm_mount: rel/scm\n"
    "        scm_size: 1.5GiB\n"
    "      - class: file\n"
    "        bdev_list: [a, b]\n"
    "        bdev_size: 100MB\n";

static void
test_all_keys(void **state)
{
	struct dss_config *cfg = parse_ok(all_keys);
	struct dss_engine_config *ec;

	(void)state;
	assert_string_equal(cfg->dc_name, "daos_test");
	assert_int_equal(cfg->dc_port, 10100);
	assert_int_equal(cfg->dc_access_points.sv_nr, 5);
	assert_string_equal(cfg->dc_access_points.sv_v[0], "node1:10100");
	assert_string_equal(cfg->dc_access_points.sv_v[1], "node2:10200");
	assert_string_equal(cfg->dc_access_points.sv_v[2], "[fe80::1]:7");
	assert_string_equal(cfg->dc_access_points.sv_v[3], "[fe80::2]:10100");
	assert_string_equal(cfg->dc_access_points.sv_v[4], "10.0.0.1:10100");
	assert_string_equal(cfg->dc_provider, "ofi+verbs;ofi_rxm");
	assert_string_equal(cfg->dc_fi_provider, "verbs;ofi_rxm");
	/* the --data-dir override (here "/srv/daos") wins over data_dir: */
	assert_string_equal(cfg->dc_data_dir, "/srv/daos");
	assert_string_equal(cfg->dc_socket_dir, "/srv/daos/sock");
	assert_string_equal(cfg->dc_control_log_file, "/var/log/daos_server.log");
	assert_int_equal(cfg->dc_control_log_level, D_LOG_DEBUG);
	assert_string_equal(cfg->dc_control_metadata, "/var/daos/config");
	assert_false(cfg->dc_allow_insecure);
	assert_string_equal(cfg->dc_client_cert_dir, "/srv/daos/certs/clients");
	assert_string_equal(cfg->dc_ca_cert, "/certs/ca.crt");
	assert_string_equal(cfg->dc_cert, "/certs/s.crt");
	assert_string_equal(cfg->dc_key, "/certs/s.key");
	assert_string_equal(cfg->dc_fault_path, "/rack1/node3");
	assert_int_equal(cfg->dc_telemetry_port, 9191);
	assert_int_equal(cfg->dc_crt_timeout, 30);
	assert_true(cfg->dc_core_dump_filter_set);
	assert_int_equal(cfg->dc_core_dump_filter, 0x13);
	assert_int_equal(cfg->dc_client_env_vars.sv_nr, 2);
	assert_string_equal(cfg->dc_client_env_vars.sv_v[0], "D_LOG_MASK=INFO");
	assert_string_equal(cfg->dc_client_env_vars.sv_v[1], "EMPTY=");
	assert_int_equal(cfg->dc_warnings.sv_nr, 0);

	assert_int_equal(cfg->dc_engine_nr, 2);
	ec = &cfg->dc_engines[0];
	assert_int_equal(ec->ec_line, 23);
	assert_int_equal(ec->ec_targets, 8);
	assert_int_equal(ec->ec_nr_helpers, 2);
	assert_true(ec->ec_first_core_set);
	assert_int_equal(ec->ec_first_core, 1);
	assert_true(ec->ec_rank_set);
	assert_int_equal(ec->ec_rank, 7);
	assert_string_equal(ec->ec_fabric_iface, "ib0");
	assert_int_equal(ec->ec_fabric_iface_port, 20000);
	assert_string_equal(ec->ec_log_file, "/srv/daos/engine0.log");
	assert_string_equal(ec->ec_log_mask, "INFO,vos=DEBUG");
	assert_int_equal(ec->ec_env_vars.sv_nr, 2);
	assert_string_equal(ec->ec_env_vars.sv_v[1], "FI_LOG_LEVEL=warn");
	assert_int_equal(ec->ec_tier_nr, 3);
	assert_int_equal(ec->ec_tiers[0].tc_class, DSS_TIER_RAM);
	assert_string_equal(ec->ec_tiers[0].tc_scm_mount, "/mnt/daos0");
	assert_int_equal(ec->ec_tiers[0].tc_scm_size, 512 * MIB);
	assert_int_equal(ec->ec_tiers[0].tc_roles, 0);
	assert_int_equal(ec->ec_tiers[1].tc_class, DSS_TIER_FILE);
	assert_string_equal(ec->ec_tiers[1].tc_bdev_list.sv_v[0], "/var/daos/wal0");
	assert_int_equal(ec->ec_tiers[1].tc_bdev_size, 2 * GIB);
	assert_int_equal(ec->ec_tiers[1].tc_roles, DSS_ROLE_WAL);
	assert_true(ec->ec_tiers[1].tc_roles_explicit);
	assert_int_equal(ec->ec_tiers[2].tc_class, DSS_TIER_KDEV);
	assert_int_equal(ec->ec_tiers[2].tc_bdev_list.sv_nr, 2);
	assert_string_equal(ec->ec_tiers[2].tc_bdev_list.sv_v[1], "/dev/sdd");
	assert_int_equal(ec->ec_tiers[2].tc_bdev_size, 0);
	assert_int_equal(ec->ec_tiers[2].tc_roles, DSS_ROLE_META | DSS_ROLE_DATA);

	ec = &cfg->dc_engines[1];
	assert_int_equal(ec->ec_targets, 1);
	assert_int_equal(ec->ec_rank, 8);
	assert_string_equal(ec->ec_fabric_iface, "10.0.0.5");
	assert_int_equal(ec->ec_fabric_iface_port, 20009);
	assert_string_equal(ec->ec_log_mask, "ERR");
	assert_null(ec->ec_log_file);
	assert_false(ec->ec_first_core_set);
	assert_string_equal(ec->ec_tiers[0].tc_scm_mount, "/srv/daos/rel/scm");
	assert_int_equal(ec->ec_tiers[0].tc_scm_size, 3 * GIB / 2);
	assert_string_equal(ec->ec_tiers[1].tc_bdev_list.sv_v[0], "/srv/daos/a");
	assert_string_equal(ec->ec_tiers[1].tc_bdev_list.sv_v[1], "/srv/daos/b");
	assert_int_equal(ec->ec_tiers[1].tc_bdev_size, 100000000ULL);
	assert_int_equal(ec->ec_tiers[1].tc_roles, DSS_ROLE_ALL);
	dss_config_free(cfg);

	/* data_dir: from the file when nothing overrides it */
	assert_int_equal(
	    dss_config_parse(all_keys, strlen(all_keys), "t.yml", NULL, &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg->dc_data_dir, "/data/daos");
	assert_string_equal(cfg->dc_socket_dir, "/data/daos/sock");
	dss_config_free(cfg);
}

/*
 * Files as a DAOS administrator writes them (our own text): MD-on-SSD with explicit roles,
 * and a single-node file full of keys that mean nothing here, which must still start.
 */
static const char daos_mdonssd[] =
    "# MD-on-SSD: metadata in RAM, WAL and checkpoints on their own files\n"
    "name: daos_server\n"
    "access_points: ['storage-1', 'storage-2', 'storage-3']\n"
    "port: 10001\n"
    "provider: ofi+tcp\n"
    "control_log_mask: INFO\n"
    "control_log_file: /tmp/daos_server.log\n"
    "transport_config:\n"
    "  allow_insecure: true\n"
    "control_metadata:\n"
    "  path: /var/daos/config\n"
    "telemetry_port: 9191\n"
    "engines:\n"
    "  -\n"
    "    targets: 16\n"
    "    nr_xs_helpers: 4\n"
    "    fabric_iface: eth0\n"
    "    fabric_iface_port: 31316\n"
    "    log_file: /tmp/daos_engine.0.log\n"
    "    log_mask: ERR\n"
    "    env_vars:\n"
    "      - FI_OFI_RXM_USE_SRX=1\n"
    "    storage:\n"
    "      - class: ram\n"
    "        scm_mount: /mnt/daos0\n"
    "        scm_size: 64\n"
    "      - class: file\n"
    "        bdev_list: [/nvme0/wal.0]\n"
    "        bdev_size: 8\n"
    "        bdev_roles: [wal]\n"
    "      - class: file\n"
    "        bdev_list: [/nvme1/meta.0]\n"
    "        bdev_size: 16\n"
    "        bdev_roles: [meta]\n"
    "      - class: file\n"
    "        bdev_list: [/nvme2/data.0, /nvme3/data.1]\n"
    "        bdev_size: 800\n"
    "        bdev_roles: [data]\n"
    "  -\n"
    "    targets: 16\n"
    "    nr_xs_helpers: 4\n"
    "    fabric_iface: eth1\n"
    "    fabric_iface_port: 31416\n"
    "    log_file: /tmp/daos_engine.1.log\n"
    "    storage:\n"
    "      - class: ram\n"
    "        scm_mount: /mnt/daos1\n"
    "      - class: file\n"
    "        bdev_list: [/nvme4/wal.1]\n"
    "        bdev_size: 8\n"
    "      - class: file\n"
    "        bdev_list: [/nvme5/md.1]\n"
    "        bdev_size: 820\n";

static const char daos_local[] = "# For a single-server system\n"         /* 1 */
				 "name: daos_server\n"                    /* 2 */
				 "access_points: ['localhost']\n"         /* 3 */
				 "provider: ofi+tcp;ofi_rxm\n"            /* 4 */
				 "nr_hugepages: 4096\n"                   /* 5 */
				 "disable_hugepages: true\n"              /* 6 */
				 "system_ram_reserved: 5\n"               /* 7 */
				 "bdev_exclude: [\"0000:81:00.1\"]\n"     /* 8 */
				 "disable_vfio: false\n"                  /* 9 */
				 "helper_log_file: /tmp/daos_admin.log\n" /* 10 */
				 "socket_dir: /tmp/daos_sockets\n"        /* 11 */
				 "transport_config:\n"                    /* 12 */
				 "  allow_insecure: true\n"               /* 13 */
				 "engines:\n"                             /* 14 */
				 "  - pinned_numa_node: 0\n"              /* 15 */
				 "    targets: 2\n"                       /* 16 */
				 "    nr_xs_helpers: 0\n"                 /* 17 */
				 "    fabric_iface: lo\n"                 /* 18 */
				 "    fabric_iface_port: 31416\n"         /* 19 */
				 "    bypass_health_chk: true\n"          /* 20 */
				 "    storage:\n"                         /* 21 */
				 "      - class: ram\n"                   /* 22 */
				 "        scm_mount: /mnt/daos\n"         /* 23 */
				 "        scm_size: 8\n"                  /* 24 */
				 "        scm_hugepages_disabled: true\n" /* 25 */
				 "      - class: file\n"                  /* 26 */
				 "        bdev_size: 16\n"                /* 27 */
				 "        bdev_list: [/tmp/daos-bdev]\n"; /* 28 */

static void
test_daos_samples(void **state)
{
	struct dss_config *cfg;
	struct dss_engine_config *ec;

	(void)state;
	cfg = parse_ok(daos_mdonssd);
	assert_int_equal(cfg->dc_warnings.sv_nr, 0);
	assert_int_equal(cfg->dc_access_points.sv_nr, 3);
	assert_string_equal(cfg->dc_access_points.sv_v[2], "storage-3:10001");
	assert_string_equal(cfg->dc_fi_provider, "tcp");
	assert_true(cfg->dc_allow_insecure);
	assert_int_equal(cfg->dc_engine_nr, 2);
	ec = &cfg->dc_engines[0];
	assert_int_equal(ec->ec_tier_nr, 4);
	assert_int_equal(ec->ec_tiers[0].tc_scm_size, 64 * GIB);
	assert_int_equal(ec->ec_tiers[1].tc_roles, DSS_ROLE_WAL);
	assert_int_equal(ec->ec_tiers[2].tc_roles, DSS_ROLE_META);
	assert_int_equal(ec->ec_tiers[3].tc_roles, DSS_ROLE_DATA);
	assert_int_equal(ec->ec_tiers[3].tc_bdev_size, 800 * GIB);
	ec = &cfg->dc_engines[1];
	/* default scm_size; DAOS's default roles for two bdev tiers */
	assert_int_equal(ec->ec_tiers[0].tc_scm_size, GIB);
	assert_int_equal(ec->ec_tiers[1].tc_roles, DSS_ROLE_WAL);
	assert_int_equal(ec->ec_tiers[2].tc_roles, DSS_ROLE_META | DSS_ROLE_DATA);
	dss_config_free(cfg);

	cfg = parse_ok(daos_local);
	assert_string_equal(cfg->dc_access_points.sv_v[0], "localhost:10001");
	assert_string_equal(cfg->dc_socket_dir, "/tmp/daos_sockets");
	assert_int_equal(cfg->dc_engines[0].ec_targets, 2);
	assert_int_equal(cfg->dc_engines[0].ec_tiers[1].tc_bdev_size, 16 * GIB);
	/* ignored keys: each one warned about, with its line */
	assert_int_equal(cfg->dc_warnings.sv_nr, 9);
	assert_string_equal(cfg->dc_warnings.sv_v[0],
			    "test.yml:5: nr_hugepages: ignored: no hugepages are used");
	assert_non_null(strstr(cfg->dc_warnings.sv_v[3], "test.yml:8: bdev_exclude: ignored"));
	assert_non_null(
	    strstr(cfg->dc_warnings.sv_v[6], "test.yml:15: engines[0].pinned_numa_node: ignored"));
	assert_non_null(
	    strstr(cfg->dc_warnings.sv_v[8],
		   "test.yml:25: engines[0].storage[0].scm_hugepages_disabled: ignored"));
	dss_config_free(cfg);
}

static void
test_roles(void **state)
{
	struct dss_config *cfg;
	struct dss_engine_config *ec;

	(void)state;
	/* ram alone: it takes every role (files in scm_mount) */
	cfg = parse_ok("engines:\n"
		       "- targets: 1\n"
		       "  fabric_iface: lo\n"
		       "  fabric_iface_port: 20000\n"
		       "  storage:\n"
		       "  - {class: ram, scm_mount: /m}\n");
	ec = &cfg->dc_engines[0];
	assert_int_equal(ec->ec_tier_nr, 1);
	assert_int_equal(ec->ec_tiers[0].tc_roles, DSS_ROLE_ALL);
	dss_config_free(cfg);

	/* four bdev tiers, default roles: wal, meta, data, data */
	cfg = parse_ok("engines:\n"
		       "- targets: 1\n"
		       "  fabric_iface: lo\n"
		       "  fabric_iface_port: 20000\n"
		       "  storage:\n"
		       "  - {class: ram, scm_mount: /m}\n"
		       "  - {class: file, bdev_list: [/a], bdev_size: 1}\n"
		       "  - {class: file, bdev_list: [/b], bdev_size: 1}\n"
		       "  - {class: file, bdev_list: [/c], bdev_size: 1}\n"
		       "  - {class: kdev, bdev_list: [/dev/d]}\n");
	ec = &cfg->dc_engines[0];
	assert_int_equal(ec->ec_tier_nr, 5);
	assert_int_equal(ec->ec_tiers[0].tc_roles, 0);
	assert_int_equal(ec->ec_tiers[1].tc_roles, DSS_ROLE_WAL);
	assert_int_equal(ec->ec_tiers[2].tc_roles, DSS_ROLE_META);
	assert_int_equal(ec->ec_tiers[3].tc_roles, DSS_ROLE_DATA);
	assert_int_equal(ec->ec_tiers[4].tc_roles, DSS_ROLE_DATA);
	dss_config_free(cfg);

	/* explicit: data on two tiers, wal+meta on one */
	cfg = parse_ok("engines:\n"
		       "- targets: 1\n"
		       "  fabric_iface: lo\n"
		       "  fabric_iface_port: 20000\n"
		       "  storage:\n"
		       "  - {class: ram, scm_mount: /m}\n"
		       "  - {class: file, bdev_list: [/a], bdev_size: 1, bdev_roles: [data]}\n"
		       "  - {class: file, bdev_list: [/b], bdev_size: 1, bdev_roles: [meta, wal]}\n"
		       "  - {class: file, bdev_list: [/c], bdev_size: 1, bdev_roles: [data]}\n");
	ec = &cfg->dc_engines[0];
	assert_int_equal(ec->ec_tiers[1].tc_roles, DSS_ROLE_DATA);
	assert_int_equal(ec->ec_tiers[2].tc_roles, DSS_ROLE_META | DSS_ROLE_WAL);
	dss_config_free(cfg);

#define ENGINE_HEAD                                                                                \
	"engines:\n"                                                                               \
	"- targets: 1\n"                                                                           \
	"  fabric_iface: lo\n"                                                                     \
	"  fabric_iface_port: 20000\n"                                                             \
	"  storage:\n"                                                                             \
	"  - {class: ram, scm_mount: /m}\n"
	expect_err(ENGINE_HEAD
		   "  - {class: file, bdev_list: [/a], bdev_size: 1, bdev_roles: [wal]}\n"
		   "  - {class: file, bdev_list: [/b], bdev_size: 1}\n",
		   "test.yml:8: engines[0].storage[2]: bdev_roles must be given on every bdev "
		   "tier or on none");
	expect_err(ENGINE_HEAD
		   "  - {class: file, bdev_list: [/a], bdev_size: 1, bdev_roles: [wal, data]}\n"
		   "  - {class: file, bdev_list: [/b], bdev_size: 1, bdev_roles: [wal, meta]}\n",
		   "test.yml:8: engines[0].storage[2].bdev_roles: wal is already on storage[1]");
	expect_err(ENGINE_HEAD
		   "  - {class: file, bdev_list: [/a], bdev_size: 1, bdev_roles: [wal, meta]}\n",
		   "test.yml:5: engines[0].storage: no tier has the data role");
	expect_err(ENGINE_HEAD "  - {class: file, bdev_list: [/a], bdev_size: 1, bdev_roles: []}\n",
		   "test.yml:7: engines[0].storage[1].bdev_roles: must list at least one of wal");
	expect_err(ENGINE_HEAD
		   "  - {class: file, bdev_list: [/a], bdev_size: 1, bdev_roles: [wal, wal]}\n",
		   "engines[0].storage[1].bdev_roles[1]: role wal listed twice");
	expect_err(
	    ENGINE_HEAD "  - {class: file, bdev_list: [/a], bdev_size: 1, bdev_roles: [journal]}\n",
	    "engines[0].storage[1].bdev_roles[0]: expected wal, meta or data, got 'journal'");
#undef ENGINE_HEAD
}

static void
test_sizes(void **state)
{
	static const struct {
		const char *str;
		uint64_t bytes; /* 0: invalid */
	} cases[] = {
	    {"16", 16 * GIB},
	    {"0.5", GIB / 2},
	    {"4GiB", 4 * GIB},
	    {"4gib", 4 * GIB},
	    {"4G", 4 * GIB},
	    {"4 GiB", 4 * GIB},
	    {"512MiB", 512 * MIB},
	    {"512M", 512 * MIB},
	    {"512MB", 512000000ULL},
	    {"2KB", 2000},
	    {"2KiB", 2048},
	    {"3T", 3ULL << 40},
	    {"1PiB", 1ULL << 50},
	    {"1.25GiB", 5 * GIB / 4},
	    {"100B", 100},
	    {"0", 0},
	    {"1.5B", UINT64_MAX}, /* not whole bytes */
	    {"", UINT64_MAX},
	    {"GiB", UINT64_MAX},
	    {"-1", UINT64_MAX},
	    {"4XB", UINT64_MAX},
	    {"4 4", UINT64_MAX},
	    {"1.0000000001", UINT64_MAX},
	    {"99999999999999999999", UINT64_MAX - 1},
	    {"20000000000GiB", UINT64_MAX - 1},
	};
	uint64_t v;
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < D_ARRAY_SIZE(cases); i++) {
		rc = dss_config_size_parse(cases[i].str, GIB, &v);
		if (cases[i].bytes == UINT64_MAX)
			assert_int_equal(rc, -DER_INVAL);
		else if (cases[i].bytes == UINT64_MAX - 1)
			assert_int_equal(rc, -DER_OVERFLOW);
		else if (rc != 0 || v != cases[i].bytes)
			fail_msg("'%s': rc %d, %" PRIu64 " bytes, want %" PRIu64, cases[i].str, rc,
				 v, cases[i].bytes);
	}
	/* the unit of a bare number is the caller's */
	assert_int_equal(dss_config_size_parse("3", 1, &v), 0);
	assert_int_equal(v, 3);
}

static void
test_providers(void **state)
{
	static const char *const map[][2] = {
	    {"ofi+tcp;ofi_rxm", "tcp;ofi_rxm"},
	    {"ofi+tcp", "tcp"},
	    {"ofi+shm", "shm"},
	    {"ofi+verbs;ofi_rxm", "verbs;ofi_rxm"},
	    {"ofi+verbs", "verbs;ofi_rxm"},
	    {"tcp;ofi_rxm", "tcp;ofi_rxm"},
	    {"shm", "shm"},
	    {"ofi+cxi", "cxi"},
	};
	struct dss_config *cfg;
	const char *daos, *fi;
	char yaml[128];
	size_t i;

	(void)state;
	for (i = 0; i < D_ARRAY_SIZE(map); i++) {
		assert_int_equal(dss_config_provider_map(map[i][0], &daos, &fi), 0);
		assert_string_equal(fi, map[i][1]);
		assert_int_equal(strncmp(daos, "ofi+", 4), 0);
		snprintf(yaml, sizeof(yaml), "provider: %s\n", map[i][0]);
		cfg = parse_ok(yaml);
		assert_string_equal(cfg->dc_fi_provider, map[i][1]);
		assert_string_equal(cfg->dc_provider, daos);
		dss_config_free(cfg);
	}
	assert_int_equal(dss_config_provider_map("ofi+psm3", &daos, &fi), -DER_INVAL);
	assert_int_equal(dss_config_provider_map(NULL, &daos, &fi), -DER_INVAL);

	/* sockets runs, with a warning */
	cfg = parse_ok("provider: ofi+sockets\n");
	assert_int_equal(cfg->dc_warnings.sv_nr, 1);
	assert_non_null(strstr(cfg->dc_warnings.sv_v[0], "test.yml:1: provider: the sockets"));
	dss_config_free(cfg);

	/* an engine-level provider alone sets the system's; it must agree with the top one */
	cfg = parse_ok("engines:\n"
		       "- {targets: 1, fabric_iface: lo, fabric_iface_port: 2000, provider: "
		       "ofi+shm}\n");
	assert_string_equal(cfg->dc_fi_provider, "shm");
	assert_string_equal(cfg->dc_provider, "ofi+shm");
	dss_config_free(cfg);
	expect_err("provider: ofi+tcp\n"
		   "engines:\n"
		   "- targets: 1\n"
		   "  fabric_iface: lo\n"
		   "  fabric_iface_port: 2000\n"
		   "  provider: ofi+shm\n",
		   "test.yml:6: engines[0].provider: must match the top-level provider (ofi+tcp)");
}

/* Each bad file: the message names the file, the line, the key and the reason. */
static void
test_errors(void **state)
{
	(void)state;
	/* YAML syntax */
	expect_err("port: 1\nname: [a, b\n", "test.yml:3: YAML syntax error:");
	expect_err("port: 1\n  name: x\n", "test.yml:2: YAML syntax error: mapping values are not "
					   "allowed in this context");
	expect_err("a: *nowhere\n", "test.yml:1: YAML syntax error: found undefined alias");
	expect_err("port: 1\n\t- x\n", "test.yml:2: YAML syntax error");
	expect_err("port: 1\n---\nport: 2\n", "test.yml:2: only one YAML document is allowed");
	expect_err("name: ok\nfabric: \xff\xfe\n", "test.yml:2: not UTF-8 text");
	expect_err("- port\n", "test.yml:1: expected a mapping of keys, got a list");
	expect_err("just words\n", "test.yml:1: expected a mapping of keys, got a single value");

	/* unknown and duplicate keys */
	expect_err("name: x\ncolour: red\n", "test.yml:2: colour: unknown key");
	expect_err("port: 1\nPort: 2\n", "test.yml:2: Port: unknown key");
	expect_err("port: 10\nname: a\nport: 11\n",
		   "test.yml:3: port: duplicate key (first at line 1)");
	expect_err("port:\nport: 11\n", "test.yml:2: port: duplicate key (first at line 1)");
	expect_err("[a]: 1\n", "test.yml:1: expected a key name, got a list");
	expect_err("engines:\n- targets: 1\n  fabric_iface: lo\n  fabric_iface_port: 2000\n"
		   "  colour: blue\n",
		   "test.yml:5: engines[0].colour: unknown key");
	expect_err("servers:\n- targets: 1\n", "test.yml:1: servers: renamed engines: in DAOS 2.0");
	expect_err("engines:\n- targets: 1\n  scm_mount: /mnt\n",
		   "test.yml:3: engines[0].scm_mount: moved into the engine's storage: tiers");
	expect_err("transport_config:\n  allow_insecure: true\n  cert_dir: /x\n",
		   "test.yml:3: transport_config.cert_dir: unknown key");

	/* wrong types */
	expect_err("port: abc\n", "test.yml:1: port: expected a number, got 'abc'");
	expect_err("port: [1]\n", "test.yml:1: port: expected a number, got a list");
	expect_err("port: {a: 1}\n", "test.yml:1: port: expected a number, got a mapping");
	expect_err("port: 1.5\n", "port: expected a number, got '1.5'");
	expect_err("name: {a: b}\n", "test.yml:1: name: expected a name, got a mapping");
	expect_err("access_points: node1\n",
		   "test.yml:1: access_points: expected a list of hosts, got a single value");
	expect_err("access_points: [[a]]\n",
		   "test.yml:1: access_points[0]: expected a host, got a list");
	expect_err("engines: 3\n",
		   "test.yml:1: engines: expected a list of engines, got a single value");
	expect_err("engines:\n- 3\n", "test.yml:2: engines[0]: expected a mapping of keys, got a "
				      "single value");
	expect_err("transport_config: true\n",
		   "test.yml:1: transport_config: expected a mapping of keys, got a single value");
	{
		struct dss_config *af = parse_ok("auto_format: true\n");

		assert_true(af->dc_auto_format);
		dss_config_free(af);
	}
	expect_err("auto_format: sometimes\n",
		   "test.yml:1: auto_format: expected true or false, got 'sometimes'");
	expect_err("transport_config:\n  allow_insecure: maybe\n",
		   "test.yml:2: transport_config.allow_insecure: expected true or false, got "
		   "'maybe'");
	expect_err("client_env_vars: {A: 1}\n",
		   "test.yml:1: client_env_vars: expected a list of NAME=value entries, got a "
		   "mapping");
	expect_err("socket_dir: [a]\n", "test.yml:1: socket_dir: expected a path, got a list");
	expect_err("socket_dir: \"\"\n", "test.yml:1: socket_dir: must not be empty");
	expect_err("socket_dir: \"a\\tb\"\n", "socket_dir: contains control characters");
	expect_err("name: \"da\\0os\"\n", "test.yml:1: name: contains a NUL character");

	/* out of range */
	expect_err("port: 0\n", "test.yml:1: port: must be 1..65535, got 0");
	expect_err("port: 65536\n", "test.yml:1: port: must be 1..65535, got 65536");
	expect_err("port: -1\n", "test.yml:1: port: must be 1..65535, got -1");
	expect_err("port: 99999999999999999999999\n", "port: must be 1..65535, got 9999");
	expect_err("crt_timeout: 0\n", "test.yml:1: crt_timeout: must be 1..3600, got 0");
	expect_err("core_dump_filter: 0x200\n", "core_dump_filter: must be 0..511, got 0x200");
	expect_err("engines:\n- targets: 0\n  fabric_iface: lo\n  fabric_iface_port: 2000\n",
		   "test.yml:2: engines[0].targets: must be 1..64, got 0");
	expect_err("engines:\n- targets: 65\n", "test.yml:2: engines[0].targets: must be 1..64, "
						"got 65");
	expect_err("engines:\n- targets: 2\n  nr_xs_helpers: 3\n  fabric_iface: lo\n"
		   "  fabric_iface_port: 2000\n",
		   "test.yml:3: engines[0].nr_xs_helpers: must not exceed targets (2), got 3");
	expect_err("engines:\n- targets: 2\n  fabric_iface_port: 70000\n",
		   "test.yml:3: engines[0].fabric_iface_port: must be 1..65535, got 70000");
	expect_err("name: daos_server_too_long\n",
		   "test.yml:1: name: must be 1..15 characters, got 'daos_server_too_long'");
	expect_err("name: my/sys\n", "test.yml:1: name: may hold only letters, digits");
	expect_err("telemetry_port: 10001\n",
		   "test.yml:1: telemetry_port: must differ from port (10001)");

	/* missing required keys */
	expect_err("engines:\n- targets: 1\n  fabric_iface: lo\n",
		   "test.yml:2: engines[0]: missing required key fabric_iface_port");
	expect_err("engines:\n- fabric_iface: lo\n  fabric_iface_port: 2000\n",
		   "test.yml:2: engines[0]: missing required key targets");
	expect_err("engines:\n- targets: 1\n  fabric_iface: lo\n  fabric_iface_port: 2000\n"
		   "  storage:\n  - scm_mount: /m\n",
		   "test.yml:6: engines[0].storage[0]: missing required key class");
	expect_err("engines:\n- targets: 1\n  fabric_iface: lo\n  fabric_iface_port: 2000\n"
		   "  storage:\n  - class: ram\n    scm_size: 4\n",
		   "test.yml:6: engines[0].storage[0]: class ram needs scm_mount");
	expect_err("engines:\n- targets: 1\n  fabric_iface: lo\n  fabric_iface_port: 2000\n"
		   "  storage:\n  - {class: ram, scm_mount: /m}\n  - class: file\n"
		   "    bdev_list: [/f]\n",
		   "test.yml:7: engines[0].storage[1]: class file needs bdev_size");
	expect_err("engines:\n- targets: 1\n  fabric_iface: lo\n  fabric_iface_port: 2000\n"
		   "  storage:\n  - {class: ram, scm_mount: /m}\n  - {class: kdev}\n",
		   "test.yml:7: engines[0].storage[1]: class kdev needs bdev_list");
	expect_err("engines: []\n", "test.yml:1: engines: must list at least one engine");
	expect_err("engines:\n- targets: 1\n  fabric_iface: lo\n  fabric_iface_port: 2000\n"
		   "  storage: []\n",
		   "test.yml:5: engines[0].storage: must list at least one tier");

	/* storage classes and tiers */
	expect_err("engines:\n- targets: 1\n  fabric_iface: lo\n  fabric_iface_port: 2000\n"
		   "  storage:\n  - class: dcpm\n    scm_list: [/dev/pmem0]\n",
		   "test.yml:6: engines[0].storage[0].class: class dcpm (Optane persistent memory) "
		   "is not supported");
	expect_err("engines:\n- targets: 1\n  fabric_iface: lo\n  fabric_iface_port: 2000\n"
		   "  storage:\n  - {class: ram, scm_mount: /m}\n  - class: nvme\n",
		   "test.yml:7: engines[0].storage[1].class: class nvme (SPDK) is not supported");
	expect_err("engines:\n- targets: 1\n  fabric_iface: lo\n  fabric_iface_port: 2000\n"
		   "  storage:\n  - {class: tape, scm_mount: /m}\n",
		   "engines[0].storage[0].class: expected ram, file or kdev, got 'tape'");
	expect_err("engines:\n- targets: 1\n  fabric_iface: lo\n  fabric_iface_port: 2000\n"
		   "  storage:\n  - class: ram\n    scm_mount: /m\n    bdev_list: [/f]\n",
		   "test.yml:8: engines[0].storage[0].bdev_list: not valid for class ram");
	expect_err("engines:\n- targets: 1\n  fabric_iface: lo\n  fabric_iface_port: 2000\n"
		   "  storage:\n  - {class: ram, scm_mount: /m}\n  - class: file\n"
		   "    bdev_list: [/f]\n    bdev_size: 1\n    scm_size: 2\n",
		   "test.yml:10: engines[0].storage[1].scm_size: not valid for class file");
	expect_err("engines:\n- targets: 1\n  fabric_iface: lo\n  fabric_iface_port: 2000\n"
		   "  storage:\n  - {class: file, bdev_list: [/f], bdev_size: 1}\n",
		   "test.yml:6: engines[0].storage[0]: the first tier must be class ram");
	expect_err("engines:\n- targets: 1\n  fabric_iface: lo\n  fabric_iface_port: 2000\n"
		   "  storage:\n  - {class: ram, scm_mount: /m}\n  - {class: ram, scm_mount: /n}\n",
		   "test.yml:7: engines[0].storage[1]: only the first tier may be class ram");
	expect_err("engines:\n- targets: 1\n  fabric_iface: lo\n  fabric_iface_port: 2000\n"
		   "  storage:\n  - {class: ram, scm_mount: /m, scm_size: 1MiB}\n",
		   "test.yml:6: engines[0].storage[0].scm_size: must be 16MiB..1PiB, got 1MiB");
	expect_err("engines:\n- targets: 1\n  fabric_iface: lo\n  fabric_iface_port: 2000\n"
		   "  storage:\n  - {class: ram, scm_mount: /m, scm_size: 4XB}\n",
		   "engines[0].storage[0].scm_size: expected a size such as 16 (GiB), 4GiB or "
		   "512MiB, got '4XB'");
	expect_err("engines:\n- targets: 1\n  fabric_iface: lo\n  fabric_iface_port: 2000\n"
		   "  storage:\n  - {class: ram, scm_mount: /m}\n  - {class: file, bdev_list: [], "
		   "bdev_size: 1}\n",
		   "test.yml:7: engines[0].storage[1].bdev_list: must list at least one path");

	/* access points, provider, logging, environment, fault domain */
	expect_err("access_points: [a, b]\n",
		   "test.yml:1: access_points: must list an odd number of hosts");
	expect_err("access_points: []\n", "test.yml:1: access_points: must list at least one host");
	expect_err("access_points: [a, b, c, d, e, f, g, h]\n",
		   "test.yml:1: access_points: at most 7 hosts allowed");
	expect_err("access_points: ['a:0']\n",
		   "test.yml:1: access_points[0]: expected host, host:port or [IPv6]:port, got "
		   "'a:0'");
	expect_err("access_points: ['a b']\n", "access_points[0]: expected host, host:port");
	expect_err("access_points: ['[::1']\n", "access_points[0]: expected host, host:port");
	expect_err("access_points:\n- b\n- b:10001\n- c\n",
		   "test.yml:3: access_points[1]: b:10001 is listed twice");
	expect_err("port: 7\naccess_points:\n- a\n- a:7\n- c\n",
		   "test.yml:4: access_points[1]: a:7 is listed twice");
	expect_err("access_points: [a]\nmgmt_svc_replicas: [b]\n",
		   "test.yml:2: mgmt_svc_replicas: set access_points or mgmt_svc_replicas, not "
		   "both");
	expect_err("provider: ofi+psm2\n", "test.yml:1: provider: unknown provider 'ofi+psm2'");
	expect_err("provider: ucx+dc_x\n", "test.yml:1: provider: UCX is not supported");
	expect_err("control_log_mask: LOUD\n",
		   "test.yml:1: control_log_mask: expected DISABLED, TRACE, DEBUG, INFO, NOTICE or "
		   "ERROR, got 'LOUD'");
	expect_err("engines:\n- targets: 1\n  log_mask: ERR,vos=CHATTY\n",
		   "test.yml:3: engines[0].log_mask: expected LEVEL or LEVEL,facility=LEVEL");
	expect_err("engines:\n- targets: 1\n  log_mask: ERR,=DEBUG\n",
		   "test.yml:3: engines[0].log_mask: bad facility name in 'ERR,=DEBUG'");
	expect_err("engines:\n- targets: 1\n  env_vars:\n  - GOOD=1\n  - NOEQUALS\n",
		   "test.yml:5: engines[0].env_vars[1]: expected NAME=value, got 'NOEQUALS'");
	expect_err("client_env_vars: ['1X=2']\n",
		   "test.yml:1: client_env_vars[0]: expected NAME=value, got '1X=2'");
	expect_err("fault_path: rack1\n",
		   "test.yml:1: fault_path: expected a path such as /rack1/node3, got 'rack1'");
	expect_err("fault_path: /rack1/\n", "fault_path: expected a path such as /rack1/node3");

	/* across engines */
	expect_err("engines:\n- targets: 4\n  fabric_iface: lo\n  fabric_iface_port: 9999\n",
		   "test.yml:4: engines[0].fabric_iface_port: ports 9999..10003 (one per target, "
		   "one for the system xstream) include the management port 10001");
	expect_err("engines:\n- targets: 8\n  fabric_iface: lo\n  fabric_iface_port: 65530\n",
		   "test.yml:4: engines[0].fabric_iface_port: 65530 + 8 targets runs past port "
		   "65535");
	expect_err("telemetry_port: 20001\n"
		   "engines:\n- targets: 4\n  fabric_iface: lo\n  fabric_iface_port: 20000\n",
		   "test.yml:5: engines[0].fabric_iface_port: ports 20000..20004 include "
		   "telemetry_port 20001");
	expect_err("engines:\n"
		   "- {targets: 4, fabric_iface: lo, fabric_iface_port: 20000}\n"
		   "- {targets: 4, fabric_iface: lo, fabric_iface_port: 20004,\n"
		   "   storage: [{class: ram, scm_mount: /x}]}\n",
		   "test.yml:3: engines[1].fabric_iface_port: ports 20004..20008 overlap "
		   "engines[0]'s 20000..20004");
	expect_err("engines:\n"
		   "- {targets: 4, fabric_iface: lo, fabric_iface_port: 20000, rank: 1}\n"
		   "- {targets: 4, fabric_iface: lo, fabric_iface_port: 20010, rank: 1}\n",
		   "test.yml:3: engines[1].rank: rank 1 is also engines[0]'s");
	/* two engines with the default storage would share engine0/... no: engine<i>/ */
	expect_err("engines:\n"
		   "- {targets: 1, fabric_iface: lo, fabric_iface_port: 20000,\n"
		   "   storage: [{class: ram, scm_mount: /m}]}\n"
		   "- {targets: 1, fabric_iface: lo, fabric_iface_port: 20010,\n"
		   "   storage: [{class: ram, scm_mount: /m/}]}\n",
		   "test.yml:5: engines[1].storage[0].scm_mount: /m is also "
		   "engines[0].storage[0].scm_mount");
	expect_err("engines:\n"
		   "- targets: 1\n  fabric_iface: lo\n  fabric_iface_port: 20000\n"
		   "  storage:\n  - {class: ram, scm_mount: /m}\n"
		   "  - {class: file, bdev_list: [f1, /srv/daos/f1], bdev_size: 1}\n",
		   "test.yml:7: engines[0].storage[1].bdev_list[1]: /srv/daos/f1 is also "
		   "engines[0].storage[1].bdev_list[0]");
	expect_err(
	    "engines:\n"
	    "- targets: 1\n  fabric_iface: lo\n  fabric_iface_port: 20000\n"
	    "  storage:\n  - {class: ram, scm_mount: /m}\n"
	    "  - {class: file, bdev_list: [/m], bdev_size: 1}\n",
	    "engines[0].storage[1].bdev_list[0]: /m is also engines[0].storage[0].scm_mount");
	expect_err("engines:\n- {targets: 1, fabric_iface: lo, fabric_iface_port: 2000}\n"
		   "- {targets: 1, fabric_iface: lo, fabric_iface_port: 3000}\n"
		   "- {targets: 1, fabric_iface: lo, fabric_iface_port: 4000}\n"
		   "- {targets: 1, fabric_iface: lo, fabric_iface_port: 5000}\n"
		   "- {targets: 1, fabric_iface: lo, fabric_iface_port: 6000}\n"
		   "- {targets: 1, fabric_iface: lo, fabric_iface_port: 7000}\n"
		   "- {targets: 1, fabric_iface: lo, fabric_iface_port: 8000}\n"
		   "- {targets: 1, fabric_iface: lo, fabric_iface_port: 9000}\n"
		   "- {targets: 1, fabric_iface: lo, fabric_iface_port: 12000}\n",
		   "test.yml:10: engines: at most 8 engines allowed");
}

/* A warning for kdev's ignored bdev_size, and engines with default storage side by side. */
static void
test_warnings_and_multi(void **state)
{
	struct dss_config *cfg;

	(void)state;
	cfg = parse_ok("engines:\n"
		       "- targets: 1\n  fabric_iface: lo\n  fabric_iface_port: 20000\n"
		       "  storage:\n  - {class: ram, scm_mount: /m}\n"
		       "  - {class: kdev, bdev_list: [/dev/sdz], bdev_size: 10}\n"
		       "- {targets: 2, fabric_iface: lo, fabric_iface_port: 20010}\n"
		       "- {targets: 2, fabric_iface: lo, fabric_iface_port: 20020}\n");
	assert_int_equal(cfg->dc_warnings.sv_nr, 1);
	assert_string_equal(cfg->dc_warnings.sv_v[0],
			    "test.yml:7: engines[0].storage[1].bdev_size: ignored for class kdev: "
			    "the whole device is used");
	assert_int_equal(cfg->dc_engines[0].ec_tiers[1].tc_bdev_size, 0);
	assert_int_equal(cfg->dc_engine_nr, 3);
	assert_string_equal(cfg->dc_engines[1].ec_tiers[0].tc_scm_mount, "/srv/daos/engine1/scm");
	assert_string_equal(cfg->dc_engines[2].ec_tiers[1].tc_bdev_list.sv_v[0],
			    "/srv/daos/engine2/bdev0");
	dss_config_free(cfg);

	/* null values keep their defaults; aliases work; a cyclic alias is harmless */
	cfg = parse_ok("port: ~\nname:\nsocket_dir: null\n"
		       "engines:\n- &e {targets: 1, fabric_iface: lo, fabric_iface_port: 20000,\n"
		       "        storage: [{class: ram, scm_mount: &m /m}]}\n"
		       "client_env_vars: &c [A=1]\n");
	assert_int_equal(cfg->dc_port, 10001);
	assert_string_equal(cfg->dc_name, "daos_server");
	assert_string_equal(cfg->dc_socket_dir, "/srv/daos/run");
	dss_config_free(cfg);
	/* the alias is the anchored node: its line is the anchor's */
	expect_err("engines: &a\n- *a\n", "test.yml:1: engines[0]: expected a mapping of keys, "
					  "got a list");
	expect_err("engines:\n- &e {targets: 1, fabric_iface: lo, fabric_iface_port: 20000,\n"
		   "   storage: [{class: ram, scm_mount: /m}]}\n- *e\n",
		   "engines[1].fabric_iface_port: ports 20000..20001 overlap");
}

/* Dump, parse the dump, dump again: the same text; and the JSON form. */
static void
check_roundtrip(const char *yaml)
{
	struct dss_config *cfg = parse_ok(yaml), *cfg2;
	char *out1 = NULL, *out2 = NULL;
	size_t len1 = 0, len2 = 0;
	FILE *fp;

	fp = open_memstream(&out1, &len1);
	assert_non_null(fp);
	assert_int_equal(dss_config_dump(cfg, fp, false), 0);
	fclose(fp);
	assert_int_equal(dss_config_parse(out1, len1, "dump.yml", NULL, &cfg2, err, sizeof(err)),
			 0);
	assert_int_equal(cfg2->dc_warnings.sv_nr, 0);
	fp = open_memstream(&out2, &len2);
	assert_non_null(fp);
	assert_int_equal(dss_config_dump(cfg2, fp, false), 0);
	fclose(fp);
	if (strcmp(out1, out2) != 0) {
		print_error("first dump:\n%s\nsecond dump:\n%s\n", out1, out2);
		fail();
	}
	free(out2);
	dss_config_free(cfg2);

	/* JSON: sizes in bytes, the libfabric provider, balanced brackets */
	free(out1);
	fp = open_memstream(&out1, &len1);
	assert_non_null(fp);
	assert_int_equal(dss_config_dump(cfg, fp, true), 0);
	fclose(fp);
	assert_non_null(strstr(out1, "\"fabric_provider\": "));
	assert_non_null(strstr(out1, "\"scm_size\": "));
	assert_null(strstr(out1, "GiB"));
	{
		int depth = 0;
		bool in_str = false;
		const char *c;

		for (c = out1; *c != '\0'; c++) {
			if (in_str) {
				if (*c == '\\')
					c++;
				else if (*c == '"')
					in_str = false;
				continue;
			}
			if (*c == '"')
				in_str = true;
			else if (*c == '{' || *c == '[')
				depth++;
			else if (*c == '}' || *c == ']')
				depth--;
			assert_true(depth >= 0);
		}
		assert_int_equal(depth, 0);
		assert_false(in_str);
	}
	free(out1);
	dss_config_free(cfg);
}

static void
test_dump(void **state)
{
	struct dss_config *cfg;
	char *out = NULL;
	size_t len = 0;
	FILE *fp;

	(void)state;
	check_roundtrip("");
	check_roundtrip(all_keys);
	check_roundtrip(daos_mdonssd);
	check_roundtrip(
	    "name: '123'\nfault_path: /a/b\ncontrol_log_mask: disabled\n"
	    "engines:\n- {targets: 1, fabric_iface: 'null', fabric_iface_port: 2000,\n"
	    "   env_vars: ['X=a: b', 'Y=#c'],\n"
	    "   storage: [{class: ram, scm_mount: '/m #1', scm_size: 12345678901B}]}\n");

	/* what a reader sees */
	cfg = parse_ok("");
	fp = open_memstream(&out, &len);
	assert_int_equal(dss_config_dump(cfg, fp, false), 0);
	fclose(fp);
	assert_non_null(strstr(out, "name: daos_server\n"));
	assert_non_null(strstr(out, "port: 10001\n"));
	assert_non_null(strstr(out, "provider: ofi+tcp;ofi_rxm\n"));
	assert_non_null(strstr(out, "data_dir: /srv/daos\n"));
	assert_non_null(strstr(out, "scm_size: 1GiB\n"));
	assert_non_null(strstr(out, "bdev_size: 4GiB\n"));
	assert_non_null(strstr(out, "bdev_roles: [wal, meta, data]\n"));
	free(out);
	dss_config_free(cfg);
}

static void
test_load_file(void **state)
{
	char path[] = "/tmp/test_config_XXXXXX";
	struct dss_config *cfg = NULL;
	FILE *fp;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	fp = fdopen(fd, "w");
	fputs("port: 10002\nengines:\n- targets: 0\n", fp);
	fclose(fp);
	assert_int_equal(dss_config_load(path, "/d", &cfg, err, sizeof(err)), -DER_INVAL);
	assert_int_equal(strncmp(err, path, strlen(path)), 0);
	assert_non_null(strstr(err, ":3: engines[0].targets: must be 1..64, got 0"));

	fp = fopen(path, "w");
	fputs("port: 10002\n", fp);
	fclose(fp);
	assert_int_equal(dss_config_load(path, "/d", &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg->dc_file, path);
	assert_int_equal(cfg->dc_port, 10002);
	assert_string_equal(cfg->dc_access_points.sv_v[0], "127.0.0.1:10002");
	dss_config_free(cfg);
	unlink(path);

	assert_int_equal(dss_config_load(path, "/d", &cfg, err, sizeof(err)), -DER_NONEXIST);
	assert_non_null(strstr(err, "cannot open"));
	assert_int_equal(dss_config_load("/tmp", "/d", &cfg, err, sizeof(err)), -DER_INVAL);
	assert_non_null(strstr(err, "not a regular file"));
	/* no error buffer is fine */
	assert_int_equal(dss_config_parse("port: x\n", 8, NULL, NULL, &cfg, NULL, 0), -DER_INVAL);
}

/* DAOS_SERVER_PORT and DAOS_FABRIC_PORT win over the file and the defaults, or fail named. */
static void
test_env_ports(void **state)
{
	struct dss_config *cfg;

	(void)state;
	setenv("DAOS_SERVER_PORT", "12345", 1);
	setenv("DAOS_FABRIC_PORT", "23456", 1);
	cfg = parse_ok("name: x\n");
	assert_int_equal(cfg->dc_port, 12345);
	assert_int_equal(cfg->dc_access_points.sv_nr, 1);
	assert_string_equal(cfg->dc_access_points.sv_v[0], "127.0.0.1:12345");
	assert_int_equal(cfg->dc_engines[0].ec_fabric_iface_port, 23456);
	dss_config_free(cfg);
	/* a loopback access point on the file's port follows; another host's does not */
	cfg = parse_ok("port: 10005\naccess_points: ['localhost:10005', 'h1:10005', 'h2']\n"
		       "engines:\n- targets: 1\n  fabric_iface: lo\n  fabric_iface_port: 31500\n");
	assert_int_equal(cfg->dc_port, 12345);
	assert_string_equal(cfg->dc_access_points.sv_v[0], "localhost:12345");
	assert_string_equal(cfg->dc_access_points.sv_v[1], "h1:10005");
	assert_string_equal(cfg->dc_access_points.sv_v[2], "h2:10005");
	assert_int_equal(cfg->dc_engines[0].ec_fabric_iface_port, 23456);
	dss_config_free(cfg);

	setenv("DAOS_SERVER_PORT", "12x", 1);
	expect_err("name: x\n", "environment variable DAOS_SERVER_PORT: expected a port number, "
				"got '12x'");
	setenv("DAOS_SERVER_PORT", "", 1);
	expect_err("name: x\n", "DAOS_SERVER_PORT: expected a port number");
	setenv("DAOS_SERVER_PORT", "-1", 1);
	expect_err("name: x\n", "DAOS_SERVER_PORT: expected a port number");
	setenv("DAOS_SERVER_PORT", "65536", 1);
	expect_err("name: x\n", "DAOS_SERVER_PORT: must be 1..65535, got 65536");
	setenv("DAOS_SERVER_PORT", "0", 1);
	expect_err("name: x\n", "DAOS_SERVER_PORT: must be 1..65535, got 0");
	setenv("DAOS_SERVER_PORT", "99999999999999999999999", 1);
	expect_err("name: x\n", "DAOS_SERVER_PORT: must be 1..65535");
	setenv("DAOS_SERVER_PORT", "12345", 1);
	setenv("DAOS_FABRIC_PORT", "0x100", 1);
	expect_err("name: x\n", "environment variable DAOS_FABRIC_PORT: expected a port number");
	setenv("DAOS_FABRIC_PORT", "70000", 1);
	expect_err("name: x\n", "DAOS_FABRIC_PORT: must be 1..65535, got 70000");
	setenv("DAOS_FABRIC_PORT", "65535", 1);
	expect_err("name: x\n", "DAOS_FABRIC_PORT: ports 65535..");
	setenv("DAOS_FABRIC_PORT", "12344", 1);
	expect_err("name: x\n", "DAOS_FABRIC_PORT: ports 12344..");
	unsetenv("DAOS_SERVER_PORT");
	unsetenv("DAOS_FABRIC_PORT");
	cfg = parse_ok("name: x\n");
	assert_int_equal(cfg->dc_port, DSS_CFG_DEF_PORT);
	assert_int_equal(cfg->dc_engines[0].ec_fabric_iface_port, DSS_CFG_DEF_IFACE_PORT);
	dss_config_free(cfg);
}

/* Fail the Nth allocation for every N: a clean -DER_NOMEM, never a crash or a leak. */
static void
test_alloc_failures(void **state)
{
	struct d_fault_attr attr = {.fa_id = D_FI_ALLOC, .fa_max_faults = 1};
	struct dss_config *cfg;
	uint32_t n;
	int rc, nomem = 0;

	(void)state;
	for (n = 1; n < 10000; n++) {
		cfg = NULL;
		attr.fa_interval = n;
		assert_int_equal(d_fault_attr_set(&attr), 0);
		rc = parse(all_keys, &cfg);
		d_fault_attr_clear(D_FI_ALLOC);
		if (rc == 0) {
			dss_config_free(cfg);
			break;
		}
		assert_int_equal(rc, -DER_NOMEM);
		assert_null(cfg);
		if (strstr(err, "out of memory") == NULL)
			fail_msg("allocation %u: '%s'", n, err);
		nomem++;
	}
	print_message("%d allocations failed one at a time\n", nomem);
	assert_true(nomem > 50);
	assert_true(n < 10000);
}

/* Random mutations of good files: never a crash; an error always names the file. */
static void
test_fuzz(void **state)
{
	static const char *const seeds[] = {all_keys, daos_mdonssd, daos_local};
	static const char specials[] = ":-[]{},#&*!|>'\"%@`\n \t?~0123456789";
	const char *env = getenv("D_FUZZ_ITERS");
	unsigned seed = (unsigned)time(NULL), iters = env != NULL ? (unsigned)atoi(env) : 4000;
	char buf[4096];
	unsigned i, ok = 0, bad = 0;

	(void)state;
	if (getenv("D_FUZZ_SEED") != NULL)
		seed = (unsigned)atoi(getenv("D_FUZZ_SEED"));
	print_message("fuzz seed %u (D_FUZZ_SEED), %u iterations\n", seed, iters);
	srandom(seed);
	for (i = 0; i < iters; i++) {
		const char *src = seeds[random() % D_ARRAY_SIZE(seeds)];
		size_t len = strlen(src), m, nmut = 1 + (size_t)(random() % 4);
		struct dss_config *cfg = NULL;
		int rc;

		memcpy(buf, src, len);
		for (m = 0; m < nmut && len > 2; m++) {
			size_t pos = (size_t)random() % len, n;

			switch (random() % 6) {
			case 0: /* replace a byte with anything */
				buf[pos] = (char)(random() & 0xff);
				break;
			case 1: /* replace a byte with a YAML-significant one */
				buf[pos] = specials[random() % (sizeof(specials) - 1)];
				break;
			case 2: /* insert one */
				if (len + 1 >= sizeof(buf))
					break;
				memmove(buf + pos + 1, buf + pos, len - pos);
				buf[pos] = specials[random() % (sizeof(specials) - 1)];
				len++;
				break;
			case 3: /* delete a run */
				n = 1 + (size_t)random() % 16;
				if (pos + n > len)
					n = len - pos;
				memmove(buf + pos, buf + pos + n, len - pos - n);
				len -= n;
				break;
			case 4: /* duplicate a run */
				n = 1 + (size_t)random() % 64;
				if (pos + n > len)
					n = len - pos;
				if (len + n >= sizeof(buf))
					break;
				memmove(buf + pos + n, buf + pos, len - pos);
				len += n;
				break;
			default: /* truncate */
				len = pos;
				break;
			}
		}
		rc = dss_config_parse(buf, len, "fuzz.yml", "/f", &cfg, err, sizeof(err));
		if (rc == 0) {
			FILE *fp = fopen("/dev/null", "w");

			assert_int_equal(dss_config_dump(cfg, fp, i % 2 == 0), 0);
			fclose(fp);
			dss_config_free(cfg);
			ok++;
		} else {
			assert_int_equal(rc, -DER_INVAL);
			assert_null(cfg);
			if (strncmp(err, "fuzz.yml:", 9) != 0)
				fail_msg("seed %u iteration %u: error '%s'", seed, i, err);
			bad++;
		}
	}
	print_message("%u parsed, %u rejected\n", ok, bad);
	assert_true(ok > 0 && bad > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_empty_files),
	    cmocka_unit_test(test_all_keys),
	    cmocka_unit_test(test_daos_samples),
	    cmocka_unit_test(test_roles),
	    cmocka_unit_test(test_sizes),
	    cmocka_unit_test(test_providers),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_warnings_and_multi),
	    cmocka_unit_test(test_dump),
	    cmocka_unit_test(test_load_file),
	    cmocka_unit_test(test_env_ports),
	    cmocka_unit_test(test_alloc_failures),
	    cmocka_unit_test(test_fuzz),
	};

	/* the defaults checked here are the file's, not the caller's environment's */
	unsetenv("DAOS_SERVER_PORT");
	unsetenv("DAOS_FABRIC_PORT");

	return cmocka_run_group_tests_name("engine_config", tests, NULL, NULL);
}
