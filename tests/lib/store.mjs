// Helpers for the call-record tests: a plugin config with its own store, a
// WAV of espeak-ng speech, waiting for a call's record to be complete.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './janus.mjs';
import { rest } from './notifications.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// execFileSync blocks the event loop (and with it the test's timeout).
const TOOL = { timeout: 60000 };

// conf/'s plugin config with [store] pointing at `store` (a file path or a
// PostgreSQL URI).
export function pluginConfigWithStore(store) {
	const conf = readFileSync(join(repoRoot, 'conf', 'janus.plugin.switchboard.jcfg'), 'utf8');
	const line = store.startsWith('postgres') ? `store = "${store}"` : `store = "sqlite"\n\tpath = "${store}"`;
	const out = conf.replace(/^\tstore = "sqlite"$/m, line);
	if (out === conf) throw new Error('no [store] store line in conf/janus.plugin.switchboard.jcfg');
	return out;
}

// espeak-ng speech as 16-bit mono WAV at `rate`, with silence around it.
export function speechWav(dir, name, parts, rate) {
	const out = join(dir, `${name}.wav`);
	const pieces = [];
	parts.forEach((p, i) => {
		const f = join(dir, `${name}-${i}.wav`);
		if (typeof p === 'number') execFileSync('sox', ['-n', '-r', String(rate), '-c', '1', '-b', '16', f, 'trim', '0', String(p)], TOOL);
		else {
			const raw = join(dir, `${name}-${i}-raw.wav`);
			execFileSync('espeak-ng', ['-v', 'en-us', '-s', '150', '-w', raw, p], TOOL);
			execFileSync('sox', [raw, '-r', String(rate), '-c', '1', '-b', '16', f], TOOL);
		}
		pieces.push(f);
	});
	execFileSync('sox', [...pieces, out], TOOL);
	return out;
}

// The ended record of the call in `room` (the writer is asynchronous).
export async function endedCall(room, timeoutMs = 15000) {
	const deadline = Date.now() + timeoutMs;
	let last;
	for (;;) {
		last = await rest('GET', `/api/calls?q=${encodeURIComponent(room)}`);
		const call = last.json?.calls?.find((c) => c.room === room && c.outcome);
		if (call) return (await rest('GET', `/api/calls/${call.id}`)).json;
		if (Date.now() > deadline) throw new Error(`no ended record for ${room}: ${JSON.stringify(last)}`);
		await sleep(200);
	}
}
