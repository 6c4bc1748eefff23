// The Debian package (debian/, README "Installing from the package"):
// built from a copy of this tree with dpkg-buildpackage, installed with
// dpkg -i next to Debian's janus, it puts the plugin where that janus looks
// for plugins, its config in /etc/janus (a conffile) and the pages and
// knowledge base in /usr/share/switchboard; the .so names no path of the
// tree it was built from; the stock /usr/bin/janus, on loopback ports of
// this test's own, loads it, and the plugin serves /health, the installed
// pages and the installed knowledge base. Purged afterwards.
//
// Needs root and a Debian machine (scripts/deps.sh installs the build
// dependencies). The build compiles the plugin once more: minutes, hence
// the guard below (scripts/test.sh reads it).
// file-guard-s: 1200
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, createWriteStream, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, basename, relative } from 'node:path';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { repoRoot } from '../lib/janus.mjs';
import { track } from '../lib/resources.mjs';

const BUILD_MS = 15 * 60_000; // a 2-core machine under load: ~2-4 min, with margin
const T = { timeout: 30_000 };
const JANUS_T = { timeout: 120_000 };
// Ports of this test's own Janus, apart from the private Janus's defaults
// (8088, 7088, 8188, 8080, 5060) and the benchmarks' (47000-47999).
const JANUS_HTTP_PORT = 18388;
const JANUS_ADMIN_PORT = 17388;
const SB_HTTP_PORT = 18380;
const SB_SIP_PORT = 15360;
const PKG = 'switchboard';
const PLUGIN = 'janus.plugin.switchboard';
const CONFIG = '/etc/janus/janus.plugin.switchboard.jcfg';
const DATA = '/usr/share/switchboard';

const work = mkdtempSync(join(tmpdir(), 'sb-package-'));
const source = join(work, 'switchboard'); // dpkg-buildpackage writes the .deb next to it
const artifacts = join(repoRoot, 'tests', 'artifacts');
let deb = null;
let installed = false;
let janus = null; // { child, exit, output() }

// Runs a command to its end (never left behind: the harness kills it);
// resolves with its output, rejects with the last of it on failure.
function run(cmd, args, { cwd = work, env = process.env, timeoutMs = 120_000, logFile = null } = {}) {
	return new Promise((resolve, reject) => {
		const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
		const untrack = track(`${cmd} ${args.join(' ')}`, () => child.kill('SIGKILL'));
		const log = logFile ? createWriteStream(logFile) : null;
		let out = '';
		const collect = (d) => {
			out += d.toString();
			if (out.length > 2e6) out = out.slice(-1e6);
			log?.write(d);
		};
		child.stdout.on('data', collect);
		child.stderr.on('data', collect);
		const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
		child.on('error', (e) => { out += `\nspawn error: ${e.message}\n`; });
		child.on('close', (code, signal) => {
			clearTimeout(timer);
			untrack();
			log?.end();
			if (code === 0) resolve(out);
			else reject(new Error(`${cmd} ${args.join(' ')}: ${signal || `status ${code}`}; last output:\n${out.slice(-4000)}`));
		});
	});
}

const dpkgQuery = (...args) => execFileSync('dpkg-query', args, { encoding: 'utf8' });

function packageInstalled() {
	try {
		return /install ok installed/.test(dpkgQuery('-W', '-f=${Status}', PKG));
	} catch {
		return false;
	}
}

// Stops a child: SIGTERM, then SIGKILL if it is still there after ms.
async function stop(child, exit, ms) {
	child.kill('SIGTERM');
	let timer;
	const late = new Promise((r) => { timer = setTimeout(() => r(false), ms); });
	if (await Promise.race([exit, late]) === false) child.kill('SIGKILL');
	clearTimeout(timer);
	await exit;
}

// Whether something accepts TCP connections on 127.0.0.1:port.
function listening(port) {
	return new Promise((resolve) => {
		const s = net.connect(port, '127.0.0.1');
		s.setTimeout(2000, () => { s.destroy(); resolve(false); });
		s.on('connect', () => { s.destroy(); resolve(true); });
		s.on('error', () => resolve(false));
	});
}

// This tree without what builds and runs leave in it: the package is built
// from sources only (dh_autoreconf makes configure and the rest).
const SKIP_TOP = new Set(['node_modules', '.git', '.run', 'autom4te.cache', 'configure', 'configure~',
	'Makefile', 'Makefile.in', 'aclocal.m4', 'm4', 'build-aux', 'config.log', 'config.status', 'libtool']);
function copyTree() {
	cpSync(repoRoot, source, {
		recursive: true,
		filter: (src) => {
			const rel = relative(repoRoot, src);
			if (rel === '') return true;
			const top = rel.split('/')[0];
			if (SKIP_TOP.has(top) || /^build($|-)/.test(top)) return false;
			if (rel === 'tests/artifacts' || rel === 'bench/results') return false;
			return !/^\.(libs|deps)$/.test(basename(src));
		},
	});
}

