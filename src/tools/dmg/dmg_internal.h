/*
 * dmg_internal.h: the pieces of dmg, the management CLI (README.md): command-line parsing
 * (dmg_args.c), daos_control.yml (dmg_config.c), JSON output (dmg_json.c), calls to the
 * management port (dmg_call.c) and the commands (dmg_cmd_*.c). Everything is reachable
 * through dmg_main(), which the dmg executable wraps and the unit tests drive directly.
 *
 * Memory: what a command builds for one run (request messages, strings, rank arrays) comes
 * from the run's arena (dmg_alloc) and is freed at once by dmg_ctx_fini. Replies unpacked
 * by dmg_call_* belong to the caller (protobuf_c_message_free_unpacked(resp, NULL)); host
 * and config arrays from dmg_config.c to their dmg_*_free/fini.
 *
 * Errors: functions return 0 or -DER_*; those that take a ctx also leave the message shown
 * to the user in ctx->dx_err_msg (dmg_fail).
 *
 * Context: dmg is single-threaded; everything runs on the calling thread. Only dmg_call_*
 * (and the commands that use them) block, on sockets, for at most the call's deadline.
 */
#ifndef DMG_INTERNAL_H
#define DMG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <protobuf-c/protobuf-c.h>

/* Defaults, as DAOS's dmg. */
#define DMG_PORT_DEFAULT 10001
#define DMG_SYS_DEFAULT "daos_server"
#define DMG_CONFIG_DEFAULT "/etc/daos/daos_control.yml"
/* Where the TLS files are when daos_control.yml does not say (DAOS's default). */
#define DMG_CERT_DIR "/etc/daos/certs"
#define DMG_HOSTS_MAX 1024
#define DMG_POS_MAX 4
#define DMG_CONNECT_TIMEOUT_MS 5000
#define DMG_CALL_TIMEOUT_MS 60000
/* A non-leader's hint is followed at most this many times per call. */
#define DMG_LEADER_HOPS_MAX 8
#define DMG_NIL_RANK 0xffffffffU

/* Exit statuses. */
#define DMG_EXIT_OK 0
#define DMG_EXIT_FAIL 1  /* the command failed (the server said no, or none answered) */
#define DMG_EXIT_USAGE 2 /* bad command line or configuration */

/* A size flag: bytes, or a percentage of what is available ("50%"). */
struct dmg_size {
	bool ds_set;
	bool ds_pct;
	uint32_t ds_ratio; /* 1..100 when ds_pct */
	uint64_t ds_bytes;
};

/* A rank set, sorted and without duplicates. */
struct dmg_ranks {
	uint32_t *dr_ranks;
	uint32_t dr_nr;
};

/* daos_control.yml */
struct dmg_config {
	char *dc_name;    /* system name */
	uint32_t dc_port; /* default port of hosts given without one */
	char **dc_hosts;  /* "host:port" */
	uint32_t dc_nhosts;
	bool dc_insecure; /* transport_config.allow_insecure */
	char *dc_ca_cert; /* transport_config (NULL: DMG_CERT_DIR's daosCA.crt, admin.*) */
	char *dc_cert;
	char *dc_key;
	bool dc_loaded; /* read from a file (not only defaults) */
};

struct dmg_cmd;

/* Everything the command line says: global options, then the command's. */
struct dmg_opts {
	/* global */
	const char *o_config;
	const char *o_hostlist;
	bool o_json;
	bool o_insecure;
	bool o_debug;
	bool o_help;
	/* the command, its positional arguments */
	const struct dmg_cmd *o_cmd;
	const char *o_group; /* a command group ("pool") given without a command */
	const char *o_pos[DMG_POS_MAX];
	int o_npos;
	/* command flags (each command uses some) */
	struct dmg_size o_size;
	struct dmg_size o_scm_size;
	struct dmg_size o_nvme_size;
	const char *o_tier_ratio;
	uint32_t o_nranks;
	uint32_t o_nsvc;
	struct dmg_ranks o_ranks;
	bool o_ranks_set;
	const char *o_rank_hosts;
	const char *o_target_idx; /* pool exclude/drain/reintegrate: "0,1" */
	const char *o_label;
	const char *o_props;
	const char *o_acl_file;
	const char *o_user;
	const char *o_ugroup;
	const char *o_entry;
	const char *o_principal;
	const char *o_outfile;
	const char *o_metrics;
	bool o_force;
	bool o_recursive;
	bool o_verbose;
	bool o_no_query;
	bool o_show_enabled;
	bool o_health_only;
	bool o_clear;
	uint32_t o_count;
};

/* One allocation of a run's arena. */
struct dmg_chunk {
	struct dmg_chunk *dk_next;
	max_align_t dk_data[];
};

/* One run of dmg. */
struct dmg_ctx {
	FILE *dx_out;
	FILE *dx_err;
	struct dmg_opts dx_opts;
	struct dmg_config dx_cfg;
	char **dx_hosts; /* where to send (from -l, else the config); arena */
	uint32_t dx_nhosts;
	const char *dx_sys;
	uint64_t dx_timeout_ms;
	struct dmg_chunk *dx_arena;
	char dx_err_msg[512]; /* the failure, as shown to the user */
	char dx_leader[64];   /* the host that answered the last call */
};

