/*
 * test_cred.c: unit tests of credentials: the local user database lookup, signing with
 * Ed25519 (and EC, and a certificate instead of a bare public key), verification, every
 * single-byte tamper of a signed credential, a re-signed-token forgery, expiry, unknown and
 * broken keys, insecure mode, and a garbage-input run of the decoder (random bytes,
 * truncations and mutations of a valid credential). Keys are generated into a fresh
 * mkdtemp directory, removed at the end. Set D_TEST_SEED to replay a printed seed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <daos/security.h>
#include <gurt/common.h>
#include <d_test.h>

#include "security/auth.pb-c.h"

static char t_dir[64];
static char t_keys[128];
static char t_key[128];

static EVP_PKEY *
keygen(const char *type)
{
	EVP_PKEY *k;

	if (strcmp(type, "EC") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	else
		k = EVP_PKEY_Q_keygen(NULL, NULL, type);
	assert_non_null(k);
	return k;
}

static void
write_private(EVP_PKEY *k, const char *path)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL), 1);
	fclose(f);
}

static void
write_public(EVP_PKEY *k, const char *origin)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.pub", t_keys, origin);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(PEM_write_PUBKEY(f, k), 1);
	fclose(f);
}

static void
write_cert(EVP_PKEY *k, const char *origin)
{
	char path[256];
	X509 *x = X509_new();
	FILE *f;

	assert_non_null(x);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, k);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				   (const unsigned char *)origin, -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	assert_true(X509_sign(x, k, NULL) > 0);
	snprintf(path, sizeof(path), "%s/%s.crt", t_keys, origin);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(PEM_write_X509(f, x), 1);
	fclose(f);
	X509_free(x);
}

static int
rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
setup(void **state)
{
	(void)state;
	strcpy(t_dir, "/tmp/test_cred.XXXXXX");
	if (mkdtemp(t_dir) == NULL)
		return -1;
	snprintf(t_keys, sizeof(t_keys), "%s/clients", t_dir);
	snprintf(t_key, sizeof(t_key), "%s/agent.key", t_dir);
	return mkdir(t_keys, 0700);
}

static int
teardown(void **state)
{
	(void)state;
	return nftw(t_dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
}

/* A credential of the caller from signer @origin with key file @key_path (NULL: insecure). */
static void
make_cred(const char *origin, const char *key_path, uint64_t lifetime, void **buf, size_t *len)
{
	struct sec_cred_info *info;
	struct sec_signer *sg;

	D_ALLOC_PTR(info);
	assert_non_null(info);
	assert_int_equal(sec_cred_info_local(getuid(), getgid(), info), 0);
	assert_int_equal(sec_signer_create(origin, key_path, &sg), 0);
	assert_int_equal(sec_cred_create(sg, info, lifetime, buf, len), 0);
	sec_signer_destroy(sg);
	sec_cred_info_free(info);
}

static void
test_local_info(void **state)
{
	struct sec_cred_info *info;
	char *name = NULL;

	(void)state;
	D_ALLOC_PTR(info);
	assert_int_equal(sec_cred_info_local(getuid(), getgid(), info), 0);
	assert_int_equal(info->ci_uid, getuid());
	assert_int_equal(info->ci_gid, getgid());
	assert_int_equal(daos_acl_uid_to_principal(getuid(), &name), 0);
	assert_string_equal(info->ci_user, name);
	D_FREE(name);
	assert_true(daos_acl_principal_is_valid(info->ci_group));
	assert_non_null(info->ci_machine);
	sec_cred_info_free(info);

	D_ALLOC_PTR(info);
	assert_int_equal(sec_cred_info_local(0, 0, info), 0);
	assert_string_equal(info->ci_user, "root@");
	assert_string_equal(info->ci_group, "root@");
	sec_cred_info_free(info);

	D_ALLOC_PTR(info);
	assert_int_equal(sec_cred_info_local(4000000001U, 0, info), -DER_NONEXIST);
	D_FREE(info);
}

