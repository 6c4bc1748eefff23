#!/usr/bin/env node
// Tiny dependency-free static server for the Switchboard pages: serves html/
// and Debian's janus.js on 127.0.0.1. Temporary: a later issue moves the pages
// into the plugin's own HTTP server (port 8080 by design).
//
//   node scripts/static-server.mjs            # http://127.0.0.1:8080/
//   SWITCHBOARD_HTTP_PORT=0 node scripts/...  # any free port (printed)
//
// Environment:
//   SWITCHBOARD_HTTP_PORT  port (default 8080; 0 picks a free one)
//   SWITCHBOARD_HTML_DIR   folder to serve (default: <repo>/html)
//   JANUS_JS_PATH          janus.js to serve as /janus.js (default: Debian's)
import { createServer } from 'node:http';
import { createReadStream, promises as fs } from 'node:fs';
import { join, resolve, sep, extname, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const htmlDir = resolve(process.env.SWITCHBOARD_HTML_DIR || join(repoRoot, 'html'));
const janusJs = process.env.JANUS_JS_PATH || '/usr/share/javascript/janus-gateway/janus.js';
const port = Number(process.env.SWITCHBOARD_HTTP_PORT ?? 8080);
const host = '127.0.0.1';

const TYPES = {
	'.html': 'text/html; charset=utf-8',
	'.js': 'text/javascript; charset=utf-8',
	'.mjs': 'text/javascript; charset=utf-8',
	'.css': 'text/css; charset=utf-8',
	'.json': 'application/json; charset=utf-8',
	'.svg': 'image/svg+xml',
	'.png': 'image/png',
	'.ico': 'image/x-icon',
	'.wav': 'audio/wav',
	'.txt': 'text/plain; charset=utf-8',
};

function send(res, status, text) {
	res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
	res.end(text);
}

// Maps a request path to a file inside htmlDir, or null. Decodes first, then
// rejects anything that could climb out (.., NUL, backslashes), and finally
// checks the resolved path is still below htmlDir — belt and braces.
function fileFor(urlPath) {
	let path;
	try {
		path = decodeURIComponent(urlPath);
	} catch {
		return null;
	}
	if (path.includes('\0') || path.includes('\\')) return null;
	if (path.split('/').some((part) => part === '..')) return null;
	if (path.endsWith('/')) path += 'index.html';
	const file = resolve(htmlDir, '.' + path);
	if (file !== htmlDir && !file.startsWith(htmlDir + sep)) return null;
	return file;
}

async function serveFile(req, res, file) {
	let st;
	try {
		st = await fs.stat(file);
	} catch {
		return send(res, 404, 'not found\n');
	}
	// Directories are not listed: only their index.html, reached with a slash.
	if (!st.isFile()) return send(res, 404, 'not found\n');
	res.writeHead(200, {
		'content-type': TYPES[extname(file).toLowerCase()] || 'application/octet-stream',
		'content-length': st.size,
		// Pages change while developing; never let a stale copy be used.
		'cache-control': 'no-cache',
		'x-content-type-options': 'nosniff',
	});
	if (req.method === 'HEAD') return res.end();
	createReadStream(file).on('error', () => res.destroy()).pipe(res);
}

const server = createServer((req, res) => {
	if (req.method !== 'GET' && req.method !== 'HEAD') {
		res.setHeader('allow', 'GET, HEAD');
		return send(res, 405, 'method not allowed\n');
	}
	// Only origin-form targets ("/path?query"); anything else is refused.
	if (!req.url.startsWith('/')) return send(res, 400, 'bad request\n');
	const urlPath = req.url.split('?')[0].split('#')[0];
	if (urlPath === '/janus.js') return serveFile(req, res, janusJs);
	const file = fileFor(urlPath);
	if (!file) return send(res, 404, 'not found\n');
	return serveFile(req, res, file);
});

server.listen(port, host, () => {
	console.log(`pages on http://${host}:${server.address().port}/`);
});

// Stop cleanly when the test runner (or Ctrl-C) asks.
// Keep-alive connections would hold close() open, so drop them too.
for (const sig of ['SIGINT', 'SIGTERM']) {
	process.on(sig, () => {
		server.close(() => process.exit(0));
		server.closeAllConnections();
	});
}
