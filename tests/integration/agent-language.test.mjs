// Language follows the caller (issue 18 item 6), against a real private
// Janus whose agent uses stand-ins that speak each vendor's wire format: a
// Deepgram live WebSocket that detects the language (detect_language=true,
// "detected_language" in its Results), an OpenAI-compatible language model
// that answers in Arabic only when told the caller speaks it, and an
// OpenAI-compatible /audio/speech whose requests show the voice.
//  - a phone caller in a room: the agent answers in Arabic with the Arabic
//    voice after an Arabic utterance, and back in English after English;
//  - WhatsApp: Arabic script is enough (no recogniser); Latin brings it back;
//  - ConversationRelay: a prompt's `lang` ("ar-SA") is followed and the
//    answer's tokens carry it, so Twilio speaks them in Arabic;
//  - a room's agent config may pin or limit it (follow_language, languages),
//    and bad values are refused.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import { WebSocketServer } from 'ws';
import { rest } from '../lib/notifications.mjs';
import { metric } from '../lib/janus.mjs';
import { phoneCaller, speech8k, startAgentJanus, stopAgentJanus } from '../lib/phone-caller.mjs';
import { postWebhook, relaySession, twilioPluginConfig, ACCOUNT_SID } from '../lib/twilio.mjs';
import { track } from '../lib/resources.mjs';
import { sse, openaiChunks, pcm16, stub } from './providers-lib.mjs';

const ARABIC_QUESTION = 'ما هي ساعات العمل';
const ARABIC_ANSWER = 'نحن نعمل من التاسعة صباحا.';
const ENGLISH_ANSWER = 'We open at nine.';
const INSTRUCTION = 'The caller speaks Arabic: answer in Arabic.';

let env, llm, tts, deepgram;
// What the Deepgram stand-in says for each utterance, in order.
const utterances = [];

// Deepgram's live API, as documented: Results after a Finalize, with the
// language it detected when asked to (detect_language=true).
async function deepgramStandIn() {
	const server = http.createServer((req, res) => { res.writeHead(404); res.end(); });
	const wss = new WebSocketServer({ noServer: true });
	const urls = [];
	server.on('upgrade', (req, socket, head) => {
		urls.push(req.url);
		wss.handleUpgrade(req, socket, head, (ws) => {
			const detect = new URL(req.url, 'http://x').searchParams.get('detect_language') === 'true';
			ws.on('message', (data, isBinary) => {
				if (isBinary) return;
				const msg = JSON.parse(data.toString());
				if (msg.type === 'CloseStream') return ws.close(1000);
				if (msg.type !== 'Finalize') return;
				const next = utterances.shift() ?? { text: '', language: 'en' };
				const channel = { alternatives: [{ transcript: next.text, confidence: 0.97, words: [] }] };
				if (detect) channel.detected_language = next.language;
				ws.send(JSON.stringify({ type: 'Results', channel_index: [0, 1], duration: 1, start: 0, is_final: true, speech_final: true, from_finalize: true, channel, metadata: { request_id: 'req-1' } }));
			});
		});
	});
	await new Promise((r) => server.listen(0, '127.0.0.1', r));
	const close = () => new Promise((r) => { untrack(); for (const c of wss.clients) c.terminate(); server.closeAllConnections(); server.close(() => r()); });
	const untrack = track('deepgram stand-in', close);
	return { port: server.address().port, urls, close };
}

before(async () => {
	// The model answers in Arabic only when the system prompt says so.
	llm = await stub(async (req, res, body) => {
		const told = JSON.stringify(JSON.parse(body.toString()).messages ?? []).includes(INSTRUCTION);
		await sse(res, openaiChunks([told ? ARABIC_ANSWER : ENGLISH_ANSWER]));
	});
	// 0.4 s of 24 kHz PCM for every sentence.
	tts = await stub((req, res) => {
		res.writeHead(200, { 'Content-Type': 'audio/pcm' });
		res.end(pcm16(9600, 24000, 300, 3000));
	});
	deepgram = await deepgramStandIn();
	env = await startAgentJanus('sb-language-', () => {
		let config = twilioPluginConfig({ twilio: { voice_mode: 'relay' } });
		const replace = (from, to) => {
			if (!config.includes(from)) throw new Error(`no ${from} in the plugin config`);
			config = config.replace(from, to);
		};
		replace('stt = ["pocketsphinx"]', 'stt = ["dg"]');
		replace('llm = ["local"]', 'llm = ["model"]');
		replace('tts = ["espeak-ng"]', 'tts = ["speech"]');
		replace('providers: {\n', 'providers: {\n' +
			`\tdg: { type = "deepgram", base_url = "ws://127.0.0.1:${deepgram.port}/v1", api_key = "dg-test", detect_language = "true" }\n` +
			`\tmodel: { type = "openai", base_url = "${llm.base}/v1", api_key = "sk-test", llm_model = "test-model" }\n` +
			`\tspeech: { type = "openai", base_url = "${tts.base}/v1", api_key = "sk-test", voice = "english-voice", voices = { ar = "arabic-voice" } }\n`);
		return config;
	});
}, { timeout: 60000 });
after(async () => {
	await stopAgentJanus(env);
	await deepgram?.close();
	await llm?.close();
	await tts?.close();
}, { timeout: 60000 });

