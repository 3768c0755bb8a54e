// headers_test.cpp: the public headers compile as C++ (extern "C", no C-only constructs in
// inline code), as C++ applications and bindings include them.
#include <daos.h>
#include <daos_fs.h>
#include <daos_uns.h>

static_assert(sizeof(daos_event_t) == 176, "daos_event_t is 176 bytes");
static_assert(OC_RP_3GX == 0x0900ffff, "class IDs are DAOS's");

int t_cxx_use(daos_handle_t poh);

int
t_cxx_use(daos_handle_t poh)
{
	daos_anchor_t anchor;
	daos_pool_info_t info = {};
	daos_obj_id_t oid = {1, 0};

	daos_anchor_init(&anchor, 0);
	info.pi_bits = DPI_SPACE;
	int (*connect)(const char *, const char *, unsigned int, daos_handle_t *,
		       daos_pool_info_t *, daos_event_t *) = daos_pool_connect;
	(void)connect;
	return daos_anchor_is_eof(&anchor) + daos_handle_is_inval(poh) + daos_is_kv(oid) +
	       (int)info.pi_bits;
}
