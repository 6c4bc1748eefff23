// Media that cannot be hijacked (docs/security.md, "Media"), with real RTP
// and SRTP on loopback: a SIP leg follows its peer to a new source address
// only on proof — SRTP that authenticates, or a run of plain RTP packets
// from that source with none from the peer meanwhile — so one forged
// packet (or a burst slipped between the peer's) moves nothing and does
// not get an SRTP call hung up; legs and rtp_join participants get random
// ports; rtp_join sends only where [security] rtp_join_allow says.  An
// rtp_join "observer" in each room plays 1000 Hz and tells what the room
// hears; the caller plays 440 Hz.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startJanus, adminRequest, repoRoot, SIP_PORT } from '../lib/janus.mjs';
import { openNotifications, rest } from '../lib/notifications.mjs';
import { toneDb, rtpPacket } from '../lib/audio.mjs';
import { SipPeer, RtpLeg, placeCall, inDialog, withSipRoomSecret, roomSignature } from '../lib/sip.mjs';
import { SrtpContext, newSrtpKey, sdpCryptoKey } from '../lib/srtp.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// Each test streams a few seconds of audio; a hang fails in a minute.
const T = { timeout: 60000 };
// [sip] rtp_timeout here: a call whose media is lost is hung up after it.
const SIP_RTP_TIMEOUT_S = 3;
const RANGE = [40000, 40999]; // conf/'s rtp_port_range
let janus, notes, peer;

before(async () => {
	const conf = withSipRoomSecret(readFileSync(join(repoRoot, 'conf', 'janus.plugin.switchboard.jcfg'), 'utf8'))
		.replace('rtp_timeout = "30"', `rtp_timeout = "${SIP_RTP_TIMEOUT_S}"`)
		.replace('calls_per_source = "10"', 'calls_per_source = "50"')
		.replace('calls_per_source_burst = "20"', 'calls_per_source_burst = "60"')
		.replace('auto_join = ["phone", "whatsapp"]', 'auto_join = []');
	assert.match(conf, new RegExp(`rtp_timeout = "${SIP_RTP_TIMEOUT_S}"`));
	assert.match(conf, /rtp_port_range = "40000-40999"/);
	janus = await startJanus({ pluginConfig: conf });
	notes = await openNotifications();
	peer = await new SipPeer().start();
}, { timeout: 60000 });

after(async () => {
	peer?.close();
	notes?.close();
	if (janus) await janus.stop();
});

async function metric(name) {
	const text = (await rest('GET', '/metrics')).text;
	const m = new RegExp(`^${name.replace(/[{}"]/g, (c) => `\\${c}`)} (\\d+)$`, 'm').exec(text);
	return m ? Number(m[1]) : NaN;
}
const counters = async () => ({
	latched: await metric('switchboard_rtp_latched_total'),
	foreign: await metric('switchboard_rtp_foreign_packets_total'),
	srtp: await metric('switchboard_rtp_srtp_failures_total'),
});

// A room with an observer in it (an rtp_join participant).
async function roomWithObserver(room) {
	assert.equal((await adminRequest({ request: 'create', room, ephemeral: false })).switchboard, 'created');
	const observer = await new RtpLeg().start();
	const joined = await adminRequest({ request: 'rtp_join', room, ip: '127.0.0.1', port: observer.port, codec: 'pcmu', display: 'observer' });
	assert.equal(joined.switchboard, 'rtp_joined', JSON.stringify(joined));
	observer.remote = { ip: joined.ip, port: joined.port };
	return observer;
}

// The caller's source (or sources, in turn) plays 440 Hz for ms while the
// observer plays 1000 Hz; true when the room heard the caller (the second
// half of what the observer received).
async function roomHearsCaller(observer, play, ms) {
	const mark = observer.packets.length;
	await Promise.all([play(), observer.play(observer.remote.ip, observer.remote.port, 1000, ms)]);
	const got = observer.packets.slice(mark);
	const heard = observer.pcm(mark + Math.floor(got.length / 2));
	return toneDb(heard, 440) - toneDb(heard, 1000) > 15;
}

