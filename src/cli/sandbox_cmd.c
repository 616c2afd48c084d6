#include "cli/cli.h"

#include <stdio.h>

/* The provider sandbox lands with issue 3; until then this command says so plainly. */
int ml_cmd_sandbox(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fputs("meetlink sandbox: not built yet\n", stderr);
	return 1;
}
