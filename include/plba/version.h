#ifndef PLBA_VERSION_H
#define PLBA_VERSION_H

#define PLBA_VERSION_MAJOR	0
#define PLBA_VERSION_MINOR	1
#define PLBA_VERSION_PATCH	0
#define PLBA_VERSION_STRING	"0.1.0"

/* Bumped whenever struct plba_module or another ABI-visible struct changes;
 * the master refuses a module built against another value. */
#define PLBA_ABI_VERSION	1

#ifdef __cplusplus
extern "C" {
#endif

/* The version of the library actually loaded, as "MAJOR.MINOR.PATCH". */
const char	*plba_version(void);

#ifdef __cplusplus
}
#endif

#endif
