/*
 * acl_str.c: the text forms of daos_security.h: principals ("name@[domain]", "u:name@",
 * "g:name@", OWNER@, GROUP@, EVERYONE@), entries "access:flags:principal:perms", their
 * verbose explanation, the ACL file format, and local user/group names.
 *
 * Entry syntax (as DAOS):
 *	access   one or more of A (allow), U (audit), L (alarm)
 *	flags    any of G (group principal), S (report success), F (report failure),
 *		 P (pool inherit)
 *	principal OWNER@, GROUP@, EVERYONE@, or name@[domain] (a group if G is given)
 *	perms    any of r w c d t T a A o (DAOS_ACL_PERM_*; none means no access)
 * Exactly four fields; a letter may repeat; the result must pass daos_ace_is_valid (so
 * GROUP@ and named groups need G, and U/L need S or F). Text longer than
 * DAOS_ACL_MAX_ACE_STR_LEN is refused before anything is allocated.
 */
#define D_LOGFAC security

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gurt/common.h>

#include "sec_internal.h"

#define FIELD_DELIM ':'

/* A letter of the text form, its bit and its verbose word. */
struct acl_letter {
	char al_ch;
	uint64_t al_bit;
	const char *al_word;
};

static const struct acl_letter access_letters[] = {
    {'A', DAOS_ACL_ACCESS_ALLOW, "Allow"},
    {'U', DAOS_ACL_ACCESS_AUDIT, "Audit"},
    {'L', DAOS_ACL_ACCESS_ALARM, "Alarm"},
};

/* In the order daos_ace_to_str writes them. */
static const struct acl_letter flag_letters[] = {
    {'G', DAOS_ACL_FLAG_GROUP, "Group"},
    {'S', DAOS_ACL_FLAG_ACCESS_SUCCESS, "Access-Success"},
    {'F', DAOS_ACL_FLAG_ACCESS_FAIL, "Access-Failure"},
    {'P', DAOS_ACL_FLAG_POOL_INHERIT, "Pool-Inherit"},
};

static const struct acl_letter perm_letters[] = {
    {'r', DAOS_ACL_PERM_READ, "Read"},
    {'w', DAOS_ACL_PERM_WRITE, "Write"},
    {'c', DAOS_ACL_PERM_CREATE_CONT, "Create-Container"},
    {'d', DAOS_ACL_PERM_DEL_CONT, "Delete-Container"},
    {'t', DAOS_ACL_PERM_GET_PROP, "Get-Prop"},
    {'T', DAOS_ACL_PERM_SET_PROP, "Set-Prop"},
    {'a', DAOS_ACL_PERM_GET_ACL, "Get-ACL"},
    {'A', DAOS_ACL_PERM_SET_ACL, "Set-ACL"},
    {'o', DAOS_ACL_PERM_SET_OWNER, "Set-Owner"},
};

static const struct acl_letter *
letter_find(const struct acl_letter *tab, size_t nr, char ch)
{
	size_t i;

	for (i = 0; i < nr; i++)
		if (tab[i].al_ch == ch)
			return &tab[i];
	return NULL;
}

/* The bits of field [@s, @s + @len) made of letters of @tab; false on an unknown letter. */
static bool
letters_parse(const struct acl_letter *tab, size_t nr, const char *s, size_t len, uint64_t *bits)
{
	const struct acl_letter *l;
	size_t i;

	*bits = 0;
	for (i = 0; i < len; i++) {
		l = letter_find(tab, nr, s[i]);
		if (l == NULL)
			return false;
		*bits |= l->al_bit;
	}
	return true;
}

bool
daos_acl_principal_is_valid(const char *name)
{
	const char *at;
	size_t len;

	if (name == NULL)
		return false;
	len = strnlen(name, DAOS_ACL_MAX_PRINCIPAL_BUF_LEN);
	if (len == 0 || len > DAOS_ACL_MAX_PRINCIPAL_LEN)
		return false;
	/* A non-empty name, one '@', and a domain (possibly empty) without another '@'. */
	at = strchr(name, '@');
	if (at == NULL || at == name)
		return false;
	return strchr(at + 1, '@') == NULL;
}

