// Dialling out costs money and reaches anyone (docs/security.md): a human
// agent transfers to a number or a SIP URI only when their account has the
// dial grant.  A UDP socket plays the SIP URI target: without the grant it
// receives NO INVITE; with it, it does (the positive control).  And the
// outbound leg answers a 401 with the trunk's credentials only when the
// challenge comes from the trunk it dialled: the URI target that challenges
// gets no digest of them; the trunk that challenges does.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startJanus, adminRequest, repoRoot, SIP_PORT, JanusHandle } from '../lib/janus.mjs';
import { rest } from '../lib/notifications.mjs';
import { SipPeer, RtpLeg, checkDigest } from '../lib/sip.mjs';
import { makeAgent, signedIn } from '../lib/console.mjs';

const T = { timeout: 60000 };
const TRUNK_PORT = SIP_PORT + 17;
const TARGET_PORT = SIP_PORT + 19;
const NUMBER = '+14155550123';
// No INVITE within this long after the refusal: the refusal is synchronous
// (nothing is queued for the SIP thread), so this only has to outlast a
// slow loop, not a timer.
const SILENCE_MS = 1500;
const trunkAuth = { user: 'switchboard', password: 'trunk-secret', realm: 'pstn.test' };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let janus, trunk, target;
const legs = [];
const handles = [];

before(async () => {
	const conf = readFileSync(join(repoRoot, 'conf', 'janus.plugin.switchboard.jcfg'), 'utf8')
		.replace(/allow = "[^"]*"/, 'allow = "127.0.0.1"')
		.replace('#trunk = "example.pstn.twilio.com"', `trunk = "127.0.0.1:${TRUNK_PORT}"`)
		.replace('#trunk_user = "switchboard"', `trunk_user = "${trunkAuth.user}"`)
		.replace('#trunk_password = "change-me"', `trunk_password = "${trunkAuth.password}"`)
		.replace('ring_timeout = "45"', 'ring_timeout = "5"')
		.replace('auto_join = ["phone", "whatsapp"]', 'auto_join = []');
	assert.match(conf, /trunk_password = "trunk-secret"/);
	janus = await startJanus({ pluginConfig: conf });
	trunk = await new SipPeer({ port: TRUNK_PORT }).start();
	target = await new SipPeer({ port: TARGET_PORT }).start();
	await makeAgent('nodial', { name: 'No Dial' });
	await makeAgent('dialer', { name: 'Dialer', dial: true });
}, { timeout: 60000 });

after(async () => {
	for (const l of legs) l.close();
	for (const h of handles) await h.destroy();
	trunk?.close();
	target?.close();
	if (janus) await janus.stop();
});

// A call with a caller (an RTP leg) that the agent takes from the queue;
// returns the agent's Janus handle, in the call.
async function agentInCall(agentId, room) {
	assert.equal((await rest('POST', '/room/create', { roomName: room })).status, 201);
	const leg = await new RtpLeg().start();
	legs.push(leg);
	const joined = await adminRequest({ request: 'rtp_join', room, ip: '127.0.0.1', port: leg.port, codec: 'pcmu', display: 'Caller' });
	assert.equal(joined.switchboard, 'rtp_joined', JSON.stringify(joined));
	const me = await signedIn(agentId);
	const h = await JanusHandle.attach();
	handles.push(h);
	assert.equal((await h.requestAsync({ request: 'join', room: me.desk, token: me.token })).data.switchboard, 'joined');
	assert.equal((await rest('POST', '/api/queue', { room })).status, 200);
	const taken = await h.request({ request: 'queue_take', room });
	assert.equal(taken.switchboard, 'taken', JSON.stringify(taken));
	return h;
}

const invites = (peer) => peer.received.filter((m) => m.method === 'INVITE');

