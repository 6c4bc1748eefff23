/* Janus glue for janus.plugin.switchboard: the plugin descriptor, sessions
 * (one per handle), and the request path: synchronous requests are answered
 * at once, join/configure/leave go through a handler thread and come back as
 * events (the usual Janus plugin pattern).  It starts the core — settings,
 * the bus, rooms and the mixer, endpoints, the HTTP server — and the
 * feature modules (modules.c); what requests do is the ops table (api/). */
#include <jansson.h>

#include <debug.h>
#include <plugins/plugin.h>
#include <utils.h>

#include "api/api.h"
#include "core/core.h"
#include "endpoints/endpoints.h"
#include "modules.h"
#include "room/room.h"

janus_plugin *create(void);
static int sb_init(janus_callbacks *callback, const char *config_path);
static void sb_destroy(void);
static int sb_get_api_compatibility(void)
{
	return JANUS_PLUGIN_API_VERSION;
}
static int sb_get_version(void)
{
	return SB_PLUGIN_VERSION;
}
static const char *sb_get_version_string(void)
{
	return SB_PLUGIN_VERSION_STRING;
}
static const char *sb_get_description(void)
{
	return "Switchboard: rooms that mix audio for browsers, phones and AI agents.";
}
static const char *sb_get_name(void)
{
	return SB_PLUGIN_NAME;
}
static const char *sb_get_author(void)
{
	return SB_PLUGIN_AUTHOR;
}
static const char *sb_get_package(void)
{
	return SB_PLUGIN_PACKAGE;
}
static void sb_create_session(janus_plugin_session *handle, int *error);
static struct janus_plugin_result *
sb_handle_message(janus_plugin_session *handle, char *transaction, json_t *message, json_t *jsep);
static json_t *sb_handle_admin_message(json_t *message);
static void sb_setup_media(janus_plugin_session *handle);
static void sb_incoming_rtp(janus_plugin_session *handle, janus_plugin_rtp *packet);
static void sb_incoming_rtcp(janus_plugin_session *handle, janus_plugin_rtcp *packet);
static void sb_hangup_media(janus_plugin_session *handle);
static void sb_destroy_session(janus_plugin_session *handle, int *error);
static json_t *sb_query_session(janus_plugin_session *handle);

/* JANUS_PLUGIN_INIT fills defaults first and lets us override them. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
static janus_plugin sb_plugin =
        JANUS_PLUGIN_INIT(.init = sb_init, .destroy = sb_destroy,
                          .get_api_compatibility = sb_get_api_compatibility,
                          .get_version = sb_get_version,
                          .get_version_string = sb_get_version_string,
                          .get_description = sb_get_description, .get_name = sb_get_name,
                          .get_author = sb_get_author, .get_package = sb_get_package,
                          .create_session = sb_create_session, .handle_message = sb_handle_message,
                          .handle_admin_message = sb_handle_admin_message,
                          .setup_media = sb_setup_media, .incoming_rtp = sb_incoming_rtp,
                          .incoming_rtcp = sb_incoming_rtcp, .hangup_media = sb_hangup_media,
                          .destroy_session = sb_destroy_session,
                          .query_session = sb_query_session, );
#pragma GCC diagnostic pop

janus_plugin *create(void)
{
	return &sb_plugin;
}

static sb_settings *settings; /* read-only once sb_init has filled it */
static janus_callbacks *gateway;
static volatile gint initialized, stopping;
static GMutex sessions_mutex;
static GHashTable *sessions; /* janus_plugin_session* -> sb_session* (strong) */
static GAsyncQueue *messages;
static GThread *handler_thread;
static uint64_t rtcp_packets;

typedef struct pending_message {
	sb_session *session;
	char *transaction;
	json_t *body;
	json_t *jsep;
} pending_message;

static pending_message exit_message;

static void pending_message_free(pending_message *msg)
{
	if (!msg || msg == &exit_message)
		return;
	sb_session_unref(msg->session);
	g_free(msg->transaction);
	json_decref(msg->body);
	json_decref(msg->jsep);
	g_free(msg);
}