const char *
daos_ace_get_principal_str(struct daos_ace *ace)
{
	if (ace == NULL)
		return NULL;
	switch (ace->dae_principal_type) {
	case DAOS_ACL_OWNER:
		return DAOS_ACL_PRINCIPAL_OWNER;
	case DAOS_ACL_OWNER_GROUP:
		return DAOS_ACL_PRINCIPAL_OWNER_GRP;
	case DAOS_ACL_EVERYONE:
		return DAOS_ACL_PRINCIPAL_EVERYONE;
	default:
		return ace->dae_principal;
	}
}

static bool
special_principal(const char *s, size_t len, unsigned int *type)
{
	static const struct {
		const char *name;
		unsigned int type;
	} specials[] = {
	    {DAOS_ACL_PRINCIPAL_OWNER, DAOS_ACL_OWNER},
	    {DAOS_ACL_PRINCIPAL_OWNER_GRP, DAOS_ACL_OWNER_GROUP},
	    {DAOS_ACL_PRINCIPAL_EVERYONE, DAOS_ACL_EVERYONE},
	};
	size_t i;

	for (i = 0; i < D_ARRAY_SIZE(specials); i++) {
		if (strlen(specials[i].name) == len && memcmp(specials[i].name, s, len) == 0) {
			*type = specials[i].type;
			return true;
		}
	}
	return false;
}

int
daos_ace_from_str(const char *str, struct daos_ace **ace)
{
	char name[DAOS_ACL_MAX_PRINCIPAL_BUF_LEN];
	const char *field[4];
	size_t flen[4];
	struct daos_ace *new_ace;
	const char *p;
	uint64_t types;
	uint64_t flags;
	uint64_t perms;
	unsigned int type;
	size_t len;
	int nr = 0;

	if (str == NULL || ace == NULL)
		return -DER_INVAL;
	len = strnlen(str, DAOS_ACL_MAX_ACE_STR_LEN + 1);
	if (len > DAOS_ACL_MAX_ACE_STR_LEN)
		return -DER_INVAL;

	/* Split into exactly four fields. */
	field[0] = str;
	for (p = str;; p++) {
		if (*p == FIELD_DELIM || *p == '\0') {
			if (nr == 4)
				return -DER_INVAL;
			flen[nr] = (size_t)(p - field[nr]);
			nr++;
			if (*p == '\0')
				break;
			if (nr == 4)
				return -DER_INVAL;
			field[nr] = p + 1;
		}
	}
	if (nr != 4)
		return -DER_INVAL;

	if (!letters_parse(access_letters, D_ARRAY_SIZE(access_letters), field[0], flen[0],
			   &types) ||
	    !letters_parse(flag_letters, D_ARRAY_SIZE(flag_letters), field[1], flen[1], &flags) ||
	    !letters_parse(perm_letters, D_ARRAY_SIZE(perm_letters), field[3], flen[3], &perms))
		return -DER_INVAL;
	if (flen[2] == 0 || flen[2] > DAOS_ACL_MAX_PRINCIPAL_LEN)
		return -DER_INVAL;
	memcpy(name, field[2], flen[2]);
	name[flen[2]] = '\0';
	if (!daos_acl_principal_is_valid(name))
		return -DER_INVAL;

	if (!special_principal(name, flen[2], &type))
		type = (flags & DAOS_ACL_FLAG_GROUP) ? DAOS_ACL_GROUP : DAOS_ACL_USER;
	new_ace = daos_ace_create(type, name);
	if (new_ace == NULL)
		return -DER_NOMEM;
	new_ace->dae_access_types = (uint8_t)types;
	/* The flags are the text's: GROUP@ without G is refused as DAOS refuses it. */
	new_ace->dae_access_flags = (uint16_t)flags;
	if (types & DAOS_ACL_ACCESS_ALLOW)
		new_ace->dae_allow_perms = perms;
	if (types & DAOS_ACL_ACCESS_AUDIT)
		new_ace->dae_audit_perms = perms;
	if (types & DAOS_ACL_ACCESS_ALARM)
		new_ace->dae_alarm_perms = perms;

	if (!daos_ace_is_valid(new_ace)) {
		D_DEBUG("entry '%s' breaks the ACL rules\n", str);
		daos_ace_free(new_ace);
		return -DER_INVAL;
	}
	*ace = new_ace;
	return 0;
}

