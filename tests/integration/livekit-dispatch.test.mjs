// LiveKit's AgentDispatchService against a real private Janus, driven by
// the official livekit-server-sdk's AgentDispatchClient: a dispatch sends
// the room's AI agent in (an AGENT participant RoomServiceClient lists),
// which answers a phone caller's spoken question; the dispatch and its job
// are listed, pending until the agent is in and running after; deleting
// it takes the agent out.  The dispatch's metadata reaches the agent
// ([livekit] dispatch_metadata = "config" here): its strings as the call's
// variables, its "agent" object as the agent's config.  Bad input is
// answered with LiveKit's status and Twirp code and changes nothing.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AccessToken, AgentDispatchClient, RoomServiceClient } from 'livekit-server-sdk';
import { API_KEY, API_URL, repoRoot } from '../lib/janus.mjs';
import { phoneCaller, speech8k, startAgentJanus, stopAgentJanus } from '../lib/phone-caller.mjs';

const KEY = 'APIdispatch1';
const SECRET = 'dispatch-secret-abcdefghijklmnopqrstuvwxyz0123';
const KIND_AGENT = 4; // ParticipantInfo.Kind
const JobStatus = { JS_PENDING: 0, JS_RUNNING: 1 }; // livekit.JobStatus (not re-exported by the SDK)
let env, question;

before(async () => {
	env = await startAgentJanus('sb-lkdispatch-', () =>
		readFileSync(join(repoRoot, 'conf', 'janus.plugin.switchboard.jcfg'), 'utf8')
			.replace('auto_join = ["phone", "whatsapp"]', 'auto_join = []') +
		`\nlivekit: {\n\tkeys: {\n\t\t${KEY} = "${SECRET}"\n\t}\n\tdispatch_metadata = "config"\n}\n`);
	question = speech8k(env.dir, 'hours', 'What are your opening hours?');
}, { timeout: 60000 });
after(() => stopAgentJanus(env), { timeout: 60000 });

const dispatcher = () => new AgentDispatchClient(API_URL, KEY, SECRET);
const rooms = () => new RoomServiceClient(API_URL, KEY, SECRET);
const unique = (p) => `${p}-${Math.random().toString(36).slice(2, 8)}`;
const agentsIn = async (room) => (await rooms().listParticipants(room)).filter((p) => p.kind === KIND_AGENT);

async function eventually(what, fn, ms) {
	const end = Date.now() + ms;
	for (;;) {
		try {
			return await fn();
		} catch (e) {
			if (Date.now() > end) throw new Error(`${what}: ${e.message}`);
		}
		await new Promise((r) => setTimeout(r, 200));
	}
}

test('a dispatch sends the agent in: listed as AGENT, it answers the caller; deleting it takes the agent out', { timeout: 120000 }, async () => {
	const room = unique('lk-dispatch');
	await rooms().createRoom({ name: room });
	const d = await dispatcher().createDispatch(room, 'support-agent', { metadata: '{"team":"orders"}' });
	assert.match(d.id, /^AD_/);
	assert.equal(d.agentName, 'support-agent');
	assert.equal(d.room, room);
	assert.equal(d.metadata, '{"team":"orders"}');
	assert.ok(d.state.createdAt > 1700000000n * 1000000000n, 'created_at in nanoseconds');
	assert.equal(d.state.jobs.length, 1);
	assert.match(d.state.jobs[0].id, /^AJ_/);
	assert.equal(d.state.jobs[0].dispatchId, d.id);
	assert.equal(d.state.jobs[0].state.status, JobStatus.JS_PENDING, 'nobody to talk to yet');
	// One AI agent per room.
	await assert.rejects(dispatcher().createDispatch(room, 'another'), (e) => e.status === 409 && e.code === 'already_exists');

	const { events, until } = env.notes;
	const caller = await phoneCaller(room);
	try {
		const [agent] = await eventually('an AGENT participant', async () => {
			const a = await agentsIn(room);
			assert.equal(a.length, 1);
			return a;
		}, 20000);
		const [listed] = await dispatcher().listDispatch(room);
		assert.equal(listed.id, d.id);
		assert.equal(listed.state.jobs[0].state.status, JobStatus.JS_RUNNING);
		assert.equal(listed.state.jobs[0].state.participantIdentity, agent.identity);
		assert.equal((await dispatcher().getDispatch(d.id, room))?.id, d.id);
		assert.equal(await dispatcher().getDispatch('AD_nosuch', room), undefined);

		await until('the greeting to end', () => events.find((e) => e.room === room && e.type === 'agent_state' && e.state === 'listening'), 30000);
		const from = Date.now();
		await caller.say(question);
		const turn = await until('the answer', () => events.find((e) => e.room === room && e.type === 'agent_turn' && e.at >= from), 30000);
		assert.match(turn.agent_text, /monday|friday|open/i, turn.agent_text);

		await dispatcher().deleteDispatch(d.id, room);
		await eventually('the agent gone', async () => assert.equal((await agentsIn(room)).length, 0), 20000);
		assert.deepEqual(await dispatcher().listDispatch(room), []);
		await assert.rejects(dispatcher().deleteDispatch(d.id, room), (e) => e.status === 404 && e.code === 'not_found');
	} finally {
		caller.stop();
		await rooms().deleteRoom(room).catch(() => {});
	}
});

