#include "config.h"

#include <errno.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "append.h"

bool
append_whole(int fd, const void *buf, size_t len)
{
	const char *s = buf;
	size_t done = 0;
	struct stat st;
	ssize_t w;
	off_t end;
	int saved;

	while (done < len) {
		if ((w = write(fd, s + done, len - done)) > 0) {
			done += (size_t)w;
			continue;
		}
		if (w == -1 && errno == EINTR)
			continue;
		saved = w == -1 ? errno : ENOSPC;
		/*
		 * The position is just past what was written, whether fd
		 * appends or not; a pipe or a terminal has none, and keeps
		 * what it got.
		 */
		if (done > 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
		    (end = lseek(fd, 0, SEEK_CUR)) >= (off_t)done &&
		    ftruncate(fd, end - (off_t)done) == 0)
			(void)lseek(fd, end - (off_t)done, SEEK_SET);
		errno = saved;
		return false;
	}
	return true;
}