/* A bounded writer: what does not fit is cut, and the writer remembers it. */
struct pen {
	char *p_buf;
	size_t p_len;
	size_t p_used;
	bool p_trunc;
};

static void
pen_str(struct pen *pen, const char *s)
{
	size_t n = strlen(s);
	size_t room = pen->p_len - pen->p_used - 1; /* keep the NUL */

	if (n > room) {
		n = room;
		pen->p_trunc = true;
	}
	memcpy(pen->p_buf + pen->p_used, s, n);
	pen->p_used += n;
	pen->p_buf[pen->p_used] = '\0';
}

static void
pen_char(struct pen *pen, char ch)
{
	char s[2] = {ch, '\0'};

	pen_str(pen, s);
}

static void
pen_letters(struct pen *pen, const struct acl_letter *tab, size_t nr, uint64_t bits)
{
	size_t i;

	for (i = 0; i < nr; i++)
		if (bits & tab[i].al_bit)
			pen_char(pen, tab[i].al_ch);
}

int
daos_ace_to_str(struct daos_ace *ace, char *buf, size_t buf_len)
{
	struct pen pen = {buf, buf_len, 0, false};
	uint64_t perms = 0;
	uint64_t all;

	if (ace == NULL || buf == NULL || buf_len == 0)
		return -DER_INVAL;
	if (!daos_ace_is_valid(ace))
		return -DER_INVAL;
	/* One permission field stands for every access type: they must agree. */
	all = ace->dae_allow_perms | ace->dae_audit_perms | ace->dae_alarm_perms;
	if (((ace->dae_access_types & DAOS_ACL_ACCESS_ALLOW) && ace->dae_allow_perms != all) ||
	    ((ace->dae_access_types & DAOS_ACL_ACCESS_AUDIT) && ace->dae_audit_perms != all) ||
	    ((ace->dae_access_types & DAOS_ACL_ACCESS_ALARM) && ace->dae_alarm_perms != all))
		return -DER_INVAL;
	perms = all;

	buf[0] = '\0';
	pen_letters(&pen, access_letters, D_ARRAY_SIZE(access_letters), ace->dae_access_types);
	pen_char(&pen, FIELD_DELIM);
	pen_letters(&pen, flag_letters, D_ARRAY_SIZE(flag_letters), ace->dae_access_flags);
	pen_char(&pen, FIELD_DELIM);
	pen_str(&pen, daos_ace_get_principal_str(ace));
	pen_char(&pen, FIELD_DELIM);
	pen_letters(&pen, perm_letters, D_ARRAY_SIZE(perm_letters), perms);
	return pen.p_trunc ? -DER_TRUNC : 0;
}

static const char *
principal_verbose(const char *name)
{
	if (strcmp(name, DAOS_ACL_PRINCIPAL_OWNER) == 0)
		return "Owner";
	if (strcmp(name, DAOS_ACL_PRINCIPAL_OWNER_GRP) == 0)
		return "Owner-Group";
	if (strcmp(name, DAOS_ACL_PRINCIPAL_EVERYONE) == 0)
		return "Everyone";
	return name;
}

