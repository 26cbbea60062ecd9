/*
 * Error codes and the library version: the two things every caller of
 * libplba needs before anything else works.
 */
#include "config.h"

#include "plba/error.h"
#include "plba/version.h"

/* A static description of err; unknown codes get a generic text, never NULL. */
const char *
plba_strerror(int err)
{
	switch ((enum plba_error)err) {
	case PLBA_OK:
		return "success";
	case PLBA_EINVAL:
		return "invalid argument";
	case PLBA_ENOMEM:
		return "out of memory";
	case PLBA_ECONFIG:
		return "invalid configuration";
	case PLBA_ETYPE:
		return "configuration value has the wrong type";
	case PLBA_ENOENT:
		return "no such key, worker, queue or file";
	case PLBA_ESYS:
		return "system call failed";
	case PLBA_EPROTO:
		return "worker protocol violation";
	case PLBA_ECLOSED:
		return "channel to the master is closed";
	case PLBA_EABI:
		return "module built for another ABI version";
	case PLBA_ESTATE:
		return "not allowed in the current state";
	}
	return "unknown error";
}

/* The version of the library that is loaded, which may differ from the
 * PLBA_VERSION_STRING an application was compiled with. */
const char *
plba_version(void)
{
	return PLBA_VERSION_STRING;
}
