/*
 * dmg.c: the dmg executable (DAOS Management): everything happens in dmg_main().
 */
#include <stdio.h>

#include "dmg_internal.h"

int
main(int argc, char **argv)
{
	return dmg_main(argc, argv, stdout, stderr);
}
