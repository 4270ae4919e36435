/* The collector's file registry: attach once per file, pids counted per
 * entry, linger before detach, a bounded LRU blocklist, and pages that
 * rebuild the whole registry and pass the IPC codec. privd is faked: the
 * fake records every call and answers with scripted outcomes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ipc_codec.h"
#include "log.h"
#include "registry.h"

/* ---- fake privd ---- */

#define MAX_SCRIPT 16
#define MAX_DETACHED 8192

struct fake {
	unsigned attach_calls;
	uint32_t last_pid;
	uint8_t last_type;
	struct path_id last_hint;
	char last_path[USM_IPC_PATH_MAX * 2];
	/* Outcomes used in order; once used up, `fallback` answers with the
	 * hint as identity and a new attachment id on success. */
	struct attach_outcome script[MAX_SCRIPT];
	unsigned nscript, used;
	struct attach_outcome fallback;
	uint64_t next_attachment;
	uint64_t detached[MAX_DETACHED];
	unsigned ndetached;
};

static struct fake fake;
static struct registry *reg;

static void fake_attach(void *ctx, uint32_t pid, const char *path, uint8_t program_type,
			struct path_id hint, struct attach_outcome *out)
{
	struct fake *f = ctx;
	f->attach_calls++;
	f->last_pid = pid;
	f->last_type = program_type;
	f->last_hint = hint;
	snprintf(f->last_path, sizeof(f->last_path), "%s", path);
	if (f->used < f->nscript) {
		*out = f->script[f->used++];
		return;
	}
	*out = f->fallback;
	if (out->rc == 0 || out->reason[0])
		out->id = hint;
	if (out->rc == 0)
		out->attachment = ++f->next_attachment;
}

static void fake_detach(void *ctx, uint64_t attachment)
{
	struct fake *f = ctx;
	assert_true(f->ndetached < MAX_DETACHED);
	f->detached[f->ndetached++] = attachment;
}

static const struct registry_ops fake_ops = {.attach = fake_attach, .detach = fake_detach};

static unsigned times_detached(uint64_t attachment)
{
	unsigned n = 0;
	for (unsigned i = 0; i < fake.ndetached; i++)
		n += fake.detached[i] == attachment;
	return n;
}

static void script_attached(uint64_t dev, uint64_t ino, uint64_t attachment)
{
	assert_true(fake.nscript < MAX_SCRIPT);
	fake.script[fake.nscript++] = (struct attach_outcome){
		.rc = 0, .id = {dev, ino}, .attachment = attachment};
}

static void script_file_failure(uint64_t dev, uint64_t ino, const char *reason)
{
	assert_true(fake.nscript < MAX_SCRIPT);
	struct attach_outcome *o = &fake.script[fake.nscript++];
	*o = (struct attach_outcome){.rc = -ENOEXEC, .id = {dev, ino}};
	snprintf(o->reason, sizeof(o->reason), "%s", reason);
}

static void script_environment_failure(void)
{
	assert_true(fake.nscript < MAX_SCRIPT);
	fake.script[fake.nscript++] = (struct attach_outcome){.rc = -ENOENT};
}

/* ---- fixture ---- */

#define LINGER_MS 1000u
#define SHARED USM_PROG_SHARED_LIBRARIES

static const struct registry_limits default_limits = {
	.max_entries = 4096,
	.max_pids_per_entry = 65536,
	.max_blocked = 2000,
	.linger_ms = LINGER_MS,
};

static const struct path_id no_hint = {0, 0};

static struct path_id id(uint64_t dev, uint64_t ino) { return (struct path_id){dev, ino}; }

static int setup(void **state)
{
	(void)state;
	memset(&fake, 0, sizeof(fake));
	fake.next_attachment = 1000;
	reg = registry_new(&default_limits, &fake_ops, &fake);
	return reg ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	registry_free(reg);
	reg = NULL;
	return 0;
}

static void use_limits(const struct registry_limits *limits)
{
	registry_free(reg);
	reg = registry_new(limits, &fake_ops, &fake);
	assert_non_null(reg);
}

static const struct registry_counters *ctr(void) { return registry_counters(reg); }

static void assert_pids(struct path_id pid_id, uint8_t type, const uint32_t *want, int n)
{
	uint32_t got[128];
	assert_true(n <= 128);
	assert_int_equal(registry_entry_pids(reg, pid_id, type, got, 128), n);
	for (int i = 0; i < n; i++)
		assert_int_equal(got[i], want[i]);
}

/* Registers `npids` pids (base, base+1, ...) on file (1, ino) by hint. */
static void register_file(uint64_t ino, uint32_t base, uint32_t npids, uint64_t now)
{
	for (uint32_t p = 0; p < npids; p++) {
		enum registry_result res =
			registry_register(reg, base + p, "/lib/libssl.so.3", SHARED, id(1, ino), now);
		assert_int_equal(res, p == 0 ? REGISTRY_ATTACHED : REGISTRY_ADDED);
	}
}

/* ---- registering ---- */

static void test_register_attaches_a_new_file_once(void **state)
{
	(void)state;
	script_attached(8, 42, 7);
	assert_int_equal(registry_register(reg, 100, "/usr/lib/libssl.so.3", SHARED, id(8, 42), 0),
			 REGISTRY_ATTACHED);
	assert_int_equal(fake.attach_calls, 1);
	assert_int_equal(fake.last_pid, 100);
	assert_int_equal(fake.last_type, SHARED);
	assert_int_equal(fake.last_hint.dev, 8);
	assert_int_equal(fake.last_hint.ino, 42);
	assert_string_equal(fake.last_path, "/usr/lib/libssl.so.3");
	assert_int_equal(registry_traced_count(reg), 1);
	assert_int_equal(ctr()->registered, 1);
	assert_int_equal(ctr()->already_registered, 0);
	uint32_t want[] = {100};
	assert_pids(id(8, 42), SHARED, want, 1);
	assert_int_equal(fake.ndetached, 0);
}

static void test_second_pid_of_a_known_file_is_added_without_attaching(void **state)
{
	(void)state;
	script_attached(8, 42, 7);
	registry_register(reg, 200, "/usr/lib/libssl.so.3", SHARED, id(8, 42), 0);
	assert_int_equal(registry_register(reg, 100, "/other/view/libssl.so.3", SHARED, id(8, 42), 0),
			 REGISTRY_ADDED);
	assert_int_equal(fake.attach_calls, 1);
	assert_int_equal(registry_traced_count(reg), 1);
	assert_int_equal(ctr()->registered, 1);
	assert_int_equal(ctr()->already_registered, 1);
	uint32_t want[] = {100, 200};
	assert_pids(id(8, 42), SHARED, want, 2);
}

