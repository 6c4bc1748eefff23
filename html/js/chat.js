// The chat panel: lines come from Switchboard's room events
// ({"chat": {id, display, text, timestamp}}), and go out as `chat` requests.

const MAX_LINES = 200;

export class ChatPanel {
	// send(text) → Promise; throws with a message to show
	constructor({ log, empty, form, input, button }, send) {
		Object.assign(this, { log, empty, form, input, button, send });
		this.lines = [];
		form.addEventListener('submit', (ev) => {
			ev.preventDefault();
			this.#submit();
		});
	}

	async #submit() {
		const text = this.input.value.trim();
		if (!text) return;
		this.button.disabled = true;
		try {
			await this.send(text);
			this.input.value = '';
			this.#note(null);
		} catch (e) {
			this.#note(`Not sent: ${e.message}`);
		} finally {
			this.button.disabled = false;
			this.input.focus();
		}
	}

	// A line from the room. `myId` marks our own lines.
	add(line, myId) {
		const entry = {
			id: line.id,
			display: line.display || `#${line.id}`,
			text: String(line.text ?? ''),
			timestamp: line.timestamp || Date.now(),
			mine: line.id === myId,
		};
		this.lines.push(entry);
		if (this.lines.length > MAX_LINES) this.lines.shift();
		const li = document.createElement('li');
		li.className = entry.mine ? 'mine' : '';
		const head = document.createElement('div');
		head.className = 'chat-head';
		const who = document.createElement('span');
		who.className = 'chat-who';
		who.textContent = entry.mine ? `${entry.display} (you)` : entry.display; // textContent: names and text come from others
		const time = document.createElement('time');
		const at = new Date(entry.timestamp);
		time.dateTime = at.toISOString();
		time.textContent = at.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
		head.append(who, time);
		const body = document.createElement('p');
		body.className = 'chat-text';
		body.textContent = entry.text;
		li.append(head, body);
		this.log.append(li);
		while (this.log.children.length > MAX_LINES) this.log.firstElementChild.remove();
		this.empty.hidden = true;
		this.log.scrollTop = this.log.scrollHeight;
	}

	#note(text) {
		let n = this.form.querySelector('.chat-note');
		if (!text) return n?.remove();
		if (!n) {
			n = document.createElement('p');
			n.className = 'chat-note';
			n.setAttribute('role', 'alert');
			this.form.append(n);
		}
		n.textContent = text;
	}

	setEnabled(on) {
		this.input.disabled = !on;
		this.button.disabled = !on;
	}

	clear() {
		this.lines = [];
		this.log.replaceChildren();
		this.empty.hidden = false;
		this.#note(null);
	}
}
