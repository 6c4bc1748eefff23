# core: names and error codes, the plugin configuration, the notification
# bus, loop threads.  Included from the top-level Makefile.am; paths are
# relative to the top of the tree (subdir-objects), spelled out in full
# (automake writes one .dirstamp rule per spelling of a directory).

SB_CORE_SOURCES = \
	plugins/switchboard/core/core.h \
	plugins/switchboard/core/gate.c \
	plugins/switchboard/core/settings.c \
	plugins/switchboard/core/events.c \
	plugins/switchboard/core/loop.c

plugins_switchboard_libjanus_switchboard_la_SOURCES += $(SB_CORE_SOURCES)
