/*
 * dmg_json_get.c: a test helper for shell scripts: `dmg_json_get FILE [PATH...]` checks that
 * FILE holds one JSON document and prints the value at each dotted PATH ("response.uuid",
 * "response.members.0.rank"): strings raw, numbers as %.17g, true/false/null, and the
 * number of members of an object or array. Exit 0, 1 if FILE is not JSON, 2 if a PATH is
 * absent.
 */
#include <stdio.h>
#include <stdlib.h>

#include "dmg_test_json.h"

int
main(int argc, char **argv)
{
	static char buf[1 << 22];
	struct tj v;
	size_t n;
	FILE *f;
	int rc = 0;
	int i;

	if (argc < 2) {
		fprintf(stderr, "usage: dmg_json_get FILE [PATH...]\n");
		return 2;
	}
	f = fopen(argv[1], "r");
	if (f == NULL) {
		perror(argv[1]);
		return 1;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if (tj_parse(buf, &v) != 0) {
		fprintf(stderr, "%s: not JSON\n", argv[1]);
		return 1;
	}
	for (i = 2; i < argc; i++) {
		struct tj *m = tj_get(&v, argv[i]);

		if (m == NULL) {
			fprintf(stderr, "%s: no %s\n", argv[1], argv[i]);
			rc = 2;
			continue;
		}
		switch (m->t_type) {
		case TJ_NULL:
			printf("null\n");
			break;
		case TJ_BOOL:
			printf("%s\n", m->t_num ? "true" : "false");
			break;
		case TJ_NUM:
			printf("%.17g\n", m->t_num);
			break;
		case TJ_STR:
			printf("%s\n", m->t_str);
			break;
		default:
			printf("%zu\n", m->t_nkids);
		}
	}
	tj_free(&v);
	return rc;
}
