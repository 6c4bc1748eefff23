// Noise suppression per interface (issue 18, noise handling): with
// [rtp] noise_suppression = true a plain RTP caller's steady hiss reaches the
// other side of the room at least 10 dB quieter than without; a bad value
// (noise_suppression_db = 10, a gain) is logged and the default kept — the
// hiss is still taken down, nothing else changes.  Off is the default.
import { test, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startJanus } from '../lib/janus.mjs';
import { rest } from '../lib/notifications.mjs';
import { phoneCaller } from '../lib/phone-caller.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const base = readFileSync('conf/janus.plugin.switchboard.jcfg', 'utf8');
let janus = null;
after(async () => { await janus?.stop(); });

// 2 s of white hiss at about -30 dBFS, from a fixed seed (mulberry32), looped.
function hiss(seed = 18) {
	let a = seed >>> 0;
	const random = () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = Math.imul(a ^ (a >>> 15), a | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
	return Int16Array.from({ length: 16000 }, () => Math.round((random() * 2 - 1) * 1800));
}

// The level (RMS, linear) at which a listener hears a hissing caller, in the
// last second of four, with this plugin config.
async function heardLevel(config) {
	janus = await startJanus({ pluginConfig: config });
	const room = `hiss-${process.pid}`;
	let talker = null, listener = null;
	try {
		const created = await rest('POST', '/room/create', { roomName: room });
		assert.equal(created.status, 201, JSON.stringify(created.json));
		talker = await phoneCaller(room, 'Hissing', { background: hiss() });
		listener = await phoneCaller(room, 'Listener');
		await sleep(4000);
		const since = Date.now() - 1000;
		const last = listener.received.filter((r) => r.at >= since);
		assert.ok(last.length >= 30, `the listener got ${last.length} packets in the last second`);
		return { level: last.reduce((n, r) => n + r.level, 0) / last.length, log: janus.output() };
	} finally {
		talker?.stop();
		listener?.stop();
		await rest('DELETE', `/rooms/${room}`);
		await janus.stop();
		janus = null;
	}
}

test('[rtp] noise_suppression takes a steady hiss down by 10 dB or more; a bad strength is logged, the default kept', { timeout: 120000 }, async (t) => {
	const off = await heardLevel(base);
	const on = await heardLevel(`${base}\nrtp: {\n\tnoise_suppression = true\n}\n`);
	const bad = await heardLevel(`${base}\nrtp: {\n\tnoise_suppression = true\n\tnoise_suppression_db = 10\n}\n`);
	const db = (x) => 20 * Math.log10(Math.max(1, x));
	const cut = db(off.level) - db(on.level);
	assert.ok(off.level > 300, `without suppression the hiss is heard (level ${off.level.toFixed(0)})`);
	assert.ok(cut >= 10, `suppressed by ${cut.toFixed(1)} dB (off ${off.level.toFixed(0)}, on ${on.level.toFixed(0)})`);
	assert.match(bad.log, /noise_suppression_db = 10 is not a number in -60\.\.-3/);
	const badCut = db(off.level) - db(bad.level);
	t.diagnostic(`hiss heard at ${db(off.level).toFixed(1)} dB off, ${cut.toFixed(1)} dB lower on, ${badCut.toFixed(1)} dB lower with the bad strength`);
	assert.ok(Math.abs(badCut - cut) < 3, `a bad strength keeps the default: ${badCut.toFixed(1)} dB vs ${cut.toFixed(1)} dB`);
});
