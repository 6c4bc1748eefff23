// A phone-like caller for agent tests: a plain RTP participant (PCMU,
// rtp_join) that sends a packet every 20 ms — silence, or the speech it
// is told to say — and keeps the level of every packet it receives (the
// room's mix, the agent's voice included).  Released by stop(), or by the
// harness when a test failed first.
import dgram from 'node:dgram';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminRequest, repoRoot, startJanus } from './janus.mjs';
import { openNotifications } from './notifications.mjs';
import { mulawEncode, mulawDecode, rtpPacket, parseRtp } from './audio.mjs';
import { track } from './resources.mjs';

// execFileSync blocks the event loop (and with it the test's timeout).
const TOOL = { timeout: 60000 };

/** espeak-ng speech as 8 kHz 16-bit samples (Int16Array); `voice` e.g. en-us. */
export function speech8k(dir, name, text, { voice = 'en-us', speed = 150 } = {}) {
	const raw = join(dir, `${name}-raw.wav`), wav = join(dir, `${name}-8k.wav`);
	execFileSync('espeak-ng', ['-v', voice, '-s', String(speed), '-w', raw, text], TOOL);
	execFileSync('sox', [raw, '-r', '8000', '-c', '1', '-b', '16', wav], TOOL);
	const b = readFileSync(wav).subarray(44);
	return new Int16Array(b.buffer.slice(b.byteOffset, b.byteOffset + (b.length & ~1)));
}

/** A long answer for the agent to `say`, and how long espeak-ng (the
 * agent's voice, en-us) takes to say it, in seconds. */
export const LONG_ANSWER = 'Let me tell you about our company, our history, our products and our services. ' +
	'We started as a small shop and grew year after year. Today we ship all over the country, ' +
	'and our team is happy to help you with anything you need.';
export function spokenSeconds(dir, text) {
	const wav = join(dir, 'spoken.wav');
	execFileSync('espeak-ng', ['-v', 'en-us', '-w', wav, text], TOOL);
	return (statSync(wav).size - 44) / 2 / 22050;
}

/** RMS of a μ-law payload, in linear 16-bit units. */
export function mulawRms(payload) {
	let sum = 0;
	for (const b of payload) { const s = mulawDecode(b); sum += s * s; }
	return Math.sqrt(sum / Math.max(1, payload.length));
}

/**
 * Joins `room` as display `display`; returns {say(samples) → promise
 * resolved when the speech has been sent, saying(), received: [{at,
 * level}], sentLevels() (RMS of each frame sent), stop()}.  With
 * `echo: {delayMs, gainDb}` the caller is a
 * speakerphone: what it hears comes back in what it sends, delayed and
 * attenuated, under its own voice.
 */
/**
 * A speakerphone's loudspeaker and microphone, for a caller that sends a
 * frame every 20 ms: hear(p, pos) plays an RTP packet it received (pos: the
 * sample it has sent up to) and sample(pos) is what its microphone picks
 * up of the loudspeaker at sample pos, delayMs later and gainDb down.
 * What it hears is played out on its own clock (the one it sends by), by
 * RTP timestamp from the first packet on, so the echo's delay is fixed, as
 * a loudspeaker's and a microphone's are.
 */
export function speakerphone({ delayMs, gainDb }) {
	const RING = 16000;
	const played = new Int16Array(RING), playedAt = new Float64Array(RING).fill(-1);
	let firstTs = null, startPos = 0;
	const gain = 10 ** (gainDb / 20), delay = Math.round(delayMs * 8);
	return {
		hear(p, pos) {
			if (firstTs === null) {
				firstTs = p.ts;
				startPos = pos;
			}
			const base = (p.ts - firstTs) >>> 0;
			for (let i = 0; i < p.payload.length; i++) {
				played[(base + i) % RING] = mulawDecode(p.payload[i]);
				playedAt[(base + i) % RING] = base + i;
			}
		},
		sample(pos) {
			const r = pos - startPos - delay;
			return firstTs !== null && r >= 0 && playedAt[r % RING] === r ? played[r % RING] * gain : 0;
		},
	};
}

