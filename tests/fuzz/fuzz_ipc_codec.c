/* libFuzzer target: the IPC codec (common/ipc_codec.c) on arbitrary
 * bytes, as every receiver meets them: privd's BPF owner (the collector's
 * requests), the collector (privd's replies, apid's requests) and apid
 * (the collector's replies) all decode with usm_msg_decode. A message it
 * accepts must encode back to the very same bytes (usm_msg_encode checks
 * the sender's side with the same rules), and a refusal must have a name. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipc_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the transport hands the decoder an aligned copy */
	static _Alignas(max_align_t) uint8_t in[USM_IPC_MAX_MSG + 64], out[USM_IPC_MAX_MSG + 64];
	if (size > sizeof(in))
		return 0;
	memcpy(in, data, size);
	struct usm_msg_view view;
	enum usm_decode_error e = usm_msg_decode(in, size, &view);
	if (e != USM_DECODE_OK) {
		if (e >= USM_DECODE_ERROR_COUNT || !usm_decode_error_name(e))
			abort();
		return 0;
	}
	long n = usm_msg_encode(view.type, view.payload, view.length, out, sizeof(out));
	if (n < 0 || (size_t)n != size || memcmp(in, out, size) != 0)
		abort(); /* accepted by the receiver, refused or changed by the sender */
	return 0;
}
