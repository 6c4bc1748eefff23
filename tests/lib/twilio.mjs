// Twilio on the test side: X-Twilio-Signature computed with Node's crypto
// (independently of the C code), signed webhooks, a plugin config with the
// [twilio]/[whatsapp]/[phone] sections, and a fake Twilio REST API on
// loopback that checks the documented form fields and HTTP Basic auth and
// can be told to answer 401/429/500.
import crypto from 'node:crypto';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, API_URL, API_PORT } from './janus.mjs';
import { track } from './resources.mjs';
import WebSocket from 'ws';

export const ACCOUNT_SID = 'AC0123456789abcdef0123456789abcdef';
export const AUTH_TOKEN = 'test-twilio-auth-token-42';
// What Twilio calls (and signs): no real host is needed, requests go to
// the local server while the signature covers this URL.
export const PUBLIC_URL = 'https://switchboard.test';
export const FAKE_TWILIO_PORT = Number(process.env.TWILIO_FAKE_PORT || (Number(process.env.SWITCHBOARD_HTTP_PORT || 8080) + 7));

// pairs: [[name, value], …] (repeats allowed) or an object.
export function twilioSignature(token, url, pairs = []) {
	const list = Array.isArray(pairs) ? pairs : Object.entries(pairs);
	const sorted = [...list].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
	const data = url + sorted.map(([k, v]) => k + v).join('');
	return crypto.createHmac('sha1', token).update(Buffer.from(data, 'utf8')).digest('base64');
}

export const sha256Hex = (body) => crypto.createHash('sha256').update(body).digest('hex');

// POSTs a form webhook. opts: query (string without ?), signature
// (override), signUrl (override), token, headers.
export async function postWebhook(path, pairs, opts = {}) {
	const list = Array.isArray(pairs) ? pairs : Object.entries(pairs);
	const query = opts.query ? `?${opts.query}` : '';
	const signUrl = opts.signUrl ?? `${PUBLIC_URL}${path}${query}`;
	const signature = opts.signature !== undefined ? opts.signature : twilioSignature(opts.token ?? AUTH_TOKEN, signUrl, list);
	const headers = { 'content-type': 'application/x-www-form-urlencoded', ...(opts.headers || {}) };
	if (signature !== null) headers['x-twilio-signature'] = signature;
	const res = await fetch(`${API_URL}${path}${query}`, { method: 'POST', headers, body: new URLSearchParams(list).toString() });
	const text = await res.text();
	let json = null;
	try { json = JSON.parse(text); } catch { /* TwiML */ }
	return { status: res.status, text, json };
}

const unescapeXml = (v) => v.replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

// The WebSocket a TwiML answer opens (<Stream> or <ConversationRelay>), as
// Twilio would open it: `url` is what Twilio calls and signs (wss://…),
// `local` where the test connects, `headers` the handshake's signature,
// `params` the <Parameter>s (they arrive as customParameters).
export function socketOf(twiml) {
	const m = /<(?:Stream|ConversationRelay)\b[^>]*?\surl="([^"]*)"/.exec(twiml);
	if (!m) throw new Error(`no socket in TwiML: ${twiml}`);
	const url = unescapeXml(m[1]);
	const params = {};
	for (const p of twiml.matchAll(/<Parameter name="([^"]*)" value="([^"]*)"\/>/g)) params[unescapeXml(p[1])] = unescapeXml(p[2]);
	const { pathname } = new URL(url);
	return { url, local: `ws://127.0.0.1:${API_PORT}${pathname}`, params, headers: { 'x-twilio-signature': twilioSignature(AUTH_TOKEN, url) } };
}

// A socket URL of the shape our TwiML writes (<path>/<expires>.<nonce>),
// for a socket whose TwiML the test did not ask Switchboard for.
export function socketAt(path, ttlSeconds = 300) {
	const url = `${PUBLIC_URL.replace(/^https:/, 'wss:')}${path}/${Math.floor(Date.now() / 1000) + ttlSeconds}.${crypto.randomBytes(16).toString('hex')}`;
	return socketOf(`<Stream url="${url}"/>`);
}

