// Twilio voice webhooks against a real private Janus: X-Twilio-Signature
// (vectors signed here with Node's crypto), forged/replayed/missing
// signatures refused with nothing created, the TwiML of the voice webhook,
// status callbacks (call_status events; a completed call closes its room).
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { startJanus, API_URL } from '../lib/janus.mjs';
import { openNotifications, rest } from '../lib/notifications.mjs';
import { postWebhook, twilioPluginConfig, twilioSignature, sha256Hex, AUTH_TOKEN, PUBLIC_URL } from '../lib/twilio.mjs';

let janus, notes;
const T = { timeout: 30000 }; // signed webhooks: well under a second each
before(async () => {
	janus = await startJanus({ pluginConfig: twilioPluginConfig() });
	notes = await openNotifications();
}, { timeout: 60000 });
after(async () => {
	notes?.close();
	if (janus) await janus.stop();
});

const callSid = () => `CA${crypto.randomBytes(16).toString('hex')}`;
const voiceParams = (sid, extra = []) => [
	['CallSid', sid], ['AccountSid', 'AC0123456789abcdef0123456789abcdef'], ['From', '+14155550123'],
	['To', '+14155550100'], ['CallStatus', 'ringing'], ['ApiVersion', '2010-04-01'], ['Direction', 'inbound'], ...extra,
];
const roomExists = async (name) => (await rest('GET', `/rooms/${name}`)).status === 200;

test('a signed voice webhook gets Media Streams TwiML and a room; params in any order', T, async () => {
	const sid = callSid();
	const params = voiceParams(sid).reverse(); // the signature sorts; order on the wire must not matter
	const r = await postWebhook('/twilio/voice', params);
	assert.equal(r.status, 200, r.text);
	// A socket URL of its own (single-use handshake), the room granted to this call.
	assert.match(r.text, /^<\?xml version="1.0" encoding="UTF-8"\?><Response><Connect><Stream url="wss:\/\/switchboard.test\/twilio\/stream\/\d+\.[0-9a-f]{32}">/);
	assert.match(r.text, new RegExp(`<Parameter name="room" value="twilio-${sid}"/><Parameter name="room_grant" value="\\d+\\.[0-9a-f]{64}"/>`));
	assert.match(r.text, new RegExp(`<Parameter name="call_sid" value="${sid}"/>`));
	assert.ok(await roomExists(`twilio-${sid}`));
	const ev = await notes.until('call_status ringing', () => notes.events.find((e) => e.type === 'call_status' && e.call_sid === sid), 5000);
	assert.equal(ev.status, 'ringing');
	assert.equal(ev.room, `twilio-${sid}`);
	assert.equal(ev.interface, 'phone');
	assert.equal(ev.from, '+14155550123');
});

test('the room may be named by a query parameter; values are XML-escaped', T, async () => {
	const sid = callSid();
	const room = `sales-${process.pid}`;
	const r = await postWebhook('/twilio/voice', voiceParams(sid, [['From', 'whatsapp:+14155550999']]).filter((p, i) => !(p[0] === 'From' && i === 2)), { query: `room=${room}` });
	assert.equal(r.status, 200, r.text);
	assert.match(r.text, new RegExp(`<Parameter name="room" value="${room}"/>`));
	assert.match(r.text, /<Parameter name="from" value="whatsapp:\+14155550999"\/>/);
	assert.ok(await roomExists(room));
	const ev = await notes.until('whatsapp call status', () => notes.events.find((e) => e.type === 'call_status' && e.call_sid === sid), 5000);
	assert.equal(ev.interface, 'whatsapp');
	const bad = await postWebhook('/twilio/voice', voiceParams(callSid()), { query: 'room=%3Cx%3E' });
	assert.equal(bad.status, 400, bad.text);
});

test('repeated parameters and the URL with or without :443 are accepted', T, async () => {
	const sid = callSid();
	const params = voiceParams(sid, [['StatusCallbackEvent', 'ringing'], ['StatusCallbackEvent', 'answered']]);
	// Twilio's SDKs accept the signature computed with the default port too.
	const withPort = twilioSignature(AUTH_TOKEN, 'https://switchboard.test:443/twilio/voice', params);
	const r = await postWebhook('/twilio/voice', params, { signature: withPort });
	assert.equal(r.status, 200, r.text);
	// Repeated names: each value counts (dropping one breaks the signature).
	const sid2 = callSid();
	const p2 = voiceParams(sid2, [['X', 'b'], ['X', 'a']]);
	const wrong = twilioSignature(AUTH_TOKEN, `${PUBLIC_URL}/twilio/voice`, p2.filter(([k, v]) => !(k === 'X' && v === 'a')));
	assert.equal((await postWebhook('/twilio/voice', p2, { signature: wrong })).status, 403);
	assert.equal(await roomExists(`twilio-${sid2}`), false);
	assert.equal((await postWebhook('/twilio/voice', p2)).status, 200);
	// A port that is not the default is part of what was signed.
	const sid3 = callSid();
	const p3 = voiceParams(sid3);
	const other = twilioSignature(AUTH_TOKEN, 'https://switchboard.test:8443/twilio/voice', p3);
	assert.equal((await postWebhook('/twilio/voice', p3, { signature: other })).status, 403);
	assert.equal(await roomExists(`twilio-${sid3}`), false);
});

