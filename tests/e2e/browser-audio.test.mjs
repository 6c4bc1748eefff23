// Three headless Chromiums join one switchboard room through html/index.html,
// each "speaking" a sine tone from a WAV file (Chromium's fake microphone).
// What each page hears is measured by the page's own WebAudio analyser
// (window.switchboardTest): mix-minus, mute and leave are checked by ear.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchChromium, writeToneWav, eventuallyOn } from '../lib/browser.mjs';
import { startJanus, adminRequest, repoRoot, API_URL, HTTP_URL } from '../lib/janus.mjs';

const ARTIFACTS = join(repoRoot, 'tests', 'artifacts');
const ROOM = `e2e-audio-${process.pid}`;
const HEAR_TIMEOUT_MS = 15000;
const FREQ_TOLERANCE_HZ = 25;
const QUIET_MARGIN_DB = 20; // "does not hear X": X at least this far below what it does hear

const people = {
	A: { display: 'Alice', tone: 440 },
	B: { display: 'Bob', tone: 880 },
	C: { display: 'Carol', tone: 1320, muted: true },
};

let workDir;
let janus;
let pagesUrl;
const browsers = [];


// One browser per person: its own profile and its own fake microphone file.
async function openBrowser(key) {
	const person = people[key];
	const wav = join(workDir, `tone-${person.tone}.wav`);
	writeToneWav(wav, person.tone);
	const browser = await launchChromium(wav);
	browsers.push(browser);
	// Bob gets a phone-sized screen: the screenshot shows the narrow layout.
	const viewport = key === 'B' ? { width: 390, height: 760 } : { width: 900, height: 700 };
	const context = await browser.newContext({ viewport, permissions: ['microphone'] });
	const page = await context.newPage();
	page.setDefaultTimeout(15000);
	person.log = [];
	page.on('console', (m) => person.log.push(`[${m.type()}] ${m.text()}`));
	page.on('pageerror', (e) => person.log.push(`[pageerror] ${e.message}`));
	person.page = page;
	return page;
}

const probe = (key) => people[key].page.evaluate(() => {
	const t = window.switchboardTest;
	return { ...t.spectrum(), at: Object.fromEntries([440, 880, 1320].map((f) => [f, t.magnitudeAt(f)])) };
});
const state = (key) => people[key].page.evaluate(() => window.switchboardTest.state());
const listedNames = (key) => people[key].page.$$eval('#participants .name', (els) => els.map((e) => e.textContent));

// Polls `check` (which throws while not yet true) until it passes or time is up;
// the last failure, and the page's console tail, become the test's message.
const eventually = (key, check, timeoutMs = HEAR_TIMEOUT_MS) => eventuallyOn(people[key], key, check, timeoutMs);

// A negative check must hold for a while, not just once.
async function consistently(check, forMs = 2000) {
	const end = Date.now() + forMs;
	while (Date.now() < end) {
		await check();
		await new Promise((r) => setTimeout(r, 250));
	}
}

async function joinThroughPage(key) {
	const { page, display, muted } = people[key];
	await page.goto(pagesUrl);
	await page.fill('#room', ROOM);
	await page.fill('#display', display);
	if (muted) {
		await page.click('#mute'); // before joining: joins muted
		assert.equal(await page.getAttribute('#mute', 'aria-pressed'), 'true');
	}
	await page.click('#join');
	await eventually(key, async () => {
		const s = await state(key);
		const error = await page.$eval('#error', (el) => (el.hidden ? '' : el.textContent.trim()));
		assert.equal(s.phase, 'joined', `not joined yet (phase ${s.phase}) ${error}`);
		assert.equal(s.room, ROOM);
		assert.equal(typeof s.id, 'number');
	});
	assert.equal(await page.isVisible('#join-form'), false, 'the form gives way to the call');
	assert.equal(await page.isVisible('#leave'), true);
}

function assertNear(freq, want, what) {
	assert.ok(Math.abs(freq - want) <= FREQ_TOLERANCE_HZ, `${what}: dominant ${freq.toFixed(1)} Hz, want ${want}±${FREQ_TOLERANCE_HZ}`);
}