static void test_unknown_hint_whose_identity_is_traced_adds_the_pid_to_that_entry(void **state)
{
	(void)state;
	script_attached(8, 42, 7);
	script_attached(8, 42, 7); /* privd: already attached, same attachment */
	registry_register(reg, 100, "/usr/lib/libssl.so.3", SHARED, id(8, 42), 0);
	assert_int_equal(registry_register(reg, 101, "/proc/101/root/lib/libssl.so.3", SHARED,
					   no_hint, 0),
			 REGISTRY_ADDED);
	assert_int_equal(fake.attach_calls, 2); /* the registry could not know without asking */
	assert_int_equal(registry_traced_count(reg), 1);
	assert_int_equal(ctr()->registered, 1);
	assert_int_equal(ctr()->already_registered, 1);
	uint32_t want[] = {100, 101};
	assert_pids(id(8, 42), SHARED, want, 2);
	/* A hint that differs from what privd saw: privd's identity wins. */
	script_attached(8, 42, 7);
	assert_int_equal(registry_register(reg, 102, "/x", SHARED, id(9, 9), 0), REGISTRY_ADDED);
	assert_int_equal(registry_traced_count(reg), 1);
	assert_int_equal(registry_entry_pids(reg, id(9, 9), SHARED, NULL, 0), -ENOENT);
}

static void test_registering_a_pid_already_present_changes_nothing(void **state)
{
	(void)state;
	register_file(42, 100, 1, 0);
	struct registry_counters before = *ctr();
	uint64_t gen = registry_generation(reg);
	assert_int_equal(registry_register(reg, 100, "/lib/libssl.so.3", SHARED, id(1, 42), 0),
			 REGISTRY_PRESENT);
	assert_memory_equal(&before, ctr(), sizeof(before));
	assert_int_equal(registry_generation(reg), gen);
	assert_int_equal(registry_entry_pids(reg, id(1, 42), SHARED, NULL, 0), 1);
	/* Also when the identity is only found after asking privd. */
	script_attached(1, 42, 1001);
	assert_int_equal(registry_register(reg, 100, "/lib/libssl.so.3", SHARED, no_hint, 0),
			 REGISTRY_PRESENT);
	assert_int_equal(ctr()->already_registered, 0);
	assert_int_equal(registry_entry_pids(reg, id(1, 42), SHARED, NULL, 0), 1);
}

static void test_same_file_under_two_program_types_is_two_entries(void **state)
{
	(void)state;
	assert_int_equal(registry_register(reg, 100, "/usr/bin/envoy", USM_PROG_ISTIO, id(3, 3), 0),
			 REGISTRY_ATTACHED);
	assert_int_equal(registry_register(reg, 100, "/usr/bin/envoy", SHARED, id(3, 3), 0),
			 REGISTRY_ATTACHED);
	assert_int_equal(fake.attach_calls, 2);
	assert_int_equal(registry_traced_count(reg), 2);
}

static void test_unknown_program_type_is_refused_without_attaching(void **state)
{
	(void)state;
	assert_int_equal(registry_register(reg, 100, "/x", USM_PROG_TYPE_COUNT, id(1, 1), 0),
			 REGISTRY_FAILED);
	assert_int_equal(fake.attach_calls, 0);
	assert_int_equal(ctr()->hook_failed, 1);
	assert_int_equal(registry_adopt(reg, id(1, 1), 200, "/x", 5, 0), -EINVAL);
	assert_int_equal(registry_traced_count(reg), 0);
}

/* ---- leaving, lingering, detaching ---- */

static void test_unregister_removes_the_pid_from_every_entry(void **state)
{
	(void)state;
	registry_register(reg, 100, "/lib/libssl.so.3", SHARED, id(1, 1), 0);
	registry_register(reg, 100, "/lib/libgnutls.so.30", SHARED, id(1, 2), 0);
	registry_register(reg, 200, "/lib/libgnutls.so.30", SHARED, id(1, 2), 0);
	assert_int_equal(registry_unregister(reg, 100, 10), 2);
	assert_int_equal(ctr()->unregistered, 2);
	assert_int_equal(registry_entry_pids(reg, id(1, 1), SHARED, NULL, 0), 0);
	uint32_t want[] = {200};
	assert_pids(id(1, 2), SHARED, want, 1);
	assert_int_equal(registry_unregister(reg, 100, 10), 0);
	assert_int_equal(ctr()->unregistered, 2);
}

static void test_last_pid_leaving_lingers_then_detaches_exactly_once(void **state)
{
	(void)state;
	script_attached(1, 1, 77);
	registry_register(reg, 100, "/lib/libssl.so.3", SHARED, id(1, 1), 0);
	registry_register(reg, 101, "/lib/libssl.so.3", SHARED, id(1, 1), 0);
	assert_int_equal(registry_expire(reg, 5000), -1); /* nothing lingers */
	registry_unregister(reg, 100, 5000);
	assert_int_equal(registry_expire(reg, 5000), -1); /* 101 still there */
	registry_unregister(reg, 101, 6000);
	assert_int_equal(registry_traced_count(reg), 1); /* lingering, still attached */
	assert_int_equal(registry_expire(reg, 6000), (int)LINGER_MS);
	assert_int_equal(registry_expire(reg, 6000 + LINGER_MS - 1), 1);
	assert_int_equal(fake.ndetached, 0);
	assert_int_equal(registry_expire(reg, 6000 + LINGER_MS), -1);
	assert_int_equal(times_detached(77), 1);
	assert_int_equal(fake.ndetached, 1);
	assert_int_equal(ctr()->detached, 1);
	assert_int_equal(registry_traced_count(reg), 0);
	assert_int_equal(registry_expire(reg, 100000), -1);
	assert_int_equal(fake.ndetached, 1);
	/* The file is unknown again: the next register attaches anew. */
	script_attached(1, 1, 78);
	assert_int_equal(registry_register(reg, 102, "/lib/libssl.so.3", SHARED, id(1, 1), 200000),
			 REGISTRY_ATTACHED);
	assert_int_equal(fake.attach_calls, 2);
}

static void test_a_new_pid_during_linger_cancels_the_detach(void **state)
{
	(void)state;
	script_attached(1, 1, 77);
	registry_register(reg, 100, "/lib/libssl.so.3", SHARED, id(1, 1), 0);
	registry_unregister(reg, 100, 0);
	assert_int_equal(registry_register(reg, 101, "/lib/libssl.so.3", SHARED, id(1, 1), 500),
			 REGISTRY_ADDED);
	assert_int_equal(fake.attach_calls, 1);
	assert_int_equal(registry_expire(reg, 10 * LINGER_MS), -1);
	assert_int_equal(fake.ndetached, 0);
	/* Leaving again starts a fresh linger from that moment. */
	registry_unregister(reg, 101, 20000);
	assert_int_equal(registry_expire(reg, 20000 + LINGER_MS - 1), 1);
	assert_int_equal(fake.ndetached, 0);
	assert_int_equal(registry_expire(reg, 20000 + LINGER_MS), -1);
	assert_int_equal(times_detached(77), 1);
}

