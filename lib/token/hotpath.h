/*
 * The hot path of get-token: answer from a cached token without loading any
 * heavy library.  It runs in the small front binary (plugin/front.c); when it
 * cannot answer, the front hands the whole command line to the full program,
 * which repeats the look-up under the lock and logs in if it must.
 */
#ifndef KMFA_HOTPATH_H
#define KMFA_HOTPATH_H

#include "base/buf.h"
#include "base/util.h"
#include "token/config.h"
#include "token/execcred.h"

/*
 * If a cached record for cfg is usable now, render its ExecCredential into
 * out and return KMFA_OK; KMFA_ERR_NOTFOUND for any miss or doubt.
 */
int kmfa_hotpath_answer(const struct kmfa_config *cfg,
    const struct kmfa_execinfo *ei, struct kmfa_buf *out);

#endif
