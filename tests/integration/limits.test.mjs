// Limits that hold under abuse (docs/security.md, "Limits"): each has a
// config key, a default, a metric and a clear error. 10,000 `create`
// requests from one Janus client leave the rooms within the guest limit, in
// bounded time, every refusal counted; AI agents in all ([agent]
// max_agents); recordings at once ([recording] max_active) and their
// default length (4 h); transcripts per room ([agent] transcript_max_lines,
// oldest dropped); and what a room's agent config may name (knowledge
// bases and providers by name, never a file).
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startJanus, adminRequest, JanusHandle, repoRoot, API_URL, API_KEY } from '../lib/janus.mjs';
import { rest } from '../lib/notifications.mjs';

const T = { timeout: 30000 };
const CREATES = 10000;
const CREATE_BUDGET_MS = 150000; // 10,000 refusals on a loaded 2-core machine
const KB = join(repoRoot, 'conf', 'knowledge-base.json');
let janus;
const handles = [];
const sockets = [];

// conf/'s plugin config with [agent] and [recording] limits of our own;
// [recording] says nothing of max_seconds (the default applies).
function pluginConfig() {
	let conf = readFileSync(join(repoRoot, 'conf', 'janus.plugin.switchboard.jcfg'), 'utf8');
	const swap = (from, to) => {
		if (!from.test(conf)) throw new Error(`no ${from} in conf/janus.plugin.switchboard.jcfg`);
		conf = conf.replace(from, to);
	};
	swap(/^\tmax_agents = .*$/m, '\tmax_agents = "1"');
	swap(/^\ttranscript_max_lines = .*$/m, '\ttranscript_max_lines = "10"');
	swap(/^\t\tdefault = .*$/m, `\t\tbilling = "${KB}"`);
	swap(/^\tmax_seconds = .*$/m, '');
	swap(/^\tmax_active = .*$/m, '\tmax_active = 2');
	return conf;
}

before(async () => { janus = await startJanus({ pluginConfig: pluginConfig() }); }, { timeout: 60000 });
after(async () => {
	await Promise.allSettled(handles.map((h) => h.destroy()));
	for (const s of sockets) s.close();
	if (janus) await janus.stop();
});

async function refusals(limit) {
	const text = await (await fetch(`${API_URL}/metrics`, { headers: { authorization: `Bearer ${API_KEY}` } })).text();
	const m = text.match(new RegExp(`^switchboard_limit_refusals_total\\{limit="${limit}"\\} (\\d+)$`, 'm'));
	return m ? Number(m[1]) : 0;
}
async function metric(name) {
	const text = await (await fetch(`${API_URL}/metrics`, { headers: { authorization: `Bearer ${API_KEY}` } })).text();
	const m = text.match(new RegExp(`^${name} (\\d+)$`, 'm'));
	assert.ok(m, `no ${name} in /metrics`);
	return Number(m[1]);
}

// A human in the room: a plain RTP participant (the agent needs one).
async function human(room) {
	const sock = dgram.createSocket('udp4');
	await new Promise((r) => sock.bind(0, '127.0.0.1', r));
	sockets.push(sock);
	return adminRequest({ request: 'rtp_join', room, ip: '127.0.0.1', port: sock.address().port, codec: 'pcmu', display: 'caller' });
}

