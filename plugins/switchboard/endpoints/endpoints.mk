# endpoints: how participants reach a room — browsers through the Janus
# core (WebRTC), plain RTP sockets, address lists.

SB_ENDPOINTS_SOURCES = \
	plugins/switchboard/endpoints/endpoints.h \
	plugins/switchboard/endpoints/webrtc.c \
	plugins/switchboard/endpoints/rtp_endpoint.c \
	plugins/switchboard/endpoints/acl.c

plugins_switchboard_libjanus_switchboard_la_SOURCES += $(SB_ENDPOINTS_SOURCES)