// A stranger's socket on the same host, aiming at the leg's media port.
async function stranger() {
	return new RtpLeg().start('127.0.0.1');
}

const forged = (seq = 7) => rtpPacket({ pt: 0, seq, ts: 160 * seq, ssrc: 0xbad0bad0, payload: Buffer.alloc(160, 0x55) });

test('plain RTP: one forged packet, a burst or a stream interleaved with the peer\'s moves nothing; the peer keeps its media', T, async () => {
	const room = 'media-plain';
	const observer = await roomWithObserver(room);
	const leg = await new RtpLeg().start();
	const attacker = await stranger();
	let call;
	try {
		const before = await counters();
		call = await placeCall(peer, { sipPort: SIP_PORT, user: room, rtpPort: leg.port, headers: roomSignature(room) });
		assert.equal(call.res?.status, 200, call.res?.first);
		const { ip, port } = call.media;
		// The stranger is first: before the peer has sent anything.
		attacker.send(forged(), port, ip);
		await sleep(100);
		assert.ok(await roomHearsCaller(observer, () => leg.play(ip, port, 440, 1500), 1500), 'the room hears the peer, not the stranger');
		assert.ok(leg.packets.length >= 25, `the room's audio goes to the peer (${leg.packets.length} packets)`);
		// A burst of more packets than it takes to latch, between two of
		// the peer's; then a stream interleaved with the peer's.
		const talking = leg.play(ip, port, 440, 1500);
		await sleep(300);
		for (let i = 0; i < 8; i++) attacker.send(forged(100 + i), port, ip);
		await sleep(200);
		for (let i = 0; i < 25; i++) {
			attacker.send(forged(200 + i), port, ip);
			await sleep(20);
		}
		await talking;
		const mark = leg.packets.length;
		await leg.play(ip, port, 440, 400);
		assert.ok(leg.packets.length - mark >= 10, 'the peer still gets the room\'s audio');
		assert.equal(attacker.packets.length, 0, 'nothing was ever sent to the stranger');
		const now = await counters();
		assert.equal(now.latched, before.latched, 'the leg never moved');
		assert.ok(now.foreign >= before.foreign + 1 + 8 + 25, `the stranger's packets were dropped and counted (${now.foreign - before.foreign})`);
	} finally {
		if (call?.res?.status === 200) await inDialog(peer, call, 'BYE');
		for (const s of [observer, leg, attacker]) s.close();
		await adminRequest({ request: 'destroy', room }).catch(() => {});
	}
});

test('plain RTP: a real NAT rebinding (packets in a row from a new source, none from the old) moves the leg', T, async () => {
	const room = 'media-nat';
	const observer = await roomWithObserver(room);
	const leg = await new RtpLeg().start();
	const rebound = await new RtpLeg().start();
	let call;
	try {
		call = await placeCall(peer, { sipPort: SIP_PORT, user: room, rtpPort: leg.port, headers: roomSignature(room) });
		assert.equal(call.res?.status, 200, call.res?.first);
		const { ip, port } = call.media;
		await leg.play(ip, port, 440, 400);
		const before = await counters();
		// The NAT gives the peer a new port: the old one goes quiet.
		Object.assign(rebound, { seq: leg.seq, ts: leg.ts, ssrc: leg.ssrc });
		const oldMark = leg.packets.length;
		assert.ok(await roomHearsCaller(observer, () => rebound.play(ip, port, 440, 1500), 1500), 'the room hears the peer from its new address');
		assert.equal((await counters()).latched, before.latched + 1, 'the leg moved once');
		assert.ok(rebound.packets.length >= 25, `the room's audio follows the peer (${rebound.packets.length} packets)`);
		// The old address got the room's audio only until the move (a few
		// packet times; not the 75 of those 1.5 s).
		assert.ok(leg.packets.length - oldMark <= 40, `${leg.packets.length - oldMark} packets still went to the old address`);
	} finally {
		if (call?.res?.status === 200) await inDialog(peer, call, 'BYE');
		for (const s of [observer, leg, rebound]) s.close();
		await adminRequest({ request: 'destroy', room }).catch(() => {});
	}
});