static void test_expire_reports_the_nearest_linger_end(void **state)
{
	(void)state;
	register_file(1, 100, 1, 0);
	register_file(2, 200, 1, 0);
	register_file(3, 300, 1, 0);
	registry_unregister(reg, 100, 0);
	registry_unregister(reg, 300, 400);
	assert_int_equal(registry_expire(reg, 100), (int)LINGER_MS - 100);
	assert_int_equal(registry_expire(reg, LINGER_MS), 400); /* entry 1 goes */
	assert_int_equal(fake.ndetached, 1);
	assert_int_equal(registry_traced_count(reg), 2);
	assert_int_equal(registry_expire(reg, LINGER_MS + 400), -1);
	assert_int_equal(fake.ndetached, 2);
	assert_int_equal(registry_traced_count(reg), 1);
	assert_int_equal(registry_entry_pids(reg, id(1, 2), SHARED, NULL, 0), 1);
}

static void test_zero_linger_detaches_at_the_next_expire(void **state)
{
	(void)state;
	struct registry_limits l = default_limits;
	l.linger_ms = 0;
	use_limits(&l);
	register_file(1, 100, 1, 0);
	registry_unregister(reg, 100, 0);
	assert_int_equal(registry_expire(reg, 0), -1);
	assert_int_equal(fake.ndetached, 1);
	assert_int_equal(registry_traced_count(reg), 0);
}

static void test_exit_of_an_unknown_pid_is_harmless(void **state)
{
	(void)state;
	register_file(1, 100, 2, 0);
	uint64_t gen = registry_generation(reg);
	assert_int_equal(registry_unregister(reg, 999, 0), 0);
	assert_int_equal(registry_unregister_type(reg, 999, SHARED, 0), 0);
	assert_int_equal(registry_generation(reg), gen);
	assert_int_equal(ctr()->unregistered, 0);
	assert_int_equal(registry_expire(reg, 100000), -1);
	assert_int_equal(fake.ndetached, 0);
	/* And on an empty registry. */
	teardown(NULL);
	assert_int_equal(setup(NULL), 0);
	assert_int_equal(registry_unregister(reg, 1, 0), 0);
}

static void test_detach_all_detaches_every_entry_once(void **state)
{
	(void)state;
	for (uint64_t ino = 1; ino <= 20; ino++)
		register_file(ino, (uint32_t)ino * 10, 2, 0);
	registry_unregister(reg, 10, 0);
	registry_unregister(reg, 11, 0); /* entry 1 lingering */
	assert_int_equal(registry_adopt(reg, id(2, 1), SHARED, "/adopted", 5000, 0), 0);
	assert_int_equal(registry_detach_all(reg), 21);
	assert_int_equal(fake.ndetached, 21);
	for (uint64_t a = 1001; a <= 1020; a++)
		assert_int_equal(times_detached(a), 1);
	assert_int_equal(times_detached(5000), 1);
	assert_int_equal(registry_traced_count(reg), 0);
	assert_int_equal(registry_expire(reg, 100000), -1);
	assert_int_equal(registry_detach_all(reg), 0);
	assert_int_equal(fake.ndetached, 21);
	/* pids are gone too: an exit is now unknown, a register attaches anew. */
	assert_int_equal(registry_unregister(reg, 20, 0), 0);
	assert_int_equal(registry_register(reg, 20, "/lib/x", SHARED, id(1, 2), 0),
			 REGISTRY_ATTACHED);
}

/* ---- blocklist ---- */

static void test_a_file_that_failed_to_attach_is_blocked_and_not_retried(void **state)
{
	(void)state;
	script_file_failure(5, 55, "no-symbols");
	assert_int_equal(registry_register(reg, 100, "/usr/lib/libweird.so", SHARED, no_hint, 0),
			 REGISTRY_BLOCKED);
	assert_int_equal(ctr()->blocked, 1);
	assert_int_equal(registry_blocked_count(reg), 1);
	assert_int_equal(registry_traced_count(reg), 0);
	assert_true(registry_is_blocked(reg, id(5, 55), SHARED));
	assert_false(registry_is_blocked(reg, id(5, 55), USM_PROG_ISTIO));
	/* The kernel's identity for the same file: refused without asking. */
	assert_int_equal(registry_register(reg, 101, "/usr/lib/libweird.so", SHARED, id(5, 55), 0),
			 REGISTRY_BLOCKED);
	assert_int_equal(registry_register(reg, 102, "/usr/lib/libweird.so", SHARED, id(5, 55), 0),
			 REGISTRY_BLOCKED);
	assert_int_equal(fake.attach_calls, 1);
	assert_int_equal(ctr()->blocked, 1);
	assert_int_equal(ctr()->blocked_hits, 2);
	assert_int_equal(ctr()->hook_failed, 0);
	assert_int_equal(fake.ndetached, 0);

	struct usm_blocked_record rec[4];
	uint32_t n;
	uint64_t next;
	assert_int_equal(registry_page_blocked(reg, 0, rec, 4, &n, &next), 0);
	assert_int_equal(n, 1);
	assert_int_equal(next, 0);
	assert_int_equal(rec[0].dev, 5);
	assert_int_equal(rec[0].inode, 55);
	assert_int_equal(rec[0].program_type, SHARED);
	assert_string_equal(rec[0].reason, "no-symbols");
	assert_string_equal(rec[0].sample_path, "/usr/lib/libweird.so");
}

static void test_an_environment_failure_is_not_blocked_and_is_retried(void **state)
{
	(void)state;
	script_environment_failure();
	assert_int_equal(registry_register(reg, 100, "/lib/libssl.so.3", SHARED, id(1, 1), 0),
			 REGISTRY_FAILED);
	assert_int_equal(ctr()->hook_failed, 1);
	assert_int_equal(ctr()->blocked, 0);
	assert_int_equal(registry_blocked_count(reg), 0);
	assert_int_equal(registry_traced_count(reg), 0);
	assert_false(registry_is_blocked(reg, id(1, 1), SHARED));
	assert_int_equal(registry_register(reg, 101, "/lib/libssl.so.3", SHARED, id(1, 1), 0),
			 REGISTRY_ATTACHED);
	assert_int_equal(fake.attach_calls, 2);
	assert_int_equal(fake.ndetached, 0);
}

static void block_file(uint64_t ino)
{
	char path[64];
	snprintf(path, sizeof(path), "/lib/blocked-%llu.so", (unsigned long long)ino);
	script_file_failure(9, ino, "not-elf");
	assert_int_equal(registry_register(reg, 1, path, SHARED, no_hint, 0), REGISTRY_BLOCKED);
}

