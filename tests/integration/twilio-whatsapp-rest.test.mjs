// WhatsApp through the webhook (multi-turn memory per sender, media,
// handoff, 10 KB bodies) and the Twilio REST client (Messages.json,
// Calls.json, hang-up) against a fake Twilio API on loopback that checks
// the documented form fields and Basic auth, and answers 401/429/500 when
// told to.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { startJanus, adminRequest } from '../lib/janus.mjs';
import { openNotifications, rest } from '../lib/notifications.mjs';
import { postWebhook, twilioPluginConfig, startFakeTwilio, ACCOUNT_SID } from '../lib/twilio.mjs';

let janus, notes, fake;
const T = { timeout: 30000 }; // webhooks and REST against the fake API: ~1 s each
before(async () => {
	fake = await startFakeTwilio();
	janus = await startJanus({ pluginConfig: twilioPluginConfig() });
	notes = await openNotifications();
}, { timeout: 60000 });
after(async () => {
	notes?.close();
	if (janus) await janus.stop();
	await fake?.close();
});

const msgSid = () => `SM${crypto.randomBytes(16).toString('hex')}`;
const BASE = `/2010-04-01/Accounts/${ACCOUNT_SID}`;
function inbound(waId, body, extra = []) {
	return [['MessageSid', msgSid()], ['AccountSid', ACCOUNT_SID], ['From', `whatsapp:+${waId}`], ['To', 'whatsapp:+14155238886'], ['Body', body], ['NumMedia', '0'], ['ProfileName', 'Tester'], ['WaId', waId], ['MessageType', 'text'], ...extra];
}
const unescapeXml = (s) => s.replace(/&(lt|gt|quot|apos|amp);/g, (m, e) => ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' })[e]);
const messageOf = (twiml) => unescapeXml((twiml.match(/<Message>([\s\S]*)<\/Message>/) || [])[1] ?? '');

test('a WhatsApp conversation remembers the sender across messages', T, async () => {
	const alice = '14155550101', bob = '14155550102';
	let r = await postWebhook('/whatsapp/message', inbound(alice, 'Hi, my name is Alice'));
	assert.equal(r.status, 200, r.text);
	assert.match(r.text, /^<\?xml version="1.0" encoding="UTF-8"\?><Response><Message>/);
	assert.match(messageOf(r.text), /Alice/);
	r = await postWebhook('/whatsapp/message', inbound(alice, 'What is my name?'));
	assert.match(messageOf(r.text), /Your name is Alice/);
	// Another sender has a conversation of their own.
	r = await postWebhook('/whatsapp/message', inbound(bob, 'What is my name?'));
	assert.match(messageOf(r.text), /don't know your name/);
	r = await postWebhook('/whatsapp/message', inbound(alice, 'What are your opening hours?'));
	assert.match(messageOf(r.text), /Monday to Friday/);
	const inEv = await notes.until('inbound', () => notes.events.find((e) => e.type === 'whatsapp_message' && e.direction === 'inbound' && e.conversation === alice), 5000);
	assert.equal(inEv.from, `whatsapp:+${alice}`);
	assert.equal(inEv.media_count, 0);
	assert.match(inEv.message_sid, /^SM/);
	const outEv = await notes.until('outbound', () => notes.events.find((e) => e.type === 'whatsapp_message' && e.direction === 'outbound' && e.conversation === alice), 5000);
	assert.equal(outEv.to, `whatsapp:+${alice}`);
	const sessions = (await rest('GET', '/sessions/type/whatsapp')).json.sessions;
	const s = sessions.find((x) => x.conversation === alice);
	assert.ok(s, JSON.stringify(sessions));
	assert.equal(s.type, 'whatsapp');
	assert.equal(s.messages, 3);
	assert.equal(s.info.wa_id, alice);
	assert.equal(s.display, 'Tester');
	// Not in the phone list.
	assert.equal((await rest('GET', '/sessions/type/phone')).json.sessions.some((x) => x.conversation === alice), false);
});

test('media is answered politely; talk to a human hands the chat over', T, async () => {
	const carol = '14155550103';
	let r = await postWebhook('/whatsapp/message', inbound(carol, '', [['NumMedia', '1'], ['MediaUrl0', 'https://api.twilio.com/x.jpg'], ['MediaContentType0', 'image/jpeg']]).filter((p, i) => !(p[0] === 'NumMedia' && i === 5)));
	assert.equal(r.status, 200, r.text);
	assert.match(messageOf(r.text), /only read text/);
	const ev = await notes.until('media event', () => notes.events.find((e) => e.type === 'whatsapp_message' && e.conversation === carol && e.media_count === 1), 5000);
	assert.equal(ev.direction, 'inbound');
	r = await postWebhook('/whatsapp/message', inbound(carol, 'My name is Carol. I want to talk to a human please'));
	assert.match(messageOf(r.text), /connecting you/i);
	const h = await notes.until('handoff', () => notes.events.find((e) => e.type === 'handoff_requested' && e.conversation === carol), 5000);
	assert.equal(h.interface, 'whatsapp');
	assert.equal(h.from, `whatsapp:+${carol}`);
	assert.match(h.summary, /Carol/);
	// A human has the chat now: the bot stays quiet.
	r = await postWebhook('/whatsapp/message', inbound(carol, 'Hello?'));
	assert.match(r.text, /<Response\/>/);
});

test('bad WhatsApp input: 10 KB body, forged signature, bad sender — nothing created', T, async () => {
	const dave = '14155550104';
	const before = notes.events.length;
	let r = await postWebhook('/whatsapp/message', inbound(dave, 'x'.repeat(10 * 1024)));
	assert.equal(r.status, 413, r.text);
	assert.equal(r.json.error.code, 'body_too_long');
	r = await postWebhook('/whatsapp/message', inbound(dave, 'hi'), { token: 'forged' });
	assert.equal(r.status, 403);
	r = await postWebhook('/whatsapp/message', inbound(dave, 'hi').map(([k, v]) => [k, k === 'From' ? '+14155550104' : v]));
	assert.equal(r.status, 400);
	const sessions = (await rest('GET', '/sessions/type/whatsapp')).json.sessions;
	assert.equal(sessions.some((x) => x.conversation === dave), false);
	assert.equal(notes.events.slice(before).some((e) => e.conversation === dave), false);
});

test('POST /whatsapp/send: Messages.json inside the 24-hour window, templates outside', T, async () => {
	const erin = '14155550105';
	await postWebhook('/whatsapp/message', inbound(erin, 'Hello'));
	const n = fake.requests.length;
	let r = await rest('POST', '/whatsapp/send', { to: `whatsapp:+${erin}`, message: 'Your order has shipped & is on its way' });
	assert.equal(r.status, 201, r.text);
	assert.match(r.json.sid, /^SM/);
	const req = fake.requests[n];
	assert.equal(req.url, `${BASE}/Messages.json`);
	assert.equal(req.params.get('From'), 'whatsapp:+14155238886');
	assert.equal(req.params.get('To'), `whatsapp:+${erin}`);
	assert.equal(req.params.get('Body'), 'Your order has shipped & is on its way');
	await notes.until('outbound send', () => notes.events.find((e) => e.type === 'whatsapp_message' && e.direction === 'outbound' && e.message_sid === r.json.sid), 5000);
	// Nobody wrote from this number: free-form is refused, a template goes.
	r = await rest('POST', '/whatsapp/send', { to: 'whatsapp:+14155550999', message: 'Hi there' });
	assert.equal(r.status, 422, r.text);
	assert.equal(r.json.error.code, 'outside_24h_window');
	const m = fake.requests.length;
	r = await rest('POST', '/whatsapp/send', { to: '+14155550999', contentSid: 'HX0123456789abcdef0123456789abcdef', contentVariables: { 1: 'Erin' } });
	assert.equal(r.status, 201, r.text);
	assert.equal(fake.requests[m].params.get('ContentSid'), 'HX0123456789abcdef0123456789abcdef');
	assert.deepEqual(JSON.parse(fake.requests[m].params.get('ContentVariables')), { 1: 'Erin' });
	assert.equal(fake.requests[m].params.has('Body'), false);
	r = await rest('POST', '/whatsapp/send', { to: 'not-a-number', message: 'x' });
	assert.equal(r.status, 400);
});

test('POST /phone/call and /whatsapp/call create calls through Calls.json; /phone/end hangs up', T, async () => {
	const room = `out-${process.pid}`;
	let n = fake.requests.length;
	let r = await rest('POST', '/phone/call', { to: '+14155550199', room });
	assert.equal(r.status, 201, r.text);
	assert.match(r.json.callSid, /^CA[0-9a-f]{32}$/);
	assert.equal(r.json.room, room);
	let req = fake.requests[n];
	assert.equal(req.url, `${BASE}/Calls.json`);
	assert.equal(req.headers.authorization, 'Basic ' + Buffer.from(`${ACCOUNT_SID}:test-twilio-auth-token-42`).toString('base64'));
	assert.equal(req.params.get('To'), '+14155550199');
	assert.equal(req.params.get('From'), '+14155550100');
	assert.equal(req.params.get('Url'), `https://switchboard.test/twilio/voice?room=${room}`);
	assert.equal(req.params.get('StatusCallback'), `https://switchboard.test/twilio/status?room=${room}`);
	assert.deepEqual(req.params.getAll('StatusCallbackEvent'), ['initiated', 'ringing', 'answered', 'completed']);
	assert.equal((await rest('GET', `/rooms/${room}`)).status, 200);
	const ev = await notes.until('queued', () => notes.events.find((e) => e.type === 'call_status' && e.call_sid === r.json.callSid), 5000);
	assert.equal(ev.status, 'queued');
	assert.equal(ev.direction, 'outbound-api');
	assert.equal(ev.to, '+14155550199');
	n = fake.requests.length;
	const end = await rest('POST', `/phone/end/${r.json.callSid}`);
	assert.equal(end.status, 200, end.text);
	req = fake.requests[n];
	assert.equal(req.url, `${BASE}/Calls/${r.json.callSid}.json`);
	assert.equal(req.params.get('Status'), 'completed');
	// WhatsApp call: whatsapp: numbers on both sides.
	n = fake.requests.length;
	r = await rest('POST', '/whatsapp/call', { to: 'whatsapp:+14155550101' });
	assert.equal(r.status, 201, r.text);
	req = fake.requests[n];
	assert.equal(req.params.get('To'), 'whatsapp:+14155550101');
	assert.equal(req.params.get('From'), 'whatsapp:+14155238886');
	const wev = await notes.until('wa call', () => notes.events.find((e) => e.type === 'call_status' && e.call_sid === r.json.callSid), 5000);
	assert.equal(wev.interface, 'whatsapp');
	// Bad input: nothing is sent.
	n = fake.requests.length;
	assert.equal((await rest('POST', '/phone/call', { to: '12345' })).status, 400);
	assert.equal((await rest('POST', '/phone/call', { to: '+14155550199', room: '../x' })).status, 400);
	assert.equal((await rest('POST', '/phone/end/CA..%2F')).status, 400);
	assert.equal(fake.requests.length, n);
});

test('Twilio REST errors: 429 and 500 are retried, 401 is not; errors surface', { timeout: 30000 }, async () => {
	let n = fake.requests.length;
	fake.failures.push(429, 500);
	let r = await rest('POST', '/phone/call', { to: '+14155550199', room: `retry-${process.pid}` });
	assert.equal(r.status, 201, r.text);
	assert.equal(fake.requests.length - n, 3);
	n = fake.requests.length;
	fake.failures.push(401);
	const room = `denied-${process.pid}`;
	r = await rest('POST', '/phone/call', { to: '+14155550199', room });
	assert.equal(r.status, 502, r.text);
	assert.equal(r.json.error.code, 'twilio_error');
	assert.equal(r.json.error.twilio_status, 401);
	assert.equal(r.json.error.twilio_code, 20003);
	assert.match(r.json.error.message, /401.*Authenticate/);
	assert.equal(fake.requests.length - n, 1);
	assert.equal((await rest('GET', `/rooms/${room}`)).status, 404); // the room it made is gone again
	n = fake.requests.length;
	fake.failures.push(500, 500, 500);
	r = await rest('POST', '/whatsapp/send', { to: '+14155550999', contentSid: 'HX0123456789abcdef0123456789abcdef' });
	assert.equal(r.status, 502, r.text);
	assert.equal(r.json.error.twilio_status, 500);
	assert.equal(fake.requests.length - n, 3);
	assert.deepEqual(fake.rejected, []);
	const metrics = (await rest('GET', '/metrics')).text;
	assert.ok(Number(metrics.match(/^switchboard_twilio_rest_retries_total (\d+)$/m)?.[1]) >= 4, metrics);
	assert.ok(Number(metrics.match(/^switchboard_twilio_rest_failures_total (\d+)$/m)?.[1]) >= 2);
});

test('a finished outbound call closes the room made for it, unless others are still in it', { timeout: 20000 }, async () => {
	const alone = `alone-${process.pid}`, shared = `shared-${process.pid}`;
	const a = await rest('POST', '/phone/call', { to: '+14155550199', room: alone });
	const b = await rest('POST', '/phone/call', { to: '+14155550198', room: shared });
	assert.equal(a.status, 201, a.text);
	assert.equal(b.status, 201, b.text);
	// Someone else (a plain RTP participant) joins the shared room meanwhile.
	const joined = await adminRequest({ request: 'rtp_join', room: shared, ip: '127.0.0.1', port: 9, codec: 'pcmu' });
	assert.equal(joined.switchboard, 'rtp_joined', JSON.stringify(joined));
	for (const [sid, room] of [[a.json.callSid, alone], [b.json.callSid, shared]]) {
		const r = await postWebhook('/twilio/status', [['CallSid', sid], ['CallStatus', 'completed'], ['CallDuration', '3']], { query: `room=${room}` });
		assert.equal(r.status, 200, r.text);
	}
	await notes.until('alone closed', () => notes.events.find((e) => e.type === 'room_closed' && e.room === alone), 5000);
	assert.equal((await rest('GET', `/rooms/${alone}`)).status, 404);
	assert.equal((await rest('GET', `/rooms/${shared}`)).status, 200);
});
