// Where an agent turn's time goes: a phone caller (plain RTP, PCMU) asks
// the embedded recogniser a question; the answer comes from a stand-in
// language model (OpenAI's streaming wire format) that holds its first
// token back for a known time.  The turn's record — the agent_turn event
// and its agent_turns row — has all five moments (end of speech, STT final,
// first token, first audio, first packet) in order, the model's delay shows
// between the STT final and the first token, and /metrics' stage
// histograms count the turn.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { rest } from '../lib/notifications.mjs';
import { API_URL, API_KEY } from '../lib/janus.mjs';
import { pluginConfigWithStore, endedCall } from '../lib/store.mjs';
import { launchChromium } from '../lib/browser.mjs';
import { phoneCaller, speech8k, startAgentJanus, stopAgentJanus } from '../lib/phone-caller.mjs';
import { stub, sse, openaiChunks, sleep } from './providers-lib.mjs';

const FIRST_TOKEN_DELAY_MS = 400;
const MOMENTS = ['end_of_speech', 'stt_final', 'llm_first_token', 'tts_first_audio', 'first_packet'];

let env, notes, model, dir;

before(async () => {
	model = await stub(async (req, res) => {
		await sleep(FIRST_TOKEN_DELAY_MS);
		await sse(res, openaiChunks(['We are open ', 'Monday to Friday, nine to five.']));
	});
	env = await startAgentJanus('sb-timing-', (d) => pluginConfigWithStore(join(d, 'calls.db')).replace('providers: {',
		`providers: {\n\tslow: { type = "openai", base_url = "${model.base}/v1", api_key = "sk-test", llm_model = "test-model" }`));
	({ notes, dir } = env);
}, { timeout: 60000 });
after(async () => {
	await stopAgentJanus(env);
	await model?.close();
}, { timeout: 60000 });

async function metricsText() {
	const r = await fetch(`${API_URL}/metrics`, { headers: { authorization: `Bearer ${API_KEY}` } });
	assert.equal(r.status, 200);
	return r.text();
}

function metric(text, series) {
	const line = text.split('\n').find((l) => l.startsWith(`${series} `));
	assert.ok(line, `no ${series} in /metrics`);
	return Number(line.slice(series.length + 1));
}

const stageSeries = (kind, stage, le) =>
	`switchboard_agent_turn_stage_ms_${kind}{stage="${stage}"${le ? `,le="${le}"` : ''}}`;

test('a turn records end of speech → STT final → first token → first audio → first packet', { timeout: 120000 }, async () => {
	const { events, until } = notes;
	const room = `timing-${process.pid}`;
	const before = await metricsText();
	assert.match(before, /# TYPE switchboard_agent_turn_stage_ms histogram/);
	const created = await rest('POST', '/room/create', { roomName: room, agent: { llm: ['slow'] } });
	assert.equal(created.status, 201, JSON.stringify(created.json));
	const question = speech8k(dir, 'hours', 'What are your opening hours?');
	const caller = await phoneCaller(room);
	try {
		const inRoom = (e) => e.room === room;
		await until('the greeting to end', () => events.find((e) => inRoom(e) && e.type === 'agent_state' && e.state === 'listening'), 30000);
		await caller.say(question);
		const turn = await until('the turn\'s record', () => events.find((e) => inRoom(e) && e.type === 'agent_turn' && !e.interrupted), 30000);
		assert.equal(turn.llm, 'slow', JSON.stringify(turn));
		assert.match(turn.agent_text, /Monday to Friday/);
		const s = turn.stages;
		assert.ok(s && typeof s === 'object', `stages: ${JSON.stringify(turn)}`);
		for (const m of MOMENTS) assert.ok(Number.isInteger(s[m]), `${m}: ${JSON.stringify(s)}`);
		assert.equal(s.end_of_speech, 0);
		for (let i = 1; i < MOMENTS.length; i++)
			assert.ok(s[MOMENTS[i]] >= s[MOMENTS[i - 1]], `${MOMENTS[i]} before ${MOMENTS[i - 1]}: ${JSON.stringify(s)}`);
		// The model's held-back first token is where the time went.
		assert.ok(s.llm_first_token - s.stt_final >= FIRST_TOKEN_DELAY_MS, JSON.stringify(s));
		// The first packet follows the first audio within a few mixer ticks.
		assert.ok(s.first_packet - s.tts_first_audio < 1000, JSON.stringify(s));

		const after = await metricsText();
		for (const stage of ['stt', 'llm', 'tts', 'send', 'total'])
			assert.ok(metric(after, stageSeries('count', stage)) >= metric(before, stageSeries('count', stage)) + 1, `${stage} counted`);
		// The llm stage of this turn (≥ 400 ms) is above the 300 ms bucket.
		assert.equal(metric(after, stageSeries('bucket', 'llm', '300')), metric(before, stageSeries('bucket', 'llm', '300')));
		assert.ok(metric(after, stageSeries('bucket', 'llm', '+Inf')) >= metric(before, stageSeries('bucket', 'llm', '+Inf')) + 1);
		assert.ok(metric(after, stageSeries('sum', 'llm')) - metric(before, stageSeries('sum', 'llm')) >= FIRST_TOKEN_DELAY_MS);

		// The call's record keeps the same moments.
		caller.stop();
		assert.ok([200, 204].includes((await rest('DELETE', `/rooms/${room}`)).status));
		await until('the agent leaving', () => events.find((e) => inRoom(e) && e.type === 'participant_left' && e.participant.kind === 'agent'), 15000);
		const call = await endedCall(room);
		const row = call.agent_turns.find((t) => t.agent_text === turn.agent_text);
		assert.ok(row, JSON.stringify(call.agent_turns));
		assert.equal(row.stt_final_ms, s.stt_final);
		assert.equal(row.llm_first_token_ms, s.llm_first_token);
		assert.equal(row.tts_first_audio_ms, s.tts_first_audio);
		assert.equal(row.first_packet_ms, s.first_packet);

		// The dashboard's call page draws the turn's stages.
		const browser = await launchChromium(join(dir, 'hours-8k.wav'));
		try {
			const page = await browser.newPage();
			await page.goto(`${API_URL}/dashboard.html`);
			await page.waitForSelector('#key-form:not([hidden])');
			await page.fill('#key-input', API_KEY);
			await page.click('#key-form button');
			await page.click('nav a[data-tab="history"]');
			await page.click(`#calls-body tr:has-text("${room}")`);
			await page.waitForSelector('#call-turns .stage-bar', { timeout: 10000 });
			assert.equal(await page.locator('#call-turns .stage-bar .stage').count(), 4);
			const legend = await page.textContent('#call-turns .stage-legend');
			assert.ok(legend.includes(`llm ${s.llm_first_token - s.stt_final}`), legend);
			assert.ok(legend.includes(`${s.first_packet} ms after the caller stopped`), legend);
		} finally {
			await browser.close();
		}
	} finally {
		caller.stop();
	}
});
