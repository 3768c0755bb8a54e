/*
 * test_daos_tool.c: the daos CLI without a server: command lines that are refused (exit 1
 * with a message), help at every level, the size and property parsers, the JSON layout.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daos_internal.h"

static char out_buf[65536];
static char err_buf[65536];

/* Run daos with the NULL-terminated arguments; stdout and stderr land in out_buf, err_buf. */
static int
run(const char *first, ...)
{
	char *argv[32] = {"daos"};
	int argc = 1;
	va_list ap;
	FILE *out = tmpfile();
	FILE *err = tmpfile();
	size_t n;
	int rc;

	assert_non_null(out);
	assert_non_null(err);
	va_start(ap, first);
	for (const char *a = first; a != NULL; a = va_arg(ap, const char *))
		argv[argc++] = (char *)a;
	va_end(ap);
	rc = daos_tool_main(argc, argv, out, err);
	rewind(out);
	n = fread(out_buf, 1, sizeof(out_buf) - 1, out);
	out_buf[n] = '\0';
	rewind(err);
	n = fread(err_buf, 1, sizeof(err_buf) - 1, err);
	err_buf[n] = '\0';
	fclose(out);
	fclose(err);
	return rc;
}

static void
assert_refused(const char *what)
{
	assert_non_null(strstr(err_buf, "ERROR: daos: "));
	if (strstr(err_buf, what) == NULL)
		fail_msg("expected `%s' in: %s", what, err_buf);
}

static void
test_refusals(void **state)
{
	(void)state;
	assert_int_equal(run(NULL), 1);
	assert_refused("no resource");
	assert_int_equal(run("bucket", "list", NULL), 1);
	assert_refused("unknown resource `bucket'");
	assert_int_equal(run("container", NULL), 1);
	assert_refused("no command given");
	assert_int_equal(run("cont", "frobnicate", "p", NULL), 1);
	assert_refused("unknown command `container frobnicate'");
	assert_int_equal(run("container", "create", NULL), 1);
	assert_refused("missing argument: <pool> [<label>]");
	assert_int_equal(run("container", "query", "pool", NULL), 1);
	assert_refused("missing argument");
	assert_int_equal(run("container", "query", "pool", "c", "extra", NULL), 1);
	assert_refused("too many arguments: `extra'");
	assert_int_equal(run("container", "create", "pool", "--bogus", NULL), 1);
	assert_refused("unknown flag `--bogus'");
	/* an option of another command */
	assert_int_equal(run("container", "query", "pool", "c", "--chunk-size", "1M", NULL), 1);
	assert_refused("unknown flag `--chunk-size'");
	assert_int_equal(run("container", "create", "pool", "--type", NULL), 1);
	assert_refused("needs a value");
	assert_int_equal(run("container", "destroy", "pool", "c", "--force=yes", NULL), 1);
	assert_refused("takes no value");
	assert_int_equal(run("pool", "get-attr", "pool", NULL), 1);
	assert_refused("<pool> <name>");
	/* refused by the command before any connection (whether or not an agent runs) */
	assert_int_equal(run("container", "create", "pool", "--chunk-size", "1M", NULL), 1);
	assert_non_null(strstr(err_buf, "ERROR: daos: "));
}

static void
test_help(void **state)
{
	(void)state;
	assert_int_equal(run("--help", NULL), 0);
	assert_non_null(strstr(out_buf, "Usage: daos"));
	assert_non_null(strstr(out_buf, "list-containers"));
	assert_non_null(strstr(out_buf, "overwrite-acl"));
	assert_int_equal(run("container", "-h", NULL), 0);
	assert_null(strstr(out_buf, "list-containers"));
	assert_non_null(strstr(out_buf, "create-snap"));
	assert_int_equal(run("container", "create", "--help", NULL), 0);
	assert_non_null(strstr(out_buf, "Usage: daos container create [OPTIONS] <pool> [<label>]"));
	assert_non_null(strstr(out_buf, "--chunk-size="));
	assert_non_null(strstr(out_buf, "--oclass="));
	assert_non_null(strstr(out_buf, "--properties="));
	assert_null(strstr(out_buf, "--principal"));
	/* help wins over missing arguments */
	assert_int_equal(run("cont", "destroy-snap", "--help", NULL), 0);
	assert_non_null(strstr(out_buf, "--epcrange="));
	assert_int_equal(err_buf[0], '\0');
}

static void
test_size_parse(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(dt_size_parse("4096", &v), 0);
	assert_true(v == 4096);
	assert_int_equal(dt_size_parse("1M", &v), 0);
	assert_true(v == 1048576);
	assert_int_equal(dt_size_parse("1MiB", &v), 0);
	assert_true(v == 1048576);
	assert_int_equal(dt_size_parse("64k", &v), 0);
	assert_true(v == 65536);
	assert_int_equal(dt_size_parse("2GB", &v), 0);
	assert_true(v == 2ULL << 30);
	assert_int_equal(dt_size_parse("x", &v), -DER_INVAL);
	assert_int_equal(dt_size_parse("1Q", &v), -DER_INVAL);
	assert_int_equal(dt_size_parse("1Mx", &v), -DER_INVAL);
	assert_int_equal(dt_size_parse("-1", &v), -DER_INVAL);
	assert_int_equal(dt_size_parse("99999999999E", &v), -DER_INVAL);
	assert_int_equal(dt_u64_parse("0x10", &v), 0);
	assert_true(v == 16);
	assert_int_equal(dt_u64_parse("1 ", &v), -DER_INVAL);
}