static void test_the_blocklist_evicts_the_least_recently_used_at_its_limit(void **state)
{
	(void)state;
	struct registry_limits l = default_limits;
	l.max_blocked = 3;
	use_limits(&l);
	block_file(1);
	block_file(2);
	block_file(3);
	assert_int_equal(registry_blocked_count(reg), 3);
	block_file(4); /* evicts 1, the oldest */
	assert_int_equal(registry_blocked_count(reg), 3);
	assert_int_equal(ctr()->blocked_evicted, 1);
	assert_false(registry_is_blocked(reg, id(9, 1), SHARED));
	assert_true(registry_is_blocked(reg, id(9, 2), SHARED));
	/* A hit makes 2 the most recently used: 3 is evicted next. */
	assert_int_equal(registry_register(reg, 7, "/x", SHARED, id(9, 2), 0), REGISTRY_BLOCKED);
	block_file(5);
	assert_int_equal(ctr()->blocked_evicted, 2);
	assert_false(registry_is_blocked(reg, id(9, 3), SHARED));
	assert_true(registry_is_blocked(reg, id(9, 2), SHARED));
	assert_true(registry_is_blocked(reg, id(9, 4), SHARED));
	assert_true(registry_is_blocked(reg, id(9, 5), SHARED));
	assert_int_equal(ctr()->blocked, 5);
	/* An evicted file is asked about again. */
	unsigned calls = fake.attach_calls;
	assert_int_equal(registry_register(reg, 8, "/lib/blocked-1.so", SHARED, id(9, 1), 0),
			 REGISTRY_ATTACHED);
	assert_int_equal(fake.attach_calls, calls + 1);
}

static void test_the_reference_blocklist_of_2000_keeps_the_newest_after_2001_files(void **state)
{
	(void)state;
	snprintf(fake.fallback.reason, sizeof(fake.fallback.reason), "no-symbols");
	fake.fallback.rc = -ENOEXEC;
	for (uint64_t ino = 1; ino <= 2001; ino++)
		assert_int_equal(registry_register(reg, 1, "/lib/x.so", SHARED, id(4, ino), 0),
				 REGISTRY_BLOCKED);
	assert_int_equal(registry_blocked_count(reg), 2000);
	assert_int_equal(ctr()->blocked, 2001);
	assert_int_equal(ctr()->blocked_evicted, 1);
	assert_false(registry_is_blocked(reg, id(4, 1), SHARED));
	for (uint64_t ino = 2; ino <= 2001; ino++)
		assert_true(registry_is_blocked(reg, id(4, ino), SHARED));
	/* Pages list them all, oldest first, each once. */
	struct usm_blocked_record rec[USM_PAGE_MAX_RECORDS];
	uint64_t cursor = 0, expect = 2;
	do {
		uint32_t n;
		assert_int_equal(registry_page_blocked(reg, cursor, rec, USM_PAGE_MAX_RECORDS, &n,
						       &cursor),
				 0);
		for (uint32_t i = 0; i < n; i++)
			assert_int_equal(rec[i].inode, expect++);
	} while (cursor);
	assert_int_equal(expect, 2002);
}

static void test_clear_blocked_empties_the_blocklist_and_allows_a_retry(void **state)
{
	(void)state;
	block_file(1);
	block_file(2);
	uint64_t gen = registry_generation(reg);
	assert_int_equal(registry_clear_blocked(reg), 2);
	assert_true(registry_generation(reg) != gen);
	assert_int_equal(registry_blocked_count(reg), 0);
	assert_false(registry_is_blocked(reg, id(9, 1), SHARED));
	assert_int_equal(registry_clear_blocked(reg), 0);
	script_attached(9, 1, 3);
	assert_int_equal(registry_register(reg, 5, "/lib/blocked-1.so", SHARED, id(9, 1), 0),
			 REGISTRY_ATTACHED);
	/* Blocking works again after a clear. */
	block_file(3);
	assert_int_equal(registry_blocked_count(reg), 1);
}

static void test_a_file_blocked_under_another_path_is_a_hit_not_a_new_block(void **state)
{
	(void)state;
	block_file(1);
	script_file_failure(9, 1, "not-elf");
	assert_int_equal(registry_register(reg, 2, "/other/path.so", SHARED, no_hint, 0),
			 REGISTRY_BLOCKED);
	assert_int_equal(ctr()->blocked, 1);
	assert_int_equal(ctr()->blocked_hits, 1);
	assert_int_equal(registry_blocked_count(reg), 1);
}

/* ---- limits ---- */

static void test_max_entries_refuses_new_files_and_counts_full(void **state)
{
	(void)state;
	struct registry_limits l = default_limits;
	l.max_entries = 2;
	use_limits(&l);
	register_file(1, 100, 1, 0);
	register_file(2, 200, 1, 0);
	assert_int_equal(registry_register(reg, 300, "/lib/c.so", SHARED, id(1, 3), 0),
			 REGISTRY_FULL);
	assert_int_equal(registry_register(reg, 301, "/lib/d.so", SHARED, no_hint, 0),
			 REGISTRY_FULL);
	assert_int_equal(ctr()->full, 2);
	assert_int_equal(fake.attach_calls, 2);
	assert_int_equal(registry_traced_count(reg), 2);
	/* Known files still take pids. */
	assert_int_equal(registry_register(reg, 101, "/lib/a.so", SHARED, id(1, 1), 0),
			 REGISTRY_ADDED);
	assert_int_equal(registry_adopt(reg, id(1, 9), SHARED, "/lib/e.so", 9, 0), -ENOSPC);
	assert_int_equal(ctr()->full, 3);
	/* Room again once an entry is detached. */
	registry_unregister(reg, 200, 0);
	registry_expire(reg, LINGER_MS);
	assert_int_equal(registry_register(reg, 300, "/lib/c.so", SHARED, id(1, 3), 0),
			 REGISTRY_ATTACHED);
}

static void test_max_pids_per_entry_drops_extra_pids_and_counts_them(void **state)
{
	(void)state;
	struct registry_limits l = default_limits;
	l.max_pids_per_entry = 3;
	use_limits(&l);
	register_file(1, 100, 3, 0);
	assert_int_equal(registry_register(reg, 103, "/lib/libssl.so.3", SHARED, id(1, 1), 0),
			 REGISTRY_FULL);
	assert_int_equal(ctr()->pids_dropped, 1);
	assert_int_equal(ctr()->full, 0);
	assert_int_equal(ctr()->already_registered, 2);
	assert_int_equal(registry_entry_pids(reg, id(1, 1), SHARED, NULL, 0), 3);
	/* A present pid is still present, not dropped. */
	assert_int_equal(registry_register(reg, 101, "/lib/libssl.so.3", SHARED, id(1, 1), 0),
			 REGISTRY_PRESENT);
	assert_int_equal(ctr()->pids_dropped, 1);
	registry_unregister(reg, 101, 0);
	assert_int_equal(registry_register(reg, 103, "/lib/libssl.so.3", SHARED, id(1, 1), 0),
			 REGISTRY_ADDED);
	assert_int_equal(registry_unregister(reg, 103, 0), 1);
}

static void test_registry_new_refuses_missing_ops_and_zero_pids_per_entry(void **state)
{
	(void)state;
	struct registry_limits l = default_limits;
	struct registry_ops no_detach = {.attach = fake_attach};
	assert_null(registry_new(&l, &no_detach, &fake));
	assert_null(registry_new(NULL, &fake_ops, &fake));
	l.max_pids_per_entry = 0;
	assert_null(registry_new(&l, &fake_ops, &fake));
}

