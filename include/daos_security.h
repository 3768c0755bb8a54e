/*
 * daos_security.h: access control lists of pools and containers.
 *
 * An ACL (struct daos_acl) is a header followed by variable-length access control entries
 * (struct daos_ace), one per principal, in the order owner, users, owner group, groups,
 * everyone. Each entry says which permissions (DAOS_ACL_PERM_*) are allowed, audited or
 * alarmed for its principal. The text form of an entry is "access:flags:principal:perms",
 * e.g. "A::OWNER@:rwdtTaAo" or "A:G:admins@:rw".
 */
#ifndef D_DAOS_SECURITY_H
#define D_DAOS_SECURITY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#pragma GCC visibility push(default)

#if defined(__cplusplus)
extern "C" {
#endif

/** Version of the ACL format. */
#define DAOS_ACL_VERSION (1)

/** Longest "user@domain" principal, without the NUL. */
#define DAOS_ACL_MAX_PRINCIPAL_LEN (255)
#define DAOS_ACL_MAX_PRINCIPAL_BUF_LEN (DAOS_ACL_MAX_PRINCIPAL_LEN + 1)

/** Names of the special principals. */
#define DAOS_ACL_PRINCIPAL_OWNER "OWNER@"
#define DAOS_ACL_PRINCIPAL_OWNER_GRP "GROUP@"
#define DAOS_ACL_PRINCIPAL_EVERYONE "EVERYONE@"

/** Largest dal_len. */
#define DAOS_ACL_MAX_ACE_LEN (65536)

/** Longest entry in text form. */
#define DAOS_ACL_MAX_ACE_STR_LEN (DAOS_ACL_MAX_PRINCIPAL_LEN + 64)

/** An ACL: this header, then dal_len bytes of struct daos_ace entries. */
struct daos_acl {
	uint16_t dal_ver;
	uint16_t dal_reserv;
	/** bytes of entries that follow */
	uint32_t dal_len;
	uint8_t dal_ace[];
};

/** Kind of principal. OWNER, OWNER_GROUP and EVERYONE have no name. */
enum daos_acl_principal_type {
	DAOS_ACL_OWNER,
	DAOS_ACL_USER,
	DAOS_ACL_OWNER_GROUP,
	DAOS_ACL_GROUP,
	DAOS_ACL_EVERYONE,
};

/** Access types of an entry (bits). */
enum daos_acl_access_type {
	DAOS_ACL_ACCESS_ALLOW = (1U << 0),
	DAOS_ACL_ACCESS_AUDIT = (1U << 1),
	DAOS_ACL_ACCESS_ALARM = (1U << 2)
};

#define DAOS_ACL_ACCESS_ALL (DAOS_ACL_ACCESS_ALLOW | DAOS_ACL_ACCESS_AUDIT | DAOS_ACL_ACCESS_ALARM)

/** Entry flags (bits). */
enum daos_acl_flags {
	/** the principal is a group */
	DAOS_ACL_FLAG_GROUP = (1U << 0),
	/** containers inherit this pool entry */
	DAOS_ACL_FLAG_POOL_INHERIT = (1U << 1),
	/** audit/alarm failed accesses */
	DAOS_ACL_FLAG_ACCESS_FAIL = (1U << 2),
	/** audit/alarm successful accesses */
	DAOS_ACL_FLAG_ACCESS_SUCCESS = (1U << 3)
};

#define DAOS_ACL_FLAG_ALL                                                                          \
	(DAOS_ACL_FLAG_GROUP | DAOS_ACL_FLAG_POOL_INHERIT | DAOS_ACL_FLAG_ACCESS_FAIL |            \
	 DAOS_ACL_FLAG_ACCESS_SUCCESS)

/** Permissions (bits); the letters are those of the text form. */
enum daos_acl_perm {
	DAOS_ACL_PERM_READ = (1U << 0),        /* r */
	DAOS_ACL_PERM_WRITE = (1U << 1),       /* w */
	DAOS_ACL_PERM_CREATE_CONT = (1U << 2), /* c */
	DAOS_ACL_PERM_DEL_CONT = (1U << 3),    /* d */
	DAOS_ACL_PERM_GET_PROP = (1U << 4),    /* t */
	DAOS_ACL_PERM_SET_PROP = (1U << 5),    /* T */
	DAOS_ACL_PERM_GET_ACL = (1U << 6),     /* a */
	DAOS_ACL_PERM_SET_ACL = (1U << 7),     /* A */
	DAOS_ACL_PERM_SET_OWNER = (1U << 8),   /* o */
};

/** Permissions meaningful on pools. */
#define DAOS_ACL_PERM_POOL_ALL                                                                     \
	(DAOS_ACL_PERM_READ | DAOS_ACL_PERM_GET_PROP | DAOS_ACL_PERM_WRITE |                       \
	 DAOS_ACL_PERM_CREATE_CONT | DAOS_ACL_PERM_DEL_CONT)

/** Permissions meaningful on containers. */
#define DAOS_ACL_PERM_CONT_ALL                                                                     \
	(DAOS_ACL_PERM_READ | DAOS_ACL_PERM_WRITE | DAOS_ACL_PERM_DEL_CONT |                       \
	 DAOS_ACL_PERM_GET_PROP | DAOS_ACL_PERM_SET_PROP | DAOS_ACL_PERM_GET_ACL |                 \
	 DAOS_ACL_PERM_SET_ACL | DAOS_ACL_PERM_SET_OWNER)

#define DAOS_ACL_PERM_ALL (DAOS_ACL_PERM_POOL_ALL | DAOS_ACL_PERM_CONT_ALL)

/** One entry of an ACL, for one principal. */
struct daos_ace {
	/** daos_acl_access_type bits */
	uint8_t dae_access_types;
	/** enum daos_acl_principal_type */
	uint8_t dae_principal_type;
	/** length of dae_principal (0 for the special principals) */
	uint16_t dae_principal_len;
	/** daos_acl_flags bits */
	uint16_t dae_access_flags;
	uint16_t dae_reserv;
	/** daos_acl_perm bits per access type */
	uint64_t dae_allow_perms;
	uint64_t dae_audit_perms;
	uint64_t dae_alarm_perms;
	/** NUL-terminated name of a user or group; the allocation is padded to 8 bytes */
	char dae_principal[];
};

/** A new ACL holding copies of @num_aces entries. NULL on failure. Free with daos_acl_free(). */
struct daos_acl *daos_acl_create(struct daos_ace *aces[], uint16_t num_aces);

/** A new copy of @acl, or NULL. */
struct daos_acl *daos_acl_dup(struct daos_acl *acl);

void daos_acl_free(struct daos_acl *acl);

/** Size of @acl in bytes (header and entries), or -DER_INVAL. */
ssize_t daos_acl_get_size(struct daos_acl *acl);

/** The entry after @current_ace (the first one if NULL), or NULL at the end. Borrowed. */
struct daos_ace *daos_acl_get_next_ace(struct daos_acl *acl, struct daos_ace *current_ace);

/**
 * The entry of principal @type/@principal (name only for users and groups) in *@ace
 * (borrowed, inside @acl). Returns 0, -DER_INVAL, -DER_NONEXIST.
 */
int daos_acl_get_ace_for_principal(struct daos_acl *acl, enum daos_acl_principal_type type,
				   const char *principal, struct daos_ace **ace);

/**
 * Insert a copy of @new_ace at its place, replacing the entry of the same principal. *@acl
 * may be reallocated (the old one is freed). Returns 0, -DER_INVAL, -DER_NOMEM.
 */
int daos_acl_add_ace(struct daos_acl **acl, struct daos_ace *new_ace);

/** Remove the entry of a principal; *@acl is reallocated. 0, -DER_NONEXIST, -DER_NOMEM... */
int daos_acl_remove_ace(struct daos_acl **acl, enum daos_acl_principal_type type,
			const char *principal_name);

/** Print @acl to stdout, for debugging. */
void daos_acl_dump(struct daos_acl *acl);

/** Check the structure of @acl: 0, -DER_INVAL, -DER_NOMEM. */
int daos_acl_validate(struct daos_acl *acl);

/** As daos_acl_validate(), and only pool permissions used. */
int daos_acl_pool_validate(struct daos_acl *acl);

/** As daos_acl_validate(), and only container permissions used. */
int daos_acl_cont_validate(struct daos_acl *acl);

/** A new entry for a principal (the name is used for users and groups only), or NULL. */
struct daos_ace *daos_ace_create(enum daos_acl_principal_type type, const char *principal_name);

void daos_ace_free(struct daos_ace *ace);

/** Size of @ace in bytes, or -DER_INVAL. */
ssize_t daos_ace_get_size(struct daos_ace *ace);

/** Print @ace to stdout, indented by @tabs. */
void daos_ace_dump(struct daos_ace *ace, uint32_t tabs);

bool daos_ace_is_valid(struct daos_ace *ace);

/** Is @name of the form "name@[domain]"? */
bool daos_acl_principal_is_valid(const char *name);

/** The principal name of local user @uid in *@name (caller frees). 0, -DER_NONEXIST... */
int daos_acl_uid_to_principal(uid_t uid, char **name);

/** The principal name of local group @gid in *@name (caller frees). */
int daos_acl_gid_to_principal(gid_t gid, char **name);

/** The local uid of user principal @principal. */
int daos_acl_principal_to_uid(const char *principal, uid_t *uid);

/** The local gid of group principal @principal. */
int daos_acl_principal_to_gid(const char *principal, gid_t *gid);

/** The principal of @ace as text (its name, or OWNER@, GROUP@, EVERYONE@). Borrowed. */
const char *daos_ace_get_principal_str(struct daos_ace *ace);

/** Parse an entry in text form into a new entry in *@ace. */
int daos_ace_from_str(const char *str, struct daos_ace **ace);

/** Write @ace in text form into @buf (@buf_len bytes). -DER_INVAL if it has no text form. */
int daos_ace_to_str(struct daos_ace *ace, char *buf, size_t buf_len);

/** Explain entry text @ace_str in words into @buf. 0, -DER_INVAL, -DER_TRUNC. */
int daos_ace_str_get_verbose(const char *ace_str, char *buf, size_t buf_len);

/** A new ACL from @ace_nr entries in text form. */
int daos_acl_from_strs(const char **ace_strs, size_t ace_nr, struct daos_acl **acl);

/** The entries of @acl in text form: a new array of new strings (caller frees all). */
int daos_acl_to_strs(struct daos_acl *acl, char ***ace_strs, size_t *ace_nr);

/**
 * Parse a principal in text form ("u:name@", "g:name@", "OWNER@", "GROUP@", "EVERYONE@"):
 * its type in *@type and a new copy of its name in *@name (NULL for special principals).
 */
int daos_acl_principal_from_str(const char *principal_str, enum daos_acl_principal_type *type,
				char **name);

/** Print @acl to @stream in the ACL file format, with explanations if @verbose. */
int daos_acl_to_stream(FILE *stream, struct daos_acl *acl, bool verbose);

#if defined(__cplusplus)
}
#endif

#pragma GCC visibility pop

#endif /* D_DAOS_SECURITY_H */
