/*
 * model.h — what the renderers share: names for the segment's enumerations, the facts
 * derived from a snapshot (which threads outlived the process, which locks matter most), and
 * number formatting.  Text, JSON and later renderers draw from this; none of them owns it.
 */
#ifndef TRACK_MODEL_H
#define TRACK_MODEL_H

#include <stdint.h>
#include <stdio.h>

#include "segread.h"
#include "symbolize.h"

/* How the traced program ended, when the caller knows (track run does). */
struct track_exit {
	int known;
	int code;      /* exit code, when !signal */
	int signal;    /* terminating signal, or 0 */
};

const char *track_state_name(uint32_t state);
const char *track_state_verb(uint32_t state);   /* "blocked on mutex", "waiting on condvar" */
const char *track_kind_name(uint32_t kind);
const char *track_finding_name(uint32_t kind);
const char *track_mutex_type_name(uint32_t subtype);

/* Whether thread record t was still running when the process ended (or now, if alive). */
int track_thread_outlived(const struct track_snap *s, const struct track_thread_rec *t);
uint64_t track_alive_at_exit(const struct track_snap *s);

/* Lock-like objects (mutex, rwlock, spinlock), most contended first; returns the count.
 * *out is malloc'd and holds pointers into s. */
size_t track_sorted_locks(const struct track_snap *s, const struct track_obj_rec ***out);

/* Process duration in ns: to exit if it ended, else to now. */
uint64_t track_duration_ns(const struct track_snap *s);

/* The command line, arguments joined by spaces, into buf. */
const char *track_cmdline(const struct track_seg_header *h, char *buf, size_t len);

/* "12.3 ms", "1.20 s", "840 ns" */
const char *track_fmt_ns(uint64_t ns, char *buf, size_t len);
/* "1,234,567" */
const char *track_fmt_count(uint64_t n, char *buf, size_t len);

/* Print the stack with this id, one frame a line, each line prefixed by indent; at most max
 * frames (the rest counted).  Inline frames get their own lines.  Prints nothing for id 0. */
void track_print_stack(FILE *out, const struct track_snap *s, struct track_symbolizer *sym,
		       uint32_t id, const char *indent, int max);

/* One location, symbolized if possible ("fn+0x1a (file.c:88)"), into buf. */
const char *track_fmt_pc(struct track_symbolizer *sym, uint64_t pc, int is_return, char *buf,
			 size_t len);

#endif /* TRACK_MODEL_H */
