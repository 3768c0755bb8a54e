/*
 * test_dmg.c: dmg's command line and output, without daos_server.
 *
 * Parsers (sizes, rank sets, host lists, daos_control.yml), then every command's flags, good
 * and bad, checked on the request message each command builds. Then whole runs of
 * dmg_main() against real control threads (dss_ctl on 127.0.0.1, real TCP) whose handlers
 * answer with fixed replies: the JSON printed is parsed back and its field names checked
 * against DAOS's; errors (a method the server does not serve, a server that is down, a
 * status in the reply) give their DER_* names and exit status 1; a non-leader's hint is
 * followed to the leader.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cmocka.h>

#include <gurt/common.h>
#include <daos_pool.h>
#include <daos_prop.h>
#include <daos_srv/ctl.h>

#include <d_test.h>

#include "dmg_internal.h"
#include "dmg_test_json.h"
#include "mgmt/acl.pb-c.h"
#include "mgmt/pool.pb-c.h"
#include "mgmt/storage.pb-c.h"
#include "mgmt/svc.pb-c.h"
#include "mgmt/system.pb-c.h"

static char tmpdir[] = "/tmp/test_dmg.XXXXXX";

/*
 * Value parsers
 */

static void
test_size(void **state)
{
	static const struct {
		const char *s;
		uint64_t bytes;
	} good[] = {
	    {"0", 0},
	    {"100", 100},
	    {"1k", 1000},
	    {"10G", 10000000000ULL},
	    {"10g", 10000000000ULL},
	    {"10GB", 10000000000ULL},
	    {"10GiB", 10ULL << 30},
	    {"10gi", 10ULL << 30},
	    {"512MiB", 512ULL << 20},
	    {"1T", 1000000000000ULL},
	    {"1.5T", 1500000000000ULL},
	    {"2 TiB", 2ULL << 40},
	    {" 4K ", 4000},
	    {"16EiB", 0}, /* overflows: checked below */
	};
	static const char *const bad[] = {
	    "",    " ",    "G",   "abc",  "-1G",
	    "10X", "10GG", "1.5", "1e30", "18446744073709551616",
	    "50%", "nan",  "inf", "0x10",
	};
	struct dmg_size sz;
	size_t i;

	(void)state;
	for (i = 0; i < D_ARRAY_SIZE(good) - 1; i++) {
		assert_int_equal(dmg_size_parse(good[i].s, false, &sz), 0);
		assert_true(sz.ds_set);
		assert_false(sz.ds_pct);
		assert_true(sz.ds_bytes == good[i].bytes);
	}
	assert_int_equal(dmg_size_parse("16EiB", false, &sz), -DER_INVAL);
	assert_int_equal(dmg_size_parse("15EiB", false, &sz), 0);
	assert_true(sz.ds_bytes == 15ULL << 60);
	for (i = 0; i < D_ARRAY_SIZE(bad); i++) {
		assert_int_equal(dmg_size_parse(bad[i], false, &sz), -DER_INVAL);
		assert_false(sz.ds_set);
	}
	/* percentages */
	assert_int_equal(dmg_size_parse("50%", true, &sz), 0);
	assert_true(sz.ds_pct);
	assert_int_equal(sz.ds_ratio, 50);
	assert_int_equal(dmg_size_parse("100%", true, &sz), 0);
	assert_int_equal(sz.ds_ratio, 100);
	assert_int_equal(dmg_size_parse("1 %", true, &sz), 0);
	assert_int_equal(sz.ds_ratio, 1);
	assert_int_equal(dmg_size_parse("0%", true, &sz), -DER_INVAL);
	assert_int_equal(dmg_size_parse("101%", true, &sz), -DER_INVAL);
	assert_int_equal(dmg_size_parse("5.5%", true, &sz), -DER_INVAL);
	assert_int_equal(dmg_size_parse("%", true, &sz), -DER_INVAL);
	assert_int_equal(dmg_size_parse("-5%", true, &sz), -DER_INVAL);
}

static void
check_ranks(const char *s, const uint32_t *want, uint32_t n)
{
	struct dmg_ranks rl;

	assert_int_equal(dmg_ranks_parse(s, 1000, &rl), 0);
	assert_int_equal(rl.dr_nr, n);
	if (n > 0)
		assert_memory_equal(rl.dr_ranks, want, n * sizeof(uint32_t));
	dmg_ranks_free(&rl);
}

