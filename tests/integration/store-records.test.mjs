// Call records on SQLite: a browser call answered by the AI agent and a
// phone (plain RTP) call nobody answers each leave a correct record and
// transcript; analytics match the calls made; every read parameter is
// checked (400) and bound (SQL injection finds and changes nothing); CSV
// export, /metrics and the admin route; the analysed calls' sentiment over
// time in analytics.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openNotifications, rest } from '../lib/notifications.mjs';
import { launchChromium } from '../lib/browser.mjs';
import { startJanus, adminRequest, API_URL, HTTP_URL } from '../lib/janus.mjs';
import { mulawEncode, rtpPacket } from '../lib/audio.mjs';
import { pluginConfigWithStore, speechWav, endedCall } from '../lib/store.mjs';
import { phoneCaller, speech8k } from '../lib/phone-caller.mjs';

let janus, dir, notes, browser;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const agentRoom = `store-agent-${process.pid}`;
const phoneRoom = `store-phone-${process.pid}`;
// The REST-only tests take well under a second.
const T = { timeout: 30000 };

before(async () => {
	dir = mkdtempSync(join(tmpdir(), 'sb-store-'));
	janus = await startJanus({ pluginConfig: pluginConfigWithStore(join(dir, 'state', 'calls.db')) });
	notes = await openNotifications();
}, { timeout: 60000 });
after(async () => {
	notes?.close();
	await browser?.close().catch(() => {});
	if (janus) await janus.stop();
	if (dir) rmSync(dir, { recursive: true, force: true });
});

test('a browser call answered by the AI agent leaves its record and transcript', { timeout: 150000 }, async () => {
	const { events, until } = notes;
	const created = await rest('POST', '/room/create', { roomName: agentRoom, agent: true });
	assert.equal(created.status, 201, JSON.stringify(created.json));
	const wav = speechWav(dir, 'hours', [9, 'What are your opening hours?', 25], 48000);
	browser = await launchChromium(wav);
	const page = await (await browser.newContext({ permissions: ['microphone', 'camera'] })).newPage();
	await page.goto(`${API_URL}/?janus=${encodeURIComponent(HTTP_URL)}&video=off`);
	await page.fill('#room', agentRoom);
	await page.fill('#display', 'Caller');
	await page.click('#join');
	const inRoom = (e) => e.room === agentRoom;
	const turn = await until('the agent_turn', () => events.find((e) => inRoom(e) && e.type === 'agent_turn' && /opening hours/i.test(e.user_text || '')), 60000);
	assert.equal(turn.llm, 'local');
	assert.equal(turn.interrupted, false);
	assert.ok(Number.isInteger(turn.latency_ms) && turn.latency_ms > 0, JSON.stringify(turn));
	await page.click('#leave');
	await until('the agent leaving', () => events.find((e) => inRoom(e) && e.type === 'participant_left' && e.participant.kind === 'agent'), 15000);
	// The room may already be gone (closed with its last human).
	assert.ok([200, 204, 404].includes((await rest('DELETE', `/rooms/${agentRoom}`)).status));
	await browser.close();
	browser = null;

	const call = await endedCall(agentRoom);
	assert.equal(call.interface, 'web');
	assert.equal(call.outcome, 'ai_handled');
	assert.equal(call.ai_handled, 1);
	assert.ok(call.answered >= call.started && call.ended >= call.answered, JSON.stringify(call));
	assert.ok(call.duration_ms > 5000, `duration ${call.duration_ms}`);
	const kinds = call.participants.map((p) => p.kind).sort();
	assert.deepEqual(kinds, ['agent', 'web']);
	const caller = call.participants.find((p) => p.kind === 'web');
	assert.equal(caller.display, 'Caller');
	assert.ok(caller.left_at >= caller.joined);
	const lines = call.transcript.map((l) => `${l.speaker}: ${l.text}`);
	assert.ok(call.transcript.some((l) => l.speaker === 'Caller' && /opening hours/i.test(l.text)), lines.join('\n'));
	assert.ok(call.transcript.some((l) => l.speaker !== 'Caller' && /Monday to Friday/.test(l.text)), lines.join('\n'));
	const t = call.agent_turns.find((x) => /opening hours/i.test(x.user_text));
	assert.ok(t, JSON.stringify(call.agent_turns));
	assert.equal(t.latency_ms, turn.latency_ms);
	assert.match(t.agent_text, /Monday to Friday/);
});