/* Words of the letters of field [@s, @s + @len), joined by '/'; false on a bad letter. */
static bool
pen_words(struct pen *pen, const struct acl_letter *tab, size_t nr, const char *s, size_t len)
{
	const struct acl_letter *l;
	size_t i;

	for (i = 0; i < len; i++) {
		l = letter_find(tab, nr, s[i]);
		if (l == NULL)
			return false;
		if (i > 0)
			pen_char(pen, '/');
		pen_str(pen, l->al_word);
	}
	return true;
}

int
daos_ace_str_get_verbose(const char *ace_str, char *buf, size_t buf_len)
{
	struct pen pen = {buf, buf_len, 0, false};
	char name[DAOS_ACL_MAX_PRINCIPAL_BUF_LEN];
	const char *f[4];
	size_t flen[4];
	const char *p;
	int nr = 0;

	if (buf == NULL || buf_len == 0 || ace_str == NULL)
		return -DER_INVAL;
	if (strnlen(ace_str, DAOS_ACL_MAX_ACE_STR_LEN + 1) > DAOS_ACL_MAX_ACE_STR_LEN)
		return -DER_INVAL;

	f[0] = ace_str;
	for (p = ace_str;; p++) {
		if (*p == FIELD_DELIM || *p == '\0') {
			if (nr == 4)
				return -DER_INVAL;
			flen[nr] = (size_t)(p - f[nr]);
			nr++;
			if (*p == '\0')
				break;
			if (nr == 4)
				return -DER_INVAL;
			f[nr] = p + 1;
		}
	}
	if (nr != 4 || flen[0] == 0 || flen[2] == 0 || flen[2] > DAOS_ACL_MAX_PRINCIPAL_LEN)
		return -DER_INVAL;
	memcpy(name, f[2], flen[2]);
	name[flen[2]] = '\0';
	if (!daos_acl_principal_is_valid(name))
		return -DER_INVAL;

	buf[0] = '\0';
	if (!pen_words(&pen, access_letters, D_ARRAY_SIZE(access_letters), f[0], flen[0]))
		return -DER_INVAL;
	pen_char(&pen, FIELD_DELIM);
	if (!pen_words(&pen, flag_letters, D_ARRAY_SIZE(flag_letters), f[1], flen[1]))
		return -DER_INVAL;
	pen_char(&pen, FIELD_DELIM);
	pen_str(&pen, principal_verbose(name));
	pen_char(&pen, FIELD_DELIM);
	if (flen[3] == 0)
		pen_str(&pen, "No-Access");
	else if (!pen_words(&pen, perm_letters, D_ARRAY_SIZE(perm_letters), f[3], flen[3]))
		return -DER_INVAL;
	return pen.p_trunc ? -DER_TRUNC : 0;
}

int
daos_acl_from_strs(const char **ace_strs, size_t ace_nr, struct daos_acl **acl)
{
	struct daos_ace **aces;
	struct daos_acl *tmp;
	size_t i;
	int rc = 0;

	if (ace_strs == NULL || ace_nr == 0 || ace_nr > UINT16_MAX || acl == NULL)
		return -DER_INVAL;
	D_ALLOC_ARRAY(aces, ace_nr);
	if (aces == NULL)
		return -DER_NOMEM;
	for (i = 0; i < ace_nr; i++) {
		rc = daos_ace_from_str(ace_strs[i], &aces[i]);
		if (rc != 0) {
			D_DEBUG("entry %zu '%s': " DF_RC "\n", i,
				ace_strs[i] != NULL ? ace_strs[i] : "(null)", DP_RC(rc));
			goto out;
		}
	}
	tmp = daos_acl_create(aces, (uint16_t)ace_nr);
	if (tmp == NULL) {
		rc = -DER_NOMEM;
		goto out;
	}
	rc = daos_acl_validate(tmp);
	if (rc != 0) {
		daos_acl_free(tmp);
		goto out;
	}
	*acl = tmp;
out:
	for (i = 0; i < ace_nr; i++)
		daos_ace_free(aces[i]);
	D_FREE(aces);
	return rc;
}