// A call's voice webhook (opts.query: e.g. `room=…`) and the socket its
// TwiML opens.
export async function voiceSocket(callSid, { from = '+14155550123', to = '+14155550100', query } = {}) {
	const r = await postWebhook('/twilio/voice', [['CallSid', callSid], ['AccountSid', ACCOUNT_SID], ['From', from], ['To', to], ['CallStatus', 'ringing'], ['Direction', 'inbound']], { query });
	if (r.status !== 200) throw new Error(`voice webhook: ${r.status} ${r.text}`);
	return socketOf(r.text);
}

/**
 * A ConversationRelay session as Twilio opens it for a call whose voice
 * webhook named room relay-<sid>: the signed socket of its TwiML, then
 * `setup`.  Returns {got (every message), send(m), ws, said(pattern),
 * answer(from), ended(), close()}; the harness terminates it if a test
 * fails before close().
 */
export async function relaySession(sid) {
	const sock = await voiceSocket(sid, { query: `room=relay-${sid}` });
	const ws = new WebSocket(sock.local, { headers: sock.headers });
	const untrack = track(`relay socket of ${sid}`, () => ws.terminate());
	const got = [];
	ws.on('message', (d) => got.push(JSON.parse(d.toString())));
	await new Promise((resolve, reject) => { ws.on('open', resolve); ws.on('error', reject); });
	const send = (m) => ws.send(JSON.stringify(m));
	send({ type: 'setup', sessionId: `VX${crypto.randomBytes(16).toString('hex')}`, accountSid: ACCOUNT_SID, callSid: sid, from: '+14155550123', to: '+14155550100', direction: 'inbound', customParameters: sock.params });
	const poll = async (what, find, ms) => {
		const end = Date.now() + ms;
		for (;;) {
			const found = find();
			if (found !== undefined) return found;
			if (Date.now() > end) throw new Error(`no ${what} in ${JSON.stringify(got)}`);
			await new Promise((r) => setTimeout(r, 20));
		}
	};
	return {
		got, send, ws,
		// The text said (tokens joined) once `pattern` appears.
		said: (pattern, ms = 15000) => poll(pattern, () => {
			const text = got.filter((m) => m.type === 'text').map((m) => m.token).join('');
			return pattern.test(text) ? text : undefined;
		}, ms),
		// The text tokens of the answer after message `from`, up to last:true.
		answer: (from, ms = 10000) => poll('answer', () => {
			const end = got.findIndex((m, k) => k >= from && m.type === 'text' && m.last === true);
			return end < 0 ? undefined : { tokens: got.slice(from, end + 1).filter((m) => m.type === 'text'), next: end + 1 };
		}, ms),
		ended: (ms = 10000) => poll('end', () => {
			const e = got.find((m) => m.type === 'end');
			return e ? JSON.parse(e.handoffData) : undefined;
		}, ms),
		close() { untrack(); ws.terminate(); },
	};
}

// A plugin config's section `name` replaced by (or given) these settings.
export function withSection(text, name, items) {
	const section = `${name}: {\n${Object.entries(items).map(([k, v]) => `\t${k} = ${JSON.stringify(String(v))}`).join('\n')}\n}\n`;
	const re = new RegExp(`^${name}: \\{[\\s\\S]*?^\\}\\n`, 'm');
	return re.test(text) ? text.replace(re, section) : text + section;
}

// The Twilio settings of the tests (twilio: extra or other settings).
export const twilioSettings = (twilio = {}) => ({
	account_sid: ACCOUNT_SID, auth_token: AUTH_TOKEN, public_url: PUBLIC_URL,
	rest_base_url: `http://127.0.0.1:${FAKE_TWILIO_PORT}`, voice_mode: 'stream',
	phone_number: '+14155550100', ...twilio,
});

