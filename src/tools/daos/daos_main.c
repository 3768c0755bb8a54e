/*
 * daos_main.c: one run of `daos`: parse, connect, run the command, report; the command
 * table, the JSON writer (Go's MarshalIndent layout, inside DAOS's {"response", "error",
 * "status"} envelope) and the pool/container connection helpers.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <daos.h>
#include <gurt/common.h>

#include "daos_internal.h"

const struct dt_cmd *const dt_cmds[] = {
    &dt_cmd_pool_query,
    &dt_cmd_pool_list_cont,
    &dt_cmd_pool_list_attrs,
    &dt_cmd_pool_get_attr,
    &dt_cmd_pool_set_attr,
    &dt_cmd_pool_del_attr,
    &dt_cmd_cont_create,
    &dt_cmd_cont_destroy,
    &dt_cmd_cont_list,
    &dt_cmd_cont_query,
    &dt_cmd_cont_get_prop,
    &dt_cmd_cont_set_prop,
    &dt_cmd_cont_list_attrs,
    &dt_cmd_cont_get_attr,
    &dt_cmd_cont_set_attr,
    &dt_cmd_cont_del_attr,
    &dt_cmd_cont_create_snap,
    &dt_cmd_cont_list_snaps,
    &dt_cmd_cont_destroy_snap,
    &dt_cmd_cont_get_acl,
    &dt_cmd_cont_update_acl,
    &dt_cmd_cont_delete_acl,
    &dt_cmd_cont_overwrite_acl,
    &dt_cmd_cont_set_owner,
    &dt_cmd_obj_query,
    &dt_cmd_fs_copy,
    NULL,
};

int
dt_fail(struct dt_ctx *ctx, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx->tx_err_msg, sizeof(ctx->tx_err_msg), fmt, ap);
	va_end(ap);
	return rc;
}

/* JSON */

static void
dj_quote(FILE *f, const char *s)
{
	const unsigned char *p;

	fputc('"', f);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", f);
		else if (*p == '\t')
			fputs("\\t", f);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void
dj_key(struct dt_ctx *ctx, const char *key)
{
	int i;

	if (ctx->tx_depth > 0) {
		if (!ctx->tx_first[ctx->tx_depth])
			fputc(',', ctx->tx_out);
		fputc('\n', ctx->tx_out);
		for (i = 0; i < ctx->tx_depth; i++)
			fputs("  ", ctx->tx_out);
	}
	ctx->tx_first[ctx->tx_depth] = false;
	if (key != NULL) {
		dj_quote(ctx->tx_out, key);
		fputs(": ", ctx->tx_out);
	}
}

static void
dj_open(struct dt_ctx *ctx, const char *key, char c)
{
	dj_key(ctx, key);
	fputc(c, ctx->tx_out);
	D_ASSERT(ctx->tx_depth + 1 < (int)D_ARRAY_SIZE(ctx->tx_first));
	ctx->tx_first[++ctx->tx_depth] = true;
}

static void
dj_close(struct dt_ctx *ctx, char c)
{
	int i;

	if (!ctx->tx_first[ctx->tx_depth]) {
		fputc('\n', ctx->tx_out);
		for (i = 0; i < ctx->tx_depth - 1; i++)
			fputs("  ", ctx->tx_out);
	}
	ctx->tx_depth--;
	fputc(c, ctx->tx_out);
	if (ctx->tx_depth == 0)
		fputc('\n', ctx->tx_out);
}

void
dj_obj_begin(struct dt_ctx *ctx, const char *key)
{
	dj_open(ctx, key, '{');
}

void
dj_obj_end(struct dt_ctx *ctx)
{
	dj_close(ctx, '}');
}

void
dj_arr_begin(struct dt_ctx *ctx, const char *key)
{
	dj_open(ctx, key, '[');
}

void
dj_arr_end(struct dt_ctx *ctx)
{
	dj_close(ctx, ']');
}

void
dj_str(struct dt_ctx *ctx, const char *key, const char *val)
{
	dj_key(ctx, key);
	dj_quote(ctx->tx_out, val != NULL ? val : "");
}

void
dj_u64(struct dt_ctx *ctx, const char *key, uint64_t val)
{
	dj_key(ctx, key);
	fprintf(ctx->tx_out, "%" PRIu64, val);
}

void
dj_f64(struct dt_ctx *ctx, const char *key, double val)
{
	dj_key(ctx, key);
	fprintf(ctx->tx_out, "%.3f", val);
}

void
dj_null(struct dt_ctx *ctx, const char *key)
{
	dj_key(ctx, key);
	fputs("null", ctx->tx_out);
}

void
dt_json_begin(struct dt_ctx *ctx)
{
	ctx->tx_depth = 0;
	ctx->tx_first[0] = true;
	dj_obj_begin(ctx, NULL);
}

void
dt_json_end(struct dt_ctx *ctx, const char *err, int status)
{
	if (err != NULL)
		dj_str(ctx, "error", err);
	else
		dj_null(ctx, "error");
	dj_key(ctx, "status");
	fprintf(ctx->tx_out, "%d", status);
	dj_obj_end(ctx);
}

char *
dt_base64(const void *buf, size_t len)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = buf;
	char *out;
	size_t i;
	size_t n = 0;

	out = malloc((len + 2) / 3 * 4 + 1);
	if (out == NULL)
		return NULL;
	for (i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		out[n++] = tab[(v >> 18) & 63];
		out[n++] = tab[(v >> 12) & 63];
		out[n++] = i + 1 < len ? tab[(v >> 6) & 63] : '=';
		out[n++] = i + 2 < len ? tab[v & 63] : '=';
	}
	out[n] = '\0';
	return out;
}

