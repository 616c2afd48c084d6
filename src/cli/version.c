#include "cli/cli.h"

#include <stdio.h>

int ml_cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("meetlink %s\n", ML_VERSION);
	return 0;
}
