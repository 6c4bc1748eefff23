// DOM access and rendering that is not tiles or chat: status, errors,
// notices, the participant list, the controls, the lobby form.

const $ = (id) => document.getElementById(id);

export const dom = {
	body: document.body,
	form: $('join-form'), room: $('room'), display: $('display'), createMissing: $('create-missing'),
	createMissingLabel: $('create-missing-label'), join: $('join'), invite: $('invite'), lobby: $('lobby'),
	status: $('status'), roomLabel: $('room-label'),
	error: $('error'), errorText: $('error-text'), errorCreate: $('error-create'),
	notice: $('notice'), noticeText: $('notice-text'), noticeClose: $('notice-close'),
	call: $('call'), roomName: $('room-name'), tiles: $('tiles'), side: $('side'),
	count: $('count'), list: $('participants'), agentState: $('agent-state'),
	mute: $('mute'), camera: $('camera'), agent: $('agent'), leave: $('leave'),
	audio: $('remote-audio'),
	chat: {
		log: $('chat-log'), empty: $('chat-empty'), form: $('chat-form'),
		input: $('chat-input'), button: $('chat-send'),
	},
};

export function setStatus(text, kind) {
	dom.status.textContent = text;
	dom.status.dataset.state = kind;
}

// `missingRoom`: offer to create it (the join said "no such room").
export function showError(text, missingRoom = null) {
	dom.errorText.textContent = text;
	dom.errorCreate.hidden = !missingRoom;
	dom.error.hidden = false;
}

export function hideError() {
	dom.error.hidden = true;
}

// Warnings that do not stop the call (camera missing, REST server down…).
export function showNotice(text) {
	dom.noticeText.textContent = text;
	dom.notice.hidden = false;
}

export function hideNotice() {
	dom.notice.hidden = true;
}

// textContent only: display names come from other people.
function el(tag, className, text = '') {
	return Object.assign(document.createElement(tag), { className, textContent: text });
}

const KIND_LABEL = { rtp: 'phone line', sip: 'phone', twilio: 'phone', agent: 'AI agent' };

export function renderParticipants(participants) {
	dom.count.textContent = String(participants.length);
	dom.list.replaceChildren(...participants.map((p) => {
		const li = el('li', p.talking ? 'talking' : '');
		li.dataset.id = String(p.id);
		li.append(el('span', 'talk-dot'), el('span', 'name', p.display || `#${p.id}`));
		if (p.me) li.append(el('span', 'me', '(you)'));
		if (KIND_LABEL[p.kind]) li.append(el('span', 'kind', KIND_LABEL[p.kind]));
		if (p.muted) li.append(el('span', 'badge', 'muted'));
		if (p.talking) li.setAttribute('aria-label', `${p.display}, talking`);
		return li;
	}));
}

// view: {phase, inCall, busy, room, muted, cameraOn, cameraBusy, agent, agentBusy, token}
export function renderFrame(view) {
	dom.body.dataset.phase = view.inCall ? 'call' : 'lobby';
	dom.lobby.hidden = view.inCall;
	dom.form.hidden = view.inCall;
	dom.call.hidden = !view.inCall;
	dom.side.hidden = !view.inCall;
	dom.join.disabled = view.busy;
	dom.join.textContent = view.busy ? 'Joining…' : 'Join';
	dom.roomName.textContent = view.room ?? '';
	dom.roomLabel.textContent = view.room ? `Room ${view.room}` : '';
	dom.roomLabel.hidden = !view.inCall;

	// Before joining the buttons are choices for the join, pressed = chosen.
	dom.mute.textContent = view.inCall ? (view.muted ? 'Unmute' : 'Mute') : 'Join muted';
	dom.mute.setAttribute('aria-pressed', String(view.muted));
	const camOff = !view.cameraOn;
	dom.camera.textContent = view.inCall ? (camOff ? 'Start video' : 'Stop video') : 'Camera off';
	dom.camera.setAttribute('aria-pressed', String(camOff));
	dom.camera.disabled = !!view.cameraBusy;

	dom.agent.hidden = !view.inCall;
	dom.agent.disabled = !!view.agentBusy || view.agent === null;
	dom.agent.setAttribute('aria-pressed', String(view.agent === true));
	dom.agent.textContent = `Agent: ${view.agent ? 'on' : 'off'}`;
	dom.agentState.textContent = view.agent === null ? 'unknown' : (view.agent ? 'on' : 'off');
	dom.agentState.dataset.on = String(view.agent === true);
	dom.leave.hidden = !view.inCall;
}

// With an invitation token the room and the name come from the token.
export function lockToInvitation(claims) {
	if (claims.room) {
		dom.room.value = claims.room;
		dom.room.readOnly = true;
	}
	if (claims.name) {
		dom.display.value = claims.name;
		dom.display.readOnly = true;
	}
	dom.createMissingLabel.hidden = true;
	dom.invite.textContent = claims.name
		? `You are invited as ${claims.name}${claims.room ? ` to room ${claims.room}` : ''}.`
		: 'You have an invitation link.';
	dom.invite.hidden = false;
}

export function markInvitationRefused() {
	dom.invite.classList.add('refused');
	dom.invite.textContent = 'The server refused this invitation link.';
}
