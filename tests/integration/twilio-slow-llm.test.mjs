// With a slow language model (an OpenAI-compatible stub that streams after
// a pause): a ConversationRelay `interrupt` stops the answer being written
// and the history keeps what was heard; a WhatsApp answer slower than the webhook should wait: the webhook gets
// an empty <Response/> at once and the answer follows through
// Messages.json (fake Twilio API), written by a slow language model (an
// OpenAI-compatible stub streaming after a pause).  An idle conversation
// ends (idle_timeout) and the next message starts a fresh one.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import WebSocket from 'ws';
import { startJanus, API_PORT } from '../lib/janus.mjs';
import { openNotifications, rest } from '../lib/notifications.mjs';
import { postWebhook, twilioPluginConfig, twilioSignature, socketAt, startFakeTwilio, ACCOUNT_SID, AUTH_TOKEN, FAKE_TWILIO_PORT } from '../lib/twilio.mjs';
import { sse, openaiChunks } from './providers-lib.mjs';

const LLM_PORT = FAKE_TWILIO_PORT - 1; // 28086 with the usual port set
let janus, notes, fake, llm;
const llmRequests = [];

before(async () => {
	fake = await startFakeTwilio();
	llm = http.createServer((req, res) => {
		let body = '';
		req.on('data', (d) => { body += d; });
		req.on('end', async () => {
			llmRequests.push(JSON.parse(body));
			// Slower than reply_timeout_ms, well inside first_output_timeout_ms.
			await new Promise((r) => setTimeout(r, 1200));
			await sse(res, openaiChunks(['Our shop ', 'opens at nine.']));
		});
	});
	await new Promise((resolve, reject) => { llm.once('error', reject); llm.listen(LLM_PORT, '127.0.0.1', resolve); });
	let config = twilioPluginConfig({ whatsapp: { reply_timeout_ms: 200, idle_timeout: 10 } });
	config = config.replace('llm = ["local"]', 'llm = ["slowllm"]');
	config = config.replace(/^providers: \{\n/m, `providers: {\n\tslowllm: { type = "openai", base_url = "http://127.0.0.1:${LLM_PORT}/v1", api_key = "sk-test", llm_model = "slow-model" }\n`);
	janus = await startJanus({ pluginConfig: config });
	notes = await openNotifications();
}, { timeout: 60000 });
after(async () => {
	notes?.close();
	if (janus) await janus.stop();
	await fake?.close();
	if (llm?.listening) await new Promise((r) => { llm.closeAllConnections(); llm.close(r); });
});

test('a slow answer is sent through Messages.json after an empty TwiML reply', { timeout: 20000 }, async () => {
	const waId = '14155550111';
	const sid = `SM${crypto.randomBytes(16).toString('hex')}`;
	const r = await postWebhook('/whatsapp/message', [['MessageSid', sid], ['AccountSid', ACCOUNT_SID], ['From', `whatsapp:+${waId}`], ['To', 'whatsapp:+14155238886'], ['Body', 'When do you open?'], ['NumMedia', '0'], ['WaId', waId]]);
	assert.equal(r.status, 200, r.text);
	assert.match(r.text, /<Response\/>/);
	const sent = await notes.until('late reply', () => notes.events.find((e) => e.type === 'whatsapp_message' && e.direction === 'outbound' && e.conversation === waId), 10000);
	assert.equal(sent.body, 'Our shop opens at nine.');
	assert.match(sent.message_sid, /^SM/);
	const req = fake.requests.find((q) => q.url === `/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`);
	assert.ok(req);
	assert.equal(req.params.get('To'), `whatsapp:+${waId}`);
	assert.equal(req.params.get('From'), 'whatsapp:+14155238886');
	assert.equal(req.params.get('Body'), 'Our shop opens at nine.');
	// The model saw the user's message with the chat system prompt.
	const msgs = llmRequests[0].messages;
	assert.equal(msgs.at(-1).content, 'When do you open?');
	assert.match(msgs[0].content, /WhatsApp/);
});

test('an idle conversation ends; the next message starts afresh', { timeout: 60000 }, async () => {
	const waId = '14155550111';
	const mine = async () => (await rest('GET', '/sessions/type/whatsapp')).json.sessions.find((x) => x.conversation === waId);
	assert.ok(await mine(), 'the conversation of the first test is there');
	// idle_timeout = 10 s: bounded wait for the sweep, no timing asserted.
	const deadline = Date.now() + 45000;
	while (await mine()) {
		assert.ok(Date.now() < deadline, 'conversation still there after its idle timeout');
		await new Promise((r) => setTimeout(r, 500));
	}
	const n = llmRequests.length;
	const r = await postWebhook('/whatsapp/message', [['MessageSid', `SM${crypto.randomBytes(16).toString('hex')}`], ['From', `whatsapp:+${waId}`], ['To', 'whatsapp:+14155238886'], ['Body', 'Hello again'], ['WaId', waId]]);
	assert.equal(r.status, 200);
	const s = await mine();
	assert.equal(s.messages, 1);
	await notes.until('answer', () => llmRequests.length > n, 10000);
	// The model starts without the earlier turns.
	assert.deepEqual(llmRequests[n].messages.filter((m) => m.role !== 'system').map((m) => m.content), ['Hello again']);
});

test('ConversationRelay interrupt stops the answer being written; history keeps what was heard', { timeout: 30000 }, async () => {
	const sock = socketAt('/twilio/relay');
	const ws = new WebSocket(sock.local, { headers: sock.headers });
	try {
		await relayInterrupt(ws);
	} finally {
		ws.terminate();
	}
});

async function relayInterrupt(ws) {
	const got = [];
	ws.on('message', (d) => got.push(JSON.parse(d.toString())));
	await new Promise((resolve, reject) => { ws.on('open', resolve); ws.on('error', reject); });
	const sid = `CA${crypto.randomBytes(16).toString('hex')}`;
	ws.send(JSON.stringify({ type: 'setup', callSid: sid, from: '+14155550123', to: '+14155550100', customParameters: {} }));
	const n = llmRequests.length;
	ws.send(JSON.stringify({ type: 'prompt', voicePrompt: 'Tell me everything.', last: true }));
	await notes.until('model asked', () => llmRequests.length > n, 5000);
	// The caller talks before any token came: the answer is dropped.
	ws.send(JSON.stringify({ type: 'interrupt', utteranceUntilInterrupt: '', durationUntilInterruptMs: '0' }));
	await new Promise((r) => setTimeout(r, 2000)); // longer than the stub's pause: its tokens would be here
	assert.deepEqual(got.filter((m) => m.type === 'text'), []);
	// The next turn: a full answer, which the caller cuts off after a few words.
	ws.send(JSON.stringify({ type: 'prompt', voicePrompt: 'When do you open?', last: true }));
	await notes.until('answer', () => got.some((m) => m.type === 'text' && m.last), 10000);
	assert.equal(got.filter((m) => m.type === 'text').map((m) => m.token).join(''), 'Our shop opens at nine.');
	ws.send(JSON.stringify({ type: 'interrupt', utteranceUntilInterrupt: 'Our shop', durationUntilInterruptMs: '600' }));
	const m = llmRequests.length;
	ws.send(JSON.stringify({ type: 'prompt', voicePrompt: 'Sorry, go on.', last: true }));
	await notes.until('third turn', () => llmRequests.length > m, 5000);
	const history = llmRequests[m].messages.filter((x) => x.role !== 'system').map((x) => `${x.role}: ${x.content}`);
	assert.deepEqual(history, [
		'user: Tell me everything.', 'assistant: [interrupted]',
		'user: When do you open?', 'assistant: Our shop [interrupted]',
		'user: Sorry, go on.',
	]);
	ws.close();
}
