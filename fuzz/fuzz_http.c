/* fuzz_http.c - an HTTP/1.x request head: method, target, Host, User-Agent.
 * The fields come out NUL-terminated, the host lowercased. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_request req;

	(void)http_plausible(data, size);
	if (http_parse_request(data, size, &req) != HTTP_OK)
		return 0;
	FUZZ_ASSERT(strnlen(req.method, HTTP_METHOD_MAX) < HTTP_METHOD_MAX);
	FUZZ_ASSERT(strnlen(req.host, HTTP_HOST_MAX) < HTTP_HOST_MAX);
	FUZZ_ASSERT(strnlen(req.user_agent, HTTP_UA_MAX) < HTTP_UA_MAX);
	for (const char *h = req.host; *h; h++)
		FUZZ_ASSERT(*h < 'A' || *h > 'Z');
	return 0;
}
