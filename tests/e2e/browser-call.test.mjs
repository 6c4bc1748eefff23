// The whole browser call through html/index.html, driven like a person
// would (typing, clicking): two headless Chromiums with a fake camera and a
// fake microphone (a tone each) join one room; each must see the other's
// video (decoded frames) and hear the other's tone; chat, the agent toggle
// and camera off must reach the other side; an invitation token that was
// tampered with is refused visibly while the real one gets in; and a
// /ws/notifications client sees the browser user join and leave.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchChromium, writeToneWav, eventuallyOn } from '../lib/browser.mjs';
import WebSocket from 'ws';
import { startJanus, repoRoot, API_URL, API_PORT, API_KEY, HTTP_URL } from '../lib/janus.mjs';

const ARTIFACTS = join(repoRoot, 'tests', 'artifacts');
const ROOM = `e2e-call-${process.pid}`;
const SECURE_ROOM = `e2e-call-secure-${process.pid}`;
const WAIT_MS = 20000;
const FREQ_TOLERANCE_HZ = 25;
const QUIET_MARGIN_DB = 20;

const DESKTOP = { width: 1100, height: 760 };
const PHONE = { width: 390, height: 760 };
const people = {
	A: { display: 'Alice', tone: 440, viewport: DESKTOP },
	B: { display: 'Bob', tone: 880, viewport: PHONE },
	M: { display: 'Mallory', tone: 1320, viewport: DESKTOP }, // forged token
	D: { display: 'Dave', tone: 1760, viewport: DESKTOP }, // real token
	E: { display: 'Erin', tone: 660, viewport: DESKTOP }, // another real token
};

let workDir;
let janus;
let pagesUrl;
const browsers = [];
const sockets = [];
const notifications = [];
let realToken;


// One browser per person: own profile, own fake microphone, fake camera.
async function openBrowser(key) {
	const person = people[key];
	const wav = join(workDir, `tone-${person.tone}.wav`);
	writeToneWav(wav, person.tone);
	const browser = await launchChromium(wav);
	browsers.push(browser);
	const context = await browser.newContext({ viewport: person.viewport, permissions: ['microphone', 'camera'] });
	const page = await context.newPage();
	page.setDefaultTimeout(15000);
	person.log = [];
	page.on('console', (m) => person.log.push(`[${m.type()}] ${m.text()}`));
	page.on('pageerror', (e) => person.log.push(`[pageerror] ${e.message}`));
	person.page = page;
	return page;
}

const hook = (key, fn, arg) => people[key].page.evaluate(fn, arg);
const state = (key) => hook(key, () => window.switchboardTest.state());
const tiles = (key) => hook(key, () => window.switchboardTest.tiles());
const tileOf = async (key, name) => (await tiles(key)).find((t) => t.name === name);
const listedNames = (key) => people[key].page.$$eval('#participants .name', (els) => els.map((e) => e.textContent));
const visibleError = (key) => people[key].page.$eval('#error', (el) => (el.hidden ? '' : el.textContent.trim()));
const probe = (key) => hook(key, () => {
	const t = window.switchboardTest;
	return { ...t.spectrum(), at: Object.fromEntries([440, 880].map((f) => [f, t.magnitudeAt(f)])) };
});

// Polls `check` (throws while not yet true) until it passes or time is up;
// the last failure and the page's console tail become the message.
const eventually = (key, check, timeoutMs = WAIT_MS) => eventuallyOn(key && people[key], key, check, timeoutMs);

async function joinThroughPage(key, { url = pagesUrl, room = ROOM, typeName = true } = {}) {
	const { page, display } = people[key];
	await page.goto(url);
	if (room !== null) await page.fill('#room', room);
	if (typeName) await page.fill('#display', display);
	await page.click('#join');
	await eventually(key, async () => {
		const s = await state(key);
		assert.equal(s.phase, 'joined', `not joined yet (phase ${s.phase}) ${await visibleError(key)}`);
	});
	assert.equal(await page.isVisible('#join-form'), false, 'the form gives way to the call');
	assert.equal(await page.isVisible('#leave'), true);
}

// A tile shows decoded video: a size, and a frame count that goes up.
async function assertVideoFlows(key, name) {
	const first = await eventually(key, async () => {
		const t = await tileOf(key, name);
		assert.ok(t, `${key} has no tile for ${name}: ${JSON.stringify(await tiles(key))}`);
		assert.ok(t.hasVideo && t.videoWidth > 0 && t.totalVideoFrames > 0, `${key}'s tile of ${name}: ${JSON.stringify(t)}`);
		return t;
	});
	await eventually(key, async () => {
		const t = await tileOf(key, name);
		assert.ok(t.totalVideoFrames >= first.totalVideoFrames + 5,
			`${key}'s tile of ${name} is frozen: ${first.totalVideoFrames} → ${t.totalVideoFrames} frames`);
	}, 10000);
}

