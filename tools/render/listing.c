/*
 * listing.c — track ls's output: one row (or JSON object) per segment, from its header alone
 * (see listing.h).  An age known only as a bound is printed as one (">3h": it ended three
 * hours ago or earlier), and one not known at all as "?": never a guess.
 */
#define _GNU_SOURCE
#include <string.h>

#include "core/model.h"
#include "render/json.h"
#include "render/listing.h"

/* "42s", "17m", "5h", "3d": the unit that keeps the number short, rounded down. */
static const char *fmt_age(const struct track_seg_age *a, char *buf, size_t len)
{
	uint64_t s = a->ns / 1000000000ull;
	const char *more = a->at_least ? ">" : "";
	if (!a->known)
		snprintf(buf, len, "?");
	else if (s < 100)
		snprintf(buf, len, "%s%llus", more, (unsigned long long)s);
	else if (s < 100 * 60)
		snprintf(buf, len, "%s%llum", more, (unsigned long long)(s / 60));
	else if (s < 48 * 3600)
		snprintf(buf, len, "%s%lluh", more, (unsigned long long)(s / 3600));
	else
		snprintf(buf, len, "%s%llud", more, (unsigned long long)(s / 86400));
	return buf;
}

/* "8K", "2.5M", "1.2G" (binary units). */
static const char *fmt_size(uint64_t bytes, char *buf, size_t len)
{
	if (bytes < 1024 * 1024)
		snprintf(buf, len, "%lluK", (unsigned long long)((bytes + 1023) / 1024));
	else if (bytes < 1024ull * 1024 * 1024)
		snprintf(buf, len, "%.1fM", bytes / 1048576.0);
	else
		snprintf(buf, len, "%.1fG", bytes / 1073741824.0);
	return buf;
}

static void text_row(FILE *out, const struct track_seg_entry *e, uint64_t now)
{
	const struct track_seg_header *h = &e->hdr;
	struct track_seg_age a;
	char age[32], size[32], cmd[256];
	fmt_size(e->bytes, size, sizeof size);
	if (e->state == TRACK_SEG_UNREADABLE) {
		fprintf(out, "%-8d %-4u %-10s %6s %8s %8s %8s %7s  (%s)\n", (int)e->pid, e->gen,
			track_seg_state_names[e->state], "?", "-", "-", "-", size, e->err);
		return;
	}
	track_seg_age(e, now, &a);
	fprintf(out, "%-8d %-4u %-10s %6s %8llu %8llu %8llu %7s  %s\n", h->pid, h->exec_gen,
		track_seg_state_names[e->state], fmt_age(&a, age, sizeof age),
		(unsigned long long)h->threads_alive, (unsigned long long)h->objects_live,
		(unsigned long long)track_seg_findings(e), size, track_cmdline(h, cmd, sizeof cmd));
}

static void write_text(FILE *out, const struct track_seg_list *l, uint64_t now)
{
	size_t i;
	if (l->n == 0) {
		fprintf(out, "no segments\n");
		return;
	}
	fprintf(out, "%-8s %-4s %-10s %6s %8s %8s %8s %7s  %s\n", "PID", "GEN", "STATE", "AGE",
		"THREADS", "OBJECTS", "FINDINGS", "SIZE", "COMMAND");
	for (i = 0; i < l->n; i++)
		text_row(out, &l->v[i], now);
}

static json_t *u64(uint64_t v)
{
	return json_integer((json_int_t)v);
}

/* v, or null when it is 0 (not known). */
static json_t *u64_or_null(uint64_t v)
{
	return v != 0 ? u64(v) : json_null();
}

static void set_times(json_t *o, const struct track_seg_entry *e, uint64_t now)
{
	struct track_seg_age a;
	track_seg_age(e, now, &a);
	json_object_set_new(o, "start_unix_ns", u64(e->start_ns));
	json_object_set_new(o, "end_unix_ns", u64_or_null(e->end_ns));
	json_object_set_new(o, "ended_by_unix_ns", u64_or_null(e->end_before_ns));
	json_object_set_new(o, "age_ns", a.known ? u64(a.ns) : json_null());
	json_object_set_new(o, "age_at_least", json_boolean(a.at_least));
}

static json_t *entry_json(const struct track_seg_entry *e, uint64_t now)
{
	const struct track_seg_header *h = &e->hdr;
	json_t *o = json_object();
	json_object_set_new(o, "segment", track_json_text(e->path, strlen(e->path)));
	json_object_set_new(o, "pid", json_integer(e->pid));
	json_object_set_new(o, "exec_generation", json_integer(e->gen));
	json_object_set_new(o, "state", json_string(track_seg_state_names[e->state]));
	json_object_set_new(o, "bytes", u64(e->bytes));
	if (e->state == TRACK_SEG_UNREADABLE) {
		json_object_set_new(o, "error", track_json_text(e->err, strlen(e->err)));
		return o;
	}
	json_object_set_new(o, "exe", track_json_text(h->exe, strnlen(h->exe, sizeof h->exe)));
	json_object_set_new(o, "argv", track_json_argv(h));
	set_times(o, e, now);
	json_object_set_new(o, "threads_alive", u64(h->threads_alive));
	json_object_set_new(o, "objects_alive", u64(h->objects_live));
	json_object_set_new(o, "findings", u64(track_seg_findings(e)));
	return o;
}

static void write_json(FILE *out, const struct track_seg_list *l, uint64_t now)
{
	json_t *a = json_array();
	size_t i;
	for (i = 0; i < l->n; i++)
		json_array_append_new(a, entry_json(&l->v[i], now));
	json_dumpf(a, out, JSON_INDENT(2));
	fputc('\n', out);
	json_decref(a);
}

void track_listing_write(FILE *out, const struct track_seg_list *l, uint64_t now_ns, int json)
{
	if (json)
		write_json(out, l, now_ns);
	else
		write_text(out, l, now_ns);
}