/* connections */

int
dt_pool_connect(struct dt_ctx *ctx, const struct dt_opts *o, bool rw)
{
	int rc;

	rc = daos_pool_connect(o->o_pos[0], o->o_sys, rw ? DAOS_PC_RW : DAOS_PC_RO, &ctx->tx_poh,
			       NULL, NULL);
	if (rc != 0)
		return dt_fail(ctx, rc, "failed to connect to pool %s", o->o_pos[0]);
	ctx->tx_pool_open = true;
	return 0;
}

int
dt_cont_open(struct dt_ctx *ctx, const struct dt_opts *o, unsigned int flags)
{
	int rc;

	rc = dt_pool_connect(ctx, o, flags != DAOS_COO_RO);
	if (rc != 0)
		return rc;
	rc = daos_cont_open(ctx->tx_poh, o->o_pos[1], flags, &ctx->tx_coh, NULL, NULL);
	if (rc != 0)
		return dt_fail(ctx, rc, "failed to open container %s", o->o_pos[1]);
	ctx->tx_cont_open = true;
	return 0;
}

static void
dt_disconnect(struct dt_ctx *ctx)
{
	if (ctx->tx_cont_open)
		daos_cont_close(ctx->tx_coh, NULL);
	if (ctx->tx_pool_open)
		daos_pool_disconnect(ctx->tx_poh, NULL);
	ctx->tx_cont_open = false;
	ctx->tx_pool_open = false;
}

/*
 * One run: returns the exit status. Usage errors print a message (and help hint) on @err;
 * command failures print "ERROR: daos: <what>: DER_X(-n): description" on @err, or, with
 * -j, the JSON envelope with "error" and "status" on @out.
 */
int
daos_tool_main(int argc, char **argv, FILE *out, FILE *err)
{
	struct dt_ctx ctx;
	char msg[700];
	int rc;

	memset(&ctx, 0, sizeof(ctx));
	ctx.tx_out = out;
	ctx.tx_err = err;
	rc = dt_args_parse(&ctx, argc, argv);
	if (rc != 0) {
		fprintf(err, "ERROR: daos: %s\n(see `daos%s%s --help')\n", ctx.tx_err_msg,
			ctx.tx_opts.o_group_name != NULL ? " " : "",
			ctx.tx_opts.o_group_name != NULL ? ctx.tx_opts.o_group_name : "");
		return DT_EXIT_FAIL;
	}
	if (ctx.tx_opts.o_help) {
		dt_help_print(out, &ctx.tx_opts);
		return DT_EXIT_OK;
	}
	rc = daos_init();
	if (rc != 0) {
		fprintf(err, "ERROR: daos: failed to initialize libdaos: %s(%d): %s\n",
			d_errstr(rc), rc, d_errdesc(rc));
		return DT_EXIT_FAIL;
	}
	rc = ctx.tx_opts.o_cmd->c_run(&ctx, &ctx.tx_opts);
	dt_disconnect(&ctx);
	daos_fini();
	if (rc == 0)
		return DT_EXIT_OK;
	snprintf(msg, sizeof(msg), "%s: %s(%d): %s",
		 ctx.tx_err_msg[0] != '\0' ? ctx.tx_err_msg : "command failed", d_errstr(rc), rc,
		 d_errdesc(rc));
	if (ctx.tx_opts.o_json) {
		dt_json_begin(&ctx);
		dj_null(&ctx, "response");
		dt_json_end(&ctx, msg, rc);
	} else {
		fprintf(err, "ERROR: daos: %s\n", msg);
	}
	return DT_EXIT_FAIL;
}
