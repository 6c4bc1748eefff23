// Agent benchmark on the embedded stack: N simultaneous calls (plain RTP
// callers playing espeak-ng speech, G.711 mu-law), each into its own room
// with the AI agent. Measures, from the caller's side of the wire:
//   turn latency  caller's last speech packet -> first agent audio packet
//   barge-in      caller starts talking over the agent -> agent audio stops
// plus the mixer's late frames and the Janus process's CPU.
//
//   node bench/agent-bench.mjs            # N = 1, 10, 20 (a few minutes)
//   BENCH_CALLS="1 5" node bench/agent-bench.mjs
import dgram from 'node:dgram';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

// Own ports, so the bench never talks to another Janus.
process.env.JANUS_HTTP_PORT ??= '38088';
process.env.JANUS_ADMIN_PORT ??= '37088';
process.env.JANUS_WS_PORT ??= '38188';
process.env.SWITCHBOARD_HTTP_PORT ??= '38080';
process.env.JANUS_RTP_PORT_RANGE ??= '34000-35999';
process.env.SWITCHBOARD_RTP_PORT_RANGE ??= '46000-47999';
const { startJanus, adminRequest, API_URL, API_KEY } = await import('../tests/lib/janus.mjs');
const { mulawEncode, mulawDecode, rtpPacket, parseRtp } = await import('../tests/lib/audio.mjs');

const here = dirname(fileURLToPath(import.meta.url));
const CALLS = (process.env.BENCH_CALLS || '1 10 20').split(/\s+/).filter(Boolean).map(Number);
const TURNS = Number(process.env.BENCH_TURNS || 3);
const LOUD = 400; // RMS of a packet that carries agent speech
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const work = mkdtempSync(join(tmpdir(), 'sb-agent-bench-'));

