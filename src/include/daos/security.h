/*
 * daos/security.h: access decisions and credentials, shared by the client library, the
 * engine and daos_agent (src/security, static library daos_security).
 *
 * ACL evaluation. Given an ACL, the owner user/group of the resource and who asks (a user
 * principal and the group principals the user belongs to, primary group included), the
 * granted permissions are, as DAOS:
 *   1. the user is the owner and there is an OWNER@ entry: that entry;
 *   2. else an entry naming the user: that entry;
 *   3. else the union of GROUP@ (if the user is in the owner group) and of every named
 *      group of the user that has an entry, if there is at least one of those;
 *   4. else EVERYONE@, if present; else nothing.
 * Only allow permissions count. The owner of a container always gets DAOS_ACL_PERM_GET_ACL
 * and DAOS_ACL_PERM_SET_ACL on top (so an owner cannot lock themself out).
 *
 * Capabilities. A pool or container handle carries capability bits computed once, at
 * connect/open, from the permissions and the requested mode (DAOS_PC_* / DAOS_COO_*): a
 * read-only request keeps only read capabilities; a read-write request gets nothing unless
 * both some read and some write capability are granted. Targets check capabilities, never
 * the ACL.
 *
 * Credentials. daos_agent learns a local process's uid/gid from its Unix socket, builds an
 * auth.Sys token (uid, gid, gids, user/group names, host, issue and expiry times) and signs
 * it with its private key (Ed25519 or any key OpenSSL signs with); servers verify with the
 * agent's public key found by the credential's origin in their trusted-keys directory
 * (transport_config.client_cert_dir). With allow_insecure the verifier is a SHA-512 digest
 * (integrity only) and servers check nothing but that. src/security/README.md has the wire
 * format.
 */
#ifndef DAOS_SECURITY_INTERNAL_H
#define DAOS_SECURITY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <daos_security.h>
#include <gurt/types.h>

/** Owner of a pool or container: principal names ("name@"). Borrowed strings. */
struct d_ownership {
	const char *user;
	const char *group;
};

/** Who asks: principal names ("name@"); @groups includes the primary group. Borrowed. */
struct sec_user {
	const char *su_user;
	const char *const *su_groups;
	size_t su_nr_groups;
};

/** Permissions the owner always has. */
#define SEC_POOL_OWNER_MIN_PERMS (0ULL)
#define SEC_CONT_OWNER_MIN_PERMS ((uint64_t)(DAOS_ACL_PERM_GET_ACL | DAOS_ACL_PERM_SET_ACL))

/**
 * The permissions @user has by @acl (borrowed, validated by the caller or not: an invalid
 * ACL gives -DER_INVAL) on a resource owned by @own, plus @min_owner_perms for the owner.
 * *@is_owner (may be NULL) tells whether @user is the owner. Returns 0 or -DER_INVAL.
 *
 * Context: any thread; pure.
 */
int sec_acl_get_perms(struct daos_acl *acl, const struct d_ownership *own,
		      const struct sec_user *user, uint64_t min_owner_perms, uint64_t *perms,
		      bool *is_owner);

/**
 * The ACLs DAOS gives a new pool ("A::OWNER@:rw", "A:G:GROUP@:rw") and a new container
 * ("A::OWNER@:rwdtTaAo", "A:G:GROUP@:rwtT"). New ACLs (daos_acl_free) or NULL.
 */
struct daos_acl *sec_acl_default_pool(void);
struct daos_acl *sec_acl_default_cont(void);

/* Pool handle capabilities. */
#define SEC_POOL_CAPA_READ (1ULL << 0)
#define SEC_POOL_CAPA_CREATE_CONT (1ULL << 1)
#define SEC_POOL_CAPA_DEL_CONT (1ULL << 2)
#define SEC_POOL_CAPAS_RO_MASK (SEC_POOL_CAPA_READ)
#define SEC_POOL_CAPAS_ALL (SEC_POOL_CAPA_READ | SEC_POOL_CAPA_CREATE_CONT | SEC_POOL_CAPA_DEL_CONT)

/* Container handle capabilities. */
#define SEC_CONT_CAPA_READ_DATA (1ULL << 0)
#define SEC_CONT_CAPA_WRITE_DATA (1ULL << 1)
#define SEC_CONT_CAPA_GET_PROP (1ULL << 2)
#define SEC_CONT_CAPA_SET_PROP (1ULL << 3)
#define SEC_CONT_CAPA_GET_ACL (1ULL << 4)
#define SEC_CONT_CAPA_SET_ACL (1ULL << 5)
#define SEC_CONT_CAPA_SET_OWNER (1ULL << 6)
#define SEC_CONT_CAPA_DELETE (1ULL << 7)
#define SEC_CONT_CAPA_OPEN_EX (1ULL << 8)
#define SEC_CONT_CAPA_EVICT_ALL (1ULL << 9)
#define SEC_CONT_CAPAS_RO_MASK                                                                     \
	(SEC_CONT_CAPA_READ_DATA | SEC_CONT_CAPA_GET_PROP | SEC_CONT_CAPA_GET_ACL)