before(async () => {
	mkdirSync(artifacts, { recursive: true });
	copyTree();
	// nocheck: the unit tests have their own stages in scripts/test.sh.
	const env = { ...process.env, DEB_BUILD_OPTIONS: 'nocheck', DEBIAN_FRONTEND: 'noninteractive' };
	const jobs = Math.max(1, Number(execFileSync('nproc', { encoding: 'utf8' }).trim()));
	await run('dpkg-buildpackage', ['-us', '-uc', '-b', `-J${jobs}`], {
		cwd: source, env, timeoutMs: BUILD_MS, logFile: join(artifacts, 'package-build.log'),
	});
	const debs = readdirSync(work).filter((f) => /^switchboard_.*_amd64\.deb$/.test(f));
	assert.equal(debs.length, 1, `one .deb built: ${readdirSync(work).join(' ')}`);
	deb = join(work, debs[0]);
	// Installed before (an earlier run stopped half-way): dpkg -i replaces it.
	// No prompt whatever the conffile's state: the one on disk is kept.
	await run('dpkg', ['-i', '--force-confdef', '--force-confold', deb], { env });
	installed = true;
}, { timeout: BUILD_MS + 120_000 });

after(async () => {
	if (janus && !janus.exited()) await stop(janus.child, janus.exit, 10_000);
	try {
		if (installed || packageInstalled()) await run('dpkg', ['--purge', PKG], { timeoutMs: 120_000 });
	} finally {
		rmSync(work, { recursive: true, force: true });
	}
	assert.equal(packageInstalled(), false, 'the package is purged');
	assert.equal(existsSync(CONFIG), false, 'the purge removes the conffile');
}, { timeout: 180_000 });

test('the files go where Debian\'s janus looks for them; nothing starts on install', T, () => {
	const janusPlugins = dpkgQuery('-L', 'janus').split('\n').find((l) => /\/janus\/plugins$/.test(l));
	assert.ok(janusPlugins, 'Debian\'s janus has a plugins folder');
	const files = dpkgQuery('-L', PKG).split('\n');
	const so = join(janusPlugins, 'libjanus_switchboard.so');
	for (const f of [so, CONFIG, `${DATA}/knowledge-base.json`, `${DATA}/html/index.html`,
		'/lib/systemd/system/janus.service.d/janus-switchboard.conf']) {
		assert.ok(files.includes(f), `the package has ${f}`);
		assert.ok(existsSync(f), `${f} is on disk`);
	}
	// Every page of html/ is installed, byte for byte.
	const pages = [];
	const walk = (dir) => {
		for (const e of readdirSync(dir, { withFileTypes: true })) {
			if (e.isDirectory()) walk(join(dir, e.name));
			else pages.push(relative(join(repoRoot, 'html'), join(dir, e.name)));
		}
	};
	walk(join(repoRoot, 'html'));
	assert.ok(pages.length > 3);
	for (const p of pages) assert.deepEqual(readFileSync(join(DATA, 'html', p)), readFileSync(join(repoRoot, 'html', p)), p);
	assert.match(dpkgQuery('-W', '-f=${Conffiles}', PKG), new RegExp(`^ ${CONFIG} [0-9a-f]{32}$`, 'm'), 'the plugin config is a conffile');
	// No maintainer scripts: installing neither starts nor restarts janus.service.
	const control = execFileSync('dpkg-deb', ['-I', deb], { encoding: 'utf8' });
	assert.doesNotMatch(control, /\b(postinst|preinst|prerm|postrm)\b/);
	const config = readFileSync(CONFIG, 'utf8');
	assert.doesNotMatch(config, /@[A-Z_]+@/, 'no placeholder left in the installed config');
	assert.match(config, /^\s*html_folder = "\/usr\/share\/switchboard\/html"$/m);
	assert.match(config, /^\s*knowledge_base = "\/usr\/share\/switchboard\/knowledge-base\.json"$/m);
	assert.match(config, /^\s*guest_rooms = false$/m);
});

test('the installed .so names no path of the tree it was built from', T, () => {
	const so = dpkgQuery('-L', PKG).split('\n').find((l) => l.endsWith('/libjanus_switchboard.so'));
	const text = execFileSync('strings', ['-a', so], { encoding: 'utf8', maxBuffer: 64 << 20 });
	for (const tree of [source, work, repoRoot]) {
		const hits = text.split('\n').filter((l) => l.includes(tree));
		assert.deepEqual(hits, [], `strings naming ${tree}`);
	}
	// It knows the installed data instead.
	assert.ok(text.includes(`${DATA}/html`) && text.includes(`${DATA}/knowledge-base.json`));
});

