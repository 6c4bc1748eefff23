// Switchboard's own events as webhooks ([webhooks]): a call with the AI
// agent — the room made, the agent on, a phone caller asking a question,
// the call recorded, the room closed — reaches a receiver that is down
// when it starts, every event in order once it is back, each one signed as
// LiveKit signs its webhooks (an HS256 JWT in Authorization whose sha256
// claim is the body's hash, checked here with node:crypto as a receiver
// would; a tampered body or another secret is refused).  Per-word events (transcript lines,
// agent states) are not sent unless asked for.  A secret too short to sign
// with turns the webhooks off with a clear log line, and nothing else.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { adminRequest, startJanus, API_URL, API_KEY, repoRoot } from '../lib/janus.mjs';
import { phoneCaller, speech8k } from '../lib/phone-caller.mjs';

const SECRET = 'events-secret-abcdefghijklmnop-0123';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let janus, port, dir, server = null;
const received = []; // {ev, raw, auth, headers} or {error, raw}

// What a receiver does: the JWT's HS256 signature by the secret, its
// issuer and times, and the body's SHA-256 in its sha256 claim.
function verify(raw, authorization, secret = SECRET) {
	const [h, c, sig] = String(authorization).split('.');
	const mac = createHmac('sha256', secret).update(`${h}.${c}`).digest();
	const given = Buffer.from(sig || '', 'base64url');
	if (given.length !== mac.length || !timingSafeEqual(given, mac)) throw new Error('bad signature');
	if (JSON.parse(Buffer.from(h, 'base64url')).alg !== 'HS256') throw new Error('not HS256');
	const claims = JSON.parse(Buffer.from(c, 'base64url'));
	const now = Date.now() / 1000;
	if (claims.iss !== 'switchboard' || !(claims.exp > now) || claims.nbf > now + 60) throw new Error('bad claims');
	if (claims.sha256 !== createHash('sha256').update(raw).digest('base64')) throw new Error('sha256 mismatch');
	return claims;
}

function listen() {
	server = createServer((req, res) => {
		const chunks = [];
		req.on('data', (c) => chunks.push(c));
		req.on('end', async () => {
			const raw = Buffer.concat(chunks).toString('utf8');
			try {
				verify(raw, req.headers.authorization);
				received.push({ ev: JSON.parse(raw), raw, auth: req.headers.authorization, headers: req.headers });
				res.writeHead(200).end();
			} catch (e) {
				received.push({ error: e.message, raw });
				res.writeHead(401).end();
			}
		});
	});
	return new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
}

const config = (secret) => readFileSync(join(repoRoot, 'conf', 'janus.plugin.switchboard.jcfg'), 'utf8')
	.replace('auto_join = ["phone", "whatsapp"]', 'auto_join = []') +
	`\nwebhooks: {\n\turls = ["http://127.0.0.1:${port}/events", "file:///etc/passwd"]\n\tsecret = "${secret}"\n}\n`;

before(async () => {
	const probe = createServer();
	await new Promise((r) => probe.listen(0, '127.0.0.1', r));
	port = probe.address().port; // nobody listens there yet
	await new Promise((r) => probe.close(r));
	dir = mkdtempSync(join(tmpdir(), 'sb-webhooks-'));
	janus = await startJanus({ pluginConfig: config('env:SB_TEST_EVENTS_SECRET'), env: { SB_TEST_EVENTS_SECRET: SECRET } });
}, { timeout: 60000 });
after(async () => {
	if (server) {
		server.closeAllConnections();
		await new Promise((r) => server.close(r));
	}
	if (janus) await janus.stop();
	if (dir) rmSync(dir, { recursive: true, force: true });
}, { timeout: 30000 });

async function metric(name) {
	const text = await (await fetch(`${API_URL}/metrics`, { headers: { authorization: `Bearer ${API_KEY}` }, signal: AbortSignal.timeout(5000) })).text();
	const m = text.match(new RegExp(`^${name} (\\d+)`, 'm'));
	assert.ok(m, `${name} in /metrics`);
	return Number(m[1]);
}

