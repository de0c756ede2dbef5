/*
 * Secret Service items through libsecret.  Four rules shape this file.
 * Bounded: libsecret's synchronous calls have no time-out of their own, so
 * each operation runs under a watchdog thread that cancels its GCancellable
 * at the deadline (GDBus calls honour cancellation from any thread).
 * Silent: nothing unlocks (SECRET_SEARCH_UNLOCK is never set; a locked
 * collection is reported, not opened), and the bus is checked for an owner
 * of org.freedesktop.secrets before libsecret talks to it, so D-Bus
 * activation never starts a keyring daemon behind the user's back.
 * No window: the default collection's Locked property is read before any
 * search, read, write or delete, because some services (KeePassXC with
 * "unlock before search") answer a search of a locked collection with an
 * unlock window.  Creating and deleting are called on the bus directly,
 * not through libsecret (whose create and delete wait on any prompt for as
 * long as the user takes): a prompt they return gets at most PROMPT_MS to
 * complete on its own (KeePassXC returns one even when it shows nothing),
 * and is otherwise dismissed and reported as KMFA_ERR_LOCKED; no other
 * call returns a prompt, and nothing unlocks.  An existing item is
 * updated with SetSecret rather than replaced, which needs no prompt
 * anywhere (KeePassXC 2.7.4 asks for access when an item is replaced).
 * Private: secrets handed to libsecret live in buffers with our wiping
 * destructor, and the secret read back is copied into a buffer the caller
 * wipes while libsecret's copy is wiped in place.
 */
/* secret_service_encode_dbus_secret() is in libsecret's "unstable" set,
 * unchanged since 0.7; it is how a raw CreateItem carries the secret
 * through the session libsecret negotiated. */
#define SECRET_API_SUBJECT_TO_CHANGE 1

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libsecret/secret.h>

#include "base/err.h"
#include "base/report.h"
#include "base/util.h"
#include "store/keyring.h"

#define SECRETS_NAME "org.freedesktop.secrets"
#define SECRETS_PATH "/org/freedesktop/secrets"
#define SECRETS_IFACE "org.freedesktop.Secret.Service"
#define CONTENT_TYPE "application/json"

static const SecretSchema schema = {
	"io.kubectl-mfa.Token", SECRET_SCHEMA_NONE,
	{
		{ "service", SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ "key", SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ NULL, 0 },
	},
	0, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
};

/*
 * A deadline for one operation: a thread that cancels `cancel` when `end`
 * passes, unless deadline_stop() comes first.
 */
struct deadline {
	GCancellable *cancel;
	GThread *thread;
	GMutex mu;
	GCond cond;
	gboolean stopped;
	gint64 end;		/* g_get_monotonic_time() units: µs */
	int64_t ms;		/* the budget, for messages */
};

static gpointer
watchdog(gpointer p)
{
	struct deadline *d = p;

	g_mutex_lock(&d->mu);
	while (!d->stopped) {
		if (!g_cond_wait_until(&d->cond, &d->mu, d->end)) {
			if (!d->stopped)
				g_cancellable_cancel(d->cancel);
			break;
		}
	}
	g_mutex_unlock(&d->mu);
	return NULL;
}

static int
deadline_start(struct deadline *d, int64_t ms)
{
	memset(d, 0, sizeof(*d));
	g_mutex_init(&d->mu);
	g_cond_init(&d->cond);
	d->ms = ms;
	d->end = g_get_monotonic_time() + ms * 1000;
	d->cancel = g_cancellable_new();
	d->thread = g_thread_try_new("kmfa-deadline", watchdog, d, NULL);
	if (d->thread == NULL) {
		g_object_unref(d->cancel);
		d->cancel = NULL;
		g_mutex_clear(&d->mu);
		g_cond_clear(&d->cond);
		return kmfa_fail(KMFA_ERR_INTERNAL, "cannot start a thread to "
		    "bound the keyring call");
	}
	return KMFA_OK;
}

static int
deadline_expired(const struct deadline *d)
{
	return g_get_monotonic_time() >= d->end;
}