static void
test_sign_verify(void **state)
{
	const char *types[] = {"ED25519", "EC", "ED448"};
	struct sec_verifier *v;
	struct sec_cred_info *info;
	EVP_PKEY *k;
	void *buf;
	size_t len;
	uint64_t now = (uint64_t)time(NULL);
	size_t i;

	(void)state;
	assert_int_equal(sec_verifier_create(t_keys, false, &v), 0);
	for (i = 0; i < D_ARRAY_SIZE(types); i++) {
		char origin[32];

		snprintf(origin, sizeof(origin), "agent-%zu", i);
		k = keygen(types[i]);
		write_private(k, t_key);
		write_public(k, origin);
		EVP_PKEY_free(k);
		make_cred(origin, t_key, 60, &buf, &len);
		assert_int_equal(sec_cred_verify(v, buf, len, 0, &info), 0);
		assert_int_equal(info->ci_uid, getuid());
		assert_int_equal(info->ci_gid, getgid());
		assert_string_equal(info->ci_origin, origin);
		assert_true(info->ci_signed);
		assert_true(info->ci_expiry >= now + 60 && info->ci_expiry <= now + 62);
		assert_true(info->ci_stamp >= now && info->ci_stamp <= now + 2);
		sec_cred_info_free(info);
		/* Verifying twice uses the cached key. */
		assert_int_equal(sec_cred_verify(v, buf, len, 0, &info), 0);
		sec_cred_info_free(info);
		D_FREE(buf);
	}

	/* A certificate stands in for a public key. */
	k = keygen("ED25519");
	write_private(k, t_key);
	write_cert(k, "certified");
	EVP_PKEY_free(k);
	make_cred("certified", t_key, 60, &buf, &len);
	assert_int_equal(sec_cred_verify(v, buf, len, 0, &info), 0);
	sec_cred_info_free(info);
	D_FREE(buf);
	sec_verifier_destroy(v);
}

static void
test_tamper(void **state)
{
	struct sec_verifier *v;
	struct sec_cred_info *info;
	Auth__Credential *cred;
	Auth__Sys *sys;
	uint8_t *b;
	uint8_t *forged;
	size_t len;
	size_t i;
	int flips[] = {0x01, 0x80, 0xff};
	size_t f;
	EVP_PKEY *k;
	void *buf;

	(void)state;
	k = keygen("ED25519");
	write_private(k, t_key);
	write_public(k, "tamper");
	EVP_PKEY_free(k);
	assert_int_equal(sec_verifier_create(t_keys, false, &v), 0);
	make_cred("tamper", t_key, 60, &buf, &len);
	b = buf;

	/* Every single-byte change is refused. */
	for (i = 0; i < len; i++) {
		for (f = 0; f < D_ARRAY_SIZE(flips); f++) {
			int rc;

			b[i] ^= (uint8_t)flips[f];
			rc = sec_cred_verify(v, b, len, 0, &info);
			if (rc == 0)
				fail_msg("byte %zu ^ %#x accepted", i, flips[f]);
			b[i] ^= (uint8_t)flips[f];
		}
	}
	assert_int_equal(sec_cred_verify(v, b, len, 0, &info), 0);
	sec_cred_info_free(info);

	/* Forgery: the token re-encoded with another uid, under the original signature. */
	cred = auth__credential__unpack(NULL, len, b);
	assert_non_null(cred);
	sys = auth__sys__unpack(NULL, cred->token->data.len, cred->token->data.data);
	assert_non_null(sys);
	sys->uid = sys->uid == 0 ? 1 : 0;
	{
		size_t slen = auth__sys__get_packed_size(sys);
		uint8_t *sbuf = malloc(slen);
		uint8_t *orig = cred->token->data.data;
		size_t orig_len = cred->token->data.len;
		size_t flen;

		auth__sys__pack(sys, sbuf);
		cred->token->data.data = sbuf;
		cred->token->data.len = slen;
		flen = auth__credential__get_packed_size(cred);
		forged = malloc(flen);
		auth__credential__pack(cred, forged);
		assert_int_equal(sec_cred_verify(v, forged, flen, 0, &info), -DER_NO_PERM);
		free(forged);
		free(sbuf);
		cred->token->data.data = orig;
		cred->token->data.len = orig_len;
	}
	auth__sys__free_unpacked(sys, NULL);
	auth__credential__free_unpacked(cred, NULL);
	D_FREE(buf);
	sec_verifier_destroy(v);
}

