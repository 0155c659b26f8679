/*
 * realprog.h — what the suites of real programs share (test_real.c, test_compat.c): inputs
 * made once per run, a program run natively and under `track run` with the checks every
 * correct program must pass, what a report's thread list must agree with, and a server
 * taken through its own benchmark client on loopback, natively and traced.
 */
#ifndef TRACK_REALPROG_H
#define TRACK_REALPROG_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "harness.h"

/* --- inputs ---------------------------------------------------------------------------- */

uint64_t lcg_next(uint64_t *s);
/* The run's input file name, written by write() unless an earlier test of the run did
   (through name.part and a rename: a test killed half-way leaves no torn file). */
const char *input_file(const char *name, void (*write)(FILE *));
/* Text lines from a deterministic LCG: a random hex key, a word from a small set and a
   number: compressible (about 2:1 with xz -1) but not trivially. */
void write_text_lines(FILE *f, long lines);
/* 1,000,000 such lines (~21 MB), made once per run. */
const char *input_text(void);
/* Write len bytes to path (through path.part and a rename). */
void write_bytes(const char *path, const char *data, size_t len);

/* --- native against traced --------------------------------------------------------------- */

struct both {
	struct run_result nat, tr;
	json_t *root;
};

/*
 * Run argv natively, then under `track run` (traced_vs_native), each with stdin from in_path
 * (or /dev/null) and env added; trace_argv (if not NULL) is what runs under track, for
 * programs whose arguments must differ between the runs.  Asserts what holds for every
 * correct program: same stdout, stderr and exit status, a JSON report that agrees on the
 * exit status, every thread tracked and no finding of severity error or warning, and a text
 * report with the thread totals.
 */
void run_both_env(char *const argv[], char *const trace_argv[], const char *in_path,
		  char *const env[], struct both *b);
void run_both(char *const argv[], char *const trace_argv[], const char *in_path,
	      struct both *b);
void both_free(struct both *b);

/* The report's thread list agrees with its totals: the main thread plus one entry per
   created thread (no records recycled), and as many alive at exit as the total says. */
void thread_list_consistent(json_t *root);
/* Every created thread exited and was joined; none left at exit; no other process. */
void all_joined(json_t *root);
/* The sum of field over the elements of the report's array (e.g. "locks", "acquisitions"). */
long long sum_field(json_t *root, const char *array, const char *field);

/* --- a server and its benchmark on loopback ---------------------------------------------- */

/* A free TCP port on 127.0.0.1 (the kernel's choice, released at once). */
int free_port(void);

/* A server program and the benchmark client that drives it.  In both argvs, "{port}"
   anywhere in an argument stands for the port of the round. */
struct server_bench {
	const char *name;              /* for file names and messages */
	const char *const *server;     /* argv, NULL-terminated */
	const char *const *client;
	/* ends the server (pid: the server, or `track run` around it, which passes signals) */
	void (*stop)(const char *port, pid_t pid);
};

/* One round: the server (traced: under `track run --json server_json`) started, waited for
   until it accepts a connection, driven by the client (traced: under `track run -q
   --error-exitcode=9`, with --json client_json unless NULL), then stopped.  Fills bench with
   the client's run; returns the server's exit status. */
int server_round(const struct server_bench *s, int traced, const char *server_json,
		 const char *client_json, struct run_result *bench);

#endif
