// Warm transfer to a phone target: what goes wrong, against a real Janus.
// The caller and Agent A are RTP participants (rtp_join); the trunk is a
// UDP SIP peer on loopback that answers each number its own way — busy,
// ringing for ever, answering.  (The happy path with a real baresip is
// tests/e2e/transfer-phone-baresip.test.mjs.)  Busy, no answer within the
// ring timeout ([transfer] ring_timeout = 3 here), Agent A hanging up while
// B rings, the caller hanging up mid-consult: each ends in a defined state
// with its notification and record, the caller never left on hold, no
// room (hidden ones included), SIP call or leg left behind.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startJanus, adminRequest, repoRoot, SIP_PORT } from '../lib/janus.mjs';
import { openNotifications, rest } from '../lib/notifications.mjs';
import { SipPeer, RtpLeg, sdpOffer } from '../lib/sip.mjs';

const TRUNK_PORT = SIP_PORT + 9;
const ROOM = `tp-call-${process.pid}`;
const NUMBER = '+14155550142';
const BUSY = '+14155550486';
const NEVER = '+14155550480'; // rings, never answers
let janus, notes, trunk;
const legs = [];
// Each flow takes a few seconds (the ring timeout is 3 s).
const T = { timeout: 60000 };

before(async () => {
	const conf = readFileSync(join(repoRoot, 'conf', 'janus.plugin.switchboard.jcfg'), 'utf8')
		.replace(/allow = "[^"]*"/, 'allow = "127.0.0.1"')
		.replace('#trunk = "example.pstn.twilio.com"', `trunk = "127.0.0.1:${TRUNK_PORT}"`)
		.replace(/(transfer: \{[^}]*?)ring_timeout = "30"/, '$1ring_timeout = "3"');
	assert.match(conf, /trunk = "127\.0\.0\.1/);
	assert.match(conf, /ring_timeout = "3"/);
	janus = await startJanus({ pluginConfig: conf });
	notes = await openNotifications();
	trunk = await new SipPeer({ port: TRUNK_PORT }).start();
}, { timeout: 120000 });

after(async () => {
	for (const l of legs) l.close();
	notes?.close();
	trunk?.close();
	if (janus) await janus.stop();
});

async function rtpJoin(display) {
	const leg = await new RtpLeg().start();
	legs.push(leg);
	const r = await adminRequest({ request: 'rtp_join', room: ROOM, ip: '127.0.0.1', port: leg.port, codec: 'pcmu', display });
	assert.equal(r.switchboard, 'rtp_joined', JSON.stringify(r));
	leg.id = r.id;
	leg.remote = { ip: r.ip, port: r.port };
	return leg;
}

// The humans of a room (the room's AI agent comes and goes with them).
const participants = async (room) =>
	((await adminRequest({ request: 'listparticipants', room })).participants ?? []).filter((p) => p.kind !== 'agent');
const roomExists = async (room) => (await rest('GET', `/rooms/${room}`)).status === 200;
const busFor = (id, type) => () => notes.events.find((e) => e.type === type && e.transfer_id === id);

// Every number the tests use, answered its way; CANCEL ends a ringing one.
let answerLeg = null;
function trunkBehaviour() {
	const ringing = new Map(); // Call-ID -> INVITE
	trunk.onRequest = (req) => {
		if (req.method === 'CANCEL') {
			const invite = ringing.get(req.h('call-id'));
			if (invite) trunk.respond(invite, 487, { reason: 'Request Terminated', toTag: 'tr' });
			ringing.delete(req.h('call-id'));
			return { status: 200 };
		}
		if (req.method !== 'INVITE') return { status: 200 };
		const number = /sip:(\+\d+)@/.exec(req.uri)?.[1];
		if (number === BUSY) return { status: 486, reason: 'Busy Here', toTag: 'tb' };
		if (number === NEVER) {
			ringing.set(req.h('call-id'), req);
			trunk.respond(req, 180, { reason: 'Ringing', toTag: 'tr' });
			return null;
		}
		return { status: 200, toTag: 'tt', body: sdpOffer({ port: answerLeg.port, codecs: [[0, 'PCMU/8000']] }) };
	};
}

// Nothing of a transfer left: no consult room (hidden rooms included), no
// SIP call, the caller's room as expected.
async function assertNothingLeft(consult) {
	const rooms = (await adminRequest({ request: 'list', hidden: true })).list.map((r) => r.room);
	assert.ok(!rooms.includes(consult), `${consult} leaked: ${JSON.stringify(rooms)}`);
	assert.ok(!rooms.some((r) => r.startsWith('consult-')), JSON.stringify(rooms));
	for (let i = 0; ; i++) {
		const c = (await rest('GET', '/sip/calls')).json.calls;
		if (c.length === 0) break;
		if (i > 100) assert.deepEqual(c, [], 'SIP calls left behind');
		await new Promise((r) => setTimeout(r, 100));
	}
}

// The transfer's record in the history, once the writer has it.
async function record(id, state) {
	for (let i = 0; ; i++) {
		const h = (await rest('GET', '/api/transfers/history')).json?.transfers?.find((x) => x.transfer_id === id);
		if (h?.state === state || i > 100) return h;
		await new Promise((r) => setTimeout(r, 100));
	}
}

let caller;
test('a busy number: back with the caller, hold over, nothing left behind', T, async () => {
	answerLeg = await new RtpLeg().start();
	legs.push(answerLeg);
	trunkBehaviour();
	assert.ok((await rest('POST', '/room/create', { roomName: ROOM })).status < 300);
	caller = await rtpJoin('Caller');
	const alice = await rtpJoin('Alice');
	const r = await rest('POST', '/api/transfer/initiate', { room: ROOM, from: alice.id, to: { number: BUSY } });
	assert.equal(r.status, 200, r.text);
	const id = r.json.transfer_id;
	const failed = await notes.until('transfer_failed', busFor(id, 'transfer_failed'), 10000);
	assert.equal(failed.reason, 'busy');
	const back = await participants(ROOM);
	assert.deepEqual(back.map((p) => [p.id, !!p.on_hold]).sort(), [[caller.id, false], [alice.id, false]].sort());
	await assertNothingLeft(r.json.consult_room);
	const h = await record(id, 'failed');
	assert.equal(h?.state, 'failed', JSON.stringify(h));
	assert.equal(h.failure, 'busy');
	assert.ok(h.ended >= h.initiated);
	assert.equal(h.accepted, null);
	// Bad input changes nothing.
	const bad = await rest('POST', '/api/transfer/initiate', { room: ROOM, from: alice.id, to: { number: '12345' } });
	assert.equal(bad.status, 400, bad.text);
	alice.close();
	await adminRequest({ request: 'kick', room: ROOM, id: alice.id });
});

test('no answer within the ring timeout: the call is cancelled, A is back with the caller', T, async () => {
	const alice = await rtpJoin('Alice');
	const r = await rest('POST', '/api/transfer/initiate', { room: ROOM, from: alice.id, to: { number: NEVER } });
	assert.equal(r.status, 200, r.text);
	const id = r.json.transfer_id;
	// Ringing: the caller on hold, Alice in the consult room.
	await notes.until('ringing', () => notes.events.find((e) => e.type === 'call_status' && e.status === 'ringing' && e.room === r.json.consult_room), 5000);
	assert.deepEqual((await participants(ROOM)).map((p) => [p.id, !!p.on_hold]), [[caller.id, true]]);
	const failed = await notes.until('transfer_failed', busFor(id, 'transfer_failed'), 15000);
	assert.equal(failed.reason, 'no_answer');
	// The trunk got a CANCEL for the INVITE.
	assert.ok(trunk.received.some((m) => m.method === 'CANCEL'), trunk.received.map((m) => m.method).join(','));
	const back = await participants(ROOM);
	assert.deepEqual(back.map((p) => [p.id, !!p.on_hold]).sort(), [[caller.id, false], [alice.id, false]].sort());
	await assertNothingLeft(r.json.consult_room);
	assert.equal((await rest('GET', `/api/transfers/${id}`)).json.state, 'failed');
	assert.equal((await record(id, 'failed'))?.failure, 'no_answer');
	alice.close();
	await adminRequest({ request: 'kick', room: ROOM, id: alice.id });
});

test('Agent A hangs up while B rings: B\'s call is cancelled, the caller is off hold and queued', T, async () => {
	const alice = await rtpJoin('Alice');
	const r = await rest('POST', '/api/transfer/initiate', { room: ROOM, from: alice.id, to: { number: NEVER } });
	assert.equal(r.status, 200, r.text);
	const id = r.json.transfer_id;
	await notes.until('ringing', () => notes.events.find((e) => e.type === 'call_status' && e.status === 'ringing' && e.room === r.json.consult_room), 5000);
	const cancels = () => trunk.received.filter((m) => m.method === 'CANCEL').length;
	const before = cancels();
	assert.equal((await adminRequest({ request: 'kick', room: r.json.consult_room, id: alice.id })).error_code, undefined);
	const failed = await notes.until('transfer_failed', busFor(id, 'transfer_failed'), 5000);
	assert.equal(failed.reason, 'from_left');
	await notes.until('the CANCEL', () => cancels() > before, 5000);
	assert.deepEqual((await participants(ROOM)).map((p) => [p.id, !!p.on_hold]), [[caller.id, false]]);
	const q = (await rest('GET', '/api/queue')).json.queue;
	assert.ok(q.some((e) => e.room === ROOM && e.reason === 'agent_left'), JSON.stringify(q));
	await assertNothingLeft(r.json.consult_room);
	alice.close();
});

test('the caller hangs up mid-consult: B\'s leg is hung up, A is out, nothing is left', T, async () => {
	const alice = await rtpJoin('Alice');
	const r = await rest('POST', '/api/transfer/initiate', { room: ROOM, from: alice.id, to: { number: NUMBER } });
	assert.equal(r.status, 200, r.text);
	const id = r.json.transfer_id;
	const consult = r.json.consult_room;
	await notes.until('transfer_accepted', busFor(id, 'transfer_accepted'), 10000);
	assert.equal((await rest('GET', `/api/transfers/${id}`)).json.state, 'consulting');
	assert.equal((await rest('GET', '/sip/calls')).json.calls.length, 1);
	assert.equal((await adminRequest({ request: 'kick', room: ROOM, id: caller.id })).error_code, undefined);
	const failed = await notes.until('transfer_failed', busFor(id, 'transfer_failed'), 5000);
	assert.equal(failed.reason, 'caller_left');
	// The trunk got a BYE; the rooms are gone.
	await notes.until('the BYE', () => trunk.received.some((m) => m.method === 'BYE'), 5000);
	await assertNothingLeft(consult);
	assert.equal(await roomExists(ROOM), false);
	const h = await record(id, 'failed');
	assert.equal(h?.failure, 'caller_left');
	assert.ok(h.accepted >= h.initiated && h.ended >= h.accepted, JSON.stringify(h));
	// Acting on it now: a clear error.
	const again = await rest('POST', '/api/transfer/complete', { transferId: id });
	assert.equal(again.status, 409, again.text);
	alice.close();
});
