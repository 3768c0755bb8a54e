/*
 * daos.c: the `daos` executable (README.md): everything is in daos_tool_main().
 */
#include "daos_internal.h"

int
main(int argc, char **argv)
{
	return daos_tool_main(argc, argv, stdout, stderr);
}
