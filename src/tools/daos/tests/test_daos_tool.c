/*
 * test_daos_tool.c: the daos CLI without a server: command lines that are refused (exit 1
 * with a message), help at every level, the size and property parsers, the JSON layout, and
 * `filesystem copy` between two local directories.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* `filesystem copy` between two local paths (no server): refusals, help, and one tree
 * whose file keeps its bytes, mode and mtime. */
static void
test_fs_copy_local(void **state)
{
	char top[] = "/tmp/daos_tool_fs.XXXXXX";
	char src[128];
	char dst[128];
	char path[160];
	struct timespec ts[2] = {{.tv_sec = 1000000000, .tv_nsec = 5},
				 {.tv_sec = 1000000000, .tv_nsec = 123456789}};
	struct stat st;
	char buf[64];
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(top));
	snprintf(src, sizeof(src), "%s/src", top);
	snprintf(dst, sizeof(dst), "%s/dst", top);
	assert_int_equal(mkdir(src, 0755), 0);
	snprintf(path, sizeof(path), "%s/sub", src);
	assert_int_equal(mkdir(path, 0750), 0);
	snprintf(path, sizeof(path), "%s/sub/file", src);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("payload\n", f);
	fclose(f);
	assert_int_equal(chmod(path, 0604), 0);
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
	snprintf(path, sizeof(path), "%s/ln", src);
	assert_int_equal(symlink("sub/file", path), 0);

	assert_int_equal(run("filesystem", "copy", "--src", src, NULL), 1);
	assert_refused("both --src and --dst");
	assert_int_equal(run("fs", "copy", "--src", src, "--dst", dst, "-t", "0", NULL), 1);
	assert_refused("--threads");
	assert_int_equal(run("fs", "copy", "--src", src, "--dst", dst, "--threads", "x", NULL), 1);
	assert_refused("--threads");
	assert_int_equal(run("fs", "copy", "--src", "daos://pool", "--dst", dst, NULL), 1);
	assert_refused("bad DAOS path");
	assert_int_equal(run("fs", "copy", "--src", "/nonexistent/fscopy", "--dst", dst, NULL), 1);
	assert_refused("does not exist");
	assert_int_equal(run("fs", "copy", "--src", "", "--dst", dst, NULL), 1);
	assert_refused("empty path");
	assert_int_equal(run("fs", "copy", "p", "--src", src, "--dst", dst, NULL), 1);
	assert_refused("too many arguments");
	assert_int_equal(run("fs", "copy", "--help", NULL), 0);
	assert_non_null(strstr(out_buf, "Usage: daos filesystem copy"));
	assert_non_null(strstr(out_buf, "--src="));
	assert_non_null(strstr(out_buf, "--threads="));

	assert_int_equal(run("-j", "fs", "copy", "--src", src, "--dst", dst, "-t", "2", NULL), 0);
	assert_non_null(strstr(out_buf, "\"num_dirs\": 2"));
	assert_non_null(strstr(out_buf, "\"num_files\": 1"));
	assert_non_null(strstr(out_buf, "\"num_links\": 1"));
	assert_non_null(strstr(out_buf, "\"bytes\": 8"));
	snprintf(path, sizeof(path), "%s/sub/file", dst);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0604);
	assert_int_equal(st.st_mtim.tv_sec, 1000000000);
	assert_int_equal(st.st_mtim.tv_nsec, 123456789);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_string_equal(buf, "payload\n");
	snprintf(path, sizeof(path), "%s/sub", dst);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0750);
	snprintf(path, sizeof(path), "%s/ln", dst);
	assert_int_equal(readlink(path, buf, sizeof(buf)), 8);

	/* nor into itself */
	snprintf(path, sizeof(path), "%s/sub/new", src);
	assert_int_equal(run("fs", "copy", "--src", src, "--dst", path, NULL), 1);
	assert_refused("into itself");
	/* a directory cannot go where a file is */
	snprintf(path, sizeof(path), "%s/sub/file", dst);
	assert_int_equal(run("fs", "copy", "--src", src, "--dst", path, NULL), 1);
	assert_refused("exists and is not a directory");

	snprintf(path, sizeof(path), "rm -rf '%s'", top);
	assert_int_equal(system(path), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_refusals),    cmocka_unit_test(test_help),
	    cmocka_unit_test(test_size_parse),  cmocka_unit_test(test_props_parse),
	    cmocka_unit_test(test_json_layout), cmocka_unit_test(test_fs_copy_local),
	};

	return cmocka_run_group_tests_name("daos_tool", tests, NULL, NULL);
}
