// The video grid: one tile per person (Switchboard participant), with their
// camera when it is on, otherwise an avatar with their initials. Tile
// elements persist across renders so that playing videos are not reset.

const tiles = new Map(); // key → {el, video, avatar, name, badge, stream}

function initials(name) {
	const words = String(name || '?').trim().split(/\s+/).filter(Boolean);
	const first = [...(words[0] || '?')][0];
	const last = words.length > 1 ? [...words[words.length - 1]][0] : '';
	return (first + last).toUpperCase();
}

// A stable hue per name so avatars are told apart at a glance.
function hue(name) {
	let h = 0;
	for (const c of String(name)) h = (h * 31 + c.codePointAt(0)) % 360;
	return h;
}

function createTile(key) {
	const el = document.createElement('figure');
	el.className = 'tile';
	el.dataset.key = key;
	const video = document.createElement('video');
	video.autoplay = true;
	video.playsInline = true;
	video.muted = true; // sound comes through Switchboard's mix
	const avatar = document.createElement('div');
	avatar.className = 'avatar';
	avatar.setAttribute('aria-hidden', 'true');
	const caption = document.createElement('figcaption');
	const name = document.createElement('span');
	name.className = 'tile-name';
	const badge = document.createElement('span');
	badge.className = 'tile-badge';
	caption.append(name, badge);
	el.append(video, avatar, caption);
	return { el, video, avatar, name, badge, stream: null };
}

// models: [{key, name, me, talking, muted, stream, note}]
export function renderTiles(container, models) {
	const seen = new Set();
	for (const m of models) {
		seen.add(m.key);
		let t = tiles.get(m.key);
		if (!t) {
			t = createTile(m.key);
			tiles.set(m.key, t);
		}
		const label = m.me ? `${m.name} (you)` : m.name;
		if (t.name.textContent !== label) t.name.textContent = label;
		t.el.dataset.name = m.name;
		t.el.classList.toggle('me', !!m.me);
		t.el.classList.toggle('talking', !!m.talking);
		t.el.classList.toggle('has-video', !!m.stream);
		t.el.setAttribute('aria-label', `${label}${m.stream ? '' : ', camera off'}${m.talking ? ', talking' : ''}`);
		t.badge.textContent = m.muted ? 'muted' : (m.note || '');
		t.badge.hidden = !t.badge.textContent;
		t.avatar.textContent = initials(m.name);
		t.avatar.style.setProperty('--hue', hue(m.name));
		if (t.stream !== m.stream) {
			t.stream = m.stream;
			t.video.srcObject = m.stream || null;
			if (m.stream) t.video.play().catch(() => {});
		}
		t.video.hidden = !m.stream;
		t.avatar.hidden = !!m.stream;
		// Keep DOM order = model order without moving nodes needlessly.
		if (container.children[models.indexOf(m)] !== t.el) container.insertBefore(t.el, container.children[models.indexOf(m)] || null);
	}
	for (const [key, t] of tiles) {
		if (seen.has(key)) continue;
		t.video.srcObject = null;
		t.el.remove();
		tiles.delete(key);
	}
	container.dataset.count = String(models.length);
}

// For the tests: what each tile shows right now.
export function tileReport() {
	return [...tiles.values()].map((t) => {
		const q = t.video.getVideoPlaybackQuality?.();
		return {
			key: t.el.dataset.key,
			name: t.el.dataset.name,
			me: t.el.classList.contains('me'),
			talking: t.el.classList.contains('talking'),
			hasVideo: !!t.stream && !t.video.hidden,
			videoWidth: t.video.videoWidth,
			videoHeight: t.video.videoHeight,
			totalVideoFrames: q ? q.totalVideoFrames : 0,
		};
	});
}
