// A Twilio Media Streams call seen through LiveKit's RoomService: the
// caller is a SIP participant with LiveKit's sip.* attributes and Twilio's
// identifiers, and RemoveParticipant takes it out of the room.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import WebSocket from 'ws';
import { RoomServiceClient } from 'livekit-server-sdk';
import { startJanus, API_URL } from '../lib/janus.mjs';
import { twilioPluginConfig, voiceSocket, ACCOUNT_SID } from '../lib/twilio.mjs';

const KEY = 'APItwilioKey';
const SECRET = 'twilio-livekit-secret-abcdefghijklmnopqrstuvwxyz';
const KIND_SIP = 3; // ParticipantInfo.Kind (not re-exported by the SDK)
const T = { timeout: 30000 };
let janus;
const sockets = [];

before(async () => {
	janus = await startJanus({ pluginConfig: `${twilioPluginConfig()}\nlivekit: {\n\tkeys: {\n\t\t${KEY} = "${SECRET}"\n\t}\n}\n` });
}, { timeout: 60000 });
after(async () => {
	for (const ws of sockets) ws.terminate();
	if (janus) await janus.stop();
});

async function listUntil(svc, room, pred, ms = 10000) {
	const deadline = Date.now() + ms;
	for (;;) {
		const list = await svc.listParticipants(room);
		if (pred(list) || Date.now() > deadline) return list;
		await new Promise((r) => setTimeout(r, 100));
	}
}

test('a Twilio caller is a SIP participant with sip.callID, sip.phoneNumber, sip.callStatus and its Twilio ids; RemoveParticipant takes it out', T, async () => {
	const sid = `CA${crypto.randomBytes(16).toString('hex')}`;
	const sock = await voiceSocket(sid, { from: '+14155550123' });
	const room = sock.params.room;
	const ws = new WebSocket(sock.local, { headers: sock.headers });
	sockets.push(ws);
	await new Promise((resolve, reject) => { ws.on('open', resolve); ws.on('error', reject); });
	const streamSid = `MZ${crypto.randomBytes(16).toString('hex')}`;
	ws.send(JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' }));
	ws.send(JSON.stringify({ event: 'start', sequenceNumber: '1', streamSid, start: { accountSid: ACCOUNT_SID, streamSid, callSid: sid, tracks: ['inbound'], customParameters: { ...sock.params }, mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 } } }));

	// The call's own room, managed as any other.
	const svc = new RoomServiceClient(API_URL, KEY, SECRET);
	const list = await listUntil(svc, room, (l) => l.some((p) => p.kind === KIND_SIP));
	const caller = list.find((p) => p.kind === KIND_SIP);
	assert.ok(caller, JSON.stringify(list));
	assert.match(caller.identity, /^twilio-\d+$/);
	assert.equal(caller.attributes['sip.callID'], sid);
	assert.equal(caller.attributes['sip.twilio.callSid'], sid);
	assert.equal(caller.attributes['sip.twilio.accountSid'], ACCOUNT_SID);
	assert.equal(caller.attributes['sip.phoneNumber'], '+14155550123');
	assert.equal(caller.attributes['sip.callStatus'], 'active');

	await svc.removeParticipant(room, caller.identity);
	// Gone from the room (or the room with it: a call's room is ephemeral).
	const left = await svc.listParticipants(room).catch((e) => {
		assert.equal(e.code, 'not_found');
		return [];
	});
	assert.ok(!left.some((p) => p.kind === KIND_SIP));
});