static void
test_ranks(void **state)
{
	/* the last one is 1001 ranks, over the limit of 1000 */
	static const char *const bad[] = {
	    "a",  "1,,2",       "1-",  "-1",  "3-1", "1-2-3",  "[1",
	    "1]", "4294967295", "1;2", "1 2", ",",   "0-1000",
	};
	struct dmg_ranks rl;
	char buf[64];
	size_t i;

	(void)state;
	check_ranks("0-3,5", (uint32_t[]){0, 1, 2, 3, 5}, 5);
	check_ranks("[1,0,1]", (uint32_t[]){0, 1}, 2);
	check_ranks(" 2 - 4 ", (uint32_t[]){2, 3, 4}, 3);
	check_ranks("7", (uint32_t[]){7}, 1);
	check_ranks("", NULL, 0);
	check_ranks("[]", NULL, 0);
	assert_int_equal(dmg_ranks_parse("0-999", 1000, &rl), 0);
	assert_int_equal(rl.dr_nr, 1000);
	assert_int_equal(rl.dr_ranks[999], 999);
	dmg_ranks_free(&rl);
	check_ranks("4294967294", (uint32_t[]){4294967294U}, 1);
	for (i = 0; i < D_ARRAY_SIZE(bad); i++) {
		assert_int_equal(dmg_ranks_parse(bad[i], 1000, &rl), -DER_INVAL);
		assert_null(rl.dr_ranks);
	}
	assert_int_equal(dmg_ranks_format((uint32_t[]){0, 1, 2, 3, 5, 7, 8}, 7, buf, sizeof(buf)),
			 0);
	assert_string_equal(buf, "0-3,5,7-8");
	assert_int_equal(dmg_ranks_format(NULL, 0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	assert_int_equal(dmg_ranks_format((uint32_t[]){10, 20, 30}, 3, buf, 6), -DER_TRUNC);
	assert_true(strlen(buf) < 6);
}

static void
test_hostlist(void **state)
{
	static const char *const bad[] = {
	    "",     "a,",    ",a",    "a:0",       "a:70000", "a:x",    "::1",
	    "a:",   ":5",    "[::1",  "[]:5",      "[::1]x",  "n[3-1]", "n[1-]",
	    "n[a]", "n[1,]", "n[1-2", "n[0-5000]", "n[-1]",   "n[1]x]",
	};
	char **hosts = NULL;
	uint32_t nr = 0;
	size_t i;

	(void)state;
	assert_int_equal(dmg_hostlist_parse("a, b:2,[::1]:5,[fe80::1]", 10001, &hosts, &nr), 0);
	assert_int_equal(nr, 4);
	assert_string_equal(hosts[0], "a:10001");
	assert_string_equal(hosts[1], "b:2");
	assert_string_equal(hosts[2], "[::1]:5");
	assert_string_equal(hosts[3], "[fe80::1]:10001");
	dmg_hosts_free(hosts, nr);
	/* DAOS's range groups */
	hosts = NULL;
	nr = 0;
	assert_int_equal(dmg_hostlist_parse("127.0.0.[1-3]:7,n[08-10,12],x", 9, &hosts, &nr), 0);
	assert_int_equal(nr, 8);
	assert_string_equal(hosts[0], "127.0.0.1:7");
	assert_string_equal(hosts[2], "127.0.0.3:7");
	assert_string_equal(hosts[3], "n08:9");
	assert_string_equal(hosts[5], "n10:9");
	assert_string_equal(hosts[6], "n12:9");
	assert_string_equal(hosts[7], "x:9");
	dmg_hosts_free(hosts, nr);
	for (i = 0; i < D_ARRAY_SIZE(bad); i++) {
		hosts = NULL;
		nr = 0;
		if (dmg_hostlist_parse(bad[i], 10001, &hosts, &nr) != -DER_INVAL)
			fail_msg("accepted host list \"%s\"", bad[i]);
		dmg_hosts_free(hosts, nr);
	}
}

static char *
write_file(const char *name, const char *text)
{
	char *path;
	FILE *f;

	D_ASPRINTF(path, "%s/%s", tmpdir, name);
	assert_non_null(path);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static void
test_config(void **state)
{
	static const char *const bad[] = {
	    "nmae: x\n",
	    "port: 0\n",
	    "port: 65536\n",
	    "port: ten\n",
	    "hostlist: {a: b}\n",
	    "hostlist: ['a:0']\n",
	    "transport_config:\n  allow_insecure: maybe\n",
	    "transport_config:\n  bogus: 1\n",
	    "name: [x]\n",
	    "- a\n- b\n",
	    "port: [1\n",
	};
	struct dmg_config cfg;
	char err[256];
	char *path;
	size_t i;

	(void)state;
	path = write_file("good.yml", "name: sys1\n"
				      "hostlist: ['h1', 'h2:10005']\n"
				      "port: 10010\n"
				      "transport_config:\n"
				      "  allow_insecure: true\n"
				      "  ca_cert: /c/ca.crt\n");
	assert_int_equal(dmg_config_load(path, true, &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.dc_name, "sys1");
	assert_int_equal(cfg.dc_port, 10010);
	assert_int_equal(cfg.dc_nhosts, 2);
	assert_string_equal(cfg.dc_hosts[0], "h1:10010");
	assert_string_equal(cfg.dc_hosts[1], "h2:10005");
	assert_true(cfg.dc_insecure);
	assert_string_equal(cfg.dc_ca_cert, "/c/ca.crt");
	dmg_config_fini(&cfg);
	D_FREE(path);

	/* defaults: no file, an empty file (TLS asked for by default then) */
	assert_int_equal(dmg_config_load("/nonexistent/x.yml", false, &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.dc_name, "daos_server");
	assert_string_equal(cfg.dc_hosts[0], "localhost:10001");
	assert_true(cfg.dc_insecure);
	dmg_config_fini(&cfg);
	assert_int_equal(dmg_config_load("/nonexistent/x.yml", true, &cfg, err, sizeof(err)),
			 -DER_NONEXIST);
	dmg_config_fini(&cfg);
	path = write_file("empty.yml", "");
	assert_int_equal(dmg_config_load(path, true, &cfg, err, sizeof(err)), 0);
	assert_false(cfg.dc_insecure);
	assert_string_equal(cfg.dc_hosts[0], "localhost:10001");
	dmg_config_fini(&cfg);
	D_FREE(path);

	path = write_file("str.yml", "hostlist: a,b\nport: 7\n");
	assert_int_equal(dmg_config_load(path, true, &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.dc_nhosts, 2);
	assert_string_equal(cfg.dc_hosts[1], "b:7");
	dmg_config_fini(&cfg);
	D_FREE(path);

	for (i = 0; i < D_ARRAY_SIZE(bad); i++) {
		path = write_file("bad.yml", bad[i]);
		err[0] = '\0';
		assert_int_equal(dmg_config_load(path, true, &cfg, err, sizeof(err)), -DER_INVAL);
		/* the message names the file and a line */
		assert_non_null(strstr(err, "bad.yml:"));
		dmg_config_fini(&cfg);
		D_FREE(path);
	}
}

/*
 * Command lines and the requests they build
 */

static FILE *devnull;

/* Parse @argv (NULL-terminated, without the program) and build the request. */
static int
build_argv(struct dmg_ctx *ctx, struct dmg_call *call, char **argv)
{
	int argc = 0;
	int rc;

	while (argv[argc] != NULL)
		argc++;
	dmg_ctx_init(ctx, devnull, devnull);
	memset(call, 0, sizeof(*call));
	rc = dmg_args_parse(ctx, argc, argv);
	if (rc != 0 || ctx->dx_opts.o_help)
		return rc;
	assert_non_null(ctx->dx_opts.o_cmd);
	ctx->dx_sys = "daos_server";
	if (ctx->dx_opts.o_cmd->dc_build == NULL)
		return 0;
	rc = ctx->dx_opts.o_cmd->dc_build(ctx, &ctx->dx_opts, call);
	if (rc == 0) {
		/* whatever is built must pack and unpack */
		size_t len = protobuf_c_message_get_packed_size(call->cl_req);
		void *buf = malloc(len + 1);
		ProtobufCMessage *back;

		assert_non_null(buf);
		protobuf_c_message_pack(call->cl_req, buf);
		back = protobuf_c_message_unpack(call->cl_req->descriptor, NULL, len, buf);
		assert_non_null(back);
		protobuf_c_message_free_unpacked(back, NULL);
		free(buf);
	}
	return rc;
}

#define BUILD(ctx, call, ...) build_argv(ctx, call, (char *[]){"dmg", __VA_ARGS__, NULL})

/* The command line must build a request for @method. */
#define BUILD_AS(ctx, call, method, ...)                                                           \
	do {                                                                                       \
		assert_int_equal(BUILD(ctx, call, __VA_ARGS__), 0);                                \
		assert_int_equal((call)->cl_method, method);                                       \
	} while (0)

/* The command line must be refused (and the reason recorded). */
#define BAD(...)                                                                                   \
	do {                                                                                       \
		struct dmg_ctx __c;                                                                \
		struct dmg_call __k;                                                               \
		int __rc = BUILD(&__c, &__k, __VA_ARGS__);                                         \
		if (__rc == 0)                                                                     \
			fail_msg("accepted: %s", #__VA_ARGS__);                                    \
		assert_true(__c.dx_err_msg[0] != '\0');                                            \
		dmg_ctx_fini(&__c);                                                                \
	} while (0)

static const Mgmt__PoolProperty *
prop_find(Mgmt__PoolProperty **p, size_t n, uint32_t number)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i]->number == number)
			return p[i];
	}
	return NULL;
}

static void
test_pool_create_flags(void **state)
{
	const Mgmt__PoolProperty *p;
	Mgmt__PoolCreateReq *req;
	struct dmg_ctx ctx;
	struct dmg_call call;
	char *acl;

	(void)state;
	BUILD_AS(&ctx, &call, DSS_CTL_POOL_CREATE, "pool", "create", "-z", "10G", "tank");
	req = (Mgmt__PoolCreateReq *)call.cl_req;
	assert_true(req->total_bytes == 10000000000ULL);
	assert_int_equal(req->n_tier_ratio, 2);
	assert_true(req->tier_ratio[0] > 0.0599 && req->tier_ratio[0] < 0.0601);
	assert_true(req->tier_ratio[1] > 0.9399 && req->tier_ratio[1] < 0.9401);
	assert_int_equal(req->n_tier_bytes, 0);
	assert_int_equal(strlen(req->uuid), 36);
	assert_string_equal(req->sys, "daos_server");
	p = prop_find(req->properties, req->n_properties, DAOS_PROP_PO_LABEL);
	assert_non_null(p);
	assert_string_equal(p->strval, "tank");
	assert_true(req->user[strlen(req->user) - 1] == '@');
	assert_true(req->user_group[strlen(req->user_group) - 1] == '@');
	dmg_ctx_fini(&ctx);

	/* the global -j after the command, --size=, %, -t, -k */
	assert_int_equal(BUILD(&ctx, &call, "pool", "create", "--size=50%", "-j", "tank"), 0);
	req = (Mgmt__PoolCreateReq *)call.cl_req;
	assert_true(ctx.dx_opts.o_json);
	assert_true(req->total_bytes == 0);
	assert_true(req->tier_ratio[0] == 0.5 && req->tier_ratio[1] == 0.5);
	dmg_ctx_fini(&ctx);
	assert_int_equal(BUILD(&ctx, &call, "pool", "create", "-z1T", "-t", "10", "-k", "3", "p1"),
			 0);
	req = (Mgmt__PoolCreateReq *)call.cl_req;
	assert_true(req->total_bytes == 1000000000000ULL);
	assert_true(req->tier_ratio[0] > 0.0999 && req->tier_ratio[0] < 0.1001);
	assert_true(req->tier_ratio[1] > 0.8999 && req->tier_ratio[1] < 0.9001);
	assert_int_equal(req->num_ranks, 3);
	dmg_ctx_fini(&ctx);

	/* manual sizes, ranks, replicas, properties, owner, ACL file, --label */
	acl = write_file("pool.acl", "# a comment\n\nA::OWNER@:rwdtTaAo\n  A:G:ops@:r  \n");
	assert_int_equal(BUILD(&ctx, &call, "pool", "create", "-s", "1GiB", "--nvme-size", "10G",
			       "-r", "0-2,4", "--nsvc=3", "-P",
			       "reclaim:lazy,self_heal:exclude;rebuild,space_rb:5,ec_cell_sz:64KiB",
			       "-u", "bob", "--group=ops@", "-a", acl, "--label", "t2"),
			 0);
	req = (Mgmt__PoolCreateReq *)call.cl_req;
	assert_int_equal(req->n_tier_bytes, 2);
	assert_true(req->tier_bytes[0] == 1ULL << 30);
	assert_true(req->tier_bytes[1] == 10000000000ULL);
	assert_true(req->total_bytes == 0);
	assert_int_equal(req->n_ranks, 4);
	assert_int_equal(req->ranks[3], 4);
	assert_int_equal(req->num_svc_reps, 3);
	assert_string_equal(req->user, "bob@");
	assert_string_equal(req->user_group, "ops@");
	assert_int_equal(req->n_acl, 2);
	assert_string_equal(req->acl[0], "A::OWNER@:rwdtTaAo");
	assert_string_equal(req->acl[1], "A:G:ops@:r");
	assert_int_equal(req->n_properties, 5);
	assert_string_equal(prop_find(req->properties, 5, DAOS_PROP_PO_LABEL)->strval, "t2");
	assert_true(prop_find(req->properties, 5, DAOS_PROP_PO_RECLAIM)->numval ==
		    DAOS_RECLAIM_LAZY);
	assert_true(prop_find(req->properties, 5, DAOS_PROP_PO_SELF_HEAL)->numval ==
		    (DAOS_SELF_HEAL_AUTO_EXCLUDE | DAOS_SELF_HEAL_AUTO_REBUILD));
	assert_true(prop_find(req->properties, 5, DAOS_PROP_PO_SPACE_RB)->numval == 5);
	assert_true(prop_find(req->properties, 5, DAOS_PROP_PO_EC_CELL_SZ)->numval == 65536);
	dmg_ctx_fini(&ctx);
	assert_int_equal(BUILD(&ctx, &call, "pool", "create", "-s", "1G", "x"), 0);
	req = (Mgmt__PoolCreateReq *)call.cl_req;
	assert_true(req->tier_bytes[1] == 0);
	dmg_ctx_fini(&ctx);

	BAD("pool", "create", "tank");                                   /* no size */
	BAD("pool", "create", "-z", "10G");                              /* no label */
	BAD("pool", "create", "-z", "10G", "-s", "1G", "tank");          /* both */
	BAD("pool", "create", "-n", "10G", "tank");                      /* nvme without scm */
	BAD("pool", "create", "-z", "10G", "-k", "2", "-r", "0-1", "t"); /* nranks and ranks */
	BAD("pool", "create", "-s", "1G", "-k", "2", "t");               /* nranks and manual */
	BAD("pool", "create", "-s", "1G", "-t", "6,94", "t");            /* ratio and manual */
	BAD("pool", "create", "-z", "50%", "-t", "6,94", "t");           /* % and ratio */
	BAD("pool", "create", "-z", "50%", "-k", "2", "t");              /* % and nranks */
	BAD("pool", "create", "-z", "10G", "-t", "10,10", "t"); /* ratios must sum to 100 */
	BAD("pool", "create", "-z", "10G", "-t", "x", "t");
	BAD("pool", "create", "-z", "10G", "-t", "1,2,97", "t");
	BAD("pool", "create", "-z", "0", "t");
	BAD("pool", "create", "-z", "10X", "t");
	BAD("pool", "create", "-z", "150%", "t");
	BAD("pool", "create", "-s", "50%", "t"); /* % only for --size */
	BAD("pool", "create", "-z", "10G", "-v", "abc", "t");
	BAD("pool", "create", "-z", "10G", "-v", "99", "t");
	BAD("pool", "create", "-z", "10G", "-r", "3-1", "t");
	BAD("pool", "create", "-z", "10G", "-P", "label:x", "t");
	BAD("pool", "create", "-z", "10G", "-P", "bogus:1", "t");
	BAD("pool", "create", "-z", "10G", "-P", "reclaim:bogus", "t");
	BAD("pool", "create", "-z", "10G", "-P", "reclaim:lazy;time", "t");
	BAD("pool", "create", "-z", "10G", "-P", "reclaim", "t");
	BAD("pool", "create", "-z", "10G", "-P", "rd_fac:9", "t");
	BAD("pool", "create", "-z", "10G", "-P", "reclaim:lazy,reclaim:time", "t");
	BAD("pool", "create", "-z", "10G", "-P", "global_version:1", "t");
	BAD("pool", "create", "-z", "10G", "bad/label");
	BAD("pool", "create", "-z", "10G", "12345678-1234-1234-1234-123456789abc");
	BAD("pool", "create", "-z", "10G", "--label", "a", "b");
	BAD("pool", "create", "-z", "10G", "-a", "/nonexistent/acl", "t");
	BAD("pool", "create", "-z", "10G", "--bogus", "t");
	BAD("pool", "create", "-z", "10G", "-y", "t");
	BAD("pool", "create", "-z", "10G", "t", "extra");
	BAD("pool", "create", "-z");
	BAD("pool", "create", "--size");
	BAD("pool", "create", "--nsvc=", "-z", "1G", "t");
	D_FREE(acl);
	acl = write_file("bad.acl", "A::OWNER@:rw\nnot an ace\n");
	BAD("pool", "create", "-z", "10G", "-a", acl, "t");
	D_FREE(acl);
}

static void
test_pool_flags(void **state)
{
	struct dmg_ctx ctx;
	struct dmg_call call;
	char *acl;

	(void)state;
	/* destroy */
	BUILD_AS(&ctx, &call, DSS_CTL_POOL_DESTROY, "pool", "destroy", "-fr", "tank");
	assert_true(((Mgmt__PoolDestroyReq *)call.cl_req)->force);
	assert_true(((Mgmt__PoolDestroyReq *)call.cl_req)->recursive);
	assert_string_equal(((Mgmt__PoolDestroyReq *)call.cl_req)->id, "tank");
	dmg_ctx_fini(&ctx);
	assert_int_equal(BUILD(&ctx, &call, "pool", "destroy", "tank", "--force"), 0);
	assert_false(((Mgmt__PoolDestroyReq *)call.cl_req)->recursive);
	dmg_ctx_fini(&ctx);
	BAD("pool", "destroy");
	BAD("pool", "destroy", "a", "b");
	BAD("pool", "destroy", "--force=yes", "a");
	BAD("pool", "destroy", "-x", "a");

	/* list */
	BUILD_AS(&ctx, &call, DSS_CTL_POOL_LIST, "pool", "list", "-v", "--no-query");
	assert_true(((Mgmt__ListPoolsReq *)call.cl_req)->no_query);
	assert_true(ctx.dx_opts.o_verbose);
	dmg_ctx_fini(&ctx);
	BAD("pool", "list", "tank");

	/* query */
	BUILD_AS(&ctx, &call, DSS_CTL_POOL_QUERY, "pool", "query", "tank");
	assert_true(((Mgmt__PoolQueryReq *)call.cl_req)->query_mask & DPI_SPACE);
	assert_false(((Mgmt__PoolQueryReq *)call.cl_req)->query_mask & DPI_ENGINES_ENABLED);
	dmg_ctx_fini(&ctx);
	assert_int_equal(BUILD(&ctx, &call, "pool", "query", "-e", "-t", "tank"), 0);
	assert_false(((Mgmt__PoolQueryReq *)call.cl_req)->query_mask & DPI_SPACE);
	assert_true(((Mgmt__PoolQueryReq *)call.cl_req)->query_mask & DPI_ENGINES_ENABLED);
	dmg_ctx_fini(&ctx);
	BAD("pool", "query");
	BAD("pool", "query", "--show-enabled=1", "tank");

	/* get-prop / set-prop */
	assert_int_equal(BUILD(&ctx, &call, "pool", "get-prop", "tank", "label,reclaim"), 0);
	assert_int_equal(((Mgmt__PoolGetPropReq *)call.cl_req)->n_properties, 2);
	dmg_ctx_fini(&ctx);
	assert_int_equal(BUILD(&ctx, &call, "pool", "get-prop", "tank"), 0);
	assert_int_equal(((Mgmt__PoolGetPropReq *)call.cl_req)->n_properties, 0);
	dmg_ctx_fini(&ctx);
	BAD("pool", "get-prop", "tank", "bogus");
	BAD("pool", "get-prop");
	assert_int_equal(BUILD(&ctx, &call, "pool", "set-prop", "tank",
			       "reclaim:time,label:new,scrub:timed,checkpoint_freq:10"),
			 0);
	{
		Mgmt__PoolSetPropReq *r = (Mgmt__PoolSetPropReq *)call.cl_req;

		assert_int_equal(call.cl_method, DSS_CTL_POOL_SET_PROP);
		assert_int_equal(r->n_properties, 4);
		assert_true(prop_find(r->properties, 4, DAOS_PROP_PO_RECLAIM)->numval ==
			    DAOS_RECLAIM_TIME);
		assert_string_equal(prop_find(r->properties, 4, DAOS_PROP_PO_LABEL)->strval, "new");
		assert_true(prop_find(r->properties, 4, DAOS_PROP_PO_SCRUB_MODE)->numval ==
			    DAOS_SCRUB_MODE_TIMED);
	}
	dmg_ctx_fini(&ctx);
	BAD("pool", "set-prop", "tank");
	BAD("pool", "set-prop", "tank", "label");
	BAD("pool", "set-prop", "tank", "label:");
	BAD("pool", "set-prop", "tank", "perf_domain:root"); /* create-only */
	BAD("pool", "set-prop", "tank", "space_rb:101");
	BAD("pool", "set-prop", "tank", "checkpoint_freq:0");
	BAD("pool", "set-prop", "tank", "upgrade_status:1");

	/* ACLs */
	acl = write_file("get.acl", "x");
	assert_int_equal(
	    BUILD(&ctx, &call, "pool", "get-acl", "-o", "/nonexistent-dir/f", "-v", "tank"), 0);
	assert_int_equal(call.cl_method, DSS_CTL_POOL_GET_ACL);
	assert_string_equal(ctx.dx_opts.o_outfile, "/nonexistent-dir/f");
	dmg_ctx_fini(&ctx);
	BAD("pool", "get-acl", "-o", acl, "tank"); /* exists, no --force */
	assert_int_equal(BUILD(&ctx, &call, "pool", "get-acl", "-o", acl, "-f", "tank"), 0);
	dmg_ctx_fini(&ctx);
	D_FREE(acl);
	BUILD_AS(&ctx, &call, DSS_CTL_POOL_UPDATE_ACL, "pool", "update-acl", "-e", "A::bob@:rw",
		 "tank");
	assert_string_equal(((Mgmt__ModifyACLReq *)call.cl_req)->entries[0], "A::bob@:rw");
	dmg_ctx_fini(&ctx);
	acl = write_file("ow.acl", "A::OWNER@:rw\nA::EVERYONE@:r\n");
	BAD("pool", "update-acl", "tank");
	BAD("pool", "update-acl", "-e", "A::bob@:rw", "-a", acl, "tank");
	BAD("pool", "update-acl", "-e", "bogus", "tank");
	BAD("pool", "update-acl", "-e", "A::bob@:rwz", "tank");
	BAD("pool", "update-acl", "-e", "X::bob@:rw", "tank");
	BAD("pool", "update-acl", "-e", "A::bob:rw", "tank");
	BUILD_AS(&ctx, &call, DSS_CTL_POOL_OVERWRITE_ACL, "pool", "overwrite-acl", "--acl-file",
		 acl, "tank");
	assert_int_equal(((Mgmt__ModifyACLReq *)call.cl_req)->n_entries, 2);
	dmg_ctx_fini(&ctx);
	BAD("pool", "overwrite-acl", "tank");
	BAD("pool", "overwrite-acl", "-a", "/nonexistent", "tank");
	D_FREE(acl);
	BUILD_AS(&ctx, &call, DSS_CTL_POOL_DELETE_ACL, "pool", "delete-acl", "-p", "OWNER@",
		 "tank");
	assert_string_equal(((Mgmt__DeleteACLReq *)call.cl_req)->principal, "OWNER@");
	dmg_ctx_fini(&ctx);
	BAD("pool", "delete-acl", "tank");
	BAD("pool", "delete-acl", "-p", "bob", "tank");

	/* list-cont, evict */
	BUILD_AS(&ctx, &call, DSS_CTL_POOL_LIST_CONT, "pool", "list-cont", "tank");
	dmg_ctx_fini(&ctx);
	BUILD_AS(&ctx, &call, DSS_CTL_POOL_EVICT, "pool", "evict", "tank");
	dmg_ctx_fini(&ctx);
	BAD("pool", "list-cont");
	BAD("pool", "evict");
	BAD("pool", "evict", "a", "b");

	/* exclude, drain, reintegrate */
	BUILD_AS(&ctx, &call, DSS_CTL_POOL_REINT, "pool", "reintegrate", "--ranks", "1,3", "tank");
	assert_int_equal(((Mgmt__PoolRanksReq *)call.cl_req)->n_ranks, 2);
	assert_int_equal(((Mgmt__PoolRanksReq *)call.cl_req)->ranks[1], 3);
	assert_int_equal(((Mgmt__PoolRanksReq *)call.cl_req)->n_target_idx, 0);
	dmg_ctx_fini(&ctx);
	BUILD_AS(&ctx, &call, DSS_CTL_POOL_EXCLUDE, "pool", "exclude", "--rank", "2",
		 "--target-idx", "0-1", "tank");
	assert_int_equal(((Mgmt__PoolRanksReq *)call.cl_req)->n_target_idx, 2);
	assert_int_equal(((Mgmt__PoolRanksReq *)call.cl_req)->target_idx[1], 1);
	dmg_ctx_fini(&ctx);
	BUILD_AS(&ctx, &call, DSS_CTL_POOL_DRAIN, "pool", "drain", "-r", "0", "tank");
	dmg_ctx_fini(&ctx);
	BAD("pool", "reintegrate", "tank");
	BAD("pool", "exclude", "--ranks", "1", "--target-idx", "x", "tank");
	BAD("pool", "drain", "--ranks", "1");
}

static void
test_system_flags(void **state)
{
	struct dmg_ctx ctx;
	struct dmg_call call;

	(void)state;
	BUILD_AS(&ctx, &call, DSS_CTL_SYSTEM_QUERY, "system", "query", "-r", "2,0-1", "-v");
	assert_string_equal(((Mgmt__SystemQueryReq *)call.cl_req)->ranks, "0-2");
	assert_true(ctx.dx_opts.o_verbose);
	dmg_ctx_fini(&ctx);
	assert_int_equal(BUILD(&ctx, &call, "system", "query", "--rank-hosts", "h1,h2"), 0);
	assert_string_equal(((Mgmt__SystemQueryReq *)call.cl_req)->hosts, "h1,h2");
	assert_string_equal(((Mgmt__SystemQueryReq *)call.cl_req)->ranks, "");
	dmg_ctx_fini(&ctx);
	BAD("system", "query", "-r", "x");
	BAD("system", "query", "extra");

	BUILD_AS(&ctx, &call, DSS_CTL_SYSTEM_STOP, "system", "stop", "--force", "--ranks=1");
	assert_true(((Mgmt__SystemStopReq *)call.cl_req)->force);
	assert_string_equal(((Mgmt__SystemStopReq *)call.cl_req)->ranks, "1");
	dmg_ctx_fini(&ctx);
	BAD("system", "stop", "-f"); /* DAOS's --force has no short form */
	BUILD_AS(&ctx, &call, DSS_CTL_SYSTEM_START, "system", "start");
	dmg_ctx_fini(&ctx);
	BAD("system", "start", "--force");
	BUILD_AS(&ctx, &call, DSS_CTL_SYSTEM_EXCLUDE, "system", "exclude", "--ranks", "3");
	assert_string_equal(((Mgmt__SystemExcludeReq *)call.cl_req)->ranks, "3");
	assert_false(((Mgmt__SystemExcludeReq *)call.cl_req)->clear);
	dmg_ctx_fini(&ctx);
	BAD("system", "exclude");
	BUILD_AS(&ctx, &call, DSS_CTL_SYSTEM_EXCLUDE, "system", "clear-exclude", "-r", "3-4");
	assert_true(((Mgmt__SystemExcludeReq *)call.cl_req)->clear);
	assert_string_equal(((Mgmt__SystemExcludeReq *)call.cl_req)->ranks, "3-4");
	dmg_ctx_fini(&ctx);
	BAD("system", "clear-exclude");
	BUILD_AS(&ctx, &call, DSS_CTL_LEADER_QUERY, "system", "leader-query");
	dmg_ctx_fini(&ctx);
	BAD("system", "leader-query", "x");
	BUILD_AS(&ctx, &call, DSS_CTL_GET_ATTACH_INFO, "system", "get-attach-info");
	dmg_ctx_fini(&ctx);

	/* commands that run their own calls: flags only */
	assert_int_equal(BUILD(&ctx, &call, "system", "ping", "-c", "3"), 0);
	assert_int_equal(ctx.dx_opts.o_count, 3);
	dmg_ctx_fini(&ctx);
	BAD("system", "ping", "-c", "-1");
	assert_int_equal(BUILD(&ctx, &call, "storage", "format", "--force", "-v"), 0);
	assert_true(ctx.dx_opts.o_force && ctx.dx_opts.o_verbose);
	dmg_ctx_fini(&ctx);
	BAD("storage", "format", "x");
	assert_int_equal(BUILD(&ctx, &call, "storage", "query", "usage"), 0);
	dmg_ctx_fini(&ctx);
	BAD("storage", "query");
	BAD("storage", "query", "bogus");
	assert_int_equal(BUILD(&ctx, &call, "telemetry", "metrics", "query", "-m", "a,b"), 0);
	assert_string_equal(ctx.dx_opts.o_metrics, "a,b");
	dmg_ctx_fini(&ctx);

	/* global options before and after the command; the command's -o shadows the global */
	assert_int_equal(BUILD(&ctx, &call, "-o", "/x.yml", "-l", "h1,h2", "-i", "-d", "pool",
			       "get-acl", "-o", "/y", "tank"),
			 0);
	assert_string_equal(ctx.dx_opts.o_config, "/x.yml");
	assert_string_equal(ctx.dx_opts.o_hostlist, "h1,h2");
	assert_string_equal(ctx.dx_opts.o_outfile, "/y");
	assert_true(ctx.dx_opts.o_insecure && ctx.dx_opts.o_debug);
	dmg_ctx_fini(&ctx);
	BAD("bogus");
	BAD("pool");
	BAD("pool", "bogus");
	BAD("-l");
	BAD("--json=1", "pool", "list");
	BAD("system", "query", "--", "-v");
}

/* Run dmg_main with the output captured. */
struct run {
	int status;
	char *out;
	char *err;
	size_t outlen;
	size_t errlen;
};

static void
run_argv(struct run *r, char **argv)
{
	FILE *out;
	FILE *err;
	int argc = 0;

	while (argv[argc] != NULL)
		argc++;
	memset(r, 0, sizeof(*r));
	out = open_memstream(&r->out, &r->outlen);
	err = open_memstream(&r->err, &r->errlen);
	assert_non_null(out);
	assert_non_null(err);
	r->status = dmg_main(argc, argv, out, err);
	fclose(out);
	fclose(err);
}

static void
run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

#define RUN(r, ...) run_argv(r, (char *[]){"dmg", __VA_ARGS__, NULL})

static void
test_help(void **state)
{
	static const char *const lines[][6] = {
	    {"--help"},
	    {"pool", "--help"},
	    {"pool", "create", "--help"},
	    {"pool", "create", "-h", "-z", "bogus"},
	    {"system", "query", "-h"},
	    {"storage", "query", "usage", "--help"},
	    {"telemetry", "--help"},
	};
	struct run r;
	size_t i;

	(void)state;
	for (i = 0; i < D_ARRAY_SIZE(lines); i++) {
		char *argv[8] = {"dmg"};
		int k;

		for (k = 0; k < 6 && lines[i][k] != NULL; k++)
			argv[k + 1] = (char *)lines[i][k];
		run_argv(&r, argv);
		assert_int_equal(r.status, 0);
		assert_non_null(strstr(r.out, "Usage:"));
		run_free(&r);
	}
	RUN(&r, "version");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "dmg version 2."));
	run_free(&r);
	RUN(&r, "pool", "create", "--help");
	assert_non_null(strstr(r.out, "--scm-size"));
	assert_non_null(strstr(r.out, "--nsvc"));
	run_free(&r);
	/* usage errors: exit 2, a message naming the problem, JSON with -j */
	RUN(&r, "pool", "create", "-z", "10X", "t");
	assert_int_equal(r.status, DMG_EXIT_USAGE);
	assert_non_null(strstr(r.err, "invalid size 10X"));
	assert_non_null(strstr(r.err, "DER_INVAL"));
	run_free(&r);
	RUN(&r, "-j", "bogus");
	assert_int_equal(r.status, DMG_EXIT_USAGE);
	{
		struct tj v;

		assert_int_equal(tj_parse(r.out, &v), 0);
		assert_int_equal(tj_get(&v, "status")->t_num, -DER_INVAL);
		assert_int_equal(tj_get(&v, "response")->t_type, TJ_NULL);
		assert_int_equal(tj_get(&v, "error")->t_type, TJ_STR);
		tj_free(&v);
	}
	run_free(&r);
}

/*
 * Against real control threads with fixed answers
 */

struct fake {
	struct dss_ctl *f_ctl;
	char f_addr[DSS_CTL_ADDR_LEN];
	char f_leader[DSS_CTL_ADDR_LEN]; /* non-empty: answer NOTLEADER with this hint */
	bool f_no_leader;                /* answer NOTLEADER with an empty hint */
	int f_electing;                  /* answer so this many more times */
	int f_status;                    /* status of every answer */
	bool f_one_tier;                 /* pool create answers one tier only */
	Mgmt__PoolCreateReq *f_create;   /* the last create request (unpacked) */
	int f_calls;
};

static bool
fake_redirect(struct fake *f, struct dss_ctl_req *req)
{
	Mgmt__LeaderHint hint = MGMT__LEADER_HINT__INIT;

	if (f->f_electing > 0) {
		f->f_electing--;
		hint.leader = "";
		dss_ctl_reply_msg(req, -DER_NOTLEADER, &hint.base);
		return true;
	}
	if (f->f_leader[0] == '\0' && !f->f_no_leader)
		return false;
	hint.leader = f->f_no_leader ? "" : f->f_leader;
	dss_ctl_reply_msg(req, -DER_NOTLEADER, &hint.base);
	return true;
}

static void
fake_pool_create(struct dss_ctl_req *req, void *arg)
{
	struct fake *f = arg;
	Mgmt__PoolCreateResp out = MGMT__POOL_CREATE_RESP__INIT;
	uint32_t reps[] = {0, 1, 2};
	uint64_t tiers[] = {600000000ULL, 9400000000ULL};
	const void *body;
	size_t len;

	f->f_calls++;
	if (fake_redirect(f, req))
		return;
	body = dss_ctl_req_body(req, &len);
	if (f->f_create != NULL)
		mgmt__pool_create_req__free_unpacked(f->f_create, NULL);
	f->f_create = mgmt__pool_create_req__unpack(NULL, len, body);
	out.status = f->f_status;
	out.svc_ldr = 1;
	out.svc_reps = reps;
	out.n_svc_reps = 3;
	out.tgt_ranks = reps;
	out.n_tgt_ranks = 3;
	out.tier_bytes = tiers;
	out.n_tier_bytes = f->f_one_tier ? 1 : 2;
	dss_ctl_reply_msg(req, f->f_status, &out.base);
}

static void
fake_system_query(struct dss_ctl_req *req, void *arg)
{
	struct fake *f = arg;
	Mgmt__SystemQueryResp out = MGMT__SYSTEM_QUERY_RESP__INIT;
	Mgmt__SystemMember m0 = MGMT__SYSTEM_MEMBER__INIT;
	Mgmt__SystemMember m1 = MGMT__SYSTEM_MEMBER__INIT;
	Mgmt__SystemMember *ms[] = {&m0, &m1};

	f->f_calls++;
	if (fake_redirect(f, req))
		return;
	m0.rank = 0;
	m0.addr = f->f_addr;
	m0.state = "joined";
	m0.uuid = "0c7a5c2e-0000-4000-8000-000000000000";
	m0.fabric_uri = "fi_sockaddr_in://127.0.0.1:1";
	m1.rank = 1;
	m1.addr = f->f_addr;
	m1.state = "adminexcluded";
	out.members = ms;
	out.n_members = 2;
	dss_ctl_reply_msg(req, 0, &out.base);
}

static void
fake_pool_query(struct dss_ctl_req *req, void *arg)
{
	Mgmt__PoolQueryResp out = MGMT__POOL_QUERY_RESP__INIT;
	Mgmt__PoolRebuildStatus rb = MGMT__POOL_REBUILD_STATUS__INIT;
	Mgmt__StorageUsageStats s0 = MGMT__STORAGE_USAGE_STATS__INIT;
	Mgmt__StorageUsageStats s1 = MGMT__STORAGE_USAGE_STATS__INIT;
	Mgmt__StorageUsageStats *ss[] = {&s0, &s1};
	uint32_t reps[] = {0};

	(void)arg;
	out.uuid = "11111111-2222-4333-8444-555555555555";
	out.label = "tank";
	out.total_targets = 8;
	out.active_targets = 8;
	out.total_engines = 1;
	out.version = 3;
	out.state = MGMT__POOL_SERVICE_STATE__Ready;
	out.svc_reps = reps;
	out.n_svc_reps = 1;
	out.query_mask = DPI_SPACE | DPI_REBUILD_STATUS;
	out.rebuild = &rb;
	s0.total = 1000;
	s0.free = 500;
	s0.min = 60;
	s0.max = 65;
	s0.mean = 62;
	s0.media_type = MGMT__STORAGE_MEDIA_TYPE__SCM;
	s1.total = 8000;
	s1.free = 8000;
	s1.media_type = MGMT__STORAGE_MEDIA_TYPE__NVME;
	out.tier_stats = ss;
	out.n_tier_stats = 2;
	dss_ctl_reply_msg(req, 0, &out.base);
}

static void
fake_get_prop(struct dss_ctl_req *req, void *arg)
{
	Mgmt__PoolGetPropResp out = MGMT__POOL_GET_PROP_RESP__INIT;
	Mgmt__PoolProperty p0 = MGMT__POOL_PROPERTY__INIT;
	Mgmt__PoolProperty p1 = MGMT__POOL_PROPERTY__INIT;
	Mgmt__PoolProperty p2 = MGMT__POOL_PROPERTY__INIT;
	Mgmt__PoolProperty *ps[] = {&p0, &p1, &p2};

	(void)arg;
	p0.number = DAOS_PROP_PO_LABEL;
	p0.value_case = MGMT__POOL_PROPERTY__VALUE_STRVAL;
	p0.strval = "tank";
	p1.number = DAOS_PROP_PO_RECLAIM;
	p1.value_case = MGMT__POOL_PROPERTY__VALUE_NUMVAL;
	p1.numval = DAOS_RECLAIM_LAZY;
	p2.number = DAOS_PROP_PO_SELF_HEAL;
	p2.value_case = MGMT__POOL_PROPERTY__VALUE_NUMVAL;
	p2.numval = DAOS_SELF_HEAL_AUTO_EXCLUDE | DAOS_SELF_HEAL_AUTO_REBUILD;
	out.properties = ps;
	out.n_properties = 3;
	dss_ctl_reply_msg(req, 0, &out.base);
}

static void
fake_list_pools(struct dss_ctl_req *req, void *arg)
{
	Mgmt__ListPoolsResp out = MGMT__LIST_POOLS_RESP__INIT;
	Mgmt__ListPoolsResp__Pool p = MGMT__LIST_POOLS_RESP__POOL__INIT;
	Mgmt__ListPoolsResp__Pool *ps[] = {&p};
	uint32_t reps[] = {0, 1};

	(void)arg;
	p.uuid = "11111111-2222-4333-8444-555555555555";
	p.label = "tank";
	p.svc_reps = reps;
	p.n_svc_reps = 2;
	p.state = "Ready";
	p.rebuild_state = "idle";
	p.total_targets = 8;
	out.pools = ps;
	out.n_pools = 1;
	dss_ctl_reply_msg(req, 0, &out.base);
}

static void
fake_get_acl(struct dss_ctl_req *req, void *arg)
{
	Mgmt__ACLResp out = MGMT__ACLRESP__INIT;
	Mgmt__AccessControlList acl = MGMT__ACCESS_CONTROL_LIST__INIT;
	char *entries[] = {"A::OWNER@:rwdtTaAo", "A:G:GROUP@:r"};

	(void)arg;
	acl.entries = entries;
	acl.n_entries = 2;
	acl.owner_user = "bob@";
	acl.owner_group = "ops@";
	out.acl = &acl;
	dss_ctl_reply_msg(req, 0, &out.base);
}

static void
fake_leader(struct dss_ctl_req *req, void *arg)
{
	struct fake *f = arg;
	Mgmt__LeaderQueryResp out = MGMT__LEADER_QUERY_RESP__INIT;
	char *reps[] = {f->f_addr};

	out.current_leader = f->f_addr;
	out.replicas = reps;
	out.n_replicas = 1;
	dss_ctl_reply_msg(req, 0, &out.base);
}

static void
fake_storage(struct dss_ctl_req *req, void *arg)
{
	Mgmt__StorageUsageResp out = MGMT__STORAGE_USAGE_RESP__INIT;
	Mgmt__StorageTierUsage t0 = MGMT__STORAGE_TIER_USAGE__INIT;
	Mgmt__StorageTierUsage *ts[] = {&t0};

	(void)arg;
	t0.media_type = MGMT__STORAGE_MEDIA_TYPE__SCM;
	t0.tier_class = "ram";
	t0.total_bytes = 1 << 30;
	t0.avail_bytes = 1 << 29;
	out.tiers = ts;
	out.n_tiers = 1;
	dss_ctl_reply_msg(req, 0, &out.base);
}

static void
fake_garbage(struct dss_ctl_req *req, void *arg)
{
	static const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 0x01};

	(void)arg;
	/* a reply body that is not the method's message */
	dss_ctl_reply(req, 0, junk, sizeof(junk));
}