/* ---- adopt, prune, unregister_type ---- */

static void test_an_adopted_attachment_takes_a_pid_without_attaching(void **state)
{
	(void)state;
	assert_int_equal(registry_adopt(reg, id(2, 20), SHARED, "/lib/libssl.so.3", 555, 0), 0);
	assert_int_equal(registry_traced_count(reg), 1);
	assert_int_equal(registry_entry_pids(reg, id(2, 20), SHARED, NULL, 0), 0);
	assert_int_equal(registry_adopt(reg, id(2, 20), SHARED, "/lib/libssl.so.3", 555, 0),
			 -EEXIST);
	assert_int_equal(registry_register(reg, 100, "/lib/libssl.so.3", SHARED, id(2, 20), 10),
			 REGISTRY_ADDED);
	assert_int_equal(fake.attach_calls, 0);
	assert_int_equal(registry_expire(reg, 10 * LINGER_MS), -1); /* linger cancelled */
	registry_unregister(reg, 100, 20 * LINGER_MS);
	registry_expire(reg, 21 * LINGER_MS);
	assert_int_equal(times_detached(555), 1);
	assert_int_equal(fake.ndetached, 1);
}

static void test_an_adopted_attachment_nobody_uses_is_detached_after_linger(void **state)
{
	(void)state;
	assert_int_equal(registry_adopt(reg, id(2, 20), SHARED, "/lib/libssl.so.3", 555, 100), 0);
	assert_int_equal(registry_expire(reg, 100), (int)LINGER_MS);
	assert_int_equal(fake.ndetached, 0);
	assert_int_equal(registry_expire(reg, 100 + LINGER_MS), -1);
	assert_int_equal(times_detached(555), 1);
	assert_int_equal(ctr()->registered, 0);
}

static bool pid_is_even(void *ctx, uint32_t pid)
{
	unsigned *calls = ctx;
	(*calls)++;
	return pid % 2 == 0;
}

static void test_prune_removes_pids_that_are_no_longer_alive(void **state)
{
	(void)state;
	register_file(1, 100, 4, 0); /* 100..103 */
	register_file(2, 101, 2, 0); /* 101, 102 */
	register_file(3, 201, 1, 0); /* 201 */
	unsigned calls = 0;
	assert_int_equal(registry_prune(reg, pid_is_even, &calls, 0), 3); /* 101, 103, 201 */
	assert_int_equal(calls, 5); /* once per distinct pid */
	uint32_t want1[] = {100, 102};
	assert_pids(id(1, 1), SHARED, want1, 2);
	uint32_t want2[] = {102};
	assert_pids(id(1, 2), SHARED, want2, 1);
	assert_int_equal(registry_entry_pids(reg, id(1, 3), SHARED, NULL, 0), 0);
	assert_int_equal(ctr()->unregistered, 4);
	registry_expire(reg, LINGER_MS);
	assert_int_equal(registry_traced_count(reg), 2);
	calls = 0;
	assert_int_equal(registry_prune(reg, pid_is_even, &calls, 0), 0);
	assert_int_equal(calls, 2);
}

static void test_unregister_type_removes_the_pid_only_from_that_type(void **state)
{
	(void)state;
	registry_register(reg, 100, "/lib/libssl.so.3", SHARED, id(1, 1), 0);
	registry_register(reg, 100, "/lib/libgnutls.so.30", SHARED, id(1, 2), 0);
	registry_register(reg, 100, "/usr/bin/envoy", USM_PROG_ISTIO, id(1, 3), 0);
	registry_register(reg, 200, "/lib/libssl.so.3", SHARED, id(1, 1), 0);
	assert_int_equal(registry_unregister_type(reg, 100, SHARED, 0), 2);
	assert_int_equal(registry_entry_pids(reg, id(1, 1), SHARED, NULL, 0), 1);
	assert_int_equal(registry_entry_pids(reg, id(1, 2), SHARED, NULL, 0), 0);
	uint32_t want[] = {100};
	assert_pids(id(1, 3), USM_PROG_ISTIO, want, 1);
	assert_int_equal(registry_unregister_type(reg, 100, SHARED, 0), 0);
	assert_int_equal(registry_unregister(reg, 100, 0), 1);
}

/* ---- paging ---- */

struct seen {
	unsigned records;
	uint32_t npids;
	uint32_t pids[128];
	char path[USM_IPC_PATH_MAX];
};

static void test_100_entries_read_7_per_page_rebuild_everything_exactly_once(void **state)
{
	(void)state;
	static struct seen seen[101];
	memset(seen, 0, sizeof(seen));
	for (uint32_t ino = 1; ino <= 100; ino++) {
		char path[64];
		snprintf(path, sizeof(path), "/lib/lib%u.so", ino);
		for (uint32_t p = 0; p < ino % 3 + 1; p++)
			registry_register(reg, ino * 10 + p, path, (uint8_t)(ino % USM_PROG_TYPE_COUNT),
					  id(1, ino), 0);
	}
	uint64_t gen = registry_generation(reg);
	struct usm_traced_record rec[7];
	uint64_t cursor = 0;
	unsigned pages = 0, last_ino = 0;
	do {
		uint32_t n;
		assert_int_equal(registry_page_traced(reg, cursor, rec, 7, &n, &cursor), 0);
		pages++;
		assert_true(n == 7 || cursor == 0);
		for (uint32_t i = 0; i < n; i++) {
			assert_int_equal(rec[i].dev, 1);
			assert_true(rec[i].inode >= 1 && rec[i].inode <= 100);
			assert_true(rec[i].inode > last_ino); /* entry order */
			last_ino = (unsigned)rec[i].inode;
			struct seen *s = &seen[rec[i].inode];
			s->records++;
			assert_int_equal(rec[i].program_type, rec[i].inode % USM_PROG_TYPE_COUNT);
			memcpy(s->pids, rec[i].pids, rec[i].npids * sizeof(uint32_t));
			s->npids = rec[i].npids;
			snprintf(s->path, sizeof(s->path), "%s", rec[i].path);
		}
	} while (cursor);
	assert_int_equal(pages, 15);
	assert_int_equal(registry_generation(reg), gen);
	for (uint32_t ino = 1; ino <= 100; ino++) {
		char path[64];
		snprintf(path, sizeof(path), "/lib/lib%u.so", ino);
		assert_int_equal(seen[ino].records, 1);
		assert_int_equal(seen[ino].npids, ino % 3 + 1);
		for (uint32_t p = 0; p < seen[ino].npids; p++)
			assert_int_equal(seen[ino].pids[p], ino * 10 + p);
		assert_string_equal(seen[ino].path, path);
	}
}

