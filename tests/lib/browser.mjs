// Headless Chromium for end-to-end tests: the start flags this machine
// needs, a fake microphone playing a WAV file and a fake camera.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { track } from './resources.mjs';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

// The browser is closed with the test file's resources if the test does not
// close it (playwright kills Chromium's process group if close() fails).
export async function launchChromium(fakeAudioWav) {
	const browser = await chromium.launch({
		executablePath: CHROMIUM,
		headless: true,
		timeout: 30000,
		args: [
			'--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
			'--disable-background-networking', '--disable-component-update', '--disable-sync',
			'--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
			`--use-file-for-fake-audio-capture=${fakeAudioWav}`,
			'--allow-loopback-in-peer-connection', '--autoplay-policy=no-user-gesture-required',
		],
	});
	const untrack = track(`chromium (pid ${browser.process?.()?.pid ?? '?'})`, () => browser.close());
	browser.on('disconnected', untrack);
	return browser;
}

// 48 kHz mono 16-bit PCM sine at -6 dBFS. 10 s holds a whole number of
// periods of every tone the tests use, so Chromium's looping has no click.
export function writeToneWav(path, freq, seconds = 10, rate = 48000) {
	const n = seconds * rate;
	const buf = Buffer.alloc(44 + n * 2);
	buf.write('RIFF', 0);
	buf.writeUInt32LE(36 + n * 2, 4);
	buf.write('WAVEfmt ', 8);
	buf.writeUInt32LE(16, 16);
	buf.writeUInt16LE(1, 20); // PCM
	buf.writeUInt16LE(1, 22); // mono
	buf.writeUInt32LE(rate, 24);
	buf.writeUInt32LE(rate * 2, 28);
	buf.writeUInt16LE(2, 32);
	buf.writeUInt16LE(16, 34);
	buf.write('data', 36);
	buf.writeUInt32LE(n * 2, 40);
	for (let i = 0; i < n; i++)
		buf.writeInt16LE(Math.round(0.5 * 32767 * Math.sin((2 * Math.PI * freq * i) / rate)), 44 + i * 2);
	writeFileSync(path, buf);
}

// A person at a browser whose microphone plays a tone: person.page (15 s
// default timeout) and person.log (the page's console and errors), the
// browser pushed onto browsers for the test's after().
export async function openTonePage(person, workDir, browsers) {
	const wav = join(workDir, `tone-${person.tone}.wav`);
	writeToneWav(wav, person.tone);
	const browser = await launchChromium(wav);
	browsers.push(browser);
	const context = await browser.newContext({ permissions: ['microphone'] });
	person.page = await context.newPage();
	person.page.setDefaultTimeout(15000);
	person.log = [];
	person.page.on('console', (m) => person.log.push(`[${m.type()}] ${m.text()}`));
	person.page.on('pageerror', (e) => person.log.push(`[pageerror] ${e.message}`));
	return person;
}

// Runs check until it stops throwing (every 250 ms), then gives its value;
// past timeoutMs its last error is thrown, with the page's last log lines
// when a person is given.
export async function eventuallyOn(person, name, check, timeoutMs) {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		try {
			return await check();
		} catch (e) {
			if (Date.now() > deadline) {
				if (person?.log) e.message += `\n--- ${name}'s page ---\n${person.log.slice(-15).join('\n')}`;
				throw e;
			}
			await new Promise((r) => setTimeout(r, 250));
		}
	}
}