// The operator's view of the room's variables (REST, master key).
const variablesOf = async (room) =>
	(await (await fetch(`${API_URL}/rooms/${room}`, { headers: { authorization: `Bearer ${API_KEY}` } })).json()).variables;
const agentLines = (room) => env.notes.events.filter((e) => e.type === 'transcript' && e.room === room && e.final && e.speaker === 'AI Agent');

test('a dispatch\'s metadata reaches the agent: its strings are variables, its "agent" object the config', { timeout: 90000 }, async () => {
	const room = unique('lk-dispatch-meta');
	await rooms().createRoom({ name: room });
	const metadata = JSON.stringify({ customer_name: 'Aisha', order: '12345', tier: 7, agent: { greeting: 'Hello {{customer_name}}, about order {{order}}.' } });
	const caller = await phoneCaller(room);
	try {
		const d = await dispatcher().createDispatch(room, 'support-agent', { metadata });
		assert.equal(d.metadata, metadata, 'kept and listed as sent');
		const vars = await variablesOf(room);
		assert.equal(vars.customer_name, 'Aisha');
		assert.equal(vars.order, '12345');
		assert.equal(vars.tier, undefined, 'only strings are variables');
		assert.equal(vars.agent, undefined, 'the config is not a variable');
		const greeting = await env.notes.until('the greeting', () => agentLines(room)[0], 30000);
		assert.equal(greeting.text, 'Hello Aisha, about order 12345.');
	} finally {
		caller.stop();
		await rooms().deleteRoom(room).catch(() => {});
	}
});

test('a dispatch whose metadata carries a bad agent config is refused, and nothing changes', { timeout: 30000 }, async () => {
	const room = unique('lk-dispatch-badmeta');
	await rooms().createRoom({ name: room });
	try {
		for (const agent of [{ persona: 'x', provider_url: 'http://evil.example/' }, { tools: ['not_configured'] }, { greeting: 7 }]) {
			await assert.rejects(
				dispatcher().createDispatch(room, 'support-agent', { metadata: JSON.stringify({ customer_name: 'Mallory', agent }) }),
				(e) => e.status === 400 && e.code === 'invalid_argument' && /agent config/i.test(e.message),
				JSON.stringify(agent));
		}
		assert.deepEqual(await dispatcher().listDispatch(room), [], 'no dispatch was made');
		assert.deepEqual(await variablesOf(room), {}, 'no variable was taken');
		assert.equal((await agentsIn(room)).length, 0);
	} finally {
		await rooms().deleteRoom(room).catch(() => {});
	}
});

test('bad dispatch requests: LiveKit\'s codes, and nothing changes', { timeout: 30000 }, async () => {
	const room = unique('lk-dispatch-bad');
	await rooms().createRoom({ name: room });
	try {
		// A token for another room, and one without roomAdmin.
		const other = new AccessToken(KEY, SECRET, { ttl: '5m' });
		other.addGrant({ roomAdmin: true, room: 'elsewhere' });
		const joinOnly = new AccessToken(KEY, SECRET, { ttl: '5m', identity: 'guest' });
		joinOnly.addGrant({ roomJoin: true, room });
		for (const at of [other, joinOnly]) {
			const r = await twirp('CreateDispatch', { room, agentName: 'x' }, await at.toJwt());
			assert.equal(r.status, 401);
			assert.equal(r.body.code, 'unauthenticated');
		}
		const admin = new AccessToken(KEY, SECRET, { ttl: '5m' });
		admin.addGrant({ roomAdmin: true, room });
		const token = await admin.toJwt();
		const malformed = await twirp('CreateDispatch', { room, agentName: 7 }, token);
		assert.equal(malformed.status, 400);
		assert.equal(malformed.body.code, 'malformed');
		const long = await twirp('CreateDispatch', { room, agentName: 'a', metadata: 'm'.repeat(17000) }, token);
		assert.equal(long.status, 400);
		assert.equal(long.body.code, 'invalid_argument');
		const missing = await twirp('DeleteDispatch', { room, dispatchId: 'AD_nosuch' }, token);
		assert.equal(missing.status, 404);
		assert.equal(missing.body.code, 'not_found');
		assert.deepEqual(await dispatcher().listDispatch(room), [], 'no dispatch was made');
		assert.equal((await agentsIn(room)).length, 0);
	} finally {
		await rooms().deleteRoom(room).catch(() => {});
	}
});

async function twirp(method, body, token) {
	const res = await fetch(`${API_URL}/twirp/livekit.AgentDispatchService/${method}`, {
		method: 'POST',
		headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
		body: JSON.stringify(body),
		signal: AbortSignal.timeout(10000),
	});
	return { status: res.status, body: await res.json() };
}
