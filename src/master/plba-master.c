/* plba-master: all of it lives in libplba, see master_main.c. */
#include "config.h"

#include "entry.h"

int
main(int argc, char *argv[])
{
	return plba__master_main(argc, argv);
}
