/* cmd_intel.c — `vakt intel ...` and `vakt assets ...` (being written; see issue 5). */
#include <stdio.h>

#include "cli.h"

int vk_cli_intel(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "vakt: intel: not built yet\n");
    return 1;
}

int vk_cli_assets(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "vakt: assets: not built yet\n");
    return 1;
}
