// window.switchboardTest: what the end-to-end tests read (tests/e2e/).
// Read-only views of the page's state; nothing here changes the call.
import { spectrum, magnitudeAt, startRecording, stopRecording } from './audio-analyser.js';
import { tileReport } from './tiles.js';

export function installTestHooks({ plugin, janusUrl, apiUrl, app, audio, video, chat }) {
	window.switchboardTest = {
		plugin,
		janusUrl,
		apiUrl,
		spectrum,
		magnitudeAt,
		startRecording,
		stopRecording,
		state: () => ({
			phase: app.phase,
			room: audio.room,
			id: audio.myId,
			display: audio.display,
			muted: audio.muted,
			camera: app.camera,
			agent: audio.agent,
			participants: [...audio.participants.values()].map((p) => ({ ...p })),
		}),
		// Per tile: name, hasVideo, videoWidth/Height, totalVideoFrames.
		tiles: tileReport,
		chat: () => chat.lines.map((l) => ({ ...l })),
		video: () => {
			const v = video();
			return {
				started: !!v && !v.closed,
				room: v?.room ?? null, // the VideoRoom's id, from the join answer
				myFeed: v?.myFeed ?? null,
				cameraOn: !!v?.cameraOn,
				localVideo: !!v?.localStream,
				feeds: v ? [...v.feeds.values()].map((f) => ({ id: f.id, display: f.display, hasStream: !!f.stream })) : [],
			};
		},
	};
}
