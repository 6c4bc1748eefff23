// scripts/static-server.mjs: serves html/ and /janus.js, nothing else.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../lib/janus.mjs';

let server;
let base;

// Starts the server on a free port and reads the port from its one line.
before(async () => {
	server = spawn(process.execPath, [join(repoRoot, 'scripts', 'static-server.mjs')], {
		env: { ...process.env, SWITCHBOARD_HTTP_PORT: '0' },
		stdio: ['ignore', 'pipe', 'inherit'],
	});
	base = await new Promise((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error('static server did not start in 5 s')), 5000);
		let out = '';
		server.stdout.on('data', (d) => {
			out += d;
			const m = out.match(/^pages on (http:\/\/127\.0\.0\.1:\d+)\/$/m);
			if (m) { clearTimeout(timer); resolve(m[1]); }
		});
		server.on('exit', (code) => { clearTimeout(timer); reject(new Error(`static server exited (${code})`)); });
	});
});

after(async () => {
	if (server && server.exitCode === null) {
		const exited = new Promise((r) => server.once('exit', r));
		server.kill('SIGTERM');
		await exited;
	}
});

// Sends a request byte for byte (fetch and URL would normalise "/../").
function rawGet(path) {
	const { hostname, port } = new URL(base);
	return new Promise((resolve, reject) => {
		const sock = connect(Number(port), hostname);
		let data = '';
		sock.setTimeout(5000, () => { sock.destroy(); reject(new Error(`timeout on ${path}`)); });
		sock.on('connect', () => sock.write(`GET ${path} HTTP/1.1\r\nHost: ${hostname}\r\nConnection: close\r\n\r\n`));
		sock.on('data', (d) => { data += d; });
		sock.on('end', () => resolve({ status: Number(data.split(' ')[1]), text: data }));
		sock.on('error', reject);
	});
}

test('prints the documented line and serves index.html at / and /index.html', async () => {
	const index = readFileSync(join(repoRoot, 'html', 'index.html'), 'utf8');
	for (const path of ['/', '/index.html', '/index.html?room=demo']) {
		const res = await fetch(base + path);
		assert.equal(res.status, 200, path);
		assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8', path);
		assert.equal(await res.text(), index, path);
	}
});

test('serves the page script and style with their content types', async () => {
	const js = await fetch(`${base}/switchboard-call.js`);
	assert.equal(js.status, 200);
	assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
	const css = await fetch(`${base}/style.css`);
	assert.equal(css.status, 200);
	assert.equal(css.headers.get('content-type'), 'text/css; charset=utf-8');
});

test('serves Debian\'s janus.js as /janus.js', async () => {
	const res = await fetch(`${base}/janus.js`);
	assert.equal(res.status, 200);
	assert.equal(res.headers.get('content-type'), 'text/javascript; charset=utf-8');
	const body = await res.text();
	assert.equal(body, readFileSync('/usr/share/javascript/janus-gateway/janus.js', 'utf8'));
	assert.match(body, /Janus\.init/);
});

test('answers 404 for unknown paths and directories without a slash', async () => {
	for (const path of ['/nope.html', '/janus.min.js', '/html/index.html', '/index.html/', '/%zz']) {
		const res = await fetch(base + path);
		assert.equal(res.status, 404, path);
		await res.arrayBuffer();
	}
});

test('refuses methods other than GET and HEAD', async () => {
	const res = await fetch(`${base}/index.html`, { method: 'POST', body: 'x' });
	assert.equal(res.status, 405);
	const head = await fetch(`${base}/index.html`, { method: 'HEAD' });
	assert.equal(head.status, 200);
});

test('refuses directory traversal, plain and encoded', async () => {
	// package.json sits right above html/: a traversal bug would serve it.
	const secret = readFileSync(join(repoRoot, 'package.json'), 'utf8').split('\n')[1];
	const attempts = [
		'/../package.json',
		'/../../../../etc/passwd',
		'/%2e%2e/package.json',
		'/%2E%2E/package.json',
		'/%2e%2e%2fpackage.json',
		'/..%2fpackage.json',
		'/..%5cpackage.json',
		'/.%2e/package.json',
		'/foo/../../package.json',
		'/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
		'/index.html%00.css',
		'//etc/passwd',
		'../package.json',
		'http://127.0.0.1/../package.json',
	];
	for (const path of attempts) {
		const res = await rawGet(path);
		assert.ok(res.status === 404 || res.status === 400, `${path} → ${res.status}`);
		assert.ok(!res.text.includes(secret), `${path} leaked package.json`);
		assert.ok(!res.text.includes('root:'), `${path} leaked /etc/passwd`);
	}
});
