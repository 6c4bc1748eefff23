// The SIP trunk bridge against real SIP on loopback: a UDP SIP peer that
// plays Twilio's trunk (X-Twilio-* headers, digest, RFC 4733, re-INVITE),
// baresip as a softphone, and sipsak for hostile input.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import { readFileSync, readdirSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startJanus, adminRequest, repoRoot, SIP_PORT, API_URL } from '../lib/janus.mjs';
import { openNotifications, rest } from '../lib/notifications.mjs';
import { toneDb } from '../lib/audio.mjs';
import { endedCall } from '../lib/store.mjs';
import { SipPeer, RtpLeg, placeCall, inDialog, sdpOffer, sdpMedia, startBaresip, checkDigest, readWavPcm,
	withSipRoomSecret, roomSignature, roomHeaders, signRoom, signedRoomUri } from '../lib/sip.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// Per-test timeouts: the slowest test here takes ~10 s on a loaded 2-core
// machine (the leak test); a hang fails in a minute, not in ten.
const T = { timeout: 60000 };
// The INVITE rate limit configured here (a token bucket: CALLS_BURST
// tokens, refilled at CALLS_PER_SECOND).
const CALLS_PER_SECOND = 50;
const CALLS_BURST = 60;
const TRUNK_PORT = SIP_PORT + 7;
const STRANGER_PORT = SIP_PORT + 9;
const BARESIP_PORT = SIP_PORT + 11;
const BARESIP_B_PORT = SIP_PORT + 13;
let janus, notes, peer, trunk;

const trunkAuth = { user: 'switchboard', password: 'trunk-secret', realm: 'pstn.test' };