static void
fake_destroy(struct dss_ctl_req *req, void *arg)
{
	(void)arg;
	/* the pool is not there */
	dss_ctl_reply(req, -DER_NONEXIST, NULL, 0);
}

static void
fake_start(struct fake *f)
{
	struct dss_ctl_attr attr = {.ca_listen = "127.0.0.1:0", .ca_sys_name = "daos_server"};

	memset(f, 0, sizeof(*f));
	assert_int_equal(dss_ctl_create(&attr, &f->f_ctl), 0);
	assert_int_equal(dss_ctl_register(f->f_ctl, DSS_CTL_POOL_CREATE, fake_pool_create, f), 0);
	assert_int_equal(dss_ctl_register(f->f_ctl, DSS_CTL_SYSTEM_QUERY, fake_system_query, f), 0);
	assert_int_equal(dss_ctl_register(f->f_ctl, DSS_CTL_POOL_QUERY, fake_pool_query, f), 0);
	assert_int_equal(dss_ctl_register(f->f_ctl, DSS_CTL_POOL_GET_PROP, fake_get_prop, f), 0);
	assert_int_equal(dss_ctl_register(f->f_ctl, DSS_CTL_POOL_LIST, fake_list_pools, f), 0);
	assert_int_equal(dss_ctl_register(f->f_ctl, DSS_CTL_POOL_GET_ACL, fake_get_acl, f), 0);
	assert_int_equal(dss_ctl_register(f->f_ctl, DSS_CTL_LEADER_QUERY, fake_leader, f), 0);
	assert_int_equal(dss_ctl_register(f->f_ctl, DSS_CTL_STORAGE_QUERY_USAGE, fake_storage, f),
			 0);
	assert_int_equal(dss_ctl_register(f->f_ctl, DSS_CTL_POOL_DESTROY, fake_destroy, f), 0);
	assert_int_equal(dss_ctl_register(f->f_ctl, DSS_CTL_POOL_LIST_CONT, fake_garbage, f), 0);
	assert_int_equal(dss_ctl_start(f->f_ctl), 0);
	assert_int_equal(dss_ctl_listen_addr(f->f_ctl, f->f_addr, sizeof(f->f_addr)), 0);
}

