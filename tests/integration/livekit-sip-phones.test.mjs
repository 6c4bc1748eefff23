// LiveKit's SIP calls with real phones: the trunk is a baresip phone that
// answers by itself.  SipClient.createSipParticipant dials it into a room
// and answers once the phone has picked up (the leg listed under its
// identity); transferSipParticipant REFERs it to a second baresip phone,
// which rings and answers, and the answer comes once the transfer is done.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RoomServiceClient, SipClient } from 'livekit-server-sdk';
import { startJanus, repoRoot, SIP_PORT, API_URL } from '../lib/janus.mjs';
import { openNotifications } from '../lib/notifications.mjs';
import { startBaresip, withSipRoomSecret } from '../lib/sip.mjs';

const KEY = 'APIphonesKey1';
const SECRET = 'phones-secret-abcdefghijklmnopqrstuvwxyz012345';
const PHONE_A_PORT = SIP_PORT + 21;
const PHONE_B_PORT = SIP_PORT + 23;
const NUMBER = '+14155550123';
let janus, notes;

before(async () => {
	const conf = withSipRoomSecret(readFileSync(join(repoRoot, 'conf', 'janus.plugin.switchboard.jcfg'), 'utf8'))
		.replace(/^\tallow = "[^"]*"/m, '\tallow = "127.0.0.1"')
		.replace('#trunk = "example.pstn.twilio.com"', `trunk = "127.0.0.1:${PHONE_A_PORT}"`)
		.replace('auto_join = ["phone", "whatsapp"]', 'auto_join = []') +
		`\nlivekit: {\n\tkeys: {\n\t\t${KEY} = "${SECRET}"\n\t}\n}\n`;
	assert.match(conf, new RegExp(`trunk = "127\\.0\\.0\\.1:${PHONE_A_PORT}"`));
	janus = await startJanus({ pluginConfig: conf });
	notes = await openNotifications();
}, { timeout: 60000 });
after(async () => {
	notes?.close();
	if (janus) await janus.stop();
});

const statusOf = (id, status) => () => notes.events.find((e) => e.type === 'call_status' && e.call_id === id && e.status === status);

test('a baresip phone dialled into a room through SipClient, then REFERred to another phone', { timeout: 60000 }, async () => {
	const phones = [];
	try {
		// Phone A answers calls to the number; phone B is where A goes.
		const a = await startBaresip({ port: PHONE_A_PORT, autoAnswer: true, user: NUMBER });
		phones.push(a);
		const b = await startBaresip({ port: PHONE_B_PORT, autoAnswer: true, user: 'bob' });
		phones.push(b);
		const room = `lk-phones-${process.pid}`;
		const sip = new SipClient(API_URL, KEY, SECRET);
		const info = await sip.createSipParticipant('ST_trunk', NUMBER, room,
			{ participantIdentity: 'phone-a', participantName: 'Alice', waitUntilAnswered: true })
			.catch((e) => { throw new Error(`${e.message}\nbaresip A: ${a.output().slice(-1500)}`); });
		assert.equal(info.participantIdentity, 'phone-a');
		assert.match(info.participantId, /^PA_\d+$/);
		await a.waitFor(/Call established/);
		const listed = await new RoomServiceClient(API_URL, KEY, SECRET).listParticipants(room);
		assert.deepEqual(listed.map((p) => [p.identity, p.name]), [['phone-a', 'Alice']]);

		await sip.transferSipParticipant(room, 'phone-a', `sip:bob@127.0.0.1:${PHONE_B_PORT}`)
			.catch((e) => { throw new Error(`${e.message}\nbaresip A: ${a.output().slice(-1500)}`); });
		await b.waitFor(/Call established|incoming call/i, 10000);
		await notes.until('transferred', statusOf(info.sipCallId, 'transferred'), 5000);
		await notes.until('completed', statusOf(info.sipCallId, 'completed'), 10000);
	} finally {
		for (const p of phones) await p.stop();
	}
});
