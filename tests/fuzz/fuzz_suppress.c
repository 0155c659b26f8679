/*
 * fuzz_suppress.c — libFuzzer target: a suppressions file (--suppressions,
 * TRACK_SUPPRESSIONS), read from disk as the commands read it, then matched against frames:
 * the rules' own globs as names and paths, and a few fixed ones.
 */
#include <string.h>

#include "fuzz.h"

#include "core/model.h"
#include "core/suppress.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct track_supp_frame fixed[] = {
		{"worker_main", "/src/app/worker.c"}, {"legacy_init", "vendor/zlib.c"},
		{NULL, "x.c"}, {"std::mutex::lock()", NULL}, {NULL, NULL},
	};
	struct track_suppressions *sp;
	char path[256], err[512];
	int fd = fuzz_file(data, size, "suppress", path, sizeof path);
	if (track_supp_load(path, track_finding_kind, &sp, err, sizeof err) == 0) {
		size_t i;
		int kind;
		if (sp == NULL)
			abort();
		for (i = 0; i < sp->n; i++) {
			const struct track_supp_rule *r = &sp->rules[i];
			struct track_supp_frame own = {r->function, r->file};
			kind = r->kind;
			track_supp_match(sp, kind, &own, 1);
		}
		for (kind = 0; kind < 4; kind++)
			track_supp_match(sp, kind, fixed, sizeof fixed / sizeof fixed[0]);
		track_supp_free(sp);
	} else if (strncmp(err, "suppressions ", 13) != 0) {
		fprintf(stderr, "a refusal that does not name the file: %s\n", err);
		abort();
	}
	fuzz_file_done(fd, path);
	return 0;
}
