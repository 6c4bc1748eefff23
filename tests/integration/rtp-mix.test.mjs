// Plain RTP participants in a real Janus: each sends a known tone (G.711
// mu-law) and must hear everyone else's tone but not its own (mix-minus);
// a muted participant contributes nothing; garbage and foreign packets are
// dropped and counted while the room keeps mixing.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { startJanus, adminRequest } from '../lib/janus.mjs';
import { track } from '../lib/resources.mjs';
import { mulawEncode, mulawDecode, alawEncode, alawDecode, toneFrame, toneDb, rtpPacket, parseRtp } from '../lib/audio.mjs';

let janus;
// Each test streams 2-3.5 s of audio; 60 s is ample on a loaded machine.
const T = { timeout: 60000 };
before(async () => { janus = await startJanus(); }, { timeout: 60000 });
after(async () => { if (janus) await janus.stop(); });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A plain RTP peer: sends a tone every 20 ms, keeps what it receives.
class RtpPeer {
	constructor(freq, codec = 'pcmu') {
		this.freq = freq;
		this.codec = codec;
		this.pt = codec === 'pcma' ? 8 : 0;
		this.encode = codec === 'pcma' ? alawEncode : mulawEncode;
		this.decode = codec === 'pcma' ? alawDecode : mulawDecode;
		this.received = [];
		this.ssrc = (Math.random() * 2 ** 32) >>> 0;
		this.seq = 1000;
		this.frame = 0;
	}
	async open() {
		this.sock = dgram.createSocket('udp4');
		this.untrack = track(`RTP peer ${this.freq} Hz`, () => this.close());
		this.sock.on('message', (msg) => {
			const p = parseRtp(msg);
			if (p && p.pt === this.pt) this.received.push(p);
		});
		await new Promise((r) => this.sock.bind(0, '127.0.0.1', r));
		this.port = this.sock.address().port;
	}
	async join(room, display) {
		const r = await adminRequest({ request: 'rtp_join', room, ip: '127.0.0.1', port: this.port, codec: this.codec, display });
		assert.equal(r.switchboard, 'rtp_joined', JSON.stringify(r));
		this.id = r.id;
		this.remote = { ip: r.ip, port: r.port };
		return r;
	}
	sendFrame() {
		const pcm = this.freq ? toneFrame(this.freq, this.frame) : new Int16Array(160);
		const payload = Uint8Array.from(pcm, (s) => this.encode(s));
		const pkt = rtpPacket({ pt: this.pt, seq: this.seq++, ts: this.frame * 160, ssrc: this.ssrc, payload });
		this.frame++;
		this.sock.send(pkt, this.remote.port, this.remote.ip);
	}
	// Decoded audio of the packets received in the last `ms` milliseconds.
	recentAudio(frames) {
		const pkts = this.received.slice(-frames).sort((a, b) => a.seq - b.seq);
		const out = [];
		for (const p of pkts) for (const b of p.payload) out.push(this.decode(b));
		return out;
	}
	close() {
		this.untrack?.();
		try { this.sock.close(); } catch { /* closed */ }
	}
}

async function stream(peers, ms) {
	const start = Date.now();
	let n = 0;
	while (Date.now() - start < ms) {
		for (const p of peers) p.sendFrame();
		n++;
		const next = start + n * 20;
		await sleep(Math.max(0, next - Date.now()));
	}
}

test('each RTP participant hears the others, not itself; muted adds nothing', T, async () => {
	const room = `rtp-${Date.now()}`;
	await adminRequest({ request: 'create', room, sampling_rate: 16000, ephemeral: false });
	const a = new RtpPeer(500), b = new RtpPeer(1100), c = new RtpPeer(1700);
	try {
		await mixMinus(room, a, b, c);
	} finally {
		for (const p of [a, b, c]) if (p.sock) p.close();
		await adminRequest({ request: 'destroy', room }).catch(() => {});
	}
});