/** The plugin config (conf/'s) with `[general] echo_cancellation` set to
 * mode ("agent", "all", "off"). */
export function echoConfig(mode) {
	const conf = readFileSync(join(repoRoot, 'conf', 'janus.plugin.switchboard.jcfg'), 'utf8');
	const line = /^\techo_cancellation = "[a-z]+"$/m;
	if (!line.test(conf)) throw new Error('no echo_cancellation line in conf/janus.plugin.switchboard.jcfg');
	return conf.replace(line, `\techo_cancellation = "${mode}"`);
}

export async function phoneCaller(room, display = 'Caller', { echo } = {}) {
	const sock = dgram.createSocket('udp4');
	await new Promise((r) => sock.bind(0, '127.0.0.1', r));
	const received = [];
	let seq = 0, queue = null, offset = 0, done = null;
	const speaker = echo ? speakerphone(echo) : null;
	sock.on('message', (m) => {
		const p = parseRtp(m);
		if (!p) return;
		received.push({ at: Date.now(), level: mulawRms(p.payload) });
		speaker?.hear(p, seq * 160);
	});
	const joined = await adminRequest({ request: 'rtp_join', room, ip: '127.0.0.1', port: sock.address().port, codec: 'pcmu', display });
	if (!joined.port) {
		sock.close();
		throw new Error(`rtp_join: ${JSON.stringify(joined)}`);
	}
	const sentLevels = []; // RMS of every frame sent
	const sendFrame = () => {
		const frame = new Uint8Array(160).fill(0xff);
		if (queue || echo) {
			for (let i = 0; i < 160; i++) {
				const own = queue && offset + i < queue.length ? queue[offset + i] : 0;
				const s = own + (speaker ? speaker.sample(seq * 160 + i) : 0);
				frame[i] = mulawEncode(Math.max(-32768, Math.min(32767, Math.round(s))));
			}
		}
		if (queue) {
			offset += 160;
			if (offset >= queue.length) {
				queue = null;
				done?.();
			}
		}
		sentLevels.push(mulawRms(frame));
		if (sentLevels.length > 30000) sentLevels.splice(0, 15000);
		sock.send(rtpPacket({ pt: 0, seq: seq++ & 0xffff, ts: seq * 160, ssrc: 0x5151, payload: frame }), joined.port, joined.ip);
	};
	// 50 packets a second by the clock, as a phone sends them: when this
	// event loop is late (a loaded machine), the frames due go out at once
	// and the jitter buffer absorbs them; a plain 20 ms interval would send
	// fewer, and the words would reach the recogniser with holes in them.
	const t0 = Date.now();
	const timer = setInterval(() => {
		const due = Math.floor((Date.now() - t0) / 20) + 1;
		for (let n = 0; seq < due && n < 25; n++) sendFrame();
		if (seq < due) seq = due; // over half a second behind: what is lost is lost
	}, 10);
	let stopped = false;
	const stop = () => {
		if (stopped) return;
		stopped = true;
		untrack();
		clearInterval(timer);
		sock.close();
	};
	const untrack = track(`phone caller in ${room}`, stop);
	return {
		id: joined.id,
		received,
		sentLevels: () => sentLevels,
		saying: () => queue !== null,
		say(samples) {
			queue = samples;
			offset = 0;
			return new Promise((r) => { done = r; });
		},
		stop,
	};
}

/**
 * A private Janus for an agent test, a notifications socket and a scratch
 * directory: {janus, notes, dir}.  pluginConfig(dir) may give the plugin
 * config text.  Undone by stopAgentJanus (the harness releases what a failed
 * start left).
 */
export async function startAgentJanus(prefix, pluginConfig) {
	const dir = mkdtempSync(join(tmpdir(), prefix));
	const env = { dir };
	env.janus = await startJanus(pluginConfig ? { pluginConfig: pluginConfig(dir) } : {});
	env.notes = await openNotifications();
	return env;
}

export async function stopAgentJanus(env) {
	env?.notes?.close();
	if (env?.janus) await env.janus.stop();
	if (env?.dir) rmSync(env.dir, { recursive: true, force: true });
}
