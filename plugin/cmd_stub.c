#include "commands.h"
#include "err.h"
#include "report.h"
int kmfa_cmd_enroll(struct kmfa_config *cfg) { (void)cfg; return kmfa_fail(KMFA_ERR_USAGE, "x"); }
int kmfa_cmd_keys(struct kmfa_config *cfg) { (void)cfg; return kmfa_fail(KMFA_ERR_USAGE, "x"); }
int kmfa_cmd_setup(struct kmfa_config *cfg) { (void)cfg; return kmfa_fail(KMFA_ERR_USAGE, "x"); }
