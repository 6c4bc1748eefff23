// voice_mode = "sip": the voice webhook answers <Dial><Sip> to our own SIP
// URI with the room in X-Room and Switchboard's signature for it in
// X-Room-Signature (the SIP bridge carries the media, and lets the INVITE
// into that room only with it), after creating the room the INVITE will
// name.  With [phone] outbound = "sip", outbound calls are the SIP
// bridge's: nothing reaches Twilio's REST API.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { startJanus } from '../lib/janus.mjs';
import { rest } from '../lib/notifications.mjs';
import { postWebhook, twilioPluginConfig, startFakeTwilio } from '../lib/twilio.mjs';
import { withSipRoomSecret, roomSignatureValid } from '../lib/sip.mjs';

let janus, fake;
const T = { timeout: 30000 }; // a few requests each
before(async () => {
	fake = await startFakeTwilio();
	janus = await startJanus({ pluginConfig: withSipRoomSecret(twilioPluginConfig({ twilio: { voice_mode: 'sip', sip_uri: 'sip:switchboard@sip.example.com;transport=tcp' }, phone: { outbound: 'sip' } })) });
}, { timeout: 60000 });
after(async () => {
	if (janus) await janus.stop();
	await fake?.close();
});

test('the voice webhook dials our SIP URI with X-Room and its signature', T, async () => {
	const sid = `CA${crypto.randomBytes(16).toString('hex')}`;
	const r = await postWebhook('/twilio/voice', [['CallSid', sid], ['From', '+14155550123'], ['To', '+14155550100'], ['CallStatus', 'ringing']]);
	assert.equal(r.status, 200, r.text);
	const m = new RegExp(`<Response><Dial><Sip>sip:switchboard@sip.example.com;transport=tcp\\?X-Room=twilio-${sid}&amp;X-Room-Signature=(\\d+\\.[0-9a-f]{64})</Sip></Dial></Response>`).exec(r.text);
	assert.ok(m, r.text);
	assert.ok(roomSignatureValid(`twilio-${sid}`, m[1]), `${m[1]} signs twilio-${sid} with [sip] room_secret and has not expired`);
	assert.ok(!roomSignatureValid(`twilio-${sid}x`, m[1]), 'and no other room');
	assert.equal((await rest('GET', `/rooms/twilio-${sid}`)).status, 200);
});

test('outbound calls are not sent to Twilio when [phone] outbound is sip', T, async () => {
	await rest('POST', '/phone/call', { to: '+14155550199' });
	await rest('POST', '/whatsapp/send', { to: 'whatsapp:+14155550199', message: 'x' });
	assert.equal(fake.requests.filter((q) => q.url.endsWith('/Calls.json')).length, 0);
});