static void
deadline_stop(struct deadline *d)
{
	if (d->thread != NULL) {
		g_mutex_lock(&d->mu);
		d->stopped = TRUE;
		g_cond_signal(&d->cond);
		g_mutex_unlock(&d->mu);
		g_thread_join(d->thread);
		d->thread = NULL;
	}
	if (d->cancel != NULL)
		g_object_unref(d->cancel);
	d->cancel = NULL;
	g_mutex_clear(&d->mu);
	g_cond_clear(&d->cond);
}

static gint
remaining_ms(const struct deadline *d)
{
	gint64 left = (d->end - g_get_monotonic_time()) / 1000;

	return left < 1 ? 1 : (left > G_MAXINT ? G_MAXINT : (gint)left);
}

/*
 * Translate a GError from the Secret Service into enum kmfa_err.  A
 * cancellation is our own deadline: say so rather than "Operation was
 * cancelled".  Remote D-Bus errors carry their D-Bus name in the message;
 * strip it so the one line reads well.
 */
static int
gerror_to_err(GError *err, const struct deadline *d, const char *what)
{
	if (g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
	    g_error_matches(err, G_IO_ERROR, G_IO_ERROR_TIMED_OUT) ||
	    g_error_matches(err, G_DBUS_ERROR, G_DBUS_ERROR_NO_REPLY) ||
	    g_error_matches(err, G_DBUS_ERROR, G_DBUS_ERROR_TIMEOUT))
		return kmfa_fail(KMFA_ERR_IO, "keyring: %s: the Secret "
		    "Service did not answer within %lld ms (it may be showing "
		    "a window of its own and waiting for someone)", what,
		    (long long)d->ms);
	if (g_error_matches(err, SECRET_ERROR, SECRET_ERROR_IS_LOCKED))
		return KMFA_ERR_LOCKED;
	if (g_error_matches(err, SECRET_ERROR, SECRET_ERROR_NO_SUCH_OBJECT))
		return KMFA_ERR_NOTFOUND;
	if (g_dbus_error_is_remote_error(err))
		g_dbus_error_strip_remote_error(err);
	return kmfa_fail(KMFA_ERR_IO, "keyring: %s: %s", what, err->message);
}

/*
 * Is there a session bus to talk to?  GLib, finding no
 * DBUS_SESSION_BUS_ADDRESS, tries $XDG_RUNTIME_DIR/bus and then runs
 * `dbus-launch --autolaunch`, which on a headless machine spawns a bus or
 * waits for X11.  So: the variable, or that socket, or no bus at all.
 */
static const char *
session_bus_missing(void)
{
	const char *addr = getenv("DBUS_SESSION_BUS_ADDRESS");
	const char *rt = getenv("XDG_RUNTIME_DIR");
	char *sock = NULL;
	struct stat st;
	const char *why = "no session bus (DBUS_SESSION_BUS_ADDRESS is not set)";

	if (addr != NULL && addr[0] != '\0')
		return NULL;
	if (rt == NULL || rt[0] != '/' ||
	    kmfa_asprintf(&sock, "%s/bus", rt) < 0)
		return why;
	if (stat(sock, &st) == 0 && S_ISSOCK(st.st_mode) &&
	    st.st_uid == getuid())
		why = NULL;
	free(sock);
	return why;
}

/*
 * The session bus, or NULL with *why set.  GLib keeps one shared session
 * connection per process and, by default, calls exit() when it closes;
 * a library must not exit its host, so that is switched off.
 */
static GDBusConnection *
bus_get(struct deadline *d, const char **why)
{
	GDBusConnection *bus;
	GError *err = NULL;

	if ((*why = session_bus_missing()) != NULL)
		return NULL;
	if ((bus = g_bus_get_sync(G_BUS_TYPE_SESSION, d->cancel, &err)) == NULL) {
		*why = deadline_expired(d) ? "the session bus did not answer "
		    "in time" : "cannot connect to the session bus";
		kmfa_debug("keyring: session bus: %s", err->message);
		g_error_free(err);
		return NULL;
	}
	g_dbus_connection_set_exit_on_close(bus, FALSE);
	return bus;
}