test(`${CREATES} creates from one Janus client: its rooms stay within the limit, in bounded time, every refusal counted`, { timeout: CREATE_BUDGET_MS + 30000 }, async (t) => {
	const h = await JanusHandle.attach();
	handles.push(h);
	const before = await refusals('guest_rooms_per_session');
	const roomsBefore = (await adminRequest({ request: 'list', hidden: true })).list.length;
	const t0 = Date.now();
	let made = 0, limited = 0, other = 0, next = 0;
	const worker = async () => {
		while (next < CREATES) {
			const i = next++;
			const r = await h.request({ request: 'create', room: `flood-${process.pid}-${i}` });
			if (r.switchboard === 'created') made++;
			else if (r.error_code === 493 && /guest_rooms_per_session/.test(r.error)) limited++;
			else other++;
		}
	};
	await Promise.all(Array.from({ length: 8 }, worker));
	const ms = Date.now() - t0;
	t.diagnostic(`${CREATES} creates in ${ms} ms: ${made} made, ${limited} refused`);
	assert.equal(made, 10, 'guest_rooms_per_session (10) rooms, no more');
	assert.equal(limited, CREATES - 10);
	assert.equal(other, 0);
	assert.ok(ms < CREATE_BUDGET_MS, `${ms} ms`);
	const rooms = (await adminRequest({ request: 'list', hidden: true })).list.length;
	assert.equal(rooms, roomsBefore + 10);
	assert.equal(await refusals('guest_rooms_per_session') - before, CREATES - 10);
	// The refusal says what to do about it.
	const again = await h.request({ request: 'create', room: `flood-${process.pid}-again` });
	assert.match(again.error, /guest_rooms_per_session = 10/);
	for (let i = 0; i < 10; i++) await adminRequest({ request: 'destroy', room: `flood-${process.pid}-${i}` });
});

test('[agent] max_agents: a room beyond it gets no agent, the `agent` request says so (493 / REST 429), counted', { timeout: 60000 }, async () => {
	const [one, two, three] = ['one', 'two', 'three'].map((n) => `agents-${n}-${process.pid}`);
	for (const room of [one, two]) await adminRequest({ request: 'create', room });
	await human(one);
	await human(two);
	assert.equal((await adminRequest({ request: 'agent', room: one, enable: true })).enabled, true);
	const list = async (room) => (await adminRequest({ request: 'listparticipants', room })).participants;
	const deadline = Date.now() + 15000;
	while (!(await list(one)).some((p) => p.kind === 'agent')) {
		assert.ok(Date.now() < deadline, 'the first agent never joined');
		await new Promise((r) => setTimeout(r, 100));
	}
	const before = await refusals('agents');
	const refused = await adminRequest({ request: 'agent', room: two, enable: true });
	assert.equal(refused.error_code, 493, JSON.stringify(refused));
	assert.match(refused.error, /max_agents = 1/);
	assert.equal((await rest('GET', `/rooms/${two}`)).json.agent, false, 'the refusal changed nothing');
	const viaRest = await rest('POST', `/room/${two}/agent`, { enable: true });
	assert.equal(viaRest.status, 429, viaRest.text);
	// A room that wants one from its creation gets none either, counted.
	await adminRequest({ request: 'create', room: three, agent: true });
	await human(three);
	await new Promise((r) => setTimeout(r, 500));
	assert.ok(!(await list(three)).some((p) => p.kind === 'agent'), 'a second agent joined');
	assert.equal(await refusals('agents') - before, 3);
	assert.equal(await metric('switchboard_agents'), 1);
	assert.equal(await metric('switchboard_agents_max'), 1);
	for (const room of [one, two, three]) await adminRequest({ request: 'destroy', room });
});

test('[recording] max_active: a third recording is refused (493 / REST 429), counted; max_seconds defaults to 4 h', T, async () => {
	const rooms = ['a', 'b', 'c'].map((n) => `rec-${n}-${process.pid}`);
	for (const room of rooms) await adminRequest({ request: 'create', room });
	for (const room of rooms.slice(0, 2)) assert.equal((await adminRequest({ request: 'start_recording', room })).switchboard, 'success');
	const before = await refusals('recordings');
	const third = await adminRequest({ request: 'start_recording', room: rooms[2] });
	assert.equal(third.error_code, 493, JSON.stringify(third));
	assert.match(third.error, /max_active = 2/);
	const viaRest = await rest('POST', `/rooms/${rooms[2]}/recording`, { action: 'start' });
	assert.equal(viaRest.status, 429, viaRest.text);
	assert.equal(await refusals('recordings') - before, 2);
	assert.equal((await rest('GET', `/rooms/${rooms[2]}`)).json.recording, false);
	const stats = (await adminRequest({ request: 'stats' })).recordings;
	assert.equal(stats.max_seconds, 4 * 3600);
	assert.equal(stats.max_active, 2);
	// One stops: there is room for another.
	await adminRequest({ request: 'stop_recording', room: rooms[0] });
	assert.equal((await adminRequest({ request: 'start_recording', room: rooms[2] })).switchboard, 'success');
	for (const room of rooms) await adminRequest({ request: 'destroy', room });
});

