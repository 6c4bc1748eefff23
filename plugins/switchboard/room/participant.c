/* A participant's media, the side of it that is the same for every
 * transport: packets in through the jitter buffer (network thread), a frame
 * out per 20 ms (mixer thread: decode, RTP out, talking), and the few
 * flags other modules set through accessors rather than by touching the
 * struct, so each field keeps the one writer room_private.h names. */
#include "room/room.h"

#include <string.h>

#include "media/media.h"
#include "room/room_private.h"

const char *sb_kind_name(sb_kind kind)
{
	switch (kind) {
	case SB_KIND_WEB: return "web";
	case SB_KIND_RTP: return "rtp";
	case SB_KIND_SIP: return "sip";
	case SB_KIND_TWILIO: return "twilio";
	case SB_KIND_AGENT: return "agent";
	}
	return "unknown";
}

static void participant_free(const janus_refcount *ref)
{
	participant_priv *p =
	        participant_priv_of(janus_refcount_containerof(ref, sb_participant, ref));
	if (p->pub.ops && p->pub.ops->free_transport && p->pub.transport)
		p->pub.ops->free_transport(p->pub.transport);
	sb_jitter_free(p->jitter);
	sb_decoder_free(p->mix.decoder);
	g_free(p->mix.catch_up);
	sb_encoder_free(p->mix.encoder);
	sb_echo_free(p->mix.echo);
	sb_denoise_free(p->mix.denoise);
	g_mutex_clear(&p->mutex);
	g_free(p->display);
	g_free(p->metadata);
	json_decref(p->attributes);
	g_free(p->pub.role);
	g_free(p->pub.identity);
	g_free(p->interface);
	json_decref(p->pub.info);
	g_free(p);
}

sb_participant *sb_participant_new(const sb_participant_params *params)
{
	participant_priv *p = g_new0(participant_priv, 1);
	sb_participant *pub = &p->pub;
	janus_refcount_init(&pub->ref, participant_free);
	g_mutex_init(&p->mutex);
	pub->id = 0;
	while (pub->id == 0)
		pub->id = g_random_int() & 0x1fffff; /* fits in a JSON double */
	pub->id = (pub->id << 32) | g_random_int();
	pub->kind = params->kind;
	p->display = g_strdup(params->display);
	pub->role = g_strdup(params->role ? params->role : "caller");
	pub->identity = g_strdup(params->identity);
	p->interface = g_strdup(params->interface);
	pub->info = params->info ? json_deep_copy(params->info) : NULL;
	pub->joined_us = g_get_real_time();
	p->muted = params->muted ? 1 : 0;
	pub->ops = params->ops;
	pub->transport = params->transport;
	pub->codec = params->codec;
	p->payload_type = params->payload_type;
	p->audio_level_ext_id = params->audio_level_ext_id;
	sb_limiter_init(&p->mix.limiter, params->sampling_rate);
	p->mix.out_ssrc = g_random_int();
	p->mix.out_seq = (uint16_t)g_random_int();
	p->mix.out_ts = g_random_int();
	if (pub->ops && pub->ops->pull_pcm)
		return pub; /* PCM participant: no RTP, no codecs */
	p->jitter = sb_jitter_new(params->jitter_min_frames, params->jitter_max_frames,
	                          sb_codec_rtp_ts_step(params->codec));
	p->mix.decoder = sb_decoder_new(params->codec, params->sampling_rate);
	p->mix.encoder = sb_encoder_new(params->codec, params->sampling_rate, &params->encoder);
	if (!p->jitter || !p->mix.decoder || !p->mix.encoder) {
		pub->ops = NULL; /* the transport stays the caller's */
		janus_refcount_decrease(&pub->ref);
		return NULL;
	}
	return pub;
}

void sb_participant_incoming_rtp(sb_participant *pub, const uint8_t *buf, size_t len, int level)
{
	participant_priv *p = participant_priv_of(pub);
	sb_rtp_packet pkt;
	__atomic_add_fetch(&p->stats.packets_in, 1, __ATOMIC_RELAXED);
	if (!sb_rtp_parse(buf, len, p->audio_level_ext_id, &pkt) || pkt.payload_len == 0 ||
	    pkt.payload_len > SB_MAX_PAYLOAD) {
		__atomic_add_fetch(&p->stats.packets_invalid, 1, __ATOMIC_RELAXED);
		return;
	}
	if (pkt.payload_type != g_atomic_int_get(&p->payload_type)) {
		__atomic_add_fetch(&p->stats.packets_wrong_pt, 1, __ATOMIC_RELAXED);
		return;
	}
	if (g_atomic_int_get(&p->muted))
		return; /* a muted participant contributes nothing, not even CPU */
	if (level < 0)
		level = pkt.audio_level;
	if (!sb_jitter_put_level(p->jitter, pkt.seq, pkt.timestamp, pkt.payload, pkt.payload_len,
	                         level))
		__atomic_add_fetch(&p->stats.packets_dropped, 1, __ATOMIC_RELAXED);
}

