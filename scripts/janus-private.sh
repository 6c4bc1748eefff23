#!/bin/bash
# Starts a private Janus in the foreground: our plugin + stock VideoRoom and
# AudioBridge, stock HTTP (8088, Admin 7088) and WebSockets (8188)
# transports, all on loopback. Needs a built tree (scripts/build.sh).
#
# Environment:
#   SWITCHBOARD_RUN_DIR   where the generated config and folders go (.run)
#   JANUS_ADMIN_SECRET    Admin API secret: required, no default (scripts/run.sh
#                         makes one for its demo); letters, digits and ._~+/=-
#   JANUS_ALLOW_ORIGIN    the one origin whose pages may use the Janus API
#                         (HTTP: Access-Control-Allow-Origin; WebSockets:
#                         handshakes from any other origin are refused);
#                         default the call page's own,
#                         http://127.0.0.1:$SWITCHBOARD_HTTP_PORT; "*": any
#   JANUS_VIDEOROOM_ADMIN_KEY  the VideoRoom's admin_key: only who knows it
#                         creates VideoRooms (the plugin); default: a fresh
#                         random one per start
#   JANUS_API_SECRET      when set, every Janus API request must carry it
#                         ("apisecret"; the call page takes ?apisecret=)
#   JANUS_RTP_PORT_RANGE  WebRTC media ports (default: 20000-29999)
#   JANUS_ICE_INTERFACES  interfaces ICE may use (default: lo)
#   JANUS_DEBUG_LEVEL     0-7 (default 4)
#   JANUS_HTTP_PORT, JANUS_ADMIN_PORT, JANUS_WS_PORT   (8088, 7088, 8188)
#   SWITCHBOARD_RTP_PORT_RANGE  plain RTP participants (default from the
#                         plugin config, 40000-40999)
#   SWITCHBOARD_HTTP_PORT REST/pages/notifications (default 8080)
#   SWITCHBOARD_SIP_PORT  the SIP bridge, UDP and TCP (default 5060)
#   SWITCHBOARD_API_KEY   REST bearer key (generated and logged if unset)
#   SWITCHBOARD_KB, SWITCHBOARD_HTML_FOLDER  the knowledge base and the pages
#                         when the plugin config names none (default: this
#                         checkout's conf/knowledge-base.json and html/; the
#                         plugin itself knows only the installed ones)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"

# Secrets go into config files: only characters that need no quoting there.
secret_ok() { [[ "$1" =~ ^[A-Za-z0-9._~+/=-]{8,128}$ ]]; }
random_secret() { head -c 24 /dev/urandom | base64 | tr '+/' '-_' | tr -d '='; }
if [ -z "${JANUS_ADMIN_SECRET:-}" ]; then
	echo "janus-private: set JANUS_ADMIN_SECRET (the Admin API secret; there is no default)" >&2
	exit 1