static void
strs_free(char **strs, size_t nr)
{
	size_t i;

	for (i = 0; i < nr; i++)
		D_FREE(strs[i]);
	D_FREE(strs);
}

int
daos_acl_to_strs(struct daos_acl *acl, char ***ace_strs, size_t *ace_nr)
{
	char buf[DAOS_ACL_MAX_ACE_STR_LEN + 1];
	struct daos_ace *cur;
	char **strs = NULL;
	size_t nr = 0;
	size_t i = 0;
	int rc;

	if (ace_strs == NULL || ace_nr == NULL)
		return -DER_INVAL;
	if (daos_acl_validate(acl) != 0)
		return -DER_INVAL;
	for (cur = daos_acl_get_next_ace(acl, NULL); cur != NULL;
	     cur = daos_acl_get_next_ace(acl, cur))
		nr++;
	if (nr > 0) {
		D_ALLOC_ARRAY(strs, nr);
		if (strs == NULL)
			return -DER_NOMEM;
		for (cur = daos_acl_get_next_ace(acl, NULL); cur != NULL;
		     cur = daos_acl_get_next_ace(acl, cur), i++) {
			rc = daos_ace_to_str(cur, buf, sizeof(buf));
			if (rc == 0 && D_STRNDUP(strs[i], buf, sizeof(buf)) == NULL)
				rc = -DER_NOMEM;
			if (rc != 0) {
				strs_free(strs, nr);
				return rc;
			}
		}
	}
	*ace_strs = strs;
	*ace_nr = nr;
	return 0;
}

int
daos_acl_to_stream(FILE *stream, struct daos_acl *acl, bool verbose)
{
	char verbose_str[DAOS_ACL_MAX_ACE_STR_LEN * 2];
	char **strs = NULL;
	size_t nr = 0;
	size_t i;
	int rc = 0;

	if (stream == NULL)
		return -DER_INVAL;
	if (acl != NULL) {
		rc = daos_acl_to_strs(acl, &strs, &nr);
		if (rc != 0)
			return rc;
	}
	if (fprintf(stream, "# Entries:\n") < 0)
		goto out_io;
	if (nr == 0 && fprintf(stream, "#   None\n") < 0)
		goto out_io;
	for (i = 0; i < nr; i++) {
		if (verbose) {
			rc = daos_ace_str_get_verbose(strs[i], verbose_str, sizeof(verbose_str));
			if (rc != 0 && rc != -DER_TRUNC)
				goto out;
			rc = 0;
			if (fprintf(stream, "# %s\n", verbose_str) < 0)
				goto out_io;
		}
		if (fprintf(stream, "%s\n", strs[i]) < 0)
			goto out_io;
	}
	goto out;
out_io:
	rc = -DER_IO;
out:
	if (strs != NULL)
		strs_free(strs, nr);
	return rc;
}

int
daos_acl_principal_from_str(const char *principal_str, enum daos_acl_principal_type *type,
			    char **name)
{
	const char *p_name;
	unsigned int t;

	if (principal_str == NULL || type == NULL || name == NULL)
		return -DER_INVAL;
	if (strncmp(principal_str, "u:", 2) == 0) {
		t = DAOS_ACL_USER;
	} else if (strncmp(principal_str, "g:", 2) == 0) {
		t = DAOS_ACL_GROUP;
	} else if (special_principal(principal_str, strlen(principal_str), &t)) {
		*type = t;
		*name = NULL;
		return 0;
	} else {
		return -DER_INVAL;
	}
	p_name = principal_str + 2;
	if (!daos_acl_principal_is_valid(p_name))
		return -DER_INVAL;
	if (D_STRNDUP(*name, p_name, DAOS_ACL_MAX_PRINCIPAL_LEN) == NULL)
		return -DER_NOMEM;
	*type = t;
	return 0;
}

