// The dashboard in headless Chromium over real records: live sessions
// from /ws/notifications, the call history, a call's page, analytics
// charts, the transfer tab, the API key prompt; a call's analysis (its
// facts, fields and the caller's sentiment over the call), sentiment over
// time in analytics, the disposition and sentiment filters, and a call
// without analysis. Screenshots go to tests/artifacts/.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { rmSync, mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rest, openNotifications } from '../lib/notifications.mjs';
import { phoneCaller, speech8k } from '../lib/phone-caller.mjs';
import { launchChromium, writeToneWav } from '../lib/browser.mjs';
import { startJanus, adminRequest, repoRoot, API_URL, API_KEY } from '../lib/janus.mjs';
import { mulawEncode, rtpPacket } from '../lib/audio.mjs';
import { pluginConfigWithStore, endedCall } from '../lib/store.mjs';

const ARTIFACTS = join(repoRoot, 'tests', 'artifacts');
let janus, browser, dir, notes;
const spokenRoom = `dash-spoken-${process.pid}`;
const FIELDS = { type: 'object', properties: { order_number: { type: 'string' }, product_issue: { type: 'boolean', pattern: '(?i)broken' } } };
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

// The record of the call in room once its analysis is in (it comes after
// the call's end).
async function analysedCall(room) {
	const deadline = Date.now() + 15000;
	for (;;) {
		const call = await endedCall(room);
		if (call.analysis) return call;
		if (Date.now() > deadline) throw new Error(`no analysis for ${room}`);
		await sleep(200);
	}
}

before(async () => {
	dir = mkdtempSync(join(tmpdir(), 'sb-dash-'));
	mkdirSync(ARTIFACTS, { recursive: true });
	writeFileSync(join(dir, 'fields.json'), JSON.stringify(FIELDS));
	janus = await startJanus({ pluginConfig: `${pluginConfigWithStore(join(dir, 'calls.db'))}\nanalysis: {\n\tfields = "${join(dir, 'fields.json')}"\n}\n` });
	notes = await openNotifications();
	// Two calls in the records: one answered by a second party, one not.
	for (const [room, people] of [[`dash-answered-${process.pid}`, ['Ann', 'Bob']], [`dash-missed-${process.pid}`, ['Carl']]]) {
		await rest('POST', '/room/create', { roomName: room });
		for (const p of people) await rtpCaller(room, p);
		await sleep(200);
		await adminRequest({ request: 'destroy', room });
		await endedCall(room);
	}
	// A caller who speaks to the AI agent: a complaint (the lexicon's
	// "broken"), then thanks ("thank"), each a phrase of the recogniser's
	// grammar.
	assert.equal((await adminRequest({ request: 'create', room: spokenRoom })).switchboard, 'created');
	assert.equal((await adminRequest({ request: 'agent', room: spokenRoom, enable: true })).switchboard, 'agent');
	const caller = await phoneCaller(spokenRoom);
	try {
		const inRoom = (e) => e.room === spokenRoom;
		await notes.until('the greeting to end', () => notes.events.find((e) => inRoom(e) && e.type === 'agent_state' && e.state === 'listening'), 30000);
		for (const [name, line] of [['broken', 'My product is broken.'], ['thanks', 'Thank you very much.']]) {
			const from = Date.now();
			await caller.say(speech8k(dir, name, line));
			const turn = await notes.until(`the answer to "${line}"`, () => notes.events.find((e) => inRoom(e) && e.type === 'agent_turn' && e.timestamp >= from), 30000);
			// The answer said to its end before the next line.
			await notes.until('the agent listening again', () => notes.events.find((e) => inRoom(e) && e.type === 'agent_state' && e.state === 'listening' && e.timestamp >= turn.timestamp), 30000);
		}
	} finally {
		caller.stop();
	}
	assert.equal((await adminRequest({ request: 'destroy', room: spokenRoom })).switchboard, 'destroyed');
	await analysedCall(spokenRoom);
	for (const room of [`dash-answered-${process.pid}`, `dash-missed-${process.pid}`]) await analysedCall(room);
	const wav = join(dir, 'silence.wav');
	writeToneWav(wav, 440, 1);
	browser = await launchChromium(wav);
}, { timeout: 180000 });
after(async () => {
	notes?.close();
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
	// The three ended calls and the live one, in progress.
	assert.match(kpis, /^4calls/);
	assert.match(kpis, /1abandoned/);
	await page.waitForSelector('#chart-days svg rect.bar', { state: 'attached' });
	const bars = await page.$$eval('#chart-interfaces svg', (s) => s.map((x) => x.getAttribute('aria-label')));
	assert.deepEqual(bars, ['rtp: 4']);
	await page.click('.ranges button[data-range="30d"]');
	await page.waitForFunction(() => document.querySelectorAll('#chart-days svg rect.bar').length === 30);
	await page.screenshot({ path: join(ARTIFACTS, 'dashboard-analytics.png'), fullPage: true });

	await page.click('nav a[data-tab="transfers"]');
	await page.waitForSelector('#transfers-body td.empty');
	assert.deepEqual(errors, []);
	await page.close();
});

