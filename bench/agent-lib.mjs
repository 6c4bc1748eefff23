// Shared by the agent benches (agent-bench, tool-bench): the bench's own
// ports, espeak-ng speech as G.711 frames, plain-RTP callers that time
// what they hear, one 20 ms pump for all of them, and small statistics.
import dgram from 'node:dgram';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Own ports, so the bench never talks to another Janus.  Set before the
// test library is loaded: it reads them once.
process.env.JANUS_HTTP_PORT ??= '38088';
process.env.JANUS_ADMIN_PORT ??= '37088';
process.env.JANUS_WS_PORT ??= '38188';
process.env.SWITCHBOARD_HTTP_PORT ??= '38080';
process.env.JANUS_RTP_PORT_RANGE ??= '34000-35999';
process.env.SWITCHBOARD_RTP_PORT_RANGE ??= '46000-47999';
const janusLib = await import('../tests/lib/janus.mjs');
const { mulawEncode, mulawDecode, rtpPacket, parseRtp } = await import('../tests/lib/audio.mjs');
export const { startJanus, adminRequest, metrics, metric, API_URL, API_KEY, repoRoot } = janusLib;

export const LOUD = 400; // RMS of a packet that carries agent speech
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const SILENCE = new Uint8Array(160).fill(0xff);

let work;
export function removeWork() {
	if (work) rmSync(work, { recursive: true, force: true });
	work = undefined;
}

export const rms = (payload) => {
	let s = 0;
	for (const b of payload) { const v = mulawDecode(b); s += v * v; }
	return Math.sqrt(s / payload.length);
};

// espeak-ng saying text, as 20 ms mu-law frames from the first voiced
// frame to the last.
export function speech8k(text, speed = 150) {
	work ??= mkdtempSync(join(tmpdir(), 'sb-agent-bench-'));
	const raw = join(work, 'raw.wav'), out = join(work, 'speech8k.wav');
	execFileSync('espeak-ng', ['-v', 'en-us', '-s', String(speed), '-w', raw, text], { timeout: 60000 });
	execFileSync('sox', [raw, '-r', '8000', '-c', '1', '-b', '16', out], { timeout: 60000 });
	const pcm = readFileSync(out).subarray(44);
	const frames = [];
	for (let o = 0; o + 320 <= pcm.length; o += 320) {
		const f = new Uint8Array(160);
		for (let i = 0; i < 160; i++) f[i] = mulawEncode(pcm.readInt16LE(o + 2 * i));
		frames.push(f);
	}
	// espeak-ng pads its output with silence: the caller's speech ends at
	// the last voiced frame, which is where latency is measured from.
	const voiced = (f) => rms(f) > 300;
	while (frames.length && !voiced(frames[0])) frames.shift();
	while (frames.length && !voiced(frames[frames.length - 1])) frames.pop();
	return frames;
}

// 20 ms mu-law frames of 8 kHz samples.
function framesOf(pcm) {
	const frames = [];
	for (let o = 0; o + 160 <= pcm.length; o += 160) {
		const f = new Uint8Array(160);
		for (let i = 0; i < 160; i++) f[i] = mulawEncode(Math.max(-32768, Math.min(32767, Math.round(pcm[o + i]))));
		frames.push(f);
	}
	return frames;
}

function samples8k(file) {
	const b = readFileSync(file).subarray(44);
	const out = new Float64Array(b.length >> 1);
	for (let i = 0; i < out.length; i++) out[i] = b.readInt16LE(2 * i);
	return out;
}

// Noise about 10 dB under `speech` (frames): café babble (six espeak-ng
// voices talking at once) over passing traffic (sox brown noise swelling
// at 0.3 Hz), `seconds` long.
export function cafeNoise(speech, seconds = 4) {
	work ??= mkdtempSync(join(tmpdir(), 'sb-agent-bench-'));
	const sentences = ['We went to the market and then had lunch by the river', 'I told him the train was late again this morning',
		'She said the new place downtown has great coffee', 'They are painting the house blue this summer',
		'My brother is coming over for dinner on Friday', 'The match was cancelled because of the rain'];
	const voices = ['en-us', 'en-gb', 'en-us+f3', 'en-us+m3', 'en-gb+f2', 'en-us+m7'];
	const n = seconds * 8000, start = 2 * 8000; // from when all six talk
	const mix = new Float64Array(n);
	voices.forEach((v, k) => {
		const raw = join(work, `babble${k}.wav`), out = join(work, `babble${k}-8k.wav`);
		execFileSync('espeak-ng', ['-v', v, '-w', raw, `${sentences[k]}. ${sentences[(k + 2) % 6]}. ${sentences[(k + 4) % 6]}.`], { timeout: 60000 });
		execFileSync('sox', [raw, '-r', '8000', '-c', '1', '-b', '16', out], { timeout: 60000 });
		const x = samples8k(out), at = Math.round(k * 0.31 * 8000);
		for (let i = 0; i < n; i++) mix[i] += x[start + i - at] ?? 0;
	});
	const traffic = join(work, 'traffic.wav');
	execFileSync('sox', ['-n', '-r', '8000', '-c', '1', '-b', '16', traffic, 'synth', String(seconds), 'brownnoise', 'tremolo', '0.3', '90'], { timeout: 60000 });
	const t = samples8k(traffic);
	const level = (x) => Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length);
	let speechSum = 0, count = 0;
	for (const f of speech) for (const b of f) { const v = mulawDecode(b); speechSum += v * v; count++; }
	const target = Math.sqrt(speechSum / count) / 3.16;
	const gm = target / level(mix) / Math.SQRT2, gt = target / level(t) / Math.SQRT2;
	return framesOf(mix.map((v, i) => v * gm + (t[i] ?? 0) * gt));
}

