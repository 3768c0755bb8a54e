/* PLACEHOLDER: being replaced by the fault-injection helper. */
#include <gurt/common.h>
int d_fault_inject_enabled;
bool
d_fault_check(uint32_t id)
{
	(void)id;
	return false;
}
