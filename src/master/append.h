/*
 * Appending to a file a record at a time, whole or not at all: for the log
 * and the trace file, which must not be left holding half a line when the
 * disk fills up or a file size limit is reached.
 */
#ifndef PLBA_MASTER_APPEND_H
#define PLBA_MASTER_APPEND_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Writes len bytes to fd, retrying short writes.  If the writing stops
 * partway, what it wrote is cut off again where fd is a regular file, so
 * that the next record does not run on from part of this one.  Returns
 * false with errno set when the bytes could not all be written.
 */
bool	append_whole(int fd, const void *buf, size_t len);

#endif
