/* The agent's voice on its way to the room: speech written at 16 kHz by
 * the agent thread, pulled one frame at a time by the mixer at the room's
 * rate.  A leaf mutex, never held for long: the mixer has a deadline. */
#include "agent/agent_private.h"

#include <math.h>
#include <string.h>

#include <glib.h>
#include <speex/speex_resampler.h>

#include "media/media.h"
#include "providers/providers.h"

#define VOICE_FRAME (SB_AGENT_RATE / 50) /* 20 ms at 16 kHz */
#define VOICE_SECONDS 60                 /* longest answer held */
#define VOICE_CAPACITY ((size_t)SB_AGENT_RATE * VOICE_SECONDS)

struct sb_agent_voice {
	GMutex lock;
	int16_t *ring;
	uint64_t written, played; /* only grow; ring index = count % capacity */
	sb_heard *heard;
	int room_rate;
	SpeexResamplerState *up; /* mixer thread; NULL when the room runs at 16 kHz */
	float level_db;          /* mixer thread */
	/* The first sample of an answer (under lock): when the mixer took it. */
	bool mark_pending;
	uint64_t mark_at;
	int64_t mark_sent_us;
	/* Ducking while a caller may be interrupting: the gain asked for (under
	 * lock) and the one the last frame ended at (mixer thread). */
	float gain_target;
	float gain;
};

sb_agent_voice *sb_agent_voice_new(int room_rate, sb_heard *heard)
{
	sb_agent_voice *v = g_new0(sb_agent_voice, 1);
	g_mutex_init(&v->lock);
	v->ring = g_new0(int16_t, VOICE_CAPACITY);
	v->heard = heard;
	v->room_rate = room_rate;
	v->level_db = -INFINITY;
	v->gain_target = v->gain = 1.0f;
	if (room_rate != SB_AGENT_RATE) {
		int err = 0;
		v->up = speex_resampler_init(1, SB_AGENT_RATE, (spx_uint32_t)room_rate, 3, &err);
	}
	return v;
}

void sb_agent_voice_free(sb_agent_voice *v)
{
	if (!v)
		return;
	if (v->up)
		speex_resampler_destroy(v->up);
	g_mutex_clear(&v->lock);
	g_free(v->ring);
	g_free(v);
}

void sb_agent_voice_append(sb_agent_voice *v, const int16_t *pcm, size_t samples)
{
	g_mutex_lock(&v->lock);
	for (size_t i = 0; i < samples && v->written - v->played < VOICE_CAPACITY; i++)
		v->ring[v->written++ % VOICE_CAPACITY] = pcm[i];
	g_mutex_unlock(&v->lock);
}

void sb_agent_voice_clear(sb_agent_voice *v)
{
	g_mutex_lock(&v->lock);
	v->played = v->written;
	v->mark_pending = false; /* never sent: the answer was dropped */
	g_mutex_unlock(&v->lock);
	sb_heard_cleared(v->heard);
}

bool sb_agent_voice_empty(sb_agent_voice *v)
{
	g_mutex_lock(&v->lock);
	bool empty = v->played >= v->written;
	g_mutex_unlock(&v->lock);
	return empty;
}

uint64_t sb_agent_voice_written(sb_agent_voice *v)
{
	g_mutex_lock(&v->lock);
	uint64_t written = v->written;
	g_mutex_unlock(&v->lock);
	return written;
}

bool sb_agent_voice_pull(sb_agent_voice *v, int16_t *frame, int samples)
{
	int16_t chunk[VOICE_FRAME] = {0};
	g_mutex_lock(&v->lock);
	uint64_t avail = v->written - v->played;
	if (avail == 0) {
		g_mutex_unlock(&v->lock);
		return false;
	}
	size_t n = avail < VOICE_FRAME ? (size_t)avail : VOICE_FRAME;
	for (size_t i = 0; i < n; i++)
		chunk[i] = v->ring[(v->played + i) % VOICE_CAPACITY];
	if (v->mark_pending && v->mark_at < v->played + n) {
		v->mark_pending = false;
		v->mark_sent_us = g_get_monotonic_time();
	}
	v->played += n;
	sb_heard_played(v->heard, v->played, v->written);
	float target = v->gain_target;
	g_mutex_unlock(&v->lock);
	/* Ducked at once, ramped across this one frame: a step would click. */
	if (target != 1.0f || v->gain != 1.0f) {
		for (size_t i = 0; i < VOICE_FRAME; i++) {
			float g = v->gain + (target - v->gain) * (float)(i + 1) / VOICE_FRAME;
			chunk[i] = (int16_t)lrintf((float)chunk[i] * g);
		}
		v->gain = target;
	}
	v->level_db = sb_frame_dbfs(chunk, VOICE_FRAME);
	if (!v->up) {
		memcpy(frame, chunk, sizeof(chunk));
		return true;
	}
	spx_uint32_t in_len = VOICE_FRAME, out_len = (spx_uint32_t)samples;
	speex_resampler_process_int(v->up, 0, chunk, &in_len, frame, &out_len);
	for (int i = (int)out_len; i < samples; i++)
		frame[i] = 0;
	return true;
}

float sb_agent_voice_level_db(sb_agent_voice *v)
{
	return v->level_db;
}

void sb_agent_voice_mark(sb_agent_voice *v)
{
	g_mutex_lock(&v->lock);
	v->mark_pending = true;
	v->mark_at = v->written;
	v->mark_sent_us = 0;
	g_mutex_unlock(&v->lock);
}

int64_t sb_agent_voice_mark_sent(sb_agent_voice *v, bool *pending)
{
	g_mutex_lock(&v->lock);
	int64_t sent = v->mark_sent_us;
	*pending = v->mark_pending;
	g_mutex_unlock(&v->lock);
	return sent;
}

void sb_agent_voice_duck(sb_agent_voice *v, float gain)
{
	g_mutex_lock(&v->lock);
	v->gain_target = gain < 0.0f ? 0.0f : gain > 1.0f ? 1.0f : gain;
	g_mutex_unlock(&v->lock);
}
