// WhatsApp "talk to a human": the AI hands the chat to the console queue
// (kind whatsapp, with the last messages and the transfer module's
// summary); a console agent takes it (queue_take with the conversation),
// sees the history and replies — the reply goes to a fake Twilio API
// (Messages.json, Basic auth, form fields checked) — while new inbound
// messages are not answered by the AI but forwarded to the agent on
// /ws/notifications; releasing the chat gives it back to the AI.  Bad
// input: a chat not held by you, a reply over 1600 characters, an unknown
// conversation — clear errors, nothing sent.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { startJanus } from '../lib/janus.mjs';
import { openNotifications, rest } from '../lib/notifications.mjs';
import { makeAgent, signedIn, openConsoleSocket } from '../lib/console.mjs';
import { postWebhook, twilioPluginConfig, startFakeTwilio, ACCOUNT_SID } from '../lib/twilio.mjs';

let janus, notes, fake;
const sockets = [];
const T = { timeout: 30000 }; // webhooks and REST: a few seconds at most
before(async () => {
	fake = await startFakeTwilio();
	janus = await startJanus({ pluginConfig: twilioPluginConfig() });
	notes = await openNotifications();
}, { timeout: 60000 });
after(async () => {
	for (const ws of sockets) ws.close();
	notes?.close();
	if (janus) await janus.stop();
	await fake?.close();
});

