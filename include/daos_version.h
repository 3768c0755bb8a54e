/*
 * daos_version.h: the version of the DAOS API these headers and libdaos implement, and of the
 * package they ship in. Applications test these at compile time to choose code paths, e.g.
 *
 *	#if DAOS_API_VERSION_MAJOR == 2 && DAOS_API_VERSION_MINOR >= 4
 */
#ifndef D_DAOS_VERSION_H
#define D_DAOS_VERSION_H

/** Version of the libdaos API, as major.minor.fix. */
#define DAOS_API_VERSION_MAJOR 2
#define DAOS_API_VERSION_MINOR 8
#define DAOS_API_VERSION_FIX 0

/** Version of the package, as major.minor.fix. */
#define DAOS_VERSION_MAJOR 2
#define DAOS_VERSION_MINOR 8
#define DAOS_VERSION_FIX 0

#endif /* D_DAOS_VERSION_H */
