// Noise suppression on the mixer's inbound legs (issue 18 item 2,
// [general] noise_suppression; media/denoise.c): with it on for plain RTP
// legs, a caller's steady hiss reaches the other caller pushed down by 10
// dB or more, while a voice reaches them about as loud as it was said.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rest } from '../lib/notifications.mjs';
import { metric, repoRoot } from '../lib/janus.mjs';
import { phoneCaller, speech8k, startAgentJanus, stopAgentJanus } from '../lib/phone-caller.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let env;

before(async () => {
	env = await startAgentJanus('sb-denoise-', () => {
		const conf = readFileSync(join(repoRoot, 'conf', 'janus.plugin.switchboard.jcfg'), 'utf8');
		const on = conf.replace(/^\t#noise_suppression = "phone"$/m, '\tnoise_suppression = "rtp"');
		if (on === conf) throw new Error('no #noise_suppression line in conf/janus.plugin.switchboard.jcfg');
		return on;
	});
}, { timeout: 60000 });
after(() => stopAgentJanus(env), { timeout: 60000 });

const db = (x) => 20 * Math.log10(Math.max(1e-3, x));
const mean = (xs) => xs.reduce((s, v) => s + v, 0) / Math.max(1, xs.length);

test('a caller\'s hiss reaches the other caller 10 dB down or more; their voice does not', { timeout: 60000 }, async () => {
	const room = `denoise-${process.pid}`;
	const created = await rest('POST', '/room/create', { roomName: room });
	assert.equal(created.status, 201, JSON.stringify(created.json));
	const talker = await phoneCaller(room, 'Talker');
	const listener = await phoneCaller(room, 'Listener');
	try {
		const frames = await metric('switchboard_mixer_denoised_frames_total');
		// 4 s of hiss at about -30 dBFS (uniform noise, 8 kHz).
		const hiss = new Int16Array(4 * 8000).map(() => Math.round((Math.random() * 2 - 1) * 1700));
		let from = Date.now();
		await talker.say(hiss);
		const sentHiss = mean(talker.sentLevels().slice(-50)); // the last second said
		const heardHiss = mean(listener.received.filter((r) => r.at >= Date.now() - 1000).map((r) => r.level));
		await sleep(500);
		const voice = speech8k(env.dir, 'voice', 'What are your opening hours on Saturday?');
		const loudSent = [], loudHeard = [];
		from = Date.now();
		await talker.say(voice);
		await sleep(300);
		for (const l of talker.sentLevels().slice(-Math.ceil(voice.length / 160) - 15)) if (l > 300) loudSent.push(l);
		for (const r of listener.received.filter((r) => r.at >= from)) if (r.level > 300) loudHeard.push(r.level);
		const hissDrop = db(heardHiss) - db(sentHiss);
		const voiceDrop = db(mean(loudHeard)) - db(mean(loudSent));
		assert.ok(hissDrop <= -10, `the hiss arrived ${hissDrop.toFixed(1)} dB from how it was sent`);
		assert.ok(loudHeard.length >= loudSent.length * 0.7, `${loudHeard.length} loud frames heard of ${loudSent.length} said`);
		assert.ok(voiceDrop > -6, `the voice arrived ${voiceDrop.toFixed(1)} dB from how it was said`);
		assert.ok(await metric('switchboard_mixer_denoised_frames_total') - frames >= 200);
	} finally {
		talker.stop();
		listener.stop();
		await rest('DELETE', `/rooms/${room}`);
	}
});