static void
fake_stop(struct fake *f)
{
	dss_ctl_destroy(f->f_ctl);
	if (f->f_create != NULL)
		mgmt__pool_create_req__free_unpacked(f->f_create, NULL);
}

/* Run, expect exit @status and JSON on stdout; the parsed document in *@v. */
static void
run_json(struct tj *v, int status, char **argv)
{
	struct run r;

	run_argv(&r, argv);
	if (r.status != status)
		fail_msg("exit %d, expected %d; stderr: %s", r.status, status, r.err);
	if (tj_parse(r.out, v) != 0)
		fail_msg("not JSON: %s", r.out);
	/* DAOS's envelope */
	assert_non_null(tj_get(v, "response"));
	assert_non_null(tj_get(v, "error"));
	assert_non_null(tj_get(v, "status"));
	assert_int_equal(v->t_nkids, 3);
	run_free(&r);
}

#define RUN_JSON(v, status, ...) run_json(v, status, (char *[]){"dmg", "-j", __VA_ARGS__, NULL})

static void
assert_str_at(struct tj *v, const char *path, const char *want)
{
	struct tj *m = tj_get(v, path);

	if (m == NULL || m->t_type != TJ_STR)
		fail_msg("%s: missing or not a string", path);
	assert_string_equal(m->t_str, want);
}

