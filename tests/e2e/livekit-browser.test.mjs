// A back end written for LiveKit, unchanged but for its URL and keys: it
// makes a room with RoomServiceClient and mints a join token with
// AccessToken; a headless Chromium opens the call page (janus.js) with that
// token and joins; the SDK then lists the participant as ACTIVE (its audio
// flows), its SendData reaches the page's chat, and RemoveParticipant ends
// the page's call.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccessToken, RoomServiceClient, DataPacket_Kind, ParticipantInfo_State } from 'livekit-server-sdk';
import { launchChromium, writeToneWav, eventuallyOn } from '../lib/browser.mjs';
import { startJanus, repoRoot, API_URL, HTTP_URL } from '../lib/janus.mjs';

const KEY = 'APIe2eKey';
const SECRET = 'e2e-secret-abcdefghijklmnopqrstuvwxyz0123456789';
const ROOM = `lk-e2e-${process.pid}`;
const WAIT_MS = 20000;

let janus;
let workDir;
let browser;
let page;
const log = [];
const rooms = () => new RoomServiceClient(API_URL, KEY, SECRET);

// Polls check (throws while not yet true) until it passes or time is up.
const eventually = (check, timeoutMs = WAIT_MS) => eventuallyOn({ log }, 'the', check, timeoutMs);

before(async () => {
	workDir = mkdtempSync(join(tmpdir(), 'sb-e2e-livekit-'));
	const conf = readFileSync(join(repoRoot, 'conf', 'janus.plugin.switchboard.jcfg'), 'utf8') +
		`\nlivekit: {\n\tkeys: {\n\t\t${KEY} = "${SECRET}"\n\t}\n}\n`;
	janus = await startJanus({ pluginConfig: conf });
	const wav = join(workDir, 'tone.wav');
	writeToneWav(wav, 440);
	browser = await launchChromium(wav);
	const context = await browser.newContext({ permissions: ['microphone'] });
	page = await context.newPage();
	page.setDefaultTimeout(15000);
	page.on('console', (m) => log.push(`[${m.type()}] ${m.text()}`));
	page.on('pageerror', (e) => log.push(`[pageerror] ${e.message}`));
}, { timeout: 120000 });

after(async () => {
	if (browser) await browser.close().catch(() => {});
	if (janus) await janus.stop();
	if (workDir) rmSync(workDir, { recursive: true, force: true });
});

test('a browser joins through janus.js with an AccessToken; the SDK sees it, talks to it and removes it', { timeout: 90000 }, async () => {
	const svc = rooms();
	await svc.createRoom({ name: ROOM });
	const at = new AccessToken(KEY, SECRET, { identity: 'web-alice', name: 'Alice', metadata: 'vip' });
	at.addGrant({ roomJoin: true, room: ROOM });
	const token = await at.toJwt();

	await page.goto(`${API_URL}/?janus=${encodeURIComponent(HTTP_URL)}&video=off&token=${encodeURIComponent(token)}`);
	assert.equal(await page.inputValue('#room'), ROOM, 'the room from the LiveKit token');
	assert.equal(await page.inputValue('#display'), 'Alice', 'the name from the LiveKit token');
	await page.click('#join');
	await eventually(async () => {
		const s = await page.evaluate(() => window.switchboardTest.state());
		assert.equal(s.phase, 'joined');
	});

	// Its audio flows: the SDK sees an ACTIVE participant with its token's identity.
	const p = await eventually(async () => {
		const [only] = await svc.listParticipants(ROOM);
		assert.equal(only?.state, ParticipantInfo_State.ACTIVE);
		return only;
	});
	assert.equal(p.identity, 'web-alice');
	assert.equal(p.name, 'Alice');
	assert.equal(p.metadata, 'vip');
	assert.equal(p.tracks[0].mimeType, 'audio/opus');

	await svc.sendData(ROOM, new TextEncoder().encode('your agent will be with you shortly'), DataPacket_Kind.RELIABLE);
	await eventually(async () => {
		const lines = await page.evaluate(() => window.switchboardTest.chat());
		assert.ok(lines.some((l) => l.text === 'your agent will be with you shortly'), JSON.stringify(lines));
	});

	await svc.removeParticipant(ROOM, 'web-alice');
	await eventually(async () => {
		const s = await page.evaluate(() => window.switchboardTest.state());
		assert.notEqual(s.phase, 'joined');
	});
	assert.deepEqual(await svc.listParticipants(ROOM), []);
	await svc.deleteRoom(ROOM);
});