test('forged, missing and replayed signatures get 403 and create nothing', T, async () => {
	const sid = callSid();
	const params = voiceParams(sid);
	const forged = await postWebhook('/twilio/voice', params, { token: 'not-the-token' });
	assert.equal(forged.status, 403, forged.text);
	assert.equal(forged.json.error.code, 'forbidden');
	const missing = await postWebhook('/twilio/voice', params, { signature: null });
	assert.equal(missing.status, 403);
	assert.match(missing.json.error.message, /missing/i);
	// Signed for other parameters (a tampered body).
	const tampered = await postWebhook('/twilio/voice', params, { signature: twilioSignature(AUTH_TOKEN, `${PUBLIC_URL}/twilio/voice`, voiceParams(callSid())) });
	assert.equal(tampered.status, 403);
	assert.equal(await roomExists(`twilio-${sid}`), false);
	assert.equal(notes.events.some((e) => e.call_sid === sid), false);
	// The same signed request twice: the second is a replay.
	const sid2 = callSid();
	const ok = await postWebhook('/twilio/voice', voiceParams(sid2));
	assert.equal(ok.status, 200);
	const again = await postWebhook('/twilio/voice', voiceParams(sid2));
	assert.equal(again.status, 403);
	assert.match(again.json.error.message, /replay/);
});

test('missing parameters get 400', T, async () => {
	const r = await postWebhook('/twilio/voice', [['From', '+14155550123'], ['To', '+1415']]);
	assert.equal(r.status, 400, r.text);
	const r2 = await postWebhook('/twilio/voice', [['CallSid', 'CA../../x'], ['From', 'a'], ['To', 'b']]);
	assert.equal(r2.status, 400, r2.text);
	const r3 = await postWebhook('/twilio/status', [['CallSid', callSid()], ['CallStatus', 'exploded']]);
	assert.equal(r3.status, 400, r3.text);
});

test('status callbacks publish call_status; completed closes the room', T, async () => {
	const sid = callSid();
	assert.equal((await postWebhook('/twilio/voice', voiceParams(sid))).status, 200);
	const room = `twilio-${sid}`;
	assert.ok(await roomExists(room));
	const answered = await postWebhook('/twilio/status', [['CallSid', sid], ['CallStatus', 'in-progress'], ['SequenceNumber', '1']]);
	assert.equal(answered.status, 200, answered.text);
	assert.ok(await roomExists(room));
	const done = await postWebhook('/twilio/status', [['CallSid', sid], ['CallStatus', 'completed'], ['CallDuration', '42'], ['SequenceNumber', '2']]);
	assert.equal(done.status, 200);
	const ev = await notes.until('completed', () => notes.events.find((e) => e.type === 'call_status' && e.call_sid === sid && e.status === 'completed'), 5000);
	assert.equal(ev.duration, 42);
	assert.equal(ev.room, room);
	assert.equal(ev.direction, 'inbound');
	await notes.until('room closed', () => notes.events.find((e) => e.type === 'room_closed' && e.room === room), 5000);
	assert.equal(await roomExists(room), false);
});

test('a JSON body is checked through bodySHA256', T, async () => {
	const sid = callSid();
	assert.equal((await postWebhook('/twilio/voice', voiceParams(sid))).status, 200);
	const body = JSON.stringify({ CallSid: sid, CallStatus: 'in-progress' });
	const query = `bodySHA256=${sha256Hex(body)}`;
	const sig = twilioSignature(AUTH_TOKEN, `${PUBLIC_URL}/twilio/status?${query}`);
	const send = (b, s) => fetch(`${API_URL}/twilio/status?${query}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-twilio-signature': s }, body: b });
	assert.equal((await send(body, sig)).status, 200);
	const altered = JSON.stringify({ CallSid: sid, CallStatus: 'completed' });
	const r = await send(altered, sig);
	assert.equal(r.status, 403);
	assert.match((await r.json()).error.message, /bodySHA256/);
	// Signed over a URL without bodySHA256: nothing covers the body.
	const bare = twilioSignature(AUTH_TOKEN, `${PUBLIC_URL}/twilio/status`);
	const unsigned = await fetch(`${API_URL}/twilio/status`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-twilio-signature': bare }, body: altered });
	assert.equal(unsigned.status, 403);
	assert.match((await unsigned.json()).error.message, /needs bodySHA256/);
	assert.ok(await roomExists(`twilio-${sid}`));
});