void sb_participant_count_invalid(sb_participant *p)
{
	__atomic_add_fetch(&participant_priv_of(p)->stats.packets_invalid, 1, __ATOMIC_RELAXED);
}

/* Phones and PBXs send no levels, so without this every frame of every leg
 * is decoded to learn that it is silence.  A frame the encoder did not take
 * for speech (Opus's voice flag off) is skipped while the leg's last
 * decoded frame was silent; the voice flag alone never decides (a steady
 * tone can have it off), so one frame in QUIET_RECHECK_FRAMES is decoded anyway
 * and a loud one puts the leg back on decoding every frame. */
#define QUIET_RECHECK_FRAMES 5
static bool quiet_without_level(participant_mix *m, const uint8_t *payload, size_t len)
{
	if (m->last_loud || m->quiet_skips >= QUIET_RECHECK_FRAMES - 1 ||
	    sb_opus_voice_flag(payload, len) != SB_VOICE_INACTIVE)
		return false;
	m->quiet_skips++;
	return true;
}

/* How many passed-over packets are kept for the decoder to catch up on,
 * and in how many bytes.  Past that the decoder restarts from the oldest
 * one kept: after 25 packets (500 ms) Opus's band energies, predicted from
 * frame to frame, keep under a tenth of a wrong start. */
#define CATCH_UP_FRAMES 25
#define CATCH_UP_BYTES 4096

struct sb_catch_up {
	uint8_t bytes[CATCH_UP_BYTES];
	uint16_t len[CATCH_UP_FRAMES];
	int count;
	size_t used;
	bool restart;       /* older packets were dropped: decode from a new state */
	bool silence_after; /* silence was skipped after the last one kept */
};

static void catch_up_keep(participant_mix *m, const uint8_t *payload, size_t len)
{
	if (!m->catch_up)
		m->catch_up = g_new0(struct sb_catch_up, 1);
	struct sb_catch_up *c = m->catch_up;
	if (len > CATCH_UP_BYTES) {
		c->count = 0;
		c->used = 0;
		c->restart = true;
		return;
	}
	while (c->count == CATCH_UP_FRAMES || c->used + len > CATCH_UP_BYTES) {
		size_t oldest = c->len[0];
		memmove(c->bytes, c->bytes + oldest, c->used - oldest);
		c->used -= oldest;
		memmove(c->len, c->len + 1, (size_t)(c->count - 1) * sizeof(c->len[0]));
		c->count--;
		c->restart = true;
	}
	memcpy(c->bytes + c->used, payload, len);
	c->len[c->count++] = (uint16_t)len;
	c->used += len;
	c->silence_after = false;
}

/* Brings the decoder up to the packet before this tick's: decodes what it
 * passed over, the output thrown away, only the state matters. */
static void catch_up(participant_mix *m, uint64_t *decodes)
{
	if (m->frame_pending) { /* last tick's packet, never needed */
		catch_up_keep(m, m->frame_payload, m->frame_payload_len);
		m->frame_pending = false;
	}
	struct sb_catch_up *c = m->catch_up;
	if (!c || (c->count == 0 && !c->restart))
		return;
	if (c->restart)
		sb_decoder_restart(m->decoder);
	int16_t scratch[SB_MAX_FRAME_SAMPLES];
	size_t offset = 0;
	for (int i = 0; i < c->count; i++) {
		sb_decoder_decode(m->decoder, c->bytes + offset, c->len[i], scratch);
		offset += c->len[i];
	}
	*decodes += (uint64_t)c->count;
	if (c->silence_after)
		sb_decoder_skipped(m->decoder);
	c->count = 0;
	c->used = 0;
	c->restart = false;
	c->silence_after = false;
}

/* A loss after skipped silence must conceal silence, not the last word
 * (also once packets kept from before the silence are caught up on). */
static int skip_silent(participant_mix *m)
{
	if (m->catch_up && m->catch_up->count > 0)
		m->catch_up->silence_after = true;
	sb_decoder_skipped(m->decoder);
	return SB_LEVEL_SILENT_SKIPPED;
}

