/* Background work — speech recognition and synthesis, the agents' threads —
 * yields the CPU to the mixer, whose frames have a deadline every 20 ms.
 * Raising one's own nice value needs no privilege. */
#ifndef SB_BACKGROUND_H
#define SB_BACKGROUND_H

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

static inline void sb_thread_background(void)
{
	(void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 5);
}

#endif