async function until(what, fn, ms) {
	const end = Date.now() + ms;
	for (;;) {
		const v = fn();
		if (v) return v;
		if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(received.map((r) => r.ev?.type || r.error))}`);
		await sleep(100);
	}
}

test('a call\'s events reach a receiver that was down, in order, signed; per-word events are not sent', { timeout: 120000 }, async () => {
	const room = `hooks-${Math.random().toString(36).slice(2, 8)}`;
	const ofRoom = () => received.filter((r) => r.ev?.room === room);
	const question = speech8k(dir, 'hours', 'What are your opening hours?');
	assert.equal((await adminRequest({ request: 'create', room })).switchboard, 'created');
	assert.equal((await adminRequest({ request: 'agent', room, enable: true })).switchboard, 'agent');
	const caller = await phoneCaller(room);
	try {
		await sleep(1500); // the first attempts fail: nobody listens
		assert.equal(received.length, 0);
		assert.ok(await metric('switchboard_webhook_failures_total') >= 1, 'failed attempts counted');
		assert.ok(await metric('switchboard_webhooks_waiting') >= 1, 'events wait for the receiver');
		await listen();
		// The agent's greeting ends its first turn; then the question.
		await until('the caller and the agent in the room', () => ofRoom().filter((r) => r.ev.type === 'participant_joined').length === 2, 30000);
		await sleep(3000);
		assert.equal((await adminRequest({ request: 'start_recording', room })).switchboard, 'success');
		const from = Date.now();
		await caller.say(question);
		const turn = await until('the answer', () => ofRoom().find((r) => r.ev.type === 'agent_turn' && r.ev.timestamp >= from), 30000);
		assert.match(turn.ev.agent_text, /monday|friday|open/i, turn.ev.agent_text);
		assert.equal((await adminRequest({ request: 'stop_recording', room })).switchboard, 'success');
	} finally {
		caller.stop();
	}
	assert.equal((await adminRequest({ request: 'destroy', room })).switchboard, 'destroyed');
	await until('room_closed', () => ofRoom().find((r) => r.ev.type === 'room_closed'), 20000);

	assert.deepEqual(received.filter((r) => r.error), [], 'every body verified');
	const mine = ofRoom();
	const types = mine.map((r) => r.ev.type);
	assert.equal(types[0], 'room_created', types.join());
	assert.equal(types.at(-1), 'room_closed', types.join());
	for (const t of ['agent_toggled', 'participant_joined', 'recording_started', 'agent_turn', 'recording_stopped', 'participant_left'])
		assert.ok(types.includes(t), `${t} in ${types.join()}`);
	assert.ok(types.indexOf('recording_started') < types.indexOf('recording_stopped'));
	for (const t of ['transcript', 'agent_state', 'agent_speech'])
		assert.ok(!types.includes(t), `${t} is not sent unless asked for`);
	// In order: one queue per URL, each event sent after the one before.
	for (let i = 1; i < mine.length; i++) assert.ok(mine[i].ev.timestamp >= mine[i - 1].ev.timestamp, `order at ${i}: ${types.join()}`);
	assert.equal(new Set(mine.map((r) => r.ev.id)).size, mine.length, 'an id each');
	for (const r of mine) {
		assert.match(r.ev.id, /^EV_[0-9a-f]{12}$/);
		assert.equal(r.headers['content-type'], 'application/json');
		assert.equal(r.headers['user-agent'], 'Switchboard');
		const claims = JSON.parse(Buffer.from(r.auth.split('.')[1], 'base64url'));
		assert.equal(claims.iss, 'switchboard');
		assert.ok(claims.exp - claims.nbf === 300);
	}
	// The signature covers the body, and only the secret makes it.
	const raw = mine[0].raw;
	assert.throws(() => verify(raw.replace(room, 'another-room'), mine[0].auth), /sha256/);
	assert.throws(() => verify(raw, mine[0].auth, 'another-secret-0123456789abcdef'), /signature/);
	assert.equal(await metric('switchboard_webhooks_waiting'), 0);
	assert.equal(await metric('switchboard_webhooks_dropped_total'), 0);
	assert.ok(await metric('switchboard_webhooks_sent_total') >= mine.length);
});

test('a secret too short to sign with: the webhooks are off, said in the log, and the rest runs', { timeout: 60000 }, async () => {
	await janus.stop();
	janus = null;
	janus = await startJanus({ pluginConfig: config('short') });
	assert.match(janus.output(), /\[webhooks\] urls are set but secret is too short: it signs every event, so it needs 16 characters or more/);
	assert.match(janus.output(), /webhooks did not start: that part is OFF/);
	const text = await (await fetch(`${API_URL}/metrics`, { headers: { authorization: `Bearer ${API_KEY}` }, signal: AbortSignal.timeout(5000) })).text();
	assert.doesNotMatch(text, /switchboard_webhooks_sent_total/, 'no webhook metrics: nothing runs');
	assert.equal((await adminRequest({ request: 'create', room: 'after-bad-config' })).switchboard, 'created');
});
