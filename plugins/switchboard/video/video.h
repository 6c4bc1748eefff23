/* The video module: camera video of a room through Janus's stock
 * VideoRoom, under the same roof as its audio (docs/security.md,
 * "VideoRoom").  The plugin, never a browser, creates a room's VideoRoom —
 * through the Janus Admin API, with the VideoRoom's admin_key — when the
 * room's first browser joins, with a secret and a pin it keeps, and hands
 * the VideoRoom's id and pin to each member in their `join` answer
 * ("video": {"room", "pin"}).  The VideoRoom goes with the room.
 *
 * Configured by [video] (scripts/janus-private.sh fills it in): admin_url
 * (loopback only), admin_secret, admin_key, publishers.  Without them
 * rooms have no video, and the log says so. */
#ifndef SB_VIDEO_VIDEO_H
#define SB_VIDEO_VIDEO_H

#include <stdbool.h>

#include "core/core.h"

/* The module (modules.c): reads [video], adds the join answer's "video",
 * follows rooms closing.  stop: no VideoRoom is made or destroyed any
 * more (Janus is going down with them); requests in flight are let go. */
bool sb_video_module_start(const sb_settings *settings);
void sb_video_module_stop(void);

#endif
