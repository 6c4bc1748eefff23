// Provider fallback in a real agent: a language model that fails (HTTP 500
// from a local server speaking OpenAI's API) falls through to the local
// dialog engine; with no fallback left the agent apologises instead of going
// silent; the failures show in /metrics.  A provider config changed in the
// file is put in force by reload_providers without a restart, and a broken
// one changes nothing.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import http from 'node:http';
import dgram from 'node:dgram';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { openNotifications } from '../lib/notifications.mjs';
import { startJanus, adminRequest, repoRoot, API_URL, API_PORT, API_KEY } from '../lib/janus.mjs';
import { mulawEncode, rtpPacket } from '../lib/audio.mjs';
import { stub as stubServer, sse, openaiChunks } from '../integration/providers-lib.mjs';

let janus, stub, good, notes, events, conf;
const requests = [];
const until = (...a) => notes.until(...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

before(async () => {
	stub = http.createServer((req, res) => {
		let body = '';
		req.on('data', (d) => { body += d; });
		req.on('end', () => {
			requests.push({ url: req.url, auth: req.headers.authorization, body });
			res.writeHead(500, { 'content-type': 'application/json' });
			res.end(JSON.stringify({ error: { message: 'the model is on fire', type: 'server_error' } }));
		});
	});
	await new Promise((r) => stub.listen(0, '127.0.0.1', r));
	good = await stubServer((req, res) => sse(res, openaiChunks(['The reloaded model ', 'answers this call.'])));
	conf = readFileSync(join(repoRoot, 'conf', 'janus.plugin.switchboard.jcfg'), 'utf8').replace(
		'providers: {',
		`providers: {\n\tflaky: { type = "openai", base_url = "http://127.0.0.1:${stub.address().port}/v1", api_key = "sk-test", llm_model = "test-model" }`);
	janus = await startJanus({ pluginConfig: conf });
	notes = await openNotifications();
	events = notes.events;
}, { timeout: 60000 });
after(async () => {
	notes?.close();
	if (janus) await janus.stop();
	if (stub?.listening) await new Promise((r) => { stub.closeAllConnections(); stub.close(r); });
	await good?.close();
}, { timeout: 120000 });


// A phone-like caller that asks a question once the greeting is over.
async function call(room, llm) {
	const r = await fetch(`${API_URL}/room/create`, {
		method: 'POST', headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
		body: JSON.stringify({ roomName: room, agent: { llm } }),
	});
	assert.equal(r.status, 201);
	const dir = mkdtempSync(join(tmpdir(), 'sb-fallback-'));
	execFileSync('espeak-ng', ['-v', 'en-us', '-w', join(dir, 'q.wav'), 'What are your opening hours?'], { timeout: 60000 });
	execFileSync('sox', [join(dir, 'q.wav'), '-r', '8000', '-c', '1', '-b', '16', join(dir, 'q8.wav')], { timeout: 60000 });
	const pcm = readFileSync(join(dir, 'q8.wav')).subarray(44);
	const sock = dgram.createSocket('udp4');
	let timer;
	try {
		return await talk(room, pcm, sock, (t) => { timer = t; });
	} finally {
		clearInterval(timer);
		sock.close();
	}
}

async function talk(room, pcm, sock, setTimer) {
	await new Promise((res) => sock.bind(0, '127.0.0.1', res));
	const joined = await adminRequest({ request: 'rtp_join', room, ip: '127.0.0.1', port: sock.address().port, codec: 'pcmu', display: 'Caller' });
	let seq = 0, offset = -1;
	setTimer(setInterval(() => {
		const f = new Uint8Array(160).fill(0xff);
		if (offset >= 0 && offset + 320 <= pcm.length) {
			for (let i = 0; i < 160; i++) f[i] = mulawEncode(pcm.readInt16LE(offset + 2 * i));
			offset += 320;
		}
		sock.send(rtpPacket({ pt: 0, seq: seq++, ts: seq * 160, ssrc: 7, payload: f }), joined.port, joined.ip);
	}, 20));
	const inRoom = (e) => e.room === room;
	await until('the greeting', () => events.find((e) => inRoom(e) && e.type === 'agent_state' && e.state === 'listening'), 30000);
	offset = 0;
	const heard = await until('a caller turn', () => events.find((e) => inRoom(e) && e.type === 'transcript' && e.final && e.speaker === 'Caller'), 20000);
	const answer = await until('the agent\'s answer', () => events.find((e) => inRoom(e) && e.type === 'transcript' && e.final && e.speaker !== 'Caller' && e.timestamp >= heard.timestamp), 20000);
	// On a loaded machine the recogniser may hear the question as two turns,
	// the second barging in on the answer to the first: the record that
	// counts is the turn that was answered to the end.
	const turn = await until('the turn\'s record', () => events.find((e) => inRoom(e) && e.type === 'agent_turn' && !e.interrupted), 20000);
	return { text: turn.agent_text ?? answer.text, turn };
}

test('a failing model falls through to the local dialog engine', { timeout: 90000 }, async () => {
	const before = requests.length;
	const { text: answer, turn } = await call(`fallback-${process.pid}`, ['flaky', 'local']);
	assert.ok(requests.length > before, 'the flaky provider was asked first');
	assert.equal(requests[requests.length - 1].auth, 'Bearer sk-test');
	assert.equal(JSON.parse(requests[requests.length - 1].body).stream, true);
	assert.doesNotMatch(answer, /having trouble/, `answered by the local engine: ${answer}`);
	// The turn's record names the provider that answered, not the first choice.
	assert.equal(turn.llm, 'local', JSON.stringify(turn));
	assert.equal(turn.fallback, true, JSON.stringify(turn));
	assert.equal(turn.stt, 'pocketsphinx', JSON.stringify(turn));
	assert.equal(turn.tts, 'espeak-ng', JSON.stringify(turn));
});

test('with every model failing the agent apologises, and metrics show it', { timeout: 90000 }, async () => {
	const { text: answer, turn } = await call(`nofallback-${process.pid}`, ['flaky']);
	assert.match(answer, /sorry, I'm having trouble/i);
	assert.equal(turn.llm, null, `no model answered: ${JSON.stringify(turn)}`);
	const metrics = await (await fetch(`${API_URL}/metrics`, { headers: { authorization: `Bearer ${API_KEY}` } })).text();
	assert.match(metrics, /switchboard_provider_failures_total\{kind="llm",provider="flaky"\} [1-9]/);
	assert.match(metrics, /switchboard_agent_failed_turns_total [1-9]/);
});

test('reload_providers puts a changed provider config in force without a restart', { timeout: 90000 }, async () => {
	// The config file Janus reads (the copy in its private config folder).
	const file = join(dirname(janus.logPath), 'run', 'conf', 'janus.plugin.switchboard.jcfg');
	const inForce = readFileSync(file, 'utf8');
	const withFresh = inForce.replace('providers: {',
		`providers: {\n\tfresh: { type = "openai", base_url = "${good.base}/v1", api_key = "sk-fresh", llm_model = "fresh-model" }`);

	// A broken file (the agent's model list names nothing usable) changes nothing.
	writeFileSync(file, withFresh.replace('llm = ["local"]', 'llm = ["no-such-model"]'));
	const refused = await adminRequest({ request: 'reload_providers' });
	assert.equal(refused.error_code, 485, JSON.stringify(refused));
	assert.match(refused.error, /no usable llm provider/);
	const r = await fetch(`${API_URL}/api/admin`, {
		method: 'POST', headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
		body: JSON.stringify({ request: 'reload_providers' }) });
	assert.equal(r.status, 400);
	const room = `reloaded-${process.pid}`;
	const create = await fetch(`${API_URL}/room/create`, {
		method: 'POST', headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
		body: JSON.stringify({ roomName: `${room}-before`, agent: { llm: ['fresh'] } }) });
	assert.equal(create.status, 201);

	// The good file: the new provider is in force, for new calls.
	writeFileSync(file, withFresh);
	const done = await adminRequest({ request: 'reload_providers' });
	assert.equal(done.switchboard, 'success', JSON.stringify(done));
	const fresh = done.providers.find((p) => p.name === 'fresh');
	assert.ok(fresh && fresh.enabled, JSON.stringify(done.providers));
	assert.equal(fresh.base_url, `${good.base}/v1`);
	assert.deepEqual(done.chains.llm, ['local']);
	assert.ok(!JSON.stringify(done).includes('sk-fresh'), 'keys are never shown');
	const { text, turn } = await call(room, ['fresh']);
	assert.match(text, /reloaded model answers this call/);
	assert.equal(turn.llm, 'fresh');
	assert.equal(turn.fallback, false);
	const asked = good.requests.at(-1);
	assert.equal(asked.headers.authorization, 'Bearer sk-fresh');
	assert.equal(JSON.parse(asked.body.toString()).model, 'fresh-model');
});
