/*
 * exporter.h — the host exporter: one HTTP server (libmicrohttpd) per host that serves, on
 * /metrics, the Prometheus exposition of every traced process of the calling user that is
 * running at the moment of the scrape (render/prometheus.c), the way node_exporter serves
 * a host.  Prometheus aggregates a fleet; nothing here does.  Segments are read as every
 * track command reads them (core/segread.h: pread, no mapping, no stop): a scrape costs
 * the traced processes nothing.
 */
#ifndef TRACK_EXPORTER_H
#define TRACK_EXPORTER_H

#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>

/* Write the exposition of every running traced process of the user to out: 0, or -1 if it
 * could not be rendered.  top bounds the series per process (render.h, track_render_opts). */
int track_export_metrics(FILE *out, int top);

/* A listening socket bound to addr: the descriptor, or -1 with errno set (EADDRINUSE: the
 * port is taken). */
int track_export_listen(const struct sockaddr_in *addr);

/* Serve HTTP on the listening socket fd until one of the signals in stop (blocked by the
 * caller in every thread) arrives: /metrics, / (a page pointing to it), 404 otherwise.
 * 0 on a clean stop; -1 with a reason in err if the server could not start. */
int track_export_serve(int fd, int top, const sigset_t *stop, char *err, size_t errlen);

#endif /* TRACK_EXPORTER_H */
