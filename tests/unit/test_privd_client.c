/* The collector's wrappers around its requests to privd, against a fake
 * privd on a real socket: each wrapper sends what it was given, copies out
 * what privd answered, and counts a failure exactly where the collector
 * counted it before the wrappers existed. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "collector.h"
#include "ipc_socket.h"
#include "privd_client.h"

/* ---- a fake privd: answers each request as the test sets it up ---- */

static struct {
	int error;     /* != 0: answer USM_MSG_ERROR with this code */
	uint32_t records; /* LIST and SCAN: records per page */
	union {
		struct usm_attach_req attach;
		struct usm_detach_req detach;
		struct usm_page_req page;
	} got; /* the last request received */
	uint16_t got_type;
} fake;

static int answer(const struct usm_msg_view *req, struct usm_ipc_reply *rep)
{
	fake.got_type = req->type;
	memcpy(&fake.got, req->payload, req->length);
	if (fake.error) {
		usm_ipc_reply_error(rep, fake.error, "fake privd refuses");
		return fake.error;
	}
	switch (req->type) {
	case USM_MSG_PRIVD_ATTACH_REQ: {
		struct usm_attach_rep r = {.error = -ENOENT, .dev = 34, .ino = 1234};
		strcpy(r.reason, "no-symbols");
		usm_ipc_reply_set(rep, USM_MSG_PRIVD_ATTACH_REP, &r, sizeof(r));
		break;
	}
	case USM_MSG_PRIVD_DETACH_REQ:
		usm_ipc_reply_set(rep, USM_MSG_PRIVD_DETACH_REP, NULL, 0);
		break;
	case USM_MSG_PRIVD_LIST_REQ: {
		struct usm_attachment_page *pg = (void *)rep->payload;
		struct usm_attachment_record *r = (void *)(pg + 1);
		memset(pg, 0, sizeof(*pg) + fake.records * sizeof(*r));
		pg->next_cursor = fake.got.page.cursor + 1;
		pg->count = fake.records;
		for (uint32_t i = 0; i < fake.records; i++) {
			r[i].attachment = 100 + i;
			r[i].ino = 500 + i;
			snprintf(r[i].path, sizeof(r[i].path), "/lib/libssl.so.%u", i);
		}
		rep->type = USM_MSG_PRIVD_LIST_REP;
		rep->length = (uint32_t)usm_msg_payload_size(rep->type, pg->count);
		break;
	}
	case USM_MSG_PRIVD_SCAN_REQ: {
		struct usm_scan_page *pg = (void *)rep->payload;
		struct usm_scan_record *r = (void *)(pg + 1);
		memset(pg, 0, sizeof(*pg) + fake.records * sizeof(*r));
		pg->count = fake.records;
		for (uint32_t i = 0; i < fake.records; i++) {
			r[i].pid = (uint32_t)fake.got.page.cursor + i;
			r[i].kind = USM_SCAN_EXE;
			strcpy(r[i].path, "/usr/bin/node");
		}
		rep->type = USM_MSG_PRIVD_SCAN_REP;
		rep->length = (uint32_t)usm_msg_payload_size(rep->type, pg->count);
		break;
	}
	case USM_MSG_PRIVD_STATUS_REQ: {
		struct usm_privd_status s = {.process_monitor = 1, .attachments = 7};
		usm_ipc_reply_set(rep, USM_MSG_PRIVD_STATUS_REP, &s, sizeof(s));
		break;
	}
	case USM_MSG_PRIVD_HEALTH_REQ: {
		struct usm_health h;
		memset(&h, 0, sizeof(h));
		for (unsigned i = 0; i < USM_ROLE_COUNT; i++) {
			h.proc[i].role = (uint8_t)i;
			h.proc[i].pid = 10 + i;
		}
		usm_ipc_reply_set(rep, USM_MSG_PRIVD_HEALTH_REP, &h, sizeof(h));
		break;
	}
	}
	return 0;
}

static int handle(void *ctx, const struct usm_msg_view *req, struct usm_ipc_reply *rep)
{
	(void)ctx;
	return answer(req, rep);
}