test('SRTP: a forged packet from a stranger is dropped and counted, the call keeps its media and is not hung up; an authenticated new source moves the leg', T, async () => {
	const room = 'media-srtp';
	const observer = await roomWithObserver(room);
	const key = newSrtpKey();
	const leg = await new RtpLeg().start('127.0.0.1', { srtp: new SrtpContext(key) });
	const attacker = await stranger();
	const rebound = await new RtpLeg().start('127.0.0.1', { srtp: leg.srtp });
	let call;
	try {
		const before = await counters();
		call = await placeCall(peer, { sipPort: SIP_PORT, user: room, rtpPort: leg.port, headers: roomSignature(room), crypto: key });
		assert.equal(call.res?.status, 200, call.res?.first);
		const theirs = sdpCryptoKey(call.res.body);
		assert.ok(theirs, `the answer carries our key: ${call.res.body}`);
		const { ip, port } = call.media;
		// Forged SRTP (a made-up tag) first, before the peer's first packet.
		for (let i = 0; i < 3; i++) attacker.send(Buffer.concat([forged(i), Buffer.alloc(10, 0x42)]), port, ip);
		await sleep(100);
		// Longer than [sip] rtp_timeout: a call that lost its media would be hung up by now.
		const ms = (SIP_RTP_TIMEOUT_S + 1.5) * 1000;
		assert.ok(await roomHearsCaller(observer, () => leg.play(ip, port, 440, ms), ms), 'the room hears the SRTP peer');
		const now = await counters();
		assert.ok(now.srtp >= before.srtp + 3, `the forged packets failed authentication (${now.srtp - before.srtp})`);
		assert.equal(now.latched, before.latched, 'the leg did not move to the stranger');
		assert.equal(attacker.packets.length, 0, 'nothing was sent to the stranger');
		const mine = new SrtpContext(theirs);
		const recent = leg.packets.slice(-20);
		assert.ok(recent.length === 20 && recent.every((p) => mine.unprotect(p.raw)), 'the peer gets SRTP it can authenticate');
		assert.ok(!notes.events.some((e) => e.type === 'call_status' && e.status === 'completed' && e.room === room), 'the call is still up');
		assert.equal((await rest('GET', '/sip/calls')).json.calls.filter((c) => c.room === room).length, 1);

		// The peer's NAT moves it: its first authenticated packet moves the leg.
		Object.assign(rebound, { seq: leg.seq, ts: leg.ts, ssrc: leg.ssrc });
		assert.ok(await roomHearsCaller(observer, () => rebound.play(ip, port, 440, 1000), 1000), 'the room hears the peer from its new address');
		assert.equal((await counters()).latched, before.latched + 1);
		assert.ok(rebound.packets.length >= 15, `the room's audio follows the peer (${rebound.packets.length} packets)`);
		assert.equal((await counters()).srtp, now.srtp, 'the peer\'s own packets all authenticated');
	} finally {
		if (call?.res?.status === 200) await inDialog(peer, call, 'BYE');
		for (const s of [observer, leg, attacker, rebound]) s.close();
		await adminRequest({ request: 'destroy', room }).catch(() => {});
	}
});

// The ports of a set of legs, in the order they were given.
function assertRandomPorts(ports, what) {
	assert.ok(ports.every((p) => p >= RANGE[0] && p <= RANGE[1]), `${what}: ports in the range: ${ports}`);
	const steps = new Set(ports.slice(1).map((p, i) => p - ports[i]));
	assert.ok(steps.size > 1, `${what}: not an arithmetic run: ${ports}`);
	const sorted = [...ports].sort((a, b) => a - b);
	const gaps = new Set(sorted.slice(1).map((p, i) => p - sorted[i]));
	assert.ok(gaps.size > 1, `${what}: not a contiguous block: ${sorted}`);
}