static void read_70_pid_file(uint32_t per_page)
{
	uint32_t got[70];
	uint32_t ngot = 0;
	unsigned records = 0;
	struct usm_traced_record rec[USM_PAGE_MAX_RECORDS];
	uint64_t cursor = 0;
	do {
		uint32_t n;
		registry_page_traced(reg, cursor, rec, per_page, &n, &cursor);
		for (uint32_t i = 0; i < n; i++, records++) {
			assert_int_equal(rec[i].dev, 1);
			assert_int_equal(rec[i].inode, 7);
			assert_int_equal(rec[i].program_type, SHARED);
			assert_string_equal(rec[i].path, "/lib/libssl.so.3");
			assert_int_equal(rec[i].npids, records < 2 ? 32 : 6);
			assert_true(ngot + rec[i].npids <= 70);
			memcpy(&got[ngot], rec[i].pids, rec[i].npids * sizeof(uint32_t));
			ngot += rec[i].npids;
		}
	} while (cursor);
	assert_int_equal(records, 3);
	assert_int_equal(ngot, 70);
	for (uint32_t i = 0; i < 70; i++)
		assert_int_equal(got[i], 5000 + i);
}

static void test_a_file_with_70_pids_spans_3_records_with_all_pids(void **state)
{
	(void)state;
	/* Registered out of order: pids are listed sorted. */
	for (uint32_t i = 0; i < 70; i++)
		registry_register(reg, 5000 + (i * 29) % 70, "/lib/libssl.so.3", SHARED, id(1, 7), 0);
	assert_int_equal(registry_entry_pids(reg, id(1, 7), SHARED, NULL, 0), 70);
	read_70_pid_file(USM_PAGE_MAX_RECORDS);
	read_70_pid_file(1); /* the cursor resumes inside the file */
	read_70_pid_file(2);
}

static void test_a_lingering_entry_is_listed_without_pids(void **state)
{
	(void)state;
	register_file(1, 100, 1, 0);
	registry_unregister(reg, 100, 0);
	struct usm_traced_record rec[2];
	uint32_t n;
	uint64_t next;
	registry_page_traced(reg, 0, rec, 2, &n, &next);
	assert_int_equal(n, 1);
	assert_int_equal(next, 0);
	assert_int_equal(rec[0].inode, 1);
	assert_int_equal(rec[0].npids, 0);
}

static void test_a_stale_or_bogus_cursor_restarts_from_the_beginning(void **state)
{
	(void)state;
	register_file(1, 100, 1, 0);
	register_file(2, 200, 1, 0);
	register_file(3, 300, 1, 0);
	struct usm_traced_record rec[3];
	uint32_t n;
	uint64_t next, next2;
	registry_page_traced(reg, 0, rec, 1, &n, &next);
	assert_int_equal(rec[0].inode, 1);
	assert_true(next != 0);
	/* The entry the cursor points at goes away. */
	registry_unregister(reg, 200, 0);
	registry_expire(reg, LINGER_MS);
	registry_page_traced(reg, next, rec, 3, &n, &next2);
	assert_int_equal(n, 2);
	assert_int_equal(rec[0].inode, 1);
	assert_int_equal(rec[1].inode, 3);
	assert_int_equal(next2, 0);
	const uint64_t bogus[] = {1, 12345, UINT64_MAX, ((uint64_t)1 << 24) | 99};
	for (size_t i = 0; i < sizeof(bogus) / sizeof(bogus[0]); i++) {
		registry_page_traced(reg, bogus[i], rec, 3, &n, &next2);
		assert_int_equal(n, 2);
		assert_int_equal(rec[0].inode, 1);
		struct usm_blocked_record brec[1];
		registry_page_blocked(reg, bogus[i], brec, 1, &n, &next2);
		assert_int_equal(n, 0);
		assert_int_equal(next2, 0);
	}
	/* An empty registry reads as one empty page. */
	registry_detach_all(reg);
	registry_page_traced(reg, 0, rec, 3, &n, &next2);
	assert_int_equal(n, 0);
	assert_int_equal(next2, 0);
}

static void test_blocked_pages_resume_at_the_cursor(void **state)
{
	(void)state;
	for (uint64_t ino = 1; ino <= 10; ino++)
		block_file(ino);
	struct usm_blocked_record rec[3];
	uint64_t cursor = 0, expect = 1;
	unsigned pages = 0;
	do {
		uint32_t n;
		registry_page_blocked(reg, cursor, rec, 3, &n, &cursor);
		pages++;
		for (uint32_t i = 0; i < n; i++) {
			char path[64];
			snprintf(path, sizeof(path), "/lib/blocked-%llu.so", (unsigned long long)expect);
			assert_int_equal(rec[i].inode, expect++);
			assert_string_equal(rec[i].sample_path, path);
			assert_string_equal(rec[i].reason, "not-elf");
		}
	} while (cursor);
	assert_int_equal(pages, 4);
	assert_int_equal(expect, 11);
}

/* ---- generation ---- */

static uint64_t last_gen;

static void assert_changed(const char *what)
{
	uint64_t g = registry_generation(reg);
	if (g == last_gen)
		print_message("generation did not change on %s\n", what);
	assert_true(g != last_gen);
	last_gen = g;
}

static void assert_unchanged(const char *what)
{
	uint64_t g = registry_generation(reg);
	if (g != last_gen)
		print_message("generation changed on %s\n", what);
	assert_true(g == last_gen);
}

static void test_the_generation_changes_on_every_mutation_and_only_then(void **state)
{
	(void)state;
	struct registry_limits l = default_limits;
	l.max_blocked = 1;
	use_limits(&l);
	last_gen = registry_generation(reg);
	registry_register(reg, 1, "/a", SHARED, id(1, 1), 0);
	assert_changed("new entry");
	registry_register(reg, 2, "/a", SHARED, id(1, 1), 0);
	assert_changed("pid added");
	registry_register(reg, 2, "/a", SHARED, id(1, 1), 0);
	assert_unchanged("pid already present");
	registry_unregister(reg, 2, 0);
	assert_changed("pid removed");
	registry_unregister(reg, 2, 0);
	assert_unchanged("unknown pid removed");
	registry_unregister(reg, 1, 0);
	assert_changed("last pid removed");
	registry_expire(reg, LINGER_MS - 1);
	assert_unchanged("expire before the deadline");
	registry_expire(reg, LINGER_MS);
	assert_changed("entry detached");
	block_file(1);
	assert_changed("file blocked");
	registry_register(reg, 3, "/b", SHARED, id(9, 1), 0);
	assert_unchanged("blocked hit");
	block_file(2);
	assert_changed("blocked file evicted and another blocked");
	registry_clear_blocked(reg);
	assert_changed("blocklist cleared");
	registry_clear_blocked(reg);
	assert_unchanged("empty blocklist cleared");
	script_environment_failure();
	registry_register(reg, 4, "/c", SHARED, id(1, 4), 0);
	assert_unchanged("environment failure");
	registry_adopt(reg, id(1, 5), SHARED, "/d", 9, 0);
	assert_changed("adopted");
	registry_register(reg, 5, "/d", SHARED, id(1, 5), 0);
	assert_changed("pid added to the adopted entry");
	registry_unregister_type(reg, 5, SHARED, 0);
	assert_changed("unregister_type");
	registry_register(reg, 6, "/d", SHARED, id(1, 5), 0);
	last_gen = registry_generation(reg);
	unsigned calls = 0;
	registry_prune(reg, pid_is_even, &calls, 0);
	assert_unchanged("prune with every pid alive");
	registry_detach_all(reg);
	assert_changed("detach_all");
}

