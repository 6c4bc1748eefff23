// A WhatsApp conversation through the webhook leaves a correct call record
// (issue 7): interface whatsapp, from/to, every message in the messages
// table, the transcript with who wrote each line (the user, the AI, the
// human agent who took the chat), the human agent, and an outcome once
// the conversation ends on its idle timeout — on SQLite and on a real
// PostgreSQL server.
import { test, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startJanus } from '../lib/janus.mjs';
import { openNotifications, rest } from '../lib/notifications.mjs';
import { startPostgres } from '../lib/postgres.mjs';
import { makeAgent, signedIn } from '../lib/console.mjs';
import { postWebhook, twilioPluginConfig, startFakeTwilio, ACCOUNT_SID } from '../lib/twilio.mjs';

const OUR_NUMBER = 'whatsapp:+14155238886';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const msgSid = () => `SM${crypto.randomBytes(16).toString('hex')}`;
const inbound = (waId, body) => [['MessageSid', msgSid()], ['AccountSid', ACCOUNT_SID], ['From', `whatsapp:+${waId}`], ['To', OUR_NUMBER], ['Body', body], ['NumMedia', '0'], ['ProfileName', 'Gina'], ['WaId', waId], ['MessageType', 'text']];
const dir = mkdtempSync(join(tmpdir(), 'sb-wa-records-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// The Twilio config with [store] pointing at `store`; a 10 s idle timeout
// (the shortest allowed) so the conversation ends within the test.
function config(store) {
	const text = twilioPluginConfig({ whatsapp: { idle_timeout: 10 } });
	const line = store.startsWith('postgres') ? `store = "${store}"` : `store = "sqlite"\n\tpath = "${store}"`;
	const out = text.replace(/^\tstore = "sqlite"$/m, line);
	assert.notEqual(out, text, 'no [store] line in the config');
	return out;
}

async function conversationRecord(store) {
	// Released in finally whatever fails, also half-way through starting:
	// the next test needs the ports.
	let fake, janus, notes;
	try {
		fake = await startFakeTwilio();
		janus = await startJanus({ pluginConfig: config(store) });
		notes = await openNotifications();
		const wa = `1415555${String(process.pid % 10000).padStart(4, '0')}`;
		// Dana's account is in this store (migration 3), her password hers.
		await makeAgent('dana', { name: 'Dana' });
		await signedIn('dana');
		await postWebhook('/whatsapp/message', inbound(wa, 'Hi, my name is Gina'));
		let r = await postWebhook('/whatsapp/message', inbound(wa, 'I want to talk to a human'));
		assert.match(r.text, /connecting you/i);
		for (let i = 0; i < 100 && !(await rest('GET', '/api/queue')).json.queue.some((q) => q.conversation === wa); i++) await sleep(50);
		r = await rest('POST', '/api/queue/take', { conversation: wa, agentId: 'dana' });
		assert.equal(r.status, 200, r.text);
		r = await rest('POST', '/whatsapp/chat/reply', { conversation: wa, agentId: 'dana', text: 'Hello Gina, Dana here.' });
		assert.equal(r.status, 202, r.text);
		await notes.until('reply sent', () => notes.events.find((e) => e.type === 'whatsapp_message' && e.conversation === wa && e.agentId === 'dana' && e.direction === 'outbound'), 5000);
		await postWebhook('/whatsapp/message', inbound(wa, 'Thank you Dana'));
		// A message from the API to the same user joins the same record.
		r = await rest('POST', '/whatsapp/send', { to: `+${wa}`, message: 'Your order has shipped.' });
		assert.equal(r.status, 201, r.text);
		// Idle: the conversation ends, and with it the record.
		const ended = await notes.until('chat ended', () => notes.events.find((e) => e.type === 'chat_ended' && e.conversation === wa), 40000);
		assert.equal(ended.agentId, 'dana');
		assert.equal(ended.reason, 'idle');
		let call;
		for (let i = 0; i < 100; i++) {
			const list = await rest('GET', '/api/calls?interface=whatsapp');
			assert.equal(list.status, 200, list.text);
			call = list.json.calls.find((c) => c.room === `whatsapp:${wa}` && c.outcome);
			if (call) break;
			await sleep(100);
		}
		assert.ok(call, 'no ended whatsapp record');
		const full = await rest('GET', `/api/calls/${call.id}`);
		assert.equal(full.status, 200, full.text);
		return { wa, call: full.json };
	} finally {
		notes?.close();
		await janus?.stop();
		await fake?.close();
	}
}

function checkRecord({ wa, call }) {
	assert.equal(call.interface, 'whatsapp');
	assert.equal(call.direction, 'inbound');
	assert.equal(call.from_addr, `whatsapp:+${wa}`);
	assert.equal(call.to_addr, OUR_NUMBER);
	assert.equal(call.human_agent, 'dana');
	assert.equal(call.outcome, 'completed'); // a human answered, not only the AI
	assert.ok(call.ended >= call.started && call.duration_ms >= 0, JSON.stringify(call));
	const m = call.messages.map((x) => [x.direction, x.body]);
	// In the order they were sent and received (with their times, to tell
	// an order that is wrong from one that ties).
	const order = JSON.stringify(call.messages.map((x) => [x.direction, x.at, x.body.slice(0, 20)]));
	assert.ok(m.length >= 5, order);
	assert.deepEqual(m[0], ['inbound', 'Hi, my name is Gina'], order);
	assert.equal(m[1][0], 'outbound');
	assert.match(m[1][1], /Gina/);
	assert.deepEqual(m.slice(-3), [['outbound', 'Hello Gina, Dana here.'], ['inbound', 'Thank you Dana'], ['outbound', 'Your order has shipped.']]);
	assert.ok(call.messages.filter((x) => x.direction === 'inbound').every((x) => /^SM/.test(x.message_sid) && x.from_addr === `whatsapp:+${wa}` && x.to_addr === OUR_NUMBER));
	assert.match(call.messages.at(-3).message_sid, /^SM/); // Twilio's sid of the agent's reply
	// The transcript: who wrote each line.
	const t = call.transcript.map((x) => [x.speaker, x.text]);
	assert.deepEqual(t[0], [`whatsapp:+${wa}`, 'Hi, my name is Gina']);
	assert.equal(t[1][0], 'ai');
	assert.deepEqual(t.slice(-3), [['dana', 'Hello Gina, Dana here.'], [`whatsapp:+${wa}`, 'Thank you Dana'], ['api', 'Your order has shipped.']]);
	assert.equal(t.length, call.messages.length);
}

test('SQLite: a WhatsApp conversation with a human hand-off is one complete record', { timeout: 90000 }, async () => {
	checkRecord(await conversationRecord(join(dir, 'calls.db')));
});

test('PostgreSQL: the same record', { timeout: 120000 }, async () => {
	const pg = await startPostgres();
	try {
		checkRecord(await conversationRecord(pg.conninfo));
	} finally {
		await pg.destroy();
	}
});
