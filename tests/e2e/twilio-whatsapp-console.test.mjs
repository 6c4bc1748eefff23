// The WhatsApp hand-off on the real agent console (html/console.html with
// js/console-chat.js, headless Chromium): a WhatsApp user asks the AI for a
// human; the chat waits in the console with its summary; the agent takes
// it on the page, sees the history, replies (the fake Twilio API receives
// the Messages.json POST), sees the user's next message (not answered by
// the AI) and gives the chat back to the AI, which answers again.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openNotifications, rest } from '../lib/notifications.mjs';
import { launchChromium, writeToneWav } from '../lib/browser.mjs';
import { startJanus, API_URL, HTTP_URL } from '../lib/janus.mjs';
import { makeAgent, consoleSignIn } from '../lib/console.mjs';
import { postWebhook, twilioPluginConfig, startFakeTwilio, ACCOUNT_SID } from '../lib/twilio.mjs';

const OUR_NUMBER = 'whatsapp:+14155238886';
const WA = '14155550301';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const msgSid = () => `SM${crypto.randomBytes(16).toString('hex')}`;
const inbound = (body) => [['MessageSid', msgSid()], ['AccountSid', ACCOUNT_SID], ['From', `whatsapp:+${WA}`], ['To', OUR_NUMBER], ['Body', body], ['NumMedia', '0'], ['ProfileName', 'Hank'], ['WaId', WA], ['MessageType', 'text']];
const unescapeXml = (s) => s.replace(/&(lt|gt|quot|apos|amp);/g, (m, e) => ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' })[e]);
const messageOf = (twiml) => unescapeXml((twiml.match(/<Message>([\s\S]*)<\/Message>/) || [])[1] ?? '');

let janus, notes, fake, browser, workDir;
before(async () => {
	workDir = mkdtempSync(join(tmpdir(), 'sb-wa-console-'));
	fake = await startFakeTwilio();
	janus = await startJanus({ pluginConfig: twilioPluginConfig() });
	notes = await openNotifications();
}, { timeout: 120000 });
after(async () => {
	notes?.close();
	await browser?.close().catch(() => {});
	if (janus) await janus.stop();
	await fake?.close();
	if (workDir) rmSync(workDir, { recursive: true, force: true });
});

async function until(what, fn, timeoutMs = 15000) {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const v = await fn();
		if (v) return v;
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await sleep(100);
	}
}

test('a console agent takes a WhatsApp chat, replies, sees the next message and gives it back to the AI', { timeout: 120000 }, async () => {
	const wav = join(workDir, 'agent.wav');
	writeToneWav(wav, 660);
	browser = await launchChromium(wav);
	const page = await (await browser.newContext({ permissions: ['microphone'] })).newPage();
	page.setDefaultTimeout(15000);
	await makeAgent('erin', { name: 'Erin' });
	await consoleSignIn(page, 'erin');
	const state = () => page.evaluate(() => window.consoleTest.state());
	const chats = () => page.evaluate(() => window.consoleChatTest.chats());
	await until('erin at her desk', async () => (await state()).room === 'desk-erin', 30000);
	await until('the console socket open', () => page.evaluate(() => window.consoleChatTest.notificationsOpen()));

	// The user talks to the AI, then asks for a human.
	let r = await postWebhook('/whatsapp/message', inbound('Hello, my name is Hank'));
	assert.match(messageOf(r.text), /Hank/);
	r = await postWebhook('/whatsapp/message', inbound('My package is late, I want to talk to a human'));
	assert.match(messageOf(r.text), /connecting you/i);

	// The chat waits on the console (not among the calls), with its summary.
	await page.waitForSelector(`#chat-queue button[data-conversation="${WA}"]`);
	assert.match(await page.textContent('#chat-queue'), /Hank: .*(late|human)/);
	assert.equal(await page.$(`#queue button[data-room="${WA}"]`), null);
	await page.click(`#chat-queue button[data-conversation="${WA}"]`);
	const taken = await until('the chat on the page', async () => (await chats())[WA]);
	assert.equal(taken.summary.caller.name, 'Hank');
	await page.waitForSelector(`#chat-list .chat[data-conversation="${WA}"]`);
	const history = await page.textContent(`#chat-list .chat[data-conversation="${WA}"] .chat-messages`);
	assert.match(history, /User: Hello, my name is Hank/);
	assert.match(history, /AI: .*connecting you/i);
	await notes.until('chat_assigned', () => notes.events.find((e) => e.type === 'chat_assigned' && e.conversation === WA && e.agentId === 'erin'), 5000);

	// The agent replies from the page: Messages.json to the user.
	const n = fake.requests.length;
	await page.fill(`#chat-list .chat[data-conversation="${WA}"] .chat-reply input`, 'Hi Hank, Erin here. I am checking your package now.');
	await page.click(`#chat-list .chat[data-conversation="${WA}"] .chat-reply button`);
	const sent = await until('Messages.json', () => fake.requests.slice(n).find((x) => x.url.endsWith('/Messages.json')));
	assert.equal(sent.params.get('To'), `whatsapp:+${WA}`);
	assert.equal(sent.params.get('From'), OUR_NUMBER);
	assert.equal(sent.params.get('Body'), 'Hi Hank, Erin here. I am checking your package now.');
	await until('the reply in the chat', async () => (await chats())[WA].messages.some((m) => m.by === 'agent' && /Erin here/.test(m.body)));

	// The user writes: the AI stays quiet, the page shows it.
	r = await postWebhook('/whatsapp/message', inbound('Thanks Erin, the order is 12345'));
	assert.match(r.text, /<Response\/>/);
	await until('the message on the page', async () => /User: Thanks Erin, the order is 12345/.test(await page.textContent(`#chat-list .chat[data-conversation="${WA}"] .chat-messages`)));

	// Back to the AI: it answers again.
	await page.click(`#chat-list .chat[data-conversation="${WA}"] .chat-release`);
	await notes.until('released', () => notes.events.find((e) => e.type === 'chat_released' && e.conversation === WA && e.agentId === 'erin'), 5000);
	await until('the chat gone from the page', async () => !(await chats())[WA]);
	r = await postWebhook('/whatsapp/message', inbound('What is my name?'));
	assert.match(messageOf(r.text), /Your name is Hank/);
	assert.deepEqual(await page.evaluate(() => window.consoleChatTest.errors()), []);
	assert.deepEqual((await state()).errors, []);
});