function assertNear(freq, want, what) {
	assert.ok(Math.abs(freq - want) <= FREQ_TOLERANCE_HZ, `${what}: dominant ${freq.toFixed(1)} Hz, want ${want}±${FREQ_TOLERANCE_HZ}`);
}

async function rest(path, body) {
	const res = await fetch(`${API_URL}${path}`, {
		method: 'POST',
		headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
		body: JSON.stringify(body),
	});
	return { status: res.status, body: await res.json() };
}

// Notifications about one room and type that carry this display name.
const notified = (type, room, display) => notifications.find((n) => n.type === type && n.room === room &&
	n.participant?.display === display);

before(async () => {
	workDir = mkdtempSync(join(tmpdir(), 'sb-e2e-call-'));
	mkdirSync(ARTIFACTS, { recursive: true });
	janus = await startJanus();
	pagesUrl = `${API_URL}/?janus=${encodeURIComponent(HTTP_URL)}`;
	// The notifications client is up before anyone joins.
	const ws = new WebSocket(`ws://127.0.0.1:${API_PORT}/ws/notifications`, {
		headers: { Authorization: `Bearer ${API_KEY}` }, handshakeTimeout: 5000,
	});
	sockets.push(ws);
	ws.on('message', (data) => notifications.push(JSON.parse(data.toString())));
	await new Promise((resolve, reject) => {
		const t = setTimeout(() => reject(new Error('/ws/notifications did not open in 5 s')), 5000);
		ws.once('open', () => { clearTimeout(t); resolve(); });
		ws.once('error', (e) => { clearTimeout(t); reject(e); });
	});
	await Promise.all(['A', 'B'].map(openBrowser));
}, { timeout: 120000 });

after(async () => {
	for (const ws of sockets) ws.terminate();
	await Promise.allSettled(browsers.map((b) => b.close()));
	if (janus) await janus.stop();
	if (workDir) rmSync(workDir, { recursive: true, force: true });
});

test('two people join through the page and both lists show both names', { timeout: 60000 }, async () => {
	await joinThroughPage('A');
	await joinThroughPage('B');
	for (const key of ['A', 'B']) {
		await eventually(key, async () => assert.deepEqual((await listedNames(key)).sort(), ['Alice', 'Bob'], `${key}'s list`));
	}
});

test('the notifications socket saw both browser users join', { timeout: 20000 }, async () => {
	await eventually(null, async () => {
		for (const name of ['Alice', 'Bob']) {
			const n = notified('participant_joined', ROOM, name);
			assert.ok(n, `no participant_joined for ${name}: ${JSON.stringify(notifications.slice(-6))}`);
			assert.equal(n.interface, 'web');
		}
	}, 10000);
});

test('each sees the other\'s camera: decoded frames that keep coming', { timeout: 60000 }, async () => {
	await assertVideoFlows('A', 'Bob');
	await assertVideoFlows('B', 'Alice');
	// And each sees their own preview.
	for (const [key, name] of [['A', 'Alice'], ['B', 'Bob']]) {
		const own = await eventually(key, async () => {
			const t = await tileOf(key, name);
			assert.ok(t?.me && t.hasVideo && t.videoWidth > 0, `${key}'s own tile: ${JSON.stringify(t)}`);
			return t;
		});
		assert.ok(own.me);
	}
});

test('they hear each other, not themselves', { timeout: 40000 }, async (t) => {
	await eventually('B', async () => {
		const p = await probe('B');
		assert.ok(p.level_db > -50, `B hears near silence (${p.level_db.toFixed(1)} dB)`);
		assertNear(p.freq, 440, 'B');
		assert.ok(p.at[880] <= p.at[440] - QUIET_MARGIN_DB, `B hears itself: ${JSON.stringify(p.at)}`);
	});
	await eventually('A', async () => {
		const p = await probe('A');
		assert.ok(p.level_db > -50, `A hears near silence (${p.level_db.toFixed(1)} dB)`);
		assertNear(p.freq, 880, 'A');
		assert.ok(p.at[440] <= p.at[880] - QUIET_MARGIN_DB, `A hears itself: ${JSON.stringify(p.at)}`);
	});
	for (const key of ['A', 'B']) t.diagnostic(`${key} hears ${JSON.stringify(await probe(key), (k, v) => (typeof v === 'number' ? Math.round(v) : v))}`);
});

