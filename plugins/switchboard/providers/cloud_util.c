/* Helpers shared by the cloud providers and the chains
 * (providers_private.h, "cloud_util"): small things that were written once
 * per provider before — config lookups, URLs, an API's error text, the
 * agent's tools, the base of a cloud STT stream, WAV and s16 bytes. */
#include "providers/providers_private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- config helpers ---- */

static json_t *extra_get(const sb_provider_config *cfg, const char *key)
{
	if (!cfg || !cfg->extra || !json_is_object(cfg->extra))
		return NULL;
	return json_object_get(cfg->extra, key);
}

int sb_cfg_int(const sb_provider_config *cfg, const char *key, int def)
{
	json_t *v = extra_get(cfg, key);
	if (json_is_integer(v))
		return (int)json_integer_value(v);
	if (json_is_real(v))
		return (int)json_real_value(v);
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		char *end = NULL;
		errno = 0;
		long n = strtol(s, &end, 10);
		if (end != s && *end == '\0' && errno == 0 && n >= INT32_MIN && n <= INT32_MAX)
			return (int)n;
	}
	return def;
}

bool sb_cfg_double(const sb_provider_config *cfg, const char *key, double *out)
{
	json_t *v = extra_get(cfg, key);
	if (json_is_number(v)) {
		*out = json_number_value(v);
		return true;
	}
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		char *end = NULL;
		double d = g_ascii_strtod(s, &end);
		if (end != s && *end == '\0') {
			*out = d;
			return true;
		}
	}
	return false;
}

const char *sb_cfg_str(const sb_provider_config *cfg, const char *key)
{
	json_t *v = extra_get(cfg, key);
	const char *s = json_is_string(v) ? json_string_value(v) : NULL;
	return s && *s ? s : NULL;
}

sb_fetch_options sb_provider_stream_post(const sb_provider_config *cfg, const char *url,
                                        const char *const *headers, const char *body)
{
	int timeout = cfg->timeout_ms > 0 ? cfg->timeout_ms : 10000;
	return (sb_fetch_options){
	        .method = "POST",
	        .url = url,
	        .headers = headers,
	        .body = body,
	        .body_len = strlen(body),
	        .connect_timeout_ms = sb_cfg_int(cfg, "connect_timeout_ms", MIN(timeout, 10000)),
	        .first_byte_timeout_ms = timeout,
	        .total_timeout_ms = sb_cfg_int(cfg, "total_timeout_ms", 120000),
	};
}

char *sb_url_join(const char *base, const char *path)
{
	size_t n = strlen(base);
	while (n > 0 && base[n - 1] == '/')
		n--;
	while (*path == '/')
		path++;
	return g_strdup_printf("%.*s/%s", (int)n, base, path);
}

/* ---- error text ---- */

const char *sb_json_error_message(json_t *root)
{
	json_t *err = json_object_get(root, "error");
	if (json_is_object(err)) {
		json_t *m = json_object_get(err, "message");
		if (json_is_string(m))
			return json_string_value(m);
		json_t *t = json_object_get(err, "type");
		if (json_is_string(t))
			return json_string_value(t);
	}
	if (json_is_string(err))
		return json_string_value(err);
	json_t *detail = json_object_get(root, "detail");
	if (json_is_object(detail)) {
		json_t *m = json_object_get(detail, "message");
		if (json_is_string(m))
			return json_string_value(m);
	}
	if (json_is_string(detail))
		return json_string_value(detail);
	const char *keys[] = {"err_msg", "message", "description"};
	for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
		json_t *m = json_object_get(root, keys[i]);
		if (json_is_string(m))
			return json_string_value(m);
	}
	return NULL;
}

char *sb_fetch_error_text(long status, const char *body, size_t len)
{
	char *msg = NULL;
	if (body && len > 0) {
		json_t *root = json_loadb(body, len, 0, NULL);
		if (json_is_object(root)) {
			const char *m = sb_json_error_message(root);
			if (m && *m)
				msg = g_strdup(m);
		}
		json_decref(root);
		if (!msg) {
			size_t n = MIN(len, 200);
			msg = g_strndup(body, n);
			g_strstrip(msg);
			/* Keep log lines one line and printable. */
			for (char *p = msg; *p; p++)
				if ((unsigned char)*p < 0x20)
					*p = ' ';
			if (!*msg) {
				g_free(msg);
				msg = NULL;
			}
		}
	}
	char *out = msg ? g_strdup_printf("HTTP %ld: %s", status, msg)
	                : g_strdup_printf("HTTP %ld", status);
	g_free(msg);
	return out;
}