test('[agent] transcript_max_lines: a room keeps the last lines, the oldest dropped and counted', T, async () => {
	const room = `transcript-${process.pid}`;
	await adminRequest({ request: 'create', room });
	const before = await metric('switchboard_transcript_lines_dropped_total');
	for (let i = 0; i < 25; i++) await adminRequest({ request: 'transcript_add', room, speaker: 'caller', text: `line ${i}` });
	const lines = (await adminRequest({ request: 'transcript', room })).transcript;
	assert.deepEqual(lines.map((l) => l.text), Array.from({ length: 10 }, (_, i) => `line ${i + 15}`));
	assert.equal(await metric('switchboard_transcript_lines_dropped_total') - before, 15);
	await adminRequest({ request: 'destroy', room });
});

test('a room\'s agent config names knowledge bases and providers by name, never a file or a URL', T, async () => {
	const room = `config-${process.pid}`;
	const refusedConfigs = [
		[{ knowledge_base: '/etc/passwd' }, /knowledge_base: one of the names/],
		[{ knowledge_base: KB }, /knowledge_base/],
		[{ knowledge_base: '../conf/knowledge-base.json' }, /knowledge_base/],
		[{ knowledge_base: 'nosuch' }, /knowledge_base/],
		[{ llm: ['http://evil.example/v1'] }, /llm: provider names/],
		[{ llm: [{ type: 'openai', base_url: 'http://evil.example' }] }, /llm: provider names/],
		[{ tts: '/tmp/fifo' }, /tts: provider names/],
		[{ stt: [] }, /stt: provider names/],
		[{ base_url: 'http://evil.example' }, /unknown key base_url/],
		[{ api_key: 'sk-x' }, /unknown key api_key/],
		[{ persona: 'x'.repeat(5000) }, /persona: a string of at most 4000/],
		[{ vad_onset_ms: 'soon' }, /vad_onset_ms: a whole number/],
		[{ end_call: 'explode' }, /end_call/],
	];
	for (const [config, why] of refusedConfigs) {
		const created = await adminRequest({ request: 'create', room, agent_config: config });
		assert.equal(created.error_code, 485, `create with ${JSON.stringify(config).slice(0, 80)}: ${JSON.stringify(created)}`);
		assert.match(created.error, why);
		assert.equal((await adminRequest({ request: 'exists', room })).exists, false, 'a refused create made the room');
		const viaRest = await rest('POST', '/room/create', { roomName: room, agent: config });
		assert.equal(viaRest.status, 400, viaRest.text);
	}
	// The agent request refuses the same and changes nothing.
	await adminRequest({ request: 'create', room });
	const toggled = await adminRequest({ request: 'agent', room, enable: false, config: { knowledge_base: '/etc/passwd' } });
	assert.equal(toggled.error_code, 485, JSON.stringify(toggled));
	// What the configuration offers is accepted.
	const ok = await adminRequest({ request: 'agent', room, enable: false, config: { knowledge_base: 'billing', llm: ['local'], tts: 'espeak-ng', persona: 'Brief.', vad_onset_ms: '120', breaker_threshold: 2, end_call: 'leave' } });
	assert.equal(ok.enabled, false, JSON.stringify(ok));
	await adminRequest({ request: 'destroy', room });
	const fine = await adminRequest({ request: 'create', room, agent_config: { knowledge_base: 'billing', llm: 'local, openai' } });
	assert.equal(fine.switchboard, 'created', JSON.stringify(fine));
	await adminRequest({ request: 'destroy', room });
});
