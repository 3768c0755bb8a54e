/*
 * alloc.c: the allocation functions behind D_ALLOC and friends. Each checks fault point
 * D_FI_ALLOC first, so tests can fail any chosen allocation.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gurt/common.h>

void *
d_malloc(size_t size)
{
	if (D_FAIL_CHECK(D_FI_ALLOC))
		return NULL;
	return malloc(size);
}

void *
d_calloc(size_t nmemb, size_t size)
{
	if (D_FAIL_CHECK(D_FI_ALLOC))
		return NULL;
	return calloc(nmemb, size);
}

void *
d_realloc(void *ptr, size_t size)
{
	if (D_FAIL_CHECK(D_FI_ALLOC))
		return NULL;
	/* realloc(p, 0) may free p and return NULL: keep a valid, distinct result instead. */
	return realloc(ptr, size == 0 ? 1 : size);
}

void *
d_realloc_array(void *ptr, size_t count, size_t elem_size)
{
	size_t size;

	if (__builtin_mul_overflow(count, elem_size, &size))
		return NULL;
	return d_realloc(ptr, size);
}

char *
d_strndup(const char *s, size_t n)
{
	if (s == NULL || D_FAIL_CHECK(D_FI_ALLOC))
		return NULL;
	return strndup(s, n);
}

int
d_asprintf(char **strp, const char *fmt, ...)
{
	va_list ap;
	int rc;

	if (D_FAIL_CHECK(D_FI_ALLOC)) {
		*strp = NULL;
		return -1;
	}
	va_start(ap, fmt);
	rc = vasprintf(strp, fmt, ap);
	va_end(ap);
	if (rc < 0)
		*strp = NULL;
	return rc;
}

void
d_free(void *ptr)
{
	free(ptr);
}
