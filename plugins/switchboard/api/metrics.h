/* GET /metrics: the plugin's counters in Prometheus text format. */
#ifndef SB_METRICS_H
#define SB_METRICS_H

/* g_free the result. */
char *sb_metrics_prometheus(void);

#endif
