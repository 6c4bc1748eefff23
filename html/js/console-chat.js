// WhatsApp chats on the agent console: chats the AI handed over wait in the
// console queue (kind "whatsapp"); the agent takes one (queue_take with the
// conversation), reads the history and the AI summary, replies (chat_reply:
// sent through Twilio's Messages.json, 24-hour rule applies) and gives the
// chat back to the AI (chat_release).  New messages from the user arrive on
// /ws/console, opened with the agent's console token: it carries only the
// queue, presence and this agent's own chats' events, never the whole bus
// (/ws/notifications is the operator's).  Requests
// go through the console's own Janus handle (console.js `op`), so the
// server knows which agent acts.
import { op, state } from './console.js';

const params = new URLSearchParams(location.search);
const API_URL = params.get('api') || location.origin;
const $ = (id) => document.getElementById(id);

const chats = new Map(); // conversation -> {from, profile_name, summary, messages, ended}
const errors = [];
let ws = null;

const section = document.createElement('section');
section.className = 'card console-card';
section.id = 'chats';
section.innerHTML = '<h2>WhatsApp chats</h2><ul id="chat-queue" class="list"></ul>' +
	'<p id="chat-queue-empty" class="muted">No chat is waiting.</p><div id="chat-list"></div>';

function el(tag, text, cls) {
	const e = document.createElement(tag);
	if (text !== undefined) e.textContent = text;
	if (cls) e.className = cls;
	return e;
}

function fail(what, e) {
	errors.push(`${what}: ${e.message}`);
	render();
}

function openConsoleSocket() {
	if (ws || !state.token) return;
	// The token in the query: a browser cannot set headers on an upgrade.
	ws = new WebSocket(`${API_URL.replace(/^http/, 'ws')}/ws/console?token=${encodeURIComponent(state.token)}`);
	ws.onmessage = (m) => {
		let ev;
		try { ev = JSON.parse(m.data); } catch { return; }
		const chat = chats.get(ev.conversation);
		if (!chat) return;
		if (ev.type === 'whatsapp_message' && ev.agentId === state.agentId) {
			chat.messages.push({ direction: ev.direction, by: ev.direction === 'inbound' ? 'user' : 'agent', body: ev.body });
		} else if (ev.type === 'chat_ended') {
			chat.ended = ev.reason || 'ended';
		} else {
			return;
		}
		render();
	};
	ws.onclose = () => { ws = null; };
}

async function take(entry) {
	try {
		const r = await op({ request: 'queue_take', conversation: entry.conversation });
		chats.set(entry.conversation, {
			from: r.from, profile_name: r.profile_name, summary: entry.details?.summary || null,
			messages: r.messages || [], ended: null,
		});
	} catch (e) {
		fail('Could not take the chat', e);
	}
	render();
}

async function reply(conversation, input) {
	const text = input.value.trim();
	if (!text) return;
	try {
		await op({ request: 'chat_reply', conversation, text });
		input.value = '';
	} catch (e) {
		fail('Reply not sent', e);
	}
}

async function release(conversation) {
	try {
		if (!chats.get(conversation)?.ended) await op({ request: 'chat_release', conversation });
		chats.delete(conversation);
	} catch (e) {
		fail('Could not release the chat', e);
	}
	render();
}

function summaryLine(s) {
	if (!s) return 'No summary.';
	const who = s.caller?.name ? `${s.caller.name}: ` : '';
	return `${who}${s.issue || '—'} (mood ${s.mood || '—'}; next: ${s.next_step || '—'})`;
}

function chatView(conversation, chat) {
	const box = el('div', undefined, 'chat');
	box.dataset.conversation = conversation;
	box.append(el('h3', `${chat.profile_name || chat.from} (${chat.from})${chat.ended ? ` — ended (${chat.ended})` : ''}`));
	box.append(el('p', summaryLine(chat.summary), 'summary'));
	const log = el('ol', undefined, 'transcript chat-messages');
	log.replaceChildren(...chat.messages.map((m) => el('li', `${m.direction === 'inbound' ? 'User' : m.by === 'ai' ? 'AI' : 'Agent'}: ${m.body}`)));
	box.append(log);
	const form = el('form', undefined, 'chat-reply');
	const input = el('input');
	input.maxLength = 1600;
	input.placeholder = 'Reply on WhatsApp';
	input.disabled = !!chat.ended;
	form.append(input, el('button', 'Send'));
	form.onsubmit = (ev) => { ev.preventDefault(); reply(conversation, input); };
	const back = el('button', chat.ended ? 'Close' : 'Give back to the AI', 'chat-release');
	back.type = 'button';
	back.onclick = () => release(conversation);
	box.append(form, back);
	return box;
}

function render() {
	const signedIn = state.phase === 'signed-in' && state.role === 'agent';
	section.hidden = !signedIn;
	if (!signedIn) {
		ws?.close();
		return;
	}
	openConsoleSocket();
	const waiting = state.queue.filter((q) => q.kind === 'whatsapp');
	$('chat-queue').replaceChildren(...waiting.map((q) => {
		const li = el('li');
		const issue = q.details?.summary?.issue;
		li.append(el('span', `${q.details?.profile_name || q.details?.from || q.conversation}${issue ? `: ${issue}` : ''}`));
		const b = el('button', 'Take', 'take-chat');
		b.dataset.conversation = q.conversation;
		b.onclick = () => take(q);
		li.append(b);
		return li;
	}));
	$('chat-queue-empty').hidden = waiting.length > 0;
	// Keep what the agent is typing: only rebuild chats that changed.
	const list = $('chat-list');
	for (const node of [...list.children]) if (!chats.has(node.dataset.conversation)) node.remove();
	for (const [conversation, chat] of chats) {
		const key = `${chat.messages.length}/${chat.ended}`;
		const old = [...list.children].find((n) => n.dataset.conversation === conversation);
		if (old && old.dataset.key === key) continue;
		const view = chatView(conversation, chat);
		view.dataset.key = key;
		const typed = old?.querySelector('input')?.value;
		if (typed) view.querySelector('input').value = typed;
		if (old) old.replaceWith(view); else list.append(view);
	}
}

$('console').insertBefore(section, $('console').children[2] || null);
document.addEventListener('console-render', render);
render();

// What the end-to-end tests read (tests/e2e/twilio-whatsapp-console.test.mjs).
window.consoleChatTest = {
	chats: () => Object.fromEntries([...chats].map(([k, v]) => [k, JSON.parse(JSON.stringify(v))])),
	errors: () => [...errors],
	notificationsOpen: () => ws?.readyState === WebSocket.OPEN,
};
