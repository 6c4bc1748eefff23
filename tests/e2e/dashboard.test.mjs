// The dashboard in headless Chromium over real records: live sessions
// from /ws/notifications, the call history, a call's page, analytics
// charts, the transfer tab, the API key prompt. Screenshots go to
// tests/artifacts/.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { rmSync, mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rest } from '../lib/notifications.mjs';
import { launchChromium, writeToneWav } from '../lib/browser.mjs';
import { startJanus, adminRequest, repoRoot, API_URL, API_KEY } from '../lib/janus.mjs';
import { mulawEncode, rtpPacket } from '../lib/audio.mjs';
import { pluginConfigWithStore, endedCall } from '../lib/store.mjs';

const ARTIFACTS = join(repoRoot, 'tests', 'artifacts');
let janus, browser, dir;
const sockets = [];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function rtpCaller(room, display) {
	const sock = dgram.createSocket('udp4');
	await new Promise((r) => sock.bind(0, '127.0.0.1', r));
	sockets.push(sock);
	const joined = await adminRequest({ request: 'rtp_join', room, ip: '127.0.0.1', port: sock.address().port, codec: 'pcmu', display });
	for (let i = 0; i < 10; i++) sock.send(rtpPacket({ pt: 0, seq: i, ts: i * 160, ssrc: 5, payload: new Uint8Array(160).fill(mulawEncode(0)) }), joined.port, joined.ip);
	return joined;
}

before(async () => {
	dir = mkdtempSync(join(tmpdir(), 'sb-dash-'));
	mkdirSync(ARTIFACTS, { recursive: true });
	janus = await startJanus({ pluginConfig: pluginConfigWithStore(join(dir, 'calls.db')) });
	// Two calls in the records: one answered by a second party, one not.
	for (const [room, people] of [[`dash-answered-${process.pid}`, ['Ann', 'Bob']], [`dash-missed-${process.pid}`, ['Carl']]]) {
		await rest('POST', '/room/create', { roomName: room });
		for (const p of people) await rtpCaller(room, p);
		await sleep(200);
		await adminRequest({ request: 'destroy', room });
		await endedCall(room);
	}
	const wav = join(dir, 'silence.wav');
	writeToneWav(wav, 440, 1);
	browser = await launchChromium(wav);
}, { timeout: 120000 });
after(async () => {
	for (const s of sockets) s.close();
	await browser?.close().catch(() => {});
	if (janus) await janus.stop();
	if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the dashboard shows live sessions, history, a call, analytics and transfers', { timeout: 60000 }, async () => {
	const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
	const errors = [];
	page.on('pageerror', (e) => errors.push(e.message));
	await page.goto(`${API_URL}/dashboard.html`);
	await page.waitForSelector('#key-form:not([hidden])');
	await page.fill('#key-input', API_KEY);
	await page.click('#key-form button');
	await page.waitForSelector('#conn.up', { timeout: 10000 });
	// Someone calls while the dashboard is open: the live view shows them.
	const live = `dash-live-${process.pid}`;
	await rest('POST', '/room/create', { roomName: live });
	await rtpCaller(live, 'Live caller');
	await page.waitForFunction(() => document.querySelector('#live-groups')?.textContent.includes('Live caller'), null, { timeout: 10000 });
	await page.waitForFunction(() => document.querySelector('#live-events')?.textContent.includes('participant joined'), null, { timeout: 5000 });
	await page.screenshot({ path: join(ARTIFACTS, 'dashboard-live.png'), fullPage: true });

	await page.click('nav a[data-tab="history"]');
	await page.waitForSelector('#calls-body tr[data-id]');
	const rooms = await page.$$eval('#calls-body tr[data-id] td:nth-child(2)', (tds) => tds.map((t) => t.textContent));
	assert.ok(rooms.includes(`dash-answered-${process.pid}`) && rooms.includes(`dash-missed-${process.pid}`), rooms.join());
	const outcomes = await page.$$eval('#calls-body .badge', (b) => b.map((x) => x.textContent));
	assert.ok(outcomes.includes('completed') && outcomes.includes('abandoned'), outcomes.join());
	// Search narrows the list.
	await page.fill('#filters input[name="q"]', 'missed');
	await page.click('#filters button');
	await page.waitForFunction(() => document.querySelectorAll('#calls-body tr[data-id]').length === 1);
	await page.screenshot({ path: join(ARTIFACTS, 'dashboard-history.png'), fullPage: true });
	await page.fill('#filters input[name="q"]', '');
	await page.click('#filters button');
	await page.waitForFunction(() => document.querySelectorAll('#calls-body tr[data-id]').length >= 2);

	await page.click(`#calls-body tr:has-text("dash-answered-${process.pid}")`);
	await page.waitForFunction(() => document.querySelector('#call-participants')?.textContent.includes('Bob'));
	const facts = await page.textContent('#call-facts');
	assert.match(facts, /completed/);
	assert.match(facts, /rtp/);
	await page.screenshot({ path: join(ARTIFACTS, 'dashboard-call.png'), fullPage: true });

	await page.click('nav a[data-tab="analytics"]');
	await page.waitForSelector('#kpis .kpi');
	const kpis = await page.textContent('#kpis');
	// The two ended calls and the live one, in progress.
	assert.match(kpis, /^3calls/);
	assert.match(kpis, /1abandoned/);
	await page.waitForSelector('#chart-days svg rect.bar', { state: 'attached' });
	const bars = await page.$$eval('#chart-interfaces svg', (s) => s.map((x) => x.getAttribute('aria-label')));
	assert.deepEqual(bars, ['rtp: 3']);
	await page.click('.ranges button[data-range="30d"]');
	await page.waitForFunction(() => document.querySelectorAll('#chart-days svg rect.bar').length === 30);
	await page.screenshot({ path: join(ARTIFACTS, 'dashboard-analytics.png'), fullPage: true });

	await page.click('nav a[data-tab="transfers"]');
	await page.waitForSelector('#transfers-body td.empty');
	assert.deepEqual(errors, []);
	await page.close();
});

