// SIP peers for the tests: a small UDP SIP user agent that plays Twilio's
// trunk side (INVITEs with X-Twilio-* headers, digest challenges, RFC 4733
// and INFO DTMF, re-INVITE hold), speaking RFC 3261 on the wire, and a
// baresip runner (the real softphone) that plays a WAV and records what it
// hears. An INVITE that names a room carries X-Room-Signature, signed here
// the way the plugin signs it (sip/admission.c) with the secret the test's
// config gives it (withSipRoomSecret).
import dgram from 'node:dgram';
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mulawEncode, mulawDecode, rtpPacket, parseRtp, toneFrame } from './audio.mjs';
import { track } from './resources.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const rand = () => randomBytes(6).toString('hex');
const md5 = (s) => createHash('md5').update(s).digest('hex');

// [sip] room_secret of the tests' configs (withSipRoomSecret).
export const SIP_ROOM_SECRET = 'test-sip-room-secret-0123456789abcdef';

const roomMac = (secret, room, expires) => createHmac('sha256', secret).update(`switchboard-sip-room\n${room}\n${expires}`).digest('hex');

// X-Room-Signature for room: "<expires>.<hex HMAC-SHA256>", as the plugin
// makes it (expires: Unix seconds).
export function signRoom(room, { secret = SIP_ROOM_SECRET, ttl = 300, expires } = {}) {
	const exp = expires ?? Math.floor(Date.now() / 1000) + ttl;
	return `${exp}.${roomMac(secret, room, exp)}`;
}

// Whether sig is a signature of room with secret that has not expired.
export function roomSignatureValid(room, sig, { secret = SIP_ROOM_SECRET } = {}) {
	const m = /^(\d+)\.([0-9a-f]{64})$/.exec(sig || '');
	if (!m || Number(m[1]) < Date.now() / 1000) return false;
	return timingSafeEqual(Buffer.from(m[2]), Buffer.from(roomMac(secret, room, m[1])));
}

// The headers that let an INVITE into an existing room: X-Room and its
// signature (a room named by the request-URI needs only the signature).
export const roomHeaders = (room, opts) => ({ 'X-Room': room, 'X-Room-Signature': signRoom(room, opts) });
export const roomSignature = (room, opts) => ({ 'X-Room-Signature': signRoom(room, opts) });

// A URI a softphone dials to enter room: baresip 1.0 leaves a URI's
// ?headers in the request-URI, where the plugin also looks.
export const signedRoomUri = (room, hostPort, params = '') => `sip:${room}@${hostPort}${params}?X-Room-Signature=${signRoom(room)}`;

// A plugin config (text) with [sip] room_secret set to secret.
export function withSipRoomSecret(conf, secret = SIP_ROOM_SECRET) {
	const re = /^(\s*)#?room_secret = "[^"]*"$/m;
	if (!re.test(conf)) throw new Error('no room_secret line in the [sip] section of the config');
	return conf.replace(re, `$1room_secret = "${secret}"`);
}

export function parseSip(text) {
	const split = text.indexOf('\r\n\r\n');
	const head = split >= 0 ? text.slice(0, split) : text;
	const body = split >= 0 ? text.slice(split + 4) : '';
	const lines = head.split('\r\n');
	const first = lines.shift();
	const headers = {};
	const compact = { v: 'via', f: 'from', t: 'to', i: 'call-id', m: 'contact', l: 'content-length', c: 'content-type' };
	for (const l of lines) {
		const i = l.indexOf(':');
		if (i < 0) continue;
		let name = l.slice(0, i).trim().toLowerCase();
		name = compact[name] || name;
		(headers[name] ||= []).push(l.slice(i + 1).trim());
	}
	const m = /^SIP\/2\.0 (\d{3}) (.*)$/.exec(first);
	const msg = { first, headers, body, h: (n) => headers[n.toLowerCase()]?.[0] };
	if (m) { msg.status = Number(m[1]); msg.reason = m[2]; }
	else { const [method, uri] = first.split(' '); msg.method = method; msg.uri = uri; }
	return msg;
}

const tagOf = (v) => /;tag=([^;>\s]+)/.exec(v || '')?.[1];
const uriOf = (v) => /<([^>]+)>/.exec(v || '')?.[1] || (v || '').split(';')[0];

