// voice_mode = "sip": the voice webhook answers <Dial><Sip> to our own SIP
// URI with the room in X-Room (the SIP bridge carries the media), after
// creating the room the INVITE will name.  With [phone] outbound = "sip",
// outbound calls are the SIP bridge's: nothing reaches Twilio's REST API.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { startJanus } from '../lib/janus.mjs';
import { rest } from '../lib/notifications.mjs';
import { postWebhook, twilioPluginConfig, startFakeTwilio } from '../lib/twilio.mjs';

let janus, fake;
const T = { timeout: 30000 }; // a few requests each
before(async () => {
	fake = await startFakeTwilio();
	janus = await startJanus({ pluginConfig: twilioPluginConfig({ twilio: { voice_mode: 'sip', sip_uri: 'sip:switchboard@sip.example.com;transport=tcp' }, phone: { outbound: 'sip' } }) });
}, { timeout: 60000 });
after(async () => {
	if (janus) await janus.stop();
	await fake?.close();
});

test('the voice webhook dials our SIP URI with X-Room', T, async () => {
	const sid = `CA${crypto.randomBytes(16).toString('hex')}`;
	const r = await postWebhook('/twilio/voice', [['CallSid', sid], ['From', '+14155550123'], ['To', '+14155550100'], ['CallStatus', 'ringing']]);
	assert.equal(r.status, 200, r.text);
	assert.match(r.text, new RegExp(`<Response><Dial><Sip>sip:switchboard@sip.example.com;transport=tcp\\?X-Room=twilio-${sid}</Sip></Dial></Response>`));
	assert.equal((await rest('GET', `/rooms/twilio-${sid}`)).status, 200);
});

test('outbound calls are not sent to Twilio when [phone] outbound is sip', T, async () => {
	await rest('POST', '/phone/call', { to: '+14155550199' });
	await rest('POST', '/whatsapp/send', { to: 'whatsapp:+14155550199', message: 'x' });
	assert.equal(fake.requests.filter((q) => q.url.endsWith('/Calls.json')).length, 0);
});