static const struct usm_ipc_route fake_routes[] = {
	{USM_MSG_PRIVD_ATTACH_REQ, handle}, {USM_MSG_PRIVD_DETACH_REQ, handle},
	{USM_MSG_PRIVD_LIST_REQ, handle},   {USM_MSG_PRIVD_SCAN_REQ, handle},
	{USM_MSG_PRIVD_STATUS_REQ, handle}, {USM_MSG_PRIVD_HEALTH_REQ, handle},
};

static struct usm_ipc_server server;
static pthread_t server_thread;
static atomic_bool stopping;
static char dir[64], sock_path[128];
static struct collector c;

static void *serve(void *arg)
{
	int fd;
	(void)arg;
	if (usm_ipc_server_pollfd(&server, &fd) != 0)
		return NULL;
	while (!atomic_load(&stopping)) {
		struct pollfd p = {fd, POLLIN, 0};
		if (poll(&p, 1, 20) > 0)
			usm_ipc_server_serve(&server, fake_routes,
					     sizeof(fake_routes) / sizeof(fake_routes[0]), NULL, 0);
	}
	return NULL;
}

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/usm-privd-client-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(sock_path, sizeof(sock_path), "%s/privd.ipc", dir);
	if (usm_ipc_server_listen(&server, "fake privd", sock_path, getuid(), 0600) != 0)
		return -1;
	atomic_store(&stopping, false);
	if (pthread_create(&server_thread, NULL, serve, NULL) != 0)
		return -1;
	return usm_ipc_client_dial(&c.privd, sock_path, 5000);
}

static int teardown(void **state)
{
	(void)state;
	usm_ipc_client_close(&c.privd);
	atomic_store(&stopping, true);
	pthread_join(server_thread, NULL);
	usm_ipc_server_close(&server);
	unlink(sock_path);
	rmdir(dir);
	return 0;
}

static uint64_t failures(void) { return c.counters[USM_CTR_PRIVD_CALL_FAILURES]; }

static void reset(void)
{
	memset(&fake, 0, sizeof(fake));
	memset(c.counters, 0, sizeof(c.counters));
}

/* ---- tests ---- */

static void test_attach_sends_its_arguments_and_returns_privds_verdict(void **state)
{
	(void)state;
	reset();
	struct usm_attach_rep rep;
	int rc = privd_attach(&c, 4242, "/usr/lib/libssl.so.3\n", 3, USM_PROG_ISTIO,
			      (struct path_id){34, 99}, &rep);
	assert_int_equal(rc, 0);
	assert_int_equal(fake.got_type, USM_MSG_PRIVD_ATTACH_REQ);
	assert_int_equal(fake.got.attach.pid, 4242);
	assert_int_equal(fake.got.attach.set_id, 3);
	assert_int_equal(fake.got.attach.program_type, USM_PROG_ISTIO);
	assert_int_equal(fake.got.attach.hint_dev, 34);
	assert_int_equal(fake.got.attach.hint_ino, 99);
	/* What the codec would refuse is made printable first. */
	assert_string_equal(fake.got.attach.path, "/usr/lib/libssl.so.3?");
	/* privd answered: its refusal is the verdict, not a failed call. */
	assert_int_equal(rep.error, -ENOENT);
	assert_string_equal(rep.reason, "no-symbols");
	assert_int_equal(rep.ino, 1234);
	assert_int_equal(failures(), 0);
}

static void test_attach_refused_by_privd_is_a_counted_failure(void **state)
{
	(void)state;
	reset();
	fake.error = -EPERM;
	struct usm_attach_rep rep = {.attachment = 77};
	assert_int_equal(privd_attach(&c, 1, "/bin/x", 0, 0, (struct path_id){0, 0}, &rep), -EPERM);
	assert_int_equal(rep.attachment, 77); /* untouched */
	assert_int_equal(failures(), 1);
}

