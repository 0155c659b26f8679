/*
 * package_demo.c — the program tests/package_check.sh compiles against the installed package
 * only (its track.h, found through its libtrack.pc, linked with its -ltrack), to show that
 * what the package installs is enough to build, link and diagnose a program.
 *
 *   package_demo inverted   two transfers take two locks in opposite orders, one after the
 *                           other: a lock-order inversion that never deadlocks
 *   package_demo ordered    the same transfers, both in one order: no finding
 *
 * Either way it leaves one thread running, asks track.h whether threads leaked (the answer
 * proves the header found the shim at run time), and prints every libtrack mapped into it
 * (which shim it got: the check wants the installed one, never a build tree's).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <track.h>

static pthread_mutex_t alice = PTHREAD_MUTEX_INITIALIZER, bob = PTHREAD_MUTEX_INITIALIZER;
static int never[2];

struct transfer {
	pthread_mutex_t *first, *second;
};

static void *transfer(void *arg)
{
	struct transfer *t = arg;
	pthread_mutex_lock(t->first);
	pthread_mutex_lock(t->second);
	pthread_mutex_unlock(t->second);
	pthread_mutex_unlock(t->first);
	return NULL;
}

/* One transfer in its own thread, joined: the two never overlap, so nothing deadlocks. */
static void run_transfer(pthread_mutex_t *first, pthread_mutex_t *second)
{
	struct transfer t = {first, second};
	pthread_t th;
	pthread_create(&th, NULL, transfer, &t);
	pthread_join(th, NULL);
}

/* Blocks until the process ends: the thread track.h must report as leaked. */
static void *idle(void *arg)
{
	char c;
	(void)arg;
	while (read(never[0], &c, 1) < 0)
		;
	return NULL;
}

static const char *status_name(int status)
{
	switch (status) {
	case TRACK_OK: return "none";
	case TRACK_LEAKS: return "leaks";
	case TRACK_ABSENT: return "absent";
	default: return "error";
	}
}

/* Each libtrack file mapped here, once: "shim: PATH". */
static void print_shims(void)
{
	char line[4096], last[4096] = "";
	FILE *maps = fopen("/proc/self/maps", "r");
	if (maps == NULL)
		return;
	while (fgets(line, sizeof line, maps) != NULL) {
		char *path = strchr(line, '/');
		if (path == NULL || strstr(path, "/libtrack") == NULL || strcmp(path, last) == 0)
			continue;
		snprintf(last, sizeof last, "%s", path);
		printf("shim: %s", path);
	}
	fclose(maps);
}

int main(int argc, char **argv)
{
	/* The idle thread never ends: no point waiting the default second for it. */
	struct track_leak_opts opts = {.deadline_ms = 50};
	track_snapshot_t *snap = NULL;
	pthread_t th;
	int status, inverted = argc > 1 && strcmp(argv[1], "inverted") == 0;
	if (argc != 2 || (!inverted && strcmp(argv[1], "ordered") != 0)) {
		fprintf(stderr, "usage: package_demo inverted|ordered\n");
		return 2;
	}
	printf("pid %d\n", (int)getpid());
	status = track_snapshot(&snap);
	if (pipe(never) != 0 || pthread_create(&th, NULL, idle, NULL) != 0)
		return 1;
	if (status == TRACK_OK)
		status = track_check_leaks(snap, &opts, NULL);
	printf("leak check: %s\n", status_name(status));
	track_snapshot_free(snap);
	run_transfer(&alice, &bob);
	if (inverted)
		run_transfer(&bob, &alice);
	else
		run_transfer(&alice, &bob);
	print_shims();
	fflush(stdout);
	return 0;
}
