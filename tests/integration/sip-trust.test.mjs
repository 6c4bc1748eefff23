// Who a SIP INVITE may be and where it may go (docs/security.md, "SIP
// peer"), against real SIP on loopback: a room named by X-Room or the
// request-URI is entered only with Switchboard's signature for it, never a
// hidden one; a call's own room is made for it or the call is refused, and
// needs a join token; the Twilio account is checked; a flood from one
// source spends that source's budget while another source gets in; an
// empty allow-list refuses everyone. Each test calls from its own loopback
// address (127.0.0.16/28 are allowed) so that one test's calls do not spend
// another's per-source budget.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startJanus, adminRequest, JanusHandle, repoRoot, SIP_PORT } from '../lib/janus.mjs';
import { openNotifications, rest } from '../lib/notifications.mjs';
import { SipPeer, RtpLeg, placeCall, inDialog, withSipRoomSecret, signRoom, roomHeaders, roomSignature } from '../lib/sip.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// A few INVITEs each; the flood ~1 s; a hang fails in a minute.
const T = { timeout: 60000 };
const ACCOUNT = 'ACtrust0123456789abcdef0123456789';
// Per source: a bucket of SOURCE_BURST calls refilled at SOURCE_RATE/s.
const SOURCE_RATE = 5;
const SOURCE_BURST = 8;
let janus, notes, leg;
const peers = [];
const handles = [];

function config({ allow = '127.0.0.1, 127.0.0.16/28', security = '' } = {}) {
	const conf = withSipRoomSecret(readFileSync(join(repoRoot, 'conf', 'janus.plugin.switchboard.jcfg'), 'utf8'))
		.replace(/^\tallow = "[^"]*"/m, `\tallow = "${allow}"`)
		.replace('sip_account_check = false', 'sip_account_check = true')
		.replace('#account_sid = "ACxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"', `account_sid = "${ACCOUNT}"`)
		.replace('calls_per_second = "20"', 'calls_per_second = "50"')
		.replace('calls_burst = "40"', 'calls_burst = "60"')
		.replace('calls_per_source = "10"', `calls_per_source = "${SOURCE_RATE}"`)
		.replace('calls_per_source_burst = "20"', `calls_per_source_burst = "${SOURCE_BURST}"`)
		.replace('rtp_timeout = 30', security || 'rtp_timeout = 30')
		.replace('auto_join = ["phone", "whatsapp"]', 'auto_join = []');
	for (const re of [new RegExp(`^\\tallow = "${allow.replace(/[./]/g, (c) => `\\${c}`)}"$`, 'm'), /sip_account_check = true/,
		new RegExp(`account_sid = "${ACCOUNT}"`), new RegExp(`calls_per_source = "${SOURCE_RATE}"`), /auto_join = \[\]/])
		assert.match(conf, re);
	return conf;
}

before(async () => {
	janus = await startJanus({ pluginConfig: config() });
	notes = await openNotifications();
	leg = await new RtpLeg().start();
}, { timeout: 60000 });

after(async () => {
	for (const h of handles) await h.destroy().catch(() => {});
	for (const p of peers) p.close();
	leg?.close();
	notes?.close();
	if (janus) await janus.stop();
});

async function peerAt(ip) {
	const p = await new SipPeer({ ip }).start();
	peers.push(p);
	return p;
}

// An INVITE from our Twilio account (unless headers say otherwise).
const call = (peer, opts = {}) => placeCall(peer, { sipPort: SIP_PORT, rtpPort: leg.port, ...opts,
	headers: { 'X-Twilio-AccountSid': ACCOUNT, ...opts.headers } });

async function metric(name) {
	const text = (await rest('GET', '/metrics')).text;
	const m = new RegExp(`^${name.replace(/[{}"]/g, (c) => `\\${c}`)} (\\d+)$`, 'm').exec(text);
	return m ? Number(m[1]) : NaN;
}
const sipIn = async (room) => ((await rest('GET', `/rooms/${room}`)).json?.participants ?? []).filter((p) => p.kind === 'sip');
const hangUp = async (peer, c) => assert.equal((await inDialog(peer, c, 'BYE'))?.status, 200);

