// Webhooks in LiveKit's format, taken by the official livekit-server-sdk's
// WebhookReceiver: a room made with RoomServiceClient, a participant who
// joins through the Janus API with an AccessToken but never sends media, a
// phone leg whose media flows, the room deleted — the receiver gets
// room_started, participant_joined, track_published, participant_left and
// room_finished, in order, each one verified (JWT by the key's secret,
// sha256 of the exact body).  As in LiveKit, participant_joined waits for
// the participant to be ACTIVE: the one whose media never came up is in
// neither participant_joined nor participant_left.  A receiver that is down
// when they happen gets all of them, in order, when it is back; one that
// answers 500 gets the event again; a tampered body is refused by the SDK.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AccessToken, RoomServiceClient, WebhookReceiver } from 'livekit-server-sdk';
import { startJanus, JanusHandle, API_URL, API_KEY, repoRoot } from '../lib/janus.mjs';
import { phoneCaller } from '../lib/phone-caller.mjs';

const KEY = 'APIhookKey1';
const SECRET = 'hook-secret-abcdefghijklmnopqrstuvwxyz012345';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let janus, port;
let server = null;
const received = []; // {event, room, participant, raw, auth, headers}
let failNext = 0; // answer 500 to this many requests
const handles = [];

// The receiver: every body goes through WebhookReceiver.receive as a back
// end does it; only what it accepts is kept.
function listen() {
	const receiver = new WebhookReceiver(KEY, SECRET);
	server = createServer((req, res) => {
		const chunks = [];
		req.on('data', (c) => chunks.push(c));
		req.on('end', async () => {
			const raw = Buffer.concat(chunks).toString('utf8');
			if (failNext > 0) {
				failNext--;
				res.writeHead(500).end();
				return;
			}
			try {
				const ev = await receiver.receive(raw, req.headers.authorization);
				received.push({ ev, raw, auth: req.headers.authorization, headers: req.headers });
				res.writeHead(200).end();
			} catch (e) {
				received.push({ error: e.message, raw });
				res.writeHead(401).end();
			}
		});
	});
	return new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
}
async function close() {
	if (!server) return;
	server.closeAllConnections();
	await new Promise((r) => server.close(r));
	server = null;
}

before(async () => {
	// A port for the receiver, which is not listening yet.
	const probe = createServer();
	await new Promise((r) => probe.listen(0, '127.0.0.1', r));
	port = probe.address().port;
	await new Promise((r) => probe.close(r));
	const conf = readFileSync(join(repoRoot, 'conf', 'janus.plugin.switchboard.jcfg'), 'utf8')
		.replace('auto_join = ["phone", "whatsapp"]', 'auto_join = []') +
		`\nlivekit: {\n\tkeys: {\n\t\t${KEY} = "${SECRET}"\n\t}\n\twebhook_urls = ["http://127.0.0.1:${port}/hooks", "ftp://nowhere"]\n}\n`;
	janus = await startJanus({ pluginConfig: conf });
}, { timeout: 60000 });
after(async () => {
	for (const h of handles) await h.destroy().catch(() => {});
	await close();
	if (janus) await janus.stop();
}, { timeout: 30000 });

const unique = (p) => `${p}-${Math.random().toString(36).slice(2, 8)}`;
const ofRoom = (room) => received.filter((r) => r.ev?.room?.name === room);

