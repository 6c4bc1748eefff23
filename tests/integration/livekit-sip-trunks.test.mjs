// LiveKit's SIP trunks and dispatch rules against a real private Janus,
// driven by the official livekit-server-sdk's SipClient: created, listed
// (with filters), read, replaced and deleted; bad input gets LiveKit's
// codes and changes nothing; they survive a restart (the store); and the
// SIP bridge routes inbound calls by them — an individual rule's room with
// the sip.trunkID / sip.ruleID attributes, a direct rule's room, a callee
// rule whose roomConfig.agents brings the AI agent in, a trunk's digest
// auth — while a call for no trunk (404) or from outside a trunk's
// allowedAddresses (403) is refused.  createSipParticipant through a
// stored outbound trunk dials its address from its number.  At most 1,000
// of a kind: the next is resource_exhausted.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccessToken, RoomAgentDispatch, RoomConfiguration, RoomServiceClient, SipClient } from 'livekit-server-sdk';
import { startJanus, repoRoot, SIP_PORT, API_URL } from '../lib/janus.mjs';
import { rest } from '../lib/notifications.mjs';
import { SipPeer, RtpLeg, placeCall, inDialog, digestAuthorization, sdpOffer, withSipRoomSecret } from '../lib/sip.mjs';

const KEY = 'APItrunkKey1';
const SECRET = 'trunk-secret-abcdefghijklmnopqrstuvwxyz0123456789';
const OUT_PORT = SIP_PORT + 9; // the stored outbound trunk's address
const DEFAULT_TRUNK_PORT = SIP_PORT + 10; // [sip] trunk: nobody there
const KIND_SIP = 3, KIND_AGENT = 4;
const CALLER = '+15005550006'; // what SipPeer puts in From
const T = { timeout: 60000 };
const stateDir = mkdtempSync(join(tmpdir(), 'sb-trunks-state-'));
let janus, leg, outbound;
const peers = [];
const outInvites = [];

const conf = withSipRoomSecret(readFileSync(join(repoRoot, 'conf', 'janus.plugin.switchboard.jcfg'), 'utf8'))
	.replace(/^\tallow = "[^"]*"/m, '\tallow = "127.0.0.1, 127.0.0.16/28"')
	.replace('#trunk = "example.pstn.twilio.com"', `trunk = "127.0.0.1:${DEFAULT_TRUNK_PORT}"`)
	.replace('auto_join = ["phone", "whatsapp"]', 'auto_join = []') +
	`\nlivekit: {\n\tkeys: {\n\t\t${KEY} = "${SECRET}"\n\t}\n}\n`;

const start = () => startJanus({ pluginConfig: conf, env: { SWITCHBOARD_STATE_DIR: stateDir } });

before(async () => {
	assert.match(conf, /allow = "127\.0\.0\.1, 127\.0\.0\.16\/28"/);
	assert.match(conf, /auto_join = \[\]/);
	janus = await start();
	leg = await new RtpLeg().start();
	outbound = await new SipPeer({ port: OUT_PORT }).start();
	outbound.onRequest = (req) => {
		if (req.method !== 'INVITE') return { status: 200 };
		outInvites.push(req);
		setTimeout(() => outbound.respond(req, 200, { toTag: 'ot', body: sdpOffer({ port: 42000 + outInvites.length }) }), 100);
		return null;
	};
}, T);

after(async () => {
	for (const p of peers) p.close();
	outbound?.close();
	leg?.close();
	if (janus) await janus.stop();
});

const sip = () => new SipClient(API_URL, KEY, SECRET);
const rooms = () => new RoomServiceClient(API_URL, KEY, SECRET);

async function twirp(method, body, grant = { admin: true }) {
	const at = new AccessToken(KEY, SECRET, { ttl: 60 });
	at.addSIPGrant(grant);
	const res = await fetch(`${API_URL}/twirp/livekit.SIP/${method}`, {
		method: 'POST',
		headers: { Authorization: `Bearer ${await at.toJwt()}`, 'Content-Type': 'application/json' },
		body: JSON.stringify(body),
	});
	return { status: res.status, json: await res.json() };
}

async function peerAt(ip) {
	const p = await new SipPeer({ ip }).start();
	peers.push(p);
	return p;
}

const call = (peer, number, opts = {}) => placeCall(peer, { sipPort: SIP_PORT, rtpPort: leg.port, user: number, ...opts });
const hangUp = async (peer, c) => assert.equal((await inDialog(peer, c, 'BYE'))?.status, 200);