static void
test_expiry_and_keys(void **state)
{
	struct sec_verifier *v;
	struct sec_cred_info *info;
	EVP_PKEY *k;
	EVP_PKEY *other;
	void *buf;
	size_t len;
	uint64_t now = (uint64_t)time(NULL);
	char path[256];
	FILE *f;

	(void)state;
	k = keygen("ED25519");
	other = keygen("ED25519");
	write_private(k, t_key);
	write_public(k, "good");
	write_public(other, "wrongkey");
	EVP_PKEY_free(k);
	EVP_PKEY_free(other);
	assert_int_equal(sec_verifier_create(t_keys, false, &v), 0);

	make_cred("good", t_key, 100, &buf, &len);
	assert_int_equal(sec_cred_verify(v, buf, len, now + 99, &info), 0);
	sec_cred_info_free(info);
	assert_int_equal(sec_cred_verify(v, buf, len, now + 102, &info), -DER_NO_PERM);
	assert_int_equal(sec_cred_verify(v, buf, len, now + 100000, &info), -DER_NO_PERM);
	/* Issued far in the future (a clock off by an hour): refused. */
	assert_int_equal(sec_cred_verify(v, buf, len, now - 3600, &info), -DER_NO_PERM);
	D_FREE(buf);

	/* Signed by a key the server does not have for that origin. */
	make_cred("wrongkey", t_key, 100, &buf, &len);
	assert_int_equal(sec_cred_verify(v, buf, len, 0, &info), -DER_NO_PERM);
	D_FREE(buf);
	/* An origin with no key file at all. */
	make_cred("unknown", t_key, 100, &buf, &len);
	assert_int_equal(sec_cred_verify(v, buf, len, 0, &info), -DER_BADPATH);
	D_FREE(buf);
	/* A key file that is not a key. */
	snprintf(path, sizeof(path), "%s/broken.pub", t_keys);
	f = fopen(path, "w");
	fputs("-----BEGIN PUBLIC KEY-----\nnot base64 at all\n-----END PUBLIC KEY-----\n", f);
	fclose(f);
	make_cred("broken", t_key, 100, &buf, &len);
	assert_int_equal(sec_cred_verify(v, buf, len, 0, &info), -DER_BAD_CERT);
	D_FREE(buf);
	sec_verifier_destroy(v);

	/* Signer errors. */
	{
		struct sec_signer *sg;

		assert_int_equal(sec_signer_create("../etc", t_key, &sg), -DER_INVAL);
		assert_int_equal(sec_signer_create("a/b", t_key, &sg), -DER_INVAL);
		assert_int_equal(sec_signer_create("", NULL, &sg), -DER_INVAL);
		assert_int_equal(sec_signer_create("x", "/nonexistent/key.pem", &sg), -DER_BADPATH);
		assert_int_equal(sec_signer_create("x", path, &sg), -DER_BAD_CERT);
	}
}

static void
test_insecure(void **state)
{
	struct sec_verifier *secure;
	struct sec_verifier *insecure;
	struct sec_cred_info *info;
	EVP_PKEY *k;
	uint8_t *b;
	void *buf;
	size_t len;
	size_t i;

	(void)state;
	assert_int_equal(sec_verifier_create(t_keys, false, &secure), 0);
	assert_int_equal(sec_verifier_create(NULL, true, &insecure), 0);
	{
		struct sec_verifier *none;

		assert_int_equal(sec_verifier_create(NULL, false, &none), -DER_INVAL);
	}

	make_cred("insecure-agent", NULL, 60, &buf, &len);
	assert_int_equal(sec_cred_verify(secure, buf, len, 0, &info), -DER_NO_PERM);
	assert_int_equal(sec_cred_verify(insecure, buf, len, 0, &info), 0);
	assert_false(info->ci_signed);
	assert_int_equal(info->ci_uid, getuid());
	sec_cred_info_free(info);
	/* The digest still catches changes. */
	b = buf;
	for (i = 0; i < len; i++) {
		b[i] ^= 0x40;
		if (sec_cred_verify(insecure, b, len, 0, &info) == 0)
			fail_msg("insecure: byte %zu changed and accepted", i);
		b[i] ^= 0x40;
	}
	D_FREE(buf);

	/* A signed credential on an insecure server: accepted unchecked, as DAOS. */
	k = keygen("ED25519");
	write_private(k, t_key);
	EVP_PKEY_free(k);
	make_cred("nokey-needed", t_key, 60, &buf, &len);
	assert_int_equal(sec_cred_verify(insecure, buf, len, 0, &info), 0);
	assert_true(info->ci_signed);
	sec_cred_info_free(info);
	D_FREE(buf);
	sec_verifier_destroy(insecure);
	sec_verifier_destroy(secure);
}

