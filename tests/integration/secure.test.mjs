// HTTPS on the plugin's HTTP server (cert/key from config) and a Janus
// API secret in the private instance.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import https from 'node:https';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startJanus, repoRoot, API_PORT, HTTP_URL, API_KEY } from '../lib/janus.mjs';

let janus;
const API_SECRET = 'janus-api-secret-for-tests';
const T = { timeout: 30000 }; // a few requests each

before(async () => {
	const dir = mkdtempSync(join(tmpdir(), 'sb-tls-'));
	const cert = join(dir, 'cert.pem'), key = join(dir, 'key.pem');
	execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1',
		'-subj', '/CN=127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore', timeout: 60000 });
	const conf = readFileSync(join(repoRoot, 'conf', 'janus.plugin.switchboard.jcfg'), 'utf8')
		.replace('#cert_pem = "/path/to/cert.pem"', `cert_pem = "${cert}"`)
		.replace('#cert_key = "/path/to/key.pem"', `cert_key = "${key}"`);
	assert.match(conf, /cert_pem = "\//);
	janus = await startJanus({ pluginConfig: conf, env: { JANUS_API_SECRET: API_SECRET } });
}, { timeout: 90000 });
after(async () => { if (janus) await janus.stop(); });

function httpsGet(path, headers = {}) {
	return new Promise((resolve, reject) => {
		const req = https.get({ host: '127.0.0.1', port: API_PORT, path, headers, rejectUnauthorized: false }, (res) => {
			let body = '';
			res.on('data', (d) => { body += d; });
			res.on('end', () => resolve({ status: res.statusCode, body }));
		});
		req.on('error', reject);
		req.setTimeout(5000, () => req.destroy(new Error('timeout')));
	});
}

test('the REST server speaks HTTPS with the configured certificate', T, async () => {
	const health = await httpsGet('/health');
	assert.equal(health.status, 200);
	assert.equal(JSON.parse(health.body).status, 'ok');
	const rooms = await httpsGet('/rooms', { authorization: `Bearer ${API_KEY}` });
	assert.equal(rooms.status, 200);
	assert.equal((await httpsGet('/rooms')).status, 401);
	// Plain HTTP on the same port gets nothing useful.
	await assert.rejects(fetch(`http://127.0.0.1:${API_PORT}/health`).then((r) => r.json()));
});

test('the Janus API needs the API secret when one is configured', T, async () => {
	const post = (body) => fetch(HTTP_URL, { method: 'POST', body: JSON.stringify(body) }).then((r) => r.json());
	const refused = await post({ janus: 'create', transaction: 'a' });
	assert.equal(refused.janus, 'error');
	assert.equal(refused.error.code, 403);
	const ok = await post({ janus: 'create', transaction: 'b', apisecret: API_SECRET });
	assert.equal(ok.janus, 'success', JSON.stringify(ok));
});
