/*
 * cli.h — what the subcommands of the track command share: their entry points, error
 * messages, finding the shim, and writing reports through the renderers.
 */
#ifndef TRACK_CLI_H
#define TRACK_CLI_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "core/model.h"
#include "render/render.h"

int track_cmd_run(int argc, char **argv);
int track_cmd_report(int argc, char **argv);
int track_cmd_ls(int argc, char **argv);
int track_cmd_clean(int argc, char **argv);
int track_cmd_stacks(int argc, char **argv);
int track_cmd_snapshot(int argc, char **argv);
int track_cmd_leaks(int argc, char **argv);
int track_cmd_exporter(int argc, char **argv);
int track_cmd_top(int argc, char **argv);

/* The segment of running process pid, loaded into s; TRACK_EXIT_OK, or a status with the
 * reason said (no segment, ended, not readable) (cmd_snapshot.c). */
int track_load_live(pid_t pid, struct track_snap *s);

/* The segment named by arg, a PID (all digits: the newest segment of that process) or a
 * path, into path; TRACK_EXIT_OK, or a status with the reason said (cmd_report.c). */
int track_resolve_target(const char *arg, char *path, size_t len);

/* SIGPIPE and SIGXFSZ as track was started with (track ignores them; a program it runs gets
 * them back). */
extern struct sigaction track_sigpipe_inherited, track_sigxfsz_inherited;
/* The sweep (cmd_ls.c): remove the segments of processes that ended more than
 * TRACK_SWEEP_AFTER ago (default 3d; "off": none), but the one at except (NULL: none).  How
 * many; their storage into *bytes and the age used into *after (each unless NULL).  A bad
 * TRACK_SWEEP_AFTER is said, and nothing is removed. */
size_t track_sweep_old(const char *except, uint64_t *bytes, const char **after);

/* "track: <message>" on stderr. */
void track_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* preflight.c: check every TRACK_* variable the shim reads (0, or TRACK_EXIT_USAGE, said);
 * and why program prog, run without the shim, did not load it (a sentence). */
int track_check_env(void);

/* An option (opt) whose value becomes TRACK_* variable var for the program: 0 if the shim
 * can use value, else -1 with "--opt needs <what var takes>, not 'value'" said. */
int track_opt_env(const char *opt, const char *var, const char *value);
const char *track_untraced_cause(const char *prog);

/* The shim to preload, into out: TRACK_LIB, else the libtrack.so installed beside this track.
 * 0; -1 if none was found beside track; -2 if TRACK_LIB names no library (said). */
int track_find_shim(char *out, size_t len);

/* One report a subcommand writes (dest.c): a renderer (render/render.h) and where its output goes.
 * Opened when there is something to write, so that a run that fails early leaves no file. */
struct track_dest {
	FILE *f;
	const char *name;              /* for messages: the path, "stdout" or "stderr" */
	const char *path;              /* the file written, NULL for a standard stream */
	int created;                   /* the file was made for this report */
	struct track_output out;
};
/* Begin a report in format to path ("-": stdout; NULL: to dflt, named dflt_name); -1 with
 * a message if the file cannot be opened. */
int track_dest_open(struct track_dest *d, const char *format, const char *path, FILE *dflt,
		    const char *dflt_name, const struct track_render_opts *o);
/* Add a process (nothing if d was never opened): the first added is the primary. */
void track_dest_add(struct track_dest *d, struct track_view *v);
/* Finish, flush and close (unless stdout or stderr); -1 with a message naming where it
 * went if anything could not be written.  A dest never opened is fine. */
int track_dest_close(struct track_dest *d);

/* --- the report formats (formats.c): --format, --view and --value of track run and report */
enum {
	TRACK_OPT_FORMAT = 256 + 200,   /* keys beyond any subcommand's own (options.h) */
	TRACK_OPT_VIEW,
	TRACK_OPT_VALUE,
};
/* The three entries of an option table (options.h). */
#define TRACK_FORMAT_OPTIONS                                                            \
	{TRACK_OPT_FORMAT, "format", "FORMAT",                                          \
	 "report as text (the default), json, folded (flame\n"                          \
	 "graph stacks), pprof (gzipped profile.proto) or\n"                            \
	 "prometheus (text exposition)"},                                               \
	{TRACK_OPT_VIEW, "view", "VIEW",                                                \
	 "folded and pprof: which waits: contention (for\n"                             \
	 "locks, by waiter; the default), blocking (condvars,\n"                        \
	 "semaphores, barriers, joins) or holding (lock waits\n"                        \
	 "charged to the call that held the lock)"},                                    \
	{TRACK_OPT_VALUE, "value", "WHAT",                                              \
	 "folded: weigh stacks by ns waited (the default) or\n"                         \
	 "by count of waits"}
/* Take one of those options into *format and o: 1 taken; 0 not one of them; -1 a bad
 * value (said: exit TRACK_EXIT_USAGE). */
int track_format_opt(int key, const char *arg, const char **format, struct track_render_opts *o);

/* A file a command writes (--output, --json, snapshot -o), opened to write `what` ("the
 * report") into: a new file, or an existing one (a regular file emptied), or a device or
 * pipe that someone reads, never blocking on a FIFO nobody reads; and never what another
 * user may have put at its name: a file, FIFO or link that someone other than the caller
 * and the directory's owner made in a shared directory (sticky and world-writable, as /tmp)
 * is refused, as Linux's protected_regular, protected_fifos and protected_symlinks refuse
 * them, whatever those are set to (a link would have it overwrite the file it points to).
 * The stream, or NULL (said); *created says whether the file was made here. */
FILE *track_open_output(const char *path, const char *what, int *created);
/* Whether the existing file at path, st from lstat, is such a planted one. */
struct stat;
int track_output_planted(const char *path, const struct stat *st);
/* What could not be written whole is not left in part: the file at path is removed if it
 * was made here, else emptied if it is a regular file.  errno is kept. */
void track_out_discard(const char *path, int created);

/* Flush (and close, unless stdout or stderr) a report stream; -1 with a message naming where
 * it went if anything could not be written. */
int track_flush(FILE *f, const char *name);

#endif
