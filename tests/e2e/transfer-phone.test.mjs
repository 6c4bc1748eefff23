// Warm transfer to a phone target, end to end against a real Janus: the
// caller and Agent A are RTP participants (rtp_join); Agent B is a number
// reached through the SIP trunk, played by a UDP SIP peer on loopback that
// answers the INVITE with 200 + SDP and has its own RTP leg.  Initiate to
// the number: B's leg answers into the consult room with A, the caller on
// hold; complete: the SIP leg is in the caller's room (and hears the
// caller), A is gone, the consult room too.  A busy number ends back with
// the caller and leaves nothing behind.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startJanus, adminRequest, repoRoot, SIP_PORT } from '../lib/janus.mjs';
import { openNotifications, rest } from '../lib/notifications.mjs';
import { toneDb } from '../lib/audio.mjs';
import { SipPeer, RtpLeg, sdpOffer, sdpMedia } from '../lib/sip.mjs';

const TRUNK_PORT = SIP_PORT + 9;
const ROOM = `tp-call-${process.pid}`;
const NUMBER = '+14155550142';
const BUSY = '+14155550486';
let janus, notes, trunk;
const legs = [];

before(async () => {
	const conf = readFileSync(join(repoRoot, 'conf', 'janus.plugin.switchboard.jcfg'), 'utf8')
		.replace(/allow = "[^"]*"/, 'allow = "127.0.0.1"')
		.replace('#trunk = "example.pstn.twilio.com"', `trunk = "127.0.0.1:${TRUNK_PORT}"`);
	assert.match(conf, /trunk = "127\.0\.0\.1/);
	janus = await startJanus({ pluginConfig: conf });
	notes = await openNotifications();
	trunk = await new SipPeer({ port: TRUNK_PORT }).start();
});

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

test('initiate to a number: B answers into the consult room; complete puts the SIP leg with the caller', async () => {
	const b = await new RtpLeg().start();
	legs.push(b);
	let invite = null;
	trunk.onRequest = (req) => {
		if (req.method !== 'INVITE') return { status: 200 };
		const number = /sip:(\+\d+)@/.exec(req.uri)?.[1];
		if (number === BUSY) return { status: 486, reason: 'Busy Here', toTag: 'tb' };
		invite = req;
		return { status: 200, toTag: 'tt', body: sdpOffer({ port: b.port, codecs: [[0, 'PCMU/8000']] }) };
	};
	assert.equal((await rest('POST', '/room/create', { roomName: ROOM })).status < 300, true);
	const caller = await rtpJoin('Caller');
	const alice = await rtpJoin('Alice');

	const r = await rest('POST', '/api/transfer/initiate', { room: ROOM, from: alice.id, to: { number: NUMBER }, reason: 'billing' });
	assert.equal(r.status, 200, r.text);
	const id = r.json.transfer_id;
	const consult = r.json.consult_room;
	assert.equal(r.json.target_kind, 'number');
	assert.match(consult, /^consult-/);

	const accepted = await notes.until('transfer_accepted', busFor(id, 'transfer_accepted'), 10000);
	assert.ok(invite, 'the trunk got the INVITE');
	assert.match(invite.uri, new RegExp(`^sip:\\${NUMBER}@127\\.0\\.0\\.1:${TRUNK_PORT}`));
	const answered = notes.events.find((e) => e.type === 'call_status' && e.status === 'answered' && e.room === consult);
	assert.ok(answered, 'call_status answered in the consult room');
	// Consulting: Alice and B's SIP leg in the consult room; the caller alone, on hold.
	let info = (await rest('GET', `/api/transfers/${id}`)).json;
	assert.equal(info.state, 'consulting', JSON.stringify(info));
	const inConsult = await participants(consult);
	const sipLeg = inConsult.find((p) => p.kind === 'sip');
	assert.ok(sipLeg, JSON.stringify(inConsult));
	assert.equal(sipLeg.id, accepted.to_participant);
	assert.ok(inConsult.some((p) => p.id === alice.id));
	// The AI agent joined the consult room to read the summary to B.
	const all = (await adminRequest({ request: 'listparticipants', room: consult })).participants;
	assert.ok(all.some((p) => p.kind === 'agent'), JSON.stringify(all));
	const held = await participants(ROOM);
	assert.deepEqual(held.map((p) => [p.display, !!p.on_hold]), [['Caller', true]]);

	const done = await rest('POST', '/api/transfer/complete', { transferId: id });
	assert.equal(done.status, 200, done.text);
	assert.equal(done.json.state, 'completed');
	const after = await participants(ROOM);
	assert.deepEqual(after.map((p) => p.id).sort(), [caller.id, sipLeg.id].sort(), JSON.stringify(after));
	assert.ok(!after.some((p) => p.on_hold), 'the hold is over');
	assert.equal(await roomExists(consult), false, 'the consult room is gone');
	// Complete twice: a clear error, nothing changes.
	const again = await rest('POST', '/api/transfer/complete', { transferId: id });
	assert.equal(again.status, 409, again.text);
	info = (await rest('GET', `/api/transfers/${id}`)).json;
	assert.equal(info.state, 'completed');

	// B's phone hears the caller now.
	const from = b.packets.length;
	await caller.play(caller.remote.ip, caller.remote.port, 440, 1500);
	const heard = b.pcm(from);
	assert.ok(heard.length > 8000, `B got ${heard.length} samples`);
	assert.ok(toneDb(heard, 440) - toneDb(heard, 1000) > 15, 'B hears the caller');

	// B hangs up later: the caller stays in their room, the transfer stays completed.
	const end = await rest('POST', `/phone/end/${answered.call_id}`);
	assert.equal(end.status, 200, end.text);
	await notes.until('completed', () => notes.events.find((e) => e.type === 'call_status' && e.call_id === answered.call_id && e.status === 'completed'), 5000);
	assert.deepEqual((await participants(ROOM)).map((p) => p.id), [caller.id]);
	alice.close();
});

test('a busy number: back with the caller, hold over, nothing left behind', async () => {
	const alice = await rtpJoin('Alice');
	const r = await rest('POST', '/api/transfer/initiate', { room: ROOM, from: alice.id, to: { number: BUSY } });
	assert.equal(r.status, 200, r.text);
	const id = r.json.transfer_id;
	const failed = await notes.until('transfer_failed', busFor(id, 'transfer_failed'), 10000);
	assert.equal(failed.reason, 'busy');
	const back = await participants(ROOM);
	assert.ok(back.some((p) => p.id === alice.id), 'Alice is back with the caller');
	assert.ok(!back.some((p) => p.on_hold), 'the hold is over');
	assert.equal(await roomExists(r.json.consult_room), false);
	// Bad input changes nothing.
	const bad = await rest('POST', '/api/transfer/initiate', { room: ROOM, from: alice.id, to: { number: '12345' } });
	assert.equal(bad.status, 400, bad.text);
	trunk.onRequest = null;
});