before(async () => {
	workDir = mkdtempSync(join(tmpdir(), 'sb-e2e-audio-'));
	mkdirSync(ARTIFACTS, { recursive: true });
	janus = await startJanus();
	// The plugin serves the page; it is told where this test's Janus is.
	pagesUrl = `${API_URL}/?janus=${encodeURIComponent(HTTP_URL)}`;
	await Promise.all(Object.keys(people).map(openBrowser));
}, { timeout: 120000 });

after(async () => {
	await Promise.allSettled(browsers.map((b) => b.close()));
	if (janus) await janus.stop();
	if (workDir) rmSync(workDir, { recursive: true, force: true });
});

test('three browsers join one room through the page (the first creates it)', { timeout: 60000 }, async () => {
	await joinThroughPage('A');
	await joinThroughPage('B');
	await joinThroughPage('C');
	const names = Object.values(people).map((p) => p.display).sort();
	for (const key of Object.keys(people)) {
		await eventually(key, async () => assert.deepEqual((await listedNames(key)).sort(), names, `${key}'s list`));
	}
	const ids = new Set(await Promise.all(['A', 'B', 'C'].map(async (k) => (await state(k)).id)));
	assert.equal(ids.size, 3, 'three distinct participant ids');
	// Everyone sees Carol as muted.
	await eventually('A', async () => {
		const carol = (await state('A')).participants.find((p) => p.display === 'Carol');
		assert.equal(carol?.muted, true, `Carol as A sees her: ${JSON.stringify(carol)}`);
	});
});

// Measured figures go to the TAP output: useful when a margin gets thin.
const report = async (t, keys) => {
	for (const key of keys) t.diagnostic(`${key} hears ${JSON.stringify(await probe(key), (k, v) => (typeof v === 'number' ? Math.round(v * 10) / 10 : v))}`);
};

test('B hears A (440 Hz) and A hears B (880 Hz)', { timeout: 40000 }, async (t) => {
	await eventually('B', async () => {
		const p = await probe('B');
		assert.ok(p.level_db > -50, `B hears near silence (${p.level_db.toFixed(1)} dB)`);
		assertNear(p.freq, 440, 'B');
	});
	await eventually('A', async () => {
		const p = await probe('A');
		assert.ok(p.level_db > -50, `A hears near silence (${p.level_db.toFixed(1)} dB)`);
		assertNear(p.freq, 880, 'A');
	});
	await report(t, ['A', 'B', 'C']);
	await people.B.page.screenshot({ path: join(ARTIFACTS, 'browser-audio-bob-phone.png'), fullPage: true });
});

test('A does not hear its own tone (mix-minus)', { timeout: 30000 }, async () => {
	await consistently(async () => {
		const p = await probe('A');
		assert.ok(p.at[440] <= p.at[880] - QUIET_MARGIN_DB,
			`A hears itself: 440 Hz at ${p.at[440].toFixed(1)} dB vs 880 Hz at ${p.at[880].toFixed(1)} dB`);
	});
});

test('nobody hears muted C (1320 Hz)', { timeout: 30000 }, async () => {
	await eventually('C', async () => {
		const p = await probe('C');
		assert.ok(p.at[440] > -60 && p.at[880] > -60, `C should hear A and B: ${JSON.stringify(p.at)}`);
	});
	await consistently(async () => {
		for (const key of ['A', 'B', 'C']) {
			const p = await probe(key);
			const heard = key === 'A' ? p.at[880] : p.at[440];
			assert.ok(p.at[1320] <= heard - QUIET_MARGIN_DB,
				`${key} hears muted C: 1320 Hz at ${p.at[1320].toFixed(1)} dB vs ${heard.toFixed(1)} dB`);
		}
	});
});

test('talking indicators light up for the speakers', { timeout: 30000 }, async () => {
	await eventually('C', async () => {
		const talking = await people.C.page.$$eval('#participants li.talking .name', (els) => els.map((e) => e.textContent));
		assert.ok(talking.includes('Alice') && talking.includes('Bob'), `C's page shows talking: ${JSON.stringify(talking)}`);
	});
	await people.C.page.screenshot({ path: join(ARTIFACTS, 'browser-audio-carol.png'), fullPage: true });
});

