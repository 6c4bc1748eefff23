// What a test file has started and not yet released: Janus, peers'
// sockets, Janus sessions, child processes, servers, browsers. The helpers
// in tests/lib register what they start here and unregister it when it is
// closed; tests/lib/harness.mjs releases whatever is left after the file's
// own after() hooks, so that a test that failed (or timed out) half-way
// leaves nothing running: no process that holds a port for the next file,
// no socket or timer that keeps Node alive. Nothing here imports node:test:
// the benchmarks use the same helpers.

const open = new Map(); // id -> { what, close }
let nextId = 0;

// Registers `close` (sync or async) to release `what`; returns the function
// that unregisters it, to be called once it is released the normal way.
export function track(what, close) {
	const id = ++nextId;
	open.set(id, { what, close });
	return () => { open.delete(id); };
}

// The names of what is still registered.
export function stillOpen() {
	return [...open.values()].map((r) => r.what);
}

function bounded(promise, ms, what) {
	let timer;
	return Promise.race([
		Promise.resolve(promise).finally(() => clearTimeout(timer)),
		new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: not released within ${ms} ms`)), ms); }),
	]);
}

// Releases everything still registered, newest first (a session before its
// Janus), each within perItemMs. Resolves with what it released and the
// problems it met (never rejects: one failure must not keep the rest open).
export async function releaseAll({ perItemMs = 20000 } = {}) {
	const items = [...open.values()].reverse();
	open.clear();
	const problems = [];
	for (const r of items) {
		try {
			await bounded((async () => r.close())(), perItemMs, r.what);
		} catch (e) {
			problems.push(`${r.what}: ${e.message}`);
		}
	}
	return { released: items.map((r) => r.what), problems };
}
