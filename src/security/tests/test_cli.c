/*
 * test_cli.c: unit tests of the client half of the agent socket (cli_security.c) against a
 * scripted peer on a real Unix SOCK_SEQPACKET socket in a fresh mkdtemp directory: good
 * answers, agent errors, garbage, oversized and missing answers, no socket, a socket
 * nobody listens on, and random packets. The peer is a thread of this process that
 * answers one connection per scripted reply.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <daos/security.h>
#include <gurt/common.h>
#include <d_test.h>

#include "mgmt/svc.pb-c.h"
#include "security/agent.pb-c.h"

static char t_dir[64];
static char t_sock[128];

enum peer_mode {
	PEER_REPLY,    /* send pr_reply as is */
	PEER_CLOSE,    /* close without answering */
	PEER_OVERSIZE, /* a packet larger than any answer */
};

struct peer {
	int pr_listen;
	enum peer_mode pr_mode;
	uint8_t *pr_reply;
	size_t pr_len;
	uint32_t pr_method; /* what the request asked */
	pthread_t pr_thread;
};

static void *
peer_main(void *arg)
{
	struct peer *p = arg;
	Agent__Request *req;
	uint8_t buf[4096];
	ssize_t n;
	int fd;

	fd = accept(p->pr_listen, NULL, NULL);
	if (fd < 0)
		return NULL;
	n = recv(fd, buf, sizeof(buf), 0);
	if (n > 0) {
		req = agent__request__unpack(NULL, (size_t)n, buf);
		if (req != NULL) {
			p->pr_method = req->method;
			agent__request__free_unpacked(req, NULL);
		}
	}
	if (p->pr_mode == PEER_REPLY) {
		send(fd, p->pr_reply, p->pr_len, MSG_NOSIGNAL);
	} else if (p->pr_mode == PEER_OVERSIZE) {
		size_t big = DC_AGENT_MSG_MAX + 16;
		uint8_t *b = calloc(1, big);

		/* SOCK_SEQPACKET may refuse a packet this size; then the client sees a close. */
		send(fd, b, big, MSG_NOSIGNAL);
		free(b);
	}
	close(fd);
	return NULL;
}

static void
peer_start(struct peer *p, enum peer_mode mode, const void *reply, size_t len)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};

	memset(p, 0, sizeof(*p));
	p->pr_mode = mode;
	p->pr_reply = (uint8_t *)reply;
	p->pr_len = len;
	unlink(t_sock);
	p->pr_listen = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	assert_true(p->pr_listen >= 0);
	strcpy(sun.sun_path, t_sock);
	assert_int_equal(bind(p->pr_listen, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(p->pr_listen, 4), 0);
	assert_int_equal(pthread_create(&p->pr_thread, NULL, peer_main, p), 0);
}

static void
peer_stop(struct peer *p)
{
	pthread_join(p->pr_thread, NULL);
	close(p->pr_listen);
	unlink(t_sock);
}

/* A packed agent.Response with @status and @body. Caller frees. */
static uint8_t *
response(int status, const void *body, size_t blen, size_t *len)
{
	Agent__Response r = AGENT__RESPONSE__INIT;
	uint8_t *b;

	r.status = status;
	r.body.data = (uint8_t *)body;
	r.body.len = blen;
	*len = agent__response__get_packed_size(&r);
	b = malloc(*len + 1);
	agent__response__pack(&r, b);
	return b;
}

static int
setup(void **state)
{
	(void)state;
	strcpy(t_dir, "/tmp/test_cli.XXXXXX");
	if (mkdtemp(t_dir) == NULL)
		return -1;
	snprintf(t_sock, sizeof(t_sock), "%s/%s", t_dir, DC_AGENT_SOCK_NAME);
	setenv(DC_AGENT_DIR_ENV, t_dir, 1);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(t_sock);
	return rmdir(t_dir);
}