const OUR_NUMBER = 'whatsapp:+14155238886';
const BASE = `/2010-04-01/Accounts/${ACCOUNT_SID}`;
const msgSid = () => `SM${crypto.randomBytes(16).toString('hex')}`;
const inbound = (waId, body) => [['MessageSid', msgSid()], ['AccountSid', ACCOUNT_SID], ['From', `whatsapp:+${waId}`], ['To', OUR_NUMBER], ['Body', body], ['NumMedia', '0'], ['ProfileName', 'Frank Tester'], ['WaId', waId], ['MessageType', 'text']];
const unescapeXml = (s) => s.replace(/&(lt|gt|quot|apos|amp);/g, (m, e) => ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' })[e]);
const messageOf = (twiml) => unescapeXml((twiml.match(/<Message>([\s\S]*)<\/Message>/) || [])[1] ?? '');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function queueEntry(conv) {
	for (let i = 0; i < 100; i++) {
		const q = (await rest('GET', '/api/queue')).json.queue;
		const e = q.find((x) => x.conversation === conv);
		if (e) return e;
		await sleep(50);
	}
	throw new Error(`${conv} never queued`);
}

async function messagesPost(from, pred) {
	for (let i = 0; i < 100; i++) {
		const r = fake.requests.slice(from).find((x) => x.url === `${BASE}/Messages.json` && pred(x));
		if (r) return r;
		await sleep(50);
	}
	throw new Error(`no Messages.json request; got ${JSON.stringify(fake.requests.slice(from).map((x) => x.body))}`);
}

test('a WhatsApp user asks for a human: queued with summary, taken, answered by the agent, released to the AI', { timeout: 60000 }, async () => {
	const frank = '14155550201';
	// Alice and Bob sign in with their own accounts; each console socket
	// carries only its own agent's chat events.
	await makeAgent('alice', { name: 'Alice' });
	await makeAgent('bob', { name: 'Bob' });
	const aliceWs = await openConsoleSocket((await signedIn('alice')).token);
	const bobWs = await openConsoleSocket((await signedIn('bob')).token);
	sockets.push(aliceWs, bobWs);
	let r = await postWebhook('/whatsapp/message', inbound(frank, 'Hi, my name is Frank'));
	assert.match(messageOf(r.text), /Frank/);
	r = await postWebhook('/whatsapp/message', inbound(frank, 'Where is my order? I want to talk to a human please'));
	assert.match(messageOf(r.text), /connecting you/i);

	// The queue shows the chat: kind whatsapp, sender, profile name, the
	// last messages and the summary.
	const q = await queueEntry(frank);
	assert.equal(q.kind, 'whatsapp');
	assert.equal(q.room, undefined);
	assert.equal(q.reason, 'handoff_requested');
	assert.equal(q.details.from, `whatsapp:+${frank}`);
	assert.equal(q.details.profile_name, 'Frank Tester');
	const bodies = q.details.messages.map((m) => m.body);
	assert.ok(bodies.includes('Hi, my name is Frank'), JSON.stringify(bodies));
	assert.ok(q.details.messages.some((m) => m.direction === 'outbound' && /connecting you/i.test(m.body)));
	assert.equal(q.details.summary.caller.name, 'Frank', JSON.stringify(q.details.summary));
	assert.match(q.details.summary.issue, /order|human/i);
	assert.ok(q.details.summary.next_step);

	// Waiting for a human, the AI does not answer.
	r = await postWebhook('/whatsapp/message', inbound(frank, 'Anyone there?'));
	assert.match(r.text, /<Response\/>/);

	// Not held yet: nobody may reply.
	let n = fake.requests.length;
	r = await rest('POST', '/whatsapp/chat/reply', { conversation: frank, agentId: 'alice', text: 'Hi' });
	assert.equal(r.status, 409, r.text);
	assert.equal(r.json.error.code, 'chat_not_held');

	// Alice takes it (the console's queue_take with a conversation).
	r = await rest('POST', '/api/queue/take', { conversation: frank, agentId: 'alice' });
	assert.equal(r.status, 200, r.text);
	assert.equal(r.json.state, 'held');
	assert.equal(r.json.agentId, 'alice');
	assert.ok(r.json.messages.some((m) => m.body === 'Anyone there?' && m.direction === 'inbound'), JSON.stringify(r.json.messages));
	assert.equal(r.json.summary.caller.name, 'Frank');
	assert.equal(r.json.summary.provider, 'local');
	await notes.until('assigned', () => notes.events.find((e) => e.type === 'chat_assigned' && e.conversation === frank && e.agentId === 'alice'), 5000);
	assert.equal((await rest('GET', '/api/queue')).json.queue.some((x) => x.conversation === frank), false);
	// Taken twice: refused.
	r = await rest('POST', '/api/queue/take', { conversation: frank, agentId: 'bob' });
	assert.equal(r.status, 409, r.text);
	assert.equal(r.json.error.code, 'not_queued');

	// Alice replies: Messages.json from our number to Frank.
	r = await rest('POST', '/whatsapp/chat/reply', { conversation: frank, agentId: 'alice', text: 'Hi Frank, Alice here. Let me check your order & get back to you.' });
	assert.equal(r.status, 202, r.text);
	const sent = await messagesPost(n, (x) => x.params.get('To') === `whatsapp:+${frank}`);
	assert.equal(sent.params.get('From'), OUR_NUMBER);
	assert.equal(sent.params.get('Body'), 'Hi Frank, Alice here. Let me check your order & get back to you.');
	assert.equal(sent.headers.authorization, 'Basic ' + Buffer.from(`${ACCOUNT_SID}:test-twilio-auth-token-42`).toString('base64'));
	const out = await notes.until('agent reply event', () => notes.events.find((e) => e.type === 'whatsapp_message' && e.conversation === frank && e.direction === 'outbound' && e.agentId === 'alice'), 5000);
	assert.match(out.message_sid, /^SM/);
	assert.equal(out.by, 'agent');

	// Bad input: another agent, too long, unknown conversation: nothing sent.
	n = fake.requests.length;
	r = await rest('POST', '/whatsapp/chat/reply', { conversation: frank, agentId: 'bob', text: 'Hi' });
	assert.equal(r.status, 409, r.text);
	assert.equal(r.json.error.code, 'chat_not_held');
	r = await rest('POST', '/whatsapp/chat/reply', { conversation: frank, agentId: 'alice', text: 'x'.repeat(1601) });
	assert.equal(r.status, 400, r.text);
	assert.equal(r.json.error.code, 'body_too_long');
	r = await rest('POST', '/whatsapp/chat/reply', { conversation: '14155559999', agentId: 'alice', text: 'Hi' });
	assert.equal(r.status, 404, r.text);
	assert.equal(r.json.error.code, 'conversation_not_found');
	r = await rest('POST', '/api/queue/take', { conversation: '14155559999', agentId: 'alice' });
	assert.equal(r.status, 404, r.text);
	r = await rest('POST', '/whatsapp/chat/reply', { conversation: frank, text: 'Hi' });
	assert.equal(r.status, 400, r.text); // no agentId
	r = await rest('POST', '/whatsapp/chat/release', { conversation: frank, agentId: 'bob' });
	assert.equal(r.status, 409, r.text);
	await sleep(300);
	assert.equal(fake.requests.length, n);

	// Frank writes again: no AI answer; Alice's console gets it.
	const before = notes.events.length;
	r = await postWebhook('/whatsapp/message', inbound(frank, 'Thanks, it is order 12345'));
	assert.match(r.text, /<Response\/>/);
	const fwd = await notes.until('forwarded', () => notes.events.slice(before).find((e) => e.type === 'whatsapp_message' && e.conversation === frank && e.direction === 'inbound'), 5000);
	assert.equal(fwd.agentId, 'alice');
	assert.equal(fwd.by, 'user');
	assert.equal(fwd.body, 'Thanks, it is order 12345');
	await aliceWs.until('forwarded to Alice\'s console', () => aliceWs.events.find((e) => e.type === 'whatsapp_message' && e.conversation === frank && e.body === 'Thanks, it is order 12345'), 5000);
	await sleep(300);
	assert.equal(notes.events.slice(before).some((e) => e.type === 'whatsapp_message' && e.conversation === frank && e.direction === 'outbound'), false);
	r = await rest('GET', `/whatsapp/chat/${frank}`);
	assert.equal(r.status, 200, r.text);
	assert.equal(r.json.state, 'held');
	assert.deepEqual(r.json.messages.slice(-2).map((m) => [m.direction, m.by, m.body]), [
		['outbound', 'agent', 'Hi Frank, Alice here. Let me check your order & get back to you.'],
		['inbound', 'user', 'Thanks, it is order 12345'],
	]);

	// Released: the AI answers again, and remembers Frank.
	r = await rest('POST', '/whatsapp/chat/release', { conversation: frank, agentId: 'alice' });
	assert.equal(r.status, 200, r.text);
	assert.equal(r.json.state, 'ai');
	await notes.until('released', () => notes.events.find((e) => e.type === 'chat_released' && e.conversation === frank), 5000);
	await aliceWs.until('released on Alice\'s console', () => aliceWs.events.find((e) => e.type === 'chat_released' && e.conversation === frank), 5000);
	assert.ok(aliceWs.events.some((e) => e.type === 'chat_assigned' && e.conversation === frank));
	assert.ok(aliceWs.events.some((e) => e.type === 'whatsapp_message' && e.direction === 'outbound' && e.agentId === 'alice'));
	// Bob's console heard nothing of Alice's chat, but the queue.
	assert.deepEqual(bobWs.events.filter((e) => e.conversation === frank && e.type !== 'queue_updated'), []);
	assert.ok(bobWs.events.some((e) => e.type === 'queue_updated' && e.conversation === frank), 'the queue is everyone\'s');
	r = await postWebhook('/whatsapp/message', inbound(frank, 'What is my name?'));
	assert.match(messageOf(r.text), /Your name is Frank/);
	// Releasing twice: not held any more.
	r = await rest('POST', '/whatsapp/chat/release', { conversation: frank, agentId: 'alice' });
	assert.equal(r.status, 409, r.text);
});

test('chat ops through the Janus API need a console agent', T, async () => {
	const { adminRequest } = await import('../lib/janus.mjs');
	// The Admin API is trusted but must name the agent.
	const r = await adminRequest({ request: 'chat_reply', conversation: '14155550201', text: 'Hi' });
	assert.ok(r.error_code, JSON.stringify(r));
	assert.match(r.error, /agentId/);
});
