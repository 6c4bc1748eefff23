#include "room/room.h"

#include <string.h>

#include "media/media.h"

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
	sb_participant *p = janus_refcount_containerof(ref, sb_participant, ref);
	if (p->ops && p->ops->free_transport && p->transport)
		p->ops->free_transport(p->transport);
	sb_jitter_free(p->jitter);
	sb_decoder_free(p->decoder);
	sb_encoder_free(p->encoder);
	g_mutex_clear(&p->mutex);
	g_free(p->display);
	g_free(p->role);
	g_free(p->identity);
	g_free(p->interface);
	json_decref(p->info);
	g_free(p);
}

sb_participant *sb_participant_new(const sb_participant_params *params)
{
	sb_participant *p = g_new0(sb_participant, 1);
	janus_refcount_init(&p->ref, participant_free);
	g_mutex_init(&p->mutex);
	p->id = 0;
	while (p->id == 0)
		p->id = g_random_int() & 0x1fffff; /* fits in a JSON double */
	p->id = (p->id << 32) | g_random_int();
	p->kind = params->kind;
	p->display = g_strdup(params->display);
	p->role = g_strdup(params->role ? params->role : "caller");
	p->identity = g_strdup(params->identity);
	p->interface = g_strdup(params->interface);
	p->info = params->info ? json_deep_copy(params->info) : NULL;
	p->joined_us = g_get_real_time();
	p->muted = params->muted ? 1 : 0;
	p->ops = params->ops;
	p->transport = params->transport;
	p->codec = params->codec;
	p->payload_type = params->payload_type;
	p->audio_level_ext_id = params->audio_level_ext_id;
	p->last_level = -1;
	sb_limiter_init(&p->limiter, params->sampling_rate);
	p->out_ssrc = g_random_int();
	p->out_seq = (uint16_t)g_random_int();
	p->out_ts = g_random_int();
	if (p->ops && p->ops->pull_pcm)
		return p; /* PCM participant: no RTP, no codecs */
	p->jitter = sb_jitter_new(params->jitter_min_frames, params->jitter_max_frames,
	                          sb_codec_rtp_ts_step(params->codec));
	p->decoder = sb_decoder_new(params->codec, params->sampling_rate);
	p->encoder = sb_encoder_new(params->codec, params->sampling_rate, &params->encoder);
	if (!p->jitter || !p->decoder || !p->encoder) {
		p->ops = NULL; /* the transport stays the caller's */
		janus_refcount_decrease(&p->ref);
		return NULL;
	}
	return p;
}

void sb_participant_incoming_rtp(sb_participant *p, const uint8_t *buf, size_t len, int level)
{
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
	g_atomic_int_set(&p->last_level, level);
	if (!sb_jitter_put_level(p->jitter, pkt.seq, pkt.timestamp, pkt.payload, pkt.payload_len,
	                         level))
		__atomic_add_fetch(&p->stats.packets_dropped, 1, __ATOMIC_RELAXED);
}

int sb_participant_pull(sb_participant *p, int frame_samples, int silence_level)
{
	uint8_t payload[SB_MAX_PAYLOAD];
	size_t len = 0;
	int level = -1;
	int n;
	p->frame_payload_len = 0;
	if (p->ops && p->ops->pull_pcm) {
		if (!p->ops->pull_pcm(p, p->frame, frame_samples))
			return -1;
		return sb_level_dbov(p->frame, frame_samples);
	}
	switch (sb_jitter_get_level(p->jitter, payload, &len, &level)) {
	case SB_JITTER_PACKET:
		/* The sender says this frame is silence (RFC 6464, as browsers
		 * send): it would not be mixed, so do not pay for decoding it.
		 * Opus decodes the next packet fine without this one. */
		if (level >= silence_level && p->codec == SB_CODEC_OPUS) {
			p->skipped_decodes++;
			return SB_LEVEL_SILENT_SKIPPED;
		}
		n = sb_decoder_decode(p->decoder, payload, len, p->frame);
		if (n < 0) {
			__atomic_add_fetch(&p->stats.decode_errors, 1, __ATOMIC_RELAXED);
			n = sb_decoder_conceal(p->decoder, NULL, 0, p->frame);
		} else {
			memcpy(p->frame_payload, payload, len);
			p->frame_payload_len = len;
		}
		break;
	case SB_JITTER_LOST:
		n = sb_decoder_conceal(p->decoder, len > 0 ? payload : NULL, len, p->frame);
		break;
	case SB_JITTER_EMPTY:
	default:
		return -1;
	}
	if (n != frame_samples)
		return -1;
	return sb_level_dbov(p->frame, n);
}