/* Leaves the packet undecoded, its level known (see frame_pending). */
static int defer_decode(participant_mix *m, const uint8_t *payload, size_t len, int level,
                        int silence_level)
{
	memcpy(m->frame_payload, payload, len);
	m->frame_payload_len = len;
	m->frame_pending = true;
	m->last_loud = level < silence_level;
	m->quiet_skips = 0;
	return level;
}

int sb_participant_pull(participant_priv *p, int frame_samples, int silence_level,
                        uint64_t *decodes)
{
	participant_mix *m = &p->mix;
	uint8_t payload[SB_MAX_PAYLOAD];
	size_t len = 0;
	int level = -1;
	int n;
	if (p->pub.ops && p->pub.ops->pull_pcm) {
		if (!p->pub.ops->pull_pcm(&p->pub, m->frame, frame_samples))
			return -1;
		return sb_level_dbov(m->frame, frame_samples);
	}
	if (m->frame_pending) { /* last tick's packet was never needed */
		catch_up_keep(m, m->frame_payload, m->frame_payload_len);
		m->frame_pending = false;
	}
	m->frame_payload_len = 0;
	switch (sb_jitter_get_level(p->jitter, payload, &len, &level)) {
	case SB_JITTER_PACKET:
		/* The sender says this frame is silence (RFC 6464, as browsers
		 * send): it would not be mixed, so do not pay for decoding it.
		 * Opus decodes the next packet fine without this one. */
		if (level >= silence_level && p->pub.codec == SB_CODEC_OPUS)
			return skip_silent(m);
		if (level < 0 && p->pub.codec == SB_CODEC_OPUS && quiet_without_level(m, payload, len))
			return skip_silent(m);
		/* G.711 without levels (every phone): its loudness is in the
		 * bytes, so silence costs neither a decode nor a resampling. */
		if (level < 0) {
			double mean_square = sb_g711_mean_square(p->pub.codec, payload, len);
			if (mean_square >= 0.0)
				level = sb_level_of_mean_square(mean_square);
			if (level >= silence_level)
				return skip_silent(m);
		}
		if (level >= 0 && sb_decoder_accepts(m->decoder, payload, len))
			return defer_decode(m, payload, len, level, silence_level);
		catch_up(m, decodes);
		n = sb_decoder_decode(m->decoder, payload, len, m->frame);
		if (n < 0) {
			__atomic_add_fetch(&p->stats.decode_errors, 1, __ATOMIC_RELAXED);
			n = sb_decoder_conceal(m->decoder, NULL, 0, m->frame);
		} else {
			memcpy(m->frame_payload, payload, len);
			m->frame_payload_len = len;
		}
		break;
	case SB_JITTER_LOST:
		catch_up(m, decodes);
		n = sb_decoder_conceal(m->decoder, len > 0 ? payload : NULL, len, m->frame);
		break;
	case SB_JITTER_EMPTY:
	default:
		return -1;
	}
	(*decodes)++;
	if (n != frame_samples)
		return -1;
	level = sb_level_dbov(m->frame, n);
	m->last_loud = level < silence_level;
	m->quiet_skips = 0;
	return level;
}

const int16_t *sb_participant_frame(participant_priv *p, uint64_t *decodes)
{
	participant_mix *m = &p->mix;
	if (!m->frame_pending)
		return m->frame;
	m->frame_pending = false;
	catch_up(m, decodes);
	(*decodes)++;
	if (sb_decoder_decode(m->decoder, m->frame_payload, m->frame_payload_len, m->frame) < 0) {
		/* sb_decoder_accepts vetted it; a corrupt body still conceals. */
		__atomic_add_fetch(&p->stats.decode_errors, 1, __ATOMIC_RELAXED);
		sb_decoder_conceal(m->decoder, NULL, 0, m->frame);
		m->frame_payload_len = 0;
	}
	return m->frame;
}

/* A frame that was not decoded is silence to the canceller, which must
 * follow every frame the leg was sent; what comes out of it is still
 * heard: the residual suppressor delays the leg by a frame, so the last
 * 20 ms of every word come out with the silent packet after it.  (They
 * were dropped: the "o" of an "okay" reached the agent's VAD a frame short
 * of its 100 ms of pitch, and the agent ducked for the "ay", ~200 ms
 * later.) */