/*
 * Call a method that returns one value of type `type`; NULL on failure with
 * *why set.  NO_AUTO_START: an absent Secret Service stays absent.
 */
static GVariant *
bus_call(GDBusConnection *bus, struct deadline *d, const char *dest,
    const char *path, const char *iface, const char *method, GVariant *args,
    const char *type, const char **why, const char *fail_why)
{
	GVariant *v;
	GError *err = NULL;

	v = g_dbus_connection_call_sync(bus, dest, path, iface, method, args,
	    G_VARIANT_TYPE(type), G_DBUS_CALL_FLAGS_NO_AUTO_START,
	    remaining_ms(d), d->cancel, &err);
	if (v == NULL) {
		*why = deadline_expired(d) ? "the Secret Service did not "
		    "answer in time" : fail_why;
		kmfa_debug("keyring: %s.%s: %s", iface, method, err->message);
		g_error_free(err);
	}
	return v;
}

/* Does org.freedesktop.secrets have an owner right now? */
static int
service_present(GDBusConnection *bus, struct deadline *d, const char **why)
{
	GVariant *v;
	gboolean owned = FALSE;

	if ((v = bus_call(bus, d, "org.freedesktop.DBus",
	    "/org/freedesktop/DBus", "org.freedesktop.DBus", "NameHasOwner",
	    g_variant_new("(s)", SECRETS_NAME), "(b)", why,
	    "the session bus does not answer")) == NULL)
		return 0;
	g_variant_get(v, "(b)", &owned);
	g_variant_unref(v);
	if (!owned)
		*why = "no Secret Service on the session bus";
	return owned ? 1 : 0;
}

static int
probe(struct deadline *d, const char **why)
{
	GDBusConnection *bus = NULL;
	GVariant *v = NULL, *locked = NULL, *inner = NULL;
	const char *path = NULL;
	int r = KMFA_ERR_NOTFOUND;

	if ((bus = bus_get(d, why)) == NULL)
		goto out;
	if (!service_present(bus, d, why))
		goto out;
	/* "/" is the Secret Service's way of saying "no such alias". */
	if ((v = bus_call(bus, d, SECRETS_NAME, SECRETS_PATH, SECRETS_IFACE,
	    "ReadAlias", g_variant_new("(s)", "default"), "(o)", why,
	    "the Secret Service does not answer")) == NULL)
		goto out;
	g_variant_get(v, "(&o)", &path);
	if (strcmp(path, "/") == 0) {
		*why = "the Secret Service has no default collection";
		goto out;
	}
	if ((locked = bus_call(bus, d, SECRETS_NAME, path,
	    "org.freedesktop.DBus.Properties", "Get", g_variant_new("(ss)",
	    "org.freedesktop.Secret.Collection", "Locked"), "(v)", why,
	    "the default collection does not answer")) == NULL)
		goto out;
	g_variant_get(locked, "(v)", &inner);
	if (!g_variant_is_of_type(inner, G_VARIANT_TYPE_BOOLEAN)) {
		*why = "the default collection does not say whether it is locked";
		goto out;
	}
	if (g_variant_get_boolean(inner)) {
		*why = "the keyring's default collection is locked";
		r = KMFA_ERR_LOCKED;
		goto out;
	}
	r = KMFA_OK;
out:
	if (inner != NULL)
		g_variant_unref(inner);
	if (locked != NULL)
		g_variant_unref(locked);
	if (v != NULL)
		g_variant_unref(v);
	if (bus != NULL)
		g_object_unref(bus);
	return r;
}

int
kmfa_keyring_probe(int64_t timeout_ms, const char **why)
{
	struct deadline d;
	int r;

	if ((*why = session_bus_missing()) != NULL)
		return KMFA_ERR_NOTFOUND;	/* no thread, no GLib */
	if (deadline_start(&d, timeout_ms) != KMFA_OK) {
		*why = "cannot bound the call";
		return KMFA_ERR_NOTFOUND;
	}
	r = probe(&d, why);
	deadline_stop(&d);
	return r;
}

