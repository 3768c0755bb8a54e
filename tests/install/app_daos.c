/*
 * app_daos.c: a program using libdaos's event queues the way DAOS applications do, built
 * against the installed headers with pkg-config. Defines globals with the names
 * applications commonly use, which the library must not export.
 */
#include <stdio.h>

#include <daos.h>

daos_handle_t poh;
daos_handle_t coh;
int rank;
int verbose;

int
main(void)
{
	daos_event_t ev;
	daos_event_t *evp;
	daos_handle_t eqh;
	bool flag = false;
	int rc;

	rc = daos_init();
	if (rc != 0)
		return 1;
	if (daos_init() != 0) /* a second call succeeds */
		return 2;
	rc = daos_eq_create(&eqh);
	if (rc != 0)
		return 3;
	rc = daos_event_init(&ev, eqh, NULL);
	if (rc != 0)
		return 4;
	if (daos_event_test(&ev, DAOS_EQ_NOWAIT, &flag) != 0 || !flag)
		return 5;
	if (daos_eq_poll(eqh, 1, DAOS_EQ_NOWAIT, 1, &evp) != 0)
		return 6;
	if (daos_event_fini(&ev) != 0 || daos_eq_destroy(eqh, 0) != 0)
		return 7;
	daos_fini();
	daos_fini();
	printf("events: ok (%d %d)\n", rank, verbose);
	return 0;
}
