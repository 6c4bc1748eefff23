// The operations dashboard: live sessions from /ws/notifications, call
// history with search (and the analysis's disposition and sentiment), a
// call page (transcript, participants, agent turns, transfers, recording,
// the call's analysis with the caller's sentiment over the call),
// analytics as SVG charts (sentiment over time among them), transfer
// history.
// Query parameter: ?api=URL (the Switchboard REST server; default where
// this page came from). The API key is asked for in a form and kept for
// the tab (sessionStorage), never taken from the page's address: an
// address ends up in history, bookmarks, proxies' logs and Referer headers
// (docs/security.md, "Secrets"). One left there by an old link is dropped.
import { barChart, hbarChart, lineChart, stackedBarChart } from './dashboard-charts.js';

const params = new URLSearchParams(location.search);
const API = params.get('api') || location.origin;
if (params.has('api_key')) {
	params.delete('api_key');
	const rest = params.toString();
	history.replaceState(null, '', `${location.pathname}${rest ? `?${rest}` : ''}${location.hash}`);
}
let key = sessionStorage.getItem('sb-api-key') || '';
const $ = (id) => document.getElementById(id);
const state = { page: 1, limit: 25, total: 0, filters: {}, range: '7d', live: new Map() };

class HttpError extends Error {
	constructor(status, message) { super(message); this.status = status; }
}

async function api(path) {
	const r = await fetch(`${API}${path}`, { headers: { authorization: `Bearer ${key}` }, cache: 'no-store' });
	const text = await r.text();
	let json = null;
	try { json = JSON.parse(text); } catch { /* CSV or error page */ }
	if (!r.ok) throw new HttpError(r.status, json?.error?.message || `HTTP ${r.status}`);
	return json;
}

function showError(text) {
	$('error').textContent = text;
	$('error').hidden = !text;
}

function fail(e) {
	if (e.status === 401) {
		sessionStorage.removeItem('sb-api-key');
		askKey('That API key was refused. Enter the right one.');
		return;
	}
	showError(e.status === 503 ? `Call records are unavailable: ${e.message}` : e.message);
}

function askKey(message) {
	$('key-form').hidden = false;
	document.querySelector('main').hidden = true;
	if (message) showError(message);
	$('key-input').focus();
}

const fmtTime = (ms) => (ms ? new Date(ms).toLocaleString() : '—');
function fmtDuration(ms) {
	if (ms == null) return '—';
	const s = Math.round(ms / 1000);
	return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
}
const text = (tag, content, className) => Object.assign(document.createElement(tag), { textContent: content ?? '', className: className || '' });
function badge(outcome) { return text('span', outcome ? outcome.replace('_', ' ') : 'in progress', `badge ${outcome || ''}`); }
// A label of the analysis (disposition, sentiment); a call not analysed has none.
function labelBadge(label) { return label ? text('span', String(label), `badge ${label}`) : text('span', '—', 'muted'); }

// ---- tabs (the URL hash says which; #call/<id> opens a call) ----
function route() {
	const [tab, arg] = location.hash.slice(1).split('/');
	const name = ['live', 'history', 'analytics', 'transfers', 'call'].includes(tab) ? tab : 'live';
	for (const s of document.querySelectorAll('.tab')) s.hidden = s.id !== name;
	for (const a of document.querySelectorAll('nav a')) a.classList.toggle('on', a.dataset.tab === name || (name === 'call' && a.dataset.tab === 'history'));
	showError('');
	if (name === 'history') loadCalls().catch(fail);
	if (name === 'analytics') loadAnalytics().catch(fail);
	if (name === 'transfers') loadTransfers().catch(fail);
	if (name === 'call' && arg) loadCall(decodeURIComponent(arg)).catch(fail);
}