async function openDashboard(hash = '') {
	const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
	const errors = [];
	page.on('pageerror', (e) => errors.push(e.message));
	await page.goto(`${API_URL}/dashboard.html${hash}`);
	await page.waitForSelector('#key-form:not([hidden])');
	await page.fill('#key-input', API_KEY);
	await page.click('#key-form button');
	return { page, errors };
}

test('a call\'s analysis: its facts, fields and the caller\'s sentiment chart; the disposition and sentiment filters', { timeout: 60000 }, async () => {
	const call = await analysedCall(spokenRoom);
	const a = call.analysis;
	assert.ok(a.sentiment.timeline.length >= 2, `two caller lines analysed: ${JSON.stringify(a.sentiment)}`);
	const { page, errors } = await openDashboard();
	try {
		await page.click('nav a[data-tab="history"]');
		await page.waitForSelector(`#calls-body tr:has-text("${spokenRoom}")`);
		const row = await page.$$eval(`#calls-body tr[data-id="${call.id}"] td`, (tds) => tds.map((t) => t.textContent));
		assert.equal(row[7], a.disposition, row.join('|'));
		assert.equal(row[8], a.sentiment.overall, row.join('|'));
		await page.click(`#calls-body tr[data-id="${call.id}"]`);
		await page.waitForSelector('#call-analysis-body:not([hidden]) #chart-call-sentiment svg');
		assert.equal(await page.isHidden('#call-analysis-none'), true);
		const facts = await page.textContent('#call-analysis-facts');
		assert.ok(facts.includes(a.summary), facts);
		assert.match(facts, new RegExp(`Disposition${a.disposition}`));
		assert.match(facts, new RegExp(`Goal met${a.goal_met ? 'yes' : 'no'}`));
		assert.match(facts, new RegExp(`Sentiment${a.sentiment.overall} overall · at the end ${a.sentiment.end} · score ${a.sentiment.score.toFixed(2)}`));
		// The fields the schema asked for, what was not found said so.
		const fields = await page.$$eval('#call-fields dt', (dts) => dts.map((dt) => [dt.textContent, dt.nextElementSibling.textContent]));
		assert.deepEqual(Object.fromEntries(fields), Object.fromEntries(Object.entries(a.fields).map(([k, v]) => [k, v === null ? 'not found' : String(v)])));
		assert.deepEqual(Object.keys(a.fields).sort(), ['order_number', 'product_issue']);
		// One point per caller line, in order, at its time into the call, coloured by its label.
		const points = await page.$$eval('#chart-call-sentiment svg circle.point', (cs) => cs.map((c) => ({ cls: c.getAttribute('class'), title: c.textContent })));
		const cls = { positive: 'pos', neutral: 'neu', negative: 'neg' };
		assert.deepEqual(points.map((p) => p.cls), a.sentiment.timeline.map((t) => `point ${cls[t.label]}`));
		a.sentiment.timeline.forEach((t, i) => {
			const s = Math.round((t.at - call.started) / 1000);
			assert.equal(points[i].title, `Caller line ${i + 1} at ${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}: ${t.label} (${t.mood > 0 ? '+' : ''}${t.mood})`);
		});
		assert.ok(await page.$('#chart-call-sentiment svg path.line'), 'the points are joined');
		await page.screenshot({ path: join(ARTIFACTS, 'dashboard-call-analysis.png'), fullPage: true });

		// Filters: disposition and sentiment, each alone and together.
		await page.click('nav a[data-tab="history"]');
		await page.waitForSelector('#calls-body tr[data-id]');
		const listed = async () => page.$$eval('#calls-body tr[data-id] td:nth-child(2)', (tds) => tds.map((t) => t.textContent).sort());
		const filter = async (disposition, sentiment, expected) => {
			await page.selectOption('#filters select[name="disposition"]', disposition);
			await page.selectOption('#filters select[name="sentiment"]', sentiment);
			await page.click('#filters button');
			await page.waitForFunction((want) => [...document.querySelectorAll('#calls-body tr[data-id] td:nth-child(2)')].map((t) => t.textContent).sort().join() === want, expected.sort().join(), { timeout: 5000 })
				.catch(async () => assert.deepEqual(await listed(), expected.sort(), `${disposition}/${sentiment}`));
		};
		const silent = [`dash-answered-${process.pid}`, `dash-missed-${process.pid}`];
		await filter('abandoned', '', silent);
		await filter(a.disposition, a.sentiment.overall, [spokenRoom]);
		const other = a.sentiment.overall === 'negative' ? 'positive' : 'negative';
		await filter(a.disposition, other, []);
		await page.waitForSelector('#calls-body td.empty');
		// No filter: every call again (the live one among them).
		await page.selectOption('#filters select[name="disposition"]', '');
		await page.selectOption('#filters select[name="sentiment"]', '');
		await page.click('#filters button');
		await page.waitForFunction(() => document.querySelectorAll('#calls-body tr[data-id]').length >= 4);
		for (const room of [...silent, spokenRoom]) assert.ok((await listed()).includes(room), room);
	} catch (e) {
		await page.screenshot({ path: join(ARTIFACTS, 'dashboard-analysis-failed.png'), fullPage: true }).catch(() => {});
		throw e;
	} finally {
		await page.close();
	}
	assert.deepEqual(errors, []);
});

