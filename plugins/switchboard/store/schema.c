/* The schema, as versioned migrations applied at start-up (store.c keeps
 * the version in schema_version).  SQL here is the common subset of SQLite
 * and PostgreSQL: TEXT, BIGINT (times in ms since the epoch), INTEGER
 * (0/1 for flags), DOUBLE PRECISION.  Ids are UUID strings made by the
 * writer, so several nodes can share one PostgreSQL database.  Never edit a
 * released migration: add the next one. */
#include <glib.h>

#include "store/store_private.h"

static const char *const v1[] = {
        "CREATE TABLE IF NOT EXISTS calls ("
        " id TEXT PRIMARY KEY, room TEXT NOT NULL, interface TEXT, direction TEXT,"
        " from_addr TEXT, to_addr TEXT, call_sid TEXT, started BIGINT NOT NULL,"
        " answered BIGINT, ended BIGINT, duration_ms BIGINT, outcome TEXT,"
        " ai_handled INTEGER NOT NULL DEFAULT 0, human_agent TEXT, status TEXT, node TEXT)",
        "CREATE INDEX IF NOT EXISTS calls_started ON calls (started)",
        "CREATE INDEX IF NOT EXISTS calls_room ON calls (room)",
        "CREATE INDEX IF NOT EXISTS calls_call_sid ON calls (call_sid)",
        "CREATE TABLE IF NOT EXISTS participants ("
        " id TEXT PRIMARY KEY, call_id TEXT NOT NULL, participant_id BIGINT, kind TEXT,"
        " role TEXT, display TEXT, identity TEXT, interface TEXT, info TEXT,"
        " joined BIGINT NOT NULL, left_at BIGINT, reason TEXT)",
        "CREATE INDEX IF NOT EXISTS participants_call ON participants (call_id)",
        "CREATE TABLE IF NOT EXISTS transcript_segments ("
        " id TEXT PRIMARY KEY, call_id TEXT NOT NULL, speaker TEXT, speaker_id BIGINT,"
        " text TEXT NOT NULL, started BIGINT, ended BIGINT, final INTEGER NOT NULL DEFAULT 1,"
        " seq BIGINT NOT NULL DEFAULT 0)",
        "CREATE INDEX IF NOT EXISTS transcript_call ON transcript_segments (call_id)",
        "CREATE TABLE IF NOT EXISTS agent_turns ("
        " id TEXT PRIMARY KEY, call_id TEXT NOT NULL, at BIGINT NOT NULL, latency_ms BIGINT,"
        " stt TEXT, llm TEXT, tts TEXT, fallback INTEGER NOT NULL DEFAULT 0,"
        " interrupted INTEGER NOT NULL DEFAULT 0, user_text TEXT, agent_text TEXT)",
        "CREATE INDEX IF NOT EXISTS agent_turns_call ON agent_turns (call_id)",
        "CREATE INDEX IF NOT EXISTS agent_turns_at ON agent_turns (at)",
        "CREATE TABLE IF NOT EXISTS transfers ("
        " transfer_id TEXT PRIMARY KEY, call_id TEXT, room TEXT, from_agent TEXT,"
        " to_target TEXT, target_kind TEXT, consult_room TEXT, reason TEXT, summary TEXT,"
        " state TEXT NOT NULL, initiated BIGINT, accepted BIGINT, completed BIGINT,"
        " ended BIGINT, failure TEXT)",
        "CREATE INDEX IF NOT EXISTS transfers_from ON transfers (from_agent)",
        "CREATE INDEX IF NOT EXISTS transfers_initiated ON transfers (initiated)",
        "CREATE TABLE IF NOT EXISTS whatsapp_messages ("
        " id TEXT PRIMARY KEY, message_sid TEXT, conversation TEXT, call_id TEXT,"
        " from_addr TEXT, to_addr TEXT, body TEXT, direction TEXT, media_count INTEGER,"
        " at BIGINT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS whatsapp_conversation ON whatsapp_messages (conversation)",
        "CREATE TABLE IF NOT EXISTS recordings ("
        " id TEXT PRIMARY KEY, call_id TEXT, room TEXT NOT NULL, kind TEXT NOT NULL,"
        " participant_id BIGINT, format TEXT NOT NULL, path TEXT NOT NULL,"
        " started BIGINT NOT NULL, ended BIGINT, bytes BIGINT)",
        "CREATE INDEX IF NOT EXISTS recordings_call ON recordings (call_id)",
        NULL,
};

