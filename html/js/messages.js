// Words for people: what an invitation token says, and why a join failed.

// The payload of a JWT, unverified: only to show whom the invitation is for
// (the server checks the signature when we join).
export function tokenClaims(token) {
	try {
		const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
		const bytes = Uint8Array.from(atob(part.padEnd(Math.ceil(part.length / 4) * 4, '=')), (c) => c.charCodeAt(0));
		const claims = JSON.parse(new TextDecoder().decode(bytes));
		if (!claims || typeof claims !== 'object') return null;
		// A LiveKit access token (AccessToken) names its room in its video grant.
		if (!claims.room && typeof claims.video?.room === 'string') claims.room = claims.video.room;
		return claims;
	} catch {
		return null;
	}
}

const FRIENDLY = {
	486: (room) => `Room "${room}" does not exist.`,
	487: (room) => `Room "${room}" already exists.`,
	492: () => 'The server could not use this browser\'s audio offer.',
	493: () => 'The room or server is full.',
};

// `e`: an ApiError (code, reason) or any Error. `withToken`: the join
// carried an invitation token.
export function describeJoinError(e, room, withToken) {
	if (e.code === undefined) return e.message;
	let text = FRIENDLY[e.code]?.(room);
	if (e.code === 488) {
		// "Unauthorized (invalid token signature)" → "invalid token signature"
		const why = (/\(([^)]*)\)/.exec(e.reason) || [])[1] || e.reason;
		if (withToken) return `Your invitation token was refused (${why}). Ask for a new invitation link. (error ${e.code})`;
		if (/token/.test(why)) text = `This room needs an invitation: ${why}. Open the link you were sent.`;
		else text = `Not allowed: ${why || 'wrong PIN or secret'}.`;
	}
	return `Could not join: ${text ?? e.message} (error ${e.code})`;
}
