/*
 * walltime.c — runs one command and prints its wall time, for bench/run's whole-program cases
 * (sqlite3).
 *
 *   bench_walltime [-m] [-p PRELOAD] [-i INFILE] [-o OUTFILE] -- COMMAND [ARG...]
 *
 * With -m it prints the child's peak resident set in MB (getrusage's ru_maxrss) instead.
 * Forks, sets LD_PRELOAD=PRELOAD in the child only (so the timer itself is never traced),
 * redirects the child's stdin from INFILE and stdout to OUTFILE (default /dev/null), execs
 * COMMAND and waits.  Prints the wall time in seconds (CLOCK_MONOTONIC, fork to reaped) on
 * stdout.  Exits 0 only if the child exited 0; otherwise it says on stderr how the child ended
 * and exits 1, so a shim that crashes or breaks the program is a failure, not a time.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void usage(void)
{
	fprintf(stderr, "usage: bench_walltime [-m] [-p PRELOAD] [-i INFILE] [-o OUTFILE] -- "
		"COMMAND [ARG...]\n");
	exit(2);
}

/* In the child: put path on fd, or die. */
static void redirect(const char *path, int flags, int fd)
{
	int f = open(path, flags, 0644);
	if (f < 0 || dup2(f, fd) < 0) {
		fprintf(stderr, "bench_walltime: %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	if (f != fd)
		close(f);
}

int main(int argc, char **argv)
{
	const char *preload = NULL, *in = NULL, *out = "/dev/null";
	struct rusage ru;
	uint64_t t0, t1;
	pid_t pid;
	int opt, status, rss = 0;

	while ((opt = getopt(argc, argv, "+mp:i:o:")) != -1) {
		switch (opt) {
		case 'm': rss = 1; break;
		case 'p': preload = optarg; break;
		case 'i': in = optarg; break;
		case 'o': out = optarg; break;
		default: usage();
		}
	}
	if (optind >= argc)
		usage();

	t0 = now_ns();
	pid = fork();
	if (pid < 0) {
		perror("bench_walltime: fork");
		return 1;
	}
	if (pid == 0) {
		if (preload != NULL && setenv("LD_PRELOAD", preload, 1) != 0)
			_exit(127);
		if (in != NULL)
			redirect(in, O_RDONLY, 0);
		redirect(out, O_WRONLY | O_CREAT | O_TRUNC, 1);
		execvp(argv[optind], argv + optind);
		fprintf(stderr, "bench_walltime: %s: %s\n", argv[optind], strerror(errno));
		_exit(127);
	}
	while (wait4(pid, &status, 0, &ru) < 0) {
		if (errno != EINTR) {
			perror("bench_walltime: waitpid");
			return 1;
		}
	}
	t1 = now_ns();
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		if (rss)
			printf("%.3f\n", (double)ru.ru_maxrss / 1024.0);
		else
			printf("%.6f\n", (double)(t1 - t0) / 1e9);
		return 0;
	}
	if (WIFSIGNALED(status))
		fprintf(stderr, "bench_walltime: %s killed by signal %d (%s)%s\n", argv[optind],
			WTERMSIG(status), strsignal(WTERMSIG(status)),
			WCOREDUMP(status) ? ", core dumped" : "");
	else
		fprintf(stderr, "bench_walltime: %s exited with status %d\n", argv[optind],
			WEXITSTATUS(status));
	return 1;
}