/*
 * The Secret Service, with a transfer session open, only if it is already
 * running.  libsecret shares one SecretService per process.
 */
static int
service_open(struct deadline *d, SecretService **out)
{
	GDBusConnection *bus = NULL;
	GError *err = NULL;
	const char *why = NULL;
	int r = KMFA_ERR_IO;

	*out = NULL;
	if ((bus = bus_get(d, &why)) == NULL || !service_present(bus, d, &why)) {
		r = kmfa_fail(KMFA_ERR_IO, "keyring: %s", why);
		goto out;
	}
	if ((*out = secret_service_get_sync(SECRET_SERVICE_OPEN_SESSION,
	    d->cancel, &err)) == NULL) {
		r = gerror_to_err(err, d, "connect");
		goto out;
	}
	r = KMFA_OK;
out:
	if (err != NULL)
		g_error_free(err);
	if (bus != NULL)
		g_object_unref(bus);
	return r;
}

static GHashTable *
attributes_for(const char *key)
{
	GHashTable *a = g_hash_table_new(g_str_hash, g_str_equal);

	/* Borrowed strings: the table lives no longer than key. */
	g_hash_table_insert(a, (gpointer)"service", (gpointer)"kubectl-mfa");
	if (key != NULL)
		g_hash_table_insert(a, (gpointer)"key", (gpointer)key);
	return a;
}

/*
 * The default collection, open and unlocked, or: KMFA_ERR_LOCKED with *why
 * when it is locked (nothing may search it: a search of a locked
 * collection is where KeePassXC opens its unlock window), KMFA_ERR_IO with
 * a cause when there is none or it does not answer.
 */
static int
collection_open(struct deadline *d, SecretService *service,
    SecretCollection **out, const char **why)
{
	GError *err = NULL;
	int r;

	*out = secret_collection_for_alias_sync(service,
	    SECRET_COLLECTION_DEFAULT, SECRET_COLLECTION_NONE, d->cancel, &err);
	if (*out == NULL) {
		r = err != NULL ? gerror_to_err(err, d, "default collection") :
		    kmfa_fail(KMFA_ERR_IO, "keyring: the Secret Service has "
		    "no default collection");
		if (r == KMFA_ERR_NOTFOUND || r == KMFA_ERR_LOCKED)
			r = kmfa_fail(KMFA_ERR_IO, "keyring: the default "
			    "collection cannot be opened");
		if (err != NULL)
			g_error_free(err);
		return r;
	}
	if (secret_collection_get_locked(*out)) {
		*why = "the keyring is locked";
		g_object_unref(*out);
		*out = NULL;
		return KMFA_ERR_LOCKED;
	}
	return KMFA_OK;
}

/* Our items for key (every one of ours when key is NULL) in coll. */
static int
search(struct deadline *d, SecretCollection *coll, const char *key,
    SecretSearchFlags flags, GList **items)
{
	GHashTable *attrs = attributes_for(key);
	GError *err = NULL;
	int r = KMFA_OK;

	*items = secret_collection_search_sync(coll, &schema, attrs, flags,
	    d->cancel, &err);
	if (err != NULL) {
		r = gerror_to_err(err, d, "search");
		if (r == KMFA_ERR_NOTFOUND)
			r = KMFA_OK;
		g_error_free(err);
	}
	g_hash_table_unref(attrs);
	return r;
}

/*
 * A prompt that did not complete by itself is waiting for someone at a
 * window: it is dismissed (which closes that window, and leaves nothing
 * lingering in the service) and the operation counts as needing the user.
 */
static int
prompt_refused(struct deadline *d, GDBusProxy *via, const char *prompt,
    const char **why, const char *what)
{
	GVariant *v;

	v = g_dbus_connection_call_sync(g_dbus_proxy_get_connection(via),
	    g_dbus_proxy_get_name(via), prompt, "org.freedesktop.Secret.Prompt",
	    "Dismiss", NULL, NULL, G_DBUS_CALL_FLAGS_NO_AUTO_START,
	    remaining_ms(d), d->cancel, NULL);
	if (v != NULL)
		g_variant_unref(v);
	*why = what;
	return KMFA_ERR_LOCKED;
}