async function metric(name) {
	const text = (await rest('GET', '/metrics')).text;
	const m = new RegExp(`^${name.replace(/[{}"]/g, (c) => `\\${c}`)} (\\d+)$`, 'm').exec(text);
	return m ? Number(m[1]) : NaN;
}

async function until(what, fn, ms = 10000) {
	const end = Date.now() + ms;
	for (;;) {
		const v = await fn();
		if (v) return v;
		if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
		await new Promise((r) => setTimeout(r, 100));
	}
}

async function snapshot() {
	const [inbound, out, rules] = await Promise.all([sip().listSipInboundTrunk(), sip().listSipOutboundTrunk(), sip().listSipDispatchRule()]);
	return JSON.stringify([inbound, out, rules].map((l) => l.map((x) => x.toJson())));
}

const ids = {};

test('trunks and dispatch rules: create, list with filters, get, replace, delete', T, async () => {
	const a = await sip().createSipInboundTrunk('carrier-a', ['+15550001111'], { allowedAddresses: ['127.0.0.16/30'], metadata: 'a' });
	assert.match(a.sipTrunkId, /^ST_/);
	assert.deepEqual(a.numbers, ['+15550001111']);
	assert.deepEqual(a.allowedAddresses, ['127.0.0.16/30']);
	const b = await sip().createSipInboundTrunk('carrier-b', ['+15550002222', '+15550003333']);
	const c = await sip().createSipInboundTrunk('carrier-c', ['+15550004444'], { authUsername: 'pbx', authPassword: 'pbx-secret' });
	assert.equal(c.authPassword, 'pbx-secret', 'LiveKit returns the secret to sip.admin');
	const out = await sip().createSipOutboundTrunk('out', `127.0.0.1:${OUT_PORT}`, ['+15557770000'], { authUsername: 'u', authPassword: 'p' });
	assert.match(out.sipTrunkId, /^ST_/);
	assert.equal(out.address, `127.0.0.1:${OUT_PORT}`);
	Object.assign(ids, { a: a.sipTrunkId, b: b.sipTrunkId, c: c.sipTrunkId, out: out.sipTrunkId });

	// Lists and their filters.
	assert.deepEqual((await sip().listSipInboundTrunk()).map((t) => t.sipTrunkId), [ids.a, ids.b, ids.c]);
	assert.deepEqual((await sip().listSipInboundTrunk({ numbers: ['+15550003333'] })).map((t) => t.sipTrunkId), [ids.b]);
	assert.deepEqual((await sip().listSipInboundTrunk({ trunkIds: [ids.c, ids.a] })).map((t) => t.sipTrunkId), [ids.a, ids.c]);
	assert.deepEqual((await sip().listSipOutboundTrunk()).map((t) => t.sipTrunkId), [ids.out]);
	const legacy = await sip().listSipTrunk();
	assert.equal(legacy.length, 4, 'ListSIPTrunk (deprecated) lists both kinds');

	// Get (no Node helper: the wire request), in either casing.
	const got = await twirp('GetSIPInboundTrunk', { sip_trunk_id: ids.b });
	assert.equal(got.status, 200);
	assert.equal(got.json.trunk.sip_trunk_id, ids.b);
	assert.deepEqual(got.json.trunk.numbers, ['+15550002222', '+15550003333']);
	assert.equal((await twirp('GetSIPOutboundTrunk', { sipTrunkId: ids.out })).json.trunk.address, `127.0.0.1:${OUT_PORT}`);

	// Rules: the deprecated top-level form the SDK sends, and dispatchRule.
	const individual = await sip().createSipDispatchRule({ type: 'individual', roomPrefix: 'call' },
		{ name: 'per caller', trunkIds: [ids.a], metadata: 'rule-meta', attributes: { team: 'sales' } });
	assert.match(individual.sipDispatchRuleId, /^SDR_/);
	assert.equal(individual.rule.rule.case, 'dispatchRuleIndividual');
	assert.deepEqual(individual.trunkIds, [ids.a]);
	const direct = await twirp('CreateSIPDispatchRule', { dispatchRule: { name: 'desk', trunkIds: [ids.b],
		numbers: ['+15550002222'], rule: { dispatchRuleDirect: { roomName: 'lk-trunk-direct' } } } });
	assert.equal(direct.status, 200, JSON.stringify(direct.json));
	assert.equal(direct.json.rule.dispatch_rule_direct.room_name, 'lk-trunk-direct');
	const callee = await sip().createSipDispatchRule({ type: 'callee', roomPrefix: 'desk', randomize: false },
		{ name: 'agents', roomConfig: new RoomConfiguration({ agents: [new RoomAgentDispatch({ agentName: 'helper' })] }) });
	Object.assign(ids, { individual: individual.sipDispatchRuleId, direct: direct.json.sip_dispatch_rule_id, callee: callee.sipDispatchRuleId });
	assert.deepEqual((await sip().listSipDispatchRule()).map((r) => r.sipDispatchRuleId), [ids.individual, ids.direct, ids.callee]);
	// A rule for every trunk (no trunkIds) is listed for each.
	assert.deepEqual((await sip().listSipDispatchRule({ trunkIds: [ids.b] })).map((r) => r.sipDispatchRuleId), [ids.direct, ids.callee]);

	// Replace (the SDK's update).
	const renamed = await sip().updateSipInboundTrunk(ids.b, { name: 'carrier-b2', numbers: ['+15550002222', '+15550003333'], metadata: 'b2' });
	assert.equal(renamed.sipTrunkId, ids.b);
	assert.equal(renamed.name, 'carrier-b2');
	assert.equal((await twirp('GetSIPInboundTrunk', { sipTrunkId: ids.b })).json.trunk.name, 'carrier-b2');
	const moved = await sip().updateSipDispatchRule(ids.individual, { ...individual, metadata: 'rule-meta-2' });
	assert.equal(moved.metadata, 'rule-meta-2');

	// Delete, with the deprecated SIPTrunkInfo answer.
	const extra = await sip().createSipInboundTrunk('extra', ['+15550009999']);
	const gone = await sip().deleteSipTrunk(extra.sipTrunkId);
	assert.equal(gone.sipTrunkId, extra.sipTrunkId);
	const extraRule = await sip().createSipDispatchRule({ type: 'direct', roomName: 'lk-gone' }, { name: 'gone' });
	assert.equal((await sip().deleteSipDispatchRule(extraRule.sipDispatchRuleId)).sipDispatchRuleId, extraRule.sipDispatchRuleId);
	assert.equal((await sip().listSipInboundTrunk()).length, 3);
	assert.equal((await sip().listSipDispatchRule()).length, 3);
});