static void
test_cred_perms(void **state)
{
	const char *strs[] = {"A::OWNER@:rw", "A:G:GROUP@:r", "A::EVERYONE@:t"};
	struct d_ownership own;
	struct sec_cred_info *info;
	struct sec_verifier *v;
	struct daos_acl *acl;
	uint64_t perms;
	bool is_owner;
	void *buf;
	size_t len;

	(void)state;
	assert_int_equal(daos_acl_from_strs(strs, 3, &acl), 0);
	assert_int_equal(sec_verifier_create(NULL, true, &v), 0);
	make_cred("perm-agent", NULL, 60, &buf, &len);
	assert_int_equal(sec_cred_verify(v, buf, len, 0, &info), 0);

	own.user = info->ci_user;
	own.group = "nosuchgroup@";
	assert_int_equal(sec_cred_get_perms(info, acl, &own, 0, &perms, &is_owner), 0);
	assert_int_equal(perms, DAOS_ACL_PERM_READ | DAOS_ACL_PERM_WRITE);
	assert_true(is_owner);
	/* Not the owner, but the primary group is the owner group. */
	own.user = "someoneelse@";
	own.group = info->ci_group;
	assert_int_equal(sec_cred_get_perms(info, acl, &own, 0, &perms, &is_owner), 0);
	assert_int_equal(perms, DAOS_ACL_PERM_READ);
	assert_false(is_owner);
	own.group = "nosuchgroup@";
	assert_int_equal(sec_cred_get_perms(info, acl, &own, 0, &perms, &is_owner), 0);
	assert_int_equal(perms, DAOS_ACL_PERM_GET_PROP);

	sec_cred_info_free(info);
	D_FREE(buf);
	sec_verifier_destroy(v);
	daos_acl_free(acl);
}

/* Garbage never crashes the decoder and is never accepted. */
static void
test_garbage(void **state)
{
	unsigned int seed = d_test_seed("test_garbage");
	uint64_t rs = d_test_rand_seed(seed);
	struct sec_verifier *v;
	struct sec_verifier *vi;
	struct sec_cred_info *info;
	uint8_t junk[2048];
	uint8_t *b;
	void *buf;
	size_t len;
	EVP_PKEY *k;
	int iter;
	size_t i;

	(void)state;
	k = keygen("ED25519");
	write_private(k, t_key);
	write_public(k, "fuzz");
	EVP_PKEY_free(k);
	assert_int_equal(sec_verifier_create(t_keys, false, &v), 0);
	assert_int_equal(sec_verifier_create(NULL, true, &vi), 0);
	make_cred("fuzz", t_key, 60, &buf, &len);
	b = buf;

	assert_int_equal(sec_cred_verify(v, NULL, 0, 0, &info), -DER_INVAL);
	assert_int_equal(sec_cred_verify(v, junk, SEC_CRED_MAX + 1, 0, &info), -DER_INVAL);
	for (iter = 0; iter < 20000; iter++) {
		size_t n = 1 + d_test_rand(&rs) % sizeof(junk);

		for (i = 0; i < n; i++)
			junk[i] = (uint8_t)d_test_rand(&rs);
		assert_int_not_equal(sec_cred_verify(v, junk, n, 0, &info), 0);
		assert_int_not_equal(sec_cred_verify(vi, junk, n, 0, &info), 0);
	}
	/* Every truncation of a valid credential. */
	for (i = 1; i < len; i++)
		assert_int_not_equal(sec_cred_verify(v, b, i, 0, &info), 0);
	/* Random multi-byte mutations. */
	for (iter = 0; iter < 20000; iter++) {
		uint8_t *m = malloc(len);
		int nmut = 1 + (int)(d_test_rand(&rs) % 8);
		int j;

		memcpy(m, b, len);
		for (j = 0; j < nmut; j++)
			m[d_test_rand(&rs) % len] ^= (uint8_t)(1 + d_test_rand(&rs) % 255);
		if (memcmp(m, b, len) != 0)
			assert_int_not_equal(sec_cred_verify(v, m, len, 0, &info), 0);
		free(m);
	}
	D_FREE(buf);
	sec_verifier_destroy(v);
	sec_verifier_destroy(vi);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_local_info), cmocka_unit_test(test_sign_verify),
	    cmocka_unit_test(test_tamper),     cmocka_unit_test(test_expiry_and_keys),
	    cmocka_unit_test(test_insecure),   cmocka_unit_test(test_cred_perms),
	    cmocka_unit_test(test_garbage),
	};

	return cmocka_run_group_tests_name("security_cred", tests, setup, teardown);
}