test('X-Room without a valid signature is refused with 403 and changes nothing; the signed one gets in', T, async () => {
	const room = 'trust-room';
	assert.equal((await adminRequest({ request: 'create', room, ephemeral: false })).switchboard, 'created');
	const peer = await peerAt('127.0.0.16');
	const now = Math.floor(Date.now() / 1000);
	const before = await metric('switchboard_sip_rejected_total{reason="signature"}');
	const refused = [
		[undefined, /X-Room needs X-Room-Signature/],
		[`${now + 300}.${'0'.repeat(64)}`, /does not match/],
		[signRoom('another-room'), /does not match/],
		[signRoom(room, { secret: 'not-the-configured-secret-0123456789' }), /does not match/],
		[signRoom(room, { expires: now - 5 }), /expired/],
		['trust-room', /malformed/],
	];
	for (const [sig, why] of refused) {
		const c = await call(peer, { user: '+14155550100', headers: { 'X-Room': room, ...(sig ? { 'X-Room-Signature': sig } : {}) } });
		assert.equal(c.res?.status, 403, `${sig} → ${c.res?.first}`);
		assert.match(c.res.h('warning') || '', why, `${sig}: ${c.res.h('warning')}`);
	}
	assert.equal(await metric('switchboard_sip_rejected_total{reason="signature"}'), before + refused.length);
	assert.deepEqual(await sipIn(room), [], 'no refused call got in');
	assert.equal(await metric('switchboard_sip_calls'), 0);

	const ok = await call(peer, { user: '+14155550100', headers: roomHeaders(room) });
	assert.equal(ok.res?.status, 200, ok.res?.first);
	assert.equal((await sipIn(room)).length, 1);
	// The signature admits whoever holds it: it is not shown to readers of calls.
	const joined = await notes.until('the call in the room', () => notes.events.find((e) => e.type === 'participant_joined' && e.room === room && e.participant.kind === 'sip'), 5000);
	assert.equal(joined.participant.info.headers['X-Room'], room);
	assert.equal(joined.participant.info.headers['X-Room-Signature'], undefined);
	await hangUp(peer, ok);
});

test('a request-URI naming a room needs the signature too (as a header or in the URI); unsigned INVITEs learn nothing', T, async () => {
	const room = 'trust-room';
	const peer = await peerAt('127.0.0.17');
	const bare = await call(peer, { user: room });
	assert.equal(bare.res?.status, 403, bare.res?.first);
	assert.deepEqual(await sipIn(room), []);
	const byHeader = await call(peer, { user: room, headers: roomSignature(room) });
	assert.equal(byHeader.res?.status, 200, byHeader.res?.first);
	await hangUp(peer, byHeader);
	// baresip 1.0 leaves a dialled URI's headers in the request-URI.
	const inUri = await call(peer, { user: room, uriHeaders: { 'X-Room-Signature': signRoom(room) } });
	assert.equal(inUri.res?.status, 200, inUri.res?.first);
	await hangUp(peer, inUri);
	// A room that does not exist: unsigned, the same 403 as one that does.
	const unsignedMissing = await call(peer, { user: 'no-such-room' });
	assert.equal(unsignedMissing.res?.status, 403);
	const signedMissing = await call(peer, { user: 'no-such-room', headers: roomSignature('no-such-room') });
	assert.equal(signedMissing.res?.status, 404);
});

test('a hidden room (an agent\'s desk) is never entered by an INVITE, signed or not', T, async () => {
	const signin = await adminRequest({ request: 'agent_signin', agentId: 'sip-trust-agent', name: 'Desk Owner' });
	const desk = signin.desk;
	assert.ok(desk, JSON.stringify(signin));
	const peer = await peerAt('127.0.0.18');
	const tries = [
		[{ user: '+14155550100', headers: { 'X-Room': desk } }, 403],
		[{ user: '+14155550100', headers: roomHeaders(desk) }, 404],
		[{ user: desk, headers: roomSignature(desk) }, 404],
		[{ user: desk, uriHeaders: { 'X-Room-Signature': signRoom(desk) } }, 404],
	];
	for (const [opts, status] of tries) {
		const c = await call(peer, opts);
		assert.equal(c.res?.status, status, `${JSON.stringify(opts)} → ${c.res?.first}`);
	}
	const inDesk = await adminRequest({ request: 'listparticipants', room: desk });
	assert.ok(Array.isArray(inDesk.participants), JSON.stringify(inDesk));
	assert.deepEqual(inDesk.participants.filter((p) => p.kind === 'sip'), []);
	assert.equal(await metric('switchboard_sip_calls'), 0);
});