// Whether a UDP port on 127.0.0.1 is taken.
async function portTaken(port) {
	const s = dgram.createSocket('udp4');
	try {
		await new Promise((resolve, reject) => { s.once('error', reject); s.bind(port, '127.0.0.1', resolve); });
		return false;
	} catch (e) {
		return e.code === 'EADDRINUSE';
	} finally {
		try { s.close(); } catch { /* not bound */ }
	}
}

test('legs and rtp_join participants get random ports of the range; a leg\'s RTCP is the odd port above', T, async () => {
	const leg = await new RtpLeg().start();
	const calls = [];
	const sinks = [];
	const room = 'media-ports';
	try {
		for (let i = 0; i < 20; i++) {
			const c = await placeCall(peer, { sipPort: SIP_PORT, user: '+14155550100', rtpPort: leg.port,
				headers: { 'X-Twilio-CallSid': `CAports${String(i).padStart(27, '0')}` } });
			assert.equal(c.res?.status, 200, c.res?.first);
			calls.push(c);
		}
		const ports = calls.map((c) => c.media.port);
		assertRandomPorts(ports, 'SIP legs');
		assert.ok(ports.every((p) => p % 2 === 0), `RTP on even ports: ${ports}`);
		for (const p of ports) assert.ok(await portTaken(p + 1), `RTCP on ${p + 1}`);

		assert.equal((await adminRequest({ request: 'create', room })).switchboard, 'created');
		const joined = [];
		for (let i = 0; i < 10; i++) {
			const s = await new RtpLeg().start();
			sinks.push(s);
			const r = await adminRequest({ request: 'rtp_join', room, ip: '127.0.0.1', port: s.port, codec: 'pcmu' });
			assert.equal(r.switchboard, 'rtp_joined', JSON.stringify(r));
			joined.push(r.port);
		}
		assertRandomPorts(joined, 'rtp_join');
	} finally {
		await Promise.all(calls.map((c) => inDialog(peer, c, 'BYE')));
		for (const s of [leg, ...sinks]) s.close();
		await adminRequest({ request: 'destroy', room }).catch(() => {});
	}
});

test('rtp_join sends a room\'s audio only to addresses in [security] rtp_join_allow', T, async () => {
	const room = 'media-join';
	assert.equal((await adminRequest({ request: 'create', room, ephemeral: false })).switchboard, 'created');
	try {
		const sockets = await metric('switchboard_rtp_sockets');
		const refusedBefore = await metric('switchboard_rtp_join_refused_total');
		for (const ip of ['192.0.2.77', '10.0.0.1', '8.8.8.8']) {
			const r = await adminRequest({ request: 'rtp_join', room, ip, port: 4000, codec: 'pcmu' });
			assert.equal(r.error_code, 488, JSON.stringify(r));
			assert.match(r.error, /not in \[security\] rtp_join_allow/);
		}
		assert.equal(await metric('switchboard_rtp_join_refused_total'), refusedBefore + 3);
		// Not more than before (an earlier test's leg may close meanwhile).
		const after = await metric('switchboard_rtp_sockets');
		assert.ok(after <= sockets, `no socket was opened: ${sockets} before, ${after} after`);
		assert.deepEqual((await adminRequest({ request: 'listparticipants', room })).participants, []);
		// Within 127.0.0.0/8 (the default): joined.
		const ok = await adminRequest({ request: 'rtp_join', room, ip: '127.0.0.9', port: 4000, codec: 'pcmu' });
		assert.equal(ok.switchboard, 'rtp_joined', JSON.stringify(ok));
		await adminRequest({ request: 'kick', room, id: ok.id });
	} finally {
		await adminRequest({ request: 'destroy', room }).catch(() => {});
	}
});
