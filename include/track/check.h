/*
 * track/check.h — thread-leak checks for tests written with Check (libcheck): a checked
 * fixture that takes a snapshot before each test and fails the test, with the leak report as
 * its message, when threads the test started are still alive after it; and an assertion to
 * make the same check anywhere in a test.
 *
 *	TCase *tc = tcase_create("pool");
 *	track_tcase_add_leak_check(tc);            // every test of tc is checked
 *	...
 *	START_TEST(test_x) {
 *		track_snapshot_t *snap;
 *		track_snapshot(&snap);
 *		...
 *		ck_assert_no_thread_leaks(snap);       // or with options: _opts(snap, &opts)
 *		track_snapshot_free(snap);
 *	}
 *
 * It works in Check's fork mode (the fixture runs in each test's own process; a forked
 * process's threads are its own, and so is what the shim records of them) and with
 * CK_FORK=no (the fixture runs in the one process).  The check is made by track.h, so the
 * program needs the shim at run time (preloaded, track run, or linked with -ltrack) but not
 * at link time.  Without it nothing can be checked: the fixture and the assertion then pass,
 * and say so once on stderr ("track: ... thread leaks not checked").  A test that must not
 * pass unchecked calls track_check_leaks() and treats TRACK_ABSENT as it sees fit.
 *
 * Options for the fixture's check (deadline, ignore rules): point track_check_opts at them
 * before the tests run (NULL: the defaults of track.h).  Set track_check_fds to 1 to have it
 * check descriptors as well: a test that leaves open a descriptor it opened fails, the
 * message naming what each refers to.
 */
#ifndef TRACK_CHECK_H
#define TRACK_CHECK_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "track.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The options of the fixture's check; NULL: the defaults. */
static const struct track_leak_opts *track_check_opts;
/* Non-zero: the fixture checks descriptors too (set it before the tests run). */
static int track_check_fds;

static track_snapshot_t *track_check_snap_;
static int track_check_said_;

/* Say once, on stderr, that leaks go unchecked: no shim. */
static inline void track_check_absent_note(void)
{
	if (track_check_said_)
		return;
	track_check_said_ = 1;
	fprintf(stderr, "track: libtrack is not loaded (run under track run or LD_PRELOAD, or "
			"link -ltrack): thread leaks not checked\n");
}

/* A check (track_check_leaks or track_check_fd_leaks) as a Check assertion: the test
 * fails with the check's report as its message. */
#define track_ck_assert_check_(check, snap, opts, what)                                  \
	do {                                                                              \
		char *track_report_ = NULL;                                               \
		int track_status_ = check((snap), (opts), &track_report_);                \
		if (track_status_ == TRACK_ABSENT)                                        \
			track_check_absent_note();                                        \
		ck_assert_msg(track_status_ != TRACK_LEAKS, "%s",                         \
			      track_report_ != NULL ? track_report_ : what " leaked");     \
		ck_assert_msg(track_status_ != TRACK_ERROR, "track: %s check failed",     \
			      what);                                                      \
		free(track_report_);                                                      \
	} while (0)

/* The test fails with the leak report as its message when threads it started are alive. */
#define ck_assert_no_thread_leaks_opts(snap, opts)                                        \
	track_ck_assert_check_(track_check_leaks, snap, opts, "thread")

#define ck_assert_no_thread_leaks(snap) ck_assert_no_thread_leaks_opts((snap), NULL)

/* The same for descriptors: the test fails, listing them, when descriptors opened since
 * snap are still open (track_check_fd_leaks). */
#define ck_assert_no_fd_leaks_opts(snap, opts)                                            \
	track_ck_assert_check_(track_check_fd_leaks, snap, opts, "descriptor")

#define ck_assert_no_fd_leaks(snap) ck_assert_no_fd_leaks_opts((snap), NULL)

/* The fixture's two halves (tcase_add_checked_fixture), for those who add it themselves. */
static inline void track_check_setup(void)
{
	if (track_snapshot(&track_check_snap_) == TRACK_ABSENT)
		track_check_absent_note();
}

static inline void track_check_teardown(void)
{
	track_snapshot_t *snap = track_check_snap_;
	track_check_snap_ = NULL;
	if (snap == NULL)
		return;   /* no shim: noted at setup */
	ck_assert_no_thread_leaks_opts(snap, track_check_opts);
	if (track_check_fds)
		ck_assert_no_fd_leaks_opts(snap, track_check_opts);
	track_snapshot_free(snap);
}

/* Check every test of tc for leaked threads.  Called where the suite is built, it says
 * there, once, if the shim is absent (and forked tests then say nothing more). */
static inline void track_tcase_add_leak_check(TCase *tc)
{
	track_snapshot_t *probe;
	if (track_snapshot(&probe) == TRACK_ABSENT)
		track_check_absent_note();
	track_snapshot_free(probe);
	tcase_add_checked_fixture(tc, track_check_setup, track_check_teardown);
}

#ifdef __cplusplus
}
#endif

#endif /* TRACK_CHECK_H */