async function until(what, fn, ms) {
	const end = Date.now() + ms;
	for (;;) {
		const v = fn();
		if (v) return v;
		if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(received.map((r) => r.ev?.event || r.error))}`);
		await sleep(100);
	}
}

async function roomLife(room) {
	const rooms = new RoomServiceClient(API_URL, KEY, SECRET);
	const made = await rooms.createRoom({ name: room });
	const at = new AccessToken(KEY, SECRET, { identity: 'alice', name: 'Alice' });
	at.addGrant({ roomJoin: true, room });
	const h = await JanusHandle.attach();
	handles.push(h);
	assert.equal((await h.requestAsync({ request: 'join', room, token: await at.toJwt() })).data.switchboard, 'joined');
	const phone = await phoneCaller(room, 'Bob');
	try {
		// Active once its first packets are in: listed so.
		const end = Date.now() + 10000;
		while (!(await rooms.listParticipants(room)).some((p) => p.name === 'Bob' && p.state === 2 /* ACTIVE */)) {
			if (Date.now() > end) throw new Error('the phone leg never became ACTIVE');
			await sleep(100);
		}
	} finally {
		phone.stop();
	}
	await rooms.deleteRoom(room);
	return made;
}

test('a receiver that is down gets every event, verified and in order, when it is back', { timeout: 60000 }, async () => {
	const room = unique('lk-hook');
	const made = await roomLife(room);
	await sleep(1500); // the first attempts fail: nobody listens
	assert.equal(ofRoom(room).length, 0);
	const failures = await metric('switchboard_livekit_webhook_failures_total');
	assert.ok(failures >= 1, `failed attempts counted: ${failures}`);
	await listen();
	// Backoff doubles from 1 s: the next attempt is at most a few seconds away.
	await until('room_finished', () => ofRoom(room).find((r) => r.ev.event === 'room_finished'), 20000);
	const mine = ofRoom(room);
	assert.deepEqual(mine.map((r) => r.ev.event),
		['room_started', 'participant_joined', 'track_published', 'participant_left', 'room_finished']);
	assert.equal(received.filter((r) => r.error).length, 0, JSON.stringify(received.filter((r) => r.error)));
	const [started, joined, published, left] = mine.map((r) => r.ev);
	assert.equal(started.room.sid, made.sid);
	assert.equal(mine[4].ev.room.sid, made.sid, 'room_finished names the same room');
	assert.equal(joined.participant.name, 'Bob', 'the phone leg, not alice: her media never came up');
	assert.equal(joined.participant.state, 2, 'ACTIVE when announced, as LiveKit sends it');
	assert.equal(left.participant.identity, joined.participant.identity);
	assert.equal(published.participant.identity, joined.participant.identity);
	assert.equal(published.participant.name, '', 'track_published names the participant by sid and identity only');
	assert.equal(published.track.mimeType, 'audio/PCMU');
	for (const r of mine) {
		assert.match(r.ev.id, /^EV_/);
		assert.ok(r.ev.createdAt > 1700000000n);
		assert.equal(r.headers['content-type'], 'application/webhook+json');
		assert.equal(r.headers['user-agent'], 'LiveKit');
		assert.doesNotMatch(r.auth, /^Bearer /);
		// camelCase proto3 JSON, zero values left out, as LiveKit sends it.
		const body = JSON.parse(r.raw);
		assert.ok(!('num_participants' in (body.room || {})));
		if (body.participant?.joinedAt) assert.equal(typeof body.participant.joinedAt, 'string', 'int64 as a string');
	}
	assert.equal(JSON.parse(mine[1].raw).participant.kind, undefined, 'an rtp_join leg is STANDARD, the zero value');
	// A tampered body is refused by the SDK: the signature covers it.
	const receiver = new WebhookReceiver(KEY, SECRET);
	await assert.rejects(receiver.receive(mine[0].raw.replace(room, 'lk-other'), mine[0].auth), /sha256/);
	await assert.rejects(new WebhookReceiver(KEY, 'another-secret').receive(mine[0].raw, mine[0].auth));
});

test('a receiver that answers 500 gets the same event again, and the order holds', { timeout: 60000 }, async () => {
	if (!server) await listen();
	failNext = 2;
	const room = unique('lk-hook500');
	await roomLife(room);
	await until('room_finished', () => ofRoom(room).find((r) => r.ev.event === 'room_finished'), 20000);
	assert.equal(failNext, 0, 'the 500s were answered');
	assert.deepEqual(ofRoom(room).map((r) => r.ev.event),
		['room_started', 'participant_joined', 'track_published', 'participant_left', 'room_finished']);
	assert.equal(await metric('switchboard_livekit_webhooks_waiting'), 0);
	assert.ok(await metric('switchboard_livekit_webhooks_sent_total') >= 10);
	assert.equal(await metric('switchboard_livekit_webhooks_dropped_total'), 0);
});

async function metric(name) {
	const text = await (await fetch(`${API_URL}/metrics`, { headers: { authorization: `Bearer ${API_KEY}` }, signal: AbortSignal.timeout(5000) })).text();
	const m = text.match(new RegExp(`^${name} (\\d+)`, 'm'));
	assert.ok(m, `${name} in /metrics`);
	return Number(m[1]);
}
