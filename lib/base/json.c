/*
 * cJSON allocator hooks.  malloc_usable_size tells how large the block
 * really is, so the wipe covers all of it without cJSON having to say.
 */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "base/json.h"

static void
wiping_free(void *p)
{
	if (p == NULL)
		return;
	explicit_bzero(p, malloc_usable_size(p));
	free(p);
}

void
kmfa_json_init(void)
{
	cJSON_Hooks hooks = { malloc, wiping_free };

	cJSON_InitHooks(&hooks);
}
