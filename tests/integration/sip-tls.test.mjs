// The SIP bridge over TLS (a certificate in [sip] cert_dir), and digest
// authentication of inbound calls from a PBX.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startJanus, repoRoot, SIP_PORT } from '../lib/janus.mjs';
import { openNotifications } from '../lib/notifications.mjs';
import { SipPeer, RtpLeg, placeCall, inDialog, startBaresip, digestAuthorization, withSipRoomSecret, roomSignature, signedRoomUri } from '../lib/sip.mjs';

const TLS_PORT = SIP_PORT + 1;
const pbx = { user: 'pbx', password: 'pbx-secret-1' };
let janus, notes;
// A few calls each (~1 s; baresip over TLS up to 20 s when slow).
const T = { timeout: 60000 };

before(async () => {
	const dir = mkdtempSync(join(tmpdir(), 'sb-sip-tls-'));
	execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
		'-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore', timeout: 60000 });
	writeFileSync(join(dir, 'agent.pem'), readFileSync(join(dir, 'key.pem'), 'utf8') + readFileSync(join(dir, 'cert.pem'), 'utf8'));
	writeFileSync(join(dir, 'cafile.pem'), readFileSync(join(dir, 'cert.pem')));
	const conf = withSipRoomSecret(readFileSync(join(repoRoot, 'conf', 'janus.plugin.switchboard.jcfg'), 'utf8'))
		.replace('#tls_port = "5061"', `tls_port = "${TLS_PORT}"`)
		.replace('#cert_dir = "/etc/switchboard/sip-tls"', `cert_dir = "${dir}"`)
		.replace('#auth_user = "pbx"', `auth_user = "${pbx.user}"`)
		.replace('#auth_password = "change-me"', `auth_password = "${pbx.password}"`)
		.replace('auto_join = ["phone", "whatsapp"]', 'auto_join = []');
	assert.match(conf, /cert_dir = "\//);
	janus = await startJanus({ pluginConfig: conf });
	notes = await openNotifications();
}, { timeout: 90000 });
after(async () => { notes?.close(); if (janus) await janus.stop(); });

test('inbound calls must answer a digest challenge; wrong credentials get 403', T, async () => {
	const peer = await new SipPeer().start();
	const leg = await new RtpLeg().start();
	try {
		await digest(peer, leg);
	} finally {
		peer.close();
		leg.close();
	}
});

async function digest(peer, leg) {
	const signed = roomSignature('demo');
	const first = await placeCall(peer, { sipPort: SIP_PORT, user: 'demo', rtpPort: leg.port, headers: signed });
	assert.equal(first.res?.status, 401);
	const challenge = first.res.h('www-authenticate');
	assert.match(challenge, /^Digest realm="switchboard", nonce="[^"]+"/);
	const uri = `sip:demo@127.0.0.1:${SIP_PORT}`;
	const wrong = await placeCall(peer, { sipPort: SIP_PORT, user: 'demo', rtpPort: leg.port,
		headers: { ...signed, Authorization: digestAuthorization(challenge, { user: pbx.user, password: 'guess', method: 'INVITE', uri }) } });
	assert.equal(wrong.res?.status, 403);
	const right = await placeCall(peer, { sipPort: SIP_PORT, user: 'demo', rtpPort: leg.port,
		headers: { ...signed, Authorization: digestAuthorization(challenge, { ...pbx, method: 'INVITE', uri }) } });
	assert.equal(right.res?.status, 200, right.res?.first);
	assert.equal((await inDialog(peer, right, 'BYE'))?.status, 200);
}

test('a softphone calls in over TLS and answers the digest challenge', T, async () => {
	const phone = await startBaresip({ port: SIP_PORT + 31, codecs: 'PCMU', dial: signedRoomUri('demo', `127.0.0.1:${TLS_PORT}`, ';transport=tls'), auth: pbx });
	try {
		const joined = await notes.until('sip over tls', () => notes.events.find((e) => e.type === 'participant_joined' && e.participant.kind === 'sip' && e.participant.info?.transport === 'tls'), 20000)
			.catch((e) => { throw new Error(`${e.message.slice(0, 300)}\nbaresip: ${phone.output().slice(-1500)}`); });
		assert.equal(joined.room, 'demo');
	} finally {
		await phone.stop();
	}
});
