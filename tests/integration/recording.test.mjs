// Recordings in a real Janus: two plain RTP participants send 440 Hz and
// 1000 Hz; a recording started and stopped over REST holds both tones in
// its mix (WAV and Opus-in-Ogg, the latter decoded by opusdec) and each
// track holds only its own; the recorder is never a participant; the store
// keeps a row per file and /api/calls/{id}/recording streams them (with
// byte ranges); bad input gets a clear error and changes nothing.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startJanus, adminRequest, JanusHandle } from '../lib/janus.mjs';
import { openNotifications, rest } from '../lib/notifications.mjs';
import { pluginConfigWithStore } from '../lib/store.mjs';
import { TonePeer, streamPeers, toneShare, toneShareInBlocks, parseWav, parseOggOpus, decodeOpus, download, callOf, finishedRecordings } from '../lib/recording.mjs';

let janus, dir, notes;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const room = `rec-${process.pid}`;
const peers = [new TonePeer(440), new TonePeer(1000)];
let stopStream;

before(async () => {
	dir = mkdtempSync(join(tmpdir(), 'sb-rec-'));
	janus = await startJanus({ pluginConfig: pluginConfigWithStore(join(dir, 'calls.db')) });
	notes = await openNotifications();
	await adminRequest({ request: 'create', room, sampling_rate: 16000, ephemeral: false, secret: 'room-secret' });
	for (const [i, p] of peers.entries()) {
		await p.open();
		await p.join(room, `tone-${i}`);
	}
	stopStream = streamPeers(peers);
}, { timeout: 60000 });
after(async () => {
	if (stopStream) await stopStream();
	for (const p of peers) p.sock && p.close();
	notes?.close();
	if (janus) await janus.stop();
	if (dir) rmSync(dir, { recursive: true, force: true });
});

// The recording_stopped events of one recording (mix and tracks).
async function stopped(recordingId, count) {
	return notes.until(`${count} recording_stopped of ${recordingId}`, () => {
		const evs = notes.events.filter((e) => e.type === 'recording_stopped' && e.recording === recordingId);
		return evs.length >= count ? evs : null;
	}, 10000);
}

// The middle of a recording (skips the first and last half second).
const middle = (pcm, rate) => pcm.subarray(Math.floor(rate / 2), pcm.length - Math.floor(rate / 2));

// How long a recording may last, in seconds, from when its start was sent
// (t0) and answered (t1) and its stop sent (t2) and answered (t3): at least
// t2 - t1, less half a second (the mixer may run late on a loaded machine),
// at most t3 - t0 plus a quarter of a second (frames in progress).
const span = (t0, t1, t2, t3) => ({ least: (t2 - t1) / 1000 - 0.5, most: (t3 - t0) / 1000 + 0.25 });
const within = (seconds, { least, most }) => seconds >= least && seconds <= most;

