// SIP bridge benchmark, side by side in one run and one Janus process:
//   1. N concurrent SIP calls (PCMU, each caller playing espeak-ng speech in
//      a loop into its own room, agent off): Janus CPU per call;
//   2. the same N callers as plain RTP participants (rtp_join, PCMU) —
//      the foundation benchmark's path — for the ratio SIP/plain RTP;
//   3. M calls with the AI agent on (embedded stack): CPU per call;
//   4. call set-up rate: INVITE → 200 OK → ACK → BYE, sequential and in
//      batches of 10, calls per second.
//
//   node bench/sip-bench.mjs                       # N=50, M=5, a couple of minutes
//   BENCH_SIP_CALLS=100 BENCH_SIP_AGENT_CALLS=10 node bench/sip-bench.mjs
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

process.env.JANUS_HTTP_PORT ??= '38088';
process.env.JANUS_ADMIN_PORT ??= '37088';
process.env.JANUS_WS_PORT ??= '38188';
process.env.SWITCHBOARD_HTTP_PORT ??= '38080';
process.env.SWITCHBOARD_SIP_PORT ??= '38060';
process.env.JANUS_RTP_PORT_RANGE ??= '34000-35999';
process.env.SWITCHBOARD_RTP_PORT_RANGE ??= '46000-47999';
const { startJanus, adminRequest, repoRoot, SIP_PORT } = await import('../tests/lib/janus.mjs');
const { SipPeer, placeCall, inDialog } = await import('../tests/lib/sip.mjs');
const { mulawEncode, rtpPacket } = await import('../tests/lib/audio.mjs');
const dgram = (await import('node:dgram')).default;

const here = dirname(fileURLToPath(import.meta.url));
const N = Number(process.env.BENCH_SIP_CALLS || 50);
const M = Number(process.env.BENCH_SIP_AGENT_CALLS || 5);
const WINDOW = Number(process.env.BENCH_WINDOW || 15);
const WARMUP = Number(process.env.BENCH_WARMUP || 4);
const SETUP_CALLS = Number(process.env.BENCH_SIP_SETUP_CALLS || 200);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const work = mkdtempSync(join(tmpdir(), 'sb-sip-bench-'));
const HZ = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

function speechFrames(text) {
	const raw = join(work, 'raw.wav'), out = join(work, 'speech8k.wav');
	execFileSync('espeak-ng', ['-v', 'en-us', '-s', '150', '-w', raw, text]);
	// Callers talk about half the time, as in a conversation: speech, then
	// as long again of silence.
	execFileSync('sox', [raw, '-r', '8000', '-c', '1', '-b', '16', out, 'pad', '0', '5']);
	const pcm = readFileSync(out).subarray(44);
	const frames = [];
	for (let o = 0; o + 320 <= pcm.length; o += 320) {
		const f = Buffer.alloc(160);
		for (let i = 0; i < 160; i++) f[i] = mulawEncode(pcm.readInt16LE(o + 2 * i));
		frames.push(f);
	}
	return frames;
}

const cpuTicks = (pid) => {
	const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
	return Number(f[11]) + Number(f[12]);
};

// Every caller sends one PCMU frame per 20 ms (one timer for all of them)
// from the socket its SDP or rtp_join named, so nothing is dropped as
// foreign and no leg needs to latch.
function startSenders(sock, targets, frames) {
	let tick = 0;
	const state = targets.map((t, i) => ({ ...t, seq: i * 1000, ts: i * 160000, ssrc: 0x10000 + i }));
	const t0 = Date.now();
	let stopped = false;
	(async () => {
		while (!stopped) {
			const frame = frames[tick % frames.length];
			for (const s of state) {
				s.seq = (s.seq + 1) & 0xffff;
				s.ts = (s.ts + 160) >>> 0;
				sock.send(rtpPacket({ pt: 0, seq: s.seq, ts: s.ts, ssrc: s.ssrc, payload: frame }), s.port, s.ip);
			}
			tick++;
			const wait = t0 + tick * 20 - Date.now();
			await sleep(Math.max(0, wait));
		}
	})();
	return { stop() { stopped = true; } };
}

async function measure(pid, label, calls) {
	await sleep(WARMUP * 1000);
	const c0 = cpuTicks(pid), t0 = Date.now();
	await sleep(WINDOW * 1000);
	const cpu = (cpuTicks(pid) - c0) / HZ, secs = (Date.now() - t0) / 1000;
	const pctOfCore = (cpu / secs) * 100;
	return { label, calls, cpu_pct_of_core: +pctOfCore.toFixed(2), cpu_pct_per_call: +(pctOfCore / calls).toFixed(3) };
}

async function sipCalls(peer, count, prefix, rtpPort) {
	const calls = [];
	for (let i = 0; i < count; i += 10) {
		const batch = await Promise.all(Array.from({ length: Math.min(10, count - i) }, (_, k) =>
			placeCall(peer, { sipPort: SIP_PORT, user: '+14155550100', rtpPort, codecs: [[0, 'PCMU/8000']],
				headers: { 'X-Twilio-CallSid': `CA${prefix}${String(i + k).padStart(30 - prefix.length, '0')}` } })));
		calls.push(...batch);
		await sleep(300);
	}
	const ok = calls.filter((c) => c.res?.status === 200);
	if (ok.length !== count) throw new Error(`only ${ok.length}/${count} calls answered`);
	return ok;
}