export const percentile = (xs, p) => {
	if (!xs.length) return NaN;
	const s = [...xs].sort((a, b) => a - b);
	return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

export function cpuTicks(pid) {
	const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
	return Number(f[11]) + Number(f[12]); // utime + stime
}

// A plain-RTP G.711 caller: sends a frame per tick (speech when queued,
// else silence) and notes when each packet it receives arrived and
// whether it was loud.  With `echo` set (a speakerphone() of
// tests/lib/phone-caller.mjs) what it hears comes back in what it sends,
// and `echoSent` sums the energy of what it sent meanwhile (linear
// samples: {sum of squares, samples}).
export class Caller {
	constructor(i) { this.i = i; this.seq = 0; this.ts = 0; this.queue = []; this.heard = []; this.echo = null; this.echoSent = { sum: 0, samples: 0 }; }
	async open(room) {
		this.room = room;
		this.sock = dgram.createSocket('udp4');
		this.sock.on('message', (m) => {
			const p = parseRtp(m);
			if (!p) return;
			this.heard.push({ at: performance.now(), loud: rms(p.payload) > LOUD });
			this.echo?.hear(p, this.seq * 160);
		});
		await new Promise((r) => this.sock.bind(0, '127.0.0.1', r));
		this.remote = await adminRequest({ request: 'rtp_join', room, ip: '127.0.0.1', port: this.sock.address().port, codec: 'pcmu', display: `caller-${this.i}` });
	}
	tick() {
		let frame = this.queue.length ? this.queue.shift() : SILENCE;
		if (frame !== SILENCE) {
			this.sayAt ??= performance.now();
			if (!this.queue.length) this.lastSpeech = performance.now();
		}
		if (this.echo) frame = this.withEcho(frame);
		this.sock.send(rtpPacket({ pt: 0, seq: this.seq++, ts: (this.ts += 160), ssrc: 1000 + this.i, payload: frame }), this.remote.port, this.remote.ip);
	}
	withEcho(frame) {
		const out = new Uint8Array(160);
		for (let i = 0; i < 160; i++) {
			const v = Math.max(-32768, Math.min(32767, Math.round(mulawDecode(frame[i]) + this.echo.sample(this.seq * 160 + i))));
			this.echoSent.sum += v * v;
			out[i] = mulawEncode(v);
		}
		this.echoSent.samples += 160;
		return out;
	}
	// sayAt: when its first frame went out.
	say(frames) { this.lastSpeech = null; this.sayAt = null; this.queue.push(...frames); }
	firstLoudAfter(t) { return this.heard.find((h) => h.at > t && h.loud)?.at; }
	lastLoud() { return this.heard.findLast((h) => h.loud)?.at; }
	quietFrom(t) {
		// The first moment after t from which 5 packets in a row are quiet.
		const after = this.heard.filter((h) => h.at > t);
		for (let i = 0; i + 5 <= after.length; i++) if (after.slice(i, i + 5).every((h) => !h.loud)) return after[i].at;
		return undefined;
	}
	// A turn counts when the agent was quiet as the caller finished (it
	// did not start answering a pause in the middle): the latency, or why
	// there is none.
	turn() {
		const end = this.lastSpeech;
		if (!end) return { why: 'missed' };
		if (this.heard.some((h) => h.loud && h.at > end - 400 && h.at <= end)) return { why: 'overlap' };
		const l = this.firstLoudAfter(end);
		return l ? { end, first: l, latency: l - end } : { why: 'missed' };
	}
	close() { this.sock?.close(); this.sock = undefined; }
}

// Every caller ticks on one timer with absolute 20 ms deadlines; the
// returned function stops it (resolves once the loop is out).
export function startPump(callers) {
	let running = true;
	const t0 = performance.now();
	let k = 0;
	const loop = (async () => {
		while (running) {
			for (const c of callers) if (c.sock && c.remote) c.tick();
			k++;
			await sleep(Math.max(0, t0 + k * 20 - performance.now()));
		}
	})();
	return async () => { running = false; await loop; };
}

// Until every caller has heard the agent and it has then been quiet for
// quietMs (its greeting or answer is over), at most maxMs.
export async function untilQuiet(callers, since, quietMs, maxMs) {
	const until = performance.now() + maxMs;
	while (performance.now() < until) {
		const now = performance.now();
		if (callers.every((c) => { const l = c.lastLoud(); return l > since && now - l >= quietMs; })) return true;
		await sleep(100);
	}
	return false;
}

export async function api(method, path, body) {
	const r = await fetch(`${API_URL}${path}`, { method, headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(15000) });
	return r.json();
}