// The system prompts the model was sent since request `since`, for the
// agent's answers only (a room that closed has its call analysed by the
// same model).
const systemPrompts = (since) => llm.requests.slice(since).map((r) => JSON.parse(r.body.toString()).messages.find((m) => m.role === 'system')?.content ?? '')
	.filter((p) => !p.startsWith('You analyse a finished phone call'));
const voices = (since) => tts.requests.slice(since).map((r) => JSON.parse(r.body.toString()));

// A room with the agent (agent: true or a room's agent config) and a
// phone caller; fn(ask) runs once the greeting is over, where ask(heard)
// has the caller speak, Deepgram "hear" heard ({text, language}) whatever
// the audio, and resolves with the turn record and what the model and the
// speech service were sent for it.
async function withCaller(room, agent, fn) {
	const { events, until } = env.notes;
	const created = await rest('POST', '/room/create', { roomName: room, agent });
	assert.equal(created.status, 201, JSON.stringify(created.json));
	const caller = await phoneCaller(room, 'Caller');
	const inRoom = (e) => e.room === room;
	const question = speech8k(env.dir, `q-${room}`, 'What are your opening hours?');
	let lastTurnAt = 0;
	const ask = async (heard) => {
		await until('the agent listening', () => events.find((e) => inRoom(e) && e.type === 'agent_state' && e.state === 'listening' && e.at > lastTurnAt), 30000);
		utterances.push(heard);
		const llmFrom = llm.requests.length, ttsFrom = tts.requests.length, from = Date.now();
		await caller.say(question);
		const turn = await until('the turn', () => events.find((e) => inRoom(e) && e.type === 'agent_turn' && e.at >= from), 30000);
		lastTurnAt = turn.at;
		return { turn, prompts: systemPrompts(llmFrom), voices: [...new Set(voices(ttsFrom).map((b) => b.voice))], inputs: voices(ttsFrom).map((b) => b.input) };
	};
	try {
		await fn(ask);
	} finally {
		caller.stop();
		await rest('DELETE', `/rooms/${room}`);
	}
}

test('a phone caller who speaks Arabic is answered in Arabic, with the Arabic voice, and back in English after English', { timeout: 120000 }, async () => {
	await withCaller(`lang-${process.pid}`, true, async (ask) => {
		const switches = await metric('switchboard_agent_language_switches_total');
		let { turn, prompts, voices: said, inputs } = await ask({ text: ARABIC_QUESTION, language: 'ar' });
		assert.ok(deepgram.urls.some((u) => u.includes('detect_language=true') && !u.includes('language=en')), JSON.stringify(deepgram.urls));
		// The greeting was spoken in the configured language's voice.
		assert.equal(voices(0)[0].voice, 'english-voice');
		assert.equal(turn.language, 'ar', JSON.stringify(turn));
		assert.equal(turn.user_text, ARABIC_QUESTION);
		assert.equal(turn.agent_text, ARABIC_ANSWER);
		assert.ok(prompts.length > 0 && prompts.every((p) => p.endsWith(INSTRUCTION)), JSON.stringify(prompts));
		assert.deepEqual(said, ['arabic-voice']);
		assert.equal(inputs[0], ARABIC_ANSWER);
		assert.equal(await metric('switchboard_agent_language_switches_total'), switches + 1);
		// English again, detected by the recogniser: back to English.
		({ turn, prompts, voices: said } = await ask({ text: 'what are your opening hours', language: 'en' }));
		assert.equal(turn.language, 'en', JSON.stringify(turn));
		assert.equal(turn.agent_text, ENGLISH_ANSWER);
		assert.ok(prompts.length > 0 && prompts.every((p) => !p.includes(INSTRUCTION)));
		assert.deepEqual(said, ['english-voice']);
	});
});