test('without a key the dashboard asks for one, and a wrong key is refused', { timeout: 30000 }, async () => {
	const page = await browser.newPage();
	await page.goto(`${API_URL}/dashboard.html`);
	await page.waitForSelector('#key-form:not([hidden])');
	await page.fill('#key-input', 'wrong-key');
	await page.click('#key-form button');
	await page.click('nav a[data-tab="history"]').catch(() => {});
	await page.goto(`${API_URL}/dashboard.html#history`);
	await page.waitForSelector('#key-form:not([hidden])');
	await page.waitForFunction(() => /refused/.test(document.querySelector('#error')?.textContent || ''), null, { timeout: 5000 });
	await page.fill('#key-input', API_KEY);
	await page.click('#key-form button');
	await page.waitForSelector('#calls-body tr[data-id]');
	await page.close();
});

test('a key in the page\'s address is neither used nor left there; the form\'s key is kept for the tab only', { timeout: 30000 }, async () => {
	const context = await browser.newContext();
	const page = await context.newPage();
	await page.goto(`${API_URL}/dashboard.html?api_key=${encodeURIComponent(API_KEY)}#history`);
	await page.waitForSelector('#key-form:not([hidden])');
	assert.equal(await page.isHidden('main'), true, 'nothing shown without a key typed in');
	const url = new URL(page.url());
	assert.equal(url.searchParams.has('api_key'), false, `the key stays in the address: ${page.url()}`);
	assert.ok(!page.url().includes(API_KEY), page.url());
	assert.equal(url.hash, '#history', 'the rest of the address is kept');
	await page.fill('#key-input', API_KEY);
	await page.click('#key-form button');
	await page.waitForSelector('#calls-body tr[data-id]');
	assert.ok(!page.url().includes(API_KEY), `typing the key put it in the address: ${page.url()}`);
	assert.equal(await page.evaluate(() => sessionStorage.getItem('sb-api-key')), API_KEY);
	assert.equal(await page.evaluate(() => localStorage.length), 0, 'nothing kept beyond the tab');
	await context.close();
});
