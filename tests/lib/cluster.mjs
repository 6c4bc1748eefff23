// Cluster nodes for the tests (README, "Running several nodes"): each a
// Janus with the plugin on its own ports, all on one PostgreSQL, sharing
// the token secret (join and console tokens, Twilio's room grants work on
// every node) and the API key.
import { withSipRoomSecret } from './sip.mjs';
import { pluginConfigWithStore } from './store.mjs';
import { API_KEY } from './janus.mjs';

export const TOKEN_SECRET = 'cluster-test-token-secret-0123456789';

// The plugin config of node `id` on the database at conninfo: its
// [cluster] section with the URLs it advertises.  `base` may rewrite the
// config before the section is added (a test's own settings).
export function clusterNodeConfig(conninfo, { id, janusUrl, restUrl, sipPort, heartbeatMs = 200, deadAfterMs = 1500, base = (c) => c }) {
	const conf = base(withSipRoomSecret(pluginConfigWithStore(conninfo)))
		.replace('#jwt_secret = "change-me-too"', `jwt_secret = "${TOKEN_SECRET}"`);
	if (!conf.includes(TOKEN_SECRET)) throw new Error('the plugin config has no #jwt_secret line to set');
	return `${conf}
cluster: {
	node_id = "${id}"
	janus_url = "${janusUrl}"
	rest_url = "${restUrl}"
	sip_uri = "sip:127.0.0.1:${sipPort}"
	heartbeat_ms = "${heartbeatMs}"
	dead_after_ms = "${deadAfterMs}"
}
`;
}

// REST on a node (its apiUrl), with the API key (or `token`): {status, json, text}.
export async function restOn(node, method, path, body, { token = API_KEY, headers = {} } = {}) {
	const res = await fetch(`${node.apiUrl}${path}`, {
		method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
		body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(10000),
	});
	const text = await res.text();
	let json = null;
	try { json = JSON.parse(text); } catch { /* not JSON */ }
	return { status: res.status, json, text };
}