static sb_session *lookup_session(janus_plugin_session *handle)
{
	g_mutex_lock(&sessions_mutex);
	sb_session *s = sessions ? g_hash_table_lookup(sessions, handle) : NULL;
	if (s)
		sb_session_ref(s);
	g_mutex_unlock(&sessions_mutex);
	return s;
}

/* An operation's later answer on the Janus API: an event on the handle,
 * with the request's transaction. */
typedef struct janus_later {
	sb_op_later base;
	sb_session *session;
	char *transaction;
} janus_later;

static void janus_later_free(janus_later *l)
{
	sb_session_unref(l->session);
	g_free(l->transaction);
	g_free(l);
}

static void janus_later_finish(sb_op_later *later, json_t *answer)
{
	janus_later *l = (janus_later *)later;
	sb_session_push_event(l->session, l->transaction, answer, NULL);
	json_decref(answer);
	janus_later_free(l);
}

static janus_later *janus_later_new(sb_session *s, const char *transaction)
{
	janus_later *l = g_new0(janus_later, 1);
	l->base.finish = janus_later_finish;
	sb_session_ref(s);
	l->session = s;
	l->transaction = g_strdup(transaction);
	return l;
}

static gpointer handler_main(gpointer data)
{
	(void)data;
	for (;;) {
		pending_message *msg = g_async_queue_pop(messages);
		if (msg == &exit_message)
			break;
		if (sb_session_destroyed(msg->session)) {
			pending_message_free(msg);
			continue;
		}
		sb_op_ctx ctx = {.session = msg->session, .jsep = msg->jsep};
		sb_ops_session_principal(msg->session, &ctx.who);
		json_t *result = sb_ops_dispatch(msg->body, &ctx);
		sb_session_push_event(msg->session, msg->transaction, result, ctx.jsep_out);
		json_decref(result);
		json_decref(ctx.jsep_out);
		pending_message_free(msg);
	}
	return NULL;
}

static void create_configured_rooms(void)
{
	for (guint i = 0; i < settings->rooms->len; i++) {
		sb_room_config *rc = g_ptr_array_index(settings->rooms, i);
		sb_room_params params = {.name = rc->name,
		                         .description = rc->description,
		                         .secret = rc->secret,
		                         .pin = rc->pin,
		                         .sampling_rate = rc->sampling_rate,
		                         .permanent = true};
		if (sb_room_create(&params, NULL) != SB_OK)
			JANUS_LOG(LOG_ERR, "[switchboard] could not create room %s from config\n",
			          rc->name);
	}
}

static int sb_init(janus_callbacks *callback, const char *config_path)
{
	if (g_atomic_int_get(&stopping) || !callback)
		return -1;
	gateway = callback;
	settings = sb_settings_load(config_path);
	sb_settings_generate_secrets(settings, sb_auth_random_secret);
	sb_plugin_settings = settings; /* read-only from here on */
	sessions = g_hash_table_new_full(NULL, NULL, NULL, (GDestroyNotify)sb_session_unref);
	messages = g_async_queue_new_full((GDestroyNotify)pending_message_free);
	sb_webrtc_init(gateway, &sb_plugin);
	sb_events_init(gateway, &sb_plugin);
	sb_rooms_init(settings);
	if (!sb_mixer_start(settings) || !sb_rtp_endpoints_start(settings)) {
		JANUS_LOG(LOG_FATAL, "[switchboard] could not start the mixer or RTP threads\n");
		sb_rtp_endpoints_stop();
		sb_mixer_stop();
		return -1;
	}
	sb_modules_start(settings);
	create_configured_rooms();
	if (!sb_http_start(settings)) {
		/* Rooms still work through the Janus API; REST and pages do not. */
		JANUS_LOG(LOG_ERR,
		          "[switchboard] REST, pages and notifications are OFF: cannot listen on "
		          "%s:%d\n",
		          settings->http_ip, settings->http_port);
	}
	handler_thread = g_thread_new("sb handler", handler_main, NULL);
	g_atomic_int_set(&initialized, 1);
	JANUS_LOG(LOG_INFO, "%s initialized (%d Hz default, RTP %s:%u-%u)\n", SB_PLUGIN_NAME,
	          settings->sampling_rate, settings->rtp_ip, settings->rtp_port_min,
	          settings->rtp_port_max);
	return 0;
}