test('WAV with tracks: the mix holds both tones, each track only its own', { timeout: 60000 }, async () => {
	await sleep(1000); // both voices flowing
	const t0 = performance.now();
	const start = await rest('POST', `/rooms/${room}/recording`, { action: 'start', format: 'wav', tracks: true });
	const t1 = performance.now();
	assert.equal(start.status, 201, JSON.stringify(start.json));
	const rec = start.json.recording;
	assert.equal(rec.format, 'wav');
	assert.equal(rec.tracks, true);
	assert.match(rec.path, /\.wav$/);

	// The room says it is recording; the recorder is no participant.
	const info = await rest('GET', `/rooms/${room}`);
	assert.equal(info.status, 200);
	assert.equal(info.json.recording.active, true, JSON.stringify(info.json));
	assert.equal(info.json.recording.id, rec.id);
	assert.equal(info.json.num_participants, 2);
	assert.deepEqual(info.json.participants.map((p) => p.id).sort(), peers.map((p) => p.id).sort());
	const sessions = await rest('GET', '/sessions');
	const inRoom = JSON.stringify(sessions.json).match(new RegExp(`"room":"${room}"`, 'g')) || [];
	assert.equal(inRoom.length, 2, JSON.stringify(sessions.json));
	assert.ok(!notes.events.some((e) => e.type === 'participant_joined' && e.room === room && e.participant.kind === 'agent'));

	await sleep(3000);
	const t2 = performance.now();
	const stop = await rest('POST', `/rooms/${room}/recording`, { action: 'stop' });
	const t3 = performance.now();
	const length = span(t0, t1, t2, t3);
	assert.equal(stop.status, 200, JSON.stringify(stop.json));
	assert.equal(stop.json.recording.id, rec.id);
	const evs = await stopped(rec.id, 3);
	const mixEv = evs.find((e) => e.kind === 'mix');
	assert.equal(mixEv.id, rec.id);
	assert.equal(mixEv.path, rec.path);
	assert.ok(within(mixEv.seconds, length), `${JSON.stringify(mixEv)}; expected ${JSON.stringify(length)}`);
	assert.ok(mixEv.bytes > 44 + length.least * 32000, JSON.stringify(mixEv));
	const after = await rest('GET', `/rooms/${room}`);
	assert.equal(after.json.recording, false);
	// Every event of the recording names its room, file, format, size and length.
	const started = notes.events.filter((e) => e.type === 'recording_started' && e.recording === rec.id);
	assert.equal(started.length, 3);
	assert.deepEqual(started.map((e) => e.participant_id).filter(Boolean).sort(), peers.map((p) => p.id).sort());
	for (const e of evs) for (const k of ['room', 'id', 'format', 'path', 'bytes', 'seconds']) assert.ok(e[k] !== undefined, `${k} in ${JSON.stringify(e)}`);

	const callId = await callOf(room);
	const rows = await finishedRecordings(callId, 3);
	assert.deepEqual(rows.map((r) => r.kind).sort(), ['mix', 'track', 'track']);
	assert.equal(rows.find((r) => r.kind === 'mix').bytes, mixEv.bytes);

	const mix = await download(`/api/calls/${callId}/recording`);
	assert.equal(mix.status, 200);
	assert.equal(mix.type, 'audio/wav');
	assert.equal(Number(mix.headers.get('content-length')), mix.body.length);
	assert.equal(mix.body.length, mixEv.bytes);
	const wav = parseWav(mix.body);
	assert.deepEqual([wav.format, wav.channels, wav.rate, wav.bits], [1, 1, 16000, 16]);
	assert.equal(wav.dataBytes, mix.body.length - 44); // header fixed up at stop
	assert.equal(wav.riffSize, mix.body.length - 8);
	const seconds = wav.pcm.length / 16000;
	assert.ok(within(seconds, length), `${seconds} s; expected ${JSON.stringify(length)}`);
	const m = middle(wav.pcm, 16000);
	// Present: in most quarter seconds (see toneShareInBlocks); absent: over
	// the whole middle.
	for (const f of [440, 1000]) {
		const b = toneShareInBlocks(m, f, 16000);
		assert.ok(b.median > 0.2, `${f} Hz in the mix: ${JSON.stringify(b)}`);
	}
	assert.ok(toneShare(m, 700, 16000) < 0.01);

	for (const [i, p] of peers.entries()) {
		const own = peers[i].freq, other = peers[1 - i].freq;
		const t = await download(`/api/calls/${callId}/recording?track=${p.id}`);
		assert.equal(t.status, 200);
		assert.equal(t.type, 'audio/wav');
		const tw = parseWav(t.body);
		// Tracks line up with the mix: as long as it, give or take a frame or two.
		assert.ok(Math.abs(tw.pcm.length - wav.pcm.length) <= 2 * 320, `${tw.pcm.length} vs ${wav.pcm.length}`);
		const tm = middle(tw.pcm, 16000);
		const b = toneShareInBlocks(tm, own, 16000);
		assert.ok(b.median > 0.5, `${own} Hz in its track: ${JSON.stringify(b)}`);
		assert.ok(toneShare(tm, other, 16000) < 0.01, `${other} Hz in the ${own} Hz track: ${toneShare(tm, other, 16000)}`);
	}

	// Byte ranges (an <audio> element seeks with them).
	const part = await download(`/api/calls/${callId}/recording`, { authorization: `Bearer ${process.env.SWITCHBOARD_API_KEY || 'test-api-key-0123456789'}`, range: 'bytes=0-43' });
	assert.equal(part.status, 206);
	assert.equal(part.body.length, 44);
	assert.equal(part.headers.get('content-range'), `bytes 0-43/${mix.body.length}`);
	assert.deepEqual(part.body, mix.body.subarray(0, 44));
});

