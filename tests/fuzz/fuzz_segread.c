/*
 * fuzz_segread.c — libFuzzer target: a segment file as the tools meet it in a segment
 * directory (another process wrote it: truncated, damaged, from another build, huge counts
 * and offsets), read by the header check, the snapshot loader and a reload, and then
 * rendered in every format (the model and the renderers trust what the loader passed).
 *
 * The first byte of an input says how its file is made; the rest is the file.  Bit 0: the
 * file is extended with zeros to the size its header states (at most FUZZ_MAX_FILE), as
 * the shim's sparse file reads where no record was written, so that a seed can be a real
 * segment cut after its last record (a few KB, not the whole file).
 */
#include <string.h>

#include "fuzz.h"

#include "core/segread.h"
#include "core/view.h"
#include "render/render.h"

#define FUZZ_MAX_FILE (16u << 20)

static FILE *devnull;

/* Every format, as track report writes them, with no symbols (the modules a segment names
 * are files of this machine: reading them is the symbolizer target's business). */
static void render_all(struct track_snap *s)
{
	struct track_render_opts ro = {0};
	struct track_view v;
	size_t i;
	track_view_init(&v, s, NULL, NULL);
	track_view_set_sym(&v, track_sym_new(NULL, 0));
	for (i = 0; track_format_names[i] != NULL; i++) {
		struct track_output o;
		ro.top = 10;
		if (track_output_begin(&o, track_format_names[i], devnull, &ro) != 0)
			continue;
		track_output_add(&o, &v);
		track_output_end(&o);
	}
	track_view_fini(&v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct track_seg_header h;
	struct track_snap s;
	char path[256], err[512];
	uint8_t mode;
	int fd;
	if (size < 1)
		return 0;
	if (devnull == NULL && (devnull = fopen("/dev/null", "we")) == NULL)
		abort();
	mode = data[0];
	fd = fuzz_file(data + 1, size - 1, "segread", path, sizeof path);
	if ((mode & 1) && size - 1 >= sizeof h) {
		memcpy(&h, data + 1, sizeof h);
		if (h.total_size > size - 1 && h.total_size <= FUZZ_MAX_FILE &&
		    ftruncate(fd, (off_t)h.total_size) != 0)
			abort();
	}
	track_seg_header(path, &h, NULL, err, sizeof err);
	if (track_snap_load(path, &s, err, sizeof err) == TRACK_EXIT_OK) {
		render_all(&s);
		if (track_snap_reload(&s, err, sizeof err) == TRACK_EXIT_OK)
			render_all(&s);
		track_snap_free(&s);
	}
	fuzz_file_done(fd, path);
	return 0;
}
