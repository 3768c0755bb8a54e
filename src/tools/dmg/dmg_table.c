/*
 * dmg_table.c: plain-text tables in the layout of DAOS's dmg (txtfmt): a header row, a row of
 * dashes as wide as each header, then the rows; columns left-aligned, one space apart, the
 * last column not padded. Cells live in the run's arena.
 */
#include <stdarg.h>
#include <string.h>

#include <gurt/common.h>

#include "dmg_internal.h"

char *
dmg_sprintf(struct dmg_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	s = dmg_alloc(ctx, (size_t)n + 1);
	if (s == NULL)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

int
dmg_table_init(struct dmg_ctx *ctx, struct dmg_table *t, uint32_t ncols, const char *const *headers)
{
	memset(t, 0, sizeof(*t));
	t->dt_ctx = ctx;
	t->dt_ncols = ncols;
	return dmg_table_row(t, headers);
}

int
dmg_table_row(struct dmg_table *t, const char *const *cells)
{
	uint32_t i;

	if (t->dt_nrows == t->dt_cap) {
		uint32_t cap = t->dt_cap ? t->dt_cap * 2 : 16;
		const char **c = dmg_alloc(t->dt_ctx, sizeof(*c) * cap * t->dt_ncols);

		if (c == NULL)
			return -DER_NOMEM;
		if (t->dt_cells != NULL)
			memcpy(c, t->dt_cells, sizeof(*c) * t->dt_nrows * t->dt_ncols);
		t->dt_cells = c;
		t->dt_cap = cap;
	}
	for (i = 0; i < t->dt_ncols; i++) {
		const char *s = dmg_strdup(t->dt_ctx, cells[i] ? cells[i] : "");

		if (s == NULL)
			return -DER_NOMEM;
		t->dt_cells[t->dt_nrows * t->dt_ncols + i] = s;
	}
	t->dt_nrows++;
	return 0;
}

static void
table_line(const struct dmg_table *t, FILE *f, const size_t *w, uint32_t row, bool dashes)
{
	uint32_t i;

	for (i = 0; i < t->dt_ncols; i++) {
		const char *s = t->dt_cells[row * t->dt_ncols + i];
		size_t len = strlen(s);
		size_t k;

		if (dashes)
			for (k = 0; k < len; k++)
				fputc('-', f);
		else
			fputs(s, f);
		if (i + 1 < t->dt_ncols)
			for (k = len; k <= w[i]; k++)
				fputc(' ', f);
	}
	fputc('\n', f);
}

void
dmg_table_print(const struct dmg_table *t, FILE *f)
{
	size_t w[16] = {0};
	uint32_t r;
	uint32_t i;

	D_ASSERT(t->dt_ncols <= D_ARRAY_SIZE(w));
	for (r = 0; r < t->dt_nrows; r++) {
		for (i = 0; i < t->dt_ncols; i++) {
			size_t len = strlen(t->dt_cells[r * t->dt_ncols + i]);

			if (len > w[i])
				w[i] = len;
		}
	}
	table_line(t, f, w, 0, false);
	table_line(t, f, w, 0, true);
	for (r = 1; r < t->dt_nrows; r++)
		table_line(t, f, w, r, false);
}
