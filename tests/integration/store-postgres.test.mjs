// Call records on a real PostgreSQL server (Debian's postgresql, started
// here on a private port and data directory): the store unit suite on
// PostgreSQL; Janus started while the database is down records its calls
// once it is up; PostgreSQL killed in the middle of a call and restarted
// loses no record; the analysed calls' sentiment over time in analytics
// (the score read from the analysis's JSON by PostgreSQL's own functions).
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openNotifications, rest } from '../lib/notifications.mjs';
import { startJanus, adminRequest } from '../lib/janus.mjs';
import { builtProgram } from '../lib/programs.mjs';
import { track } from '../lib/resources.mjs';
import { mulawEncode, rtpPacket } from '../lib/audio.mjs';
import { startPostgres } from '../lib/postgres.mjs';
import { pluginConfigWithStore, endedCall } from '../lib/store.mjs';
import { phoneCaller, speech8k } from '../lib/phone-caller.mjs';

let pg, janus, notes;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

before(async () => { pg = await startPostgres(); }, { timeout: 90000 });
after(async () => {
	notes?.close();
	if (janus) await janus.stop();
	if (pg) await pg.destroy();
});

test('the store unit suite passes on PostgreSQL', { timeout: 180000 }, () => {
	const bin = builtProgram(join('tests', 'unit', 'test_store'));
	// execFileSync blocks the event loop, and with it the test's timeout.
	const out = execFileSync(bin, [], { env: { ...process.env, SB_TEST_PG_CONNINFO: pg.conninfo }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120000 });
	for (const name of ['migrations', 'records', 'recordings', 'injection']) assert.match(out, new RegExp(`^ok \\d+ /store/postgresql/${name}$`, 'm'), out);
	assert.doesNotMatch(out, /^not ok/m);
});

// A plain RTP caller sending silence until stopped.
async function rtpCaller(room, display) {
	const sock = dgram.createSocket('udp4');
	let timer;
	const stop = () => { untrack(); clearInterval(timer); try { sock.close(); } catch { /* closed */ } };
	const untrack = track(`RTP caller ${display}`, stop);
	await new Promise((r) => sock.bind(0, '127.0.0.1', r));
	const joined = await adminRequest({ request: 'rtp_join', room, ip: '127.0.0.1', port: sock.address().port, codec: 'pcmu', display });
	assert.ok(joined.port, JSON.stringify(joined));
	let seq = 0;
	timer = setInterval(() => {
		sock.send(rtpPacket({ pt: 0, seq: seq++, ts: seq * 160, ssrc: 7, payload: new Uint8Array(160).fill(mulawEncode(0)) }), joined.port, joined.ip);
	}, 20);
	return { id: joined.id, stop };
}

async function metric(name) {
	const m = (await rest('GET', '/metrics')).text;
	const line = m.split('\n').find((l) => l.startsWith(`${name} `));
	return line ? Number(line.split(' ')[1]) : NaN;
}

async function waitFor(what, pred, timeoutMs = 20000) {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const v = await pred();
		if (v) return v;
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await sleep(200);
	}
}

test('started while PostgreSQL is down: calls go on, records catch up', { timeout: 60000 }, async () => {
	await pg.stop();
	janus = await startJanus({ pluginConfig: pluginConfigWithStore(pg.conninfo) });
	notes = await openNotifications();
	const room = `pg-down-${process.pid}`;
	assert.equal((await rest('POST', '/room/create', { roomName: room })).status, 201);
	const a = await rtpCaller(room, 'Early caller');
	try {
		await sleep(300);
	} finally {
		a.stop();
	}
	await adminRequest({ request: 'destroy', room });
	assert.equal(await metric('switchboard_store_connected'), 0);
	assert.ok(await metric('switchboard_store_queue_depth') > 0);
	const down = await rest('GET', '/api/calls');
	assert.equal(down.status, 503, down.text);
	await pg.start();
	const call = await endedCall(room, 20000);
	assert.equal(call.outcome, 'abandoned');
	assert.equal(call.participants[0].display, 'Early caller');
	await waitFor('the queue to drain', async () => (await metric('switchboard_store_queue_depth')) === 0);
	assert.equal(await metric('switchboard_store_dropped_total'), 0);
});

test('PostgreSQL killed mid-call and restarted: no record lost', { timeout: 90000 }, async () => {
	const room = `pg-kill-${process.pid}`;
	assert.equal((await rest('POST', '/room/create', { roomName: room, agent: true })).status, 201);
	const caller = await rtpCaller(room, 'Caller');
	let second;
	try {
		await killed(room, caller, (c) => { second = c; });
	} finally {
		caller.stop();
		second?.stop();
	}
});