test('bad input: LiveKit\'s codes and messages, and nothing changes', T, async () => {
	const before = await snapshot();
	const refused = [
		[() => sip().createSipInboundTrunk('open', []), 400, 'invalid_argument', /for security, one of the fields must be set/],
		[() => sip().createSipInboundTrunk('bad-cidr', [], { allowedAddresses: ['not-an-address'] }), 400, 'invalid_argument', /allowed_addresses/],
		[() => sip().createSipOutboundTrunk('no-numbers', 'pstn.example.com', []), 400, 'invalid_argument', /no trunk numbers specified/],
		[() => sip().createSipOutboundTrunk('uri', 'sip:pstn.example.com', ['+15551112222']), 400, 'invalid_argument', /hostname or IP, not SIP URI/],
		[() => sip().createSipOutboundTrunk('no-address', '', ['+15551112222']), 400, 'invalid_argument', /no outbound address specified/],
		[() => sip().createSipDispatchRule({ type: 'direct', roomName: 'bad room!' }, {}), 400, 'invalid_argument', /roomName/],
		[() => sip().deleteSipTrunk('ST_nosuchtrunk'), 404, 'not_found', /^requested sip trunk does not exist$/],
		[() => sip().deleteSipDispatchRule('SDR_nosuchrule'), 404, 'not_found', /^requested sip dispatch rule does not exist$/],
		[() => sip().updateSipInboundTrunk('ST_nosuchtrunk', { numbers: ['+15551112222'] }), 404, 'not_found', /requested sip trunk does not exist/],
		[() => sip().updateSipOutboundTrunk(ids.a, { address: 'x.example.com', numbers: ['+1555'] }), 404, 'not_found', /requested sip trunk does not exist/],
		[() => sip().updateSipDispatchRule('SDR_nosuchrule', { rule: { rule: { case: 'dispatchRuleDirect', value: { roomName: 'x' } } } }), 404, 'not_found', /dispatch rule does not exist/],
	];
	for (const [fn, status, code, message] of refused)
		await assert.rejects(fn(), (e) => e.status === status && e.code === code && message.test(e.message), `${status} ${code} ${message}`);
	// On the wire: a missing rule, a missing trunk, an id set by the caller,
	// the field-by-field update, a token without sip.admin.
	const wire = [
		['CreateSIPDispatchRule', { name: 'x' }, 400, 'invalid_argument', /missing rule/],
		['CreateSIPInboundTrunk', {}, 400, 'invalid_argument', /missing trunk/],
		['CreateSIPInboundTrunk', { trunk: { sipTrunkId: 'ST_mine', numbers: ['+15551112222'] } }, 400, 'invalid_argument', /trunk id must not be set/],
		['CreateSIPInboundTrunk', { trunk: { numbers: '+15551112222' } }, 400, 'invalid_argument', /numbers must be a list/],
		['GetSIPInboundTrunk', { sipTrunkId: ids.out }, 404, 'not_found', /requested sip trunk does not exist/],
		['UpdateSIPInboundTrunk', { sipTrunkId: ids.a, update: { name: 'x' } }, 501, 'unimplemented', /replace/],
	];
	for (const [method, body, status, code, message] of wire) {
		const r = await twirp(method, body);
		assert.equal(r.status, status, `${method} ${JSON.stringify(body)}: ${JSON.stringify(r.json)}`);
		assert.equal(r.json.code, code);
		assert.match(r.json.msg, message);
	}
	// sip.call is not sip.admin: LiveKit answers 401 "permissions denied".
	for (const [method, body] of [['CreateSIPInboundTrunk', { trunk: { numbers: ['+15551112222'] } }], ['ListSIPInboundTrunk', {}], ['DeleteSIPTrunk', { sipTrunkId: ids.a }]]) {
		const r = await twirp(method, body, { call: true });
		assert.equal(r.status, 401, method);
		assert.equal(r.json.code, 'unauthenticated');
		assert.equal(r.json.msg, 'permissions denied');
	}
	assert.equal(await snapshot(), before, 'nothing changed');
});

