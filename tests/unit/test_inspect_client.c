/* inspect_client: privd's side of inspection, against an inspector that
 * lies, stalls, dies or answers garbage. The supervisor and the
 * inspector are played by a thread on the other end of a real owner
 * channel; the file is this test's own executable (a real ELF). */
#include <errno.h>
#include <elf.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "inspect_client.h"
#include "owner_channel.h"

enum behaviour {
	ANSWER_CODE,    /* found, at an offset inside executable code */
	ANSWER_HEADER,  /* found, at offset 0: the ELF header, not code */
	ANSWER_REFUSAL, /* the inspector's own refusal: not-elf */
	ANSWER_SHORT,   /* a datagram shorter than an answer */
	ANSWER_BAD_PAD, /* right size, padding set */
	ANSWER_NOTHING, /* exits without a word */
	ANSWER_LATE,    /* past the deadline */
	GO_CODE,        /* Go: entry and two RETs in code, offsets in bounds */
	GO_RET_HEADER,  /* Go: a RET at offset 0 (the ELF header) */
	GO_BIG_OFFSET,  /* Go: a struct offset that does not fit the cookie */
	GO_TOO_MANY,    /* Go: more RETs than the protocol holds */
	GO_STRAY_RET,   /* Go: a RET offset past nreturns */
};

struct fake {
	int channel;
	enum behaviour how;
	unsigned requests;
	uint64_t code_offset;
	struct usm_inspect_req last; /* the last request read */
};