test('the stock janus loads the installed plugin, which serves /health, the pages and the knowledge base', JANUS_T, async () => {
	const ports = [JANUS_HTTP_PORT, JANUS_ADMIN_PORT, SB_HTTP_PORT, SB_SIP_PORT];
	for (const p of ports) assert.equal(await listening(p), false, `port ${p} is free`);
	const dir = join(work, 'janus');
	const conf = join(dir, 'conf');
	mkdirSync(conf, { recursive: true });
	mkdirSync(join(dir, 'empty'));
	const so = dpkgQuery('-L', PKG).split('\n').find((l) => l.endsWith('/libjanus_switchboard.so'));
	const pluginsFolder = dirname(so);
	const transportsFolder = join(dirname(pluginsFolder), 'transports');
	// Only our plugin and the HTTP transport: the stock ones would want
	// ports and configs this test does not give them.
	const others = (folder, keep) => readdirSync(folder).filter((f) => /\.so$/.test(f) && f !== keep).join(',');
	const adminSecret = `pkg-${randomBytes(12).toString('hex')}`;
	writeFileSync(join(dir, 'janus.jcfg'), `general: {
	configs_folder = "${conf}"
	plugins_folder = "${pluginsFolder}"
	transports_folder = "${transportsFolder}"
	events_folder = "${join(dir, 'empty')}"
	loggers_folder = "${join(dir, 'empty')}"
	debug_level = 4
	admin_secret = "${adminSecret}"
}
media: {
	rtp_port_range = "20000-29999"
}
nat: {
	ice_enforce_list = "lo"
}
plugins: {
	disable = "${others(pluginsFolder, 'libjanus_switchboard.so')}"
}
transports: {
	disable = "${others(transportsFolder, 'libjanus_http.so')}"
}
events: {
	broadcast = false
}
`);
	writeFileSync(join(conf, 'janus.transport.http.jcfg'), `general: {
	json = "plain"
	base_path = "/janus"
	http = true
	port = ${JANUS_HTTP_PORT}
	ip = "127.0.0.1"
}
admin: {
	admin_base_path = "/admin"
	admin_http = true
	admin_port = ${JANUS_ADMIN_PORT}
	admin_ip = "127.0.0.1"
}
`);
	// The installed config as it is; ports through the environment.
	writeFileSync(join(conf, 'janus.plugin.switchboard.jcfg'), readFileSync(CONFIG));
	const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SWITCHBOARD_') && !k.startsWith('JANUS_')));
	Object.assign(env, {
		SWITCHBOARD_STATE_DIR: join(dir, 'state'),
		SWITCHBOARD_HTTP_PORT: String(SB_HTTP_PORT),
		SWITCHBOARD_SIP_PORT: String(SB_SIP_PORT),
		SWITCHBOARD_API_KEY: `pkg-key-${randomBytes(12).toString('hex')}`,
	});
	// Not started from this tree: a relative path could not find its files here.
	const child = spawn('/usr/bin/janus', ['-C', join(dir, 'janus.jcfg'), '-F', conf, '-o'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
	let out = '';
	let exitedWith = null;
	const collect = (d) => { out += d.toString(); if (out.length > 4e6) out = out.slice(-2e6); };
	child.stdout.on('data', collect);
	child.stderr.on('data', collect);
	const exit = new Promise((r) => child.on('close', (code, signal) => { exitedWith = { code, signal }; r(exitedWith); }));
	const untrack = track('stock janus', () => child.kill('SIGKILL'));
	janus = { child, exit, exited: () => exitedWith !== null, output: () => out };
	exit.then(untrack);
	// A failure keeps what Janus said (tests/artifacts/package-janus.log).
	const check = (cond, what) => {
		if (cond) return;
		writeFileSync(join(artifacts, 'package-janus.log'), out);
		assert.fail(`${what}; janus (${JSON.stringify(exitedWith)}) said:\n${out.slice(-3000)}`);
	};

	// Up when both its API and the plugin's HTTP server answer.
	let info = null;
	for (let i = 0; i < 180 && !exitedWith; i++) {
		try {
			const r = await fetch(`http://127.0.0.1:${JANUS_HTTP_PORT}/janus/info`, { signal: AbortSignal.timeout(2000) });
			info = await r.json();
			if (await listening(SB_HTTP_PORT)) break;
		} catch { /* not up yet */ }
		await new Promise((r) => setTimeout(r, 500));
	}
	check(info, 'janus never answered /janus/info');
	check(info.plugins?.[PLUGIN], `the plugin is not loaded: ${Object.keys(info.plugins || {})}`);

	const health = await fetch(`http://127.0.0.1:${SB_HTTP_PORT}/health`, { signal: AbortSignal.timeout(5000) });
	check(health.status === 200, `/health: ${health.status}`);
	await health.text();
	const page = await fetch(`http://127.0.0.1:${SB_HTTP_PORT}/`, { signal: AbortSignal.timeout(5000) });
	check(page.status === 200, `the call page: ${page.status}`);
	assert.equal(await page.text(), readFileSync(`${DATA}/html/index.html`, 'utf8'));

	const r = await fetch(`http://127.0.0.1:${JANUS_ADMIN_PORT}/admin`, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify({ janus: 'message_plugin', transaction: 'kb', admin_secret: adminSecret, plugin: PLUGIN, request: { request: 'reload_kb' } }),
		signal: AbortSignal.timeout(10_000),
	});
	const reload = await r.json();
	check(reload.response?.switchboard === 'success', `reload_kb: ${JSON.stringify(reload)}`);
	assert.equal(reload.response.knowledge_base, `${DATA}/knowledge-base.json`);
	assert.ok(reload.response.faqs > 0);
	check(!/html_folder .* not found/.test(out), 'the pages folder was not found');

	await stop(child, exit, 20_000);
});
