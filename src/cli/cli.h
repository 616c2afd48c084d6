/* Subcommands of the meetlink binary; each returns the process exit code. */
#ifndef ML_CLI_CLI_H
#define ML_CLI_CLI_H

int ml_cmd_serve(int argc, char **argv);
int ml_cmd_sandbox(int argc, char **argv);
int ml_cmd_migrate(int argc, char **argv);
int ml_cmd_keys(int argc, char **argv);
int ml_cmd_version(int argc, char **argv);
int ml_cmd_vault(int argc, char **argv);

#endif
