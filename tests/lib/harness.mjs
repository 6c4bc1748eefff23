// node:test with the guarantees every test file here needs:
//  - after the file's own after() hooks, whatever tests/lib started and is
//    still open (tests/lib/resources.mjs) is released, so a test that
//    failed or timed out half-way leaves no Janus, socket, child process,
//    server or browser behind;
//  - if the process is still alive EXIT_GRACE_MS after that, something
//    nobody released keeps it alive: it says what (the active handles) and
//    exits with status 1, which fails the file, instead of hanging the run.
// Every test and hook states its own timeout (a constant per file), so a
// hang fails that test in seconds; node:test reports a timed-out test as
// "not ok" (counted under "# cancelled") and runs the after() hooks.
// Works the same under `node --test file` by hand and in scripts/test.sh.
//
//   import { test, before, after } from '../lib/harness.mjs';
//   const T = { timeout: 30_000 };
//   before(async () => { … }, { timeout: 60_000 });
//   test('…', T, async () => { … });
//
// test, describe, before, beforeEach and afterEach are node:test's own
// (so a failure's location stays the test file's); after() is wrapped to
// keep the release last.
import * as nt from 'node:test';
import { releaseAll } from './resources.mjs';

export { test, describe, it, before, beforeEach, afterEach } from 'node:test';

export const EXIT_GRACE_MS = 10000;
const HOOK_MS = 60000;
const FINAL_HOOK_MS = 120000;

let generation = 0;

// The release runs in the last root after() hook: registered now, and again
// after each root after() of the file (only the newest one acts), because
// root hooks run in the order they were registered.
function registerFinal() {
	const mine = ++generation;
	nt.after(async () => {
		if (mine !== generation) return;
		const { problems } = await releaseAll();
		setTimeout(() => {
			process.stderr.write(`harness: the process is still alive ${EXIT_GRACE_MS} ms after the last test; ` +
				`active handles: ${JSON.stringify(process.getActiveResourcesInfo())}\n`);
			process.exit(1);
		}, EXIT_GRACE_MS).unref();
		if (problems.length) throw new Error(`left-over resources could not be released:\n${problems.join('\n')}`);
	}, { timeout: FINAL_HOOK_MS });
}
registerFinal();

// node:test's after(), with a timeout unless one is given. For root-level
// hooks only (the release must stay after them).
export function after(fn, options = {}) {
	const r = nt.after(fn, 'timeout' in options ? options : { ...options, timeout: HOOK_MS });
	registerFinal();
	return r;
}