/* ---- cloud STT streams ---- */

bool sb_stt_base_init(sb_stt_base *b, const char *who, const sb_provider_config *cfg,
                      const sb_stt_events *events, void *user, char **error)
{
	if (!cfg || !cfg->base_url || !events) {
		if (error)
			*error = g_strdup_printf("%s: no base_url", who);
		return false;
	}
	b->ref = 1;
	sb_gate_init(&b->gate);
	b->ev = *events;
	b->user = user;
	b->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 10000;
	g_mutex_init(&b->lock);
	return true;
}

void sb_stt_base_clear(sb_stt_base *b)
{
	sb_gate_clear(&b->gate);
	g_free(b->url);
	g_free(b->auth);
	g_mutex_clear(&b->lock);
}

void sb_stt_base_emit(sb_stt_base *b, void (*event)(void *user, const char *text), const char *text)
{
	if (event && sb_gate_enter(&b->gate)) {
		event(b->user, text);
		sb_gate_leave(&b->gate);
	}
}

void sb_stt_base_release(sb_stt_base *b)
{
	sb_gate_close(&b->gate);
	g_mutex_lock(&b->lock);
	b->released = true;
	g_mutex_unlock(&b->lock);
}

/* ---- LLM tools ---- */

json_t *sb_llm_tools(const sb_llm_request *req,
                     json_t *(*shape)(json_t *name, json_t *description, json_t *schema))
{
	json_t *specs = json_pack(
	        "[{s:s, s:s, s:{s:s, s:{s:{s:s, s:s}}}}, {s:s, s:s, s:{s:s, s:{}}}]", "name",
	        "transfer_to_human", "description",
	        "Transfer the caller to a human agent: when they ask for a person, or when you "
	        "cannot help them.",
	        "schema", "type", "object", "properties", "reason", "type", "string", "description",
	        "Why the caller needs a human, in a few words, for the human agent.", "name",
	        "end_call", "description",
	        "End the call once the conversation is over and the caller has said goodbye.",
	        "schema", "type", "object", "properties");
	json_t *tools = json_array();
	size_t i;
	json_t *spec;
	json_array_foreach(specs, i, spec)
	{
		json_array_append_new(tools, shape(json_object_get(spec, "name"),
		                                   json_object_get(spec, "description"),
		                                   json_object_get(spec, "schema")));
	}
	json_array_foreach(req->functions, i, spec)
	{
		json_array_append_new(tools, shape(json_object_get(spec, "name"),
		                                   json_object_get(spec, "description"),
		                                   json_object_get(spec, "parameters")));
	}
	json_decref(specs);
	return tools;
}

/* ---- audio ---- */

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

void sb_wav_header(uint8_t out[44], uint32_t rate, uint32_t samples)
{
	uint32_t data = samples * 2;
	memcpy(out, "RIFF", 4);
	put_le32(out + 4, 36 + data);
	memcpy(out + 8, "WAVEfmt ", 8);
	put_le32(out + 16, 16); /* fmt chunk size */
	put_le16(out + 20, 1);  /* PCM */
	put_le16(out + 22, 1);  /* mono */
	put_le32(out + 24, rate);
	put_le32(out + 28, rate * 2); /* byte rate */
	put_le16(out + 32, 2);        /* block align */
	put_le16(out + 34, 16);       /* bits per sample */
	memcpy(out + 36, "data", 4);
	put_le32(out + 40, data);
}

size_t sb_s16_feed(sb_s16_stream *st, const uint8_t *data, size_t len, int16_t *out)
{
	size_t n = 0;
	size_t i = 0;
	if (st->has_carry && len > 0) {
		out[n++] = (int16_t)(uint16_t)(st->carry | ((uint16_t)data[0] << 8));
		st->has_carry = false;
		i = 1;
	}
	for (; i + 1 < len; i += 2)
		out[n++] = (int16_t)(uint16_t)(data[i] | ((uint16_t)data[i + 1] << 8));
	if (i < len) {
		st->carry = data[i];
		st->has_carry = true;
	}
	return n;
}

uint64_t sb_fnv1a(uint64_t h, const void *data, size_t len)
{
	const uint8_t *p = data;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}
