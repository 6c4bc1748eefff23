// Shared by the agent's tool tests (agent-tools, agent-mcp): a phone-like
// RTP caller in a room whose agent asks a stand-in model, an OpenAI-wire
// stand-in that asks for the tools of a scenario named in the persona, and
// the helpers that read what the model was asked and told.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import dgram from 'node:dgram';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rest } from '../lib/notifications.mjs';
import { adminRequest } from '../lib/janus.mjs';
import { mulawEncode, rtpPacket } from '../lib/audio.mjs';
import { sse, openaiChunks } from './providers-lib.mjs';

const TOOL = { timeout: 60000 }; // execFileSync blocks the event loop

// espeak-ng speech as 8 kHz s16le samples (files in dir).
export function speech8k(dir, name, text, speed = 150) {
	const wav = join(dir, `${name}.wav`);
	execFileSync('espeak-ng', ['-v', 'en-us', '-s', String(speed), '-w', wav, text], TOOL);
	execFileSync('sox', [wav, '-r', '8000', '-c', '1', '-b', '16', join(dir, `${name}8.wav`)], TOOL);
	return readFileSync(join(dir, `${name}8.wav`)).subarray(44);
}

// A phone-like caller in a room whose agent has `agent` config; it says
// `speech` once the greeting is over and hangs up (the room closes) when
// `done(inRoom, speakAgain)` resolves.  Returns what done returned.
export async function callAgent(notes, room, agent, speech, done) {
	const r = await rest('POST', '/room/create', { roomName: room, agent });
	assert.equal(r.status, 201, JSON.stringify(r.json));
	const sock = dgram.createSocket('udp4');
	let timer;
	try {
		await new Promise((res) => sock.bind(0, '127.0.0.1', res));
		const joined = await adminRequest({ request: 'rtp_join', room, ip: '127.0.0.1', port: sock.address().port, codec: 'pcmu', display: 'Caller' });
		let seq = 0, offset = -1;
		timer = setInterval(() => {
			const f = new Uint8Array(160).fill(0xff);
			if (offset >= 0 && offset + 320 <= speech.length) {
				for (let i = 0; i < 160; i++) f[i] = mulawEncode(speech.readInt16LE(offset + 2 * i));
				offset += 320;
			}
			sock.send(rtpPacket({ pt: 0, seq: seq++, ts: seq * 160, ssrc: 9, payload: f }), joined.port, joined.ip);
		}, 20);
		await notes.until('the greeting', () => notes.events.find((e) => e.room === room && e.type === 'agent_state' && e.state === 'listening'), 30000);
		offset = 0;
		return await done((e) => e.room === room, () => { offset = 0; });
	} finally {
		clearInterval(timer);
		sock.close();
		const gone = await rest('DELETE', `/rooms/${room}`);
		assert.ok([200, 204, 404].includes(gone.status), `DELETE /rooms/${room}: ${gone.status}`);
	}
}

export const agentLine = (inRoom, pattern) => (e) => inRoom(e) && e.type === 'transcript' && e.final && e.speaker !== 'Caller' && pattern.test(e.text);
// A loaded machine may hear the question as two turns, the second cutting
// the first off (its calls cancelled): what counts is what was answered.
export const toolEvents = (notes, inRoom) => notes.events.filter((e) => inRoom(e) && e.type === 'agent_tool' && e.status !== 'cancelled');

// The model's requests of a scenario: the one that asked for tools, and the
// one given their results.
export function asksOf(model, scenario, system = (b) => b.messages[0].content) {
	const asks = model.requests.map((r) => JSON.parse(r.body.toString())).filter((b) => system(b).includes(`Scenario: ${scenario}`));
	const last = (b) => b.messages.at(-1);
	const answered = asks.findLast((b) => last(b).role === 'tool' || (Array.isArray(last(b).content) && last(b).content.some((x) => x.type === 'tool_result')));
	assert.ok(answered, `the model was given the results: ${JSON.stringify(asks).slice(0, 2000)}`);
	return [asks[asks.indexOf(answered) - 1], answered];
}
// The results given to an OpenAI model: the messages after its tool calls.
export const resultsOf = (ask) => ask.messages.slice(ask.messages.findLastIndex((m) => m.tool_calls) + 1);

export const scenarioOf = (system) => /Scenario: (\w+)/.exec(system || '')?.[1];

// An OpenAI-wire model (a stub handler): asked by a caller, it calls the
// tools scenarios[scenario] lists, streamed the way OpenAI does; given
// their results, it says answerFrom([{name, content}]).  listenAfter: the
// scenarios that, once they called tools in a turn, just listen.
export function openaiToolModel(scenarios, answerFrom, listenAfter = []) {
	return async (req, res, body) => {
		const q = JSON.parse(body.toString());
		const last = q.messages.at(-1);
		if (last.role === 'tool') {
			const asked = q.messages.findLast((m) => m.tool_calls).tool_calls;
			const results = q.messages.filter((m) => m.role === 'tool').slice(-asked.length)
				.map((m) => ({ name: asked.find((a) => a.id === m.tool_call_id).function.name, content: m.content }));
			return sse(res, openaiChunks([answerFrom(results)]));
		}
		const scenario = scenarioOf(q.messages[0].content);
		if (listenAfter.includes(scenario) && q.messages.some((m) => m.tool_calls)) return sse(res, openaiChunks(['Okay.']));
		const calls = scenarios[scenario] || [];
		// The id and name first, the arguments in pieces.
		const toolCalls = [];
		calls.forEach((c, index) => {
			const args = JSON.stringify(c.arguments);
			toolCalls.push({ index, id: `call_${index}_${crypto.randomBytes(4).toString('hex')}`, type: 'function', function: { name: c.name, arguments: '' } });
			for (let i = 0; i < args.length; i += 5) toolCalls.push({ index, function: { arguments: args.slice(i, i + 5) } });
		});
		return sse(res, openaiChunks([], { toolCalls }));
	};
}
