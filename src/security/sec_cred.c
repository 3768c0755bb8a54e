/*
 * sec_cred.c: credentials (daos/security.h): what the local user database says about a
 * uid/gid, signing an auth.Sys token with an agent's key, and verifying it on a server.
 * Sits on OpenSSL (EVP) and protobuf-c (src/proto/security/auth.proto).
 *
 * What is signed: the bytes "daos-cred-v1", a NUL, the origin (agent name), a NUL, then the
 * packed Sys exactly as carried in Token.data. Signing the carried bytes (not a re-encoding)
 * makes verification independent of protobuf encoders; the origin is inside so that a
 * signature cannot be moved to a credential naming another agent's key. Ed25519/Ed448 keys
 * sign the message directly, others (RSA, EC) through SHA-512. The insecure verifier is
 * SHA-512 of the same bytes (integrity against accidents, not attackers).
 *
 * A verifier maps an origin to the public key in "<dir>/<origin>.pub" or "<dir>/<origin>.crt",
 * read on first use and cached for the verifier's life. Origins are restricted to
 * [A-Za-z0-9._-], not starting with '.', so that they cannot name files elsewhere.
 */
#define D_LOGFAC security

#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <gurt/common.h>
#include <daos/security.h>

#include "sec_internal.h"
#include "security/auth.pb-c.h"

#define CRED_DOMAIN "daos-cred-v1"
#define ORIGIN_MAX 255
#define MACHINE_MAX 255
#define SIG_MAX 1024
/* A credential stamped further in the future than this is refused (clock skew). */
#define CRED_SKEW_S 600

struct sec_signer {
	char *sg_origin;
	EVP_PKEY *sg_key; /* NULL: insecure */
};

struct sec_key {
	d_list_t sk_link;
	char *sk_origin;
	EVP_PKEY *sk_key;
};

struct sec_verifier {
	char *sv_dir;
	bool sv_insecure;
	pthread_mutex_t sv_lock;
	d_list_t sv_keys; /* struct sec_key */
};