/* What a command's build step hands to the generic executor. */
struct dmg_call {
	uint32_t cl_method;
	ProtobufCMessage *cl_req;
	const ProtobufCMessageDescriptor *cl_resp_desc;
	bool cl_each_host; /* sent to every host (storage, telemetry), not to the MS leader */
};

/* The end of a command's build function: send @req as @method, decode the reply with @desc.
 * Returns 0. */
static inline int
dmg_call_set(struct dmg_call *call, uint32_t method, ProtobufCMessage *req,
	     const ProtobufCMessageDescriptor *desc)
{
	call->cl_method = method;
	call->cl_req = req;
	call->cl_resp_desc = desc;
	return 0;
}

typedef int (*dmg_build_fn_t)(struct dmg_ctx *ctx, const struct dmg_opts *o, struct dmg_call *call);
/* Print a reply (table, or JSON's "response" value). */
typedef int (*dmg_print_fn_t)(struct dmg_ctx *ctx, const struct dmg_opts *o,
			      const struct dmg_call *call, ProtobufCMessage *resp);

enum dmg_opt_kind {
	DO_BOOL,
	DO_STR,
	DO_U32,
	DO_SIZE,  /* struct dmg_size, with "%" */
	DO_BYTES, /* struct dmg_size, bytes only */
	DO_RANKS, /* struct dmg_ranks; sets o_ranks_set */
};

struct dmg_opt {
	char op_short; /* 0: none */
	const char *op_long;
	enum dmg_opt_kind op_kind;
	size_t op_off;      /* in struct dmg_opts */
	const char *op_arg; /* name of the value in help */
	const char *op_help;
	bool op_required;
};

#define DMG_OPT(s, l, k, f, a, h)                                                                  \
	{                                                                                          \
		s, l, k, offsetof(struct dmg_opts, f), a, h, false                                 \
	}
#define DMG_OPT_REQ(s, l, k, f, a, h)                                                              \
	{                                                                                          \
		s, l, k, offsetof(struct dmg_opts, f), a, h, true                                  \
	}
#define DMG_OPT_END                                                                                \
	{                                                                                          \
		0, NULL, DO_BOOL, 0, NULL, NULL, false                                             \
	}

struct dmg_cmd {
	const char *dc_path; /* "pool create" */
	const char *dc_summary;
	const char *dc_pos_help; /* "<pool label>" */
	int dc_pos_min;
	int dc_pos_max;
	const struct dmg_opt *dc_opts;
	dmg_build_fn_t dc_build;
	dmg_print_fn_t dc_print;
	/* custom executor (no call, or several); NULL: build, call, print */
	int (*dc_exec)(struct dmg_ctx *ctx, const struct dmg_opts *o);
};

/* dmg_main.c: one run; returns the exit status (DMG_EXIT_*) */
int dmg_main(int argc, char **argv, FILE *out, FILE *err);
extern const struct dmg_cmd *const dmg_cmds[];
extern const size_t dmg_ncmds;

/* dmg_args.c: parsers (0 or -DER_INVAL) and the command line */
int dmg_size_parse(const char *str, bool allow_pct, struct dmg_size *sz);
int dmg_ranks_parse(const char *str, uint32_t max_nr, struct dmg_ranks *rl);
int dmg_u32_parse(const char *str, uint32_t *val);
void dmg_ranks_free(struct dmg_ranks *rl);
int dmg_ranks_format(const uint32_t *ranks, size_t nr, char *buf, size_t len);
void dmg_size_format(uint64_t bytes, char *buf, size_t len);
int dmg_args_parse(struct dmg_ctx *ctx, int argc, char **argv);
void dmg_help_print(FILE *f, const struct dmg_opts *o);

/* dmg_config.c: daos_control.yml; host lists split into "host:port" strings (caller frees) */
int dmg_config_load(const char *path, bool must_exist, struct dmg_config *cfg, char *err,
		    size_t errlen);
void dmg_config_fini(struct dmg_config *cfg);
int dmg_hostlist_parse(const char *list, uint32_t port, char ***hosts, uint32_t *nr);
void dmg_hosts_free(char **hosts, uint32_t nr);

