// The layout rules of plugins/switchboard (README, "Layout"), checked on
// the sources: a file reaches another folder only through its public
// header, and no cycle crosses a folder.
import { test } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readIncludes, privateReaches, folderGraph, folderCycles } from './layout.mjs';

const T = { timeout: 10000 };

test('no file reaches into another folder but through its public header', T, () => {
	const reaches = privateReaches(readIncludes());
	assert.deepEqual(reaches.map(({ from, to }) => `${from} -> ${to}`), []);
});

test('the folders depend on each other without a cycle', T, () => {
	assert.deepEqual(folderCycles(folderGraph(readIncludes())), []);
});

test('every module folder has its public header', T, () => {
	const { files } = readIncludes();
	const folders = new Set(files.filter((f) => f.includes('/')).map((f) => f.split('/')[0]));
	const missing = [...folders].filter((d) => !files.includes(`${d}/${d}.h`));
	assert.deepEqual(missing, []);
});

// The checker itself must see what it is meant to see.
test('the checker finds a private reach and a cycle in a tree made to have them', T, () => {
	const root = mkdtempSync(join(tmpdir(), 'sb-layout-'));
	try {
		mkdirSync(join(root, 'a'));
		mkdirSync(join(root, 'b'));
		writeFileSync(join(root, 'a', 'a.h'), '#include "b/b.h"\n');
		writeFileSync(join(root, 'a', 'a.c'), '#include "a/a.h"\n#include "b/b_private.h"\n');
		writeFileSync(join(root, 'b', 'b.h'), '');
		writeFileSync(join(root, 'b', 'b_private.h'), '');
		writeFileSync(join(root, 'b', 'b.c'), '#include "a/a.h"\n');
		const inc = readIncludes(root);
		assert.deepEqual(privateReaches(inc).map(({ from, to }) => `${from} -> ${to}`), ['a/a.c -> b/b_private.h']);
		assert.deepEqual(folderCycles(folderGraph(inc)), [['a', 'b']]);
	} finally {
		rmSync(root, { recursive: true, force: true });
	}
});
