// Helpers for the recording tests: a plain RTP peer sending a tone, WAV and
// Ogg parsing (page CRCs, OpusHead), Opus decoding with opusdec, tone
// detection, and fetching a call's recording.
import dgram from 'node:dgram';
import { execFileSync } from 'node:child_process';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { adminRequest, API_URL, API_KEY } from './janus.mjs';
import { mulawEncode, toneFrame, rtpPacket } from './audio.mjs';
import { rest } from './notifications.mjs';
import { track } from './resources.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Sends a PCMU tone every 20 ms once started; ignores what it hears.
export class TonePeer {
	constructor(freq) {
		this.freq = freq;
		this.ssrc = (Math.random() * 2 ** 32) >>> 0;
		this.seq = 1;
		this.frame = 0;
	}
	async open() {
		this.sock = dgram.createSocket('udp4');
		this.untrack = track(`tone peer ${this.freq} Hz`, () => this.close());
		this.sock.on('message', () => {});
		await new Promise((r) => this.sock.bind(0, '127.0.0.1', r));
		this.port = this.sock.address().port;
	}
	async join(room, display) {
		const r = await adminRequest({ request: 'rtp_join', room, ip: '127.0.0.1', port: this.port, codec: 'pcmu', display });
		if (r.switchboard !== 'rtp_joined') throw new Error(JSON.stringify(r));
		this.id = r.id;
		this.remote = { ip: r.ip, port: r.port };
	}
	sendFrame() {
		const pcm = toneFrame(this.freq, this.frame, 6000);
		const payload = Uint8Array.from(pcm, (s) => mulawEncode(s));
		this.sock.send(rtpPacket({ pt: 0, seq: this.seq++ & 0xffff, ts: this.frame * 160, ssrc: this.ssrc, payload }), this.remote.port, this.remote.ip);
		this.frame++;
	}
	close() {
		this.untrack?.();
		try { this.sock.close(); } catch { /* closed */ }
	}
}

// Sends every peer's frames in real time until stop() is called.
export function streamPeers(peers) {
	let running = true;
	const done = (async () => {
		const start = Date.now();
		let n = 0;
		while (running) {
			for (const p of peers) {
				try { p.sendFrame(); } catch { running = false; } // a peer was closed: stop
			}
			n++;
			await sleep(Math.max(0, start + n * 20 - Date.now()));
		}
	})();
	const untrack = track('tone stream', () => stop());
	const stop = async () => { untrack(); running = false; await done; };
	return stop;
}

// Goertzel power of freq over the block, as a share of the block's energy
// (1.0: a pure tone at freq, ~0: absent).
export function toneShare(pcm, freq, rate) {
	const k = 2 * Math.cos((2 * Math.PI * freq) / rate);
	let s1 = 0, s2 = 0, energy = 0;
	for (const x of pcm) {
		const s = x + k * s1 - s2;
		s2 = s1;
		s1 = s;
		energy += x * x;
	}
	const power = s1 * s1 + s2 * s2 - k * s1 * s2;
	return energy > 0 ? power / ((energy * pcm.length) / 2) : 0;
}

// toneShare over blocks of blockS seconds: their median (how present the
// tone is most of the time) and the shares themselves. Over a long block
// Goertzel adds up phase: a few frames lost or concealed when a sender
// stalls (this test process, on a loaded machine) shift the tone's phase
// and the two sides cancel, so a whole-recording share says more about
// phase continuity than about presence. Short blocks do not.
export function toneShareInBlocks(pcm, freq, rate, blockS = 0.25) {
	const n = Math.floor(rate * blockS);
	const shares = [];
	for (let s = 0; s + n <= pcm.length; s += n) shares.push(toneShare(pcm.subarray(s, s + n), freq, rate));
	const sorted = [...shares].sort((a, b) => a - b);
	const median = sorted.length ? sorted[Math.floor(sorted.length / 2)] : 0;
	return { median, shares: shares.map((x) => Math.round(x * 100) / 100) };
}