/* dmg_ctx (dmg_main.c): init before a run, fini frees the arena, options and config */
void *dmg_alloc(struct dmg_ctx *ctx, size_t size);
char *dmg_strdup(struct dmg_ctx *ctx, const char *s);
void dmg_ctx_init(struct dmg_ctx *ctx, FILE *out, FILE *err);
void dmg_ctx_fini(struct dmg_ctx *ctx);
int dmg_fail(struct dmg_ctx *ctx, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* dmg_call.c: dmg_call_host to one host, dmg_call_ms to the MS leader (hints followed) */
int dmg_call_host(struct dmg_ctx *ctx, const char *host, uint32_t method,
		  const ProtobufCMessage *req, const ProtobufCMessageDescriptor *desc,
		  ProtobufCMessage **resp);
int dmg_call_ms(struct dmg_ctx *ctx, uint32_t method, const ProtobufCMessage *req,
		const ProtobufCMessageDescriptor *desc, ProtobufCMessage **resp);
const char *dmg_method_name(uint32_t method);

/* dmg_json.c: a streaming writer with Go's MarshalIndent layout (two spaces) */
struct dmg_json {
	FILE *dj_f;
	int dj_depth;
	bool dj_first[32];
};

void dj_init(struct dmg_json *j, FILE *f);
void dj_obj_begin(struct dmg_json *j, const char *key);
void dj_obj_end(struct dmg_json *j);
void dj_arr_begin(struct dmg_json *j, const char *key);
void dj_arr_end(struct dmg_json *j);
void dj_str(struct dmg_json *j, const char *key, const char *val);
void dj_u64(struct dmg_json *j, const char *key, uint64_t val);
void dj_i64(struct dmg_json *j, const char *key, int64_t val);
void dj_dbl(struct dmg_json *j, const char *key, double val);
void dj_bool(struct dmg_json *j, const char *key, bool val);
void dj_null(struct dmg_json *j, const char *key);
void dj_u32_arr(struct dmg_json *j, const char *key, const uint32_t *v, size_t n);
/* Every field of @msg (proto names, enums as names) but those in @skip (NULL-terminated). */
void dj_pb_fields(struct dmg_json *j, const ProtobufCMessage *msg, const char *const *skip);
void dj_pb_enum(struct dmg_json *j, const char *key, const ProtobufCEnumDescriptor *desc,
		int value);
/* {"response": ..., "error": null|"...", "status": rc}: begin (the caller writes the
 * response value with key "response") and end. */
void dj_envelope_begin(struct dmg_json *j, FILE *f);
void dj_envelope_end(struct dmg_json *j, const char *err, int status);

/* dmg_table.c: text tables as DAOS's dmg prints them (header, dashes, left-aligned columns) */
struct dmg_table {
	struct dmg_ctx *dt_ctx;
	uint32_t dt_ncols;
	uint32_t dt_nrows; /* including the header */
	uint32_t dt_cap;
	const char **dt_cells;
};

int dmg_table_init(struct dmg_ctx *ctx, struct dmg_table *t, uint32_t ncols,
		   const char *const *headers);
/* Append a row of t->dt_ncols cells (copied). 0 or -DER_NOMEM. */
int dmg_table_row(struct dmg_table *t, const char *const *cells);
void dmg_table_print(const struct dmg_table *t, FILE *f);
/* A printf into the arena; NULL when out of memory. */
char *dmg_sprintf(struct dmg_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Commands, by group (dmg_cmd_*.c) */
extern const struct dmg_cmd dmg_cmd_system_query, dmg_cmd_system_stop, dmg_cmd_system_start,
    dmg_cmd_system_exclude, dmg_cmd_system_clear_exclude, dmg_cmd_system_leader_query,
    dmg_cmd_system_ping, dmg_cmd_system_attach_info;
extern const struct dmg_cmd dmg_cmd_pool_create, dmg_cmd_pool_destroy, dmg_cmd_pool_list,
    dmg_cmd_pool_query, dmg_cmd_pool_get_prop, dmg_cmd_pool_set_prop, dmg_cmd_pool_get_acl,
    dmg_cmd_pool_update_acl, dmg_cmd_pool_delete_acl, dmg_cmd_pool_overwrite_acl,
    dmg_cmd_pool_list_cont, dmg_cmd_pool_evict, dmg_cmd_pool_exclude, dmg_cmd_pool_drain,
    dmg_cmd_pool_reintegrate;
extern const struct dmg_cmd dmg_cmd_storage_format, dmg_cmd_storage_query_usage,
    dmg_cmd_telemetry_metrics_query, dmg_cmd_telemetry_metrics_list;

/* A new protobuf-c message of type @T in the arena, initialised with @INIT; NULL: no memory. */
#define DMG_MSG_NEW(ctx, T, INIT)                                                                  \
	({                                                                                         \
		T *__m = dmg_alloc((ctx), sizeof(T));                                              \
		if (__m != NULL)                                                                   \
			*__m = (T)INIT;                                                            \
		__m;                                                                               \
	})

/* The canonical rank-set string of o_ranks ("" when not given), in the arena. */
char *dmg_ranks_str(struct dmg_ctx *ctx, const struct dmg_opts *o);
/* Print @resp as DAOS's JSON envelope on ctx->dx_out: {"response": {fields}, ...}. */
void dmg_json_resp(struct dmg_ctx *ctx, const ProtobufCMessage *resp, const char *const *skip);

/* Pool properties (dmg_cmd_pool.c), for -P/--properties, set-prop and get-prop. */
int dmg_props_parse(struct dmg_ctx *ctx, const char *str, bool values, ProtobufCMessage ***props,
		    size_t *nr);

#endif /* DMG_INTERNAL_H */