test('talking shows on the list and as an outline on the speaker\'s tile', { timeout: 30000 }, async () => {
	await eventually('B', async () => {
		const alice = await tileOf('B', 'Alice');
		assert.ok(alice?.talking, `B's tile of Alice is not outlined: ${JSON.stringify(alice)}`);
		const talking = await people.B.page.$$eval('#participants li.talking .name', (els) => els.map((e) => e.textContent));
		assert.ok(talking.includes('Alice'), `B's list shows talking: ${JSON.stringify(talking)}`);
	});
	assert.equal(await people.B.page.locator('.tile.talking[data-name="Alice"]').count(), 1);
});

test('chat: what A writes shows on B with A\'s name', { timeout: 30000 }, async () => {
	const text = `Hello Bob, can you see me? <b>not bold</b> ${process.pid}`;
	await people.A.page.fill('#chat-input', text);
	await people.A.page.click('#chat-send');
	for (const key of ['B', 'A']) {
		await eventually(key, async () => {
			const lines = await people[key].page.$$eval('#chat-log li', (els) => els.map((li) => ({
				who: li.querySelector('.chat-who')?.textContent, text: li.querySelector('.chat-text')?.textContent,
			})));
			const line = lines.find((l) => l.text === text);
			assert.ok(line, `${key}'s chat panel: ${JSON.stringify(lines)}`);
			assert.match(line.who, /^Alice/);
		});
	}
	assert.equal(await people.B.page.locator('#chat-log b').count(), 0, 'chat text is shown as text, not HTML');
	assert.equal(await people.A.page.inputValue('#chat-input'), '', 'the input is cleared once sent');
});

test('the agent toggle on A shows "on" on B too, and "off" again; B, not the room\'s admin, is refused visibly', { timeout: 30000 }, async () => {
	const agentText = (key) => people[key].page.textContent('#agent-state');
	await eventually('A', async () => assert.equal(await agentText('A'), 'off'));
	await people.A.page.click('#agent');
	await eventually('A', async () => assert.equal(await people.A.page.getAttribute('#agent', 'aria-pressed'), 'true'));
	await eventually('B', async () => {
		assert.equal(await agentText('B'), 'on');
		assert.equal(await people.B.page.textContent('#agent'), 'Agent: on');
	});
	// A created the room and holds its admin token; B joined it as a guest.
	await people.B.page.click('#agent');
	await eventually('B', async () => {
		assert.equal(await people.B.page.isVisible('#notice'), true);
		assert.match(await people.B.page.textContent('#notice-text'), /Could not turn the agent off: only whoever created this room \(its admin\)/);
	});
	assert.equal(await agentText('A'), 'on', 'the refusal changed nothing');
	await people.A.page.click('#agent');
	await eventually('A', async () => assert.equal(await agentText('A'), 'off'));
	await eventually('B', async () => assert.equal(await agentText('B'), 'off'));
});

test('camera off on A blanks A\'s tile on B (avatar); on again brings video back', { timeout: 60000 }, async () => {
	await people.A.page.click('#camera');
	await eventually('A', async () => assert.equal(await people.A.page.getAttribute('#camera', 'aria-pressed'), 'true'));
	await eventually('B', async () => {
		const t = await tileOf('B', 'Alice');
		assert.ok(t && !t.hasVideo && t.videoWidth === 0, `B still shows Alice's video: ${JSON.stringify(t)}`);
		assert.equal(await people.B.page.isVisible('.tile[data-name="Alice"] .avatar'), true, 'avatar shown instead');
	});
	await eventually('A', async () => {
		const own = await tileOf('A', 'Alice');
		assert.ok(own && !own.hasVideo, `A's own tile still has video: ${JSON.stringify(own)}`);
	});
	await people.A.page.screenshot({ path: join(ARTIFACTS, 'browser-call-camera-off.png') });
	await people.A.page.click('#camera');
	await assertVideoFlows('B', 'Alice');
});

test('screenshots: desktop and phone', { timeout: 30000 }, async () => {
	await assertVideoFlows('A', 'Bob');
	await people.A.page.screenshot({ path: join(ARTIFACTS, 'browser-call.png') });
	await people.B.page.screenshot({ path: join(ARTIFACTS, 'browser-call-phone.png'), fullPage: true });
});

test('B leaves through the page: A drops B, and the socket reports who left', { timeout: 30000 }, async () => {
	await people.B.page.click('#leave');
	await eventually('B', async () => {
		assert.equal((await state('B')).phase, 'idle');
		assert.equal(await people.B.page.isVisible('#join-form'), true);
	});
	await eventually('A', async () => {
		assert.deepEqual(await listedNames('A'), ['Alice']);
		assert.equal(await tileOf('A', 'Bob'), undefined, 'Bob\'s tile is gone');
	});
	await eventually(null, async () => {
		const n = notified('participant_left', ROOM, 'Bob');
		assert.ok(n, `no participant_left for Bob: ${JSON.stringify(notifications.slice(-6))}`);
	}, 10000);
});

