/* Help texts, one per subcommand, printed on stdout for --help. */
#ifndef KMFA_USAGE_H
#define KMFA_USAGE_H

void kmfa_usage(const char *command);

#endif
