// Twilio Media Streams against a real private Janus: a WebSocket client
// (Node `ws`) replays Twilio's documented message sequence with μ-law
// espeak-ng speech; it must get the agent's audio, marks after what the
// agent said, and `clear` when it talks over the agent (barge-in).  Bad
// input: unsigned handshake, binary frames, media before start, bad base64.
import { test, before, after, afterEach } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startJanus, adminRequest, API_PORT, API_URL, API_KEY } from '../lib/janus.mjs';
import { openNotifications, rest } from '../lib/notifications.mjs';
import { mulawDecode } from '../lib/audio.mjs';
import { postWebhook, twilioPluginConfig, twilioSignature, socketOf, socketAt, voiceSocket, AUTH_TOKEN, PUBLIC_URL, ACCOUNT_SID } from '../lib/twilio.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let janus, notes, workDir, speech;
// The short tests take a second or two; the barge-in call has its own.
const T = { timeout: 30000 };

before(async () => {
	workDir = mkdtempSync(join(tmpdir(), 'sb-twilio-ms-'));
	const wav = join(workDir, 'stop.wav');
	execFileSync('espeak-ng', ['-v', 'en-us', '-s', '150', '-w', wav, 'Wait, wait, stop please, I have a question about my order.'], { timeout: 60000 });
	const ul = join(workDir, 'stop.ul');
	execFileSync('sox', [wav, '-r', '8000', '-c', '1', '-e', 'mu-law', '-t', 'raw', ul], { timeout: 60000 });
	speech = readFileSync(ul);
	janus = await startJanus({ pluginConfig: twilioPluginConfig() });
	notes = await openNotifications();
}, { timeout: 90000 });
after(async () => {
	notes?.close();
	if (janus) await janus.stop();
});

const callSid = () => `CA${crypto.randomBytes(16).toString('hex')}`;
const refusedCount = async (reason) => {
	const text = await (await fetch(`${API_URL}/metrics`, { headers: { authorization: `Bearer ${API_KEY}` } })).text();
	const m = new RegExp(`^switchboard_twilio_refused_total\\{reason="${reason}"\\} (\\d+)$`, 'm').exec(text);
	assert.ok(m, `no switchboard_twilio_refused_total{reason="${reason}"}`);
	return Number(m[1]);
};
const energy = (buf) => { let s = 0; for (const b of buf) { const v = mulawDecode(b); s += v * v; } return Math.sqrt(s / buf.length); };

// A Twilio-like Media Streams client: keeps what the server sends. The
// clients a test opened are terminated after it, whatever happened.
const streams = new Set();
afterEach(() => {
	for (const ws of streams) ws.terminate();
	streams.clear();
}, { timeout: 10000 });
// sock: the socket of a call's TwiML (socketOf/voiceSocket); headers
// replace its signature.
async function openStream(sock, headers = sock.headers) {
	const ws = new WebSocket(sock.local, { headers });
	streams.add(ws);
	const got = { media: [], marks: [], clears: [], other: [], closed: null };
	ws.on('message', (d, isBinary) => {
		if (isBinary) return got.other.push({ binary: true });
		const m = JSON.parse(d.toString());
		if (m.event === 'media') got.media.push({ payload: Buffer.from(m.media.payload, 'base64'), at: Date.now(), streamSid: m.streamSid });
		else if (m.event === 'mark') got.marks.push(m);
		else if (m.event === 'clear') got.clears.push({ ...m, at: Date.now() });
		else got.other.push(m);
	});
	const closed = new Promise((resolve) => ws.on('close', (code, reason) => { got.closed = { code, reason: reason.toString() }; resolve(got.closed); }));
	await new Promise((resolve, reject) => { ws.on('open', resolve); ws.on('error', reject); ws.on('unexpected-response', (req, res) => reject(new Error(`HTTP ${res.statusCode}`))); });
	return { ws, got, closed, send: (m) => ws.send(typeof m === 'string' ? m : JSON.stringify(m)) };
}

async function until(what, pred, ms = 15000) {
	const deadline = Date.now() + ms;
	for (;;) {
		const v = pred();
		if (v) return v;
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await sleep(20);
	}
}

// params: the TwiML's <Parameter>s, which Twilio hands back as customParameters.
function startMessages(sid, streamSid, params) {
	return [
		{ event: 'connected', protocol: 'Call', version: '1.0.0' },
		{ event: 'start', sequenceNumber: '1', streamSid, start: { accountSid: ACCOUNT_SID, streamSid, callSid: sid, tracks: ['inbound'], customParameters: { ...params, caller: 'test' }, mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 } } },
	];
}