int sb_participant_cancel_echo(participant_priv *p, int pulled, int rate, int tail_ms,
                               int silence_level, uint64_t *frames, uint64_t *decodes)
{
	participant_mix *m = &p->mix;
	const int n = sb_frame_samples(rate);
	if (m->echo && m->echo_rate != rate) { /* moved to a room of another rate */
		sb_echo_free(m->echo);
		m->echo = NULL;
	}
	if (!m->echo) {
		m->echo = sb_echo_new(rate, tail_ms);
		m->echo_rate = rate;
		m->sent_audible = false;
		if (!m->echo)
			return pulled;
	}
	bool decoded = pulled >= 0 && pulled != SB_LEVEL_SILENT_SKIPPED;
	if (decoded)
		sb_participant_frame(p, decodes); /* a pending frame is decoded now */
	else /* stale: the last frame decoded, or nothing */
		memset(m->frame, 0, (size_t)n * sizeof(*m->frame));
	sb_echo_stats before;
	sb_echo_get_stats(m->echo, &before);
	bool changed = sb_echo_process(m->echo, m->frame, m->sent_audible ? m->sent : NULL, n);
	sb_echo_stats after;
	sb_echo_get_stats(m->echo, &after);
	*frames += after.frames - before.frames;
	if (!changed)
		return pulled;
	/* The packet has the echo in it: the cleaned frame is what goes on. */
	m->frame_payload_len = 0;
	int level = sb_level_dbov(m->frame, n);
	return decoded || level < silence_level ? level : pulled;
}

void sb_participant_send_payload(participant_priv *p, const uint8_t *payload, size_t len)
{
	participant_mix *m = &p->mix;
	uint8_t packet[SB_RTP_HEADER_SIZE + SB_MAX_PAYLOAD];
	if (len > SB_MAX_PAYLOAD || !p->pub.ops || !p->pub.ops->send_rtp)
		return;
	m->out_seq++;
	m->out_ts += sb_codec_rtp_ts_step(p->pub.codec);
	sb_rtp_write_header(packet, (uint8_t)g_atomic_int_get(&p->payload_type), false, m->out_seq,
	                    m->out_ts, m->out_ssrc);
	memcpy(packet + SB_RTP_HEADER_SIZE, payload, len);
	p->pub.ops->send_rtp(&p->pub, packet, SB_RTP_HEADER_SIZE + len);
	__atomic_add_fetch(&p->stats.packets_out, 1, __ATOMIC_RELAXED);
}

bool sb_participant_update_talking(participant_priv *p, int level, int threshold, int window)
{
	participant_mix *m = &p->mix;
	/* Same idea as AudioBridge: average the level over a window of frames
	 * and compare with the threshold, so one loud click does not count. */
	m->level_sum += level < 0 ? 127 : level;
	if (++m->level_count < window)
		return false;
	int avg = m->level_sum / m->level_count;
	m->level_sum = 0;
	m->level_count = 0;
	bool talking = avg <= threshold;
	if (talking == (bool)g_atomic_int_get(&p->talking))
		return false;
	g_atomic_int_set(&p->talking, talking);
	return true;
}

bool sb_participant_set_hold(sb_participant *p, bool hold)
{
	return g_atomic_int_compare_and_exchange(&participant_priv_of(p)->on_hold, hold ? 0 : 1,
	                                         hold ? 1 : 0);
}

void sb_participant_set_display(sb_participant *pub, const char *display)
{
	participant_priv *p = participant_priv_of(pub);
	room_locked_set_string(&p->mutex, &p->display, display);
}

char *sb_participant_dup_display(sb_participant *pub)
{
	participant_priv *p = participant_priv_of(pub);
	return room_locked_dup_string(&p->mutex, &p->display);
}

const char *sb_participant_interface(sb_participant *p)
{
	const char *set = participant_priv_of(p)->interface;
	if (set)
		return set;
	switch (p->kind) {
	case SB_KIND_WEB: return "web";
	case SB_KIND_SIP:
	case SB_KIND_TWILIO: return "phone";
	default: return sb_kind_name(p->kind);
	}
}

bool sb_participant_muted(sb_participant *p)
{
	return g_atomic_int_get(&participant_priv_of(p)->muted);
}

bool sb_participant_set_muted(sb_participant *p, bool muted)
{
	return g_atomic_int_compare_and_exchange(&participant_priv_of(p)->muted, muted ? 0 : 1,
	                                         muted ? 1 : 0);
}

bool sb_participant_media_ready(sb_participant *p)
{
	return g_atomic_int_get(&participant_priv_of(p)->media_ready);
}

