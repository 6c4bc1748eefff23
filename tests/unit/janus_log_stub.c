/* What the Janus core would provide a unit test that links plugin code
 * using JANUS_LOG or janus_refcount: its refcount debug switch and its
 * logger (to stderr). */
#include <stdarg.h>
#include <stdio.h>

#include <glib.h>

int refcount_debug = 0;
int janus_log_level = 3;
gboolean janus_log_timestamps = FALSE;
gboolean janus_log_colors = FALSE;
char *janus_log_global_prefix = NULL;
void janus_vprintf(const char *format, ...) G_GNUC_PRINTF(1, 2);
void janus_vprintf(const char *format, ...)
{
	va_list ap;
	va_start(ap, format);
	vfprintf(stderr, format, ap);
	va_end(ap);
}
