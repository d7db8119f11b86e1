/* privdrop.c - chroot, setgroups, setgid, setuid, in that order.
 *
 * The user is looked up before the chroot (the password database is
 * outside it). The group goes before the user: once the uid is not 0 the
 * process may no longer change its groups. glibc applies each call to
 * every thread of the process, so threads already started (the output's
 * delivery thread) drop with it. Last, regaining uid 0 must fail: if it
 * works, something kept a privilege and we refuse to go on. */
#include "privdrop.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

bool privdrop(const char *user, const char *chroot_dir, char *err, size_t errlen)
{
	errno = 0;
	struct passwd *pw = getpwnam(user);
	if (!pw) {
		snprintf(err, errlen, "user '%s': %s", user, errno ? strerror(errno) : "no such user");
		return false;
	}
	uid_t uid = pw->pw_uid;
	gid_t gid = pw->pw_gid;
	if (uid == 0) {
		snprintf(err, errlen, "user '%s' is root: give an unprivileged user", user);
		return false;
	}
	if (chroot_dir) {
		if (chdir(chroot_dir) != 0 || chroot(chroot_dir) != 0 || chdir("/") != 0) {
			snprintf(err, errlen, "chroot %s: %s", chroot_dir, strerror(errno));
			return false;
		}
	}
	if (setgroups(1, &gid) != 0) {
		snprintf(err, errlen, "setgroups: %s (run as root, or with CAP_SETGID and CAP_SETUID)",
			 strerror(errno));
		return false;
	}
	if (setgid(gid) != 0) {
		snprintf(err, errlen, "setgid %u: %s", (unsigned)gid, strerror(errno));
		return false;
	}
	if (setuid(uid) != 0) {
		snprintf(err, errlen, "setuid %u: %s", (unsigned)uid, strerror(errno));
		return false;
	}
	if (setuid(0) == 0 || geteuid() == 0) {
		snprintf(err, errlen, "still able to become root after dropping to '%s'", user);
		return false;
	}
	return true;
}