/* ---- what goes on the wire ---- */

static _Alignas(max_align_t) unsigned char payload[USM_IPC_MAX_PAYLOAD];
static _Alignas(max_align_t) unsigned char wire[USM_IPC_MAX_MSG];

static void test_pages_pass_the_ipc_codec(void **state)
{
	(void)state;
	char long_path[600];
	memset(long_path, 'p', sizeof(long_path) - 1);
	long_path[0] = '/';
	long_path[sizeof(long_path) - 1] = '\0';
	registry_register(reg, 1, long_path, SHARED, id(1, 1), 0);
	registry_register(reg, 2, "/lib/with\nnewline\x1b[31m.so", USM_PROG_GO_TLS, id(1, 2), 0);
	for (uint32_t p = 0; p < 100; p++)
		registry_register(reg, 1000 + p, "/lib/many.so", USM_PROG_NODEJS, id(1, 3), 0);
	script_file_failure(2, 1, "bad\tthing\x7f");
	registry_register(reg, 3, long_path, USM_PROG_ISTIO, no_hint, 0);
	script_file_failure(2, 2, "no-symbols");
	registry_register(reg, 3, "/ctl\x01.so", SHARED, no_hint, 0);

	/* Traced: every page, full-size and one record at a time. */
	for (uint32_t per_page = 1; per_page <= USM_PAGE_MAX_RECORDS; per_page += 47) {
		uint64_t cursor = 0;
		unsigned records = 0;
		do {
			struct usm_traced_page *pg = (void *)payload;
			struct usm_traced_record *rec = (void *)(pg + 1);
			memset(payload, 0xff, sizeof(payload)); /* padding must be written */
			memset(pg, 0, sizeof(*pg));
			uint32_t n;
			registry_page_traced(reg, cursor, rec, per_page, &n, &pg->next_cursor);
			pg->count = n;
			pg->generation = registry_generation(reg);
			cursor = pg->next_cursor;
			records += n;
			size_t len = usm_msg_payload_size(USM_MSG_COLL_TRACED_REP, n);
			long total = usm_msg_encode(USM_MSG_COLL_TRACED_REP, payload, len, wire,
						    sizeof(wire));
			assert_true(total > 0);
			struct usm_msg_view view;
			assert_int_equal(usm_msg_decode(wire, (size_t)total, &view), USM_DECODE_OK);
			const struct usm_traced_record *got =
				(const void *)((const struct usm_traced_page *)view.payload + 1);
			for (uint32_t i = 0; i < n; i++) {
				if (got[i].inode == 1) {
					assert_int_equal(strlen(got[i].path), USM_IPC_PATH_MAX - 1);
					assert_memory_equal(got[i].path, long_path,
							    USM_IPC_PATH_MAX - 1);
				}
				if (got[i].inode == 2)
					assert_string_equal(got[i].path, "/lib/with?newline?[31m.so");
			}
		} while (cursor);
		assert_int_equal(records, 2 + 4); /* 100 pids: 4 records */
	}

	/* Blocked. */
	struct usm_blocked_page *bp = (void *)payload;
	struct usm_blocked_record *brec = (void *)(bp + 1);
	memset(payload, 0xff, sizeof(payload));
	memset(bp, 0, sizeof(*bp));
	uint32_t n;
	registry_page_blocked(reg, 0, brec, USM_PAGE_MAX_RECORDS, &n, &bp->next_cursor);
	assert_int_equal(n, 2);
	bp->count = n;
	long total = usm_msg_encode(USM_MSG_COLL_BLOCKED_REP, payload,
				    usm_msg_payload_size(USM_MSG_COLL_BLOCKED_REP, n), wire,
				    sizeof(wire));
	assert_true(total > 0);
	struct usm_msg_view view;
	assert_int_equal(usm_msg_decode(wire, (size_t)total, &view), USM_DECODE_OK);
	const struct usm_blocked_record *got =
		(const void *)((const struct usm_blocked_page *)view.payload + 1);
	assert_string_equal(got[0].reason, "bad?thing?");
	assert_int_equal(got[0].program_type, USM_PROG_ISTIO);
	assert_int_equal(strlen(got[0].sample_path), USM_IPC_PATH_MAX - 1);
	assert_string_equal(got[1].sample_path, "/ctl?.so");
}

/* ---- scale ---- */

/* Many files and pids coming and going keep every structure consistent
 * (the hash tables delete by shifting, which this exercises). */
static void test_churn_keeps_lookups_and_counts_consistent(void **state)
{
	(void)state;
	enum { FILES = 300, PIDS = 2000 };
	static bool member[FILES + 1][PIDS];
	memset(member, 0, sizeof(member));
	uint64_t now = 0;
	srand(1);
	for (int step = 0; step < 50000; step++) {
		uint32_t ino = 1 + (uint32_t)rand() % FILES;
		uint32_t pid = (uint32_t)rand() % PIDS;
		int op = rand() % 10;
		now += 7;
		if (op < 6) {
			enum registry_result res =
				registry_register(reg, pid, "/lib/f.so", SHARED, id(1, ino), now);
			assert_true(res == REGISTRY_ATTACHED || res == REGISTRY_ADDED ||
				    res == REGISTRY_PRESENT);
			assert_int_equal(res == REGISTRY_PRESENT, member[ino][pid]);
			member[ino][pid] = true;
		} else if (op < 9) {
			unsigned expect = 0;
			for (uint32_t f = 1; f <= FILES; f++) {
				expect += member[f][pid];
				member[f][pid] = false;
			}
			assert_int_equal(registry_unregister(reg, pid, now), expect);
		} else {
			registry_expire(reg, now);
		}
	}
	for (uint32_t f = 1; f <= FILES; f++) {
		int expect = 0;
		for (uint32_t p = 0; p < PIDS; p++)
			expect += member[f][p];
		int got = registry_entry_pids(reg, id(1, f), SHARED, NULL, 0);
		if (got != -ENOENT)
			assert_int_equal(got, expect);
		else
			assert_int_equal(expect, 0);
	}
	unsigned live = registry_traced_count(reg);
	assert_int_equal(registry_detach_all(reg), live);
	assert_int_equal(fake.ndetached, ctr()->registered);
	for (unsigned i = 0; i < fake.ndetached; i++)
		assert_int_equal(times_detached(fake.detached[i]), 1);
}