test('when C unmutes, A hears 1320 Hz appear', { timeout: 30000 }, async (t) => {
	await people.C.page.click('#mute');
	assert.equal(await people.C.page.getAttribute('#mute', 'aria-pressed'), 'false');
	await eventually('A', async () => {
		const p = await probe('A');
		// Same loudness as Bob's 880 Hz, give or take the codec.
		assert.ok(p.at[1320] >= p.at[880] - 10, `A: 1320 Hz at ${p.at[1320].toFixed(1)} dB vs 880 Hz at ${p.at[880].toFixed(1)} dB`);
	});
	await eventually('B', async () => {
		const carol = (await state('B')).participants.find((p) => p.display === 'Carol');
		assert.equal(carol?.muted, false, `Carol as B sees her: ${JSON.stringify(carol)}`);
	});
	await report(t, ['A', 'B']);
});

test('A leaves and B\'s list drops A', { timeout: 30000 }, async () => {
	const alice = (await state('A')).id;
	await people.A.page.click('#leave');
	await eventually('A', async () => {
		assert.equal((await state('A')).phase, 'idle');
		assert.equal(await people.A.page.isVisible('#join-form'), true);
	});
	await eventually('B', async () => {
		assert.deepEqual((await listedNames('B')).sort(), ['Bob', 'Carol']);
		assert.ok(!(await state('B')).participants.some((p) => p.id === alice));
	});
	// And B no longer hears Alice's tone.
	await eventually('B', async () => {
		const p = await probe('B');
		assert.ok(p.at[440] <= p.at[1320] - QUIET_MARGIN_DB, `B still hears A: ${JSON.stringify(p.at)}`);
	});
	await people.B.page.screenshot({ path: join(ARTIFACTS, 'browser-audio-after-leave.png'), fullPage: true });
});

test('an unknown room is reported, and the page offers to create it', { timeout: 30000 }, async () => {
	const { page } = people.A; // idle again after leaving
	const room = `${ROOM}-new`;
	await page.fill('#room', room);
	await page.uncheck('#create-missing');
	await page.click('#join');
	await page.waitForSelector('#error:not([hidden])');
	assert.match(await page.textContent('#error-text'), /does not exist.*486/);
	assert.equal((await state('A')).phase, 'idle');
	await page.click('#error-create');
	await eventually('A', async () => {
		const s = await state('A');
		assert.equal(s.phase, 'joined');
		assert.equal(s.room, room);
	});
	assert.equal(await page.isVisible('#error'), false, 'the error goes away once joined');
	await page.click('#leave');
	await eventually('A', async () => assert.equal((await state('A')).phase, 'idle'));
});

test('an unreachable Janus is reported clearly', { timeout: 30000 }, async () => {
	const { page } = people.A;
	// Port 1 is refused at once (and Chromium refuses it as unsafe anyway).
	const url = new URL(pagesUrl);
	for (const [k, v] of Object.entries({ janus: 'http://127.0.0.1:1/janus', room: 'x', display: 'Alice' })) url.searchParams.set(k, v);
	await page.goto(url.href);
	await page.click('#join');
	await page.waitForSelector('#error:not([hidden])');
	assert.match(await page.textContent('#error-text'), /Cannot reach Janus at http:\/\/127\.0\.0\.1:1\/janus/);
	assert.equal(await page.isVisible('#join-form'), true);
});

test('a kicked participant is told, and the others\' lists drop them', { timeout: 30000 }, async () => {
	const bob = (await state('B')).id;
	assert.deepEqual(await adminRequest({ request: 'kick', room: ROOM, id: bob }), { switchboard: 'success' });
	await eventually('B', async () => {
		assert.equal((await state('B')).phase, 'idle');
		assert.match(await people.B.page.textContent('#error-text'), /removed from the room/);
	});
	await eventually('C', async () => assert.deepEqual(await listedNames('C'), ['Carol']));
});

test('closing the room tells whoever is still in it', { timeout: 30000 }, async () => {
	assert.equal((await adminRequest({ request: 'destroy', room: ROOM })).switchboard, 'destroyed');
	await eventually('C', async () => {
		assert.equal((await state('C')).phase, 'idle');
		assert.match(await people.C.page.textContent('#error-text'), /was closed/);
	});
});
