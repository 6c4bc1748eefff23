// Hand-drawn SVG charts for the dashboard: bars (vertical, with labels),
// horizontal bars, stacked bars and a line of points. No library: a few
// rectangles, paths and text, sized by viewBox.
const NS = 'http://www.w3.org/2000/svg';

function el(name, attrs = {}, text) {
	const e = document.createElementNS(NS, name);
	for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
	if (text !== undefined) e.textContent = text;
	return e;
}

function empty(target, message = 'No data in this range yet') {
	target.replaceChildren(Object.assign(document.createElement('p'), { className: 'empty', textContent: message }));
}

// items: [{label, value, title?}] as vertical bars.
export function barChart(target, items, { height = 180, format = String } = {}) {
	if (!items.length || items.every((i) => !i.value)) return empty(target);
	const width = 360, pad = { l: 34, r: 8, t: 14, b: 34 };
	const max = Math.max(...items.map((i) => i.value), 1);
	const svg = el('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img' });
	const plotW = width - pad.l - pad.r, plotH = height - pad.t - pad.b;
	const step = plotW / items.length, bw = Math.max(2, step * 0.7);
	svg.append(el('line', { x1: pad.l, y1: pad.t + plotH, x2: width - pad.r, y2: pad.t + plotH, class: 'axis' }));
	svg.append(el('text', { x: pad.l - 4, y: pad.t + 4, 'text-anchor': 'end' }, format(max)));
	svg.append(el('text', { x: pad.l - 4, y: pad.t + plotH, 'text-anchor': 'end' }, '0'));
	// Room for about six long labels (dates) or twelve short ones (hours).
	const longest = Math.max(...items.map((i) => String(i.label).length));
	const labelEvery = Math.ceil(items.length / (longest > 3 ? 6 : 12));
	items.forEach((item, i) => {
		const h = (item.value / max) * plotH;
		const x = pad.l + i * step + (step - bw) / 2;
		const bar = el('rect', { x, y: pad.t + plotH - h, width: bw, height: h, class: 'bar', rx: 2 });
		bar.append(el('title', {}, item.title || `${item.label}: ${format(item.value)}`));
		svg.append(bar);
		if (i % labelEvery === 0) svg.append(el('text', { x: x + bw / 2, y: height - pad.b + 14, 'text-anchor': 'middle' }, item.label));
	});
	svg.setAttribute('aria-label', items.map((i) => `${i.label}: ${format(i.value)}`).join(', '));
	target.replaceChildren(svg);
}

// items: [{label, value}] as labelled horizontal bars.
export function hbarChart(target, items, { format = String, colors = {} } = {}) {
	if (!items.length) return empty(target);
	const rowH = 26, width = 360, labelW = 110, valueW = 64;
	const height = items.length * rowH + 6;
	const max = Math.max(...items.map((i) => i.value), 1);
	const svg = el('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img' });
	items.forEach((item, i) => {
		const y = 4 + i * rowH;
		const w = ((width - labelW - valueW) * item.value) / max;
		svg.append(el('text', { x: labelW - 6, y: y + 15, 'text-anchor': 'end' }, item.label));
		const bar = el('rect', { x: labelW, y: y + 3, width: Math.max(w, 1), height: rowH - 8, class: 'bar', rx: 3 });
		if (colors[item.label]) bar.setAttribute('style', `fill:${colors[item.label]}`);
		bar.append(el('title', {}, `${item.label}: ${format(item.value)}`));
		svg.append(bar);
		svg.append(el('text', { x: labelW + w + 6, y: y + 15 }, format(item.value)));
	});
	svg.setAttribute('aria-label', items.map((i) => `${i.label}: ${format(i.value)}`).join(', '));
	target.replaceChildren(svg);
}

// items: [{label, title?, values: [n, …]}] as bars stacked in the order of
// series ([{name, className}]), e.g. a day's positive, neutral and negative
// calls.
export function stackedBarChart(target, items, series, { height = 180, message } = {}) {
	const totals = items.map((i) => i.values.reduce((a, b) => a + (b || 0), 0));
	if (!items.length || totals.every((t) => !t)) return empty(target, message);
	const width = 360, pad = { l: 34, r: 8, t: 14, b: 34 };
	const max = Math.max(...totals, 1);
	const svg = el('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img' });
	const plotW = width - pad.l - pad.r, plotH = height - pad.t - pad.b;
	const step = plotW / items.length, bw = Math.max(2, step * 0.7);
	svg.append(el('line', { x1: pad.l, y1: pad.t + plotH, x2: width - pad.r, y2: pad.t + plotH, class: 'axis' }));
	svg.append(el('text', { x: pad.l - 4, y: pad.t + 4, 'text-anchor': 'end' }, String(max)));
	svg.append(el('text', { x: pad.l - 4, y: pad.t + plotH, 'text-anchor': 'end' }, '0'));
	const longest = Math.max(...items.map((i) => String(i.label).length));
	const labelEvery = Math.ceil(items.length / (longest > 3 ? 6 : 12));
	const described = [];
	items.forEach((item, i) => {
		const x = pad.l + i * step + (step - bw) / 2;
		let y = pad.t + plotH;
		const parts = series.map((s, k) => `${item.values[k] || 0} ${s.name}`).join(', ');
		series.forEach((s, k) => {
			const v = item.values[k] || 0;
			if (!v) return;
			const h = (v / max) * plotH;
			y -= h;
			const bar = el('rect', { x, y, width: bw, height: h, class: `bar ${s.className}` });
			bar.append(el('title', {}, `${item.title || item.label}: ${parts}`));
			svg.append(bar);
		});
		if (totals[i]) described.push(`${item.label}: ${parts}`);
		if (i % labelEvery === 0) svg.append(el('text', { x: x + bw / 2, y: height - pad.b + 14, 'text-anchor': 'middle' }, item.label));
	});
	svg.setAttribute('aria-label', described.join('; '));
	target.replaceChildren(svg, legend(series));
}

function legend(series) {
	const p = document.createElement('p');
	p.className = 'legend';
	for (const s of series) {
		const key = document.createElement('span');
		key.className = `key ${s.className}`;
		p.append(key, document.createTextNode(` ${s.name} `));
	}
	return p;
}

// points: [{x, y, label, title?, className?}] joined by a line, over x
// from xMin to xMax and y from yMin to yMax (a dashed line at 0 when it
// is in range); a point whose y is null breaks the line there.
export function lineChart(target, points, { xMin, xMax, yMin, yMax, xFormat = String, yFormat = String, xLabels = 5, height = 180, message } = {}) {
	const shown = points.filter((p) => p.y !== null && p.y !== undefined);
	if (!shown.length) return empty(target, message);
	const width = 360, pad = { l: 42, r: 12, t: 12, b: 30 };
	const plotW = width - pad.l - pad.r, plotH = height - pad.t - pad.b;
	xMin ??= Math.min(...points.map((p) => p.x));
	xMax ??= Math.max(...points.map((p) => p.x));
	if (xMax <= xMin) xMax = xMin + 1;
	const sx = (x) => pad.l + ((x - xMin) / (xMax - xMin)) * plotW;
	const sy = (y) => pad.t + plotH - ((y - yMin) / (yMax - yMin)) * plotH;
	const svg = el('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart line-chart', role: 'img' });
	svg.append(el('line', { x1: pad.l, y1: pad.t + plotH, x2: width - pad.r, y2: pad.t + plotH, class: 'axis' }));
	if (yMin < 0 && yMax > 0) svg.append(el('line', { x1: pad.l, y1: sy(0), x2: width - pad.r, y2: sy(0), class: 'zero' }));
	for (const y of yMin < 0 && yMax > 0 ? [yMax, 0, yMin] : [yMax, yMin]) {
		svg.append(el('text', { x: pad.l - 4, y: sy(y) + 4, 'text-anchor': 'end' }, yFormat(y)));
	}
	for (let k = 0; k < xLabels; k++) {
		const x = xMin + ((xMax - xMin) * k) / Math.max(1, xLabels - 1);
		svg.append(el('text', { x: sx(x), y: height - pad.b + 16, 'text-anchor': k === 0 ? 'start' : k === xLabels - 1 ? 'end' : 'middle' }, xFormat(x)));
	}
	// One path of segments, broken where a point has no value.
	let d = '', pen = false;
	for (const p of points) {
		if (p.y === null || p.y === undefined) { pen = false; continue; }
		d += `${pen ? 'L' : 'M'}${sx(p.x).toFixed(1)} ${sy(p.y).toFixed(1)} `;
		pen = true;
	}
	svg.append(el('path', { d: d.trim(), class: 'line' }));
	for (const p of shown) {
		const dot = el('circle', { cx: sx(p.x), cy: sy(p.y), r: 4, class: `point ${p.className || ''}`.trim() });
		dot.append(el('title', {}, p.title || `${p.label}: ${yFormat(p.y)}`));
		svg.append(dot);
	}
	svg.setAttribute('aria-label', shown.map((p) => `${p.label}: ${yFormat(p.y)}`).join(', '));
	target.replaceChildren(svg);
}