test('a call gets a room of its own that needs a join token, and never one that exists already', T, async () => {
	const peer = await peerAt('127.0.0.19');
	const sid = 'CAtrustown000000000000000000000000';
	const own = await call(peer, { user: '+14155550100', headers: { 'X-Twilio-CallSid': sid } });
	assert.equal(own.res?.status, 200, own.res?.first);
	const room = `twilio-${sid}`;
	try {
		const info = (await rest('GET', `/rooms/${room}`)).json;
		assert.equal(info.require_token, true, JSON.stringify(info));
		// A browser cannot walk into the phone call by its name.
		const h = await JanusHandle.attach();
		handles.push(h);
		const walkIn = await h.requestAsync({ request: 'join', room, display: 'Nosy' });
		assert.equal(walkIn.data.error_code, 488, JSON.stringify(walkIn.data));
		assert.match(walkIn.data.error, /needs a join token/);
		// Another INVITE with the same CallSid does not join that call.
		const again = await call(peer, { user: '+14155550100', headers: { 'X-Twilio-CallSid': sid } });
		assert.equal(again.res?.status, 403, again.res?.first);
		assert.equal((await sipIn(room)).length, 1);
	} finally {
		await hangUp(peer, own);
	}
	// Nor a room someone made under a call's name.
	const taken = 'CAtrusttaken0000000000000000000000';
	assert.equal((await adminRequest({ request: 'create', room: `twilio-${taken}` })).switchboard, 'created');
	const borrow = await call(peer, { user: '+14155550100', headers: { 'X-Twilio-CallSid': taken } });
	assert.equal(borrow.res?.status, 403, borrow.res?.first);
	assert.deepEqual(await sipIn(`twilio-${taken}`), []);
});

test('with sip_account_check, a missing or wrong X-Twilio-AccountSid gets 403', T, async () => {
	const peer = await peerAt('127.0.0.20');
	const before = await metric('switchboard_sip_rejected_total{reason="account"}');
	const missing = await placeCall(peer, { sipPort: SIP_PORT, rtpPort: leg.port, user: '+14155550100' });
	assert.equal(missing.res?.status, 403, missing.res?.first);
	const wrong = await call(peer, { user: '+14155550100', headers: { 'X-Twilio-AccountSid': 'ACsomeoneelse000000000000000000000' } });
	assert.equal(wrong.res?.status, 403, wrong.res?.first);
	assert.match(wrong.res.h('warning') || '', /account/);
	assert.equal(await metric('switchboard_sip_rejected_total{reason="account"}'), before + 2);
	assert.equal(await metric('switchboard_sip_calls'), 0);
	const right = await call(peer, { user: '+14155550100' });
	assert.equal(right.res?.status, 200, right.res?.first);
	await hangUp(peer, right);
});