struct prompt_wait {
	gboolean done, dismissed, late;
};

static void
prompt_completed(GDBusConnection *c, const gchar *sender, const gchar *path,
    const gchar *iface, const gchar *signal, GVariant *args, gpointer p)
{
	struct prompt_wait *w = p;
	gboolean dismissed = TRUE;
	(void)c; (void)sender; (void)path; (void)iface; (void)signal;

	if (g_variant_is_of_type(args, G_VARIANT_TYPE("(bv)")))
		g_variant_get(args, "(bv)", &dismissed, NULL);
	w->dismissed = dismissed;
	w->done = TRUE;
}

static gboolean
prompt_late(gpointer p)
{
	((struct prompt_wait *)p)->late = TRUE;
	return G_SOURCE_REMOVE;
}

/*
 * KeePassXC 2.7 answers every CreateItem and Item.Delete with a prompt,
 * and completes it without a window when its confirmations are off;
 * gnome-keyring returns none for an unlocked collection.  So a create or
 * delete prompt is performed, for at most PROMPT_MS: one that has not
 * completed by then is waiting for someone at a window, and is dismissed
 * (which closes that window) and refused like any other prompt.
 */
#define PROMPT_MS 1000

static int
prompt_run_bounded(struct deadline *d, GDBusProxy *via, const char *prompt,
    const char **why, const char *what)
{
	GDBusConnection *bus = g_dbus_proxy_get_connection(via);
	GMainContext *ctx = g_main_context_new();
	struct prompt_wait w = { FALSE, FALSE, FALSE };
	GSource *timer;
	GVariant *v;
	guint sub;
	gint ms = remaining_ms(d) < PROMPT_MS ? remaining_ms(d) : PROMPT_MS;

	g_main_context_push_thread_default(ctx);
	sub = g_dbus_connection_signal_subscribe(bus, g_dbus_proxy_get_name(via),
	    "org.freedesktop.Secret.Prompt", "Completed", prompt, NULL,
	    G_DBUS_SIGNAL_FLAGS_NONE, prompt_completed, &w, NULL);
	timer = g_timeout_source_new((guint)ms);
	g_source_set_callback(timer, prompt_late, &w, NULL);
	g_source_attach(timer, ctx);
	v = g_dbus_connection_call_sync(bus, g_dbus_proxy_get_name(via), prompt,
	    "org.freedesktop.Secret.Prompt", "Prompt", g_variant_new("(s)", ""),
	    NULL, G_DBUS_CALL_FLAGS_NO_AUTO_START, ms, d->cancel, NULL);
	if (v != NULL) {
		g_variant_unref(v);
		while (!w.done && !w.late)
			g_main_context_iteration(ctx, TRUE);
	}
	g_source_destroy(timer);
	g_source_unref(timer);
	g_dbus_connection_signal_unsubscribe(bus, sub);
	g_main_context_pop_thread_default(ctx);
	g_main_context_unref(ctx);
	if (w.done && !w.dismissed)
		return KMFA_OK;
	return prompt_refused(d, via, prompt, why, what);
}

/* Item.Delete on the bus, the prompt it may return refused. */
static int
item_delete(struct deadline *d, SecretItem *item, const char **why)
{
	GVariant *v;
	GError *err = NULL;
	const char *prompt = NULL;
	int r;

	v = g_dbus_proxy_call_sync(G_DBUS_PROXY(item), "Delete", NULL,
	    G_DBUS_CALL_FLAGS_NO_AUTO_START, remaining_ms(d), d->cancel, &err);
	if (v == NULL) {
		r = gerror_to_err(err, d, "delete");
		g_error_free(err);
		if (r == KMFA_ERR_LOCKED)
			*why = "the keyring item is locked";
		return r == KMFA_ERR_NOTFOUND ? KMFA_OK : r;	/* gone: fine */
	}
	r = KMFA_OK;
	if (!g_variant_is_of_type(v, G_VARIANT_TYPE("(o)")))
		r = kmfa_fail(KMFA_ERR_IO, "keyring: delete: the Secret "
		    "Service gave an answer of type %s",
		    g_variant_get_type_string(v));
	else if (g_variant_get(v, "(&o)", &prompt), strcmp(prompt, "/") != 0)
		r = prompt_run_bounded(d, G_DBUS_PROXY(item), prompt, why,
		    "the keyring asks for a confirmation window to delete "
		    "the item");
	g_variant_unref(v);
	return r;
}