const conf = readFileSync(join(repoRoot, 'conf', 'janus.plugin.switchboard.jcfg'), 'utf8')
	.replace('auto_join = ["phone", "whatsapp"]', 'auto_join = []')
	.replace('rtp_timeout = "30"', 'rtp_timeout = "0"')
	.replace('calls_per_second = "20"', 'calls_per_second = "0"')
	.replace('calls_per_source = "10"', 'calls_per_source = "0"')
	.replace('max_calls = "200"', 'max_calls = "2000"');
const janus = await startJanus({ pluginConfig: conf });
const results = [];
try {
	const frames = speechFrames('Hello, I would like to know where my order is. It was placed last week and has not arrived.');
	const peer = await new SipPeer().start();
	const sink = dgram.createSocket('udp4', { recvBufferSize: 1 << 22 });
	await new Promise((r) => sink.bind(0, '127.0.0.1', r));
	sink.on('message', () => {});
	const sinkPort = sink.address().port;

	// 1. SIP calls, agent off.
	let calls = await sipCalls(peer, N, 'sip', sinkPort);
	let senders = startSenders(sink, calls.map((c) => ({ ip: c.media.ip, port: c.media.port })), frames);
	results.push(await measure(janus.pid, 'SIP calls (PCMU), agent off', N));
	senders.stop();
	await Promise.all(calls.map((c) => inDialog(peer, c, 'BYE')));
	await sleep(1000);

	// 2. The same callers as plain RTP participants.
	const rtp = [];
	for (let i = 0; i < N; i++) {
		const room = `rtp-bench-${i}`;
		await adminRequest({ request: 'create', room, ephemeral: true });
		const r = await adminRequest({ request: 'rtp_join', room, ip: '127.0.0.1', port: sinkPort, codec: 'pcmu' });
		rtp.push({ room, id: r.id, ip: r.ip, port: r.port });
	}
	senders = startSenders(sink, rtp, frames);
	results.push(await measure(janus.pid, 'plain RTP participants (PCMU), same load', N));
	senders.stop();
	for (const r of rtp) await adminRequest({ request: 'destroy', room: r.room });
	await sleep(1000);

	// 3. SIP calls with the agent on.
	calls = await sipCalls(peer, M, 'agent', sinkPort);
	const rooms = (await adminRequest({ request: 'list' })).list.map((r) => r.room).filter((n) => n.startsWith('twilio-CAagent'));
	for (const room of rooms) await adminRequest({ request: 'agent', room, enable: true });
	senders = startSenders(sink, calls.map((c) => ({ ip: c.media.ip, port: c.media.port })), frames);
	results.push(await measure(janus.pid, 'SIP calls (PCMU), AI agent on (embedded)', M));
	senders.stop();
	await Promise.all(calls.map((c) => inDialog(peer, c, 'BYE')));
	await sleep(1000);

	// 4. Set-up rate.
	for (const parallel of [1, 10]) {
		const t0 = Date.now();
		let done = 0;
		for (let i = 0; i < SETUP_CALLS; i += parallel) {
			await Promise.all(Array.from({ length: Math.min(parallel, SETUP_CALLS - i) }, async (_, k) => {
				const c = await placeCall(peer, { sipPort: SIP_PORT, user: '+14155550100', rtpPort: sinkPort,
					headers: { 'X-Twilio-CallSid': `CAsetup${parallel}x${String(i + k).padStart(20, '0')}` } });
				if (c.res?.status === 200 && (await inDialog(peer, c, 'BYE'))?.status === 200) done++;
			}));
		}
		const secs = (Date.now() - t0) / 1000;
		results.push({ label: `call set-up + tear-down, ${parallel} at a time`, calls: done, calls_per_second: +(done / secs).toFixed(1) });
	}
	peer.close();
	sink.close();
} finally {
	await janus.stop();
}

const sip = results[0], plain = results[1];
console.log('\nSIP bridge benchmark (Janus process CPU, % of one core)\n');
for (const r of results) {
	if (r.calls_per_second !== undefined) console.log(`  ${r.label.padEnd(48)} ${String(r.calls).padStart(4)} calls  ${r.calls_per_second} calls/s`);
	else console.log(`  ${r.label.padEnd(48)} ${String(r.calls).padStart(4)} calls  ${r.cpu_pct_of_core}% total  ${r.cpu_pct_per_call}% per call`);
}
const ratio = +(sip.cpu_pct_per_call / plain.cpu_pct_per_call).toFixed(2);
console.log(`\n  ratio SIP / plain RTP per call: ${ratio}  (the SIP leg is a plain RTP participant plus signalling)`);
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'sip-latest.json'), JSON.stringify({ when: new Date().toISOString(), window_s: WINDOW, results, ratio_sip_to_plain_rtp: ratio }, null, 2));