test('an INVITE flood from one source gets 503 from that source\'s budget; another source still gets in', T, async (t) => {
	const flooder = await peerAt('127.0.0.21');
	const other = await peerAt('127.0.0.22');
	const before = await metric('switchboard_sip_rejected_total{reason="source"}');
	const FLOOD = 30;
	const answered = [];
	try {
		const t0 = performance.now();
		const calls = await Promise.all(Array.from({ length: FLOOD }, (_, i) =>
			call(flooder, { user: '+14155550100', headers: { 'X-Twilio-CallSid': `CAflood${String(i).padStart(27, '0')}` } })));
		answered.push(...calls.filter((c) => c.res?.status === 200).map((c) => [flooder, c]));
		const refused = calls.filter((c) => c.res?.status === 503);
		// The source's bucket held SOURCE_BURST at t0 and gained SOURCE_RATE
		// per second until the last answer; one call of margin.
		const windowS = (Math.max(...calls.map((c) => c.res?.at ?? t0)) - t0) / 1000;
		const most = Math.floor(SOURCE_BURST + SOURCE_RATE * windowS) + 1;
		const seen = `${answered.length} answered, ${refused.length} refused in ${(windowS * 1000).toFixed(0)} ms (at most ${most})`;
		t.diagnostic(seen);
		assert.equal(answered.length + refused.length, FLOOD, seen);
		assert.ok(answered.length >= SOURCE_BURST && answered.length <= most, seen);
		assert.ok(FLOOD > most, `the flood outran the refill: ${seen}`);
		assert.ok(refused.every((c) => /^\d+$/.test(c.res.h('retry-after') || '') && /too many calls from this source/.test(c.res.h('warning'))), 'Retry-After and a Warning on every 503');
		assert.equal(await metric('switchboard_sip_rejected_total{reason="source"}'), before + refused.length);
		// Meanwhile another source is served: the flood spent its own budget.
		for (let i = 0; i < 3; i++) {
			const c = await call(other, { user: '+14155550100', headers: { 'X-Twilio-CallSid': `CAother${String(i).padStart(27, '0')}` } });
			assert.equal(c.res?.status, 200, `the other source's call ${i}: ${c.res?.first}`);
			answered.push([other, c]);
		}
	} finally {
		await Promise.all(answered.map(([p, c]) => inDialog(p, c, 'BYE')));
	}
});

// From here on, another configuration: no allow-list, [security] rtp_timeout = 2.
test('an empty [sip] allow refuses every source', { timeout: 90000 }, async () => {
	await janus.stop();
	notes.close();
	janus = null;
	janus = await startJanus({ pluginConfig: config({ allow: '', security: 'rtp_timeout = 2' }) });
	notes = await openNotifications();
	assert.equal((await adminRequest({ request: 'create', room: 'trust-room', ephemeral: false })).switchboard, 'created');
	const peer = await peerAt('127.0.0.23');
	const local = await peerAt('127.0.0.1');
	for (const p of [peer, local]) {
		const c = await call(p, { user: 'trust-room', headers: roomSignature('trust-room') });
		assert.equal(c.res?.status, 403, `${p.ip}: ${c.res?.first}`);
	}
	assert.equal(await metric('switchboard_sip_rejected_total{reason="acl"}'), 2);
	assert.equal(await metric('switchboard_sip_calls'), 0);
	assert.deepEqual(await sipIn('trust-room'), []);
});

test('an rtp_join participant that sends nothing for [security] rtp_timeout is removed; one that talks stays', T, async () => {
	const room = 'trust-room';
	const talker = await new RtpLeg().start();
	const mute = await new RtpLeg().start();
	try {
		const a = await adminRequest({ request: 'rtp_join', room, ip: '127.0.0.1', port: talker.port, codec: 'pcmu', display: 'talker' });
		const b = await adminRequest({ request: 'rtp_join', room, ip: '127.0.0.1', port: mute.port, codec: 'pcmu', display: 'silent' });
		assert.equal(b.switchboard, 'rtp_joined', JSON.stringify(b));
		const talking = talker.play('127.0.0.1', a.port, 440, 6000);
		const joined = await notes.until('the silent one joined', () => notes.events.find((e) => e.type === 'participant_joined' && e.room === room && e.participant?.id === b.id), 5000);
		const left = await notes.until('the silent one removed', () => notes.events.find((e) => e.type === 'participant_left' && e.room === room && e.participant?.id === b.id), 10000);
		// The plugin's own clock: not before rtp_timeout (2 s) of silence.
		assert.ok(left.timestamp - joined.timestamp >= 1900, `removed ${left.timestamp - joined.timestamp} ms after joining`);
		await talking;
		const inRoom = (await rest('GET', `/rooms/${room}`)).json.participants.map((p) => p.id);
		assert.ok(inRoom.includes(a.id), `the talker stays: ${JSON.stringify(inRoom)}`);
		assert.ok(!inRoom.includes(b.id));
		assert.equal(await metric('switchboard_rtp_timeouts_total'), 1);
		await adminRequest({ request: 'kick', room, id: a.id });
	} finally {
		talker.close();
		mute.close();
	}
});