void sb_participant_send_payload(sb_participant *p, const uint8_t *payload, size_t len)
{
	uint8_t packet[SB_RTP_HEADER_SIZE + SB_MAX_PAYLOAD];
	if (len > SB_MAX_PAYLOAD || !p->ops || !p->ops->send_rtp)
		return;
	p->out_seq++;
	p->out_ts += sb_codec_rtp_ts_step(p->codec);
	sb_rtp_write_header(packet, (uint8_t)g_atomic_int_get(&p->payload_type), false, p->out_seq,
	                    p->out_ts, p->out_ssrc);
	memcpy(packet + SB_RTP_HEADER_SIZE, payload, len);
	p->ops->send_rtp(p, packet, SB_RTP_HEADER_SIZE + len);
	__atomic_add_fetch(&p->stats.packets_out, 1, __ATOMIC_RELAXED);
}

bool sb_participant_update_talking(sb_participant *p, int level, int threshold, int window)
{
	/* Same idea as AudioBridge: average the level over a window of frames
	 * and compare with the threshold, so one loud click does not count. */
	p->level_sum += level < 0 ? 127 : level;
	if (++p->level_count < window)
		return false;
	int avg = p->level_sum / p->level_count;
	p->level_sum = 0;
	p->level_count = 0;
	bool talking = avg <= threshold;
	if (talking == p->talking)
		return false;
	p->talking = talking;
	return true;
}

bool sb_participant_set_hold(sb_participant *p, bool hold)
{
	return g_atomic_int_compare_and_exchange(&p->on_hold, hold ? 0 : 1, hold ? 1 : 0);
}

void sb_participant_set_display(sb_participant *p, const char *display)
{
	g_mutex_lock(&p->mutex);
	g_free(p->display);
	p->display = g_strdup(display);
	g_mutex_unlock(&p->mutex);
}

const char *sb_participant_interface(sb_participant *p)
{
	if (p->interface)
		return p->interface;
	switch (p->kind) {
	case SB_KIND_WEB: return "web";
	case SB_KIND_SIP:
	case SB_KIND_TWILIO: return "phone";
	default: return sb_kind_name(p->kind);
	}
}

json_t *sb_participant_to_json(sb_participant *p)
{
	json_t *j = json_object();
	json_object_set_new(j, "id", json_integer((json_int_t)p->id));
	g_mutex_lock(&p->mutex);
	if (p->display)
		json_object_set_new(j, "display", json_string(p->display));
	g_mutex_unlock(&p->mutex);
	json_object_set_new(j, "kind", json_string(sb_kind_name(p->kind)));
	json_object_set_new(j, "role", json_string(p->role));
	if (p->identity)
		json_object_set_new(j, "identity", json_string(p->identity));
	json_object_set_new(j, "muted", json_boolean(g_atomic_int_get(&p->muted)));
	json_object_set_new(j, "talking", json_boolean(__atomic_load_n(&p->talking, __ATOMIC_RELAXED)));
	if (g_atomic_int_get(&p->on_hold))
		json_object_set_new(j, "on_hold", json_true());
	return j;
}

void sb_participant_get_stats(sb_participant *p, sb_participant_stats *out)
{
	out->packets_in = __atomic_load_n(&p->stats.packets_in, __ATOMIC_RELAXED);
	out->packets_invalid = __atomic_load_n(&p->stats.packets_invalid, __ATOMIC_RELAXED);
	out->packets_wrong_pt = __atomic_load_n(&p->stats.packets_wrong_pt, __ATOMIC_RELAXED);
	out->packets_dropped = __atomic_load_n(&p->stats.packets_dropped, __ATOMIC_RELAXED);
	out->decode_errors = __atomic_load_n(&p->stats.decode_errors, __ATOMIC_RELAXED);
	out->packets_out = __atomic_load_n(&p->stats.packets_out, __ATOMIC_RELAXED);
}

struct sb_room *sb_participant_room(sb_participant *p)
{
	g_mutex_lock(&p->mutex);
	struct sb_room *room = p->room;
	if (room)
		sb_room_ref(room);
	g_mutex_unlock(&p->mutex);
	return room;
}