/*
 * Collection.CreateItem on the bus, never replacing (an existing item is
 * updated in place instead), the prompt it may return refused.  The
 * attributes are the ones libsecret would write, xdg:schema included, so
 * that libsecret clients (secret-tool) see the same item.
 */
static int
item_create(struct deadline *d, SecretService *service, SecretCollection *coll,
    const char *key, const char *label, SecretValue *value, const char **why)
{
	GVariantBuilder props, attrs;
	GVariant *secret, *v;
	GError *err = NULL;
	const char *item = NULL, *prompt = NULL;
	int r;

	if ((secret = secret_service_encode_dbus_secret(service, value)) == NULL)
		return kmfa_fail(KMFA_ERR_IO, "keyring: store: cannot encode "
		    "the secret for the session");
	g_variant_builder_init(&attrs, G_VARIANT_TYPE("a{ss}"));
	g_variant_builder_add(&attrs, "{ss}", "xdg:schema", schema.name);
	g_variant_builder_add(&attrs, "{ss}", "service", "kubectl-mfa");
	g_variant_builder_add(&attrs, "{ss}", "key", key);
	g_variant_builder_init(&props, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&props, "{sv}", "org.freedesktop.Secret.Item.Label",
	    g_variant_new_string(label));
	g_variant_builder_add(&props, "{sv}",
	    "org.freedesktop.Secret.Item.Attributes",
	    g_variant_builder_end(&attrs));
	v = g_dbus_proxy_call_sync(G_DBUS_PROXY(coll), "CreateItem",
	    g_variant_new("(a{sv}@(oayays)b)", &props, secret, FALSE),
	    G_DBUS_CALL_FLAGS_NO_AUTO_START, remaining_ms(d), d->cancel, &err);
	if (v == NULL) {
		r = gerror_to_err(err, d, "store");
		if (r == KMFA_ERR_NOTFOUND)
			r = kmfa_fail(KMFA_ERR_IO, "keyring: store: %s",
			    err->message);
		if (r == KMFA_ERR_LOCKED)
			*why = "the keyring is locked";
		g_error_free(err);
		return r;
	}
	r = KMFA_OK;
	if (!g_variant_is_of_type(v, G_VARIANT_TYPE("(oo)")))
		r = kmfa_fail(KMFA_ERR_IO, "keyring: store: the Secret "
		    "Service gave an answer of type %s",
		    g_variant_get_type_string(v));
	else if (g_variant_get(v, "(&o&o)", &item, &prompt),
	    strcmp(item, "/") == 0 && strcmp(prompt, "/") != 0)
		r = prompt_run_bounded(d, G_DBUS_PROXY(coll), prompt, why,
		    "the keyring asks for a confirmation window to store "
		    "the item");
	else if (strcmp(item, "/") == 0)
		r = kmfa_fail(KMFA_ERR_IO, "keyring: store: the Secret "
		    "Service created no item");
	g_variant_unref(v);
	return r;
}

