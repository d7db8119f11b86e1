/* service.c - the names of the Apple services an alert can carry.
 *
 * The table is indexed by enum service_id and lists every id below
 * SVC_COUNT (its length is checked at compile time); the spellings are part of the
 * output format and never change. Lookups by name are a linear scan of
 * 16 short strings, used only while loading signatures. */
#include "service.h"

#include <stddef.h>
#include <string.h>

static const char *const service_names[] = {
	[SVC_NONE] = "none",
	[SVC_ACTIVATION] = "activation",
	[SVC_MDM] = "mdm",
	[SVC_PUSH] = "push",
	[SVC_APPSTORE] = "appstore",
	[SVC_SOFTWARE_UPDATE] = "software-update",
	[SVC_ICLOUD] = "icloud",
	[SVC_PRIVATE_RELAY] = "private-relay",
	[SVC_SIRI] = "siri",
	[SVC_MAPS] = "maps",
	[SVC_CERT_VALIDATION] = "cert-validation",
	[SVC_CAPTIVE_PORTAL] = "captive-portal",
	[SVC_TIME] = "time",
	[SVC_APPLE_ID] = "apple-id",
	[SVC_MESSAGING] = "messaging",
	[SVC_MEDIA] = "media",
	[SVC_APPLE] = "apple",
};

_Static_assert(sizeof(service_names) / sizeof(service_names[0]) == SVC_COUNT,
	       "every service id needs a name");

const char *service_name(enum service_id s)
{
	if ((unsigned)s >= SVC_COUNT || service_names[s] == NULL)
		return service_names[SVC_NONE];
	return service_names[s];
}

enum service_id service_from_name(const char *name)
{
	if (name == NULL)
		return SVC_NONE;
	/* SVC_NONE's "none" is not a service one can name. */
	for (int s = SVC_NONE + 1; s < SVC_COUNT; s++)
		if (strcmp(service_names[s], name) == 0)
			return (enum service_id)s;
	return SVC_NONE;
}
