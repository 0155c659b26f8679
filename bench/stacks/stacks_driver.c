/*
 * stacks_driver.c — bench/stacks' driver for the remote unwinder (tools/core/remote_unwind.c):
 * takes the stacks of every thread of a process once, and reports what it cost.
 *
 * usage: stacks_driver [--print] [--frames N] PID
 *
 * Prints one line of numbers (nanoseconds) on stderr, for bench/stacks/run to parse:
 *   threads=N errors=E frames=F wall_ns=W max_stopped_ns=M total_stopped_ns=T
 *   stop_p50_ns=.. stop_p99_ns=.. max_held_ns=.. over_1ms=K stopped=S print_ns=P
 * (one line).  The stop times are per thread, over the threads that were stopped (S of
 * them; K stopped over 1 ms): from the interrupt request to the resume; held is the part
 * after the stop was seen (see remote_unwind.h).
 * wall_ns is track_remote_stacks alone; with --print the stacks are also symbolized
 * (track_sym_new_pid) and printed on stdout much as eu-stack prints them, and print_ns is
 * that part, so that wall_ns + print_ns compares with eu-stack's whole run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/remote_unwind.h"
#include "core/symbolize.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static unsigned long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	struct track_rstacks s;
	char err[512];
	int print = 0, frames = 256, i, r;
	long pid = 0;
	size_t t, errors = 0, nframes = 0, nstopped = 0, over = 0;
	unsigned long long p0, print_ns = 0, max_held = 0, p50 = 0, p99 = 0;
	uint64_t *stops;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--print"))
			print = 1;
		else if (!strcmp(argv[i], "--frames") && i + 1 < argc)
			frames = atoi(argv[++i]);
		else if (argv[i][0] != '-' && pid == 0)
			pid = strtol(argv[i], NULL, 10);
		else {
			fprintf(stderr, "usage: stacks_driver [--print] [--frames N] PID\n");
			return 2;
		}
	}
	if (pid <= 0) {
		fprintf(stderr, "usage: stacks_driver [--print] [--frames N] PID\n");
		return 2;
	}
	r = track_remote_stacks((pid_t)pid, frames, &s, err, sizeof err);
	if (r != 0) {
		fprintf(stderr, "stacks_driver: %s (%s)\n", err, strerror(r));
		return 1;
	}
	stops = calloc(s.nthreads + 1, sizeof *stops);
	for (t = 0; t < s.nthreads; t++) {
		errors += s.threads[t].error != 0;
		nframes += (size_t)s.threads[t].npcs;
		if (s.threads[t].held_ns > max_held)
			max_held = s.threads[t].held_ns;
		if (stops && s.threads[t].stopped_ns)
			stops[nstopped++] = s.threads[t].stopped_ns;
		over += s.threads[t].stopped_ns > 1000000;
	}
	if (stops && nstopped > 0) {
		qsort(stops, nstopped, sizeof *stops, cmp_u64);
		p50 = stops[nstopped / 2];
		p99 = stops[(nstopped * 99) / 100];
	}
	free(stops);
	if (print) {
		struct track_symbolizer *sym;
		p0 = now_ns();
		sym = track_sym_new_pid((pid_t)pid);
		printf("PID %d\n", (int)s.pid);
		for (t = 0; t < s.nthreads; t++) {
			const struct track_rthread *th = &s.threads[t];
			int f;
			printf("TID %d: %s%s%s\n", (int)th->tid, th->name,
			       th->error ? "  error: " : "", th->error ? strerror(th->error) : "");
			for (f = 0; f < th->npcs; f++) {
				struct track_frame fr[8];
				char buf[512];
				int n = sym ? track_sym_lookup(sym, th->pcs[f], f > 0, fr, 8) : 0, k;
				if (n <= 0) {
					printf("#%-2d 0x%016llx\n", f, (unsigned long long)th->pcs[f]);
					continue;
				}
				for (k = 0; k < n; k++)
					printf("#%-2d 0x%016llx %s\n", f,
					       (unsigned long long)th->pcs[f],
					       track_sym_format(&fr[k], buf, sizeof buf));
			}
		}
		fflush(stdout);
		track_sym_free(sym);
		print_ns = now_ns() - p0;
	}
	fprintf(stderr, "threads=%zu errors=%zu frames=%zu wall_ns=%llu max_stopped_ns=%llu "
		"total_stopped_ns=%llu stop_p50_ns=%llu stop_p99_ns=%llu max_held_ns=%llu "
		"over_1ms=%zu stopped=%zu print_ns=%llu\n", s.nthreads, errors, nframes,
		(unsigned long long)s.wall_ns, (unsigned long long)s.max_stopped_ns,
		(unsigned long long)s.total_stopped_ns, p50, p99, max_held, over, nstopped,
		print_ns);
	track_rstacks_free(&s);
	return 0;
}
