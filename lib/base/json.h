/*
 * cJSON set-up.  Installs allocator hooks that wipe every block before it is
 * freed: tokens pass through cJSON when records and IdP answers are parsed,
 * and cJSON frees without wiping.  Call once at program start.
 */
#ifndef KMFA_JSON_H
#define KMFA_JSON_H

void kmfa_json_init(void);

#endif