// Paces 20 ms μ-law frames like Twilio does; `source()` gives the next 160 bytes.
function pump(stream, streamSid, source) {
	let seq = 2, chunk = 1;
	const t0 = Date.now();
	const timer = setInterval(() => {
		if (stream.ws.readyState !== WebSocket.OPEN) return clearInterval(timer);
		const payload = source();
		stream.send({ event: 'media', sequenceNumber: String(seq++), streamSid, media: { track: 'inbound', chunk: String(chunk++), timestamp: String(Date.now() - t0), payload: payload.toString('base64') } });
	}, 20);
	return () => clearInterval(timer);
}

test('a Media Streams call hears the agent, gets marks, and a clear on barge-in', { timeout: 90000 }, async () => {
	const sid = callSid();
	const room = `twilio-${sid}`;
	const sock = await voiceSocket(sid);
	assert.equal(sock.params.room, room);
	assert.match(sock.url, /^wss:\/\/switchboard\.test\/twilio\/stream\/\d+\.[0-9a-f]{32}$/);
	const streamSid = `MZ${crypto.randomBytes(16).toString('hex')}`;
	const s = await openStream(sock);
	for (const m of startMessages(sid, streamSid, sock.params)) s.send(m);
	let talk = null, pos = 0;
	const silence = Buffer.alloc(160, 0xff);
	const stop = pump(s, streamSid, () => {
		if (!talk) return silence;
		const f = Buffer.alloc(160, 0xff);
		talk.copy(f, 0, pos, Math.min(pos + 160, talk.length));
		pos += 160;
		if (pos >= talk.length) talk = null;
		return f;
	});
	try {
		// The caller is a phone participant with its Twilio identifiers.
		await notes.until('participant joined', () => notes.events.find((e) => e.type === 'participant_joined' && e.room === room), 10000);
		const list = (await rest('GET', '/sessions/type/phone')).json.sessions;
		const me = list.find((x) => x.room === room);
		assert.ok(me?.info, JSON.stringify(list));
		assert.equal(me.kind, 'twilio');
		assert.equal(me.info.call_sid, sid);
		assert.equal(me.info.stream_sid, streamSid);
		assert.equal(me.info.from, '+14155550123');
		assert.equal(me.info.custom_parameters.caller, 'test');
		// The grant is for Twilio to hand back, not for readers of sessions.
		assert.equal(me.info.custom_parameters.room_grant, undefined);
		// The agent joins by itself (auto_join phone) and greets: speech arrives.
		await until('agent speech', () => s.got.media.some((m) => energy(m.payload) > 500), 30000);
		assert.ok(s.got.media.every((m) => m.streamSid === streamSid && m.payload.length === 160));
		// After the greeting: a mark, which we echo as Twilio does once played.
		const mark = await until('mark', () => s.got.marks[0], 30000);
		assert.match(mark.mark.name, /^agent-\d+$/);
		assert.equal(mark.streamSid, streamSid);
		s.send({ event: 'mark', sequenceNumber: '9999', streamSid, mark: { name: mark.mark.name } });
		// A key press on the phone.
		s.send({ event: 'dtmf', streamSid, sequenceNumber: '9998', dtmf: { track: 'inbound_track', digit: '7' } });
		const dtmf = await notes.until('dtmf', () => notes.events.find((e) => e.type === 'dtmf' && e.call_sid === sid), 5000);
		assert.equal(dtmf.digit, '7');
		assert.equal(dtmf.room, room);
		// The agent talks at length; the caller talks over it: clear.
		await adminRequest({ request: 'say', room, text: 'Let me tell you everything about our company, our history, our products, our opening hours, our return policy and our shipping options, in great detail, one after the other.' });
		const before = s.got.media.length;
		await until('agent speaking again', () => s.got.media.slice(before).some((m) => energy(m.payload) > 500), 20000);
		talk = speech;
		pos = 0;
		const clear = await until('clear', () => s.got.clears[0], 20000);
		assert.equal(clear.streamSid, streamSid);
		await notes.until('interrupted', () => notes.events.find((e) => e.type === 'agent_action' && e.room === room && e.action === 'interrupted'), 5000);
		// Clean end: stop → the socket closes normally and the caller leaves.
		s.send({ event: 'stop', sequenceNumber: '10000', streamSid, stop: { accountSid: ACCOUNT_SID, callSid: sid } });
		const closed = await s.closed;
		assert.equal(closed.code, 1000);
		await notes.until('participant left', () => notes.events.find((e) => e.type === 'participant_left' && e.room === room), 10000);
		const after = (await rest('GET', '/sessions/type/phone')).json.sessions;
		assert.equal(after.some((x) => x.room === room && x.kind === 'twilio'), false);
	} finally {
		stop();
		s.ws.terminate();
	}
});

