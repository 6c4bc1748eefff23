// LiveKit's SIP calls against a real private Janus, driven by the official
// livekit-server-sdk's SipClient, with a UDP SIP peer as the trunk:
// createSipParticipant dials a number into a room and (waitUntilAnswered)
// answers once the call is up, the leg listed under the identity asked
// for; transferSipParticipant REFERs it away and answers when the far end
// says the transfer is done; a busy number is LiveKit's SipCallError
// (486 → resource_exhausted, with the SIP status in its metadata).  Bad
// input gets LiveKit's codes and dials nothing.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AccessToken, RoomServiceClient, SipClient } from 'livekit-server-sdk';
import { startJanus, repoRoot, SIP_PORT, API_URL } from '../lib/janus.mjs';
import { openNotifications, rest } from '../lib/notifications.mjs';
import { SipPeer, sdpOffer, withSipRoomSecret } from '../lib/sip.mjs';
import { phoneCaller } from '../lib/phone-caller.mjs';

const KEY = 'APIsipKey1';
const SECRET = 'sip-secret-abcdefghijklmnopqrstuvwxyz0123456789';
const TRUNK_PORT = SIP_PORT + 7;
const KIND_SIP = 3;
let janus, notes, trunk;
const invites = [];

before(async () => {
	const conf = withSipRoomSecret(readFileSync(join(repoRoot, 'conf', 'janus.plugin.switchboard.jcfg'), 'utf8'))
		.replace(/^\tallow = "[^"]*"/m, '\tallow = "127.0.0.1"')
		.replace('#trunk = "example.pstn.twilio.com"', `trunk = "127.0.0.1:${TRUNK_PORT}"`)
		.replace('ring_timeout = "45"', 'ring_timeout = "3"')
		.replace('auto_join = ["phone", "whatsapp"]', 'auto_join = []') +
		`\nlivekit: {\n\tkeys: {\n\t\t${KEY} = "${SECRET}"\n\t}\n}\n`;
	assert.match(conf, /trunk = "127\.0\.0\.1/);
	janus = await startJanus({ pluginConfig: conf });
	notes = await openNotifications();
	trunk = await new SipPeer({ port: TRUNK_PORT }).start();
	// The trunk: +1415555048x is busy, +1415555047x never answers, other
	// numbers answer after a ring; a REFER is accepted and reported done.
	trunk.onRequest = (req) => {
		if (req.method === 'INVITE') {
			invites.push(req);
			const number = /sip:(\+\d+)@/.exec(req.uri)?.[1] || '';
			if (number.startsWith('+1415555048')) return { status: 486, reason: 'Busy Here', toTag: 'tt' };
			trunk.respond(req, 180, { reason: 'Ringing', toTag: 'tt' });
			if (number.startsWith('+1415555047')) return null;
			setTimeout(() => trunk.respond(req, 200, { toTag: 'tt', body: sdpOffer({ port: 41000 + invites.length }) }), 300);
			return null;
		}
		if (req.method === 'CANCEL') { // the ring timeout: the INVITE ends 487
			const invite = invites.find((i) => i.h('call-id') === req.h('call-id'));
			if (invite) trunk.respond(invite, 487, { reason: 'Request Terminated', toTag: 'tt' });
			return { status: 200 };
		}
		if (req.method === 'REFER') {
			setTimeout(() => trunk.request('NOTIFY', /<([^>]+)>/.exec(req.h('contact'))[1], {
				callId: req.h('call-id'), fromTag: 'tt', to: req.h('from').replace(/;tag=.*/, ''), toTag: /tag=([^;]+)/.exec(req.h('from'))[1],
				cseq: 10, target: `127.0.0.1:${SIP_PORT}`, contentType: 'message/sipfrag;version=2.0',
				headers: { Event: 'refer', 'Subscription-State': 'terminated;reason=noresource' }, body: 'SIP/2.0 200 OK\r\n' }), 100);
			return { status: 202, reason: 'Accepted' };
		}
		return { status: 200 };
	};
}, { timeout: 60000 });
after(async () => {
	notes?.close();
	trunk?.close();
	if (janus) await janus.stop();
});

const sip = () => new SipClient(API_URL, KEY, SECRET);
const rooms = () => new RoomServiceClient(API_URL, KEY, SECRET);
const unique = (p) => `${p}-${Math.random().toString(36).slice(2, 8)}`;
const statusOf = (id, status) => () => notes.events.find((e) => e.type === 'call_status' && e.call_id === id && e.status === status);

test('createSipParticipant waits for the answer; the leg is listed under its identity; transferSipParticipant REFERs it away', { timeout: 60000 }, async () => {
	const room = unique('lk-sip');
	const before = invites.length;
	const info = await sip().createSipParticipant('ST_trunk', '+14155550100', room,
		{ participantIdentity: 'callee', participantName: 'Bob', waitUntilAnswered: true });
	assert.equal(invites.length, before + 1, 'one INVITE to the trunk');
	assert.match(invites.at(-1).uri, new RegExp(`^sip:\\+14155550100@127\\.0\\.0\\.1:${TRUNK_PORT}`));
	assert.equal(info.participantIdentity, 'callee');
	assert.equal(info.roomName, room);
	assert.match(info.sipCallId, /^SIP[0-9a-f]+$/);
	assert.match(info.participantId, /^PA_\d+$/);
	// The notifications socket is another channel: the event may trail.
	await notes.until('answered', statusOf(info.sipCallId, 'answered'), 5000);
	const [leg] = await rooms().listParticipants(room);
	assert.equal(leg.identity, 'callee');
	assert.equal(leg.name, 'Bob');
	assert.equal(leg.kind, KIND_SIP);
	assert.equal(leg.sid, info.participantId);
	assert.equal(leg.attributes['sip.callID'], info.sipCallId);

	await sip().transferSipParticipant(room, 'callee', 'tel:+14155550188');
	await notes.until('transferred', statusOf(info.sipCallId, 'transferred'), 5000);
	await notes.until('the transferred call to end', () => notes.events.find((e) => e.type === 'call_status' && e.call_id === info.sipCallId && e.status === 'completed') ||
		notes.events.find((e) => e.type === 'participant_left' && e.room === room), 10000);
});

test('a busy number is LiveKit\'s SipCallError; without waiting the answer comes at once', { timeout: 60000 }, async () => {
	const room = unique('lk-sip-busy');
	await assert.rejects(sip().createSipParticipant('ST_trunk', '+14155550486', room, { waitUntilAnswered: true }), (e) => {
		assert.equal(e.status, 429);
		assert.equal(e.code, 'resource_exhausted');
		assert.equal(e.sipStatusCode, 486);
		assert.equal(e.sipStatus, 'Busy Here');
		return true;
	});
	// Not waiting: the call is dialling when the answer comes.
	const t0 = Date.now();
	const ringing = await sip().createSipParticipant('ST_trunk', '+14155550471', unique('lk-sip-ring'));
	assert.ok(Date.now() - t0 < 2000, 'answered without waiting for the call');
	assert.equal(ringing.participantIdentity, 'sip-participant', 'LiveKit\'s default identity');
	assert.equal(ringing.participantId, '');
	await notes.until('no-answer', statusOf(ringing.sipCallId, 'no-answer'), 10000);
	// Waiting for a call nobody answers: deadline_exceeded when it gives up.
	await assert.rejects(sip().createSipParticipant('ST_trunk', '+14155550472', unique('lk-sip-ring'), { waitUntilAnswered: true }),
		(e) => e.code === 'deadline_exceeded' && e.sipStatusCode === 408);
});

test('bad SIP requests: LiveKit\'s codes, and nothing is dialled', { timeout: 30000 }, async () => {
	const room = unique('lk-sip-bad');
	const before = invites.length;
	const refused = [
		[() => sip().createSipParticipant('ST_trunk', 'sip:bob@example.com', room), 400, 'invalid_argument', /not a full SIP URI/],
		[() => sip().createSipParticipant('ST_trunk', '', room), 400, 'invalid_argument', /missing sip callee number/],
		[() => sip().createSipParticipant('ST_trunk', '+14155550100', ''), 400, 'invalid_argument', /missing room name/],
		[() => sip().createSipParticipant('ST_trunk', 'bob; rm -rf', room), 400, 'invalid_argument', /phone number/],
		[() => sip().transferSipParticipant(room, 'callee', 'http://example.com'), 400, 'invalid_argument', /sip:, sips: or tel:/],
		[() => sip().transferSipParticipant('lk-no-such-room', 'callee', 'tel:+14155550188'), 404, 'not_found', /room/],
	];
	for (const [call, status, code, message] of refused) {
		await assert.rejects(call(), (e) => e.status === status && e.code === code && message.test(e.message), `${status} ${code} ${message}`);
	}
	// A room's participant that is no phone leg cannot be REFERred; one
	// that is not there is not found.
	assert.equal((await rest('POST', '/room/create', { roomName: room })).status, 201);
	const caller = await phoneCaller(room, 'Not SIP');
	try {
		const [p] = await rooms().listParticipants(room);
		await assert.rejects(sip().transferSipParticipant(room, p.identity, 'tel:+14155550188'),
			(e) => e.status === 400 && /no SIP session associated with participant/.test(e.message));
		await assert.rejects(sip().transferSipParticipant(room, 'nobody', 'tel:+14155550188'), (e) => e.status === 404 && e.code === 'not_found');
	} finally {
		caller.stop();
		await rest('DELETE', `/rooms/${room}`);
	}
	// sip.call is needed to dial: roomCreate and roomAdmin are not enough.
	const at = new AccessToken(KEY, SECRET, { ttl: '5m' });
	at.addGrant({ roomCreate: true, roomAdmin: true, room });
	const res = await fetch(`${API_URL}/twirp/livekit.SIP/CreateSIPParticipant`, {
		method: 'POST',
		headers: { 'content-type': 'application/json', authorization: `Bearer ${await at.toJwt()}` },
		body: JSON.stringify({ sipTrunkId: 'ST_trunk', sipCallTo: '+14155550100', roomName: room }),
		signal: AbortSignal.timeout(10000),
	});
	assert.equal(res.status, 401);
	assert.equal(invites.length, before, 'nothing was dialled');
});
