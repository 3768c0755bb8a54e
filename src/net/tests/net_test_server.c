/*
 * net_test_server.c: a net server process for the multi-process tests and self_test: one
 * context with the self-test handlers, progressed until SIGTERM/SIGINT or until its parent
 * goes away. Usage: net_test_server PROVIDER LISTEN_ADDR. Prints "ADDR <address>" on stdout
 * once it listens.
 */
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <gurt/common.h>
#include <daos/net.h>

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int
main(int argc, char **argv)
{
	struct net_context_attr attr = {0};
	struct net_context *ctx;
	struct net_selftest *st;
	int rc;

	if (argc != 3) {
		fprintf(stderr, "usage: %s PROVIDER LISTEN_ADDR\n", argv[0]);
		return 2;
	}
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	attr.ca_provider = argv[1];
	attr.ca_addr = argv[2];
	rc = net_context_create(&attr, &ctx);
	if (rc != 0) {
		fprintf(stderr, "net_context_create(%s, %s): " DF_RC "\n", argv[1], argv[2],
			DP_RC(rc));
		return rc == -DER_NONEXIST ? 77 : 1;
	}
	rc = net_selftest_register(ctx, &st);
	if (rc != 0) {
		net_context_destroy(ctx);
		return 1;
	}
	printf("ADDR %s\n", net_context_addr(ctx));
	fflush(stdout);
	while (!stop && getppid() != 1)
		net_progress(ctx, 100 * 1000);
	net_context_destroy(ctx);
	net_selftest_destroy(st);
	return 0;
}
