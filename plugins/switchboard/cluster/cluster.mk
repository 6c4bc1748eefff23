# cluster: several nodes, one switchboard — the directory on PostgreSQL
# (nodes, heartbeats, rooms and their holders), placement of rooms, drain,
# and lost nodes reaped (DESIGN.md §7).

plugins_switchboard_libjanus_switchboard_la_SOURCES += \
	plugins/switchboard/cluster/cluster.h \
	plugins/switchboard/cluster/cluster_private.h \
	plugins/switchboard/cluster/directory.c \
	plugins/switchboard/cluster/bus.c \
	plugins/switchboard/cluster/forward.c \
	plugins/switchboard/cluster/gather.c \
	plugins/switchboard/cluster/cluster.c