async function mixMinus(room, a, b, c) {
	for (const p of [a, b, c]) await p.open();
	await a.join(room, 'A');
	await b.join(room, 'B');
	await c.join(room, 'C');
	const listed = await adminRequest({ request: 'listparticipants', room });
	assert.equal(listed.participants.length, 3);
	assert.ok(listed.participants.every((p) => p.kind === 'rtp'));

	await stream([a, b, c], 2000);
	const heardA = a.recentAudio(25), heardB = b.recentAudio(25), heardC = c.recentAudio(25);
	assert.ok(heardA.length >= 160 * 20, `A received audio (${heardA.length} samples)`);
	// A hears B and C loudly, and its own tone at least 30 dB lower.
	const dbA = { own: toneDb(heardA, 500), b: toneDb(heardA, 1100), c: toneDb(heardA, 1700) };
	assert.ok(dbA.b - dbA.own > 30, `A: B ${dbA.b.toFixed(1)} dB vs own ${dbA.own.toFixed(1)} dB`);
	assert.ok(dbA.c - dbA.own > 30, `A: C ${dbA.c.toFixed(1)} dB vs own ${dbA.own.toFixed(1)} dB`);
	const dbB = { own: toneDb(heardB, 1100), a: toneDb(heardB, 500), c: toneDb(heardB, 1700) };
	assert.ok(dbB.a - dbB.own > 30 && dbB.c - dbB.own > 30, `B: ${JSON.stringify(dbB)}`);
	const dbC = { own: toneDb(heardC, 1700), a: toneDb(heardC, 500), b: toneDb(heardC, 1100) };
	assert.ok(dbC.a - dbC.own > 30 && dbC.b - dbC.own > 30, `C: ${JSON.stringify(dbC)}`);

	// Mute C: A now hears B only.
	assert.equal((await adminRequest({ request: 'mute', room, id: c.id })).switchboard, 'success');
	await stream([a, b, c], 1500);
	const muted = a.recentAudio(25);
	const dbM = { b: toneDb(muted, 1100), c: toneDb(muted, 1700) };
	assert.ok(dbM.b - dbM.c > 30, `after mute, A: B ${dbM.b.toFixed(1)} dB, C ${dbM.c.toFixed(1)} dB`);
}

test('listeners on different codecs each hear the right mix', T, async () => {
	const room = `rtp-codecs-${Date.now()}`;
	await adminRequest({ request: 'create', room, sampling_rate: 48000, ephemeral: false });
	const talkers = [new RtpPeer(500, 'pcmu'), new RtpPeer(1100, 'pcma')];
	const listeners = [new RtpPeer(0, 'pcmu'), new RtpPeer(0, 'pcma'), new RtpPeer(0, 'pcmu'), new RtpPeer(0, 'pcma')];
	const all = [...talkers, ...listeners];
	try {
		await codecs(all, talkers, listeners, room);
	} finally {
		for (const p of all) if (p.sock) p.close();
		await adminRequest({ request: 'destroy', room }).catch(() => {});
	}
});

async function codecs(all, talkers, listeners, room) {
	for (const p of all) await p.open();
	for (const [i, p] of all.entries()) await p.join(room, `P${i}`);
	await stream(all, 2000);
	for (const [i, l] of listeners.entries()) {
		const heard = l.recentAudio(25);
		const db = { a: toneDb(heard, 500), b: toneDb(heard, 1100) };
		assert.ok(db.a > -40 && db.b > -40, `listener ${i} (${l.codec}) hears both talkers: ${JSON.stringify(db)}`);
	}
	const [t0, t1] = talkers.map((t) => t.recentAudio(25));
	assert.ok(toneDb(t0, 1100) - toneDb(t0, 500) > 30, 'the PCMU talker hears the PCMA one, not itself');
	assert.ok(toneDb(t1, 500) - toneDb(t1, 1100) > 30, 'the PCMA talker hears the PCMU one, not itself');
}

test('garbage, wrong payload types and foreign sources are dropped and counted', T, async () => {
	const room = `rtp-bad-${Date.now()}`;
	await adminRequest({ request: 'create', room, sampling_rate: 16000, ephemeral: false });
	const a = new RtpPeer(600), b = new RtpPeer(1300);
	const stranger = dgram.createSocket('udp4');
	try {
		await garbage(room, a, b, stranger);
	} finally {
		for (const p of [a, b]) if (p.sock) p.close();
		try { stranger.close(); } catch { /* closed */ }
		await adminRequest({ request: 'destroy', room }).catch(() => {}); // gone already unless the test failed
	}
});