static void *fake_supervisor(void *arg)
{
	struct fake *f = arg;
	struct owner_msg m;
	int fds[OWNER_MAX_FDS];
	unsigned nfds;
	for (;;) {
		struct timeval tv = {5, 0};
		setsockopt(f->channel, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		fd_set set;
		FD_ZERO(&set);
		FD_SET(f->channel, &set);
		if (select(f->channel + 1, &set, NULL, NULL, &tv) <= 0)
			return NULL;
		if (owner_recv(f->channel, &m, fds, &nfds) != 0)
			return NULL;
		f->requests++;
		struct usm_inspect_req req;
		struct usm_inspect_rep rep;
		memset(&rep, 0, sizeof(rep));
		ssize_t n = recv(fds[1], &req, sizeof(req), 0);
		if (n != (ssize_t)sizeof(req) || !usm_inspect_req_valid(&req))
			rep.error = -EINVAL; /* the test would see a refusal */
		f->last = req;
		rep.magic = USM_INSPECT_MAGIC;
		rep.nfuncs = req.nfuncs;
		rep.funcs[0].found = 1;
		rep.funcs[0].offset = f->code_offset;
		switch (f->how) {
		case ANSWER_CODE:
			break;
		case ANSWER_HEADER:
			rep.funcs[0].offset = 0;
			break;
		case ANSWER_REFUSAL:
			memset(rep.funcs, 0, sizeof(rep.funcs));
			rep.error = -ENOEXEC;
			strcpy(rep.reason, "not-elf");
			break;
		case ANSWER_BAD_PAD:
			rep.pad[2] = 1;
			break;
		case GO_CODE:
		case GO_RET_HEADER:
		case GO_BIG_OFFSET:
		case GO_TOO_MANY:
		case GO_STRAY_RET:
			rep.go = (struct usm_inspect_go){.goid = 152, .sysfd = 16, .family = 56,
							 .version = "go1.19.8"};
			rep.funcs[0].nreturns = 2;
			rep.funcs[0].returns[0] = f->code_offset + 8;
			rep.funcs[0].returns[1] = f->how == GO_RET_HEADER ? 0 : f->code_offset + 12;
			rep.go.goid = f->how == GO_BIG_OFFSET ? 4096 : 152;
			rep.funcs[0].nreturns = f->how == GO_TOO_MANY ? USM_INSPECT_MAX_RETURNS + 1 : 2;
			rep.funcs[0].returns[5] = f->how == GO_STRAY_RET ? f->code_offset : 0;
			break;
		default:
			break;
		}
		if (f->how == ANSWER_SHORT)
			send(fds[1], &rep, sizeof(rep) - 8, 0);
		else if (f->how == ANSWER_LATE)
			usleep(400 * 1000);
		else if (f->how != ANSWER_NOTHING)
			send(fds[1], &rep, sizeof(rep), 0);
		close(fds[0]);
		close(fds[1]);
	}
}

struct fixture {
	struct fake fake;
	pthread_t thread;
	struct inspect_client ic;
	int file;
	struct stat st;
};

static int setup(void **state)
{
	static struct fixture f;
	int sv[2];
	memset(&f, 0, sizeof(f));
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		return -1;
	f.fake.channel = sv[1];
	f.file = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	struct exec_segments seg;
	if (f.file < 0 || fstat(f.file, &f.st) != 0 || elf_exec_segments(f.file, &seg) != 0)
		return -1;
	f.fake.code_offset = seg.seg[0].start + 16;
	if (inspect_client_init(&f.ic, sv[0], 200, 4) != 0 ||
	    pthread_create(&f.thread, NULL, fake_supervisor, &f.fake) != 0)
		return -1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	close(f->ic.channel);
	pthread_join(f->thread, NULL);
	close(f->fake.channel);
	close(f->file);
	return 0;
}

/* Two exported functions and one found through them (via=). */
static const struct probe_set test_set = {
	.nfuncs = 3,
	.funcs = {{.name = "SSL_read", .entry = true, .ret = true, .replaced_by = 3},
		  {.name = "SSL_read_ex", .entry = true, .ret = true, .replaced_by = 3},
		  {.name = "ssl_read_internal", .entry = true, .ret = true, .via = {1, 2}}},
};

static void ask_kind(struct fixture *f, enum behaviour how, uint8_t set, uint16_t kind,
		     struct usm_inspect_rep *out)
{
	struct probe_set s = test_set;
	s.id = set;
	if (kind == USM_INSPECT_GO_TLS) /* no via= there (attach_policy_parse.h) */
		memset(s.funcs[2].via, 0, sizeof(s.funcs[2].via));
	f->fake.how = how;
	inspect_functions(&f->ic, f->file, &f->st, &s, kind, out);
}

static void ask(struct fixture *f, enum behaviour how, uint8_t set, struct usm_inspect_rep *out)
{
	ask_kind(f, how, set, USM_INSPECT_ELF_SYMBOLS, out);
}

static void test_an_answer_inside_the_files_code_is_taken_and_cached(void **state)
{
	struct fixture *f = *state;
	struct usm_inspect_rep a;
	ask(f, ANSWER_CODE, 0, &a);
	assert_int_equal(a.error, 0);
	assert_int_equal(a.funcs[0].found, 1);
	assert_int_equal(a.funcs[0].offset, f->fake.code_offset);
	unsigned asked = f->fake.requests;
	ask(f, ANSWER_HEADER, 0, &a); /* cached: the inspector is not asked again */
	assert_int_equal(f->fake.requests, asked);
	assert_int_equal(a.error, 0);
	assert_int_equal(f->ic.cache_hits, 1);
}

static void test_the_request_names_the_sets_functions_and_their_via(void **state)
{
	struct fixture *f = *state;
	struct usm_inspect_rep a;
	ask(f, ANSWER_CODE, 0, &a);
	const struct usm_inspect_req *r = &f->fake.last;
	assert_true(usm_inspect_req_valid(r));
	assert_int_equal(r->kind, USM_INSPECT_ELF_SYMBOLS);
	assert_int_equal(r->nfuncs, 3);
	assert_string_equal(r->names[0], "SSL_read");
	assert_string_equal(r->names[2], "ssl_read_internal");
	assert_int_equal(r->via[0][0], 0);
	assert_int_equal(r->via[2][0], 1);
	assert_int_equal(r->via[2][1], 2);
}

static void test_an_offset_outside_executable_code_is_refused(void **state)
{
	struct fixture *f = *state;
	struct usm_inspect_rep a;
	ask(f, ANSWER_HEADER, 1, &a);
	assert_int_equal(a.error, -EPROTO);
	assert_string_equal(a.reason, "inspect-failed");
}

static void test_the_inspectors_own_refusal_is_passed_on(void **state)
{
	struct fixture *f = *state;
	struct usm_inspect_rep a;
	ask(f, ANSWER_REFUSAL, 2, &a);
	assert_int_equal(a.error, -ENOEXEC);
	assert_string_equal(a.reason, "not-elf");
}

static void test_malformed_answers_are_refused(void **state)
{
	struct fixture *f = *state;
	struct usm_inspect_rep a;
	uint64_t before = f->ic.failures;
	ask(f, ANSWER_SHORT, 3, &a);
	assert_string_equal(a.reason, "inspect-failed");
	ask(f, ANSWER_BAD_PAD, 4, &a);
	assert_string_equal(a.reason, "inspect-failed");
	ask(f, ANSWER_NOTHING, 5, &a);
	assert_string_equal(a.reason, "inspect-failed");
	assert_int_equal(f->ic.failures, before + 3);
}

/* A Go answer: RETs are offsets like any other, checked to be code; the
 * struct offsets must fit the cookies; an ELF answer carries none. */
static void test_go_answers_are_checked_like_offsets(void **state)
{
	struct fixture *f = *state;
	struct usm_inspect_rep a;
	ask_kind(f, GO_CODE, 7, USM_INSPECT_GO_TLS, &a);
	assert_int_equal(a.error, 0);
	assert_int_equal(a.funcs[0].nreturns, 2);
	assert_int_equal(a.go.goid, 152);
	uint64_t before = f->ic.failures;
	const enum behaviour bad[] = {GO_RET_HEADER, GO_BIG_OFFSET, GO_TOO_MANY, GO_STRAY_RET};
	for (unsigned i = 0; i < 4; i++) {
		ask_kind(f, bad[i], (uint8_t)(8 + i), USM_INSPECT_GO_TLS, &a);
		assert_int_equal(a.error, -EPROTO);
		assert_string_equal(a.reason, "inspect-failed");
	}
	/* Go's fields in an answer to an ELF question */
	ask_kind(f, GO_CODE, 12, USM_INSPECT_ELF_SYMBOLS, &a);
	assert_string_equal(a.reason, "inspect-failed");
	assert_int_equal(f->ic.failures, before + 5);
}

static void test_no_answer_in_time_is_a_timeout_and_not_cached(void **state)
{
	struct fixture *f = *state;
	struct usm_inspect_rep a;
	ask(f, ANSWER_LATE, 6, &a);
	assert_int_equal(a.error, -ETIMEDOUT);
	assert_string_equal(a.reason, "inspect-timeout");
	unsigned asked = f->fake.requests;
	usleep(300 * 1000); /* the late answer arrives on a socket nobody reads */
	ask(f, ANSWER_CODE, 6, &a);
	assert_int_equal(f->fake.requests, asked + 1);
	assert_int_equal(a.error, 0);
}

static void test_the_cache_is_bounded_and_counts_what_it_replaces(void **state)
{
	struct fixture *f = *state;
	struct usm_inspect_rep a;
	for (uint8_t set = 0; set < 8; set++)
		ask(f, ANSWER_CODE, set, &a);
	assert_int_equal(f->ic.cache_count, 4);
	assert_true(f->ic.cache_evictions > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_an_answer_inside_the_files_code_is_taken_and_cached),
		cmocka_unit_test(test_the_request_names_the_sets_functions_and_their_via),
		cmocka_unit_test(test_an_offset_outside_executable_code_is_refused),
		cmocka_unit_test(test_the_inspectors_own_refusal_is_passed_on),
		cmocka_unit_test(test_malformed_answers_are_refused),
		cmocka_unit_test(test_go_answers_are_checked_like_offsets),
		cmocka_unit_test(test_no_answer_in_time_is_a_timeout_and_not_cached),
		cmocka_unit_test(test_the_cache_is_bounded_and_counts_what_it_replaces),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