test('a token-protected room: a forged token is refused visibly, the real one gets in', { timeout: 90000 }, async () => {
	const created = await rest('/room/create', { roomName: SECURE_ROOM, requireToken: true });
	assert.equal(created.status, 201, JSON.stringify(created.body));
	const joined = await rest('/room/join', { roomName: SECURE_ROOM, participantIdentity: 'dave-1', participantName: 'Dave' });
	assert.equal(joined.status, 200, JSON.stringify(joined.body));
	realToken = joined.body.token;
	// Flip one character in the middle of the signature.
	const dot = realToken.lastIndexOf('.');
	const i = dot + 10;
	const forged = realToken.slice(0, i) + (realToken[i] === 'A' ? 'B' : 'A') + realToken.slice(i + 1);
	assert.notEqual(forged, realToken);
	await Promise.all(['M', 'D'].map(openBrowser));
	const withToken = (token) => `${pagesUrl}&token=${encodeURIComponent(token)}`;

	// Mallory: the page says whom the link is for, but the server refuses it.
	const m = people.M.page;
	await m.goto(withToken(forged));
	assert.equal(await m.inputValue('#room'), SECURE_ROOM, 'room from the token');
	await m.click('#join');
	await m.waitForSelector('#error:not([hidden])', { timeout: 15000 });
	const refused = await m.textContent('#error-text');
	assert.match(refused, /token/i);
	assert.match(refused, /invalid token signature/);
	assert.match(refused, /488/);
	assert.equal((await state('M')).phase, 'idle');
	assert.equal(await m.isVisible('#join-form'), true);
	await m.screenshot({ path: join(ARTIFACTS, 'browser-call-forged-token.png') });

	// Without any token the room says it needs one.
	await m.goto(pagesUrl);
	await m.fill('#room', SECURE_ROOM);
	await m.fill('#display', 'Mallory');
	await m.click('#join');
	await m.waitForSelector('#error:not([hidden])', { timeout: 15000 });
	assert.match(await m.textContent('#error-text'), /needs a join token/);

	// Dave: the real token; the name comes from it (not typed).
	await joinThroughPage('D', { url: withToken(realToken), room: null, typeName: false });
	const s = await state('D');
	assert.equal(s.room, SECURE_ROOM);
	assert.equal(s.display, 'Dave');
	assert.deepEqual(await listedNames('D'), ['Dave']);
	const me = s.participants.find((p) => p.me);
	assert.equal(me.identity, 'dave-1', 'identity from the token');
	await eventually(null, async () => assert.ok(notified('participant_joined', SECURE_ROOM, 'Dave'), 'socket saw Dave join'), 10000);
});

test('in the token room, members see each other\'s camera through the VideoRoom the plugin made for them', { timeout: 90000 }, async () => {
	const joined = await rest('/room/join', { roomName: SECURE_ROOM, participantIdentity: 'erin-1', participantName: 'Erin' });
	assert.equal(joined.status, 200, JSON.stringify(joined.body));
	await openBrowser('E');
	await joinThroughPage('E', { url: `${pagesUrl}&token=${encodeURIComponent(joined.body.token)}`, room: null, typeName: false });
	await assertVideoFlows('D', 'Erin');
	await assertVideoFlows('E', 'Dave');
	// The page joined the VideoRoom the join answer named, with its pin:
	// not one named after the room, which nobody may create any more.
	const room = await hook('E', () => window.switchboardTest.video?.()?.room);
	assert.ok(room && room !== SECURE_ROOM, `E's VideoRoom: ${room}`);
	await people.E.page.click('#leave');
	await eventually('E', async () => assert.equal((await state('E')).phase, 'idle'));
});

test('an unreachable REST server is reported without blocking the page', { timeout: 30000 }, async () => {
	const { page } = people.M;
	const url = new URL(pagesUrl);
	url.searchParams.set('api', 'http://127.0.0.1:1'); // refused at once (and an unsafe port)
	await page.goto(url.href);
	await page.waitForSelector('#notice:not([hidden])', { timeout: 10000 });
	assert.match(await page.textContent('#notice-text'), /Switchboard server at http:\/\/127\.0\.0\.1:1 is unreachable/);
	assert.equal(await page.isEnabled('#join'), true);
});

test('Janus going away mid-call is reported on the page', { timeout: 40000 }, async () => {
	assert.equal((await state('D')).phase, 'joined');
	await janus.stop();
	await eventually('D', async () => {
		assert.equal((await state('D')).phase, 'idle');
		assert.match(await people.D.page.textContent('#error-text'), /Lost the connection to Janus/);
	}, 30000);
	assert.equal(await people.D.page.isVisible('#join-form'), true, 'back to the form, ready to rejoin');
});