// One UDP SIP user agent. Requests it sends wait for the final response;
// requests it receives go to onRequest (default: 200 OK).
export class SipPeer {
	constructor({ ip = '127.0.0.1', port = 0 } = {}) {
		this.ip = ip;
		this.port = port;
		this.pending = new Map(); // branch -> {resolve, provisional}
		this.received = [];
		this.onRequest = null;
	}

	async start() {
		this.sock = dgram.createSocket('udp4');
		this.sock.on('message', (buf, rinfo) => this.#message(buf.toString(), rinfo));
		this.untrack = track(`SIP peer ${this.ip}:${this.port || '?'}`, () => this.close());
		await new Promise((resolve, reject) => {
			this.sock.once('error', reject);
			this.sock.bind(this.port, this.ip, () => { this.sock.off('error', reject); resolve(); });
		});
		this.port = this.sock.address().port;
		return this;
	}

	// Closes the socket; requests still waiting for an answer get null.
	close() {
		this.untrack?.();
		try { this.sock.close(); } catch { /* closed */ }
		for (const [branch, p] of this.pending) {
			this.pending.delete(branch);
			clearTimeout(p.timer);
			p.resolve(null);
		}
	}

	send(text, port, host = '127.0.0.1') {
		return new Promise((r) => this.sock.send(Buffer.from(text), port, host, r));
	}

	#message(text, rinfo) {
		let msg;
		try { msg = parseSip(text); } catch { return; }
		msg.from = rinfo;
		msg.at = performance.now(); // arrival (monotonic ms)
		if (msg.status) {
			const branch = /branch=([^;\s]+)/.exec(msg.h('via') || '')?.[1];
			const p = this.pending.get(branch);
			if (!p) return;
			if (msg.status < 200) { p.provisional.push(msg); return; }
			this.pending.delete(branch);
			clearTimeout(p.timer);
			p.resolve(msg);
			return;
		}
		this.received.push(msg);
		if (msg.method === 'ACK') return;
		const answer = this.onRequest ? this.onRequest(msg) : { status: 200 };
		if (answer) this.respond(msg, answer.status, answer);
	}

	// Answers a received request.
	respond(req, status, { reason = 'OK', headers = {}, body = '', toTag } = {}) {
		let to = req.h('to');
		if (toTag && !tagOf(to)) to += `;tag=${toTag}`;
		const lines = [`SIP/2.0 ${status} ${reason}`];
		for (const v of req.headers.via) lines.push(`Via: ${v}`);
		lines.push(`From: ${req.h('from')}`, `To: ${to}`, `Call-ID: ${req.h('call-id')}`, `CSeq: ${req.h('cseq')}`,
			`Contact: <sip:peer@${this.ip}:${this.port}>`);
		for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
		if (body) lines.push('Content-Type: application/sdp');
		lines.push(`Content-Length: ${Buffer.byteLength(body)}`, '', body);
		return this.send(lines.join('\r\n'), req.from.port, req.from.address);
	}

	// Sends a request and resolves with the final response (or null on timeout).
	request(method, uri, { callId, cseq = 1, fromTag, toTag, to, headers = {}, body = '', contentType = 'application/sdp', target, timeoutMs = 8000 } = {}) {
		const branch = `z9hG4bK${rand()}`;
		const lines = [`${method} ${uri} SIP/2.0`,
			`Via: SIP/2.0/UDP ${this.ip}:${this.port};branch=${branch};rport`,
			'Max-Forwards: 70',
			`From: <sip:+15005550006@${this.ip}>;tag=${fromTag}`,
			`To: ${to || `<${uri}>`}${toTag ? `;tag=${toTag}` : ''}`,
			`Call-ID: ${callId}`, `CSeq: ${cseq} ${method === 'ACK' ? 'ACK' : method}`,
			`Contact: <sip:caller@${this.ip}:${this.port}>`];
		for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
		if (body) lines.push(`Content-Type: ${contentType}`);
		lines.push(`Content-Length: ${Buffer.byteLength(body)}`, '', body);
		const [host, port] = (target || '127.0.0.1:5060').split(':');
		if (method === 'ACK') return this.send(lines.join('\r\n'), Number(port), host);
		return new Promise((resolve) => {
			const entry = { resolve, provisional: [] };
			this.pending.set(branch, entry);
			entry.timer = setTimeout(() => { if (this.pending.delete(branch)) resolve(null); }, timeoutMs);
			this.send(lines.join('\r\n'), Number(port), host);
		});
	}
}