test('an unsigned or forged handshake is refused before the socket opens', T, async () => {
	const sock = await voiceSocket(callSid());
	await assert.rejects(openStream(sock, {}), /HTTP 403/);
	await assert.rejects(openStream(sock, { 'x-twilio-signature': twilioSignature('wrong', sock.url) }), /HTTP 403/);
	// Signed for the https:// URL instead of the wss:// one Twilio calls.
	await assert.rejects(openStream(sock, { 'x-twilio-signature': twilioSignature(AUTH_TOKEN, sock.url.replace('wss://', 'https://')) }), /HTTP 403/);
	// The bare path: its signature would be the same for every call.
	const bare = 'wss://switchboard.test/twilio/stream';
	await assert.rejects(openStream({ local: `ws://127.0.0.1:${API_PORT}/twilio/stream`, headers: { 'x-twilio-signature': twilioSignature(AUTH_TOKEN, bare) } }), /HTTP 403/);
	// A URL of ours whose time is up, though rightly signed.
	const old = `wss://switchboard.test/twilio/stream/1000000000.${crypto.randomBytes(16).toString('hex')}`;
	await assert.rejects(openStream(socketOf(`<Stream url="${old}"/>`)), /HTTP 403/);
	// None of these used the call's handshake up: it still opens once.
	const s = await openStream(sock);
	s.ws.close();
	await s.closed;
});

test('a handshake signature is accepted once: a replay is refused', T, async () => {
	const sid = callSid();
	const sock = await voiceSocket(sid);
	const replays0 = await refusedCount('replayed');
	const first = await openStream(sock);
	const streamSid = `MZ${crypto.randomBytes(16).toString('hex')}`;
	for (const m of startMessages(sid, streamSid, sock.params)) first.send(m);
	await notes.until('joined', () => notes.events.find((e) => e.type === 'participant_joined' && e.room === `twilio-${sid}` && e.participant.kind === 'twilio'), 10000);
	// Recorded off the wire, sent again: refused while the first is live …
	await assert.rejects(openStream(sock), /HTTP 403/);
	first.ws.close();
	await first.closed;
	// … and after it ended.
	await assert.rejects(openStream(sock), /HTTP 403/);
	assert.equal(await refusedCount('replayed'), replays0 + 2);
	const phones = (await rest('GET', '/sessions/type/phone')).json.sessions.filter((x) => x.info?.call_sid === sid);
	assert.equal(phones.length, 0);
});

test('a stream enters only the room its TwiML granted to its call', T, async () => {
	const count = async () => (await rest('GET', '/sessions/type/phone')).json.sessions.length;
	const n0 = await count();
	const grants0 = await refusedCount('room_grant');
	// A victim's room, in use.
	const victim = callSid();
	const theirs = await voiceSocket(victim);
	const tried = [];
	const refused = async (sid, params, why) => {
		const s = await openStream(socketAt('/twilio/stream'));
		const streamSid = `MZ${crypto.randomBytes(16).toString('hex')}`;
		for (const m of startMessages(sid, streamSid, params)) s.send(m);
		const closed = await s.closed;
		assert.equal(closed.code, 1008, why);
		tried.push(closed.reason);
	};
	// No grant at all.
	await refused(callSid(), { room: `twilio-${victim}` }, 'room without grant');
	// The grant of another call (the victim's TwiML), or another room.
	await refused(callSid(), theirs.params, "another call's grant");
	const mine = callSid();
	const own = await voiceSocket(mine);
	await refused(mine, { ...own.params, room: `twilio-${victim}` }, 'grant for another room');
	// A forged grant.
	await refused(mine, { room: `twilio-${victim}`, room_grant: `9999999999.${'0'.repeat(64)}` }, 'forged');
	assert.deepEqual(tried.map((r) => r.replace(/ .*/, '')), ['room', 'room_grant', 'room_grant', 'room_grant']);
	assert.equal(await refusedCount('room_grant'), grants0 + 4);
	assert.equal(await count(), n0);
	const room = (await rest('GET', `/rooms/twilio-${victim}`)).json;
	assert.equal(room.num_participants, 0, JSON.stringify(room));
	// A call's room needs a token: no browser walks in by its name.
	assert.equal(room.require_token, true);
});