before(async () => {
	// Every call here comes from 127.0.0.1: no per-source limit, so that the
	// flood test below measures the overall bucket alone (sip-trust.test.mjs
	// tests the per-source one).
	const conf = withSipRoomSecret(readFileSync(join(repoRoot, 'conf', 'janus.plugin.switchboard.jcfg'), 'utf8'))
		.replace(/^\tallow = "[^"]*"/m, '\tallow = "127.0.0.1"')
		.replace('calls_per_source = "10"', 'calls_per_source = "0"')
		.replace('#trunk = "example.pstn.twilio.com"', `trunk = "127.0.0.1:${TRUNK_PORT}"`)
		.replace('#trunk_user = "switchboard"', `trunk_user = "${trunkAuth.user}"`)
		.replace('#trunk_password = "change-me"', `trunk_password = "${trunkAuth.password}"`)
		.replace('rtp_timeout = "30"', 'rtp_timeout = "3"')
		.replace('ring_timeout = "45"', 'ring_timeout = "3"')
		.replace('calls_per_second = "20"', `calls_per_second = "${CALLS_PER_SECOND}"`)
		.replace('calls_burst = "40"', `calls_burst = "${CALLS_BURST}"`)
		.replace('auto_join = ["phone", "whatsapp"]', 'auto_join = []');
	assert.match(conf, /^\tallow = "127\.0\.0\.1"$/m);
	assert.match(conf, /calls_per_source = "0"/);
	assert.match(conf, /trunk = "127\.0\.0\.1/);
	assert.match(conf, /auto_join = \[\]/);
	assert.match(conf, new RegExp(`calls_per_second = "${CALLS_PER_SECOND}"`));
	assert.match(conf, new RegExp(`calls_burst = "${CALLS_BURST}"`));
	janus = await startJanus({ pluginConfig: conf });
	notes = await openNotifications();
	peer = await new SipPeer().start();
	trunk = await new SipPeer({ port: TRUNK_PORT }).start();
}, { timeout: 60000 });

after(async () => {
	notes?.close();
	peer?.close();
	trunk?.close();
	if (janus) await janus.stop();
});

const statusOf = (id, status) => () => notes.events.find((e) => e.type === 'call_status' && e.call_id === id && e.status === status);
async function metric(name) {
	const text = (await rest('GET', '/metrics')).text;
	const m = new RegExp(`^${name.replace(/[{}"]/g, (c) => `\\${c}`)} (\\d+)$`, 'm').exec(text);
	return m ? Number(m[1]) : NaN;
}
async function roomExists(name) { return (await rest('GET', `/rooms/${name}`)).status === 200; }
// Polls read() until ok(value) or ms have passed; returns the last value
// (for the caller to assert on).
async function settled(read, ok, ms) {
	const deadline = Date.now() + ms;
	for (;;) {
		const v = await read();
		if (ok(v) || Date.now() > deadline) return v;
		await sleep(100);
	}
}

// sipsak blocks the event loop (execFileSync): bounded, so that a silent
// server fails the test instead of freezing its timeout.
const sipsak = (args) => execFileSync('sipsak', args, { encoding: 'utf8', timeout: 15000 });

test('OPTIONS is answered; garbage and a truncated INVITE change nothing', T, async () => {
	const out = sipsak(['-s', `sip:probe@127.0.0.1:${SIP_PORT}`, '-vv']);
	assert.match(out, /SIP\/2\.0 200 OK/);
	assert.match(out, /Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, REFER, NOTIFY/);
	const rooms = (await rest('GET', '/rooms')).json.rooms.length;
	const s = dgram.createSocket('udp4');
	try {
		for (const junk of ['hello\r\n\r\n', 'INVITE sip:demo@127.0.0.1 SIP/2.0\r\nVia: nonsense\r\n\r\n', '\x00\x01\x02'.repeat(100)])
			s.send(Buffer.from(junk), SIP_PORT, '127.0.0.1');
		await sleep(300);
	} finally {
		s.close();
	}
	// On loopback a datagram is queued at the receiver as it is sent: the
	// plugin reads this OPTIONS after the junk.
	const again = sipsak(['-s', `sip:probe@127.0.0.1:${SIP_PORT}`]);
	assert.doesNotMatch(again, /error/i);
	assert.equal((await rest('GET', '/rooms')).json.rooms.length, rooms);
});

test('a trunk call lands in twilio-<CallSid> with its caller ID and headers, and media flows both ways', T, async () => {
	const callSid = `CA${'0123456789abcdef'.repeat(2)}`;
	const leg = await new RtpLeg().start();
	const other = await new RtpLeg().start();
	try {
		await trunkCall(callSid, leg, other);
	} finally {
		leg.close();
		other.close();
	}
});

async function trunkCall(callSid, leg, other) {
	const call = await placeCall(peer, { sipPort: SIP_PORT, user: '+14155550100', rtpPort: leg.port,
		headers: { 'X-Twilio-CallSid': callSid, 'X-Twilio-AccountSid': 'AC123', 'X-Customer': 'gold' } });
	assert.equal(call.res?.status, 200, call.res?.first);
	assert.equal(call.media.pts[0], 0, 'Twilio offers PCMU only: PCMU is answered');
	assert.equal(call.media.dtmf, 101);
	const room = `twilio-${callSid}`;
	await notes.until('answered', statusOf(callSid, 'answered'), 5000);
	assert.ok(await roomExists(room));
	const phone = (await rest('GET', '/sessions/type/phone')).json.sessions.find((x) => x.room === room);
	assert.ok(phone, 'the SIP caller is a phone session');
	assert.equal(phone.kind, 'sip');
	assert.equal(phone.info.call_sid, callSid);
	assert.equal(phone.info.from, '+15005550006');
	assert.equal(phone.info.headers['X-Customer'], 'gold');

	// A plain RTP participant in the same room: each must hear the other.
	const joined = await adminRequest({ request: 'rtp_join', room, ip: '127.0.0.1', port: other.port, codec: 'pcmu' });
	assert.equal(joined.switchboard, 'rtp_joined');
	const { port: otherPort } = joined;
	await Promise.all([leg.play(call.media.ip, call.media.port, 440, 1500), other.play('127.0.0.1', otherPort, 1000, 1500)]);
	const heardBySip = leg.pcm(Math.floor(leg.packets.length / 2));
	const heardByOther = other.pcm(Math.floor(other.packets.length / 2));
	assert.ok(toneDb(heardBySip, 1000) - toneDb(heardBySip, 440) > 15, 'the SIP caller hears the room, not itself');
	assert.ok(toneDb(heardByOther, 440) - toneDb(heardByOther, 1000) > 15, 'the room hears the SIP caller');

	const bye = await inDialog(peer, call, 'BYE');
	assert.equal(bye?.status, 200);
	await notes.until('completed', statusOf(callSid, 'completed'), 5000);
	await adminRequest({ request: 'kick', room, id: joined.id });
	await notes.until('room closed', () => notes.events.find((e) => e.type === 'room_closed' && e.room === room), 5000);

	// The call's record: a phone call with Twilio's identifiers and both legs.
	const record = await endedCall(room);
	assert.equal(record.interface, 'phone', JSON.stringify(record));
	assert.equal(record.call_sid, callSid);
	assert.equal(record.from_addr, '+15005550006');
	assert.equal(record.direction, 'inbound');
	assert.ok(record.answered >= record.started && record.ended >= record.answered, JSON.stringify(record));
	assert.deepEqual(record.participants.map((x) => x.kind).sort(), ['rtp', 'sip']);
	assert.ok(record.participants.every((x) => x.left_at >= x.joined), JSON.stringify(record.participants));
	const statuses = (await rest('GET', `/api/calls?interface=phone&q=${encodeURIComponent(callSid)}`)).json;
	assert.equal(statuses.total, 1, JSON.stringify(statuses));
}

test('X-Room and the request-URI pick rooms (signed); unknown rooms, bad SDP, SRTP and strangers are refused and create nothing', T, async () => {
	await rest('POST', '/room/create', { roomName: 'sales-demo' });
	const leg = await new RtpLeg().start();
	const stranger = await new SipPeer({ ip: '127.0.0.2' }).start();
	try {
		await refusals(leg, stranger);
	} finally {
		leg.close();
		stranger.close();
	}
});

async function refusals(leg, stranger) {
	const byUri = await placeCall(peer, { sipPort: SIP_PORT, user: 'sales-demo', rtpPort: leg.port, headers: roomSignature('sales-demo') });
	assert.equal(byUri.res?.status, 200);
	const byHeader = await placeCall(peer, { sipPort: SIP_PORT, user: '+14155550100', rtpPort: leg.port, headers: roomHeaders('sales-demo') });
	assert.equal(byHeader.res?.status, 200);
	const inRoom = (await rest('GET', '/rooms/sales-demo')).json.participants.filter((p) => p.kind === 'sip');
	assert.equal(inRoom.length, 2);
	for (const c of [byUri, byHeader]) assert.equal((await inDialog(peer, c, 'BYE'))?.status, 200);
	// The ephemeral room closes once its last leg is gone, just after the
	// BYE's answer: count rooms after that (bounded), not in the middle of it.
	assert.equal(await settled(async () => (await rest('GET', '/rooms/sales-demo')).status, (s) => s === 404, 5000), 404);

	const roomsBefore = (await rest('GET', '/rooms')).json.rooms.length;
	const before = await metric('switchboard_sip_rejected_total{reason="codec"}');
	const refusals = [
		[{ user: 'no-such-room' }, 404],
		[{ user: 'demo', codecs: [[3, 'GSM/8000']] }, 488],
		[{ user: 'demo', sdp: 'v=0\r\nthis is not sdp\r\n' }, 488],
		[{ user: 'demo', sdp: sdpOffer({ port: leg.port }).replace('RTP/AVP', 'RTP/SAVP') }, 488],
	];
	for (const [opts, status] of refusals) {
		const c = await placeCall(peer, { sipPort: SIP_PORT, rtpPort: leg.port, headers: roomSignature(opts.user), ...opts });
		assert.equal(c.res?.status, status, `${JSON.stringify(opts)} → ${c.res?.first}`);
	}
	assert.equal(await metric('switchboard_sip_rejected_total{reason="codec"}'), before + 3);
	// A source outside the allow-list (a second loopback address).
	const c = await placeCall(stranger, { sipPort: SIP_PORT, user: 'demo', rtpPort: leg.port, headers: roomSignature('demo') });
	assert.equal(c.res?.status, 403);
	assert.ok(await metric('switchboard_sip_rejected_total{reason="acl"}') >= 1);
	// sipsak sends an INVITE whose SDP is garbage: 488, nothing created.
	const file = join(mkdtempSync(join(tmpdir(), 'sb-sipsak-')), 'invite.txt');
	writeFileSync(file, ['INVITE sip:demo@127.0.0.1 SIP/2.0', 'Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKsipsak1',
		'From: <sip:sipsak@127.0.0.1>;tag=s1', 'To: <sip:demo@127.0.0.1>', 'Call-ID: sipsak-bad-sdp@127.0.0.1', 'CSeq: 1 INVITE',
		'Contact: <sip:sipsak@127.0.0.1:5999>', 'Max-Forwards: 70', `X-Room-Signature: ${signRoom('demo')}`,
		'Content-Type: application/sdp', 'Content-Length: 18', '',
		'm=audio nonsense\r\n'].join('\r\n'));
	let out = '';
	try { out = execFileSync('sipsak', ['-f', file, '-s', `sip:demo@127.0.0.1:${SIP_PORT}`, '-vv'], { encoding: 'utf8', timeout: 15000 }); }
	catch (e) { out = `${e.stdout || ''}${e.stderr || ''}`; }
	assert.match(out, /488 Not Acceptable Here/);
	assert.equal((await rest('GET', '/rooms')).json.rooms.length, roomsBefore, 'no room was created by refused calls');
	// The two answered calls are gone once their BYE is handled (bounded
	// wait); the refused ones never were.
	assert.equal(await settled(() => metric('switchboard_sip_calls'), (n) => n === 0, 5000), 0);
}

test('DTMF arrives as RFC 4733 and SIP INFO, goes out as RFC 4733; hold and unhold by re-INVITE', T, async () => {
	const leg = await new RtpLeg().start();
	try {
		await dtmfAndHold(leg);
	} finally {
		leg.close();
	}
});

// The digits of the RFC 4733 events among packets (one per timestamp) and
// whether an End was seen for each.
function digitsIn(packets) {
	const byTs = new Map();
	for (const p of packets.filter((x) => x.pt === 101)) {
		const d = byTs.get(p.ts) || { digit: '0123456789*#'[p.payload[0]], end: false };
		d.end ||= Boolean(p.payload[1] & 0x80);
		byTs.set(p.ts, d);
	}
	return [...byTs.values()];
}

async function dtmfAndHold(leg) {
	const call = await placeCall(peer, { sipPort: SIP_PORT, user: 'demo', rtpPort: leg.port, headers: roomSignature('demo') });
	assert.equal(call.res?.status, 200);
	const from = notes.events.length;
	const digit = (d, method) => () => notes.events.slice(from).find((e) => e.type === 'dtmf' && e.digit === d && e.method === method);
	await leg.play(call.media.ip, call.media.port, 0, 200); // latch, then digits
	await leg.sendDigit(call.media.ip, call.media.port, '5', call.media.dtmf);
	await notes.until('dtmf 5', digit('5', 'rfc4733'), 3000);
	const info = await inDialog(peer, call, 'INFO', { body: 'Signal=7\r\nDuration=160\r\n', contentType: 'application/dtmf-relay' });
	assert.equal(info?.status, 200);
	await notes.until('dtmf 7', digit('7', 'info'), 3000);
	assert.equal(notes.events.slice(from).filter((e) => e.type === 'dtmf').length, 2, 'one event per key press');

	const sessions = (await rest('GET', '/sessions/type/phone')).json.sessions;
	const me = sessions.find((s) => s.info?.call_id && s.room === 'demo');
	// What arrives from here on (the first digit may come before the answer).
	const mark = leg.packets.length;
	const sent = await adminRequest({ request: 'dtmf', call_id: me.info.call_id, digits: '19#' });
	assert.equal(sent.switchboard, 'dtmf_sent', JSON.stringify(sent));
	const bad = await adminRequest({ request: 'dtmf', call_id: me.info.call_id, digits: '12x' });
	assert.ok(bad.error_code);
	// Three digits take ~0.6 s of media (100 ms tone, End repeats, gap):
	// keep the leg talking until all three have ended, bounded.
	for (const end = Date.now() + 8000; Date.now() < end;) {
		await leg.play(call.media.ip, call.media.port, 0, 200);
		const got = digitsIn(leg.packets.slice(mark));
		if (got.length >= 3 && got.every((d) => d.end)) break;
	}
	const digits = digitsIn(leg.packets.slice(mark));
	assert.equal(digits.map((d) => d.digit).join(''), '19#');
	assert.ok(digits.every((d) => d.end), `End bit sent for every digit: ${JSON.stringify(digits)}`);

	// Hold: the caller re-INVITEs with sendonly; we answer recvonly and mute the leg.
	const hold = await inDialog(peer, call, 'INVITE', { body: sdpOffer({ port: leg.port, direction: 'sendonly', version: 2 }) });
	assert.equal(hold?.status, 200);
	await peer.request('ACK', hold.h('contact').replace(/[<>]/g, ''), { callId: call.callId, fromTag: call.fromTag, toTag: call.toTag, cseq: call.cseq, target: `127.0.0.1:${SIP_PORT}` });
	assert.equal(sdpMedia(hold.body).direction, 'recvonly');
	await notes.until('hold', () => notes.events.find((e) => e.type === 'call_hold' && e.call_id === me.info.call_id && e.hold), 3000);
	let p = (await rest('GET', '/rooms/demo')).json.participants.find((x) => x.id === me.id);
	assert.equal(p.on_hold, true);
	// On hold the leg hears hold audio, not the room's silence.
	const holdMark = leg.packets.length;
	await leg.play(call.media.ip, call.media.port, 0, 1000);
	const holdPcm = leg.pcm(holdMark);
	const holdRms = Math.sqrt(holdPcm.reduce((acc, v) => acc + v * v, 0) / Math.max(1, holdPcm.length));
	assert.ok(holdRms > 200, `hold audio reached the held leg (rms ${holdRms.toFixed(0)})`);
	const unhold = await inDialog(peer, call, 'INVITE', { body: sdpOffer({ port: leg.port, direction: 'sendrecv', version: 3 }) });
	assert.equal(sdpMedia(unhold.body).direction, 'sendrecv');
	p = (await rest('GET', '/rooms/demo')).json.participants.find((x) => x.id === me.id);
	assert.ok(!p.on_hold);
	assert.equal((await inDialog(peer, call, 'BYE'))?.status, 200);
}

test('digits reach the AI agent as a turn of their own', T, async () => {
	const room = 'sip-dtmf-agent';
	assert.equal((await rest('POST', '/room/create', { roomName: room, agent: true })).status, 201);
	const leg = await new RtpLeg().start();
	try {
		const call = await placeCall(peer, { sipPort: SIP_PORT, user: room, rtpPort: leg.port, headers: roomSignature(room) });
		assert.equal(call.res?.status, 200);
		await notes.until('the agent', () => notes.events.find((e) => e.type === 'participant_joined' && e.room === room && e.participant.kind === 'agent'), 10000);
		await leg.play(call.media.ip, call.media.port, 0, 200);
		await leg.sendDigit(call.media.ip, call.media.port, '4', call.media.dtmf);
		const heard = await notes.until('the key press in the transcript', () => notes.events.find((e) => e.type === 'transcript' && e.room === room && e.final && /pressed 4/.test(e.text)), 10000);
		await notes.until('an answer to it', () => notes.events.find((e) => e.type === 'transcript' && e.room === room && e.final && e.at >= heard.at && e.text !== heard.text), 15000);
		assert.equal((await inDialog(peer, call, 'BYE'))?.status, 200);
	} finally {
		leg.close();
	}
});

test('a peer that vanishes without BYE is hung up when its media stops', T, async () => {
	const leg = await new RtpLeg().start();
	try {
		const callSid = 'CAvanish0000000000000000000000000';
		const call = await placeCall(peer, { sipPort: SIP_PORT, user: '+14155550100', rtpPort: leg.port, headers: { 'X-Twilio-CallSid': callSid } });
		assert.equal(call.res?.status, 200);
		await leg.play(call.media.ip, call.media.port, 300, 400);
		// rtp_timeout = 3 s after the last packet (plus the plugin's check
		// interval): 9 s is three times that.
		const done = await notes.until('rtp timeout', statusOf(callSid, 'completed'), 9000);
		assert.equal(done.reason, 'rtp_timeout');
		await notes.until('BYE', () => peer.received.find((m) => m.method === 'BYE' && m.h('call-id') === call.callId), 3000);
		assert.equal(await roomExists(`twilio-${callSid}`), false);
	} finally {
		leg.close();
	}
});

test('outbound: a number through the trunk with digest auth; busy; no answer', T, async () => {
	try {
		await outbound();
	} finally {
		trunk.onRequest = null;
	}
});

async function outbound() {
	let challenged = 0, authorized = 0, lastInvite = null;
	const nonce = 'trunk-nonce-1';
	trunk.onRequest = (req) => {
		if (req.method === 'CANCEL') {
			trunk.respond(lastInvite, 487, { reason: 'Request Terminated', toTag: 'tt' });
			return { status: 200 };
		}
		if (req.method !== 'INVITE') return { status: 200 };
		lastInvite = req;
		const number = /sip:(\+\d+)@/.exec(req.uri)?.[1];
		if (number === '+14155550486') return { status: 486, reason: 'Busy Here', toTag: 'tt' };
		if (number === '+14155550480') { trunk.respond(req, 180, { reason: 'Ringing', toTag: 'tt' }); return null; }
		const auth = req.h('authorization');
		if (!auth) {
			challenged++;
			return { status: 401, reason: 'Unauthorized', toTag: 'tt', headers: { 'WWW-Authenticate': `Digest realm="${trunkAuth.realm}", nonce="${nonce}", algorithm=MD5, qop="auth"` } };
		}
		if (!checkDigest(auth, { ...trunkAuth, nonce, method: 'INVITE' })) return { status: 403, reason: 'Forbidden', toTag: 'tt' };
		authorized++;
		const media = sdpMedia(req.body);
		return { status: 200, toTag: 'tt', body: sdpOffer({ port: 40000 + (media.port % 1000), codecs: [[0, 'PCMU/8000']] }) };
	};
	const r = await rest('POST', '/phone/call', { to: '+14155550100', room: 'out-trunk' });
	assert.equal(r.status, 201, r.text);
	const id = r.json.callSid;
	assert.match(id, /^SIP[0-9a-f]{16}$/, r.text);
	await notes.until('answered', statusOf(id, 'answered'), 8000);
	assert.equal(challenged, 1);
	assert.equal(authorized, 1);
	assert.match(lastInvite.uri, new RegExp(`^sip:\\+14155550100@127\\.0\\.0\\.1:${TRUNK_PORT}`));
	const leg = (await rest('GET', '/rooms/out-trunk')).json.participants.find((p) => p.kind === 'sip');
	assert.ok(leg, 'the answered leg is in the room');
	const end = await rest('POST', `/phone/end/${id}`);
	assert.equal(end.status, 200);
	await notes.until('completed', statusOf(id, 'completed'), 5000);
	assert.equal(await roomExists('out-trunk'), false);

	const busy = await rest('POST', '/phone/call', { to: '+14155550486', room: 'out-busy' });
	await notes.until('busy', statusOf(busy.json.callSid, 'busy'), 5000);
	const ring = await rest('POST', '/phone/call', { to: '+14155550480', room: 'out-ring' });
	await notes.until('ringing', statusOf(ring.json.callSid, 'ringing'), 5000);
	await notes.until('no-answer', statusOf(ring.json.callSid, 'no-answer'), 8000).catch((e) => { throw new Error(`${e.message.slice(0, 300)} trunk got: ${trunk.received.map((m) => m.method).join(',')}`); });
	for (const room of ['out-busy', 'out-ring']) assert.equal(await roomExists(room), false, `${room} is not left behind`);

	for (const [body, why] of [[{ to: 'not a number' }, 'bad target'], [{ to: '+1415' }, 'short'], [{}, 'missing'], [{ to: 'sip:x@y', room: 'bad room!' }, 'room']]) {
		const bad = await rest('POST', '/phone/call', body);
		assert.equal(bad.status, 400, `${why}: ${bad.text}`);
	}
	assert.equal((await rest('POST', '/phone/end/CAnosuchcall')).status, 404);
}

test('outbound: a challenge from anyone but the trunk gets no credentials', T, async () => {
	const stranger = await new SipPeer({ port: STRANGER_PORT }).start();
	const invites = [];
	try {
		stranger.onRequest = (req) => {
			if (req.method !== 'INVITE') return { status: 200 };
			invites.push(req);
			// It pretends to be the trunk, realm and all.
			return { status: 401, reason: 'Unauthorized', toTag: 'st', headers: { 'WWW-Authenticate': `Digest realm="${trunkAuth.realm}", nonce="not-the-trunk", algorithm=MD5, qop="auth"` } };
		};
		const r = await rest('POST', '/phone/call', { to: `sip:victim@127.0.0.1:${STRANGER_PORT}`, room: 'out-stranger' });
		assert.equal(r.status, 201, r.text);
		const failed = await notes.until('failed', statusOf(r.json.callSid, 'failed'), 8000);
		assert.equal(failed.sip_code, 401);
		assert.equal(invites.length, 1, 'one INVITE, not retried with credentials');
		assert.ok(!invites[0].h('authorization') && !invites[0].h('proxy-authorization'));
		assert.equal(await roomExists('out-stranger'), false);
		// The call is over, not left waiting for credentials.
		assert.equal(await settled(() => metric('switchboard_sip_calls'), (n) => n === 0, 5000), 0);
	} finally {
		stranger.close();
	}
});

test('outbound to a baresip phone that answers; hang up; REFER moves the caller to another phone', T, async () => {
	const phones = [];
	try {
		const a = await startBaresip({ port: BARESIP_PORT, autoAnswer: true, user: 'alice' });
		phones.push(a);
		const b = await startBaresip({ port: BARESIP_B_PORT, autoAnswer: true, user: 'bob' });
		phones.push(b);
		const r = await rest('POST', '/phone/call', { to: `sip:alice@127.0.0.1:${BARESIP_PORT}`, room: 'out-baresip' });
		assert.equal(r.status, 201, r.text);
		const id = r.json.callSid;
		await notes.until('answered', statusOf(id, 'answered'), 8000);
		await a.waitFor(/Call established/);
		const refer = await adminRequest({ request: 'transfer', action: 'blind', call_id: id, uri: `sip:bob@127.0.0.1:${BARESIP_B_PORT}` });
		assert.equal(refer.switchboard, 'transferring', JSON.stringify(refer));
		await b.waitFor(/Call established|incoming call/i, 10000);
		await notes.until('transferred', statusOf(id, 'transferred'), 10000);
		await notes.until('completed', statusOf(id, 'completed'), 5000);
		assert.equal(await roomExists('out-baresip'), false);
	} finally {
		for (const p of phones) await p.stop();
	}
});

test('SDES-SRTP: a baresip caller that insists on SRTP is answered with SRTP, and audio flows both ways', T, async () => {
	const room = 'srtp-room';
	assert.equal((await rest('POST', '/room/create', { roomName: room })).status, 201);
	const other = await new RtpLeg().start();
	try {
		await srtpCall(room, other);
	} finally {
		other.close();
		await adminRequest({ request: 'destroy', room }).catch(() => {});
	}
});

async function srtpCall(room, other) {
	const joined = await adminRequest({ request: 'rtp_join', room, ip: '127.0.0.1', port: other.port, codec: 'pcmu' });
	const wav = join(mkdtempSync(join(tmpdir(), 'sb-srtp-')), 'tone440.wav');
	execFileSync('sox', ['-n', '-r', '8000', '-c', '1', '-b', '16', wav, 'synth', '8', 'sine', '440', 'vol', '0.5'], { timeout: 30000 });
	const phone = await startBaresip({ port: BARESIP_PORT, codecs: 'PCMU', wav, srtp: true, dial: signedRoomUri(room, `127.0.0.1:${SIP_PORT}`) });
	try {
		// baresip's own output is block-buffered through a pipe: the room's
		// event says when the call is up.
		const sip = await notes.until('sip leg', () => notes.events.find((e) => e.type === 'participant_joined' && e.room === room && e.participant.kind === 'sip'), 25000)
			.catch((e) => { throw new Error(`${e.message.slice(0, 200)}\nbaresip: ${phone.output().slice(-1500)}`); });
		assert.equal(sip.participant.info.srtp, true);
		await other.play('127.0.0.1', joined.port, 1000, 3000);
		const heard = other.pcm(Math.floor(other.packets.length / 2));
		assert.ok(toneDb(heard, 440) - toneDb(heard, 1000) > 15, 'the room hears the SRTP caller');
	} finally {
		await phone.stop();
	}
	const { rate, pcm } = readWavPcm(phone.recordings()[0]);
	const tail = pcm.slice(Math.max(0, pcm.length - rate * 2));
	assert.ok(toneDb(tail, 1000, rate) - toneDb(tail, 440, rate) > 15, 'the SRTP caller hears the room');
	assert.equal(await metric('switchboard_rtp_srtp_failures_total'), 0);
}

test('a REFER the far end cannot complete is reported, and the call goes on', T, async () => {
	const call = {};
	try {
		await referFails(call);
	} finally {
		trunk.onRequest = null;
		if (call.id) await rest('POST', `/phone/end/${call.id}`).catch(() => {}); // still up if the test failed half-way
	}
});

async function referFails(call) {
	let invite = null;
	trunk.onRequest = (req) => {
		if (req.method === 'INVITE') { invite = req; return { status: 200, toTag: 'tt', body: sdpOffer({ port: 40999 }) }; }
		if (req.method !== 'REFER') return { status: 200 };
		// Accept the REFER, then tell how the transfer went: busy.
		setTimeout(() => trunk.request('NOTIFY', /<([^>]+)>/.exec(req.h('contact'))[1], {
			callId: req.h('call-id'), fromTag: 'tt', to: req.h('from').replace(/;tag=.*/, ''), toTag: /tag=([^;]+)/.exec(req.h('from'))[1],
			cseq: 10, target: `127.0.0.1:${SIP_PORT}`, contentType: 'message/sipfrag;version=2.0',
			headers: { Event: 'refer', 'Subscription-State': 'terminated;reason=noresource' }, body: 'SIP/2.0 486 Busy Here\r\n' }), 100);
		return { status: 202, reason: 'Accepted' };
	};
	const r = await rest('POST', '/phone/call', { to: '+14155550177', room: 'refer-fails' });
	const id = r.json.callSid;
	call.id = id;
	await notes.until('answered', statusOf(id, 'answered'), 8000);
	assert.ok(invite);
	const refer = await adminRequest({ request: 'sip_refer', call_id: id, number: '+14155550188' });
	assert.equal(refer.switchboard, 'transferring', JSON.stringify(refer));
	await notes.until('accepted', statusOf(id, 'transfer_accepted'), 5000);
	const failed = await notes.until('failed', statusOf(id, 'transfer_failed'), 5000);
	assert.equal(failed.sip_code, 486);
	await sleep(300);
	assert.ok(!notes.events.some((e) => e.type === 'call_status' && e.call_id === id && e.status === 'completed'), 'the call is still up');
	assert.ok((await rest('GET', '/rooms/refer-fails')).json.participants.some((p) => p.kind === 'sip'));
	assert.equal((await rest('POST', `/phone/end/${id}`)).status, 200);
	await notes.until('completed', statusOf(id, 'completed'), 5000);
	call.id = null;
}

test('leaks: after 200 short calls, calls, rooms, RTP sockets and threads are back where they were', T, async () => {
	assert.match(readFileSync(`/proc/${janus.pid}/comm`, 'utf8'), /janus/);
	const threads = () => readdirSync(`/proc/${janus.pid}/task`).length;
	await sleep(500);
	const base = { rooms: (await rest('GET', '/rooms')).json.rooms.length, sockets: await metric('switchboard_rtp_sockets'), threads: threads() };
	const leg = await new RtpLeg().start();
	try {
		await shortCalls(leg, base, threads);
	} finally {
		leg.close();
	}
	assert.ok((await fetch(`${API_URL}/health`)).ok);
});

async function shortCalls(leg, base, threads) {
	let ok = 0;
	// Batches of 10 at least 250 ms apart: the bucket loses 10 tokens a
	// batch and gets back at least 0.25 s * CALLS_PER_SECOND = 12.5, however
	// slow the machine (a slower batch only refills more).
	assert.ok(0.25 * CALLS_PER_SECOND >= 10);
	for (let batch = 0; batch < 20; batch++) {
		await Promise.all(Array.from({ length: 10 }, async (_, i) => {
			const sid = `CAleak${String(batch * 10 + i).padStart(26, '0')}`;
			const call = await placeCall(peer, { sipPort: SIP_PORT, user: '+14155550100', rtpPort: leg.port, headers: { 'X-Twilio-CallSid': sid } });
			if (call.res?.status !== 200) return;
			await leg.play(call.media.ip, call.media.port, 500, 60);
			if ((await inDialog(peer, call, 'BYE'))?.status === 200) ok++;
		}));
		await sleep(250);
	}
	assert.equal(ok, 200);
	const deadline = Date.now() + 10000;
	let now;
	for (;;) {
		now = { calls: await metric('switchboard_sip_calls'), rooms: (await rest('GET', '/rooms')).json.rooms.length, sockets: await metric('switchboard_rtp_sockets'), threads: threads() };
		if ((now.calls === 0 && now.rooms === base.rooms && now.sockets === base.sockets && now.threads <= base.threads) || Date.now() > deadline) break;
		await sleep(250);
	}
	assert.deepEqual(now, { calls: 0, rooms: base.rooms, sockets: base.sockets, threads: Math.min(now.threads, base.threads) }, `before ${JSON.stringify(base)}`);
	assert.ok(now.threads <= base.threads, `threads ${now.threads} > ${base.threads}`);
}

test('an INVITE flood gets 503 beyond the configured rate and leaves nothing behind', T, async (t) => {
	// The bucket is full again CALLS_BURST / CALLS_PER_SECOND s after its
	// last take (the leak test's calls): wait that, and some.
	await sleep(Math.ceil((CALLS_BURST / CALLS_PER_SECOND) * 1000) + 500);
	const rooms = (await rest('GET', '/rooms')).json.rooms.length;
	const leg = await new RtpLeg().start();
	const answered = [];
	try {
		await flood(leg, answered, t);
	} finally {
		// Hang up what was answered, whatever failed above.
		await Promise.all(answered.map((c) => inDialog(peer, c, 'BYE')));
		leg.close();
	}
	const left = await settled(async () => ({ calls: await metric('switchboard_sip_calls'), rooms: (await rest('GET', '/rooms')).json.rooms.length }),
		(v) => v.calls === 0 && v.rooms === rooms, 8000);
	assert.deepEqual(left, { calls: 0, rooms });
});

// FLOOD INVITEs at once; the answered dialogs go to `answered` (for the
// BYEs) before anything is asserted.
async function flood(leg, answered, t) {
	const FLOOD = 100;
	const t0 = performance.now();
	const calls = [];
	const settledCalls = await Promise.allSettled(Array.from({ length: FLOOD }, (_, i) => placeCall(peer, { sipPort: SIP_PORT, user: '+14155550100', rtpPort: leg.port,
		headers: { 'X-Twilio-CallSid': `CAflood${String(i).padStart(26, '0')}` } }).then((c) => { calls.push(c); return c; })));
	answered.push(...calls.filter((c) => c.res?.status === 200));
	for (const r of settledCalls) if (r.status === 'rejected') throw r.reason;
	const refused = calls.filter((c) => c.res?.status === 503);
	// Every take from the bucket happened between the first INVITE sent
	// (after t0) and the last final response received (SipPeer stamps each
	// message with its arrival): the bucket held at most CALLS_BURST tokens
	// at t0 and gained CALLS_PER_SECOND per second of that window. The plugin
	// works through the flood after it arrived, so the window is measured
	// up to the last answer, not to the last INVITE sent. One call of margin
	// for clock granularity.
	const windowS = (Math.max(...calls.map((c) => c.res?.at ?? t0)) - t0) / 1000;
	const most = Math.floor(CALLS_BURST + CALLS_PER_SECOND * windowS) + 1;
	const seen = `${answered.length} answered, ${refused.length} refused; burst ${CALLS_BURST}, ${CALLS_PER_SECOND}/s, last answer after ${(windowS * 1000).toFixed(0)} ms`;
	t.diagnostic(`${seen} (at most ${most} may be answered)`);
	assert.equal(answered.length + refused.length, FLOOD, `every INVITE answered 200 or 503: ${seen}; others: ${JSON.stringify(calls.filter((c) => ![200, 503].includes(c.res?.status)).map((c) => c.res?.first ?? null))}`);
	assert.ok(answered.length <= most, `at most ${most} answered: ${seen}`);
	// The bucket was full: the burst itself goes through.
	assert.ok(answered.length >= Math.min(FLOOD, CALLS_BURST), `the whole burst answered: ${seen}`);
	// Refusals: everything beyond what the bucket could give in that window.
	assert.ok(FLOOD > most, `the flood did not outrun the refill (the plugin took ${(windowS * 1000).toFixed(0)} ms to answer ${FLOOD} INVITEs): ${seen}`);
	assert.ok(refused.length >= FLOOD - most && refused.length > 0, `some calls were refused: ${seen}`);
	assert.ok(refused.every((c) => /^\d+$/.test(c.res.h('retry-after') || '')), 'Retry-After on every 503');
}
