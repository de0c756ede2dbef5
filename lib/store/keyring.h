/*
 * The OS keyring: cache records as Secret Service items (libsecret), one
 * small item per cache entry with the attributes service=kubectl-mfa and
 * key=<cache key>, in the default collection.  This module owns every
 * conversation with the Secret Service and translates GError into enum
 * kmfa_err here.  Nothing here may prompt or wait without bound: no call
 * unlocks anything, none activates a Secret Service that is not running,
 * and every call is cut off after a fixed time.  Only the full program links
 * this (it loads GLib and libsecret); the front never does.
 */
#ifndef KMFA_KEYRING_H
#define KMFA_KEYRING_H

#include <stddef.h>
#include <stdint.h>

/* Every load, save, remove and list is cut off after this. */
#define KMFA_KEYRING_CALL_MS 3000

/*
 * KMFA_OK when a Secret Service answers on the session bus within
 * timeout_ms and has an unlocked default collection.  KMFA_ERR_LOCKED when
 * that collection is locked (using it would need a password window).
 * Otherwise KMFA_ERR_NOTFOUND.  *why (static, never NULL unless KMFA_OK)
 * says what is missing: no session bus, no Secret Service on it, no default
 * collection, a locked one, or no answer in time.  Records no failure
 * cause: `auto` falls back silently.  Without DBUS_SESSION_BUS_ADDRESS and
 * without a bus socket at $XDG_RUNTIME_DIR/bus it returns at once, before
 * GLib could try to autolaunch a bus.
 */
int kmfa_keyring_probe(int64_t timeout_ms, const char **why);

/*
 * Every call below first opens the default collection and reads its Locked
 * property; a locked collection is never searched, read, written or
 * emptied (a search of a locked KeePassXC database opens its unlock
 * window).  KMFA_ERR_LOCKED, with no cause recorded and *why (static) set,
 * means "this needs the user at a window": the collection is locked, the
 * item is (the service confirms each access in a window), or the service
 * returned a prompt that did not complete within a second on its own
 * (it is then dismissed, closing any window it opened).  The caller
 * decides what that means; nothing here unlocks.
 */

/*
 * The secret of the item for key: the record JSON as saved, NUL-terminated,
 * in *json (*len bytes); it holds secrets: free it with kmfa_freezero().
 * KMFA_ERR_NOTFOUND when there is no such item (no cause recorded);
 * KMFA_ERR_LOCKED as above; KMFA_ERR_DAMAGED with a cause when the secret
 * is empty or not text; KMFA_ERR_IO with a cause for any other failure, a
 * time-out included.
 */
int kmfa_keyring_load(const char *key, char **json, size_t *len,
    const char **why);

/*
 * Store json as the secret of the item for key in the default collection:
 * the existing item's secret is updated in place (Item.SetSecret, which no
 * provider prompts for); an item is created only when there is none.
 * label is shown by keyring managers.  KMFA_ERR_LOCKED as above;
 * KMFA_ERR_IO with a cause otherwise.
 */
int kmfa_keyring_save(const char *key, const char *label, const char *json,
    const char **why);

/*
 * Delete every item for key.  A missing item is not an error;
 * KMFA_ERR_LOCKED as above (what was deleted before it stays deleted).
 */
int kmfa_keyring_remove(const char *key, const char **why);

/*
 * The cache keys of every kubectl-mfa item, each once; KMFA_ERR_LOCKED as
 * above.  Free with kmfa_keyring_list_free().
 */
int kmfa_keyring_list(char ***keys, size_t *n, const char **why);
void kmfa_keyring_list_free(char **keys, size_t n);

#endif