fi
secret_ok "$JANUS_ADMIN_SECRET" || {
	echo "janus-private: JANUS_ADMIN_SECRET must be 8 to 128 of A-Z a-z 0-9 . _ ~ + / = -" >&2
	exit 1
}
videoroom_key="${JANUS_VIDEOROOM_ADMIN_KEY:-$(random_secret)}"
secret_ok "$videoroom_key" || {
	echo "janus-private: JANUS_VIDEOROOM_ADMIN_KEY must be 8 to 128 of A-Z a-z 0-9 . _ ~ + / = -" >&2
	exit 1
}
allow_origin="${JANUS_ALLOW_ORIGIN:-http://127.0.0.1:${SWITCHBOARD_HTTP_PORT:-8080}}"
[[ "$allow_origin" =~ ^(\*|https?://[A-Za-z0-9.:-]+)$ ]] || {
	echo "janus-private: JANUS_ALLOW_ORIGIN must be one origin (scheme://host[:port]) or *" >&2
	exit 1
}
run_dir="${SWITCHBOARD_RUN_DIR:-$repo/.run}"
plugin="${SWITCHBOARD_PLUGIN_SO:-$repo/build/plugins/switchboard/.libs/libjanus_switchboard.so}"
stock=/usr/lib/x86_64-linux-gnu/janus
[ -d "$stock" ] || stock="$(dirname "$(dpkg -L janus | grep -m1 '/janus/plugins/')")/.."

if [ ! -f "$plugin" ]; then
	echo "janus-private: $plugin not built; run scripts/build.sh first" >&2
	exit 1
fi

# A test's own plugin config often names neither: the plugin would look
# where `make install` puts them, not in this checkout.
export SWITCHBOARD_KB="${SWITCHBOARD_KB:-$repo/conf/knowledge-base.json}"
export SWITCHBOARD_HTML_FOLDER="${SWITCHBOARD_HTML_FOLDER:-$repo/html}"

rm -rf "$run_dir"
mkdir -p "$run_dir"/{conf,plugins,transports,events,loggers}
chmod 700 "$run_dir/conf" # the configs below hold secrets
ln -s "$plugin" "$run_dir/plugins/"
ln -s "$stock/plugins/libjanus_videoroom.so" "$run_dir/plugins/"
ln -s "$stock/plugins/libjanus_audiobridge.so" "$run_dir/plugins/"
ln -s "$stock/transports/libjanus_http.so" "$run_dir/transports/"
ln -s "$stock/transports/libjanus_websockets.so" "$run_dir/transports/"
cp "$repo"/conf/*.jcfg "$run_dir/conf/"
if [ -n "${SWITCHBOARD_PLUGIN_CONFIG:-}" ]; then
	cp "$SWITCHBOARD_PLUGIN_CONFIG" "$run_dir/conf/janus.plugin.switchboard.jcfg"
fi
# Ports can move so that several private instances (tests, benchmarks) can
# run side by side.
sed -i -e "s/^\(\s*port = \)8088/\1${JANUS_HTTP_PORT:-8088}/" \
	-e "s/^\(\s*admin_port = \)7088/\1${JANUS_ADMIN_PORT:-7088}/" \
	"$run_dir/conf/janus.transport.http.jcfg"
sed -i -e "s/^\(\s*ws_port = \)8188/\1${JANUS_WS_PORT:-8188}/" \
	"$run_dir/conf/janus.transport.websockets.jcfg"
# Which pages may use the Janus API (docs/security.md, "Secrets").
if [ "$allow_origin" = "*" ]; then
	sed -i -e '/@ALLOW_ORIGIN@/d' -e '/enforce_cors/d' \
		"$run_dir/conf/janus.transport.http.jcfg" "$run_dir/conf/janus.transport.websockets.jcfg"
else
	sed -i -e "s|@ALLOW_ORIGIN@|$allow_origin|g" \
		"$run_dir/conf/janus.transport.http.jcfg" "$run_dir/conf/janus.transport.websockets.jcfg"
fi
sed -i -e "s|@VIDEOROOM_ADMIN_KEY@|$videoroom_key|g" "$run_dir/conf/janus.plugin.videoroom.jcfg"
# The plugin creates VideoRooms through the Admin API: it needs its URL, the
# Admin API secret and the VideoRoom's admin_key ([video]).  A config
# without a [video] section (a test's own) gets one.
plugin_conf="$run_dir/conf/janus.plugin.switchboard.jcfg"
if ! grep -q '^video:' "$plugin_conf"; then
	cat >>"$plugin_conf" <<-'VIDEO'

	video: {
		admin_url = "http://127.0.0.1:@JANUS_ADMIN_PORT@/admin"
		admin_secret = "@JANUS_ADMIN_SECRET@"
		admin_key = "@VIDEOROOM_ADMIN_KEY@"
	}
	VIDEO
fi
sed -i -e "s|@REPO@|$repo|g" -e "s|@JANUS_HTTP_PORT@|${JANUS_HTTP_PORT:-8088}|g" \
	-e "s|@JANUS_ADMIN_PORT@|${JANUS_ADMIN_PORT:-7088}|g" \
	-e "s|@JANUS_ADMIN_SECRET@|$JANUS_ADMIN_SECRET|g" \
	-e "s|@VIDEOROOM_ADMIN_KEY@|$videoroom_key|g" \
	"$plugin_conf"
if [ -n "${SWITCHBOARD_RTP_PORT_RANGE:-}" ]; then
	sed -i -e "s/^\(\s*rtp_port_range = \).*/\1\"$SWITCHBOARD_RTP_PORT_RANGE\"/" \
		"$run_dir/conf/janus.plugin.switchboard.jcfg"
fi
sed -e "s|@RUN_DIR@|$run_dir|g" \
	-e "s|@ADMIN_SECRET@|$JANUS_ADMIN_SECRET|g" \
	-e "s|@RTP_PORT_RANGE@|${JANUS_RTP_PORT_RANGE:-20000-29999}|g" \
	-e "s|@ICE_INTERFACES@|${JANUS_ICE_INTERFACES:-lo}|g" \
	"$repo/conf/janus.jcfg.in" >"$run_dir/conf/janus.jcfg"
if [ -n "${JANUS_API_SECRET:-}" ]; then
	sed -i "s|^\(\s*\)admin_secret = .*|&\n\1api_secret = \"$JANUS_API_SECRET\"|" "$run_dir/conf/janus.jcfg"
fi

chmod 600 "$run_dir"/conf/*.jcfg

exec janus -C "$run_dir/conf/janus.jcfg" -F "$run_dir/conf" \
	-d "${JANUS_DEBUG_LEVEL:-4}" -o "$@"
