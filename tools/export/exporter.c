/*
 * exporter.c — the host exporter's HTTP server and its /metrics (see exporter.h).
 *
 * libmicrohttpd runs one internal thread that accepts and answers connections one at a
 * time, so the renderer and the symbolizers it makes never run in two threads at once.
 * The main thread waits for SIGINT or SIGTERM and stops the daemon.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/seglist.h"
#include "export/exporter.h"
#include "render/render.h"

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

static const char index_page[] =
	"track exporter: the threads, locks and waits of every traced process of this user.\n"
	"Metrics: /metrics\n";

int track_export_metrics(FILE *out, int top)
{
	struct track_render_opts o = {.top = top, .command = "exporter", .sort = TRACK_LS_WAIT};
	struct track_seg_list l = {0};
	struct track_output r;
	size_t i;
	int rc;
	track_seg_list(&l, track_realtime_ns());
	if (track_output_begin(&r, "prometheus", out, &o) != 0) {
		track_seg_list_free(&l);
		return -1;
	}
	for (i = 0; i < l.n; i++) {
		struct track_snap s;
		struct track_view v;
		char err[512];
		/* only the processes running now: one that ended disappears from the next scrape */
		if (l.v[i].state != TRACK_SEG_RUNNING ||
		    track_snap_load(l.v[i].path, &s, err, sizeof err) != TRACK_EXIT_OK)
			continue;
		if (s.alive) {
			track_view_init(&v, &s, NULL, NULL);
			track_output_add(&r, &v);
			track_view_fini(&v);
		}
		track_snap_free(&s);
	}
	rc = track_output_end(&r);
	track_seg_list_free(&l);
	return rc;
}

struct server {
	int top;
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, void *body, size_t len,
			     enum MHD_ResponseMemoryMode mode, const char *type)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result rc;
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	rc = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result metrics(struct MHD_Connection *c, const struct server *sv)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	int rc;
	if (m == NULL)
		return MHD_NO;
	rc = track_export_metrics(m, sv->top);
	if (fclose(m) != 0 || rc != 0) {
		free(buf);
		return reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot render the metrics\n", 26,
			     MHD_RESPMEM_PERSISTENT, "text/plain");
	}
	return reply(c, MHD_HTTP_OK, buf, len, MHD_RESPMEM_MUST_FREE, CONTENT_TYPE);
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **con_cls)
{
	(void)version, (void)upload, (void)upload_size, (void)con_cls;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET only\n", 9,
			     MHD_RESPMEM_PERSISTENT, "text/plain");
	if (strcmp(url, "/metrics") == 0)
		return metrics(c, cls);
	if (strcmp(url, "/") == 0)
		return reply(c, MHD_HTTP_OK, (void *)index_page, sizeof index_page - 1,
			     MHD_RESPMEM_PERSISTENT, "text/plain; charset=utf-8");
	return reply(c, MHD_HTTP_NOT_FOUND, "not found; metrics are at /metrics\n", 35,
		     MHD_RESPMEM_PERSISTENT, "text/plain");
}

int track_export_listen(const struct sockaddr_in *addr)
{
	int one = 1, e;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (const struct sockaddr *)addr, sizeof *addr) == 0 && listen(fd, 64) == 0)
		return fd;
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

int track_export_serve(int fd, int top, const sigset_t *stop, char *err, size_t errlen)
{
	struct server sv = {top};
	struct MHD_Daemon *d;
	int sig;
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, answer, &sv,
			     MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_TIMEOUT,
			     (unsigned)30, MHD_OPTION_END);
	if (d == NULL) {
		snprintf(err, errlen, "cannot start the HTTP server (libmicrohttpd)");
		close(fd);
		return -1;
	}
	while (sigwait(stop, &sig) != 0)
		;
	MHD_stop_daemon(d);   /* closes fd too */
	return 0;
}