static void sb_destroy(void)
{
	if (!g_atomic_int_get(&initialized))
		return;
	g_atomic_int_set(&stopping, 1);
	sb_http_stop();
	g_async_queue_push(messages, &exit_message);
	g_thread_join(handler_thread);
	handler_thread = NULL;
	sb_modules_stop();
	sb_rooms_deinit();
	/* No room is left to report a membership change. */
	sb_room_remove_member_listeners();
	sb_modules_finish();
	sb_api_unregister_all();
	sb_mixer_stop();
	sb_rtp_endpoints_stop();
	g_mutex_lock(&sessions_mutex);
	g_hash_table_destroy(sessions);
	sessions = NULL;
	g_mutex_unlock(&sessions_mutex);
	g_async_queue_unref(messages);
	messages = NULL;
	sb_events_deinit();
	sb_plugin_settings = NULL;
	sb_settings_free(settings);
	settings = NULL;
	g_atomic_int_set(&initialized, 0);
	JANUS_LOG(LOG_INFO, "%s destroyed\n", SB_PLUGIN_NAME);
}

static void sb_create_session(janus_plugin_session *handle, int *error)
{
	if (g_atomic_int_get(&stopping) || !g_atomic_int_get(&initialized)) {
		*error = -1;
		return;
	}
	sb_session *s = sb_session_new(handle);
	handle->plugin_handle = s;
	g_mutex_lock(&sessions_mutex);
	g_hash_table_insert(sessions, handle, s);
	g_mutex_unlock(&sessions_mutex);
}

static void sb_destroy_session(janus_plugin_session *handle, int *error)
{
	if (g_atomic_int_get(&stopping) || !g_atomic_int_get(&initialized)) {
		*error = -1;
		return;
	}
	sb_session *s = lookup_session(handle);
	if (!s) {
		*error = -2;
		return;
	}
	sb_participant *p = sb_session_participant(s);
	if (p) {
		sb_room *room = sb_participant_room(p);
		if (room) {
			sb_room_remove(room, p, "leaving");
			sb_room_unref(room);
		}
		sb_session_set_participant(s, NULL);
		sb_participant_unref(p);
	}
	sb_session_set_destroyed(s);
	sb_ops_session_forget(s);
	g_mutex_lock(&sessions_mutex);
	g_hash_table_remove(sessions, handle);
	g_mutex_unlock(&sessions_mutex);
	sb_session_unref(s);
}

static json_t *sb_query_session(janus_plugin_session *handle)
{
	sb_session *s = lookup_session(handle);
	if (!s)
		return NULL;
	json_t *info = json_object();
	sb_participant *p = sb_session_participant(s);
	if (p) {
		json_object_set_new(info, "participant", sb_participant_to_json(p));
		sb_participant_stats st;
		sb_participant_get_stats(p, &st);
		sb_jitter_stats js;
		sb_participant_get_jitter_stats(p, &js);
		json_object_set_new(info, "packets",
		                    json_pack("{sIsIsIsIsIsI}", "in", (json_int_t)st.packets_in,
		                              "invalid", (json_int_t)st.packets_invalid, "wrong_pt",
		                              (json_int_t)st.packets_wrong_pt, "dropped",
		                              (json_int_t)st.packets_dropped, "decode_errors",
		                              (json_int_t)st.decode_errors, "out",
		                              (json_int_t)st.packets_out));
		json_object_set_new(info, "jitter",
		                    json_pack("{sIsIsIsi}", "lost", (json_int_t)js.lost,
		                              "recovered", (json_int_t)js.recovered, "late",
		                              (json_int_t)js.late, "depth", js.depth));
		sb_room *room = sb_participant_room(p);
		if (room) {
			json_object_set_new(info, "room", json_string(room->name));
			sb_room_unref(room);
		}
		sb_participant_unref(p);
	}
	json_object_set_new(info, "started", json_boolean(sb_session_started(s)));
	sb_session_unref(s);
	return info;
}