// An SDP offer; with crypto (a master key, base64), SDES-SRTP (RTP/SAVP).
export function sdpOffer({ ip = '127.0.0.1', port, codecs = [[0, 'PCMU/8000']], dtmf = 101, direction = 'sendrecv', version = 1, crypto }) {
	const pts = codecs.map(([pt]) => pt).concat(dtmf ? [dtmf] : []);
	return ['v=0', `o=- 1 ${version} IN IP4 ${ip}`, 's=trunk', `c=IN IP4 ${ip}`, 't=0 0',
		`m=audio ${port} ${crypto ? 'RTP/SAVP' : 'RTP/AVP'} ${pts.join(' ')}`,
		...(crypto ? [`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${crypto}`] : []),
		...codecs.map(([pt, name]) => `a=rtpmap:${pt} ${name}`),
		...(dtmf ? [`a=rtpmap:${dtmf} telephone-event/8000`, `a=fmtp:${dtmf} 0-16`] : []),
		'a=ptime:20', `a=${direction}`, ''].join('\r\n');
}

export function sdpMedia(body) {
	const ip = /c=IN IP4 (\S+)/.exec(body)?.[1];
	const m = /m=audio (\d+) \S+ ([\d ]+)/.exec(body);
	const dtmf = /a=rtpmap:(\d+) telephone-event\/8000/.exec(body)?.[1];
	return { ip, port: m ? Number(m[1]) : 0, pts: m ? m[2].trim().split(' ').map(Number) : [], dtmf: dtmf ? Number(dtmf) : 0,
		direction: /a=(sendrecv|sendonly|recvonly|inactive)/.exec(body)?.[1] };
}

// A PCMU media leg: sends a tone (or silence), keeps what arrives. With
// srtp (an SrtpContext of tests/lib/srtp.mjs) what it sends is SRTP.
export class RtpLeg {
	async start(ip = '127.0.0.1', { srtp = null } = {}) {
		this.sock = dgram.createSocket('udp4');
		this.packets = [];
		this.srtp = srtp;
		this.sock.on('message', (b, from) => {
			const p = parseRtp(b);
			if (p) this.packets.push(Object.assign(p, { raw: b, from }));
		});
		this.untrack = track('RTP leg', () => this.close());
		await new Promise((r) => this.sock.bind(0, ip, r));
		this.port = this.sock.address().port;
		this.seq = 1; this.ts = 0; this.ssrc = 0x1234abcd;
		return this;
	}

	// Sends ms of a tone (freq 0: silence) in real time to host:port.
	async play(host, port, freq, ms, pt = 0) {
		const frames = Math.round(ms / 20);
		const t0 = Date.now();
		for (let i = 0; i < frames && !this.closed; i++) {
			const pcm = freq ? toneFrame(freq, i) : new Int16Array(160);
			const payload = Buffer.from(Array.from(pcm, mulawEncode));
			this.send(rtpPacket({ pt, seq: this.seq++ & 0xffff, ts: (this.ts += 160) >>> 0, ssrc: this.ssrc, payload }), port, host);
			const wait = t0 + (i + 1) * 20 - Date.now();
			if (wait > 0) await sleep(wait);
		}
	}

	// One RFC 4733 digit: 5 packets and 3 End packets, one timestamp.
	async sendDigit(host, port, digit, pt = 101) {
		const ev = '0123456789*#ABCD'.indexOf(digit);
		const ts = (this.ts += 160) >>> 0;
		for (let i = 0; i < 8 && !this.closed; i++) {
			const end = i >= 5;
			const dur = 160 * Math.min(i + 1, 5);
			const payload = Buffer.from([ev, (end ? 0x80 : 0) | 10, dur >> 8, dur & 0xff]);
			this.send(rtpPacket({ pt, seq: this.seq++ & 0xffff, ts, ssrc: this.ssrc, payload, marker: i === 0 }), port, host);
			await sleep(20);
		}
	}

	// One RTP packet as it is (SRTP-protected on an SRTP leg).
	send(packet, port, host) {
		this.sock.send(this.srtp ? this.srtp.protect(packet) : packet, port, host);
	}