static bool
origin_is_valid(const char *origin)
{
	size_t len;
	size_t i;

	if (origin == NULL)
		return false;
	len = strnlen(origin, ORIGIN_MAX + 1);
	if (len == 0 || len > ORIGIN_MAX || origin[0] == '.')
		return false;
	for (i = 0; i < len; i++) {
		char c = origin[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* Release what @info holds, not @info itself. */
static void
info_fini(struct sec_cred_info *info)
{
	size_t i;

	D_FREE(info->ci_gids);
	D_FREE(info->ci_user);
	D_FREE(info->ci_group);
	for (i = 0; i < info->ci_nr_groups; i++)
		D_FREE(info->ci_groups[i]);
	D_FREE(info->ci_groups);
	D_FREE(info->ci_machine);
	D_FREE(info->ci_origin);
	memset(info, 0, sizeof(*info));
}

void
sec_cred_info_free(struct sec_cred_info *info)
{
	if (info == NULL)
		return;
	info_fini(info);
	D_FREE(info);
}

int
sec_cred_info_local(uid_t uid, gid_t gid, struct sec_cred_info *info)
{
	char host[MACHINE_MAX + 1];
	struct passwd pw;
	struct passwd *pwp = NULL;
	gid_t *list = NULL;
	gid_t *nlist;
	char *buf = NULL;
	char *nbuf;
	size_t blen = 1024;
	int nr = 32;
	int i;
	int rc;

	memset(info, 0, sizeof(*info));
	info->ci_uid = uid;
	info->ci_gid = gid;

	for (;;) {
		D_REALLOC(nbuf, buf, blen);
		if (nbuf == NULL) {
			rc = -DER_NOMEM;
			goto err;
		}
		buf = nbuf;
		rc = getpwuid_r(uid, &pw, buf, blen, &pwp);
		if (rc != ERANGE || blen >= (1U << 20))
			break;
		blen *= 2;
	}
	if (rc != 0) {
		rc = d_errno2der(rc);
		goto err;
	}
	if (pwp == NULL) {
		rc = -DER_NONEXIST;
		goto err;
	}
	if (D_ASPRINTF(info->ci_user, "%s@", pw.pw_name) == NULL) {
		rc = -DER_NOMEM;
		goto err;
	}

	rc = daos_acl_gid_to_principal(gid, &info->ci_group);
	if (rc != 0)
		goto err;

	/* Supplementary groups: getgrouplist tells how many when the array is short. */
	for (;;) {
		int want = nr;

		D_REALLOC_ARRAY(nlist, list, (size_t)nr);
		if (nlist == NULL) {
			rc = -DER_NOMEM;
			goto err;
		}
		list = nlist;
		if (getgrouplist(pw.pw_name, gid, list, &want) >= 0) {
			nr = want;
			break;
		}
		if (want <= nr || want > SEC_CRED_GROUPS_MAX) {
			rc = -DER_OVERFLOW;
			goto err;
		}
		nr = want;
	}
	if (nr > 0) {
		D_ALLOC_ARRAY(info->ci_gids, (size_t)nr);
		D_ALLOC_ARRAY(info->ci_groups, (size_t)nr);
		if (info->ci_gids == NULL || info->ci_groups == NULL) {
			rc = -DER_NOMEM;
			goto err;
		}
	}
	for (i = 0; i < nr; i++) {
		char *name = NULL;
		size_t k;

		if (list[i] == gid)
			continue;
		for (k = 0; k < info->ci_nr_gids; k++)
			if (info->ci_gids[k] == list[i])
				break;
		if (k < info->ci_nr_gids)
			continue;
		info->ci_gids[info->ci_nr_gids++] = list[i];
		/* A gid without a name still counts by number; it has no principal. */
		rc = daos_acl_gid_to_principal(list[i], &name);
		if (rc == -DER_NOMEM)
			goto err;
		if (rc == 0)
			info->ci_groups[info->ci_nr_groups++] = name;
	}

	if (gethostname(host, sizeof(host)) != 0)
		strcpy(host, "localhost");
	host[MACHINE_MAX] = '\0';
	if (D_STRNDUP(info->ci_machine, host, MACHINE_MAX) == NULL) {
		rc = -DER_NOMEM;
		goto err;
	}
	D_FREE(list);
	D_FREE(buf);
	return 0;
err:
	D_FREE(list);
	D_FREE(buf);
	info_fini(info);
	return rc;
}

/* The bytes that are signed: domain, origin and the packed Sys. Caller frees. */
static int
signed_bytes(const char *origin, const uint8_t *data, size_t len, uint8_t **out, size_t *out_len)
{
	size_t dlen = sizeof(CRED_DOMAIN);
	size_t olen = strlen(origin) + 1;
	uint8_t *b;

	D_ALLOC_NZ(b, dlen + olen + len);
	if (b == NULL)
		return -DER_NOMEM;
	memcpy(b, CRED_DOMAIN, dlen);
	memcpy(b + dlen, origin, olen);
	if (len > 0)
		memcpy(b + dlen + olen, data, len);
	*out = b;
	*out_len = dlen + olen + len;
	return 0;
}

static const EVP_MD *
key_md(EVP_PKEY *key)
{
	int id = EVP_PKEY_get_base_id(key);

	return (id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448) ? NULL : EVP_sha512();
}

int
sec_signer_create(const char *origin, const char *key_path, struct sec_signer **signer)
{
	struct sec_signer *sg;
	FILE *f;

	if (!origin_is_valid(origin) || signer == NULL)
		return -DER_INVAL;
	D_ALLOC_PTR(sg);
	if (sg == NULL)
		return -DER_NOMEM;
	if (D_STRNDUP(sg->sg_origin, origin, ORIGIN_MAX) == NULL) {
		D_FREE(sg);
		return -DER_NOMEM;
	}
	if (key_path != NULL) {
		f = fopen(key_path, "r");
		if (f == NULL) {
			int rc = errno == ENOENT ? -DER_BADPATH : d_errno2der(errno);

			D_ERROR("agent key %s: %s\n", key_path, strerror(errno));
			sec_signer_destroy(sg);
			return rc;
		}
		sg->sg_key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
		if (sg->sg_key == NULL) {
			D_ERROR("agent key %s: not a PEM private key\n", key_path);
			sec_signer_destroy(sg);
			return -DER_BAD_CERT;
		}
	}
	*signer = sg;
	return 0;
}

void
sec_signer_destroy(struct sec_signer *signer)
{
	if (signer == NULL)
		return;
	EVP_PKEY_free(signer->sg_key);
	D_FREE(signer->sg_origin);
	D_FREE(signer);
}

/* SHA-512 of @msg into @out (64 bytes). */
static int
digest512(const uint8_t *msg, size_t len, uint8_t *out)
{
	unsigned int olen = 0;

	if (EVP_Digest(msg, len, out, &olen, EVP_sha512(), NULL) != 1 || olen != 64)
		return -DER_MISC;
	return 0;
}

int
sec_cred_create(struct sec_signer *signer, const struct sec_cred_info *info, uint64_t lifetime_s,
		void **buf, size_t *len)
{
	Auth__Sys sys = AUTH__SYS__INIT;
	Auth__Token token = AUTH__TOKEN__INIT;
	Auth__Token verifier = AUTH__TOKEN__INIT;
	Auth__Credential cred = AUTH__CREDENTIAL__INIT;
	uint8_t sig[SIG_MAX];
	size_t sig_len = sizeof(sig);
	uint8_t *sys_buf = NULL;
	uint8_t *msg = NULL;
	uint8_t *out = NULL;
	size_t msg_len;
	size_t sys_len;
	size_t out_len;
	EVP_MD_CTX *ctx = NULL;
	uint64_t now = (uint64_t)time(NULL);
	int rc;

	if (signer == NULL || info == NULL || buf == NULL || len == NULL || info->ci_user == NULL ||
	    info->ci_group == NULL || lifetime_s == 0 || info->ci_nr_groups > SEC_CRED_GROUPS_MAX ||
	    info->ci_nr_gids > SEC_CRED_GROUPS_MAX)
		return -DER_INVAL;

	sys.stamp = now;
	sys.expiry = now + lifetime_s;
	sys.machinename = info->ci_machine != NULL ? info->ci_machine : "";
	sys.user = info->ci_user;
	sys.group = info->ci_group;
	sys.n_groups = info->ci_nr_groups;
	sys.groups = info->ci_groups;
	sys.uid = info->ci_uid;
	sys.gid = info->ci_gid;
	sys.n_gids = info->ci_nr_gids;
	sys.gids = info->ci_gids;

	sys_len = auth__sys__get_packed_size(&sys);
	D_ALLOC_NZ(sys_buf, sys_len);
	if (sys_buf == NULL)
		return -DER_NOMEM;
	auth__sys__pack(&sys, sys_buf);

	rc = signed_bytes(signer->sg_origin, sys_buf, sys_len, &msg, &msg_len);
	if (rc != 0)
		goto out;
	if (signer->sg_key == NULL) {
		rc = digest512(msg, msg_len, sig);
		sig_len = 64;
		verifier.flavor = AUTH__FLAVOR__AUTH_NONE;
	} else {
		ctx = EVP_MD_CTX_new();
		if (ctx == NULL ||
		    EVP_DigestSignInit(ctx, NULL, key_md(signer->sg_key), NULL, signer->sg_key) !=
			1 ||
		    EVP_DigestSign(ctx, NULL, &sig_len, msg, msg_len) != 1 || sig_len > SIG_MAX ||
		    EVP_DigestSign(ctx, sig, &sig_len, msg, msg_len) != 1) {
			D_ERROR("signing a credential failed\n");
			rc = -DER_MISC;
		}
		verifier.flavor = AUTH__FLAVOR__AUTH_SYS;
	}
	if (rc != 0)
		goto out;

	token.flavor = AUTH__FLAVOR__AUTH_SYS;
	token.data.data = sys_buf;
	token.data.len = sys_len;
	verifier.data.data = sig;
	verifier.data.len = sig_len;
	cred.token = &token;
	cred.verifier = &verifier;
	cred.origin = signer->sg_origin;
	out_len = auth__credential__get_packed_size(&cred);
	D_ALLOC_NZ(out, out_len);
	if (out == NULL) {
		rc = -DER_NOMEM;
		goto out;
	}
	auth__credential__pack(&cred, out);
	*buf = out;
	*len = out_len;
out:
	EVP_MD_CTX_free(ctx);
	D_FREE(msg);
	D_FREE(sys_buf);
	return rc;
}

int
sec_verifier_create(const char *key_dir, bool insecure, struct sec_verifier **verifier)
{
	struct sec_verifier *v;

	if (verifier == NULL || (!insecure && key_dir == NULL))
		return -DER_INVAL;
	D_ALLOC_PTR(v);
	if (v == NULL)
		return -DER_NOMEM;
	if (key_dir != NULL && D_STRNDUP(v->sv_dir, key_dir, 4096) == NULL) {
		D_FREE(v);
		return -DER_NOMEM;
	}
	v->sv_insecure = insecure;
	D_INIT_LIST_HEAD(&v->sv_keys);
	pthread_mutex_init(&v->sv_lock, NULL);
	*verifier = v;
	return 0;
}

void
sec_verifier_destroy(struct sec_verifier *verifier)
{
	struct sec_key *k;
	struct sec_key *tmp;

	if (verifier == NULL)
		return;
	d_list_for_each_entry_safe (k, tmp, &verifier->sv_keys, sk_link) {
		d_list_del(&k->sk_link);
		EVP_PKEY_free(k->sk_key);
		D_FREE(k->sk_origin);
		D_FREE(k);
	}
	pthread_mutex_destroy(&verifier->sv_lock);
	D_FREE(verifier->sv_dir);
	D_FREE(verifier);
}

/* Read the public key of @origin from the verifier's directory. */
static int
key_load(const struct sec_verifier *v, const char *origin, EVP_PKEY **key)
{
	char *path = NULL;
	X509 *cert;
	FILE *f;

	if (D_ASPRINTF(path, "%s/%s.pub", v->sv_dir, origin) == NULL)
		return -DER_NOMEM;
	f = fopen(path, "r");
	if (f != NULL) {
		*key = PEM_read_PUBKEY(f, NULL, NULL, NULL);
		fclose(f);
		goto out;
	}
	D_FREE(path);
	if (D_ASPRINTF(path, "%s/%s.crt", v->sv_dir, origin) == NULL)
		return -DER_NOMEM;
	f = fopen(path, "r");
	if (f == NULL) {
		D_ERROR_RL("no trusted key for agent '%s' in %s: " DF_RC "\n", origin, v->sv_dir,
			   DP_RC(-DER_BADPATH));
		D_FREE(path);
		return -DER_BADPATH;
	}
	cert = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	*key = cert != NULL ? X509_get_pubkey(cert) : NULL;
	X509_free(cert);
out:
	if (*key == NULL) {
		D_ERROR_RL("trusted key %s is unusable: " DF_RC "\n", path, DP_RC(-DER_BAD_CERT));
		D_FREE(path);
		return -DER_BAD_CERT;
	}
	D_FREE(path);
	return 0;
}

/* The cached key of @origin, loading it on first use. The key stays cached (borrowed). */
static int
key_get(struct sec_verifier *v, const char *origin, EVP_PKEY **key)
{
	struct sec_key *k;
	int rc = 0;

	pthread_mutex_lock(&v->sv_lock);
	d_list_for_each_entry (k, &v->sv_keys, sk_link) {
		if (strcmp(k->sk_origin, origin) == 0) {
			*key = k->sk_key;
			goto out;
		}
	}
	D_ALLOC_PTR(k);
	if (k == NULL) {
		rc = -DER_NOMEM;
		goto out;
	}
	if (D_STRNDUP(k->sk_origin, origin, ORIGIN_MAX) == NULL) {
		D_FREE(k);
		rc = -DER_NOMEM;
		goto out;
	}
	rc = key_load(v, origin, &k->sk_key);
	if (rc != 0) {
		D_FREE(k->sk_origin);
		D_FREE(k);
		goto out;
	}
	d_list_add_tail(&k->sk_link, &v->sv_keys);
	*key = k->sk_key;
out:
	pthread_mutex_unlock(&v->sv_lock);
	return rc;
}

static int
verifier_check(struct sec_verifier *v, const Auth__Credential *cred, bool *is_signed)
{
	const Auth__Token *ver = cred->verifier;
	uint8_t digest[64];
	uint8_t *msg = NULL;
	size_t msg_len;
	EVP_MD_CTX *ctx = NULL;
	EVP_PKEY *key;
	int rc;

	rc = signed_bytes(cred->origin, cred->token->data.data, cred->token->data.len, &msg,
			  &msg_len);
	if (rc != 0)
		return rc;
	*is_signed = ver->flavor == AUTH__FLAVOR__AUTH_SYS;
	if (ver->flavor == AUTH__FLAVOR__AUTH_NONE) {
		if (!v->sv_insecure) {
			D_ERROR_RL("unsigned credential from '%s' refused: " DF_RC "\n",
				   cred->origin, DP_RC(-DER_NO_PERM));
			rc = -DER_NO_PERM;
			goto out;
		}
		rc = digest512(msg, msg_len, digest);
		if (rc == 0 && (ver->data.len != 64 || memcmp(digest, ver->data.data, 64) != 0))
			rc = -DER_NO_PERM;
		goto out;
	}
	if (ver->flavor != AUTH__FLAVOR__AUTH_SYS) {
		rc = -DER_INVAL;
		goto out;
	}
	/* As DAOS's allow_insecure: signatures are not checked in insecure mode. */
	if (v->sv_insecure)
		goto out;

	rc = key_get(v, cred->origin, &key);
	if (rc != 0)
		goto out;
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL) {
		rc = -DER_NOMEM;
		goto out;
	}
	if (EVP_DigestVerifyInit(ctx, NULL, key_md(key), NULL, key) != 1 ||
	    EVP_DigestVerify(ctx, ver->data.data, ver->data.len, msg, msg_len) != 1) {
		D_ERROR_RL("bad signature on a credential from '%s': " DF_RC "\n", cred->origin,
			   DP_RC(-DER_NO_PERM));
		rc = -DER_NO_PERM;
	}
out:
	EVP_MD_CTX_free(ctx);
	D_FREE(msg);
	return rc;
}

static int
str_dup_principal(const char *s, char **out)
{
	if (s == NULL || !daos_acl_principal_is_valid(s))
		return -DER_INVAL;
	return D_STRNDUP(*out, s, DAOS_ACL_MAX_PRINCIPAL_LEN) == NULL ? -DER_NOMEM : 0;
}

/* A checked copy of the token @sys into a new *@out. */
static int
info_from_sys(const Auth__Sys *sys, const char *origin, bool is_signed, struct sec_cred_info **out)
{
	struct sec_cred_info *info;
	size_t i;
	int rc;

	if (sys->n_groups > SEC_CRED_GROUPS_MAX || sys->n_gids > SEC_CRED_GROUPS_MAX ||
	    sys->machinename == NULL || strnlen(sys->machinename, MACHINE_MAX + 1) > MACHINE_MAX)
		return -DER_INVAL;
	D_ALLOC_PTR(info);
	if (info == NULL)
		return -DER_NOMEM;
	info->ci_uid = sys->uid;
	info->ci_gid = sys->gid;
	info->ci_stamp = sys->stamp;
	info->ci_expiry = sys->expiry;
	info->ci_signed = is_signed;
	rc = str_dup_principal(sys->user, &info->ci_user);
	if (rc == 0)
		rc = str_dup_principal(sys->group, &info->ci_group);
	if (rc != 0)
		goto err;
	if (D_STRNDUP(info->ci_machine, sys->machinename, MACHINE_MAX) == NULL ||
	    D_STRNDUP(info->ci_origin, origin, ORIGIN_MAX) == NULL) {
		rc = -DER_NOMEM;
		goto err;
	}
	if (sys->n_gids > 0) {
		D_ALLOC_ARRAY(info->ci_gids, sys->n_gids);
		if (info->ci_gids == NULL) {
			rc = -DER_NOMEM;
			goto err;
		}
		memcpy(info->ci_gids, sys->gids, sys->n_gids * sizeof(*sys->gids));
		info->ci_nr_gids = sys->n_gids;
	}
	if (sys->n_groups > 0) {
		D_ALLOC_ARRAY(info->ci_groups, sys->n_groups);
		if (info->ci_groups == NULL) {
			rc = -DER_NOMEM;
			goto err;
		}
		for (i = 0; i < sys->n_groups; i++) {
			rc = str_dup_principal(sys->groups[i], &info->ci_groups[i]);
			if (rc != 0)
				goto err;
			info->ci_nr_groups++;
		}
	}
	*out = info;
	return 0;
err:
	sec_cred_info_free(info);
	return rc;
}

int
sec_cred_verify(struct sec_verifier *verifier, const void *buf, size_t len, uint64_t now,
		struct sec_cred_info **info)
{
	Auth__Credential *cred = NULL;
	Auth__Sys *sys = NULL;
	bool is_signed = false;
	int rc;

	if (verifier == NULL || info == NULL || (buf == NULL && len > 0))
		return -DER_INVAL;
	if (len == 0 || len > SEC_CRED_MAX)
		return -DER_INVAL;
	if (now == 0)
		now = (uint64_t)time(NULL);

	cred = auth__credential__unpack(NULL, len, buf);
	if (cred == NULL) {
		D_DEBUG("undecodable credential of %zu bytes\n", len);
		return -DER_INVAL;
	}
	if (cred->token == NULL || cred->verifier == NULL ||
	    cred->token->flavor != AUTH__FLAVOR__AUTH_SYS || cred->token->data.len == 0 ||
	    !origin_is_valid(cred->origin)) {
		rc = -DER_INVAL;
		goto out;
	}

	rc = verifier_check(verifier, cred, &is_signed);
	if (rc != 0)
		goto out;

	sys = auth__sys__unpack(NULL, cred->token->data.len, cred->token->data.data);
	if (sys == NULL) {
		rc = -DER_INVAL;
		goto out;
	}
	if (sys->expiry == 0 || now >= sys->expiry || sys->stamp > now + CRED_SKEW_S) {
		D_ERROR_RL(
		    "credential of %s from '%s' expired or not yet valid (stamp %llu, expiry "
		    "%llu, now %llu): " DF_RC "\n",
		    sys->user != NULL ? sys->user : "?", cred->origin,
		    (unsigned long long)sys->stamp, (unsigned long long)sys->expiry,
		    (unsigned long long)now, DP_RC(-DER_NO_PERM));
		rc = -DER_NO_PERM;
		goto out;
	}
	rc = info_from_sys(sys, cred->origin, is_signed, info);
out:
	if (sys != NULL)
		auth__sys__free_unpacked(sys, NULL);
	auth__credential__free_unpacked(cred, NULL);
	return rc;
}

int
sec_cred_get_perms(const struct sec_cred_info *info, struct daos_acl *acl,
		   const struct d_ownership *own, uint64_t min_owner_perms, uint64_t *perms,
		   bool *is_owner)
{
	struct sec_user user;
	const char **groups;
	size_t i;
	int rc;

	if (info == NULL || info->ci_user == NULL || info->ci_group == NULL)
		return -DER_INVAL;
	D_ALLOC_ARRAY(groups, info->ci_nr_groups + 1);
	if (groups == NULL)
		return -DER_NOMEM;
	/* The primary group counts as a group of the user. */
	groups[0] = info->ci_group;
	for (i = 0; i < info->ci_nr_groups; i++)
		groups[i + 1] = info->ci_groups[i];
	user.su_user = info->ci_user;
	user.su_groups = groups;
	user.su_nr_groups = info->ci_nr_groups + 1;
	rc = sec_acl_get_perms(acl, own, &user, min_owner_perms, perms, is_owner);
	D_FREE(groups);
	return rc;
}