#define SEC_CONT_CAPAS_W_MASK                                                                      \
	(SEC_CONT_CAPA_WRITE_DATA | SEC_CONT_CAPA_SET_PROP | SEC_CONT_CAPA_SET_ACL |               \
	 SEC_CONT_CAPA_SET_OWNER | SEC_CONT_CAPA_DELETE)

/**
 * Capabilities of a pool handle opened with @flags (exactly one of DAOS_PC_RO/RW/EX) by a
 * user with @perms. Returns 0 (*@capas may be 0: no access) or -DER_INVAL (bad flags).
 */
int sec_pool_capas(uint64_t flags, uint64_t perms, uint64_t *capas);

/**
 * Capabilities of a container handle opened with DAOS_COO_* @flags (exactly one of RO, RW,
 * EX, plus modifiers) by a user with @perms, @is_owner the owner. 0 or -DER_INVAL.
 */
int sec_cont_capas(uint64_t flags, uint64_t perms, bool is_owner, uint64_t *capas);

static inline bool
sec_pool_can_connect(uint64_t capas)
{
	return (capas & SEC_POOL_CAPA_READ) != 0;
}

static inline bool
sec_pool_can_create_cont(uint64_t capas)
{
	return (capas & SEC_POOL_CAPA_CREATE_CONT) != 0;
}

static inline bool
sec_pool_can_delete_cont(uint64_t capas)
{
	return (capas & SEC_POOL_CAPA_DEL_CONT) != 0;
}

static inline bool
sec_cont_can_open(uint64_t capas)
{
	return (capas & SEC_CONT_CAPAS_RO_MASK) != 0;
}

static inline bool
sec_cont_can_write_data(uint64_t capas)
{
	return (capas & SEC_CONT_CAPA_WRITE_DATA) != 0;
}

static inline bool
sec_cont_can_read_data(uint64_t capas)
{
	return (capas & SEC_CONT_CAPA_READ_DATA) != 0;
}

/*
 * Credentials.
 */

/** Most supplementary groups a credential carries. */
#define SEC_CRED_GROUPS_MAX 1024
/** Largest packed credential accepted. */
#define SEC_CRED_MAX (256 << 10)
/** Default validity of a credential, seconds. */
#define SEC_CRED_LIFETIME_DEFAULT 3600

/** What a credential says about its holder. Strings are owned by the struct. */
struct sec_cred_info {
	uint32_t ci_uid;
	uint32_t ci_gid;
	uint32_t *ci_gids; /* supplementary gids */
	size_t ci_nr_gids;
	char *ci_user;    /* "name@" */
	char *ci_group;   /* primary group "name@" */
	char **ci_groups; /* supplementary groups "name@", ci_nr_groups of them */
	size_t ci_nr_groups;
	char *ci_machine;   /* host the agent runs on */
	char *ci_origin;    /* agent name: which key signed it */
	uint64_t ci_stamp;  /* issue time, seconds since the epoch */
	uint64_t ci_expiry; /* not valid at or after this time, seconds since the epoch */
	bool ci_signed;     /* signed (else an insecure digest) */
};

/** Free @info's strings and arrays and @info itself (NULL is fine). */
void sec_cred_info_free(struct sec_cred_info *info);

/**
 * Fill *@info (zeroed by the caller) with what the local user database says about
 * @uid/@gid: names, supplementary groups (getgrouplist) and their names, and this host's
 * name. Strings are new (sec_cred_info_free frees them). Returns 0, -DER_NONEXIST (no such
 * user) or -DER_NOMEM.
 *
 * Context: any thread; reads the user database.
 */
int sec_cred_info_local(uid_t uid, gid_t gid, struct sec_cred_info *info);

/** An agent's signing key. */
struct sec_signer;

/**
 * A signer named @origin (copied) with the private key in PEM file @key_path, or, with
 * @key_path NULL, an insecure one (SHA-512 digest only). On success *@signer is the
 * caller's, freed by sec_signer_destroy. Returns 0, -DER_INVAL, -DER_BADPATH (no such key
 * file), -DER_BAD_CERT (not a usable private key) or -DER_NOMEM.
 */
int sec_signer_create(const char *origin, const char *key_path, struct sec_signer **signer);
void sec_signer_destroy(struct sec_signer *signer);