int
kmfa_keyring_load(const char *key, char **json, size_t *len, const char **why)
{
	struct deadline d;
	SecretService *service = NULL;
	SecretCollection *coll = NULL;
	SecretItem *item;
	SecretValue *value = NULL;
	GList *items = NULL;
	const gchar *secret;
	gsize n = 0;
	char *copy = NULL;
	int r;

	*json = NULL;
	*len = 0;
	if ((r = deadline_start(&d, KMFA_KEYRING_CALL_MS)) != KMFA_OK)
		return r;
	if ((r = service_open(&d, &service)) != KMFA_OK ||
	    (r = collection_open(&d, service, &coll, why)) != KMFA_OK)
		goto out;
	/*
	 * LOAD_SECRETS without UNLOCK: libsecret fetches the secrets of
	 * unlocked items and returns locked items with no secret and no
	 * error; secret_item_get_locked() tells the two apart.  In an
	 * unlocked collection an item is locked where the service wants to
	 * confirm each access in a window (KeePassXC's "confirm access").
	 */
	if ((r = search(&d, coll, key, SECRET_SEARCH_LOAD_SECRETS, &items))
	    != KMFA_OK)
		goto out;
	r = KMFA_ERR_NOTFOUND;
	if (items == NULL)
		goto out;
	item = items->data;
	if (secret_item_get_locked(item)) {
		*why = "the keyring asks for a confirmation window to read "
		    "the item";
		r = KMFA_ERR_LOCKED;
		goto out;
	}
	if ((value = secret_item_get_secret(item)) == NULL) {
		r = kmfa_fail(KMFA_ERR_IO, "keyring: the Secret Service "
		    "returned no secret for an unlocked item");
		goto out;
	}
	secret = secret_value_get(value, &n);
	if (n == 0 || memchr(secret, '\0', n) != NULL) {
		r = kmfa_fail(KMFA_ERR_DAMAGED, "keyring: the kubectl-mfa "
		    "item holds no text; it will be replaced at the next login");
		goto out;
	}
	r = KMFA_ERR_NOMEM;
	if ((copy = malloc(n + 1)) == NULL)
		goto out;
	memcpy(copy, secret, n);
	copy[n] = '\0';
	/*
	 * libsecret keeps the secret in its own mlock()ed memory, zeroed on
	 * free, but silently falls back to plain heap without zeroing when
	 * mlock fails (RLIMIT_MEMLOCK).  This is the last use of the buffer:
	 * wipe it here whichever memory it is.
	 */
	explicit_bzero((void *)(uintptr_t)secret, n);
	*json = copy;
	*len = n;
	copy = NULL;	/* transferred */
	r = KMFA_OK;
out:
	if (value != NULL)
		secret_value_unref(value);	/* libsecret wipes its copy */
	g_list_free_full(items, g_object_unref);
	if (coll != NULL)
		g_object_unref(coll);
	if (service != NULL)
		g_object_unref(service);
	deadline_stop(&d);
	return r;
}

static void
wipe_free(gpointer p)
{
	kmfa_freezero_str(p);
}

int
kmfa_keyring_save(const char *key, const char *label, const char *json,
    const char **why)
{
	struct deadline d;
	SecretService *service = NULL;
	SecretCollection *coll = NULL;
	SecretValue *value = NULL;
	GList *items = NULL, *l;
	GError *err = NULL;
	char *copy = NULL;
	int r;

	if ((r = deadline_start(&d, KMFA_KEYRING_CALL_MS)) != KMFA_OK)
		return r;
	if ((r = service_open(&d, &service)) != KMFA_OK ||
	    (r = collection_open(&d, service, &coll, why)) != KMFA_OK)
		goto out;
	/*
	 * Our own copy with our own destructor, rather than
	 * secret_value_new(), whose copy is wiped only when mlock works.
	 */
	r = KMFA_ERR_NOMEM;
	if ((copy = strdup(json)) == NULL)
		goto out;
	value = secret_value_new_full(copy, -1, CONTENT_TYPE, wipe_free);
	copy = NULL;	/* transferred to value */
	if ((r = search(&d, coll, key, SECRET_SEARCH_ALL, &items)) != KMFA_OK)
		goto out;
	if (items == NULL) {
		r = item_create(&d, service, coll, key, label, value, why);
		goto out;
	}
	/* One item per key: the first is updated, any other goes. */
	if (secret_item_get_locked(items->data)) {
		*why = "the keyring asks for a confirmation window to change "
		    "the item";
		r = KMFA_ERR_LOCKED;
		goto out;
	}
	if (!secret_item_set_secret_sync(items->data, value, d.cancel, &err)) {
		r = gerror_to_err(err, &d, "store");
		if (r == KMFA_ERR_NOTFOUND)
			r = kmfa_fail(KMFA_ERR_IO, "keyring: store: the item "
			    "went away while it was updated");
		if (r == KMFA_ERR_LOCKED)
			*why = "the keyring asks for a confirmation window to "
			    "change the item";
		goto out;
	}
	for (l = items->next; l != NULL; l = l->next) {
		const char *ignored = NULL;

		(void)item_delete(&d, l->data, &ignored);
	}
	r = KMFA_OK;
out:
	if (err != NULL)
		g_error_free(err);
	g_list_free_full(items, g_object_unref);
	if (value != NULL)
		secret_value_unref(value);
	if (coll != NULL)
		g_object_unref(coll);
	if (service != NULL)
		g_object_unref(service);
	deadline_stop(&d);
	return r;
}