static void
assert_num_at(struct tj *v, const char *path, double want)
{
	struct tj *m = tj_get(v, path);

	if (m == NULL || m->t_type != TJ_NUM)
		fail_msg("%s: missing or not a number", path);
	assert_true(m->t_num == want);
}

static void
test_json_output(void **state)
{
	struct fake f;
	struct tj v;
	struct run r;
	char *text;
	char *cfg;

	(void)state;
	fake_start(&f);
	D_ASPRINTF(text,
		   "name: daos_server\nhostlist: ['%s']\ntransport_config:\n"
		   "  allow_insecure: true\n",
		   f.f_addr);
	assert_non_null(text);
	cfg = write_file("ctl.yml", text);
	D_FREE(text);

	/* pool create: DAOS's test tools parse these names */
	RUN_JSON(&v, 0, "-o", cfg, "pool", "create", "-z", "10G", "-P", "reclaim:time", "tank");
	assert_int_equal(tj_get(&v, "error")->t_type, TJ_NULL);
	assert_num_at(&v, "status", 0);
	assert_int_equal(strlen(tj_get(&v, "response.uuid")->t_str), 36);
	assert_num_at(&v, "response.svc_ldr", 1);
	assert_num_at(&v, "response.svc_reps.2", 2);
	assert_num_at(&v, "response.tgt_ranks.0", 0);
	assert_num_at(&v, "response.tier_bytes.1", 9400000000.0);
	assert_num_at(&v, "response.mem_file_bytes", 0);
	/* what the server received */
	assert_non_null(f.f_create);
	assert_string_equal(f.f_create->uuid, tj_get(&v, "response.uuid")->t_str);
	assert_true(f.f_create->total_bytes == 10000000000ULL);
	assert_int_equal(f.f_create->n_properties, 2);
	assert_string_equal(f.f_create->properties[0]->strval, "tank");
	tj_free(&v);

	/* one tier in the reply: JSON still has both, as DAOS's tools index [1] */
	f.f_one_tier = true;
	RUN_JSON(&v, 0, "-o", cfg, "pool", "create", "-z", "10G", "tank");
	assert_int_equal(tj_get(&v, "response.tier_bytes")->t_nkids, 2);
	assert_num_at(&v, "response.tier_bytes.1", 0);
	tj_free(&v);
	f.f_one_tier = false;

	/* the table */
	RUN(&r, "-o", cfg, "pool", "create", "-z", "10G", "tank");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "Creating DAOS pool with automatic storage allocation: "
				      "10 GB total, 6.38% ratio"));
	assert_non_null(strstr(r.out, "Service Ranks        : [0-2]"));
	assert_non_null(strstr(r.out, "Total Size           : 30 GB"));
	run_free(&r);

	RUN_JSON(&v, 0, "-l", f.f_addr, "system", "query");
	assert_str_at(&v, "response.members.0.addr", f.f_addr);
	assert_str_at(&v, "response.members.0.state", "joined");
	assert_num_at(&v, "response.members.1.rank", 1);
	assert_str_at(&v, "response.members.0.fabric_uri", "fi_sockaddr_in://127.0.0.1:1");
	assert_non_null(tj_get(&v, "response.members.0.fault_domain"));
	assert_non_null(tj_get(&v, "response.absent_ranks"));
	assert_null(tj_get(&v, "response.status"));
	tj_free(&v);
	RUN(&r, "-l", f.f_addr, "system", "query");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "[0]  Joined"));
	assert_non_null(strstr(r.out, "[1]  AdminExcluded"));
	run_free(&r);

	RUN_JSON(&v, 0, "-l", f.f_addr, "pool", "query", "tank");
	assert_str_at(&v, "response.uuid", "11111111-2222-4333-8444-555555555555");
	assert_str_at(&v, "response.label", "tank");
	assert_str_at(&v, "response.state", "Ready");
	assert_str_at(&v, "response.query_mask", "rebuild,space");
	assert_num_at(&v, "response.total_targets", 8);
	assert_num_at(&v, "response.version", 3);
	assert_num_at(&v, "response.svc_ldr", 0);
	assert_str_at(&v, "response.rebuild.state", "idle");
	assert_num_at(&v, "response.rebuild.status", 0);
	assert_str_at(&v, "response.tier_stats.0.media_type", "scm");
	assert_str_at(&v, "response.tier_stats.1.media_type", "nvme");
	assert_num_at(&v, "response.tier_stats.0.free", 500);
	assert_str_at(&v, "response.usage.0.tier_name", "SCM");
	assert_num_at(&v, "response.usage.0.size", 1000);
	assert_num_at(&v, "response.usage.0.imbalance", 4);
	tj_free(&v);
	RUN(&r, "-l", f.f_addr, "pool", "query", "tank");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "ntarget=8"));
	assert_non_null(strstr(r.out, "Rebuild idle"));
	run_free(&r);

	RUN_JSON(&v, 0, "-l", f.f_addr, "pool", "get-prop", "tank");
	assert_str_at(&v, "response.0.name", "label");
	assert_str_at(&v, "response.0.value", "tank");
	assert_str_at(&v, "response.0.description", "Pool label");
	assert_str_at(&v, "response.1.value", "lazy");
	assert_str_at(&v, "response.2.value", "exclude;rebuild");
	tj_free(&v);

	RUN_JSON(&v, 0, "-l", f.f_addr, "pool", "list");
	assert_str_at(&v, "response.pools.0.label", "tank");
	assert_str_at(&v, "response.pools.0.uuid", "11111111-2222-4333-8444-555555555555");
	assert_num_at(&v, "response.pools.0.svc_reps.1", 1);
	assert_str_at(&v, "response.pools.0.state", "Ready");
	tj_free(&v);
	RUN(&r, "-l", f.f_addr, "pool", "list");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "tank"));
	assert_non_null(strstr(r.out, "Ready"));
	run_free(&r);

	RUN_JSON(&v, 0, "-l", f.f_addr, "pool", "get-acl", "tank");
	assert_str_at(&v, "response.entries.0", "A::OWNER@:rwdtTaAo");
	assert_str_at(&v, "response.owner_user", "bob@");
	assert_str_at(&v, "response.owner_group", "ops@");
	tj_free(&v);

	RUN_JSON(&v, 0, "-l", f.f_addr, "system", "leader-query");
	assert_str_at(&v, "response.current_leader", f.f_addr);
	assert_str_at(&v, "response.replicas.0", f.f_addr);
	tj_free(&v);

	RUN_JSON(&v, 0, "-l", f.f_addr, "storage", "query", "usage");
	/* dots in the address would split a path: the host's member by index */
	assert_int_equal(tj_get(&v, "response.host_storage")->t_nkids, 1);
	assert_num_at(&tj_get(&v, "response.host_storage")->t_kids[0],
		      "storage.tiers.0.total_bytes", 1 << 30);
	assert_int_equal(tj_get(&v, "response.host_errors")->t_nkids, 0);
	tj_free(&v);

	/* a status in the reply: its name, exit 1 */
	RUN_JSON(&v, 1, "-l", f.f_addr, "pool", "destroy", "nothere");
	assert_num_at(&v, "status", -DER_NONEXIST);
	assert_non_null(strstr(tj_get(&v, "error")->t_str, "DER_NONEXIST"));
	tj_free(&v);
	f.f_status = -DER_NOSPACE;
	RUN(&r, "-l", f.f_addr, "pool", "create", "-z", "10P", "big");
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "DER_NOSPACE(-1007)"));
	run_free(&r);
	f.f_status = 0;

	/* a reply that does not decode */
	RUN_JSON(&v, 1, "-l", f.f_addr, "pool", "list-cont", "tank");
	assert_num_at(&v, "status", -DER_PROTO);
	assert_non_null(strstr(tj_get(&v, "error")->t_str, "does not decode"));
	tj_free(&v);

	/* a method this server does not serve */
	RUN_JSON(&v, 1, "-l", f.f_addr, "pool", "evict", "tank");
	assert_num_at(&v, "status", -DER_UNREG);
	assert_non_null(strstr(tj_get(&v, "error")->t_str, "not implemented by this server"));
	tj_free(&v);

	/* TLS asked for by the configuration, without certificates: refused unless -i */
	{
		char *tls = write_file("tls.yml", "hostlist: ['127.0.0.1:1']\n"
						  "transport_config:\n"
						  "  ca_cert: /nonexistent/daosCA.crt\n");

		RUN(&r, "-o", tls, "system", "query");
		assert_int_equal(r.status, DMG_EXIT_USAGE);
		assert_non_null(strstr(r.err, "certificates do not load"));
		assert_non_null(strstr(r.err, "/nonexistent/daosCA.crt"));
		run_free(&r);
		RUN(&r, "-o", tls, "-l", f.f_addr, "-i", "system", "query");
		assert_int_equal(r.status, 0);
		run_free(&r);
		D_FREE(tls);
	}
	fake_stop(&f);
	D_FREE(cfg);
}