test('no dial grant: a transfer to a SIP URI or a number is refused and nothing is dialled', T, async () => {
	const h = await agentInCall('nodial', `cd-nodial-${process.pid}`);
	target.received.length = 0;
	trunk.received.length = 0;
	const room = `cd-nodial-${process.pid}`;
	for (const to of [{ uri: `sip:x@127.0.0.1:${TARGET_PORT}` }, { number: NUMBER }]) {
		const r = await h.request({ request: 'transfer', action: 'start', room, to });
		assert.equal(r.error_code, 488, JSON.stringify(r));
		assert.match(r.error, /dial grant/);
	}
	await sleep(SILENCE_MS);
	assert.deepEqual(invites(target), [], 'the URI target got an INVITE');
	assert.deepEqual(invites(trunk), [], 'the trunk got an INVITE');
	// Still in the call with the caller: nothing changed.
	const inRoom = (await adminRequest({ request: 'listparticipants', room })).participants;
	assert.deepEqual(inRoom.map((p) => p.kind).sort(), ['rtp', 'web'], JSON.stringify(inRoom));
});

test('the dial grant: the SIP URI target gets the INVITE; its 401 gets no trunk credentials; the trunk\'s 401 does', T, async () => {
	const room = `cd-dial-${process.pid}`;
	const h = await agentInCall('dialer', room);
	target.received.length = 0;
	// The URI target challenges, as anyone could.
	target.onRequest = (req) => req.method !== 'INVITE' ? { status: 200 }
		: { status: 401, reason: 'Unauthorized', toTag: 'ev', headers: { 'WWW-Authenticate': `Digest realm="${trunkAuth.realm}", nonce="evil-nonce", algorithm=MD5, qop="auth"` } };
	const r = await h.request({ request: 'transfer', action: 'start', room, to: { uri: `sip:x@127.0.0.1:${TARGET_PORT}` } });
	assert.equal(r.switchboard, 'transfer', JSON.stringify(r));
	const deadline = Date.now() + 10000;
	while (!invites(target).length && Date.now() < deadline) await sleep(50);
	assert.ok(invites(target).length >= 1, 'the positive control: the target got the INVITE');
	// The leg fails on the 401 (the ACK for it arrives): no second INVITE,
	// and no Authorization anywhere.
	while (!target.received.some((m) => m.method === 'ACK') && Date.now() < deadline) await sleep(50);
	await sleep(SILENCE_MS);
	assert.deepEqual(target.received.filter((m) => m.h('authorization') || m.h('proxy-authorization')).map((m) => m.first), []);
	assert.equal(invites(target).length, 1, 'no re-INVITE with credentials');
	const t = await rest('GET', `/api/transfers/${r.transfer_id}`);
	for (let i = 0; i < 100 && !['failed', 'cancelled'].includes(t.json?.state); i++) {
		await sleep(100);
		Object.assign(t, await rest('GET', `/api/transfers/${r.transfer_id}`));
	}
	assert.equal(t.json.state, 'failed', JSON.stringify(t.json));
	// The challenged leg is gone (not left waiting for credentials, its
	// RTP port and handle held, and Janus' shutdown waiting for it).
	const legOf = async () => (await adminRequest({ request: 'sip_calls' })).calls.filter((c) => c.to?.includes(`:${TARGET_PORT}`));
	for (let i = 0; i < 50 && (await legOf()).length; i++) await sleep(100);
	assert.deepEqual(await legOf(), []);

	// The trunk itself challenges: it gets the digest (its own nonce).
	let authorized = null;
	trunk.onRequest = (req) => {
		if (req.method !== 'INVITE') return { status: 200 };
		const auth = req.h('authorization');
		if (!auth) return { status: 401, reason: 'Unauthorized', toTag: 'tt', headers: { 'WWW-Authenticate': `Digest realm="${trunkAuth.realm}", nonce="trunk-nonce", algorithm=MD5, qop="auth"` } };
		authorized = checkDigest(auth, { ...trunkAuth, nonce: 'trunk-nonce', method: 'INVITE' });
		return { status: 486, reason: 'Busy Here', toTag: 'tt' };
	};
	const n = await h.request({ request: 'transfer', action: 'start', room, to: { number: NUMBER } });
	assert.equal(n.switchboard, 'transfer', JSON.stringify(n));
	while (authorized === null && Date.now() < deadline + 10000) await sleep(50);
	assert.equal(authorized, true, 'the trunk got a valid digest');
});
