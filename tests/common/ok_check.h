/*
 * ok_check.h: the checks of a system test program that prints one "ok: ..." or "FAIL: ..."
 * line per check on stdout (the convention of tests/README.md) and exits 0 only when every
 * check passed. Header only: the programs that include it link the public libraries alone
 * (cont_api_test). Include it from one file of the program: it defines the program's
 * failure count.
 */
#ifndef TESTS_OK_CHECK_H
#define TESTS_OK_CHECK_H

#include <stdarg.h>
#include <stdio.h>

#include <daos_errno.h>

/* Checks that failed so far; main's exit status is made from it. */
static int fails;

/* Print "ok: " or "FAIL: " and the formatted text on its own line, now; count a failure. */
static inline void __attribute__((format(printf, 2, 3))) check(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%s: ", cond ? "ok" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!cond)
		fails++;
}

/*
 * check() as a statement: @cond is evaluated before the message's arguments, which may read
 * what it set (a call's result). Not with common/model_check.h, whose CHECK differs.
 */
#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		int __ok = !!(cond);                                                               \
		check(__ok, __VA_ARGS__);                                                          \
	} while (0)

/* check() that @rc is @want, a -DER_* error or 0; @what names the call. */
#define CHECK_RC(rc, want, what)                                                                   \
	do {                                                                                       \
		int __rc = (rc);                                                                   \
		check(__rc == (want), "%s: %s (want %s)", what, d_errstr(__rc), d_errstr(want));   \
	} while (0)

#endif /* TESTS_OK_CHECK_H */