/* A port nothing listens on: bind one, note it, close it. */
static void
dead_addr(char *buf, size_t len)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
	socklen_t slen = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &slen), 0);
	close(fd);
	snprintf(buf, len, "127.0.0.1:%u", ntohs(sa.sin_port));
}

static void
test_failover(void **state)
{
	struct fake a;
	struct fake b;
	struct fake c;
	char dead[64];
	char *list;
	struct tj v;
	struct run r;
	uint64_t t0;

	(void)state;
	fake_start(&a);
	fake_start(&b);
	fake_start(&c);
	dead_addr(dead, sizeof(dead));

	/* a non-leader's hint is followed: a -> b */
	snprintf(a.f_leader, sizeof(a.f_leader), "%s", b.f_addr);
	RUN_JSON(&v, 0, "-l", a.f_addr, "system", "query");
	assert_str_at(&v, "response.members.0.addr", b.f_addr);
	assert_int_equal(a.f_calls, 1);
	assert_int_equal(b.f_calls, 1);
	tj_free(&v);

	/* a dead host first, then a replica that knows no leader yet, then the leader */
	c.f_no_leader = true;
	D_ASPRINTF(list, "%s,%s,%s", dead, c.f_addr, b.f_addr);
	RUN_JSON(&v, 0, "-l", list, "system", "query");
	assert_str_at(&v, "response.members.0.addr", b.f_addr);
	assert_int_equal(c.f_calls, 1);
	assert_int_equal(b.f_calls, 2);
	tj_free(&v);
	D_FREE(list);

	/* the only replica is electing: dmg waits and asks again (3 rounds of 250 ms) */
	b.f_calls = 0;
	b.f_electing = 3;
	t0 = d_now_ns();
	RUN_JSON(&v, 0, "-l", b.f_addr, "system", "query");
	assert_str_at(&v, "response.members.0.addr", b.f_addr);
	assert_int_equal(b.f_calls, 4);
	assert_true(d_now_ns() - t0 >= 3 * 250ULL * 1000000ULL);
	tj_free(&v);

	/* the server is down: a clear error at once, exit 1, no hang */
	t0 = d_now_ns();
	RUN_JSON(&v, 1, "-l", dead, "pool", "list");
	assert_num_at(&v, "status", -DER_UNREACH);
	assert_non_null(strstr(tj_get(&v, "error")->t_str, dead));
	tj_free(&v);
	RUN(&r, "-l", dead, "system", "query");
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "DER_UNREACH"));
	run_free(&r);
	assert_true(d_now_ns() - t0 < 5ULL * 1000000000ULL);

	/* storage commands go to every host: one down fails the command, the other is shown */
	D_ASPRINTF(list, "%s,%s", b.f_addr, dead);
	RUN_JSON(&v, 1, "-l", list, "storage", "query", "usage");
	assert_int_equal(tj_get(&v, "response.host_storage")->t_nkids, 1);
	assert_int_equal(tj_get(&v, "response.host_errors")->t_nkids, 1);
	assert_string_equal(tj_get(&v, "response.host_errors")->t_kids[0].t_key, dead);
	assert_num_at(&v, "status", -DER_UNREACH);
	tj_free(&v);
	D_FREE(list);

	fake_stop(&a);
	fake_stop(&b);
	fake_stop(&c);
}