test('trunks and rules survive a restart', { timeout: 90000 }, async () => {
	const before = await snapshot();
	await janus.stop();
	janus = null;
	janus = await start();
	assert.equal(await snapshot(), before);
});

test('an inbound call to a trunk number lands in the room of the individual rule, with the trunk\'s and rule\'s attributes', T, async () => {
	const peer = await peerAt('127.0.0.17');
	const routed = await metric('switchboard_sip_answered_total');
	const c = await call(peer, '+15550001111');
	assert.equal(c.res?.status, 200, c.res?.first);
	assert.equal(await metric('switchboard_sip_answered_total'), routed + 1);
	const room = await until('the caller\'s room', async () => (await rooms().listRooms()).find((r) => /^call_15005550006_[0-9a-f]{8}$/.test(r.name)));
	const [p] = await rooms().listParticipants(room.name);
	assert.equal(p.kind, KIND_SIP);
	assert.equal(p.identity, 'sip_15005550006');
	assert.equal(p.metadata, 'rule-meta-2');
	assert.equal(p.attributes['sip.trunkID'], ids.a);
	assert.equal(p.attributes['sip.ruleID'], ids.individual);
	assert.equal(p.attributes['sip.trunkPhoneNumber'], '+15550001111');
	assert.equal(p.attributes['sip.phoneNumber'], CALLER);
	assert.equal(p.attributes.team, 'sales');
	await hangUp(peer, c);
});

test('a direct rule routes to its room; a callee rule with roomConfig.agents brings the AGENT in', T, async () => {
	const peer = await peerAt('127.0.0.18');
	const c = await call(peer, '+15550002222');
	assert.equal(c.res?.status, 200, c.res?.first);
	const [p] = await rooms().listParticipants('lk-trunk-direct');
	assert.equal(p.attributes['sip.ruleID'], ids.direct);
	assert.equal(p.attributes['sip.trunkID'], ids.b);
	assert.ok(!(await rooms().listParticipants('lk-trunk-direct')).some((x) => x.kind === KIND_AGENT), 'no agent without roomConfig.agents');
	await hangUp(peer, c);

	// +15550003333 is trunk b's too, but the direct rule takes only
	// +15550002222: the callee rule (for every trunk) takes it.
	const d = await call(peer, '+15550003333');
	assert.equal(d.res?.status, 200, d.res?.first);
	const members = await until('the agent', async () => {
		const list = await rooms().listParticipants('desk_15550003333');
		return list.some((x) => x.kind === KIND_AGENT) && list;
	}, 15000);
	assert.equal(members.find((x) => x.kind === KIND_SIP).attributes['sip.ruleID'], ids.callee);
	await hangUp(peer, d);
});

