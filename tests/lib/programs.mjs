// The test programs of the build tree (tests/unit/test_store,
// tests/tools/recognise, …), built when missing: a file run by hand after
// scripts/build.sh (which builds the plugin only) finds them too.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { repoRoot } from './janus.mjs';

const build = process.env.SB_BUILD_DIR || join(repoRoot, 'build');

export function builtProgram(rel) {
	const bin = join(build, rel);
	if (existsSync(bin)) return bin;
	if (!existsSync(join(build, 'Makefile'))) {
		const r = spawnSync(join(repoRoot, 'scripts', 'build.sh'), [relative(repoRoot, build)], { cwd: repoRoot, stdio: 'inherit', timeout: 600000 });
		if (r.status !== 0) throw new Error('scripts/build.sh failed');
	}
	const r = spawnSync('make', ['-C', build, rel], { stdio: 'inherit', timeout: 600000 });
	if (r.status !== 0 || !existsSync(bin)) throw new Error(`cannot build ${bin}`);
	return bin;
}
