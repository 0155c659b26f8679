/*
 * cmd_exporter.c — `track exporter [--listen ADDR:PORT] [--top N] [--allow-remote]`: serve
 * the Prometheus metrics of every running traced process of this user over HTTP
 * (tools/export/), until SIGINT or SIGTERM.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "export/exporter.h"

#define DEFAULT_LISTEN "127.0.0.1:9476"

enum {
	OPT_LISTEN = TRACK_LONG_ONLY(0),
	OPT_TOP,
	OPT_ALLOW_REMOTE,
};

static const struct track_opt exporter_opts_table[] = {
	{OPT_LISTEN, "listen", "ADDR:PORT",
	 "the IPv4 address and port to serve on (default\n" DEFAULT_LISTEN "; port 0: any free one,\n"
	 "printed)"},
	{OPT_TOP, "top", "N", "per process, the N locks (and N other objects)\n"
	 "with most wait time get series of their own; the\n"
	 "rest are summed into lock=\"other\" (default 20)"},
	{OPT_ALLOW_REMOTE, "allow-remote", NULL,
	 "allow an address other than loopback (127.0.0.0/8):\n"
	 "anyone who reaches it sees your programs' names,\n"
	 "locks and call sites"},
	{0},
};

static const struct track_subcmd exporter_cmd = {
	"exporter", "[--listen ADDR:PORT] [--top N] [--allow-remote]",
	"Serve Prometheus metrics over HTTP for every traced process of this user that\n"
	"runs at the moment of each scrape, the way node_exporter serves a host:\n"
	"/metrics (text exposition, as track report --format prometheus writes it) and\n"
	"/ (a page pointing there).  Processes that ended are gone from the next\n"
	"scrape.  Reading costs the processes nothing.  SIGINT or SIGTERM stops it.",
	exporter_opts_table,
	"exit status: 0 stopped by SIGINT or SIGTERM; 2 bad usage (a bad address, or one\n"
	"not loopback without --allow-remote); 1 the port is in use or the server\n"
	"could not start.\n\n"
	"environment: TRACK_DIR (where segments are looked for, as track ls does).",
	0,
};

/* ADDR:PORT ("localhost" is 127.0.0.1) into *sa; 0, or -1 (said). */
static int parse_listen(const char *arg, struct sockaddr_in *sa)
{
	const char *colon = strrchr(arg, ':');
	char host[64];
	long port = colon != NULL ? track_parse_count(colon + 1, 65535) : -1;
	memset(sa, 0, sizeof *sa);
	sa->sin_family = AF_INET;
	if (colon != NULL && (size_t)(colon - arg) < sizeof host)
		snprintf(host, sizeof host, "%.*s", (int)(colon - arg), arg);
	else
		host[0] = '\0';
	if (strcmp(host, "localhost") == 0)
		snprintf(host, sizeof host, "127.0.0.1");
	if (port < 0 || inet_pton(AF_INET, host, &sa->sin_addr) != 1) {
		track_error("--listen needs an IPv4 address and a port, such as %s, not '%s'",
			    DEFAULT_LISTEN, arg);
		return -1;
	}
	sa->sin_port = htons((uint16_t)port);
	return 0;
}

static int is_loopback(const struct sockaddr_in *sa)
{
	return (ntohl(sa->sin_addr.s_addr) >> 24) == 127;
}

/* Bind, say where, serve until SIGINT or SIGTERM; the exit status. */
static int serve(const struct sockaddr_in *sa, int top)
{
	struct sockaddr_in bound;
	socklen_t len = sizeof bound;
	char addr[INET_ADDRSTRLEN], err[256];
	sigset_t stop;
	int fd;
	inet_ntop(AF_INET, &sa->sin_addr, addr, sizeof addr);
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	/* blocked before the server's thread starts, which inherits the mask: only sigwait
	 * takes them */
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	if ((fd = track_export_listen(sa)) < 0) {
		track_error("cannot listen on %s port %u: %s", addr, (unsigned)ntohs(sa->sin_port),
			    errno == EADDRINUSE ? "the port is in use" : strerror(errno));
		return TRACK_EXIT_FAIL;
	}
	getsockname(fd, (struct sockaddr *)&bound, &len);
	printf("track exporter: serving http://%s:%u/metrics\n", addr,
	       (unsigned)ntohs(bound.sin_port));
	fflush(stdout);
	if (track_export_serve(fd, top, &stop, err, sizeof err) != 0) {
		track_error("%s", err);
		return TRACK_EXIT_FAIL;
	}
	return TRACK_EXIT_OK;
}

int track_cmd_exporter(int argc, char **argv)
{
	const char *listen_at = DEFAULT_LISTEN;
	struct sockaddr_in sa;
	int key, remote = 0, top = 20;
	long v;
	while ((key = track_opt_next(&exporter_cmd, argc, argv)) != TRACK_OPT_END) {
		switch (key) {
		case TRACK_OPT_HELP:
			return 0;
		case OPT_LISTEN:
			listen_at = optarg;
			break;
		case OPT_TOP:
			if (track_opt_number("--top", optarg, 0, 100000, &v) != 0)
				return TRACK_EXIT_USAGE;
			top = (int)v;
			break;
		case OPT_ALLOW_REMOTE:
			remote = 1;
			break;
		default:
			return TRACK_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		track_error("track exporter takes no operands; try 'track exporter --help'");
		return TRACK_EXIT_USAGE;
	}
	if (parse_listen(listen_at, &sa) != 0)
		return TRACK_EXIT_USAGE;
	if (!is_loopback(&sa) && !remote) {
		track_error("%s is not a loopback address: the metrics name your programs, locks and "
			    "call sites; give --allow-remote to serve them beyond this host",
			    listen_at);
		return TRACK_EXIT_USAGE;
	}
	return serve(&sa, top);
}
