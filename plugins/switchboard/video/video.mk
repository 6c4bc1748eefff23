# video: a room's camera video through Janus's stock VideoRoom, made and
# destroyed by the plugin through the Admin API, its pin handed to members
# in their join answer.

plugins_switchboard_libjanus_switchboard_la_SOURCES += \
	plugins/switchboard/video/video.h \
	plugins/switchboard/video/video.c