static void
test_props_parse(void **state)
{
	struct dt_ctx ctx;
	daos_prop_t *prop;

	(void)state;
	memset(&ctx, 0, sizeof(ctx));
	assert_int_equal(dt_props_parse(&ctx, "label:foo,rd_fac:1;cksum:crc64", true, &prop), 0);
	assert_int_equal(prop->dpp_nr, 3);
	assert_int_equal(prop->dpp_entries[0].dpe_type, DAOS_PROP_CO_LABEL);
	assert_string_equal(prop->dpp_entries[0].dpe_str, "foo");
	assert_int_equal(prop->dpp_entries[1].dpe_type, DAOS_PROP_CO_REDUN_FAC);
	assert_true(prop->dpp_entries[1].dpe_val == 1);
	assert_int_equal(prop->dpp_entries[2].dpe_type, DAOS_PROP_CO_CSUM);
	assert_true(prop->dpp_entries[2].dpe_val == DAOS_PROP_CO_CSUM_CRC64);
	daos_prop_free(prop);

	assert_int_equal(dt_props_parse(&ctx, "owner:bob@,group:staff@", true, &prop), 0);
	assert_int_equal(prop->dpp_nr, 2);
	assert_string_equal(prop->dpp_entries[1].dpe_str, "staff@");
	daos_prop_free(prop);

	assert_int_equal(dt_props_parse(&ctx, "label", true, &prop), -DER_INVAL);
	assert_non_null(strstr(ctx.tx_err_msg, "not name:value"));
	assert_int_equal(dt_props_parse(&ctx, "nope:1", true, &prop), -DER_INVAL);
	assert_non_null(strstr(ctx.tx_err_msg, "unknown property `nope'"));
	/* known, but not settable this way */
	assert_int_equal(dt_props_parse(&ctx, "layout_type:1", true, &prop), -DER_INVAL);
	assert_non_null(strstr(ctx.tx_err_msg, "bad property `layout_type:1'"));
	assert_int_equal(dt_props_parse(&ctx, "rd_fac:9", true, &prop), -DER_INVAL);
	assert_int_equal(dt_props_parse(&ctx, "label:not/valid", true, &prop), -DER_INVAL);
	assert_int_equal(dt_props_parse(&ctx, ",", true, &prop), -DER_INVAL);

	assert_int_equal(dt_props_parse(&ctx, "label,owner,rf", false, &prop), 0);
	assert_int_equal(prop->dpp_nr, 3);
	assert_int_equal(prop->dpp_entries[1].dpe_type, DAOS_PROP_CO_OWNER);
	assert_int_equal(prop->dpp_entries[2].dpe_type, DAOS_PROP_CO_REDUN_FAC);
	daos_prop_free(prop);
	assert_int_equal(dt_props_parse(&ctx, "label,bogus", false, &prop), -DER_INVAL);
	assert_non_null(strstr(ctx.tx_err_msg, "unknown property `bogus'"));
}

static void
test_json_layout(void **state)
{
	struct dt_ctx ctx;
	char buf[1024];
	size_t n;
	char *b64;

	(void)state;
	memset(&ctx, 0, sizeof(ctx));
	ctx.tx_out = tmpfile();
	dt_json_begin(&ctx);
	dj_arr_begin(&ctx, "response");
	dj_obj_begin(&ctx, NULL);
	dj_str(&ctx, "name", "a\"b\n");
	dj_u64(&ctx, "epoch", 42);
	dj_obj_end(&ctx);
	dj_arr_end(&ctx);
	dt_json_end(&ctx, NULL, 0);
	rewind(ctx.tx_out);
	n = fread(buf, 1, sizeof(buf) - 1, ctx.tx_out);
	buf[n] = '\0';
	fclose(ctx.tx_out);
	assert_string_equal(buf, "{\n"
				 "  \"response\": [\n"
				 "    {\n"
				 "      \"name\": \"a\\\"b\\n\",\n"
				 "      \"epoch\": 42\n"
				 "    }\n"
				 "  ],\n"
				 "  \"error\": null,\n"
				 "  \"status\": 0\n"
				 "}\n");
	b64 = dt_base64("hello", 5);
	assert_string_equal(b64, "aGVsbG8=");
	free(b64);
	b64 = dt_base64("hi!", 3);
	assert_string_equal(b64, "aGkh");
	free(b64);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_refusals),    cmocka_unit_test(test_help),
	    cmocka_unit_test(test_size_parse),  cmocka_unit_test(test_props_parse),
	    cmocka_unit_test(test_json_layout),
	};

	return cmocka_run_group_tests_name("daos_tool", tests, NULL, NULL);
}
