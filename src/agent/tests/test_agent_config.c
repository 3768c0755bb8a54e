/*
 * test_agent_config.c: unit tests of daos_agent.yml parsing (agent_config.c): a full
 * DAOS-style file, defaults, access-point ports, DAOS_AGENT_DRPC_DIR, insecure mode, the
 * keys ignored with a warning, and files that must fail (unknown keys, bad values, bad
 * types, not YAML, too many access points, no file). Files are written to a fresh mkdtemp
 * directory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <daos/security.h>
#include <gurt/common.h>

#include "agent_internal.h"

static char t_dir[64];
static char t_file[128];

static int
load(const char *text, bool insecure, struct agent_config *cfg)
{
	FILE *f = fopen(t_file, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	memset(cfg, 0, sizeof(*cfg));
	return agent_config_load(t_file, insecure, cfg);
}

static int
setup(void **state)
{
	(void)state;
	strcpy(t_dir, "/tmp/test_agent_config.XXXXXX");
	if (mkdtemp(t_dir) == NULL)
		return -1;
	snprintf(t_file, sizeof(t_file), "%s/daos_agent.yml", t_dir);
	unsetenv(DC_AGENT_DIR_ENV);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(t_file);
	return rmdir(t_dir);
}

static void
test_full(void **state)
{
	struct agent_config cfg;

	(void)state;
	assert_int_equal(load("name: sys1\n"
			      "access_points: ['host1', 'host2:10002', '[::1]', '[::1]:7']\n"
			      "port: 10005\n"
			      "runtime_dir: /run/x\n"
			      "log_file: /tmp/a.log\n"
			      "control_log_mask: DEBUG\n"
			      "transport_config:\n"
			      "  allow_insecure: false\n"
			      "  ca_cert: /c/ca.crt\n"
			      "  cert: /c/node7.crt\n"
			      "  key: /c/node7.key\n"
			      "cache_expiration: 30\n"
			      "disable_caching: true\n"
			      "credential_lifetime: 120\n"
			      "access_point_timeout: 250\n"
			      "fabric_ifaces: []\n",
			      false, &cfg),
			 0);
	assert_string_equal(cfg.ac_name, "sys1");
	assert_int_equal(cfg.ac_nr_access_points, 4);
	assert_string_equal(cfg.ac_access_points[0], "host1:10005");
	assert_string_equal(cfg.ac_access_points[1], "host2:10002");
	assert_string_equal(cfg.ac_access_points[2], "[::1]:10005");
	assert_string_equal(cfg.ac_access_points[3], "[::1]:7");
	assert_int_equal(cfg.ac_port, 10005);
	assert_string_equal(cfg.ac_runtime_dir, "/run/x");
	assert_string_equal(cfg.ac_log_file, "/tmp/a.log");
	assert_string_equal(cfg.ac_log_mask, "DEBUG");
	assert_false(cfg.ac_allow_insecure);
	assert_string_equal(cfg.ac_ca_cert, "/c/ca.crt");
	assert_string_equal(cfg.ac_cert, "/c/node7.crt");
	assert_string_equal(cfg.ac_key, "/c/node7.key");
	assert_int_equal(cfg.ac_cache_exp, 30);
	assert_true(cfg.ac_disable_caching);
	assert_int_equal(cfg.ac_cred_life, 120);
	assert_int_equal(cfg.ac_ap_timeout, 250);
	agent_config_fini(&cfg);
}

static void
test_defaults(void **state)
{
	struct agent_config cfg;

	(void)state;
	assert_int_equal(load("", false, &cfg), 0);
	assert_string_equal(cfg.ac_name, "daos_server");
	assert_int_equal(cfg.ac_port, 10001);
	assert_int_equal(cfg.ac_nr_access_points, 1);
	assert_string_equal(cfg.ac_access_points[0], "localhost:10001");
	assert_string_equal(cfg.ac_runtime_dir, DC_AGENT_DIR_DEFAULT);
	assert_null(cfg.ac_log_file);
	assert_string_equal(cfg.ac_cert, "/etc/daos/certs/agent.crt");
	assert_string_equal(cfg.ac_key, "/etc/daos/certs/agent.key");
	assert_int_equal(cfg.ac_cred_life, SEC_CRED_LIFETIME_DEFAULT);
	assert_int_equal(cfg.ac_cache_exp, 0);
	agent_config_fini(&cfg);

	/* Insecure: no key is needed, none is defaulted. */
	assert_int_equal(load("access_points: host9\n", true, &cfg), 0);
	assert_true(cfg.ac_allow_insecure);
	assert_null(cfg.ac_key);
	assert_string_equal(cfg.ac_access_points[0], "host9:10001");
	agent_config_fini(&cfg);
	assert_int_equal(load("transport_config: {allow_insecure: true}\n", false, &cfg), 0);
	assert_true(cfg.ac_allow_insecure);
	assert_null(cfg.ac_key);
	agent_config_fini(&cfg);

	/* The environment wins over runtime_dir. */
	setenv(DC_AGENT_DIR_ENV, "/env/dir", 1);
	assert_int_equal(load("runtime_dir: /file/dir\n", false, &cfg), 0);
	assert_string_equal(cfg.ac_runtime_dir, "/env/dir");
	agent_config_fini(&cfg);
	unsetenv(DC_AGENT_DIR_ENV);
}

static void
test_errors(void **state)
{
	static const char *const bad[] = {
	    "bogus: 1\n",
	    "transport_config:\n  bogus: 1\n",
	    "transport_config: 7\n",
	    "port: 0\n",
	    "port: 65536\n",
	    "port: -1\n",
	    "port: ten\n",
	    "name: \"\"\n",
	    "name: [a, b]\n",
	    "disable_caching: maybe\n",
	    "access_points: {a: b}\n",
	    "access_points: [a, [b]]\n",
	    "credential_lifetime: 0\n",
	    "- a\n- b\n",
	    "name: [unclosed\n",
	    "name: \"a\\x01b\"\n",
	    "access_points: [a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, "
	    "a16, a17]\n",
	};
	struct agent_config cfg;
	size_t i;

	(void)state;
	for (i = 0; i < D_ARRAY_SIZE(bad); i++) {
		int rc = load(bad[i], false, &cfg);

		if (rc != -DER_INVAL)
			fail_msg("config %zu '%s' gave %d", i, bad[i], rc);
		agent_config_fini(&cfg);
	}
	memset(&cfg, 0, sizeof(cfg));
	assert_int_equal(agent_config_load("/nonexistent/daos_agent.yml", false, &cfg),
			 -DER_NONEXIST);
	agent_config_fini(&cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_full),
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests_name("agent_config", tests, setup, teardown);
}