async function garbage(room, a, b, stranger) {
	for (const p of [a, b]) await p.open();
	await a.join(room, 'A');
	await b.join(room, 'B');
	await new Promise((r) => stranger.bind(0, '127.0.0.1', r));
	const before = await adminRequest({ request: 'stats' });

	const start = Date.now();
	let n = 0;
	while (Date.now() - start < 2000) {
		a.sendFrame();
		b.sendFrame();
		// From B's own socket: truncated, not-RTP and wrong-PT packets.
		b.sock.send(Buffer.from([0x80, 0x00, 0x01]), b.remote.port, b.remote.ip);
		b.sock.send(Buffer.from('hello, not rtp at all'), b.remote.port, b.remote.ip);
		b.sock.send(rtpPacket({ pt: 96, seq: 1, ts: 1, ssrc: 1, payload: new Uint8Array(160) }), b.remote.port, b.remote.ip);
		// From an address nobody joined with: a loud 1700 Hz tone into A's port.
		const loud = Uint8Array.from(toneFrame(1700, n, 20000), (s) => mulawEncode(s));
		stranger.send(rtpPacket({ pt: 0, seq: n, ts: n * 160, ssrc: 99, payload: loud }), a.remote.port, a.remote.ip);
		n++;
		await sleep(Math.max(0, start + n * 20 - Date.now()));
	}
	const after = await adminRequest({ request: 'stats' });
	assert.ok(after.rtp.foreign_packets - before.rtp.foreign_packets >= n - 5, `foreign counted: ${JSON.stringify(after.rtp)}`);
	assert.ok(after.packets.invalid - before.packets.invalid >= 2 * n - 10, `invalid counted: ${JSON.stringify(after.packets)}`);
	assert.ok(after.packets.wrong_pt - before.packets.wrong_pt >= n - 5, `wrong pt counted: ${JSON.stringify(after.packets)}`);
	// The room kept mixing: B still hears A, and nobody hears the stranger.
	const heardB = b.recentAudio(25);
	assert.ok(toneDb(heardB, 600) - toneDb(heardB, 1700) > 30, 'B hears A, not the stranger');
	await adminRequest({ request: 'destroy', room });
	let open;
	for (const end = Date.now() + 5000; ; await sleep(100)) {
		open = (await adminRequest({ request: 'stats' })).rtp.open;
		if (open === 0 || Date.now() > end) break;
	}
	assert.equal(open, 0, 'sockets closed with the room');
}

test('a flood at one leg\'s port costs at most 16 of its datagrams per mixer tick; the other legs keep their mix', T, async () => {
	const room = `rtp-flood-${Date.now()}`;
	await adminRequest({ request: 'create', room, sampling_rate: 16000, ephemeral: false });
	const a = new RtpPeer(600), b = new RtpPeer(1300), listener = new RtpPeer(0);
	const stranger = dgram.createSocket('udp4');
	try {
		await flood(room, a, b, listener, stranger);
	} finally {
		for (const p of [a, b, listener]) if (p.sock) p.close();
		try { stranger.close(); } catch { /* closed */ }
		await adminRequest({ request: 'destroy', room }).catch(() => {});
	}
});

async function flood(room, a, b, listener, stranger) {
	for (const p of [a, b, listener]) await p.open();
	await a.join(room, 'A');
	await b.join(room, 'B');
	await listener.join(room, 'L');
	await new Promise((r) => stranger.bind(0, '127.0.0.1', r));
	await stream([a, b, listener], 400); // every leg is mixed, so read by its mixer
	const before = await adminRequest({ request: 'stats' });
	const heardBefore = listener.received.length;
	// 100 packets per 20 ms (5,000/s) from an address nobody joined with,
	// at A's port: far more than 16 per tick.
	const junk = Uint8Array.from(toneFrame(1700, 0, 20000), (s) => mulawEncode(s));
	const start = Date.now();
	let n = 0, sent = 0;
	while (Date.now() - start < 2000) {
		for (const p of [a, b, listener]) p.sendFrame();
		for (let i = 0; i < 100; i++, sent++)
			stranger.send(rtpPacket({ pt: 0, seq: sent & 0xffff, ts: sent * 160, ssrc: 99, payload: junk }), a.remote.port, a.remote.ip);
		n++;
		await sleep(Math.max(0, start + n * 20 - Date.now()));
	}
	const elapsed = Date.now() - start;
	await sleep(100); // the last ticks read what is queued
	const after = await adminRequest({ request: 'stats' });
	const ticks = after.mixer.ticks - before.mixer.ticks; // every worker's ticks: an upper bound on this room's
	const read = after.rtp.foreign_packets - before.rtp.foreign_packets;
	assert.ok(read > 100, `the flood reached the leg (${read} of ${sent} read)`);
	assert.ok(read <= 16 * ticks + 64, `at most 16 datagrams per tick were read: ${read} in ${ticks} ticks, ${sent} sent`);
	// The mix went on for everyone else, at its 50 packets/s, without the junk.
	const got = listener.received.length - heardBefore;
	assert.ok(got >= 0.8 * (elapsed / 20), `the listener got ${got} packets in ${elapsed} ms`);
	const heard = listener.recentAudio(25);
	assert.ok(toneDb(heard, 1300) > -40, `the listener hears B: ${toneDb(heard, 1300).toFixed(1)} dB`);
	assert.ok(toneDb(heard, 1300) - toneDb(heard, 1700) > 30, 'and not the stranger');
}
