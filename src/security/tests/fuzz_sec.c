/*
 * fuzz_sec.c: libFuzzer entry points of the security decoders, one per build
 * (SEC_FUZZ_TARGET): 0 a packed credential (both verifiers: an insecure one, which decodes
 * the token of a "signed" credential without checking the signature, and a secure one
 * with no keys), 1 an entry in text form, 2 a binary ACL. With FUZZ_SMOKE defined, a main
 * feeds seeded random inputs to all three instead (the unit test security_fuzz_smoke), so
 * the entry points build and run with any compiler.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <daos/security.h>
#include <gurt/common.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_cred(const uint8_t *data, size_t size)
{
	static struct sec_verifier *insecure;
	static struct sec_verifier *secure;
	struct sec_cred_info *info;

	if (insecure == NULL && sec_verifier_create(NULL, true, &insecure) != 0)
		abort();
	if (secure == NULL && sec_verifier_create("/nonexistent", false, &secure) != 0)
		abort();
	if (sec_cred_verify(insecure, data, size, 1, &info) == 0)
		sec_cred_info_free(info);
	if (sec_cred_verify(secure, data, size, 1, &info) == 0)
		abort(); /* no key exists: nothing may pass */
}

static void
fuzz_ace_str(const uint8_t *data, size_t size)
{
	char out[DAOS_ACL_MAX_ACE_STR_LEN + 1];
	char verbose[DAOS_ACL_MAX_ACE_STR_LEN * 2];
	struct daos_ace *ace;
	struct daos_ace *back;
	char *s;

	s = malloc(size + 1);
	if (s == NULL)
		return;
	memcpy(s, data, size);
	s[size] = '\0';
	(void)daos_ace_str_get_verbose(s, verbose, sizeof(verbose));
	if (daos_ace_from_str(s, &ace) == 0) {
		/* What parses formats, and parses back to the same entry. */
		if (daos_ace_to_str(ace, out, sizeof(out)) != 0 ||
		    daos_ace_from_str(out, &back) != 0)
			abort();
		if (memcmp(ace, back, (size_t)daos_ace_get_size(ace)) != 0)
			abort();
		daos_ace_free(back);
		daos_ace_free(ace);
	}
	free(s);
}

static void
fuzz_acl(const uint8_t *data, size_t size)
{
	struct daos_acl *acl;
	struct daos_ace *ace;
	char **strs;
	size_t nr;
	size_t i;
	int rc;

	if (size < sizeof(*acl))
		return;
	acl = malloc(size);
	if (acl == NULL)
		return;
	memcpy(acl, data, size);
	/* dal_len may lie: cap it at what was allocated. */
	if (acl->dal_len > size - sizeof(*acl))
		acl->dal_len = (uint32_t)(size - sizeof(*acl));
	for (ace = daos_acl_get_next_ace(acl, NULL); ace != NULL;
	     ace = daos_acl_get_next_ace(acl, ace))
		;
	/*
	 * A valid ACL may still have no text form (different permissions per access type):
	 * -DER_INVAL then, as DAOS.
	 */
	if (daos_acl_validate(acl) == 0) {
		rc = daos_acl_to_strs(acl, &strs, &nr);
		if (rc != 0 && rc != -DER_INVAL)
			abort();
		for (i = 0; rc == 0 && i < nr; i++)
			D_FREE(strs[i]);
		if (rc == 0)
			D_FREE(strs);
	}
	free(acl);
}

#if defined(FUZZ_SMOKE)
#define SEC_FUZZ_TARGET (-1)
#endif

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A constant switch rather than #if: every decoder is compiled in every build. */
	switch (SEC_FUZZ_TARGET) {
	case 0:
		fuzz_cred(data, size);
		break;
	case 1:
		fuzz_ace_str(data, size);
		break;
	case 2:
		fuzz_acl(data, size);
		break;
	default:
		fuzz_cred(data, size);
		fuzz_ace_str(data, size);
		fuzz_acl(data, size);
		break;
	}
	return 0;
}

#if defined(FUZZ_SMOKE)
#include <d_test.h>

int
main(void)
{
	uint64_t rs = d_test_rand_seed(d_test_seed("security_fuzz_smoke"));
	static const char *const seeds[] = {"A::OWNER@:rw", "AU:GSF:grp@dom:rwcdtTaAo",
					    "L:F:EVERYONE@:", "A:G:GROUP@:rw"};
	uint8_t buf[600];
	int iter;
	size_t i;

	for (iter = 0; iter < 100000; iter++) {
		size_t n = d_test_rand(&rs) % sizeof(buf);

		if (iter % 2 == 0) {
			/* Mutations of valid entries reach deeper than noise. */
			const char *s = seeds[iter / 2 % 4];

			n = strlen(s);
			memcpy(buf, s, n);
			buf[d_test_rand(&rs) % n] = (uint8_t)(d_test_rand(&rs) % 128);
		} else {
			for (i = 0; i < n; i++)
				buf[i] = (uint8_t)d_test_rand(&rs);
		}
		LLVMFuzzerTestOneInput(buf, n);
	}
	printf("security_fuzz_smoke: %d inputs\n", iter);
	return 0;
}
#endif
