/* cli.h — the subcommands of the vakt binary, one entry point each.
 *
 * main.c dispatches on argv[1]; each command gets argc/argv with its own name in argv[0]
 * and returns the process exit status (0 ok, 1 runtime failure, 2 bad usage or input). */
#ifndef VK_CLI_H
#define VK_CLI_H

int vk_cli_logs(int argc, char **argv);        /* cmd_logs.c:  vakt logs parse ... */
int vk_cli_intel(int argc, char **argv);       /* cmd_intel.c: vakt intel add|status|hits */
int vk_cli_assets(int argc, char **argv);      /* cmd_intel.c: vakt assets import */

#endif