function speech8k(text) {
	const raw = join(work, 'raw.wav'), out = join(work, `${text.length}.wav`);
	execFileSync('espeak-ng', ['-v', 'en-us', '-s', '150', '-w', raw, text]);
	execFileSync('sox', [raw, '-r', '8000', '-c', '1', '-b', '16', out]);
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
const rms = (payload) => {
	let s = 0;
	for (const b of payload) { const v = mulawDecode(b); s += v * v; }
	return Math.sqrt(s / payload.length);
};
const percentile = (xs, p) => {
	if (!xs.length) return NaN;
	const s = [...xs].sort((a, b) => a - b);
	return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
function cpuTicks(pid) {
	const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
	return Number(f[11]) + Number(f[12]); // utime + stime
}

const SILENCE = new Uint8Array(160).fill(0xff);

class Caller {
	constructor(i) { this.i = i; this.seq = 0; this.ts = 0; this.queue = []; this.heard = []; }
	async open(room) {
		this.sock = dgram.createSocket('udp4');
		this.sock.on('message', (m) => {
			const p = parseRtp(m);
			if (p) this.heard.push({ at: performance.now(), loud: rms(p.payload) > LOUD });
		});
		await new Promise((r) => this.sock.bind(0, '127.0.0.1', r));
		const r = await adminRequest({ request: 'rtp_join', room, ip: '127.0.0.1', port: this.sock.address().port, codec: 'pcmu', display: `caller-${this.i}` });
		this.remote = r;
	}
	tick() {
		const frame = this.queue.length ? this.queue.shift() : SILENCE;
		if (frame !== SILENCE && !this.queue.length) this.lastSpeech = performance.now();
		this.sock.send(rtpPacket({ pt: 0, seq: this.seq++, ts: (this.ts += 160), ssrc: 1000 + this.i, payload: frame }), this.remote.port, this.remote.ip);
	}
	say(frames) { this.lastSpeech = null; this.queue.push(...frames); }
	firstLoudAfter(t) { return this.heard.find((h) => h.at > t && h.loud)?.at; }
	quietFrom(t) {
		// The first moment after t from which 5 packets in a row are quiet.
		const after = this.heard.filter((h) => h.at > t);
		for (let i = 0; i + 5 <= after.length; i++) if (after.slice(i, i + 5).every((h) => !h.loud)) return after[i].at;
		return undefined;
	}
	close() { this.sock.close(); }
}

async function api(method, path, body) {
	const r = await fetch(`${API_URL}${path}`, { method, headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
	return r.json();
}

async function run(janus, n, question, interruption) {
	const callers = [];
	for (let i = 0; i < n; i++) {
		const room = `agentbench-${n}-${i}`;
		await api('POST', '/room/create', { roomName: room, agent: true });
		const c = new Caller(i);
		c.room = room;
		await c.open(room);
		callers.push(c);
	}
	// One timer for every caller, on absolute 20 ms deadlines.
	let running = true;
	const t0 = performance.now();
	let k = 0;
	const pump = (async () => {
		while (running) {
			for (const c of callers) c.tick();
			k++;
			await sleep(Math.max(0, t0 + k * 20 - performance.now()));
		}
	})();
	await sleep(9000); // greetings
	const before = await adminRequest({ request: 'stats' });
	const cpu0 = cpuTicks(janus.pid), w0 = performance.now();
	const latencies = [], missed = [], overlaps = [];
	for (let turn = 0; turn < TURNS; turn++) {
		for (const [i, c] of callers.entries()) setTimeout(() => c.say(question), (i * 997) % 1500);
		await sleep(1500 + question.length * 20 + 4000);
		for (const c of callers) {
			// A turn counts when the agent was quiet as the caller finished
			// (it did not start answering a pause in the middle).
			const end = c.lastSpeech;
			const overlapping = end && c.heard.some((h) => h.loud && h.at > end - 400 && h.at <= end);
			const l = end && !overlapping && c.firstLoudAfter(end);
			if (l) latencies.push(l - end);
			else if (overlapping) overlaps.push(c.i);
			else missed.push(c.i);
		}
		await sleep(6000); // let the answers finish
	}
	// Barge-in: a long answer, talked over once it is audible.
	const bargeStops = [];
	await Promise.all(callers.map((c) => adminRequest({ request: 'say', room: c.room, text: 'Let me read you our whole catalogue, page by page, with every product and every price, which takes a good while. '.repeat(2) })));
	await sleep(2500);
	const tb = performance.now();
	for (const c of callers) c.say(interruption);
	await sleep(2500);
	for (const c of callers) {
		const q = c.quietFrom(tb);
		if (q) bargeStops.push(q - tb);
	}
	const cpu1 = cpuTicks(janus.pid), w1 = performance.now();
	const after = await adminRequest({ request: 'stats' });
	running = false;
	await pump;
	for (const c of callers) c.close();
	for (const c of callers) await adminRequest({ request: 'destroy', room: c.room });
	const hz = 100; // USER_HZ
	return {
		calls: n,
		turns: latencies.length,
		missed: missed.length,
		overlaps: overlaps.length,
		latency_p50: percentile(latencies, 50), latency_p95: percentile(latencies, 95),
		barge_p50: percentile(bargeStops, 50), barge_p95: percentile(bargeStops, 95), barge_n: bargeStops.length,
		late_frames: after.mixer.late_frames - before.mixer.late_frames,
		ticks: after.mixer.ticks - before.mixer.ticks,
		cpu_pct: (100 * (cpu1 - cpu0) / hz) / ((w1 - w0) / 1000),
	};
}

const question = speech8k('What are your opening hours?');
const interruption = speech8k('Wait, wait, stop, I have another question for you.');
const janus = await startJanus();
const results = [];
try {
	for (const n of CALLS) {
		process.stderr.write(`[agent-bench] ${n} call(s)…\n`);
		results.push(await run(janus, n, question, interruption));
	}
} finally {
	await janus.stop();
}
const f = (x) => (Number.isFinite(x) ? Math.round(x) : '-');
console.log(`AI agent on the embedded stack (pocketsphinx, local dialog, espeak-ng) - ${cpus().length} CPUs, ${new Date().toISOString()}`);
console.log('latency: caller\'s last speech packet -> first loud agent packet (wire, caller side); barge-in: caller starts -> agent quiet');
console.log('calls  turns  missed/overlap  latency p50  p95 ms  barge-in p50  p95 ms  mixer late/ticks  Janus CPU % core');
for (const r of results) {
	console.log(`${String(r.calls).padStart(5)}  ${String(r.turns).padStart(5)}  ${String(`${r.missed}/${r.overlaps}`).padStart(14)}  ${String(f(r.latency_p50)).padStart(11)}  ${String(f(r.latency_p95)).padStart(6)}  ${String(f(r.barge_p50)).padStart(12)}  ${String(f(r.barge_p95)).padStart(6)}  ${String(`${r.late_frames}/${r.ticks}`).padStart(16)}  ${r.cpu_pct.toFixed(1).padStart(16)}`);
}
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'agent-latest.json'), JSON.stringify(results, null, 2));