int
kmfa_keyring_remove(const char *key, const char **why)
{
	struct deadline d;
	SecretService *service = NULL;
	SecretCollection *coll = NULL;
	GList *items = NULL, *l;
	int r;

	if ((r = deadline_start(&d, KMFA_KEYRING_CALL_MS)) != KMFA_OK)
		return r;
	if ((r = service_open(&d, &service)) != KMFA_OK ||
	    (r = collection_open(&d, service, &coll, why)) != KMFA_OK)
		goto out;
	if ((r = search(&d, coll, key, SECRET_SEARCH_ALL, &items)) != KMFA_OK)
		goto out;
	for (l = items; l != NULL; l = l->next)
		if ((r = item_delete(&d, l->data, why)) != KMFA_OK)
			goto out;
	r = KMFA_OK;
out:
	g_list_free_full(items, g_object_unref);
	if (coll != NULL)
		g_object_unref(coll);
	if (service != NULL)
		g_object_unref(service);
	deadline_stop(&d);
	return r;
}

/* A cache key is 64 lowercase hex digits; anything else is not ours. */
static int
is_cache_key(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return i == 64;
}

int
kmfa_keyring_list(char ***keys, size_t *n, const char **why)
{
	struct deadline d;
	SecretService *service = NULL;
	SecretCollection *coll = NULL;
	GList *items = NULL, *l;
	char **list = NULL;
	size_t count = 0;
	int r;

	*keys = NULL;
	*n = 0;
	if ((r = deadline_start(&d, KMFA_KEYRING_CALL_MS)) != KMFA_OK)
		return r;
	if ((r = service_open(&d, &service)) != KMFA_OK ||
	    (r = collection_open(&d, service, &coll, why)) != KMFA_OK)
		goto out;
	/* Attributes are readable on locked items too: no secret needed. */
	if ((r = search(&d, coll, NULL, SECRET_SEARCH_ALL, &items)) != KMFA_OK)
		goto out;
	for (l = items; l != NULL; l = l->next) {
		GHashTable *attrs = secret_item_get_attributes(l->data);
		const char *k = g_hash_table_lookup(attrs, "key");
		char **grown;
		int dup = 0;

		for (size_t i = 0; k != NULL && i < count; i++)
			dup |= strcmp(list[i], k) == 0;
		if (k == NULL || dup || !is_cache_key(k)) {
			g_hash_table_unref(attrs);
			continue;
		}
		grown = realloc(list, (count + 1) * sizeof(*list));
		if (grown != NULL)
			list = grown;
		if (grown == NULL || (list[count] = strdup(k)) == NULL) {
			g_hash_table_unref(attrs);
			r = KMFA_ERR_NOMEM;
			goto out;
		}
		count++;
		g_hash_table_unref(attrs);
	}
	*keys = list;
	*n = count;
	list = NULL;	/* transferred */
	count = 0;
	r = KMFA_OK;
out:
	kmfa_keyring_list_free(list, count);
	g_list_free_full(items, g_object_unref);
	if (coll != NULL)
		g_object_unref(coll);
	if (service != NULL)
		g_object_unref(service);
	deadline_stop(&d);
	return r;
}

void
kmfa_keyring_list_free(char **keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
}