void sb_participant_set_media_ready(sb_participant *p, bool ready)
{
	g_atomic_int_set(&participant_priv_of(p)->media_ready, ready ? 1 : 0);
}

int sb_participant_payload_type(sb_participant *p)
{
	return g_atomic_int_get(&participant_priv_of(p)->payload_type);
}

void sb_participant_set_payload_type(sb_participant *p, int payload_type)
{
	g_atomic_int_set(&participant_priv_of(p)->payload_type, payload_type);
}

bool sb_participant_listen_only(sb_participant *p)
{
	return g_atomic_int_get(&participant_priv_of(p)->listen_only);
}

void sb_participant_set_listen_only(sb_participant *p)
{
	g_atomic_int_set(&participant_priv_of(p)->muted, 1);
	g_atomic_int_set(&participant_priv_of(p)->listen_only, 1);
}

void sb_participant_set_metadata(sb_participant *pub, const char *metadata)
{
	participant_priv *p = participant_priv_of(pub);
	room_locked_set_string(&p->mutex, &p->metadata, metadata && *metadata ? metadata : NULL);
}

char *sb_participant_dup_metadata(sb_participant *pub)
{
	participant_priv *p = participant_priv_of(pub);
	return room_locked_dup_string(&p->mutex, &p->metadata);
}

void sb_participant_update_attributes(sb_participant *pub, json_t *changes)
{
	participant_priv *p = participant_priv_of(pub);
	g_mutex_lock(&p->mutex);
	if (!p->attributes)
		p->attributes = json_object();
	const char *key;
	json_t *value;
	json_object_foreach(changes, key, value) {
		const char *text = json_string_value(value);
		if (text && *text)
			json_object_set_new(p->attributes, key, json_string(text));
		else
			json_object_del(p->attributes, key);
	}
	g_mutex_unlock(&p->mutex);
}

json_t *sb_participant_attributes(sb_participant *pub)
{
	participant_priv *p = participant_priv_of(pub);
	g_mutex_lock(&p->mutex);
	json_t *copy = p->attributes ? json_deep_copy(p->attributes) : json_object();
	g_mutex_unlock(&p->mutex);
	return copy;
}

json_t *sb_participant_to_json(sb_participant *pub)
{
	participant_priv *p = participant_priv_of(pub);
	json_t *j = json_object();
	json_object_set_new(j, "id", json_integer((json_int_t)pub->id));
	g_mutex_lock(&p->mutex);
	if (p->display)
		json_object_set_new(j, "display", json_string(p->display));
	g_mutex_unlock(&p->mutex);
	json_object_set_new(j, "kind", json_string(sb_kind_name(pub->kind)));
	json_object_set_new(j, "role", json_string(pub->role));
	if (pub->identity)
		json_object_set_new(j, "identity", json_string(pub->identity));
	json_object_set_new(j, "muted", json_boolean(g_atomic_int_get(&p->muted)));
	json_object_set_new(j, "talking", json_boolean(g_atomic_int_get(&p->talking)));
	if (g_atomic_int_get(&p->on_hold))
		json_object_set_new(j, "on_hold", json_true());
	return j;
}

void sb_participant_get_stats(sb_participant *pub, sb_participant_stats *out)
{
	const sb_participant_stats *st = &participant_priv_of(pub)->stats;
	out->packets_in = __atomic_load_n(&st->packets_in, __ATOMIC_RELAXED);
	out->packets_invalid = __atomic_load_n(&st->packets_invalid, __ATOMIC_RELAXED);
	out->packets_wrong_pt = __atomic_load_n(&st->packets_wrong_pt, __ATOMIC_RELAXED);
	out->packets_dropped = __atomic_load_n(&st->packets_dropped, __ATOMIC_RELAXED);
	out->decode_errors = __atomic_load_n(&st->decode_errors, __ATOMIC_RELAXED);
	out->packets_out = __atomic_load_n(&st->packets_out, __ATOMIC_RELAXED);
}

void sb_participant_get_jitter_stats(sb_participant *p, sb_jitter_stats *out)
{
	memset(out, 0, sizeof(*out));
	sb_jitter_get_stats(participant_priv_of(p)->jitter, out);
}

struct sb_room *sb_participant_room(sb_participant *pub)
{
	participant_priv *p = participant_priv_of(pub);
	g_mutex_lock(&p->mutex);
	struct sb_room *room = p->room;
	if (room)
		sb_room_ref(room);
	g_mutex_unlock(&p->mutex);
	return room;
}