// A canonical 16-bit mono WAV: {rate, channels, bits, dataBytes, pcm}.
export function parseWav(buf) {
	if (buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') throw new Error('not a WAV file');
	let off = 12, fmt = null;
	while (off + 8 <= buf.length) {
		const id = buf.toString('ascii', off, off + 4), size = buf.readUInt32LE(off + 4);
		if (id === 'fmt ') fmt = { format: buf.readUInt16LE(off + 8), channels: buf.readUInt16LE(off + 10), rate: buf.readUInt32LE(off + 12), bits: buf.readUInt16LE(off + 22) };
		if (id === 'data') {
			const bytes = Math.min(size, buf.length - off - 8);
			const pcm = new Int16Array(bytes >> 1);
			for (let i = 0; i < pcm.length; i++) pcm[i] = buf.readInt16LE(off + 8 + 2 * i);
			return { ...fmt, riffSize: buf.readUInt32LE(4), dataBytes: size, pcm };
		}
		off += 8 + size + (size % 2);
	}
	throw new Error('WAV without data chunk');
}

const crcTable = (() => {
	const t = new Uint32Array(256);
	for (let i = 0; i < 256; i++) {
		let r = i << 24;
		for (let b = 0; b < 8; b++) r = r & 0x80000000 ? ((r << 1) ^ 0x04c11db7) >>> 0 : (r << 1) >>> 0;
		t[i] = r >>> 0;
	}
	return t;
})();
function oggCrc(buf) {
	let crc = 0;
	for (const b of buf) crc = ((crc << 8) ^ crcTable[((crc >>> 24) & 0xff) ^ b]) >>> 0;
	return crc >>> 0;
}

// Walks the Ogg pages: checks capture pattern, CRC, sequence, BOS/EOS;
// returns {pages, head: {channels, preskip, rate}, tags, lastGranule}.
export function parseOggOpus(buf) {
	const pages = [];
	let off = 0;
	while (off < buf.length) {
		if (buf.toString('ascii', off, off + 4) !== 'OggS') throw new Error(`no OggS at ${off}`);
		const flags = buf[off + 5];
		const granule = buf.readBigUInt64LE(off + 6);
		const serial = buf.readUInt32LE(off + 14), seq = buf.readUInt32LE(off + 18), crc = buf.readUInt32LE(off + 22);
		const nseg = buf[off + 26];
		let body = 0;
		for (let i = 0; i < nseg; i++) body += buf[off + 27 + i];
		const len = 27 + nseg + body;
		if (off + len > buf.length) throw new Error(`page ${seq} cut short`);
		const page = Buffer.from(buf.subarray(off, off + len));
		page.writeUInt32LE(0, 22);
		if (oggCrc(page) !== crc) throw new Error(`bad CRC on page ${seq}`);
		pages.push({ flags, granule, serial, seq, data: buf.subarray(off + 27 + nseg, off + len) });
		off += len;
	}
	if (!pages.length) throw new Error('no pages');
	pages.forEach((p, i) => {
		if (p.seq !== i) throw new Error(`page ${i} has sequence ${p.seq}`);
		if (p.serial !== pages[0].serial) throw new Error('serial changed');
		if (Boolean(p.flags & 2) !== (i === 0)) throw new Error(`BOS flag wrong on page ${i}`);
	});
	if (!(pages[pages.length - 1].flags & 4)) throw new Error('last page has no EOS flag');
	const h = pages[0].data;
	if (h.toString('ascii', 0, 8) !== 'OpusHead' || h.length !== 19) throw new Error('first packet is not OpusHead');
	const head = { version: h[8], channels: h[9], preskip: h.readUInt16LE(10), rate: h.readUInt32LE(12), family: h[18] };
	if (pages[1].data.toString('ascii', 0, 8) !== 'OpusTags') throw new Error('second packet is not OpusTags');
	return { pages, head, lastGranule: pages[pages.length - 1].granule };
}

// Decodes Ogg Opus bytes with opusdec to 16-bit mono at rate.
export function decodeOpus(dir, name, bytes, rate) {
	const ogg = join(dir, `${name}.ogg`), wav = join(dir, `${name}.wav`);
	writeFileSync(ogg, bytes);
	execFileSync('opusdec', ['--quiet', '--rate', String(rate), ogg, wav], { timeout: 30000 });
	return parseWav(readFileSync(wav));
}

// GET with the API key (or the given headers): {status, type, headers, body}.
export async function download(path, headers = { authorization: `Bearer ${API_KEY}` }) {
	const res = await fetch(`${API_URL}${path}`, { headers });
	return { status: res.status, type: res.headers.get('content-type'), headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

// The id of the (open or ended) call of a room.
export async function callOf(room, timeoutMs = 10000) {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const r = await rest('GET', `/api/calls?q=${encodeURIComponent(room)}`);
		const call = r.json?.calls?.find((c) => c.room === room);
		if (call) return call.id;
		if (Date.now() > deadline) throw new Error(`no call for ${room}: ${JSON.stringify(r)}`);
		await sleep(100);
	}
}

// The call's recording rows once every one of them is finalised.
export async function finishedRecordings(callId, count, timeoutMs = 10000) {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const r = await rest('GET', `/api/calls/${callId}/recordings`);
		const rows = r.json?.recordings || [];
		if (rows.length >= count && rows.every((x) => x.bytes > 0 && x.ended)) return rows;
		if (Date.now() > deadline) throw new Error(`recordings of ${callId} not finalised: ${JSON.stringify(r)}`);
		await sleep(100);
	}
}