async function killed(room, caller, secondCaller) {
	const { events, until } = notes;
	const inRoom = (e) => e.room === room;
	await until('the greeting', () => events.find((e) => inRoom(e) && e.type === 'transcript' && e.final), 30000);
	await waitFor('the greeting written', async () => (await metric('switchboard_store_queue_depth')) === 0);

	await pg.kill();
	// While the database is away: a line from the agent, a second caller
	// who comes and goes, the end of the call.
	const said = 'The database is away but this line is kept.';
	assert.equal((await adminRequest({ request: 'say', room, text: said })).switchboard, 'success');
	await until('the line said', () => events.find((e) => inRoom(e) && e.type === 'transcript' && e.final && e.text === said), 30000);
	const second = await rtpCaller(room, 'Second caller');
	secondCaller(second);
	await sleep(300);
	second.stop();
	await adminRequest({ request: 'kick', room, id: second.id });
	caller.stop();
	await adminRequest({ request: 'destroy', room });
	await until('the room closed', () => events.find((e) => inRoom(e) && e.type === 'room_closed'), 10000);
	assert.ok(await metric('switchboard_store_queue_depth') > 0, 'records wait while the database is away');

	await pg.start();
	const call = await endedCall(room, 30000);
	await waitFor('the queue to drain', async () => (await metric('switchboard_store_queue_depth')) === 0);
	assert.equal(call.outcome, 'ai_handled');
	assert.equal(call.interface, 'rtp');
	const joined = events.filter((e) => inRoom(e) && e.type === 'participant_joined');
	assert.equal(call.participants.length, joined.length, JSON.stringify(call.participants));
	assert.deepEqual(call.participants.map((p) => p.display).sort(), joined.map((e) => e.participant.display).sort());
	assert.ok(call.participants.every((p) => p.left_at), 'every departure recorded');
	const finals = events.filter((e) => inRoom(e) && e.type === 'transcript' && e.final).map((e) => e.text);
	assert.deepEqual(call.transcript.map((l) => l.text), finals);
	assert.ok(finals.includes(said));
	assert.equal(await metric('switchboard_store_dropped_total'), 0);
	assert.equal(await metric('switchboard_store_failed_total'), 0);
	// The rows are in PostgreSQL itself.
	assert.equal(pg.psql(`SELECT outcome FROM calls WHERE room = '${room}'`), 'ai_handled');
}

// What /api/analytics' sentiment should say of these calls (their
// analyses), bucketed by bucketMs on their start; rounded as the C side
// rounds, half away from zero.
function expectedSentiment(calls, bucketMs) {
	const round = (x) => (Math.sign(x) * Math.round(Math.abs(x) * 100)) / 100 + 0;
	const avg = (xs) => round(xs.reduce((a, b) => a + b, 0) / xs.length);
	const per = new Map();
	for (const c of calls) {
		const start = Math.floor(c.started / bucketMs) * bucketMs;
		const b = per.get(start) || { start, calls: 0, positive: 0, neutral: 0, negative: 0, scores: [] };
		b.calls++;
		b[c.analysis.sentiment.overall]++;
		b.scores.push(c.analysis.sentiment.score);
		per.set(start, b);
	}
	const buckets = [...per.values()].sort((a, b) => a.start - b.start).map(({ scores, ...b }) => ({ ...b, avg_score: avg(scores) }));
	const sum = (k) => buckets.reduce((n, b) => n + b[k], 0);
	return { calls: sum('calls'), positive: sum('positive'), neutral: sum('neutral'), negative: sum('negative'), avg_score: avg(calls.map((c) => c.analysis.sentiment.score)), per_bucket: buckets };
}

test('analytics on PostgreSQL: the analysed calls\' sentiment per hour or day, the score read from the analysis', { timeout: 90000 }, async () => {
	const dir = mkdtempSync(join(tmpdir(), 'sb-pg-sentiment-'));
	try {
		// A phone caller who complains ("broken", the lexicon's): a score that is not 0.
		const room = `pg-sentiment-${process.pid}`;
		assert.equal((await adminRequest({ request: 'create', room })).switchboard, 'created');
		assert.equal((await adminRequest({ request: 'agent', room, enable: true })).switchboard, 'agent');
		const caller = await phoneCaller(room);
		try {
			const inRoom = (e) => e.room === room;
			await notes.until('the greeting to end', () => notes.events.find((e) => inRoom(e) && e.type === 'agent_state' && e.state === 'listening'), 30000);
			const from = Date.now();
			await caller.say(speech8k(dir, 'broken', 'My product is broken.'));
			await notes.until('the answer', () => notes.events.find((e) => inRoom(e) && e.type === 'agent_turn' && e.timestamp >= from), 30000);
		} finally {
			caller.stop();
		}
		assert.equal((await adminRequest({ request: 'destroy', room })).switchboard, 'destroyed');
		const rooms = [`pg-down-${process.pid}`, `pg-kill-${process.pid}`, room];
		const calls = await waitFor('the analyses', async () => {
			const all = await Promise.all(rooms.map((r) => endedCall(r)));
			return all.every((c) => c.analysis) && all;
		});
		const spoken = calls[2].analysis.sentiment;
		assert.ok(spoken.score < 0 && spoken.overall === 'negative', JSON.stringify(spoken));
		assert.equal(pg.psql(`SELECT sentiment FROM calls WHERE room = '${room}'`), 'negative');

		const { bucket, bucket_ms, ...s } = (await rest('GET', '/api/analytics?range=1d')).json.sentiment;
		assert.deepEqual([bucket, bucket_ms], ['hour', 3600000]);
		assert.deepEqual(s, expectedSentiment(calls, 3600000));
		assert.equal(s.calls, 3);
		const { bucket: b, bucket_ms: ms, ...d } = (await rest('GET', '/api/analytics?range=30d')).json.sentiment;
		assert.deepEqual([b, ms], ['day', 86400000]);
		assert.deepEqual(d, expectedSentiment(calls, 86400000));
		const bad = await rest('GET', '/api/analytics?range=1w');
		assert.equal(bad.status, 400);
		assert.match(bad.json.error.message, /range must be 1d, 7d, 30d or 90d/);
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
});