	// PCM of the packets with payload type pt that arrived since index from.
	pcm(from = 0, pt = 0) {
		const out = [];
		for (const p of this.packets.slice(from)) if (p.pt === pt) for (const b of p.payload) out.push(mulawDecode(b));
		return Int16Array.from(out);
	}

	close() {
		this.closed = true;
		this.untrack?.();
		try { this.sock.close(); } catch { /* closed */ }
	}
}

// An inbound call from the "trunk": INVITE, ACK; returns the dialog.
// uriHeaders: headers carried in the request-URI (?name=value&…), the
// way baresip sends a dialled URI's headers; crypto: an SRTP master key.
export async function placeCall(peer, { sipPort, user = 'demo', headers = {}, uriHeaders = {}, rtpPort, sdp, codecs, direction, crypto }) {
	const callId = `${rand()}@trunk`;
	const fromTag = rand();
	const query = Object.entries(uriHeaders).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
	const uri = `sip:${user}@127.0.0.1:${sipPort}${query ? `?${query}` : ''}`;
	const body = sdp ?? sdpOffer({ port: rtpPort, codecs, direction, crypto });
	const res = await peer.request('INVITE', uri, { callId, fromTag, headers, body, target: `127.0.0.1:${sipPort}` });
	const dialog = { callId, fromTag, uri, res, cseq: 1, sipPort, toTag: res ? tagOf(res.h('to')) : null };
	// Through a proxy that record-routes (the cluster's SIP edge), requests
	// in the dialog go by its Route to the far end's Contact (RFC 3261 12.1.2).
	const recordRoute = res?.status < 300 ? res.h('record-route') : null;
	if (recordRoute) {
		dialog.route = recordRoute;
		dialog.remoteTarget = uriOf(res.h('contact'));
	}
	if (res && res.status >= 200) {
		// ACK for every final response (RFC 3261 17.1.1.3 for errors, 13.2.2.4 for 2xx).
		await peer.request('ACK', res.status < 300 ? uriOf(res.h('contact')) : uri,
			{ callId, fromTag, toTag: dialog.toTag, to: `<${uri}>`, cseq: 1, target: `127.0.0.1:${sipPort}`,
				headers: recordRoute ? { Route: recordRoute } : {} });
	}
	if (res?.status === 200) dialog.media = sdpMedia(res.body);
	return dialog;
}

export async function inDialog(peer, dialog, method, opts = {}) {
	dialog.cseq += 1;
	const routed = dialog.route ? { headers: { Route: dialog.route, ...(opts.headers || {}) } } : {};
	return peer.request(method, dialog.remoteTarget || `sip:demo@127.0.0.1:${dialog.sipPort}`, {
		callId: dialog.callId, fromTag: dialog.fromTag, toTag: dialog.toTag, to: `<${dialog.uri}>`,
		cseq: dialog.cseq, target: `127.0.0.1:${dialog.sipPort}`, ...opts, ...routed,
	});
}

// The digest a phone computes for a challenge.
export function digestAuthorization(challenge, { user, password, method, uri }) {
	const realm = /realm="([^"]+)"/.exec(challenge)[1];
	const nonce = /nonce="([^"]+)"/.exec(challenge)[1];
	const qop = /qop="?auth/.test(challenge);
	const cnonce = rand(), nc = '00000001';
	const ha1 = md5(`${user}:${realm}:${password}`), ha2 = md5(`${method}:${uri}`);
	const response = qop ? md5(`${ha1}:${nonce}:${nc}:${cnonce}:auth:${ha2}`) : md5(`${ha1}:${nonce}:${ha2}`);
	return `Digest username="${user}", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=MD5` +
		(qop ? `, qop=auth, nc=${nc}, cnonce="${cnonce}"` : '');
}

export function checkDigest(header, { user, password, realm, nonce, method }) {
	const get = (n) => new RegExp(`${n}="?([^",]+)"?`).exec(header)?.[1];
	if (get('username') !== user || get('realm') !== realm || get('nonce') !== nonce) return false;
	const ha1 = md5(`${user}:${realm}:${password}`), ha2 = md5(`${method}:${get('uri')}`);
	const qop = get('qop');
	const expected = qop ? md5(`${ha1}:${nonce}:${get('nc')}:${get('cnonce')}:${qop}:${ha2}`) : md5(`${ha1}:${nonce}:${ha2}`);
	return expected === get('response');
}

