/*
 * agent_client.c: a helper of the agent system test. It uses the client half of the agent
 * socket exactly as libdaos will, and checks credentials as a server does:
 *
 *	agent_client creds KEY_DIR	request a credential, verify it with the keys in
 *					KEY_DIR (a server's client_cert_dir)
 *	agent_client creds --insecure	request one, verify it as an allow_insecure server
 *	agent_client attach [SYS]	request the attach info
 *	agent_client raw METHOD		call METHOD with an empty body, print the status
 *
 * Prints "key value" lines (creds: uid gid user group groups machine origin signed
 * lifetime; attach: sys provider uri access_point) or "error DER_NAME" and exits 1.
 * The socket comes from DAOS_AGENT_DRPC_DIR, as for every client.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gurt/common.h>
#include <daos/security.h>

static int
fail(int rc)
{
	printf("error %s\n", d_errstr(rc));
	return 1;
}

static int
do_creds(const char *keys)
{
	struct sec_verifier *v;
	struct sec_cred_info *info;
	d_iov_t cred;
	size_t i;
	int rc;

	rc = dc_sec_request_creds(&cred);
	if (rc != 0)
		return fail(rc);
	if (strcmp(keys, "--insecure") == 0)
		rc = sec_verifier_create(NULL, true, &v);
	else
		rc = sec_verifier_create(keys, false, &v);
	if (rc != 0)
		return fail(rc);
	rc = sec_cred_verify(v, cred.iov_buf, cred.iov_len, 0, &info);
	D_FREE(cred.iov_buf);
	sec_verifier_destroy(v);
	if (rc != 0)
		return fail(rc);
	printf("uid %u\ngid %u\nuser %s\ngroup %s\n", info->ci_uid, info->ci_gid, info->ci_user,
	       info->ci_group);
	printf("groups");
	for (i = 0; i < info->ci_nr_groups; i++)
		printf(" %s", info->ci_groups[i]);
	printf("\nmachine %s\norigin %s\nsigned %d\nlifetime %lld\n", info->ci_machine,
	       info->ci_origin, info->ci_signed ? 1 : 0,
	       (long long)info->ci_expiry - (long long)time(NULL));
	sec_cred_info_free(info);
	return 0;
}

static int
do_attach(const char *sys)
{
	struct dc_attach_info *ai;
	size_t i;
	int rc;

	rc = dc_agent_attach_info(sys, &ai);
	if (rc != 0)
		return fail(rc);
	printf("sys %s\nprovider %s\n", ai->ai_sys, ai->ai_provider);
	for (i = 0; i < ai->ai_nr_rank_uris; i++)
		printf("uri %u %s\n", ai->ai_rank_uris[i].ru_rank, ai->ai_rank_uris[i].ru_uri);
	for (i = 0; i < ai->ai_nr_access_points; i++)
		printf("access_point %s\n", ai->ai_access_points[i]);
	dc_attach_info_free(ai);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "creds") == 0)
		return do_creds(argv[2]);
	if ((argc == 2 || argc == 3) && strcmp(argv[1], "attach") == 0)
		return do_attach(argc == 3 ? argv[2] : NULL);
	if (argc == 3 && strcmp(argv[1], "raw") == 0) {
		void *reply = NULL;
		size_t len = 0;
		int rc;

		rc =
		    dc_agent_call(NULL, (uint32_t)strtoul(argv[2], NULL, 0), NULL, 0, &reply, &len);
		D_FREE(reply);
		printf("status %s\n", rc == 0 ? "0" : d_errstr(rc));
		return rc == 0 ? 0 : 1;
	}
	fprintf(stderr, "usage: agent_client creds KEY_DIR|--insecure | attach [SYS] | raw "
			"METHOD\n");
	return 2;
}