test('a phone call nobody answers is recorded as abandoned', { timeout: 30000 }, async () => {
	assert.equal((await rest('POST', '/room/create', { roomName: phoneRoom })).status, 201);
	const sock = dgram.createSocket('udp4');
	try {
		await new Promise((r) => sock.bind(0, '127.0.0.1', r));
		const joined = await adminRequest({ request: 'rtp_join', room: phoneRoom, ip: '127.0.0.1', port: sock.address().port, codec: 'pcmu', display: 'Phone caller' });
		for (let i = 0; i < 50; i++) {
			sock.send(rtpPacket({ pt: 0, seq: i, ts: i * 160, ssrc: 99, payload: new Uint8Array(160).fill(mulawEncode(0)) }), joined.port, joined.ip);
			await sleep(20);
		}
	} finally {
		sock.close();
	}
	await adminRequest({ request: 'destroy', room: phoneRoom });
	const call = await endedCall(phoneRoom);
	assert.equal(call.outcome, 'abandoned');
	assert.equal(call.interface, 'rtp');
	assert.equal(call.answered, null);
	assert.equal(call.participants.length, 1);
	assert.equal(call.participants[0].display, 'Phone caller');
	assert.equal(call.participants[0].reason, 'room_closed');
});

test('analytics match the calls made', T, async () => {
	const r = await rest('GET', '/api/analytics?range=1d');
	assert.equal(r.status, 200, r.text);
	const a = r.json;
	assert.equal(a.range, '1d');
	assert.equal(a.totals.calls, 2);
	assert.equal(a.totals.ai_handled, 1);
	assert.equal(a.totals.abandoned, 1);
	assert.deepEqual(a.by_interface.map((x) => [x.interface, x.calls]), [['rtp', 1], ['web', 1]]);
	assert.equal(a.per_day.reduce((s, d) => s + d.calls, 0), 2);
	assert.equal(a.per_hour.reduce((s, d) => s + d.calls, 0), 2);
	assert.ok(a.agent.turns >= 1);
	assert.ok(a.agent.latency_ms.p50 > 0);
	assert.equal(a.transfers.total, 0);
	for (const range of ['7d', '30d', '90d']) assert.equal((await rest('GET', `/api/analytics?range=${range}`)).json.totals.calls, 2);
});

test('filters, paging and export', T, async () => {
	const web = await rest('GET', '/api/calls?interface=web');
	assert.equal(web.json.total, 1);
	assert.equal(web.json.calls[0].room, agentRoom);
	assert.equal((await rest('GET', '/api/calls?outcome=abandoned')).json.calls[0].room, phoneRoom);
	assert.equal((await rest('GET', '/api/calls?agent=AI%20Agent')).json.total, 1);
	const today = new Date().toISOString().slice(0, 10);
	assert.equal((await rest('GET', `/api/calls?from=${today}`)).json.total, 2);
	assert.equal((await rest('GET', `/api/calls?to=${today}`)).json.total, 0);
	const paged = await rest('GET', '/api/calls?limit=1&page=2');
	assert.equal(paged.json.calls.length, 1);
	assert.equal(paged.json.total, 2);
	const huge = await rest('GET', '/api/calls?limit=100000');
	assert.equal(huge.status, 200);
	assert.equal(huge.json.limit, 200, 'page sizes are capped');
	const csv = await rest('GET', '/api/calls?format=csv');
	assert.equal(csv.status, 200);
	const rows = csv.text.trim().split('\r\n');
	assert.equal(rows[0].split(',')[0], 'id');
	assert.equal(rows.length, 3);
	const history = await rest('GET', '/api/transfers/history?limit=5');
	assert.deepEqual(history.json, { transfers: [] });
	assert.equal((await rest('GET', '/api/calls/no-such-call')).status, 404);
	const noKey = await fetch(`${API_URL}/api/calls`);
	assert.equal(noKey.status, 401);
});

