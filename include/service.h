/* service.h - the stable list of Apple service names an alert can carry.
 *
 * These names are part of the output format: SIEM rules key on them, so a
 * name is never renamed or reused. `apple` is every Apple service not
 * listed on its own. */
#ifndef APPLEMON_SERVICE_H
#define APPLEMON_SERVICE_H

enum service_id {
	SVC_NONE = 0,
	SVC_ACTIVATION,          /* device activation, albert.apple.com, ... */
	SVC_MDM,                 /* device management and enrollment */
	SVC_PUSH,                /* APNs */
	SVC_APPSTORE,
	SVC_SOFTWARE_UPDATE,
	SVC_ICLOUD,
	SVC_PRIVATE_RELAY,
	SVC_SIRI,
	SVC_MAPS,
	SVC_CERT_VALIDATION,     /* OCSP, CRL, certificate services */
	SVC_CAPTIVE_PORTAL,
	SVC_TIME,
	SVC_APPLE_ID,
	SVC_MESSAGING,           /* iMessage / FaceTime identity services */
	SVC_MEDIA,               /* TV, Music, iTunes, Podcasts, Books */
	SVC_APPLE,               /* any other Apple service */
	SVC_COUNT
};

const char *service_name(enum service_id s);
/* SVC_NONE if the name is not on the list. */
enum service_id service_from_name(const char *name);

#endif