test('analytics show the sentiment of the analysed calls over time', { timeout: 30000 }, async () => {
	const { page, errors } = await openDashboard('#analytics');
	try {
		await page.waitForSelector('#kpis .kpi');
		const s = (await rest('GET', '/api/analytics?range=7d')).json.sentiment;
		assert.equal(s.bucket, 'day');
		assert.equal(s.calls, 3, JSON.stringify(s));
		const kpis = await page.textContent('#kpis');
		assert.ok(kpis.includes(`${s.avg_score > 0 ? '+' : ''}${s.avg_score.toFixed(2)}average caller sentiment`), kpis);
		// The stacked bars: today's analysed calls by label.
		await page.waitForSelector('#chart-sentiment svg rect.bar', { state: 'attached' });
		const today = new Date().toISOString().slice(5, 10);
		assert.equal(await page.getAttribute('#chart-sentiment svg', 'aria-label'), `${today}: ${s.positive} positive, ${s.neutral} neutral, ${s.negative} negative`);
		const stacked = await page.$$eval('#chart-sentiment svg rect.bar', (r) => r.map((x) => x.getAttribute('class')).sort());
		assert.deepEqual(stacked, [['bar pos', s.positive], ['bar neu', s.neutral], ['bar neg', s.negative]].filter(([, n]) => n).map(([c]) => c).sort());
		// The average score: one point, today's, on a line over the range's days.
		assert.equal(await page.getAttribute('#chart-score svg', 'aria-label'), `${today}: ${s.avg_score > 0 ? '+' : ''}${s.avg_score.toFixed(2)}`);
		assert.equal(await page.$$eval('#chart-score svg circle.point', (c) => c.length), 1);
		// Today: by hour.
		await page.click('.ranges button[data-range="1d"]');
		await page.waitForFunction(() => /per hour/.test(document.querySelector('#chart-sentiment-caption').textContent));
		const hourly = (await rest('GET', '/api/analytics?range=1d')).json.sentiment;
		assert.equal(hourly.bucket, 'hour');
		assert.equal(await page.$$eval('#chart-score svg circle.point', (c) => c.length), hourly.per_bucket.length);
		await page.screenshot({ path: join(ARTIFACTS, 'dashboard-analytics-sentiment.png'), fullPage: true });
	} finally {
		await page.close();
	}
	assert.deepEqual(errors, []);
	// An unknown range keeps its clear error.
	const bad = await rest('GET', '/api/analytics?range=2w');
	assert.equal(bad.status, 400);
	assert.match(bad.json.error.message, /range must be 1d, 7d, 30d or 90d/);
});

test('a call without analysis (still going on) says so, and the page works', { timeout: 30000 }, async () => {
	const room = `dash-ongoing-${process.pid}`;
	await rest('POST', '/room/create', { roomName: room });
	await rtpCaller(room, 'Still talking');
	let listed;
	const deadline = Date.now() + 10000;
	while (!(listed = (await rest('GET', `/api/calls?q=${room}`)).json?.calls?.[0])) {
		if (Date.now() > deadline) throw new Error(`no record of ${room}`);
		await sleep(200);
	}
	assert.equal((await rest('GET', `/api/calls/${listed.id}`)).json.analysis, null);
	const { page, errors } = await openDashboard(`#call/${encodeURIComponent(listed.id)}`);
	try {
		await page.waitForFunction(() => document.querySelector('#call-participants')?.textContent.includes('Still talking'));
		await page.waitForSelector('#call-analysis-none:not([hidden])');
		assert.match(await page.textContent('#call-analysis-none'), /No analysis yet: a call is analysed when it ends/);
		assert.equal(await page.isHidden('#call-analysis-body'), true);
		// The analysed call's page after it: the analysis is back.
		const spoken = await analysedCall(spokenRoom);
		await page.evaluate((id) => { location.hash = `call/${encodeURIComponent(id)}`; }, spoken.id);
		await page.waitForSelector('#call-analysis-body:not([hidden]) #chart-call-sentiment svg');
		assert.equal(await page.isHidden('#call-analysis-none'), true);
		// And its row in the history has no labels.
		await page.click('nav a[data-tab="history"]');
		await page.waitForSelector(`#calls-body tr[data-id="${listed.id}"]`);
		const row = await page.$$eval(`#calls-body tr[data-id="${listed.id}"] td`, (tds) => tds.map((t) => t.textContent));
		assert.deepEqual(row.slice(7), ['—', '—']);
	} finally {
		await page.close();
	}
	assert.deepEqual(errors, []);
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