// The checked-in plugin config with the Twilio sections replaced.
export function twilioPluginConfig({ twilio = {}, whatsapp = {}, phone = {}, agent = null } = {}) {
	let text = readFileSync(join(repoRoot, 'conf', 'janus.plugin.switchboard.jcfg'), 'utf8');
	const replace = (name, items) => { text = withSection(text, name, items); };
	replace('twilio', twilioSettings(twilio));
	replace('whatsapp', { from: 'whatsapp:+14155238886', idle_timeout: 1800, reply_timeout_ms: 8000, ...whatsapp });
	replace('phone', { outbound: 'twilio', ...phone });
	if (agent) text = text.replace(/^agent: \{\n/m, `agent: {\n${agent}\n`);
	return text;
}

const twilioError = (status, code, message) => ({ code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });

// The fake REST API. `failures` is a queue of statuses to answer before
// succeeding (e.g. [429, 500]); requests are kept in `requests`.
export async function startFakeTwilio({ port = FAKE_TWILIO_PORT } = {}) {
	const fake = { requests: [], failures: [], rejected: [] };
	let n = 0;
	const server = http.createServer((req, res) => {
		let body = '';
		req.on('data', (d) => { body += d; });
		req.on('end', () => {
			const params = new URLSearchParams(body);
			const entry = { method: req.method, url: req.url, headers: req.headers, params, body };
			fake.requests.push(entry);
			const send = (status, obj) => {
				res.writeHead(status, { 'content-type': 'application/json' });
				res.end(JSON.stringify(obj));
			};
			const expected = 'Basic ' + Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString('base64');
			if (req.headers.authorization !== expected) return send(401, twilioError(401, 20003, 'Authenticate'));
			if (req.headers['content-type'] !== 'application/x-www-form-urlencoded') {
				fake.rejected.push(entry);
				return send(400, twilioError(400, 20001, 'Form body expected'));
			}
			if (fake.failures.length) {
				const status = fake.failures.shift();
				const code = status === 429 ? 20429 : status === 401 ? 20003 : 20500;
				return send(status, twilioError(status, code, status === 429 ? 'Too Many Requests' : status === 401 ? 'Authenticate' : 'Internal Server Error'));
			}
			const base = `/2010-04-01/Accounts/${ACCOUNT_SID}`;
			const missing = (names) => names.filter((k) => !params.get(k));
			const bad = (message) => { fake.rejected.push(entry); send(400, twilioError(400, 21201, message)); };
			if (req.method === 'POST' && req.url === `${base}/Calls.json`) {
				if (missing(['To', 'From']).length) return bad(`Missing ${missing(['To', 'From'])}`);
				const urls = ['Url', 'Twiml', 'ApplicationSid'].filter((k) => params.has(k));
				if (urls.length !== 1) return bad('Exactly one of Url, Twiml, ApplicationSid');
				if (params.has('Twiml') && params.get('Twiml').length > 4000) return bad('Twiml too long');
				const sid = `CA${crypto.randomBytes(16).toString('hex')}`;
				return send(201, { sid, account_sid: ACCOUNT_SID, to: params.get('To'), from: params.get('From'), status: 'queued', direction: 'outbound-api', uri: `${base}/Calls/${sid}.json` });
			}
			const m = req.url.match(new RegExp(`^${base}/Calls/(CA[0-9a-f]{32})\\.json$`));
			if (req.method === 'POST' && m) {
				if (params.get('Status') !== 'completed' && params.get('Status') !== 'canceled') return bad('Status must be completed or canceled');
				return send(200, { sid: m[1], status: 'completed' });
			}
			if (req.method === 'POST' && req.url === `${base}/Messages.json`) {
				if (missing(['To', 'From']).length) return bad('To and From are required');
				if (!params.get('Body') && !params.get('ContentSid') && !params.get('MediaUrl')) return bad('Body, MediaUrl or ContentSid required');
				if (params.get('To').startsWith('whatsapp:') !== params.get('From').startsWith('whatsapp:')) return bad('Channels differ');
				return send(201, { sid: `SM${String(++n).padStart(32, '0')}`, status: 'queued', to: params.get('To'), from: params.get('From'), body: params.get('Body') });
			}
			send(404, twilioError(404, 20404, 'The requested resource was not found'));
		});
	});
	await new Promise((resolve, reject) => { server.once('error', reject); server.listen(port, '127.0.0.1', resolve); });
	// closeAllConnections: the plugin's keep-alive connections would hold
	// server.close() until Janus stops.
	const untrack = track(`fake Twilio API on ${port}`, () => fake.close());
	fake.close = () => new Promise((r) => { untrack(); server.closeAllConnections(); server.close(() => r()); });
	return fake;
}