test('Opus in Ogg through the Admin API: valid pages and OpusHead, opusdec hears both tones', { timeout: 60000 }, async () => {
	const t0 = performance.now();
	const start = await adminRequest({ request: 'start_recording', room, format: 'ogg' });
	const t1 = performance.now();
	assert.equal(start.switchboard, 'success', JSON.stringify(start));
	const rec = start.recording;
	assert.match(rec.path, /\.ogg$/);
	assert.equal(rec.tracks, false);
	await sleep(3000);
	const t2 = performance.now();
	const stop = await adminRequest({ request: 'stop_recording', room });
	const length = span(t0, t1, t2, performance.now());
	assert.equal(stop.switchboard, 'success', JSON.stringify(stop));
	const [ev] = await stopped(rec.id, 1);
	assert.equal(ev.format, 'ogg');

	const callId = await callOf(room);
	const rows = await finishedRecordings(callId, 4);
	assert.equal(rows.filter((r) => r.kind === 'mix').length, 2);
	// The newest mix is the default download.
	const res = await download(`/api/calls/${callId}/recording`);
	assert.equal(res.status, 200);
	assert.equal(res.type, 'audio/ogg');
	assert.equal(res.body.length, ev.bytes);
	const ogg = parseOggOpus(res.body);
	assert.equal(ogg.head.version, 1);
	assert.equal(ogg.head.channels, 1);
	assert.equal(ogg.head.rate, 16000);
	assert.equal(ogg.head.family, 0);
	assert.ok(ogg.head.preskip > 0);
	// Granules count 48 kHz samples after the pre-skip: 960 per 20 ms.
	const audioSeconds = Number(ogg.lastGranule - BigInt(ogg.head.preskip)) / 48000;
	assert.ok(Math.abs(audioSeconds - ev.seconds) < 0.05, `${audioSeconds} vs ${ev.seconds}`);
	assert.ok(within(audioSeconds, length), `${audioSeconds} s; expected ${JSON.stringify(length)}`);
	for (let i = 3; i < ogg.pages.length; i++) assert.ok(ogg.pages[i].granule >= ogg.pages[i - 1].granule);

	const wav = decodeOpus(dir, 'mix', res.body, 16000);
	const seconds = wav.pcm.length / 16000;
	assert.ok(Math.abs(seconds - audioSeconds) < 0.1, `decoded ${seconds} s`);
	const m = middle(wav.pcm, 16000);
	for (const f of [440, 1000]) {
		const b = toneShareInBlocks(m, f, 16000);
		assert.ok(b.median > 0.2, `${f} Hz: ${JSON.stringify(b)}`);
	}
	// No tracks were asked for: none to download.
	const t = await download(`/api/calls/${callId}/recording?track=${peers[0].id}`);
	assert.equal(t.status, 200); // the WAV track of the first recording
	assert.equal(t.type, 'audio/wav');
});

test('room secret: the Janus API needs it to start or stop a recording', { timeout: 30000 }, async () => {
	const h = await JanusHandle.attach();
	try {
		const denied = await h.request({ request: 'start_recording', room });
		assert.equal(denied.error_code, 488, JSON.stringify(denied));
		assert.equal((await rest('GET', `/rooms/${room}`)).json.recording, false);
		const ok = await h.request({ request: 'start_recording', room, secret: 'room-secret', format: 'wav' });
		assert.equal(ok.switchboard, 'success', JSON.stringify(ok));
		const deniedStop = await h.request({ request: 'stop_recording', room, secret: 'wrong' });
		assert.equal(deniedStop.error_code, 488);
		assert.equal((await rest('GET', `/rooms/${room}`)).json.recording.active, true);
		const stop = await h.request({ request: 'stop_recording', room, secret: 'room-secret' });
		assert.equal(stop.switchboard, 'success', JSON.stringify(stop));
		await stopped(ok.recording.id, 1);
	} finally {
		await h.destroy();
	}
});

test('bad input: clear errors, nothing changes', { timeout: 30000 }, async () => {
	const unknown = await rest('POST', '/rooms/no-such-room-xyz/recording', { action: 'start' });
	assert.equal(unknown.status, 404, JSON.stringify(unknown.json));
	const badAction = await rest('POST', `/rooms/${room}/recording`, { action: 'pause' });
	assert.equal(badAction.status, 400);
	assert.match(badAction.json.error.message, /action/);
	const badFormat = await rest('POST', `/rooms/${room}/recording`, { action: 'start', format: 'mp3' });
	assert.equal(badFormat.status, 400, JSON.stringify(badFormat.json));
	assert.match(badFormat.json.error.message, /format/);
	const badTracks = await rest('POST', `/rooms/${room}/recording`, { action: 'start', tracks: 'yes' });
	assert.equal(badTracks.status, 400, JSON.stringify(badTracks.json));
	assert.equal((await rest('GET', `/rooms/${room}`)).json.recording, false);
	const notRecording = await rest('POST', `/rooms/${room}/recording`, { action: 'stop' });
	assert.equal(notRecording.status, 409);
	assert.equal(notRecording.json.error.code, 'not_recording');

	const first = await rest('POST', `/rooms/${room}/recording`, { action: 'start' });
	assert.equal(first.status, 201);
	const twice = await rest('POST', `/rooms/${room}/recording`, { action: 'start' });
	assert.equal(twice.status, 409);
	assert.equal(twice.json.error.code, 'already_recording');
	assert.match(twice.json.error.message, /already being recorded/);
	assert.equal((await rest('GET', `/rooms/${room}`)).json.recording.id, first.json.recording.id);
	assert.equal(first.json.recording.format, 'ogg'); // the configured default
	const stop = await rest('POST', `/rooms/${room}/recording`, { action: 'stop' });
	assert.equal(stop.status, 200);
	await stopped(first.json.recording.id, 1);

	const callId = await callOf(room);
	assert.equal((await download(`/api/calls/00000000-0000-4000-8000-000000000000/recording`)).status, 404);
	assert.equal((await rest('GET', '/api/calls/00000000-0000-4000-8000-000000000000/recordings')).status, 404);
	assert.equal((await download(`/api/calls/${callId}/recording`, {})).status, 401);
	assert.equal((await download(`/api/calls/${callId}/recordings`, {})).status, 401);
	const noKey = await fetch(`${(await import('../lib/janus.mjs')).API_URL}/rooms/${room}/recording`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"action":"start"}' });
	assert.equal(noKey.status, 401);
	for (const track of ['../../etc/passwd', '..%2F..%2Fetc%2Fpasswd', '%2Fetc%2Fpasswd', '0', '-1', '999999999', '1e3']) {
		const r = await download(`/api/calls/${callId}/recording?track=${track}`);
		assert.equal(r.status, 404, `track=${track}: ${r.status}`);
		assert.ok(!r.body.toString().includes('root:'), track);
	}
	assert.equal((await rest('GET', `/rooms/${room}`)).json.recording, false);
});