static void test_detach_of_an_attachment_already_gone_is_not_counted(void **state)
{
	(void)state;
	reset();
	assert_int_equal(privd_detach(&c, 9), 0);
	assert_int_equal(fake.got.detach.attachment, 9);
	fake.error = -ENOENT;
	assert_int_equal(privd_detach(&c, 9), -ENOENT);
	assert_int_equal(failures(), 0);
	fake.error = -EIO;
	assert_int_equal(privd_detach(&c, 9), -EIO);
	assert_int_equal(failures(), 1);
}

static void test_list_page_is_copied_out_and_its_failure_left_to_the_caller(void **state)
{
	(void)state;
	reset();
	static struct privd_attachments page;
	fake.records = USM_PAGE_MAX_RECORDS;
	assert_int_equal(privd_list_page(&c, 5, &page), 0);
	assert_int_equal(fake.got.page.cursor, 5);
	assert_int_equal(page.next_cursor, 6);
	assert_int_equal(page.count, USM_PAGE_MAX_RECORDS);
	assert_int_equal(page.records[USM_PAGE_MAX_RECORDS - 1].attachment,
			 100 + USM_PAGE_MAX_RECORDS - 1);
	assert_string_equal(page.records[2].path, "/lib/libssl.so.2");
	fake.error = -EAGAIN;
	assert_int_equal(privd_list_page(&c, 0, &page), -EAGAIN);
	assert_int_equal(failures(), 0);
}

static void test_scan_page_survives_later_calls_and_its_failure_is_left_to_the_caller(
	void **state)
{
	(void)state;
	reset();
	static struct privd_scan_records page;
	fake.records = 2;
	assert_int_equal(privd_scan_page(&c, 300, &page), 0);
	assert_int_equal(page.count, 2);
	assert_int_equal(page.next_cursor, 0);
	/* The caller registers while reading its page, which calls privd. */
	struct usm_attach_rep rep;
	assert_int_equal(privd_attach(&c, 300, "/usr/bin/node", 1, USM_PROG_NODEJS,
				      (struct path_id){0, 0}, &rep),
			 0);
	assert_int_equal(page.records[1].pid, 301);
	assert_string_equal(page.records[1].path, "/usr/bin/node");
	fake.error = -ESRCH;
	assert_int_equal(privd_scan_page(&c, 1, &page), -ESRCH);
	assert_int_equal(failures(), 0);
}

static void test_status_is_not_counted_but_a_refresh_is_and_keeps_the_last_answer(void **state)
{
	(void)state;
	reset();
	memset(&c.kernel, 0, sizeof(c.kernel));
	struct usm_privd_status s;
	assert_int_equal(privd_status(&c, &s), 0);
	assert_int_equal(s.process_monitor, 1);
	assert_int_equal(privd_status_refresh(&c), 0);
	assert_int_equal(c.kernel.attachments, 7);
	fake.error = -ETIMEDOUT;
	assert_int_equal(privd_status(&c, &s), -ETIMEDOUT);
	assert_int_equal(failures(), 0); /* start-up retries: the monitor's error */
	assert_int_equal(privd_status_refresh(&c), -ETIMEDOUT);
	assert_int_equal(c.kernel.attachments, 7);
	assert_int_equal(failures(), 1);
}

static void test_health_is_copied_out_and_its_failure_counted(void **state)
{
	(void)state;
	reset();
	struct usm_health h;
	assert_int_equal(privd_health(&c, &h), 0);
	assert_int_equal(h.proc[USM_ROLE_APID].pid, 12);
	fake.error = -EIO;
	assert_int_equal(privd_health(&c, &h), -EIO);
	assert_int_equal(failures(), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attach_sends_its_arguments_and_returns_privds_verdict),
		cmocka_unit_test(test_attach_refused_by_privd_is_a_counted_failure),
		cmocka_unit_test(test_detach_of_an_attachment_already_gone_is_not_counted),
		cmocka_unit_test(test_list_page_is_copied_out_and_its_failure_left_to_the_caller),
		cmocka_unit_test(
			test_scan_page_survives_later_calls_and_its_failure_is_left_to_the_caller),
		cmocka_unit_test(
			test_status_is_not_counted_but_a_refresh_is_and_keeps_the_last_answer),
		cmocka_unit_test(test_health_is_copied_out_and_its_failure_counted),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