/* Random command lines from dmg's own words and junk: refused or built, never a crash. */
static void
test_random_args(void **state)
{
	static const char *const words[] = {
	    "pool",       "system",
	    "storage",    "telemetry",
	    "metrics",    "query",
	    "usage",      "create",
	    "destroy",    "list",
	    "get-prop",   "set-prop",
	    "get-acl",    "evict",
	    "update-acl", "stop",
	    "exclude",    "ping",
	    "-z",         "-s",
	    "-n",         "-r",
	    "-v",         "-k",
	    "-t",         "-P",
	    "-a",         "-e",
	    "-p",         "-o",
	    "-l",         "-j",
	    "-f",         "--size=",
	    "--ranks",    "--",
	    "10G",        "50%",
	    "0-3,5",      "reclaim:lazy",
	    "label:x",    "A::OWNER@:rw",
	    "tank",       "",
	    "-",          "%",
	    "[",          ",",
	    "-zz",
	};
	unsigned int seed = d_test_seed("test_random_args");
	uint64_t rs = d_test_rand_seed(seed);
	char junk[8][16];
	int iter;

	(void)state;
	for (iter = 0; iter < 20000; iter++) {
		char *argv[10] = {"dmg"};
		struct dmg_ctx ctx;
		struct dmg_call call;
		int argc = 1 + (int)(d_test_rand(&rs) % 8);
		int i;

		for (i = 1; i < argc; i++) {
			if (d_test_rand(&rs) % 5 == 0) {
				size_t k;
				size_t n = d_test_rand(&rs) % (sizeof(junk[0]) - 1);

				for (k = 0; k < n; k++)
					junk[i][k] = (char)(1 + d_test_rand(&rs) % 255);
				junk[i][n] = '\0';
				argv[i] = junk[i];
			} else {
				argv[i] = (char *)words[d_test_rand(&rs) % D_ARRAY_SIZE(words)];
			}
		}
		argv[argc] = NULL;
		(void)build_argv(&ctx, &call, argv);
		dmg_ctx_fini(&ctx);
	}
	/* the value parsers on junk */
	for (iter = 0; iter < 20000; iter++) {
		char buf[24];
		size_t n = d_test_rand(&rs) % sizeof(buf);
		struct dmg_ranks rl;
		struct dmg_size sz;
		size_t k;

		for (k = 0; k < n; k++)
			buf[k] = "0123456789-,[] %.kKmMgGiIBtT"[d_test_rand(&rs) % 28];
		buf[n] = '\0';
		if (dmg_ranks_parse(buf, 4096, &rl) == 0) {
			for (k = 1; k < rl.dr_nr; k++)
				assert_true(rl.dr_ranks[k - 1] < rl.dr_ranks[k]);
			dmg_ranks_free(&rl);
		}
		(void)dmg_size_parse(buf, true, &sz);
	}
}

static int
setup(void **state)
{
	(void)state;
	assert_non_null(mkdtemp(tmpdir));
	devnull = fopen("/dev/null", "w");
	return devnull == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char *cmd;

	(void)state;
	fclose(devnull);
	D_ASPRINTF(cmd, "rm -rf '%s'", tmpdir);
	if (cmd != NULL && system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	D_FREE(cmd);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_size),
	    cmocka_unit_test(test_ranks),
	    cmocka_unit_test(test_hostlist),
	    cmocka_unit_test(test_config),
	    cmocka_unit_test(test_pool_create_flags),
	    cmocka_unit_test(test_pool_flags),
	    cmocka_unit_test(test_system_flags),
	    cmocka_unit_test(test_help),
	    cmocka_unit_test(test_random_args),
	    cmocka_unit_test(test_json_output),
	    cmocka_unit_test(test_failover),
	};

	return cmocka_run_group_tests_name("dmg", tests, setup, teardown);
}