test('metrics count recordings, bytes and drops', { timeout: 30000 }, async () => {
	const m = await rest('GET', '/metrics');
	const value = (name) => Number((m.text.match(new RegExp(`^${name} (\\d+)$`, 'm')) || [])[1]);
	assert.equal(value('switchboard_recordings_active'), 0);
	assert.ok(value('switchboard_recordings_started_total') >= 4);
	assert.ok(value('switchboard_recording_bytes_total') > 100000);
	assert.equal(value('switchboard_recording_frames_dropped_total'), 0);
});

test('closing the room stops its recording and finalises the file', { timeout: 30000 }, async () => {
	const start = await rest('POST', `/rooms/${room}/recording`, { action: 'start', format: 'wav' });
	assert.equal(start.status, 201);
	await sleep(1500);
	const del = await rest('DELETE', `/rooms/${room}`);
	assert.equal(del.status, 200);
	const [ev] = await stopped(start.json.recording.id, 1);
	assert.equal(ev.reason, 'room_closed');
	const callId = await callOf(room);
	const rows = await finishedRecordings(callId, 6);
	const row = rows.find((r) => r.id === start.json.recording.id);
	assert.equal(row.bytes, ev.bytes);
	const wav = parseWav((await download(`/api/calls/${callId}/recording`)).body);
	assert.equal(wav.dataBytes, ev.bytes - 44);
});

test('the recorder is no participant: it brings no agent and keeps no room open', { timeout: 30000 }, async () => {
	// A room that wants the agent: the agent comes for humans, not for the recorder.
	const agentRoom = `rec-agent-${process.pid}`;
	assert.equal((await adminRequest({ request: 'create', room: agentRoom, sampling_rate: 16000, ephemeral: false, agent: true })).switchboard, 'created');
	const r = await rest('POST', `/rooms/${agentRoom}/recording`, { action: 'start' });
	assert.equal(r.status, 201);
	await sleep(1500);
	const info = (await rest('GET', `/rooms/${agentRoom}`)).json;
	assert.equal(info.recording.active, true);
	assert.equal(info.num_participants, 0);
	assert.deepEqual(info.participants, []);
	assert.ok(!notes.events.some((e) => e.room === agentRoom && e.type === 'participant_joined'), 'nobody joined');
	assert.equal((await rest('DELETE', `/rooms/${agentRoom}`)).status, 200);
	await stopped(r.json.recording.id, 1);

	// An ephemeral room closes when its last participant goes, recording or not.
	const eph = `rec-eph-${process.pid}`;
	assert.equal((await adminRequest({ request: 'create', room: eph, sampling_rate: 16000, ephemeral: true })).switchboard, 'created');
	const peer = new TonePeer(500);
	try {
		await peer.open();
		await peer.join(eph, 'only');
		const s = await rest('POST', `/rooms/${eph}/recording`, { action: 'start', tracks: true });
		assert.equal(s.status, 201);
		await sleep(500);
		assert.equal((await adminRequest({ request: 'kick', room: eph, id: peer.id })).switchboard, 'success');
		const [ev] = await stopped(s.json.recording.id, 1);
		assert.equal(ev.reason, 'room_closed');
		assert.equal((await rest('GET', `/rooms/${eph}`)).status, 404);
		assert.ok(notes.events.some((e) => e.type === 'room_closed' && e.room === eph));
	} finally {
		peer.close();
	}
});
