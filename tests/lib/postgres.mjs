// A private PostgreSQL server for the store tests: Debian's postgresql
// binaries, a data directory under the test's tmp dir, a private port.
// initdb and postgres refuse to run as root: as root they run as the
// `postgres` system user (created by the Debian package) through setpriv,
// and that user owns the data directory.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, chownSync, chmodSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { track } from './resources.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function pgBinDir() {
	const base = '/usr/lib/postgresql';
	if (!existsSync(base)) return null;
	const versions = readdirSync(base).filter((v) => existsSync(join(base, v, 'bin', 'postgres')));
	versions.sort((a, b) => Number(b) - Number(a));
	return versions.length ? join(base, versions[0], 'bin') : null;
}

function asPostgres(args) {
	// setpriv execs (no fork), so the child's pid is the server's own.
	if (process.getuid && process.getuid() === 0) {
		return ['setpriv', ['--reuid=postgres', '--regid=postgres', '--clear-groups', '--reset-env', ...args]];
	}
	return [args[0], args.slice(1)];
}

function portOpen(port) {
	return new Promise((resolve) => {
		const s = net.connect(port, '127.0.0.1');
		s.on('connect', () => { s.destroy(); resolve(true); });
		s.on('error', () => resolve(false));
	});
}

export async function startPostgres({ port = Number(process.env.SB_TEST_PG_PORT || 25432) } = {}) {
	const bin = pgBinDir();
	if (!bin) throw new Error('PostgreSQL binaries not found: apt-get install postgresql (scripts/deps.sh)');
	const dir = mkdtempSync(join(tmpdir(), 'sb-pg-'));
	const data = join(dir, 'data');
	const root = process.getuid && process.getuid() === 0;
	if (root) {
		const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
		const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
		chownSync(dir, uid, gid);
		chmodSync(dir, 0o700);
	}
	const [cmd, args] = asPostgres([join(bin, 'initdb'), '-D', data, '-U', 'switchboard',
		'--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
	execFileSync(cmd, args, { stdio: 'pipe' });
	let server = null;
	let log = '';
	const conninfo = `postgresql://switchboard@127.0.0.1:${port}/postgres`;
	const pg = {
		conninfo,
		port,
		dir,
		log: () => log,
		async start() {
			// After a kill, the old server's backends may hold its shared
			// memory for a moment: try again until they are gone.
			for (let attempt = 0; ; attempt++) {
				try { await this.startOnce(); return; } catch (e) {
					if (attempt >= 20) throw e;
					await sleep(250);
				}
			}
		},
		async startOnce() {
			const [c, a] = asPostgres([join(bin, 'postgres'), '-D', data, '-p', String(port),
				'-h', '127.0.0.1', '-k', dir, '-c', 'fsync=off', '-c', 'max_connections=40']);
			server = spawn(c, a, { stdio: ['ignore', 'pipe', 'pipe'] });
			server.stdout.on('data', (d) => { log += d; });
			server.stderr.on('data', (d) => { log += d; });
			const deadline = Date.now() + 20000;
			try {
				while (!(await portOpen(port))) {
					if (server.exitCode !== null) throw new Error(`postgres exited:\n${log}`);
					if (Date.now() > deadline) throw new Error(`postgres did not start:\n${log}`);
					await sleep(100);
				}
				// Ready for queries, not only listening.
				const [pc, pa] = asPostgres([join(bin, 'pg_isready'), '-h', '127.0.0.1', '-p', String(port)]);
				for (;;) {
					try { execFileSync(pc, pa, { stdio: 'ignore', timeout: 5000 }); break; } catch (e) {
						if (Date.now() > deadline) throw new Error(`postgres not ready: ${e.message}\n${log}`);
						await sleep(100);
					}
				}
			} catch (e) {
				await this.kill(); // a half-started server must not outlive the attempt
				throw e;
			}
		},
		// SIGKILL: no clean shutdown, as when the server crashes.
		async kill() {
			if (!server) return;
			const s = server;
			server = null;
			s.kill('SIGKILL');
			await exited(s, 10000);
			// Its backends go when they see the postmaster gone: the port frees.
			const deadline = Date.now() + 10000;
			while (await portOpen(port)) {
				if (Date.now() > deadline) throw new Error(`port ${port} still open 10 s after killing postgres`);
				await sleep(100);
			}
		},
		// SIGINT (fast shutdown), SIGKILL if still there after 10 s.
		async stop() {
			if (!server) return;
			const s = server;
			server = null;
			s.kill('SIGINT');
			if (!(await exited(s, 10000))) {
				s.kill('SIGKILL');
				await exited(s, 10000);
			}
		},
		// Stops the server and removes its data directory. Idempotent.
		async destroy() {
			untrack();
			await this.stop();
			rmSync(dir, { recursive: true, force: true });
		},
		psql(sql) {
			const [c, a] = asPostgres([join(bin, 'psql'), '-h', '127.0.0.1', '-p', String(port),
				'-U', 'switchboard', '-d', 'postgres', '-At', '-c', sql]);
			return execFileSync(c, a, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 30000 }).toString().trim();
		},
	};
	const untrack = track(`postgres on ${port} (${dir})`, () => pg.destroy());
	await pg.start();
	return pg;
}

// Resolves true once the child has exited, false after ms.
function exited(child, ms) {
	if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
	return new Promise((resolve) => {
		const timer = setTimeout(() => resolve(false), ms);
		child.once('exit', () => { clearTimeout(timer); resolve(true); });
	});
}