/* Messages of the same millisecond (an inbound one and the AI's instant
 * reply) keep the order they were recorded in. */
static const char *const v2[] = {
        "ALTER TABLE whatsapp_messages ADD COLUMN seq BIGINT NOT NULL DEFAULT 0",
        NULL,
};

/* Human agents' console accounts (store/accounts.c): the password only as
 * its yescrypt hash. */
static const char *const v3[] = {
        "CREATE TABLE IF NOT EXISTS console_accounts ("
        " agent_id TEXT PRIMARY KEY, name TEXT, role TEXT NOT NULL,"
        " dial INTEGER NOT NULL DEFAULT 0, password_hash TEXT NOT NULL,"
        " created BIGINT NOT NULL)",
        NULL,
};

/* The agent's calls of the business's tools (tools/): one row per call,
 * with what it was asked and how it went. */
static const char *const v4[] = {
        "CREATE TABLE IF NOT EXISTS agent_tool_calls ("
        " id TEXT PRIMARY KEY, call_id TEXT NOT NULL, at BIGINT NOT NULL, tool TEXT NOT NULL,"
        " arguments TEXT, status TEXT NOT NULL, latency_ms BIGINT, http_status BIGINT,"
        " error TEXT)",
        "CREATE INDEX IF NOT EXISTS agent_tool_calls_call ON agent_tool_calls (call_id)",
        NULL,
};

/* Where each agent turn's time went: ms after the caller's end of speech
 * at which the STT final, the model's first token, the first synthesised
 * audio and the first packet on the wire came (agent_turn's "stages"). */
static const char *const v5[] = {
        "ALTER TABLE agent_turns ADD COLUMN stt_final_ms BIGINT",
        "ALTER TABLE agent_turns ADD COLUMN llm_first_token_ms BIGINT",
        "ALTER TABLE agent_turns ADD COLUMN tts_first_audio_ms BIGINT",
        "ALTER TABLE agent_turns ADD COLUMN first_packet_ms BIGINT",
        NULL,
};

/* The call's context (room.h's variables: SIP X- headers, Twilio
 * parameters, metadata, a pre-call tool's answer) as JSON text, written
 * when the call ends. */
static const char *const v6[] = {
        "ALTER TABLE calls ADD COLUMN variables TEXT",
        NULL,
};

/* LiveKit's SIP trunks and dispatch rules (livekit/sip_trunks.c): one row
 * per object, its LiveKit JSON in body; kind is inbound, outbound or rule. */
static const char *const v7[] = {
        "CREATE TABLE IF NOT EXISTS sip_objects ("
        " id TEXT PRIMARY KEY, kind TEXT NOT NULL, body TEXT NOT NULL,"
        " created BIGINT NOT NULL, updated BIGINT NOT NULL)",
        NULL,
};

/* Each call's analysis (analysis/) as JSON text, and its disposition and
 * overall sentiment apart for /api/calls to filter on. */
static const char *const v8[] = {
        "ALTER TABLE calls ADD COLUMN analysis TEXT",
        "ALTER TABLE calls ADD COLUMN disposition TEXT",
        "ALTER TABLE calls ADD COLUMN sentiment TEXT",
        NULL,
};

static const sb_store_migration migrations[] = {
        {1, v1}, {2, v2}, {3, v3}, {4, v4}, {5, v5}, {6, v6}, {7, v7}, {8, v8},
};

const sb_store_migration *sb_store_migrations(size_t *count)
{
	*count = G_N_ELEMENTS(migrations);
	return migrations;
}