test('bad filters are refused with 400', T, async () => {
	const bad = ['interface=WEB', 'interface=', 'from=yesterday', 'to=2024-13-45', 'from=2025-02-01&to=2025-01-01',
		'outcome=won', 'page=0', 'page=-1', 'page=1.5', 'limit=0', 'limit=abc', 'format=xml', `agent=${'a'.repeat(200)}`,
		'agent=%01'];
	for (const q of bad) {
		const r = await rest('GET', `/api/calls?${q}`);
		assert.equal(r.status, 400, `${q}: ${r.text}`);
		assert.ok(r.json.error.message, q);
	}
	for (const q of ['range=2d', 'range=', 'range=1d;DROP']) assert.equal((await rest('GET', `/api/analytics?${q}`)).status, 400, q);
	for (const q of ['limit=x', 'agent_id=', 'format=pdf']) assert.equal((await rest('GET', `/api/transfers/history?${q}`)).status, 400, q);
});

test('SQL injection in every parameter finds and changes nothing', T, async () => {
	const attacks = ["' OR 1=1 --", "x'; DROP TABLE calls; --", '" OR ""="', "1) UNION SELECT * FROM participants --", '%', '_'];
	for (const a of attacks) {
		const e = encodeURIComponent(a);
		for (const p of ['interface', 'from', 'to', 'outcome', 'page', 'limit', 'format']) {
			const r = await rest('GET', `/api/calls?${p}=${e}`);
			assert.equal(r.status, 400, `${p}=${a}: ${r.status}`);
		}
		for (const p of ['agent', 'q']) {
			const r = await rest('GET', `/api/calls?${p}=${e}`);
			assert.equal(r.status, 200, `${p}=${a}: ${r.text}`);
			assert.equal(r.json.total, 0, `${p}=${a}`);
		}
		assert.equal((await rest('GET', `/api/calls/${e}`)).status, 404);
		assert.equal((await rest('GET', `/api/calls/${e}/recording`)).status, 404);
		assert.equal((await rest('GET', `/api/analytics?range=${e}`)).status, 400);
		const h = await rest('GET', `/api/transfers/history?agent_id=${e}`);
		assert.equal(h.status, 200);
		assert.deepEqual(h.json.transfers, []);
		assert.equal((await rest('GET', `/api/transfers/history?limit=${e}`)).status, 400);
	}
	assert.equal((await rest('GET', '/api/calls')).json.total, 2, 'nothing was changed');
});

test('metrics and the admin route', T, async () => {
	const m = (await rest('GET', '/metrics')).text;
	assert.match(m, /switchboard_calls_total\{interface="web",outcome="ai_handled"\} 1/);
	assert.match(m, /switchboard_calls_total\{interface="rtp",outcome="abandoned"\} 1/);
	assert.match(m, /switchboard_agent_turn_latency_ms_count [1-9]/);
	assert.match(m, /switchboard_store_queue_depth 0/);
	assert.match(m, /switchboard_store_dropped_total 0/);
	const list = await rest('POST', '/api/admin', { request: 'list' });
	assert.equal(list.status, 200, list.text);
	assert.ok(Array.isArray(list.json.list));
	assert.equal((await rest('POST', '/api/admin', { request: 'destroy', room: 'no-such-room' })).status, 404);
	assert.equal((await rest('POST', '/api/admin', {})).status, 400);
	// Plugin-wide stats: the core's counters and each module's.
	const stats = await adminRequest({ request: 'stats' });
	assert.ok(stats.agents.turns >= 1, JSON.stringify(stats.agents));
	assert.equal(stats.store.on, true);
	assert.equal(stats.store.connected, true);
	assert.equal(stats.store.dropped, 0);
	assert.ok(stats.store.written > 0);
	assert.equal(stats.recordings.active, 0);
	assert.equal(stats.transfers.active, 0);
	assert.equal(typeof stats.sip.invites, 'number');
	assert.deepEqual((await rest('POST', '/api/admin', { request: 'stats' })).json.store.on, true);
	// Reload the knowledge base without a restart: Admin API and REST.
	const viaAdmin = await adminRequest({ request: 'reload_kb' });
	assert.equal(viaAdmin.switchboard, 'success', JSON.stringify(viaAdmin));
	assert.ok(viaAdmin.intents > 0 && viaAdmin.faqs > 0);
	const viaRest = await rest('POST', '/api/admin', { request: 'reload_kb' });
	assert.equal(viaRest.status, 200, viaRest.text);
	assert.equal(viaRest.json.knowledge_base, viaAdmin.knowledge_base);
});

