/* libFuzzer target: the collector's decoder of discovery events (the ring
 * buffer records the kernel writes), through the same function the ring
 * buffer callback uses, on arbitrary bytes of arbitrary length. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "discovery_event.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct usm_proc_event copy;
	/* ring buffer records are 8-byte aligned; so is the copy */
	if (size <= sizeof(copy)) {
		memcpy(&copy, data, size);
		(void)discovery_event_valid(&copy, size);
	}
	return 0;
}