/**
 * A packed auth.Credential for @info (borrowed; ci_origin and ci_signed are ignored: the
 * signer's are used) valid from now for @lifetime_s seconds, in a new buffer *@buf (D_FREE)
 * of *@len bytes. Returns 0, -DER_INVAL, -DER_NOMEM or -DER_MISC (signing failed).
 *
 * Context: any thread, one at a time per @signer.
 */
int sec_cred_create(struct sec_signer *signer, const struct sec_cred_info *info,
		    uint64_t lifetime_s, void **buf, size_t *len);

/** A server's set of trusted agent keys. */
struct sec_verifier;

/**
 * A verifier trusting the public keys in directory @key_dir (an agent named X is trusted
 * by "X.pub", a PEM public key, or "X.crt", a PEM certificate), or, with @insecure, one
 * that checks only the digest of unsigned credentials (and accepts signed ones without
 * checking their signature, as DAOS's allow_insecure does). Keys are read when first
 * needed and cached. Returns 0, -DER_INVAL or -DER_NOMEM.
 */
int sec_verifier_create(const char *key_dir, bool insecure, struct sec_verifier **verifier);
void sec_verifier_destroy(struct sec_verifier *verifier);

/**
 * Check the packed credential @buf/@len at time @now (seconds since the epoch; 0: now) and
 * decode it into a new *@info (sec_cred_info_free). Returns 0, or:
 *   -DER_INVAL    not a credential (undecodable, missing parts, bad names, too big)
 *   -DER_BADPATH  no trusted key for its origin
 *   -DER_BAD_CERT the trusted key file is unusable
 *   -DER_NO_PERM  bad signature or digest, unsigned on a secure verifier, or expired
 *   -DER_NOMEM
 *
 * Context: any thread (the key cache is locked).
 */
int sec_cred_verify(struct sec_verifier *verifier, const void *buf, size_t len, uint64_t now,
		    struct sec_cred_info **info);

/**
 * The permissions of the holder of verified credential @info on a resource owned by @own
 * with @acl (see sec_acl_get_perms).
 */
int sec_cred_get_perms(const struct sec_cred_info *info, struct daos_acl *acl,
		       const struct d_ownership *own, uint64_t min_owner_perms, uint64_t *perms,
		       bool *is_owner);

/*
 * Client side: talking to the local daos_agent (cli_security.c).
 */

/** Default directory of the agent's socket, and the variable that overrides it. */
#define DC_AGENT_DIR_DEFAULT "/var/run/daos_agent"
#define DC_AGENT_DIR_ENV "DAOS_AGENT_DRPC_DIR"
#define DC_AGENT_SOCK_NAME "daos_agent.sock"
/** Largest message on the agent socket. */
#define DC_AGENT_MSG_MAX (1U << 20)

/** Methods of the agent socket (agent.Request.method). */
enum dc_agent_method {
	DC_AGENT_REQUEST_CREDS = 1,
	DC_AGENT_GET_ATTACH_INFO = 2,
};

/**
 * A credential for the calling process from the agent, in a new buffer @creds->iov_buf
 * (D_FREE). Returns 0, -DER_INVAL, -DER_BADPATH / -DER_NONEXIST (no agent socket),
 * -DER_NO_PERM (socket not accessible), -DER_UNREACH (no agent listening), -DER_PROTO
 * (garbage answer), -DER_TIMEDOUT, or the agent's error.
 *
 * Context: any thread that may block.
 */
int dc_sec_request_creds(d_iov_t *creds);

/** Attach info as the agent hands it out (new strings, dc_attach_info_free). */
struct dc_attach_info {
	char *ai_sys;
	char *ai_provider;
	char *ai_interface;
	char *ai_domain;
	uint32_t *ai_ms_ranks;
	size_t ai_nr_ms_ranks;
	struct dc_rank_uri {
		uint32_t ru_rank;
		uint32_t ru_nr_ctxs;
		char *ru_uri;
	} * ai_rank_uris;
	size_t ai_nr_rank_uris;
	char **ai_access_points;
	size_t ai_nr_access_points;
};

void dc_attach_info_free(struct dc_attach_info *info);

/**
 * The attach info of system @sys (NULL or "": the agent's) from the agent, in a new
 * *@info. Errors as dc_sec_request_creds.
 */
int dc_agent_attach_info(const char *sys, struct dc_attach_info **info);

/**
 * Call @method on the agent at @sock_path (NULL: $DAOS_AGENT_DRPC_DIR or the default,
 * then daos_agent.sock) with @body/@len; the reply body in a new *@reply (D_FREE). Returns
 * the agent's status or a transport error as above.
 */
int dc_agent_call(const char *sock_path, uint32_t method, const void *body, size_t len,
		  void **reply, size_t *reply_len);

#endif /* DAOS_SECURITY_INTERNAL_H */
