#ifndef PLBA_ERROR_H
#define PLBA_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

/* Every libplba function that can fail returns one of these; 0 is success.
 * libplba never prints and never exits. */
enum plba_error {
	PLBA_OK		=  0,
	PLBA_EINVAL	= -1,	/* an argument is invalid */
	PLBA_ENOMEM	= -2,	/* out of memory */
	PLBA_ECONFIG	= -3,	/* the configuration is invalid */
	PLBA_ETYPE	= -4,	/* a configuration value has the wrong type */
	PLBA_ENOENT	= -5,	/* no such key, worker, queue or file */
	PLBA_ESYS	= -6,	/* a system call failed; errno says why */
	PLBA_EPROTO	= -7,	/* the peer broke the worker protocol */
	PLBA_ECLOSED	= -8,	/* the channel to the master is closed */
	PLBA_EABI	= -9,	/* a module was built for another ABI version */
	PLBA_ESTATE	= -10	/* not allowed in the current state */
};

/* A static, readable description of an error code; never NULL. */
const char	*plba_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif
