// Hand-drawn SVG charts for the dashboard: bars (vertical, with labels) and
// horizontal bars. No library: a few rectangles and text, sized by viewBox.
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