/*
 * Local users and groups. The get*_r buffers grow until the entry fits; the name part of
 * a principal is what precedes its '@' (the domain is not checked).
 */

#define PW_BUF_START 1024
#define PW_BUF_MAX (1 << 20)

enum id_op { ID_UID, ID_GID, ID_USER, ID_GROUP };

/* Look up @op's entry; *@name (for ID_UID/GID) gets "name@", or *@id its number. */
static int
id_lookup(enum id_op op, unsigned int id_in, const char *name_in, char **name, unsigned int *id)
{
	struct passwd pw;
	struct passwd *pwp = NULL;
	struct group gr;
	struct group *grp = NULL;
	size_t len = PW_BUF_START;
	char *buf = NULL;
	char *nbuf;
	int rc;

	for (;;) {
		D_REALLOC(nbuf, buf, len);
		if (nbuf == NULL) {
			rc = -DER_NOMEM;
			goto out;
		}
		buf = nbuf;
		switch (op) {
		case ID_UID:
			rc = getpwuid_r(id_in, &pw, buf, len, &pwp);
			break;
		case ID_GID:
			rc = getgrgid_r(id_in, &gr, buf, len, &grp);
			break;
		case ID_USER:
			rc = getpwnam_r(name_in, &pw, buf, len, &pwp);
			break;
		default:
			rc = getgrnam_r(name_in, &gr, buf, len, &grp);
			break;
		}
		if (rc != ERANGE || len >= PW_BUF_MAX)
			break;
		len *= 2;
	}
	if (rc != 0) {
		rc = d_errno2der(rc);
		goto out;
	}
	if (pwp == NULL && grp == NULL) {
		rc = -DER_NONEXIST;
		goto out;
	}
	switch (op) {
	case ID_UID:
		rc = D_ASPRINTF(*name, "%s@", pw.pw_name) == NULL ? -DER_NOMEM : 0;
		break;
	case ID_GID:
		rc = D_ASPRINTF(*name, "%s@", gr.gr_name) == NULL ? -DER_NOMEM : 0;
		break;
	case ID_USER:
		*id = pw.pw_uid;
		break;
	default:
		*id = gr.gr_gid;
		break;
	}
out:
	D_FREE(buf);
	return rc;
}

int
daos_acl_uid_to_principal(uid_t uid, char **name)
{
	if (name == NULL)
		return -DER_INVAL;
	return id_lookup(ID_UID, uid, NULL, name, NULL);
}

int
daos_acl_gid_to_principal(gid_t gid, char **name)
{
	if (name == NULL)
		return -DER_INVAL;
	return id_lookup(ID_GID, gid, NULL, name, NULL);
}

/* The part of principal @principal before its '@', into @buf. */
static int
principal_local_name(const char *principal, char *buf)
{
	const char *at;

	if (!daos_acl_principal_is_valid(principal))
		return -DER_INVAL;
	at = strchr(principal, '@');
	memcpy(buf, principal, (size_t)(at - principal));
	buf[at - principal] = '\0';
	return 0;
}

int
daos_acl_principal_to_uid(const char *principal, uid_t *uid)
{
	char name[DAOS_ACL_MAX_PRINCIPAL_BUF_LEN];
	unsigned int id;
	int rc;

	if (uid == NULL)
		return -DER_INVAL;
	rc = principal_local_name(principal, name);
	if (rc == 0)
		rc = id_lookup(ID_USER, 0, name, NULL, &id);
	if (rc == 0)
		*uid = id;
	return rc;
}

int
daos_acl_principal_to_gid(const char *principal, gid_t *gid)
{
	char name[DAOS_ACL_MAX_PRINCIPAL_BUF_LEN];
	unsigned int id;
	int rc;

	if (gid == NULL)
		return -DER_INVAL;
	rc = principal_local_name(principal, name);
	if (rc == 0)
		rc = id_lookup(ID_GROUP, 0, name, NULL, &id);
	if (rc == 0)
		*gid = id;
	return rc;
}
