// [recording] configuration in a real Janus: enabled = true records a room
// by itself from its first participant; closing the room finalises the
// file and its store row; a room stopped by request is not restarted; a
// recordings directory that cannot be created turns recording off with a
// clear start-up error while calls go on.
import { test, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startJanus, adminRequest } from '../lib/janus.mjs';
import { openNotifications, rest } from '../lib/notifications.mjs';
import { pluginConfigWithStore } from '../lib/store.mjs';
import { TonePeer, streamPeers, toneShareInBlocks, parseOggOpus, decodeOpus, download, callOf, finishedRecordings } from '../lib/recording.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const dir = mkdtempSync(join(tmpdir(), 'sb-rec-conf-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// The plugin config with a store in dir and [recording] items replaced.
function config(items) {
	let conf = pluginConfigWithStore(join(dir, `calls-${Date.now()}.db`));
	const section = conf.match(/^recording: \{[\s\S]*?^\}/m);
	if (!section) throw new Error('no recording section in the config');
	let text = section[0];
	for (const [k, v] of Object.entries(items)) {
		const re = new RegExp(`^\\t#?${k} = .*$`, 'm');
		if (!re.test(text)) throw new Error(`no ${k} in [recording]`);
		text = text.replace(re, `\t${k} = ${v}`);
	}
	return conf.replace(section[0], text);
}

test('enabled = true: a room records by itself; closing it finalises file and row', { timeout: 90000 }, async () => {
	// Each test has its own Janus: stopped in finally, before the next one
	// needs the ports.
	const janus = await startJanus({ pluginConfig: config({ enabled: 'true', tracks: 'true' }) });
	const peer = new TonePeer(440);
	const peers = [peer];
	let stop, notes;
	try {
		notes = await openNotifications();
		const room = `auto-${process.pid}`;
		await adminRequest({ request: 'create', room, sampling_rate: 16000, ephemeral: false });
		// Nobody there yet: nothing is recorded.
		await sleep(300);
		assert.equal((await rest('GET', `/rooms/${room}`)).json.recording, false);
		await peer.open();
		await peer.join(room, 'caller');
		stop = streamPeers([peer]);
		const started = await notes.until('recording_started', () => notes.events.find((e) => e.type === 'recording_started' && e.room === room && e.kind === 'mix'), 5000);
		assert.equal(started.format, 'ogg');
		const info = (await rest('GET', `/rooms/${room}`)).json;
		assert.equal(info.recording.active, true);
		assert.equal(info.recording.tracks, true);
		assert.equal(info.num_participants, 1);
		await sleep(2500);
		assert.equal((await rest('DELETE', `/rooms/${room}`)).status, 200);
		const ev = await notes.until('recording_stopped', () => notes.events.find((e) => e.type === 'recording_stopped' && e.id === started.id), 10000);
		assert.equal(ev.reason, 'room_closed');
		assert.ok(ev.bytes > 0 && ev.seconds >= 2, JSON.stringify(ev));
		const track = await notes.until('the track stopped', () => notes.events.find((e) => e.type === 'recording_stopped' && e.recording === started.id && e.kind === 'track'), 10000);
		assert.equal(track.participant_id, peer.id);

		const callId = await callOf(room);
		const rows = await finishedRecordings(callId, 2);
		const row = rows.find((r) => r.id === started.id);
		assert.equal(row.bytes, ev.bytes);
		assert.ok(row.ended >= row.started);
		const res = await download(`/api/calls/${callId}/recording`);
		assert.equal(res.status, 200);
		assert.equal(res.type, 'audio/ogg');
		parseOggOpus(res.body);
		const wav = decodeOpus(dir, 'auto', res.body, 16000);
		const mid = wav.pcm.subarray(8000, wav.pcm.length - 8000);
		const b = toneShareInBlocks(mid, 440, 16000); // see there: a stalled sender shifts the phase
		assert.ok(b.median > 0.8, `440 Hz: ${JSON.stringify(b)}`);

		// Stopped by request: later joins do not start it again.
		const room2 = `auto2-${process.pid}`;
		await adminRequest({ request: 'create', room: room2, sampling_rate: 16000, ephemeral: false });
		const peer2 = new TonePeer(1000);
		peers.push(peer2);
		await peer2.open();
		await peer2.join(room2, 'one');
		await notes.until('room2 recording', () => notes.events.find((e) => e.type === 'recording_started' && e.room === room2), 5000);
		assert.equal((await rest('POST', `/rooms/${room2}/recording`, { action: 'stop' })).status, 200);
		const peer3 = new TonePeer(700);
		peers.push(peer3);
		await peer3.open();
		await peer3.join(room2, 'two');
		await sleep(500);
		assert.equal((await rest('GET', `/rooms/${room2}`)).json.recording, false);
		assert.equal(notes.events.filter((e) => e.type === 'recording_started' && e.room === room2 && e.kind === 'mix').length, 1);
	} finally {
		if (stop) await stop();
		for (const p of peers) if (p.sock) p.close();
		notes?.close();
		await janus.stop();
	}
});

test('a recordings directory that cannot be created: clear start-up error, calls go on', { timeout: 60000 }, async () => {
	const file = join(dir, 'not-a-directory');
	writeFileSync(file, 'x');
	const janus = await startJanus({ pluginConfig: config({ dir: `"${file}/recordings"` }) });
	try {
		assert.match(janus.output(), /recording is OFF: cannot create the recordings directory .*not-a-directory\/recordings/);
		const room = `off-${process.pid}`;
		const created = await rest('POST', '/room/create', { roomName: room });
		assert.equal(created.status, 201, JSON.stringify(created.json));
		const r = await rest('POST', `/rooms/${room}/recording`, { action: 'start' });
		assert.equal(r.status, 503);
		assert.equal(r.json.error.code, 'recording_off');
		assert.equal((await rest('GET', `/rooms/${room}`)).json.recording, false);
	} finally {
		await janus.stop();
	}
});

test('max_seconds stops a recording by itself', { timeout: 60000 }, async () => {
	const janus = await startJanus({ pluginConfig: config({ max_seconds: '1', format: '"wav"' }) });
	const peer = new TonePeer(440);
	let stop, notes;
	try {
		notes = await openNotifications();
		const room = `max-${process.pid}`;
		const made = await adminRequest({ request: 'create', room, sampling_rate: 16000, ephemeral: false });
		assert.equal(made.switchboard, 'created', JSON.stringify(made));
		await peer.open();
		await peer.join(room, 'caller');
		stop = streamPeers([peer]);
		const r = await rest('POST', `/rooms/${room}/recording`, { action: 'start' });
		assert.equal(r.status, 201);
		assert.equal(r.json.recording.format, 'wav');
		const ev = await notes.until('recording_stopped', () => notes.events.find((e) => e.type === 'recording_stopped' && e.id === r.json.recording.id), 10000);
		assert.equal(ev.reason, 'max_seconds');
		assert.equal(ev.seconds, 1);
		assert.equal(ev.bytes, 44 + 16000 * 2);
		assert.equal((await rest('GET', `/rooms/${room}`)).json.recording, false);
		// A new recording may start right away.
		const again = await rest('POST', `/rooms/${room}/recording`, { action: 'start' });
		assert.equal(again.status, 201);
	} finally {
		if (stop) await stop();
		peer.sock && peer.close();
		notes?.close();
		await janus.stop();
	}
});