static struct janus_plugin_result *
sb_handle_message(janus_plugin_session *handle, char *transaction, json_t *message, json_t *jsep)
{
	if (g_atomic_int_get(&stopping) || !g_atomic_int_get(&initialized)) {
		g_free(transaction);
		json_decref(message);
		json_decref(jsep);
		return janus_plugin_result_new(
		        JANUS_PLUGIN_ERROR,
		        g_atomic_int_get(&stopping) ? "Shutting down" : "Plugin not initialized",
		        NULL);
	}
	sb_session *s = lookup_session(handle);
	if (!s) {
		g_free(transaction);
		json_decref(message);
		json_decref(jsep);
		return janus_plugin_result_new(JANUS_PLUGIN_ERROR,
		                               "No session associated with this handle", NULL);
	}
	json_t *error = NULL;
	const sb_op *op = NULL;
	if (!message)
		error = sb_ops_error(SB_ERROR_NO_MESSAGE, "No message");
	else if (!json_is_object(message))
		error = sb_ops_error(SB_ERROR_INVALID_JSON, "The body must be a JSON object");
	else
		op = sb_ops_find(json_string_value(json_object_get(message, "request")));

	if (op && (op->flags & SB_OP_ASYNC)) {
		pending_message *msg = g_new0(pending_message, 1);
		msg->session = s; /* our reference moves into the message */
		msg->transaction = transaction;
		msg->body = message;
		msg->jsep = jsep;
		g_async_queue_push(messages, msg);
		return janus_plugin_result_new(JANUS_PLUGIN_OK_WAIT, NULL, NULL);
	}
	json_t *response = error;
	if (!response) {
		janus_later *later = janus_later_new(s, transaction);
		sb_op_ctx ctx = {.session = s, .jsep = NULL, .later = &later->base};
		sb_ops_session_principal(s, &ctx.who);
		response = sb_ops_dispatch(message, &ctx);
		json_decref(ctx.jsep_out);
		if (ctx.later)
			janus_later_free(later); /* the op answered now */
		if (!response) {                 /* it answers later, as an event */
			sb_session_unref(s);
			g_free(transaction);
			json_decref(message);
			json_decref(jsep);
			return janus_plugin_result_new(JANUS_PLUGIN_OK_WAIT, NULL, NULL);
		}
	}
	sb_session_unref(s);
	g_free(transaction);
	json_decref(message);
	json_decref(jsep);
	return janus_plugin_result_new(JANUS_PLUGIN_OK, NULL, response);
}

static json_t *sb_handle_admin_message(json_t *message)
{
	if (!g_atomic_int_get(&initialized))
		return sb_ops_error(SB_ERROR_UNKNOWN, "Plugin not initialized");
	/* The Admin API already checked admin_secret: the caller is trusted. */
	return sb_ops_run_admin(message);
}

static void sb_setup_media(janus_plugin_session *handle)
{
	sb_session *s = lookup_session(handle);
	if (!s)
		return;
	sb_webrtc_setup_media(s);
	sb_session_unref(s);
}

static void sb_hangup_media(janus_plugin_session *handle)
{
	sb_session *s = lookup_session(handle);
	if (!s)
		return;
	sb_webrtc_hangup_media(s);
	sb_session_unref(s);
}

static void sb_incoming_rtp(janus_plugin_session *handle, janus_plugin_rtp *packet)
{
	if (handle == NULL || g_atomic_int_get(&handle->stopped) || g_atomic_int_get(&stopping))
		return;
	/* handle->plugin_handle is set before media can flow and the session
	 * outlives the handle's media callbacks (the core holds our handle). */
	sb_session *s = handle->plugin_handle;
	if (!s || sb_session_destroyed(s))
		return;
	sb_webrtc_incoming_rtp(s, packet);
}

static void sb_incoming_rtcp(janus_plugin_session *handle, janus_plugin_rtcp *packet)
{
	/* The core answers RTCP (RR/SR, NACK) itself; audio needs no PLI or REMB
	 * from us, so reports are only counted. */
	(void)handle;
	(void)packet;
	__atomic_add_fetch(&rtcp_packets, 1, __ATOMIC_RELAXED);
}