static void
test_creds(void **state)
{
	static const uint8_t cred[] = {1, 2, 3, 4, 5};
	struct peer p;
	d_iov_t iov;
	uint8_t *r;
	size_t len;

	(void)state;
	r = response(0, cred, sizeof(cred), &len);
	peer_start(&p, PEER_REPLY, r, len);
	assert_int_equal(dc_sec_request_creds(&iov), 0);
	peer_stop(&p);
	assert_int_equal(p.pr_method, DC_AGENT_REQUEST_CREDS);
	assert_int_equal(iov.iov_len, sizeof(cred));
	assert_memory_equal(iov.iov_buf, cred, sizeof(cred));
	D_FREE(iov.iov_buf);
	free(r);

	/* The agent's error comes through. */
	r = response(-DER_NONEXIST, NULL, 0, &len);
	peer_start(&p, PEER_REPLY, r, len);
	assert_int_equal(dc_sec_request_creds(&iov), -DER_NONEXIST);
	peer_stop(&p);
	free(r);

	/* Success without a credential packs to an empty packet: it reads as no answer. */
	r = response(0, NULL, 0, &len);
	assert_int_equal(len, 0);
	peer_start(&p, PEER_REPLY, r, len);
	assert_int_equal(dc_sec_request_creds(&iov), -DER_NOREPLY);
	peer_stop(&p);
	free(r);
	assert_int_equal(dc_sec_request_creds(NULL), -DER_INVAL);
}

static void
test_attach(void **state)
{
	Mgmt__GetAttachInfoResp ai = MGMT__GET_ATTACH_INFO_RESP__INIT;
	Mgmt__GetAttachInfoResp__RankUri ru = MGMT__GET_ATTACH_INFO_RESP__RANK_URI__INIT;
	Mgmt__GetAttachInfoResp__RankUri *rus[1] = {&ru};
	Mgmt__ClientNetHint hint = MGMT__CLIENT_NET_HINT__INIT;
	char *aps[] = {"10.0.0.1:10001"};
	uint32_t ms[] = {0};
	struct dc_attach_info *info;
	struct peer p;
	uint8_t body[1024];
	size_t blen;
	uint8_t *r;
	size_t len;

	(void)state;
	ai.sys = "daos_server";
	hint.provider = "tcp;ofi_rxm";
	ai.client_net_hint = &hint;
	ru.rank = 3;
	ru.uri = "fi_sockaddr_in://10.0.0.1:20000";
	ru.nr_ctxs = 2;
	ai.n_rank_uris = 1;
	ai.rank_uris = rus;
	ai.n_ms_ranks = 1;
	ai.ms_ranks = ms;
	ai.n_access_points = 1;
	ai.access_points = aps;
	blen = mgmt__get_attach_info_resp__pack(&ai, body);
	r = response(0, body, blen, &len);
	peer_start(&p, PEER_REPLY, r, len);
	assert_int_equal(dc_agent_attach_info(NULL, &info), 0);
	peer_stop(&p);
	free(r);
	assert_int_equal(p.pr_method, DC_AGENT_GET_ATTACH_INFO);
	assert_string_equal(info->ai_sys, "daos_server");
	assert_string_equal(info->ai_provider, "tcp;ofi_rxm");
	assert_string_equal(info->ai_interface, "");
	assert_int_equal(info->ai_nr_rank_uris, 1);
	assert_int_equal(info->ai_rank_uris[0].ru_rank, 3);
	assert_int_equal(info->ai_rank_uris[0].ru_nr_ctxs, 2);
	assert_string_equal(info->ai_rank_uris[0].ru_uri, "fi_sockaddr_in://10.0.0.1:20000");
	assert_int_equal(info->ai_nr_ms_ranks, 1);
	assert_int_equal(info->ai_nr_access_points, 1);
	assert_string_equal(info->ai_access_points[0], "10.0.0.1:10001");
	dc_attach_info_free(info);

	/* A status inside the attach info counts too. */
	ai.status = -DER_UNREACH;
	blen = mgmt__get_attach_info_resp__pack(&ai, body);
	r = response(0, body, blen, &len);
	peer_start(&p, PEER_REPLY, r, len);
	assert_int_equal(dc_agent_attach_info("daos_server", &info), -DER_UNREACH);
	peer_stop(&p);
	free(r);

	/* A body that is not an attach info. */
	r = response(0, "\xff\xff\xff", 3, &len);
	peer_start(&p, PEER_REPLY, r, len);
	assert_int_equal(dc_agent_attach_info(NULL, &info), -DER_PROTO);
	peer_stop(&p);
	free(r);
}

