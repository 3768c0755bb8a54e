/*
 * daos_internal.h: the pieces of `daos`, the user CLI for pools and containers (README.md):
 * the command line and output helpers (daos_main.c, daos_args.c) and the commands
 * (daos_cmd_pool.c, daos_cmd_cont.c), which call libdaos and libdfs. Everything is reachable
 * through daos_tool_main(), which the daos executable wraps and the unit test drives.
 *
 * Errors: commands return 0 or -DER_*; the message shown to the user is left in
 * ctx->tx_err (daos_tool_fail). Context: single-threaded; commands block in libdaos.
 */
#ifndef DAOS_TOOL_INTERNAL_H
#define DAOS_TOOL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <daos.h>

/* Exit statuses (as DAOS's daos: 1 for any failure, bad command lines included). */
#define DT_EXIT_OK 0
#define DT_EXIT_FAIL 1

#define DT_POS_MAX 4

/* Everything the command line says. */
struct dt_opts {
	bool o_json;
	bool o_help;
	bool o_force;
	bool o_verbose;
	bool o_no_check;
	const char *o_sys;
	const char *o_type;
	const char *o_chunk_size;
	const char *o_oclass;
	const char *o_label;
	const char *o_props;
	const char *o_snap;
	const char *o_epc;
	const char *o_epcrange;
	const char *o_entry;
	const char *o_acl_file;
	const char *o_principal;
	const char *o_user;
	const char *o_group;
	const char *o_outfile;
	const char *o_src;
	const char *o_dst;
	const char *o_threads;
	const struct dt_cmd *o_cmd;
	const char *o_group_name; /* a group given without a command ("container") */
	const char *o_pos[DT_POS_MAX];
	int o_npos;
};

/* One run. */
struct dt_ctx {
	FILE *tx_out;
	FILE *tx_err;
	struct dt_opts tx_opts;
	char tx_err_msg[512];
	daos_handle_t tx_poh;
	daos_handle_t tx_coh;
	bool tx_pool_open;
	bool tx_cont_open;
	/* the JSON writer */
	int tx_depth;
	bool tx_first[16];
};

struct dt_cmd {
	const char *c_group; /* "pool", "container" */
	const char *c_name;  /* "create" */
	const char *c_alias; /* another name or NULL ("list-cont") */
	const char *c_summary;
	const char *c_pos_help;
	int c_pos_min;
	int c_pos_max;
	const char *c_opts; /* long names of the options it takes, comma-separated */
	int (*c_run)(struct dt_ctx *ctx, const struct dt_opts *o);
};

/* daos_main.c */
int daos_tool_main(int argc, char **argv, FILE *out, FILE *err);
extern const struct dt_cmd *const dt_cmds[];
int dt_fail(struct dt_ctx *ctx, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* daos_args.c: 0, or -DER_INVAL with the message in ctx */
int dt_args_parse(struct dt_ctx *ctx, int argc, char **argv);
void dt_help_print(FILE *f, const struct dt_opts *o);
/* "4096", "1M", "1MiB", "64k": bytes (powers of 1024 for K M G T, as DAOS's chunk sizes) */
int dt_size_parse(const char *str, uint64_t *bytes);
/* "123", "0x7b" */
int dt_u64_parse(const char *str, uint64_t *val);

/* JSON (daos_main.c): Go's MarshalIndent layout */
void dt_json_begin(struct dt_ctx *ctx);                            /* {"response": */
void dt_json_end(struct dt_ctx *ctx, const char *err, int status); /* "error", "status"} */
void dj_obj_begin(struct dt_ctx *ctx, const char *key);
void dj_obj_end(struct dt_ctx *ctx);
void dj_arr_begin(struct dt_ctx *ctx, const char *key);
void dj_arr_end(struct dt_ctx *ctx);
void dj_str(struct dt_ctx *ctx, const char *key, const char *val);
void dj_u64(struct dt_ctx *ctx, const char *key, uint64_t val);
void dj_f64(struct dt_ctx *ctx, const char *key, double val); /* 3 decimals */
void dj_null(struct dt_ctx *ctx, const char *key);

/* Connect to the pool of o_pos[0] (read-only or read-write); open container o_pos[1]. */
int dt_pool_connect(struct dt_ctx *ctx, const struct dt_opts *o, bool rw);
int dt_cont_open(struct dt_ctx *ctx, const struct dt_opts *o, unsigned int flags);

/* daos_cmd_cont.c: property names and values as DAOS's daos tool prints them */
int dt_prop_print(struct dt_ctx *ctx, daos_prop_t *prop);
int dt_props_parse(struct dt_ctx *ctx, const char *str, bool values, daos_prop_t **prop);

/* base64 of @len bytes into a new string (free) */
char *dt_base64(const void *buf, size_t len);

extern const struct dt_cmd dt_cmd_pool_query, dt_cmd_pool_list_cont, dt_cmd_pool_get_attr,
    dt_cmd_pool_set_attr, dt_cmd_pool_list_attrs, dt_cmd_pool_del_attr;
extern const struct dt_cmd dt_cmd_cont_create, dt_cmd_cont_destroy, dt_cmd_cont_list,
    dt_cmd_cont_query, dt_cmd_cont_get_prop, dt_cmd_cont_set_prop, dt_cmd_cont_get_attr,
    dt_cmd_cont_set_attr, dt_cmd_cont_list_attrs, dt_cmd_cont_del_attr, dt_cmd_cont_create_snap,
    dt_cmd_cont_list_snaps, dt_cmd_cont_destroy_snap, dt_cmd_cont_get_acl, dt_cmd_cont_update_acl,
    dt_cmd_cont_delete_acl, dt_cmd_cont_overwrite_acl, dt_cmd_cont_set_owner;
extern const struct dt_cmd dt_cmd_obj_query;
extern const struct dt_cmd dt_cmd_fs_copy;

#endif /* DAOS_TOOL_INTERNAL_H */