/* ---- resident files (resident_libraries) ---- */

static void test_a_resident_file_is_attached_without_pids_and_never_lingers(void **state)
{
	(void)state;
	script_attached(8, 42, 7);
	assert_int_equal(registry_register_resident(reg, 1, "/usr/lib/libssl.so.3", SHARED, 0),
			 REGISTRY_ATTACHED);
	assert_int_equal(fake.attach_calls, 1);
	assert_int_equal(fake.last_pid, 1);
	assert_int_equal(fake.last_hint.dev, 0);
	assert_int_equal(fake.last_hint.ino, 0);
	assert_int_equal(registry_traced_count(reg), 1);
	assert_int_equal(registry_entry_pids(reg, id(8, 42), SHARED, NULL, 0), 0);
	assert_int_equal(registry_expire(reg, 100 * LINGER_MS), -1);
	assert_int_equal(fake.ndetached, 0);
	/* A process opening it finds it by the kernel's identity: no attach. */
	assert_int_equal(registry_register(reg, 100, "/usr/lib/libssl.so.3", SHARED, id(8, 42),
					   200 * LINGER_MS),
			 REGISTRY_ADDED);
	assert_int_equal(fake.attach_calls, 1);
	/* Its last pid leaving does not start a linger. */
	registry_unregister(reg, 100, 300 * LINGER_MS);
	assert_int_equal(registry_expire(reg, 1000 * LINGER_MS), -1);
	assert_int_equal(fake.ndetached, 0);
	assert_int_equal(registry_traced_count(reg), 1);
	/* Only detach_all gives it back. */
	assert_int_equal(registry_detach_all(reg), 1);
	assert_int_equal(times_detached(7), 1);
}

static void test_an_adopted_or_used_file_becomes_resident_without_a_second_attachment(void **state)
{
	(void)state;
	assert_int_equal(registry_adopt(reg, id(2, 20), SHARED, "/lib/libssl.so.3", 555, 0), 0);
	script_attached(2, 20, 555); /* privd: already attached, same attachment */
	assert_int_equal(registry_register_resident(reg, 1, "/lib/libssl.so.3", SHARED, 0),
			 REGISTRY_PRESENT);
	assert_int_equal(registry_traced_count(reg), 1);
	assert_int_equal(registry_expire(reg, 10 * LINGER_MS), -1); /* the adoption's linger ended */
	assert_int_equal(fake.ndetached, 0);
	assert_int_equal(ctr()->registered, 0);
}

static void test_a_resident_file_that_fails_is_blocked_or_counted_like_any_other(void **state)
{
	(void)state;
	script_file_failure(3, 30, "no-symbols");
	assert_int_equal(registry_register_resident(reg, 1, "/lib/libfake.so", SHARED, 0),
			 REGISTRY_BLOCKED);
	assert_true(registry_is_blocked(reg, id(3, 30), SHARED));
	script_environment_failure(); /* missing file */
	assert_int_equal(registry_register_resident(reg, 1, "/lib/libssl.so.3", SHARED, 0),
			 REGISTRY_FAILED);
	assert_int_equal(ctr()->hook_failed, 1);
	assert_int_equal(registry_traced_count(reg), 0);
	assert_int_equal(registry_register_resident(reg, 1, "/lib/libssl.so.3", USM_PROG_TYPE_COUNT,
						    0),
			 REGISTRY_FAILED);
	assert_int_equal(fake.attach_calls, 2);
}

static void test_a_resident_file_is_listed_with_the_resident_flag(void **state)
{
	(void)state;
	register_file(1, 100, 1, 0);
	script_attached(1, 2, 9);
	registry_register_resident(reg, 1, "/lib/libgnutls.so.30", SHARED, 0);
	struct usm_traced_record rec[4];
	uint32_t n;
	uint64_t next;
	registry_page_traced(reg, 0, rec, 4, &n, &next);
	assert_int_equal(n, 2);
	assert_int_equal(rec[0].inode, 1);
	assert_int_equal(rec[0].flags, 0);
	assert_int_equal(rec[1].inode, 2);
	assert_int_equal(rec[1].flags, USM_TRACED_RESIDENT);
	assert_int_equal(rec[1].npids, 0);
}

#define T(f) cmocka_unit_test_setup_teardown(test_##f, setup, teardown)

int main(void)
{
	usm_log_init("test_registry", USM_LOG_ERROR);
	const struct CMUnitTest tests[] = {
		T(register_attaches_a_new_file_once),
		T(second_pid_of_a_known_file_is_added_without_attaching),
		T(unknown_hint_whose_identity_is_traced_adds_the_pid_to_that_entry),
		T(registering_a_pid_already_present_changes_nothing),
		T(same_file_under_two_program_types_is_two_entries),
		T(unknown_program_type_is_refused_without_attaching),
		T(unregister_removes_the_pid_from_every_entry),
		T(last_pid_leaving_lingers_then_detaches_exactly_once),
		T(a_new_pid_during_linger_cancels_the_detach),
		T(expire_reports_the_nearest_linger_end),
		T(zero_linger_detaches_at_the_next_expire),
		T(exit_of_an_unknown_pid_is_harmless),
		T(detach_all_detaches_every_entry_once),
		T(a_file_that_failed_to_attach_is_blocked_and_not_retried),
		T(an_environment_failure_is_not_blocked_and_is_retried),
		T(the_blocklist_evicts_the_least_recently_used_at_its_limit),
		T(the_reference_blocklist_of_2000_keeps_the_newest_after_2001_files),
		T(clear_blocked_empties_the_blocklist_and_allows_a_retry),
		T(a_file_blocked_under_another_path_is_a_hit_not_a_new_block),
		T(max_entries_refuses_new_files_and_counts_full),
		T(max_pids_per_entry_drops_extra_pids_and_counts_them),
		T(registry_new_refuses_missing_ops_and_zero_pids_per_entry),
		T(an_adopted_attachment_takes_a_pid_without_attaching),
		T(an_adopted_attachment_nobody_uses_is_detached_after_linger),
		T(prune_removes_pids_that_are_no_longer_alive),
		T(unregister_type_removes_the_pid_only_from_that_type),
		T(100_entries_read_7_per_page_rebuild_everything_exactly_once),
		T(a_file_with_70_pids_spans_3_records_with_all_pids),
		T(a_lingering_entry_is_listed_without_pids),
		T(a_stale_or_bogus_cursor_restarts_from_the_beginning),
		T(blocked_pages_resume_at_the_cursor),
		T(the_generation_changes_on_every_mutation_and_only_then),
		T(pages_pass_the_ipc_codec),
		T(churn_keeps_lookups_and_counts_consistent),
		T(a_resident_file_is_attached_without_pids_and_never_lingers),
		T(an_adopted_or_used_file_becomes_resident_without_a_second_attachment),
		T(a_resident_file_that_fails_is_blocked_or_counted_like_any_other),
		T(a_resident_file_is_listed_with_the_resident_flag),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