// baresip as a softphone: plays wav (16-bit mono at the codec's rate, or
// silence) and dumps what it hears to dir/dump-*-dec.wav.
export async function startBaresip({ port, wav, codecs = 'PCMU', autoAnswer = false, dial, user = 'caller', srtp = false, auth = null }) {
	const dir = mkdtempSync(join(tmpdir(), 'sb-baresip-'));
	writeFileSync(join(dir, 'config'), [
		'poll_method epoll', `sip_listen 127.0.0.1:${port}`,
		'audio_player aubridge,nil', `audio_source ${wav ? `aufile,${wav}` : 'aubridge,nil'}`, 'audio_alert aubridge,nil',
		'module_path /usr/lib/baresip/modules', 'module g711.so', 'module g722.so', 'module aufile.so',
		'module aubridge.so', 'module sndfile.so', 'module stdio.so', ...(srtp ? ['module srtp.so'] : []),
		'module_app account.so', 'module_app menu.so',
		`snd_path ${dir}`, 'sip_trans_def udp', ''].join('\n'));
	writeFileSync(join(dir, 'accounts'),
		`<sip:${user}@127.0.0.1:${port}>;regint=0;audio_codecs=${codecs}${autoAnswer ? ';answermode=auto' : ''}${srtp ? ';mediaenc=srtp-mand' : ''}${auth ? `;auth_user=${auth.user};auth_pass=${auth.password}` : ''}\n`);
	const args = ['-f', dir];
	if (dial) args.push('-e', `/dial ${dial}`);
	const child = spawn('baresip', args, { stdio: ['pipe', 'pipe', 'pipe'] });
	let output = '';
	child.stdout.on('data', (d) => { output += d.toString(); });
	child.stderr.on('data', (d) => { output += d.toString(); });
	child.stdin.on('error', () => { /* baresip gone: nothing to type to */ });
	let exited = false;
	const exit = new Promise((resolve) => child.on('exit', () => { exited = true; resolve(); }));
	child.on('error', (e) => { output += `\nspawn error: ${e.message}\n`; exited = true; });
	let stopping = null;
	// SIGTERM (baresip hangs up and finishes its WAV dumps), SIGKILL after
	// 3 s; resolves once it has exited. Idempotent.
	const stop = () => {
		stopping ??= (async () => {
			untrack();
			if (!exited && child.exitCode === null) {
				child.kill('SIGTERM');
				let timer;
				const gone = await Promise.race([exit.then(() => true), new Promise((r) => { timer = setTimeout(() => r(false), 3000); })]);
				clearTimeout(timer);
				if (!gone) { child.kill('SIGKILL'); await exit; }
			}
			child.stdin.destroy();
		})();
		return stopping;
	};
	const untrack = track(`baresip (pid ${child.pid}, port ${port})`, stop);
	await sleep(300);
	return {
		dir, child, output: () => output,
		keys: (s) => child.stdin.write(s),
		async waitFor(re, ms = 10000) {
			const end = Date.now() + ms;
			while (!re.test(output)) {
				if (Date.now() > end || exited) throw new Error(`baresip: no ${re} in:\n${output.slice(-3000)}`);
				await sleep(50);
			}
		},
		recordings: () => readdirSync(dir).filter((f) => f.endsWith('-dec.wav')).map((f) => join(dir, f)),
		stop,
	};
}

// 16-bit mono PCM of a WAV file (the data chunk).
export function readWavPcm(path) {
	const buf = readFileSync(path);
	let off = 12;
	let rate = 8000;
	while (off + 8 <= buf.length) {
		const id = buf.toString('ascii', off, off + 4), size = buf.readUInt32LE(off + 4);
		if (id === 'fmt ') rate = buf.readUInt32LE(off + 12);
		if (id === 'data') {
			const end = Math.min(buf.length, off + 8 + size);
			return { rate, pcm: new Int16Array(buf.buffer.slice(buf.byteOffset + off + 8, buf.byteOffset + end - ((end - off - 8) % 2))) };
		}
		off += 8 + size + (size % 2);
	}
	return { rate, pcm: new Int16Array(0) };
}