test('bad input: binary frames, media before start, bad base64', { timeout: 30000 }, async () => {
	const count = async () => (await rest('GET', '/sessions/type/phone')).json.sessions.length;
	const n0 = await count();
	// Binary frames are not Media Streams (Twilio error 31950).
	const a = await openStream(await voiceSocket(callSid()));
	a.ws.send(Buffer.from([1, 2, 3]));
	assert.equal((await a.closed).code, 1003);
	// Media before start: closed, nothing joined.
	const b = await openStream(await voiceSocket(callSid()));
	b.send({ event: 'connected', protocol: 'Call', version: '1.0.0' });
	b.send({ event: 'media', sequenceNumber: '2', streamSid: 'MZ1', media: { track: 'inbound', chunk: '1', timestamp: '0', payload: Buffer.alloc(160, 0xff).toString('base64') } });
	const cb = await b.closed;
	assert.equal(cb.code, 1002);
	assert.match(cb.reason, /start/);
	// A start without callSid.
	const c = await openStream(await voiceSocket(callSid()));
	c.send({ event: 'start', sequenceNumber: '1', streamSid: 'MZ2', start: { streamSid: 'MZ2' } });
	assert.equal((await c.closed).code, 1008);
	assert.equal(await count(), n0);
	// After a good start, bad base64 and junk are ignored … ten in a row close with 1007.
	const sid = callSid();
	const streamSid = `MZ${crypto.randomBytes(16).toString('hex')}`;
	const dsock = await voiceSocket(sid);
	const d = await openStream(dsock);
	for (const m of startMessages(sid, streamSid, dsock.params)) d.send(m);
	await notes.until('joined', () => notes.events.find((e) => e.type === 'participant_joined' && e.room === `twilio-${sid}`), 10000);
	for (let i = 0; i < 5; i++) d.send({ event: 'media', streamSid, media: { track: 'inbound', payload: '@@not base64@@' } });
	d.send('{not json');
	await sleep(300);
	assert.equal(d.ws.readyState, WebSocket.OPEN);
	const joined = (await rest('GET', '/sessions/type/phone')).json.sessions.filter((x) => x.info?.stream_sid === streamSid);
	assert.equal(joined.length, 1);
	for (let i = 0; i < 4; i++) d.send({ event: 'media', streamSid, media: { payload: 'AAA' } });
	const cd = await d.closed;
	assert.equal(cd.code, 1007);
	await notes.until('left', () => notes.events.find((e) => e.type === 'participant_left' && e.room === `twilio-${sid}`), 10000);
	assert.equal(await count(), n0);
});

test('an inbound WhatsApp call is a session of type whatsapp', { timeout: 30000 }, async () => {
	const sid = callSid();
	const sock = await voiceSocket(sid, { from: 'whatsapp:+14155550177', to: 'whatsapp:+14155238886' });
	const streamSid = `MZ${crypto.randomBytes(16).toString('hex')}`;
	const s = await openStream(sock);
	for (const m of startMessages(sid, streamSid, sock.params)) s.send(m);
	await notes.until('joined', () => notes.events.find((e) => e.type === 'participant_joined' && e.room === `twilio-${sid}`), 10000);
	const wa = (await rest('GET', '/sessions/type/whatsapp')).json.sessions.find((x) => x.info?.call_sid === sid);
	assert.ok(wa);
	assert.equal(wa.kind, 'twilio');
	assert.equal(wa.type, 'whatsapp');
	assert.equal(wa.info.from, 'whatsapp:+14155550177');
	assert.equal((await rest('GET', '/sessions/type/phone')).json.sessions.some((x) => x.info?.call_sid === sid), false);
	// [agent] auto_join lists whatsapp: the agent comes in by itself.
	await notes.until('the agent', () => notes.events.find((e) => e.type === 'participant_joined' && e.room === `twilio-${sid}` && e.participant.kind === 'agent'), 10000);
	s.ws.close();
	await s.closed;
});
