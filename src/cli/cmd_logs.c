/* cmd_logs.c — `vakt logs ...`: log parsing commands (being written; see issue 4). */
#include <stdio.h>

#include "cli.h"

int vk_cli_logs(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "vakt: logs: not built yet\n");
    return 1;
}