test('a room whose agent config turns following off keeps its language; bad values are refused', { timeout: 120000 }, async () => {
	for (const [config, why] of [[{ follow_language: 'yes' }, /follow_language/], [{ languages: 'ar' }, /languages/], [{ languages: ['ar', 'not a language'] }, /languages/], [{ languages: Array(33).fill('ar') }, /languages/]]) {
		const r = await rest('POST', '/room/create', { roomName: `lang-bad-${process.pid}`, agent: config });
		assert.equal(r.status, 400, `${JSON.stringify(config)}: ${JSON.stringify(r.json)}`);
		assert.match(JSON.stringify(r.json), why);
	}
	assert.equal((await rest('GET', `/rooms/lang-bad-${process.pid}`)).status, 404, 'nothing was created');
	await withCaller(`lang-pinned-${process.pid}`, { follow_language: false }, async (ask) => {
		const { turn, prompts, voices: said } = await ask({ text: ARABIC_QUESTION, language: 'ar' });
		assert.equal(turn.language, 'en', JSON.stringify(turn));
		assert.equal(turn.agent_text, ENGLISH_ANSWER);
		assert.ok(prompts.length > 0 && prompts.every((p) => !p.includes(INSTRUCTION)));
		assert.deepEqual(said, ['english-voice']);
	});
});

test('WhatsApp: Arabic script is answered in Arabic; Latin letters bring English back', { timeout: 30000 }, async () => {
	const waId = `1415555${String(process.pid % 10000).padStart(4, '0')}`;
	const message = async (body) => {
		const sid = `SM${crypto.randomBytes(16).toString('hex')}`;
		const r = await postWebhook('/whatsapp/message', [['MessageSid', sid], ['AccountSid', ACCOUNT_SID], ['From', `whatsapp:+${waId}`], ['To', 'whatsapp:+14155238886'], ['Body', body], ['NumMedia', '0'], ['WaId', waId]]);
		assert.equal(r.status, 200, r.text);
		return r.text;
	};
	let from = llm.requests.length;
	assert.match(await message('ما هي ساعات العمل؟'), new RegExp(ARABIC_ANSWER));
	assert.ok(systemPrompts(from).length > 0 && systemPrompts(from).every((p) => p.endsWith(INSTRUCTION)), JSON.stringify(systemPrompts(from)));
	// Digits say nothing of a language: still Arabic.
	assert.match(await message('12345'), new RegExp(ARABIC_ANSWER));
	from = llm.requests.length;
	assert.match(await message('What are your opening hours?'), new RegExp(ENGLISH_ANSWER));
	assert.ok(systemPrompts(from).length > 0 && systemPrompts(from).every((p) => !p.includes(INSTRUCTION)));
});

test('ConversationRelay: a prompt in ar-SA is answered in Arabic and its tokens carry lang', { timeout: 30000 }, async () => {
	const r = await relaySession(`CA${crypto.randomBytes(16).toString('hex')}`);
	try {
		// English first: tokens as before, without lang.
		r.send({ type: 'prompt', voicePrompt: 'What are your opening hours?', lang: 'en-US', last: true });
		let a = await r.answer(0);
		assert.equal(a.tokens.map((t) => t.token).join(''), ENGLISH_ANSWER);
		assert.ok(a.tokens.every((t) => !('lang' in t)), JSON.stringify(a.tokens));
		// Twilio heard Arabic (its transcription language ar-SA).
		const from = llm.requests.length;
		r.send({ type: 'prompt', voicePrompt: ARABIC_QUESTION, lang: 'ar-SA', last: true });
		a = await r.answer(a.next);
		assert.equal(a.tokens.map((t) => t.token).join(''), ARABIC_ANSWER);
		assert.ok(a.tokens.every((t) => t.lang === 'ar-SA'), JSON.stringify(a.tokens));
		assert.ok(systemPrompts(from).length > 0 && systemPrompts(from).every((p) => p.endsWith(INSTRUCTION)));
	} finally {
		r.close();
	}
});