static void
test_transport_errors(void **state)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct peer p;
	void *reply;
	size_t len;
	int fd;
	int rc;

	(void)state;
	/* No socket file. */
	assert_int_equal(dc_agent_call(NULL, 1, NULL, 0, &reply, &len), -DER_NONEXIST);
	/* A socket file nobody listens on. */
	fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	strcpy(sun.sun_path, t_sock);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	assert_int_equal(dc_agent_call(NULL, 1, NULL, 0, &reply, &len), -DER_UNREACH);
	unlink(t_sock);
	/* Closed without an answer. */
	peer_start(&p, PEER_CLOSE, NULL, 0);
	assert_int_equal(dc_agent_call(NULL, 1, NULL, 0, &reply, &len), -DER_NOREPLY);
	peer_stop(&p);
	/* Too big an answer. */
	peer_start(&p, PEER_OVERSIZE, NULL, 0);
	rc = dc_agent_call(NULL, 1, NULL, 0, &reply, &len);
	assert_true(rc == -DER_PROTO || rc == -DER_NOREPLY);
	peer_stop(&p);
	/* A positive status is not a DAOS error code. */
	{
		uint8_t *r = response(5, NULL, 0, &len);

		peer_start(&p, PEER_REPLY, r, len);
		assert_int_equal(dc_agent_call(NULL, 1, NULL, 0, &reply, &len), -DER_PROTO);
		peer_stop(&p);
		free(r);
	}
	/* An explicit path too long for a socket. */
	{
		char longp[200];

		memset(longp, 'x', sizeof(longp) - 1);
		longp[sizeof(longp) - 1] = '\0';
		assert_int_equal(dc_agent_call(longp, 1, NULL, 0, &reply, &len),
				 -DER_EXCEEDS_PATH_LEN);
	}
	assert_int_equal(dc_agent_call(NULL, 1, NULL, 5, &reply, &len), -DER_INVAL);
}

/* Random answers never crash the client, and garbage never passes as success with data. */
static void
test_garbage_answers(void **state)
{
	unsigned int seed = d_test_seed("test_garbage_answers");
	uint64_t rs = d_test_rand_seed(seed);
	uint8_t junk[512];
	struct dc_attach_info *info;
	struct peer p;
	d_iov_t iov;
	int iter;
	size_t i;
	int rc;

	(void)state;
	for (iter = 0; iter < 300; iter++) {
		size_t n = 1 + d_test_rand(&rs) % sizeof(junk);

		for (i = 0; i < n; i++)
			junk[i] = (uint8_t)d_test_rand(&rs);
		peer_start(&p, PEER_REPLY, junk, n);
		if (iter % 2 == 0) {
			rc = dc_sec_request_creds(&iov);
			if (rc == 0)
				D_FREE(iov.iov_buf);
		} else {
			rc = dc_agent_attach_info(NULL, &info);
			if (rc == 0)
				dc_attach_info_free(info);
		}
		peer_stop(&p);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_creds),
	    cmocka_unit_test(test_attach),
	    cmocka_unit_test(test_transport_errors),
	    cmocka_unit_test(test_garbage_answers),
	};

	return cmocka_run_group_tests_name("security_cli", tests, setup, teardown);
}