// ---- live sessions ----
function renderLive() {
	const groups = { phone: [], web: [], whatsapp: [], other: [] };
	for (const s of state.live.values()) (groups[s.type] || groups.other).push(s);
	const box = $('live-groups');
	box.replaceChildren();
	for (const [type, list] of Object.entries(groups)) {
		if (type === 'other' && !list.length) continue;
		const card = document.createElement('div');
		card.className = 'card group';
		card.dataset.interface = type;
		const h = document.createElement('h3');
		h.append(text('span', type === 'web' ? 'Web' : type === 'phone' ? 'Phone' : type === 'whatsapp' ? 'WhatsApp' : 'Other'), text('span', String(list.length), 'count'));
		const ul = document.createElement('ul');
		ul.className = 'plain';
		if (!list.length) ul.append(text('li', 'Nobody right now', 'muted'));
		for (const s of list) {
			const li = text('li', `${s.display || `#${s.id}`} `);
			li.append(text('span', `in ${s.room}${s.kind === 'agent' ? ' (AI agent)' : ''}`, 'muted'));
			ul.append(li);
		}
		card.append(h, ul);
		box.append(card);
	}
}

async function loadSessions() {
	const r = await api('/sessions');
	state.live.clear();
	for (const s of r.sessions || []) state.live.set(`${s.room}/${s.id}`, s);
	renderLive();
}

function logEvent(e) {
	const li = text('li', `${new Date(e.timestamp || Date.now()).toLocaleTimeString()} ${e.type.replace(/_/g, ' ')}${e.room ? ` · ${e.room}` : ''}${e.participant?.display ? ` · ${e.participant.display}` : ''}${e.text ? ` · “${e.text}”` : ''}`);
	const list = $('live-events');
	list.prepend(li);
	while (list.children.length > 50) list.lastChild.remove();
}

function connectNotifications() {
	const url = `${API.replace(/^http/, 'ws')}/ws/notifications?api_key=${encodeURIComponent(key)}`;
	const ws = new WebSocket(url);
	ws.onopen = () => { $('conn').textContent = 'Live'; $('conn').className = 'conn up'; loadSessions().catch(fail); };
	ws.onclose = () => {
		$('conn').textContent = 'Reconnecting…';
		$('conn').className = 'conn down';
		setTimeout(connectNotifications, 3000);
	};
	ws.onmessage = (m) => {
		let e;
		try { e = JSON.parse(m.data); } catch { return; }
		if (e.type === 'participant_joined' && e.participant) {
			state.live.set(`${e.room}/${e.participant.id}`, { ...e.participant, room: e.room, type: e.interface || e.participant.kind });
		} else if (e.type === 'participant_left' && e.participant) {
			state.live.delete(`${e.room}/${e.participant.id}`);
		} else if (e.type === 'room_closed') {
			for (const k of [...state.live.keys()]) if (k.startsWith(`${e.room}/`)) state.live.delete(k);
		}
		if (e.type !== 'transcript' || e.final) logEvent(e);
		renderLive();
	};
}

// ---- history ----
function query(extra = {}) {
	const q = new URLSearchParams();
	for (const [k, v] of Object.entries({ ...state.filters, ...extra })) if (v) q.set(k, v);
	return q.toString();
}

async function loadCalls() {
	const r = await api(`/api/calls?${query({ page: state.page, limit: state.limit })}`);
	state.total = r.total;
	const body = $('calls-body');
	body.replaceChildren();
	if (!r.calls.length) {
		const tr = document.createElement('tr');
		const td = text('td', 'No calls match.', 'empty');
		td.colSpan = 9;
		tr.append(td);
		body.append(tr);
	}
	for (const c of r.calls) {
		const tr = document.createElement('tr');
		tr.dataset.id = c.id;
		tr.tabIndex = 0;
		const cell = (node) => { const td = document.createElement('td'); td.append(node); return td; };
		tr.append(text('td', fmtTime(c.started)), text('td', c.room), text('td', c.interface || '—'), text('td', c.from_addr || '—'),
			text('td', fmtDuration(c.duration_ms)), cell(badge(c.outcome)), text('td', c.human_agent || (c.ai_handled ? 'AI agent' : '—')),
			cell(labelBadge(c.disposition)), cell(labelBadge(c.sentiment)));
		const open = () => { location.hash = `call/${encodeURIComponent(c.id)}`; };
		tr.addEventListener('click', open);
		tr.addEventListener('keydown', (e) => { if (e.key === 'Enter') open(); });
		body.append(tr);
	}
	const pages = Math.max(1, Math.ceil(r.total / state.limit));
	$('page-info').textContent = `Page ${state.page} of ${pages} · ${r.total} call${r.total === 1 ? '' : 's'}`;
	$('prev').disabled = state.page <= 1;
	$('next').disabled = state.page >= pages;
	$('export-csv').href = `${API}/api/calls?${query({ format: 'csv', limit: 10000 })}`;
}

async function exportCsv(e) {
	e.preventDefault();
	const r = await fetch(`${API}/api/calls?${query({ format: 'csv', limit: 10000 })}`, { headers: { authorization: `Bearer ${key}` } });
	if (!r.ok) return showError(`Export failed: HTTP ${r.status}`);
	const a = Object.assign(document.createElement('a'), { href: URL.createObjectURL(await r.blob()), download: 'calls.csv' });
	a.click();
	URL.revokeObjectURL(a.href);
}

// ---- one call ----
// The recording player: the file is fetched with the API key in a header
// (never in a URL) and played from a blob URL; a call recorded with
// tracks offers each participant's own audio too.
let recordingUrl = null;
function showRecording(c) {
	const rec = $('call-recording');
	rec.replaceChildren();
	if (recordingUrl) URL.revokeObjectURL(recordingUrl);
	recordingUrl = null;
	const files = c.recordings || [];
	if (!files.some((f) => f.kind === 'mix')) return;
	rec.append(text('h3', 'Recording'));
	const audio = Object.assign(document.createElement('audio'), { controls: true, preload: 'metadata', id: 'call-audio' });
	const status = text('p', 'Loading the recording…', 'muted');
	status.id = 'call-audio-status';
	const names = new Map(c.participants.map((p) => [String(p.participant_id), p.display || `#${p.participant_id}`]));
	const tracks = files.filter((f) => f.kind === 'track' && f.participant_id != null);
	async function load(track) {
		status.textContent = 'Loading the recording…';
		const q = track ? `?track=${encodeURIComponent(track)}` : '';
		try {
			const r = await fetch(`${API}/api/calls/${encodeURIComponent(c.id)}/recording${q}`, { headers: { authorization: `Bearer ${key}` }, cache: 'no-store' });
			if (!r.ok) throw new HttpError(r.status, (await r.json().catch(() => null))?.error?.message || `HTTP ${r.status}`);
			const url = URL.createObjectURL(await r.blob());
			if (recordingUrl) URL.revokeObjectURL(recordingUrl);
			recordingUrl = url;
			audio.src = url;
			status.textContent = '';
		} catch (e) {
			status.textContent = `The recording cannot be played: ${e.message}`;
		}
	}
	if (tracks.length) {
		const select = document.createElement('select');
		select.id = 'call-audio-track';
		select.setAttribute('aria-label', 'What to play');
		select.append(Object.assign(document.createElement('option'), { value: '', textContent: 'Everyone (room mix)' }));
		for (const t of tracks) select.append(Object.assign(document.createElement('option'), { value: String(t.participant_id), textContent: `Only ${names.get(String(t.participant_id)) || `#${t.participant_id}`}` }));
		select.addEventListener('change', () => load(select.value));
		rec.append(select);
	}
	rec.append(audio, status);
	load('');
}

async function loadCall(id) {
	const c = await api(`/api/calls/${encodeURIComponent(id)}`);
	$('call-h').textContent = `Call in ${c.room}`;
	const facts = $('call-facts');
	facts.replaceChildren();
	const add = (k, v) => { if (v === undefined || v === null || v === '') return; facts.append(text('dt', k)); const dd = document.createElement('dd'); if (v instanceof Node) dd.append(v); else dd.textContent = v; facts.append(dd); };
	add('Outcome', badge(c.outcome));
	add('Interface', c.interface);
	add('Direction', c.direction);
	add('From', c.from_addr);
	add('To', c.to_addr);
	add('CallSid', c.call_sid);
	add('Started', fmtTime(c.started));
	add('Answered', c.answered ? fmtTime(c.answered) : 'not answered');
	add('Ended', fmtTime(c.ended));
	add('Duration', fmtDuration(c.duration_ms));
	add('Human agent', c.human_agent);
	showRecording(c);
	showAnalysis(c);
	const tr = $('call-transcript');
	tr.replaceChildren();
	const agents = new Set(c.participants.filter((p) => p.kind === 'agent').map((p) => p.display));
	if (!c.transcript.length) tr.append(text('li', 'Nothing was transcribed.', 'empty'));
	for (const l of c.transcript) {
		const li = document.createElement('li');
		if (agents.has(l.speaker)) li.className = 'agent';
		li.append(text('span', `${l.speaker} · ${new Date(l.ended).toLocaleTimeString()}`, 'who'), document.createTextNode(l.text));
		tr.append(li);
	}
	const list = (id2, items, empty) => { const ul = $(id2); ul.replaceChildren(); if (!items.length) ul.append(text('li', empty, 'muted')); for (const i of items) ul.append(text('li', i)); };
	list('call-participants', c.participants.map((p) => `${p.display || `#${p.participant_id}`} — ${p.kind}${p.role ? `, ${p.role}` : ''}; ${fmtDuration((p.left_at || c.ended || Date.now()) - p.joined)}${p.reason ? ` (${p.reason})` : ''}`), 'None');
	const turns = $('call-turns');
	turns.replaceChildren();
	if (!c.agent_turns.length) turns.append(text('li', 'No agent turns', 'muted'));
	for (const t of c.agent_turns) {
		const li = text('li', `${t.latency_ms ?? '?'} ms · ${t.stt}/${t.llm}/${t.tts}${t.fallback ? ' · fallback' : ''}${t.interrupted ? ' · interrupted' : ''} — “${t.user_text}”`);
		const bar = turnStages(t);
		if (bar) li.append(bar);
		turns.append(li);
	}
	list('call-transfers', c.transfers.map((t) => `${t.state}: ${t.from_agent || '?'} → ${t.to_target || '?'}${t.summary ? ` — ${t.summary}` : ''}`), 'No transfers');
}

// The call's analysis (made when the call ends): summary, disposition,
// goal, sentiment, the fields asked for, and the caller's mood line by
// line against the time into the call.
const MOOD_CLASS = { positive: 'pos', neutral: 'neu', negative: 'neg' };
function fmtOffset(ms) {
	const s = Math.max(0, Math.round(ms / 1000));
	return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}
function showAnalysis(c) {
	const a = c.analysis;
	$('call-analysis-none').hidden = !!a;
	$('call-analysis-body').hidden = !a;
	if (!a) {
		$('call-analysis-none').textContent = c.outcome
			? 'This call has no analysis (the analysis is off, or it has not finished yet).'
			: 'No analysis yet: a call is analysed when it ends.';
		return;
	}
	const facts = $('call-analysis-facts');
	facts.replaceChildren();
	const add = (dl, k, v) => {
		if (v === undefined || v === null || v === '') return;
		const dd = document.createElement('dd');
		if (v instanceof Node) dd.append(v); else dd.textContent = String(v);
		dl.append(text('dt', k), dd);
	};
	const s = a.sentiment || {};
	add(facts, 'Summary', a.summary);
	add(facts, 'Disposition', labelBadge(a.disposition));
	add(facts, 'Goal met', typeof a.goal_met === 'boolean' ? (a.goal_met ? 'yes' : 'no') : undefined);
	const mood = document.createElement('span');
	mood.append(labelBadge(s.overall), text('span', ' overall · at the end ', 'muted'), labelBadge(s.end));
	if (typeof s.score === 'number') mood.append(text('span', ` · score ${s.score.toFixed(2)}`, 'muted'));
	add(facts, 'Sentiment', mood);
	add(facts, 'Issue', a.issue);
	add(facts, 'Topics', Array.isArray(a.topics) && a.topics.length ? a.topics.join(', ') : undefined);
	add(facts, 'Analysed by', a.engine === 'llm' ? `a language model (${a.provider || '?'})` : `the embedded engine${a.fallback_reason ? ` — ${a.fallback_reason}` : ''}`);
	const fields = $('call-fields');
	fields.replaceChildren();
	const entries = Object.entries(a.fields && typeof a.fields === 'object' ? a.fields : {});
	if (!entries.length) add(fields, 'None', text('span', 'no fields were asked for ([analysis] fields)', 'muted'));
	for (const [k, v] of entries) add(fields, k, v === null ? text('span', 'not found', 'muted') : typeof v === 'object' ? JSON.stringify(v) : v);
	const timeline = Array.isArray(s.timeline) ? s.timeline : [];
	const moods = timeline.map((t) => Math.abs(Number(t.mood) || 0));
	const top = Math.max(1, ...moods);
	lineChart($('chart-call-sentiment'), timeline.map((t, i) => {
		const at = (Number(t.at) || c.started) - c.started;
		const m = Number(t.mood) || 0;
		return { x: at, y: m, label: `${fmtOffset(at)} ${t.label || ''}`.trim(), className: MOOD_CLASS[t.label] || '', title: `Caller line ${i + 1} at ${fmtOffset(at)}: ${t.label} (${m > 0 ? '+' : ''}${m})` };
	}), { xMin: 0, xMax: Math.max(1000, (c.ended || Date.now()) - c.started, ...timeline.map((t) => (Number(t.at) || 0) - c.started)), yMin: -top, yMax: top,
		xFormat: fmtOffset, yFormat: (y) => (y > 0 ? `+${y}` : String(y)), message: 'The caller said nothing the analysis could read.' });
}

// Where a turn's time went: end of speech → STT final → first token →
// first audio → first packet, as a bar of its stages (ms after the caller
// stopped; a stage that did not happen is left out).
const STAGES = [
	['stt', 'stt_final_ms', 'speech → STT final'],
	['llm', 'llm_first_token_ms', 'STT final → first token'],
	['tts', 'tts_first_audio_ms', 'first token → first audio'],
	['send', 'first_packet_ms', 'first audio → first packet'],
];
function turnStages(t) {
	let prev = 0;
	const parts = [];
	for (const [cls, key, label] of STAGES) {
		const at = t[key];
		if (typeof at !== 'number') continue;
		parts.push({ cls, label, ms: Math.max(0, at - prev) });
		prev = Math.max(prev, at);
	}
	if (!parts.length) return null;
	const total = Math.max(1, parts.reduce((n, p) => n + p.ms, 0));
	const wrap = document.createElement('div');
	wrap.className = 'stages';
	const bar = document.createElement('div');
	bar.className = 'stage-bar';
	for (const p of parts) {
		const seg = document.createElement('span');
		seg.className = `stage stage-${p.cls}`;
		seg.style.width = `${(100 * p.ms) / total}%`;
		seg.title = `${p.label}: ${p.ms} ms`;
		bar.append(seg);
	}
	wrap.append(bar, text('span', parts.map((p) => `${p.cls} ${p.ms}`).join(' · ') + ` ms → ${prev} ms after the caller stopped`, 'stage-legend'));
	return wrap;
}

// ---- analytics ----
function kpi(label, value) {
	const d = document.createElement('div');
	d.className = 'kpi';
	d.append(text('b', value), text('span', label));
	return d;
}

async function loadAnalytics() {
	const a = await api(`/api/analytics?range=${state.range}`);
	const pct = (x) => `${Math.round(x * 100)}%`;
	$('kpis').replaceChildren(
		kpi('calls', String(a.totals.calls)),
		kpi('average duration', fmtDuration(a.totals.avg_duration_ms)),
		kpi('handled by the AI', String(a.totals.ai_handled)),
		kpi('transferred', String(a.totals.transferred)),
		kpi('abandoned', String(a.totals.abandoned)),
		kpi('turn latency p50 / p95', a.agent.latency_ms.count ? `${a.agent.latency_ms.p50} / ${a.agent.latency_ms.p95} ms` : '—'),
		kpi('provider fallback rate', pct(a.agent.fallback_rate)),
		kpi('transfer success', a.transfers.total ? pct(a.transfers.success_rate) : '—'),
		kpi('average caller sentiment', a.sentiment.avg_score === null ? '—' : `${a.sentiment.avg_score > 0 ? '+' : ''}${a.sentiment.avg_score.toFixed(2)}`),
	);
	// Every day of the range, with the empty ones.
	const days = [];
	const byDate = new Map(a.per_day.map((d) => [d.date, d.calls]));
	const n = { '1d': 1, '7d': 7, '30d': 30, '90d': 90 }[state.range];
	for (let i = n - 1; i >= 0; i--) {
		const d = new Date(a.to - i * 86400000).toISOString().slice(0, 10);
		days.push({ label: d.slice(5), value: byDate.get(d) || 0, title: `${d}: ${byDate.get(d) || 0} calls` });
	}
	barChart($('chart-days'), days);
	const hours = Array.from({ length: 24 }, (_, h) => ({ label: String(h), value: a.per_hour.find((x) => x.hour === h)?.calls || 0 }));
	barChart($('chart-hours'), hours);
	hbarChart($('chart-interfaces'), a.by_interface.map((x) => ({ label: x.interface, value: x.calls })));
	hbarChart($('chart-outcomes'), a.by_outcome.map((x) => ({ label: x.outcome, value: x.calls })),
		{ colors: { ai_handled: '#2f6fde', transferred: '#7c4ddc', completed: '#1f9d55', abandoned: '#c93a3a', failed: '#c93a3a' } });
	showSentiment(a);
	const l = a.agent.latency_ms;
	hbarChart($('chart-latency'), l.count ? ['p50', 'p90', 'p95', 'p99'].map((p) => ({ label: p, value: l[p] })) : [], { format: (v) => `${v} ms` });
	hbarChart($('chart-agents'), a.human_agents.map((x) => ({ label: x.agent || '?', value: x.avg_handle_ms })), { format: fmtDuration });
}

// The analysed calls' sentiment per bucket (an hour for "Today", else a
// day), every bucket of the range with the empty ones: the labels stacked,
// and the average score as a line that breaks where nothing was analysed.
function showSentiment(a) {
	const s = a.sentiment;
	const size = s.bucket_ms;
	const hourly = s.bucket === 'hour';
	const byStart = new Map(s.per_bucket.map((b) => [b.start, b]));
	const buckets = [];
	for (let t = Math.floor(a.from / size) * size; t <= a.to; t += size) {
		const iso = new Date(t).toISOString();
		const label = hourly ? iso.slice(11, 13) : iso.slice(5, 10);
		buckets.push({ start: t, label, title: hourly ? `${iso.slice(0, 13)}:00 UTC` : iso.slice(0, 10), b: byStart.get(t) });
	}
	const per = hourly ? 'per hour (UTC)' : 'per day';
	$('chart-sentiment-caption').textContent = `Caller sentiment ${per}`;
	$('chart-score-caption').textContent = `Average sentiment score ${per} (−1 … 1)`;
	stackedBarChart($('chart-sentiment'), buckets.map((x) => ({ label: x.label, title: x.title, values: [x.b?.positive || 0, x.b?.neutral || 0, x.b?.negative || 0] })),
		[{ name: 'positive', className: 'pos' }, { name: 'neutral', className: 'neu' }, { name: 'negative', className: 'neg' }],
		{ message: 'No analysed calls in this range yet' });
	const xs = buckets.map((x) => x.start);
	lineChart($('chart-score'), buckets.map((x) => ({
		x: x.start, y: x.b?.avg_score ?? null, label: x.label,
		className: x.b?.avg_score > 0 ? 'pos' : x.b?.avg_score < 0 ? 'neg' : 'neu',
		title: `${x.title}: ${x.b?.avg_score?.toFixed(2)} over ${x.b?.calls} call${x.b?.calls === 1 ? '' : 's'}`,
	})), { xMin: xs[0], xMax: xs[xs.length - 1], yMin: -1, yMax: 1, xFormat: (t) => { const iso = new Date(t).toISOString(); return hourly ? iso.slice(11, 16) : iso.slice(5, 10); },
		yFormat: (y) => (y > 0 ? `+${y.toFixed(2)}` : y.toFixed(2)), message: 'No analysed calls in this range yet' });
}

// ---- transfers ----
async function loadTransfers() {
	const agent = new FormData($('transfer-filter')).get('agent_id');
	const r = await api(`/api/transfers/history?limit=100${agent ? `&agent_id=${encodeURIComponent(agent)}` : ''}`);
	const body = $('transfers-body');
	body.replaceChildren();
	if (!r.transfers.length) {
		const tr = document.createElement('tr');
		const td = text('td', 'No transfers yet.', 'empty');
		td.colSpan = 7;
		tr.append(td);
		body.append(tr);
	}
	for (const t of r.transfers) {
		const tr = document.createElement('tr');
		const took = t.completed && t.initiated ? fmtDuration(t.completed - t.initiated) : '—';
		tr.append(text('td', fmtTime(t.initiated)), text('td', t.room || '—'), text('td', t.from_agent || '—'), text('td', t.to_target || '—'),
			text('td', t.state), text('td', took), text('td', t.summary || t.failure || ''));
		if (t.call_id) tr.addEventListener('click', () => { location.hash = `call/${encodeURIComponent(t.call_id)}`; });
		body.append(tr);
	}
}

// ---- start ----
function start() {
	$('key-form').hidden = true;
	document.querySelector('main').hidden = false;
	showError('');
	connectNotifications();
	route();
}

$('key-form').addEventListener('submit', (e) => {
	e.preventDefault();
	key = $('key-input').value.trim();
	sessionStorage.setItem('sb-api-key', key);
	start();
});
$('filters').addEventListener('submit', (e) => {
	e.preventDefault();
	state.filters = Object.fromEntries([...new FormData(e.target)].filter(([, v]) => v));
	// "To" a date includes that day.
	if (state.filters.to) state.filters.to = new Date(Date.parse(state.filters.to) + 86400000).toISOString().slice(0, 10);
	state.page = 1;
	if (location.hash !== '#history') location.hash = 'history';
	else loadCalls().catch(fail);
});
$('export-csv').addEventListener('click', (e) => exportCsv(e).catch(fail));
$('prev').addEventListener('click', () => { state.page--; loadCalls().catch(fail); });
$('next').addEventListener('click', () => { state.page++; loadCalls().catch(fail); });
$('transfer-filter').addEventListener('submit', (e) => { e.preventDefault(); loadTransfers().catch(fail); });
for (const b of document.querySelectorAll('.ranges button')) {
	b.addEventListener('click', () => {
		state.range = b.dataset.range;
		for (const o of document.querySelectorAll('.ranges button')) o.classList.toggle('on', o === b);
		loadAnalytics().catch(fail);
	});
}
window.addEventListener('hashchange', route);
if (key) start();
else askKey();
