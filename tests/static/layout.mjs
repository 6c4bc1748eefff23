// The plugin's layout rules, read from its sources (no build needed):
//   - a file reaches another folder only through that folder's public
//     header, <folder>/<folder>.h;
//   - the folders' dependencies have no cycle.
// `node tests/static/layout.mjs` prints the folder graph and any breach.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, dirname, relative, normalize, basename } from 'node:path';
import { fileURLToPath } from 'node:url';

export const pluginRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'plugins', 'switchboard');

function walk(root, dir = root, out = []) {
	for (const name of readdirSync(dir)) {
		const p = join(dir, name);
		if (statSync(p).isDirectory()) walk(root, p, out);
		else if (/\.[ch]$/.test(name)) out.push(relative(root, p));
	}
	return out;
}

// The folder a file belongs to ("." for the top: the Janus glue and the
// module table, which may include every public header).
export const folderOf = (file) => (file.includes('/') ? file.split('/')[0] : '.');
export const publicHeader = (folder) => `${folder}/${folder}.h`;

export function readIncludes(root = pluginRoot) {
	const files = walk(root);
	const known = new Set(files);
	const edges = []; // {from, to} file paths
	for (const file of files) {
		const text = readFileSync(join(root, file), 'utf8');
		for (const m of text.matchAll(/^\s*#\s*include\s+"([^"]+)"/gm)) {
			const rel = normalize(join(dirname(file), m[1]));
			const target = known.has(rel) ? rel : known.has(normalize(m[1])) ? normalize(m[1]) : null;
			if (target) edges.push({ from: file, to: target });
		}
	}
	return { files, edges };
}

// Includes that cross into a folder other than through its public header.
export function privateReaches({ edges }) {
	return edges.filter(({ from, to }) => {
		const a = folderOf(from), b = folderOf(to);
		return a !== b && b !== '.' && to !== publicHeader(b);
	});
}

export function folderGraph({ edges }) {
	const g = new Map();
	for (const { from, to } of edges) {
		const a = folderOf(from), b = folderOf(to);
		if (a === b) continue;
		if (!g.has(a)) g.set(a, new Set());
		g.get(a).add(b);
	}
	return g;
}

// Every elementary cycle is overkill: strongly connected components with
// more than one folder are the cycles to report.
export function folderCycles(g) {
	const index = new Map(), low = new Map(), stack = [], on = new Set(), sccs = [];
	let i = 0;
	const nodes = new Set([...g.keys(), ...[...g.values()].flatMap((s) => [...s])]);
	const visit = (v) => {
		index.set(v, i); low.set(v, i); i++; stack.push(v); on.add(v);
		for (const w of g.get(v) || []) {
			if (!index.has(w)) { visit(w); low.set(v, Math.min(low.get(v), low.get(w))); }
			else if (on.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
		}
		if (low.get(v) === index.get(v)) {
			const c = [];
			let w;
			do { w = stack.pop(); on.delete(w); c.push(w); } while (w !== v);
			if (c.length > 1) sccs.push(c.sort());
		}
	};
	for (const v of nodes) if (!index.has(v)) visit(v);
	return sccs;
}

if (process.argv[1] && basename(process.argv[1]) === 'layout.mjs') {
	const inc = readIncludes();
	const g = folderGraph(inc);
	for (const [a, bs] of [...g.entries()].sort()) console.log(`${a} -> ${[...bs].sort().join(' ')}`);
	const reaches = privateReaches(inc);
	console.log(`\n${reaches.length} includes reach another folder's private header:`);
	for (const { from, to } of reaches) console.log(`  ${from} -> ${to}`);
	const cycles = folderCycles(g);
	console.log(`\n${cycles.length} folder cycles:`);
	for (const c of cycles) console.log(`  ${c.join(' <-> ')}`);
}