// The calls' records once their analyses are in (they come after the end).
async function analysed(rooms) {
	const deadline = Date.now() + 15000;
	for (;;) {
		const calls = await Promise.all(rooms.map((room) => endedCall(room)));
		if (calls.every((c) => c.analysis)) return calls;
		if (Date.now() > deadline) throw new Error(`not analysed: ${calls.filter((c) => !c.analysis).map((c) => c.room)}`);
		await sleep(200);
	}
}

// What /api/analytics' sentiment should say of these calls, bucketed by
// bucketMs on their start.
function expectedSentiment(calls, bucketMs) {
	// As the C side rounds: half away from zero.
	const round = (x) => (Math.sign(x) * Math.round(Math.abs(x) * 100)) / 100 + 0;
	const per = new Map();
	for (const c of calls) {
		const start = Math.floor(c.started / bucketMs) * bucketMs;
		const b = per.get(start) || { start, calls: 0, positive: 0, neutral: 0, negative: 0, scores: [] };
		b.calls++;
		b[c.analysis.sentiment.overall]++;
		b.scores.push(c.analysis.sentiment.score);
		per.set(start, b);
	}
	const avg = (xs) => round(xs.reduce((a, b) => a + b, 0) / xs.length);
	const buckets = [...per.values()].sort((a, b) => a.start - b.start).map(({ scores, ...b }) => ({ ...b, avg_score: avg(scores) }));
	const sum = (k) => buckets.reduce((n, b) => n + b[k], 0);
	return { calls: sum('calls'), positive: sum('positive'), neutral: sum('neutral'), negative: sum('negative'), avg_score: avg(calls.map((c) => c.analysis.sentiment.score)), per_bucket: buckets };
}

test('analytics: the analysed calls\' sentiment per hour (today) or day, counted by label and the score averaged', { timeout: 90000 }, async () => {
	// A phone caller who complains ("broken", the lexicon's): a score that is not 0.
	const room = `store-sentiment-${process.pid}`;
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
	const calls = await analysed([agentRoom, phoneRoom, room]);
	const spoken = calls[2].analysis.sentiment;
	assert.ok(spoken.score < 0 && spoken.overall === 'negative', JSON.stringify(spoken));

	const day = await rest('GET', '/api/analytics?range=1d');
	assert.equal(day.status, 200, day.text);
	const { bucket, bucket_ms, ...s } = day.json.sentiment;
	assert.equal(bucket, 'hour');
	assert.equal(bucket_ms, 3600000);
	assert.deepEqual(s, expectedSentiment(calls, 3600000));
	assert.equal(s.calls, 3);
	for (const range of ['7d', '30d', '90d']) {
		const { bucket: b, bucket_ms: ms, ...d } = (await rest('GET', `/api/analytics?range=${range}`)).json.sentiment;
		assert.deepEqual([b, ms], ['day', 86400000], range);
		assert.deepEqual(d, expectedSentiment(calls, 86400000), range);
	}
	// An unknown range keeps its clear error.
	const bad = await rest('GET', '/api/analytics?range=1w');
	assert.equal(bad.status, 400);
	assert.match(bad.json.error.message, /range must be 1d, 7d, 30d or 90d/);
});