test('a trunk with authUsername/authPassword asks for the digest', T, async () => {
	const peer = await peerAt('127.0.0.19');
	const challenged = await call(peer, '+15550004444');
	assert.equal(challenged.res?.status, 401);
	const challenge = challenged.res.h('www-authenticate');
	const uri = `sip:+15550004444@127.0.0.1:${SIP_PORT}`;
	const wrong = await call(peer, '+15550004444', { headers: { Authorization: digestAuthorization(challenge, { user: 'pbx', password: 'nope', method: 'INVITE', uri }) } });
	assert.equal(wrong.res?.status, 403);
	const ok = await call(peer, '+15550004444', { headers: { Authorization: digestAuthorization(challenge, { user: 'pbx', password: 'pbx-secret', method: 'INVITE', uri }) } });
	assert.equal(ok.res?.status, 200, ok.res?.first);
	// The callee rule (for every trunk) sends the agent in too: the SIP leg is the caller.
	const phone = (await rooms().listParticipants('desk_15550004444')).find((x) => x.kind === KIND_SIP);
	assert.equal(phone.attributes['sip.trunkID'], ids.c);
	await hangUp(peer, ok);
});

test('an INVITE for no trunk is refused 404; one from outside allowedAddresses 403; neither makes a room', T, async () => {
	const before = await metric('switchboard_sip_rejected_total{reason="route"}');
	const roomsBefore = new Set((await rooms().listRooms()).map((r) => r.name));
	const inside = await peerAt('127.0.0.16');
	const none = await call(inside, '+15558889999');
	assert.equal(none.res?.status, 404);
	assert.match(none.res.h('warning') || '', /Does not match Trunks or Dispatch Rules/);
	const outside = await peerAt('127.0.0.21'); // in [sip] allow, not in the trunk's 127.0.0.16/30
	const refused = await call(outside, '+15550001111');
	assert.equal(refused.res?.status, 403);
	assert.match(refused.res.h('warning') || '', /does not take calls from this caller or source/);
	assert.equal(await metric('switchboard_sip_rejected_total{reason="route"}'), before + 2);
	assert.deepEqual((await rooms().listRooms()).map((r) => r.name).filter((n) => !roomsBefore.has(n)), [], 'no room made');
	// A room an INVITE names and signs still goes first, trunks or not
	// (sip.test.mjs and sip-trust.test.mjs cover that path unchanged).
});

test('createSipParticipant through a stored outbound trunk dials its address from its number; an unknown trunk is not_found', T, async () => {
	await assert.rejects(sip().createSipParticipant('ST_nosuchtrunk', '+14155550100', 'lk-trunk-out'),
		(e) => e.status === 404 && e.code === 'not_found' && e.message === 'requested sip trunk does not exist');
	assert.equal(outInvites.length, 0, 'nothing dialled');
	const info = await sip().createSipParticipant(ids.out, '+14155550100', 'lk-trunk-out', { participantIdentity: 'callee', waitUntilAnswered: true });
	assert.equal(info.roomName, 'lk-trunk-out');
	assert.equal(outInvites.length, 1);
	assert.match(outInvites[0].uri, new RegExp(`^sip:\\+14155550100@127\\.0\\.0\\.1:${OUT_PORT}`));
	assert.match(outInvites[0].h('from'), /sip:\+15557770000@/);
	const [callee] = await rooms().listParticipants('lk-trunk-out');
	assert.equal(callee.identity, 'callee');
	assert.equal(callee.attributes['sip.phoneNumber'], '+14155550100');
	await rooms().removeParticipant('lk-trunk-out', 'callee');
});

test('at most 1,000 dispatch rules: the next is resource_exhausted, counted, and changes nothing', { timeout: 120000 }, async () => {
	const have = (await sip().listSipDispatchRule()).length;
	for (let made = have; made < 1000;) {
		const batch = Math.min(25, 1000 - made);
		await Promise.all(Array.from({ length: batch }, (_, i) =>
			sip().createSipDispatchRule({ type: 'direct', roomName: `lk-many-${made + i}` }, { name: 'many' })));
		made += batch;
	}
	// The series appears with the first refusal.
	const refusals = (await metric('switchboard_limit_refusals_total{limit="sip_objects"}')) || 0;
	await assert.rejects(sip().createSipDispatchRule({ type: 'direct', roomName: 'lk-one-too-many' }, {}),
		(e) => e.status === 429 && e.code === 'resource_exhausted' && /at most 1000/.test(e.message));
	assert.equal(await metric('switchboard_limit_refusals_total{limit="sip_objects"}'), refusals + 1);
	const rules = await sip().listSipDispatchRule();
	assert.equal(rules.length, 1000);
	assert.ok(!rules.some((r) => r.rule.rule.value.roomName === 'lk-one-too-many'));
	// Trunks are counted apart: one more inbound trunk still fits.
	assert.match((await sip().createSipInboundTrunk('still-fits', ['+15550005555'])).sipTrunkId, /^ST_/);
});
