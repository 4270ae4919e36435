/* The collector's check of HTTP capture records: every field it reads is
 * in range, and each kind of bad record gets its own error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "data_event.h"

#define CAP 64

static union {
	struct usm_data_event e;
	uint8_t bytes[sizeof(struct usm_data_event) + CAP];
} rec;

static void valid_record(void)
{
	memset(&rec, 0, sizeof(rec));
	rec.e.type = USM_EVENT_DATA;
	rec.e.pid = 42;
	rec.e.tid = 43;
	rec.e.dir = USM_DIR_WRITE;
	rec.e.tls = 1;
	rec.e.len = 1000;
	rec.e.next = 1000;
	rec.e.captured = CAP;
	rec.e.tuple.family = AF_INET6;
	rec.e.tuple.lport = 443;
	rec.e.tuple.rport = 50000;
	memcpy(rec.e.comm, "nginx", 6);
}

static enum data_event_error check(size_t size)
{
	const uint8_t *data = NULL;
	enum data_event_error err = data_event_check(&rec, size, &data);
	if (err == DATA_EVENT_OK)
		assert_ptr_equal(data, rec.e.data);
	return err;
}

static void test_valid_records_pass(void **state)
{
	(void)state;
	valid_record();
	assert_int_equal(check(sizeof(rec)), DATA_EVENT_OK);
	/* unknown tuple, nothing captured (sendfile), a close */
	memset(&rec.e.tuple, 0, sizeof(rec.e.tuple));
	rec.e.captured = 0;
	assert_int_equal(check(sizeof(rec.e)), DATA_EVENT_OK);
	rec.e.type = USM_EVENT_CONN_CLOSE;
	rec.e.len = rec.e.next = 0;
	assert_int_equal(check(sizeof(rec.e)), DATA_EVENT_OK);
	/* a bind: a TLS session and its tuple */
	valid_record();
	rec.e.type = USM_EVENT_CONN_BIND;
	rec.e.tls = 1;
	rec.e.len = rec.e.captured = rec.e.next = 0;
	assert_int_equal(check(sizeof(rec.e)), DATA_EVENT_OK);
	/* a call's later record: its bytes from offset 600, the next record
	 * at 900 (the 236 bytes between not captured) */
	valid_record();
	rec.e.offset = 600;
	rec.e.next = 900;
	assert_int_equal(check(sizeof(rec)), DATA_EVENT_OK);
	/* the first record, the next one at its end */
	rec.e.offset = 0;
	rec.e.next = CAP;
	assert_int_equal(check(sizeof(rec)), DATA_EVENT_OK);
}

static void test_short_records_are_refused(void **state)
{
	(void)state;
	valid_record();
	assert_int_equal(check(0), DATA_EVENT_SHORT);
	assert_int_equal(check(sizeof(rec.e) - 1), DATA_EVENT_SHORT);
	/* the header fits, but not the bytes it says were captured */
	assert_int_equal(check(sizeof(rec.e) + CAP - 1), DATA_EVENT_BAD_LENGTH);
}

/* Spoils one field of a valid record; returns what it spoiled, NULL past
 * the last case. */
static const char *spoil(int i, enum data_event_error *want)
{
	*want = DATA_EVENT_BAD_FIELD;
	switch (i) {
	case 0: rec.e.type = 0; *want = DATA_EVENT_BAD_TYPE; return "type 0";
	case 1: rec.e.type = 3; *want = DATA_EVENT_BAD_TYPE; return "type 3 (a discovery event)";
	case 2: rec.e.pid = 0; return "pid 0";
	case 3: rec.e.dir = 2; return "dir 2";
	case 4: rec.e.tls = 2; return "tls 2";
	case 5: memset(rec.e.comm, 'x', sizeof(rec.e.comm)); return "comm without NUL";
	case 6: rec.e.tuple.family = AF_UNIX; return "family AF_UNIX";
	case 7: rec.e.tuple.lport = 0; return "local port 0";
	case 8: rec.e.tuple.rport = 0; return "remote port 0";
	}
	*want = DATA_EVENT_BAD_LENGTH;
	switch (i) {
	case 9: rec.e.len = CAP - 1; return "captured > len";
	case 10:
		rec.e.captured = USM_CAPTURE_MAX + 1;
		rec.e.len = 1 << 20;
		return "captured > the cap";
	case 11: rec.e.len = rec.e.captured = 0; return "data with len 0";
	case 12: rec.e.type = USM_EVENT_CONN_CLOSE; return "close with a length";
	case 13: rec.e.type = USM_EVENT_CONN_BIND; rec.e.tls = 1; return "bind with a length";
	case 16: rec.e.offset = 1000; return "offset at the call's end";
	case 17: rec.e.next = 1001; return "next past the call's end";
	case 18: rec.e.offset = 500; rec.e.next = 500; return "next at offset";
	case 19: rec.e.offset = 500; rec.e.next = 400; return "next before offset";
	case 20: rec.e.offset = 500; rec.e.next = 500 + CAP - 1; return "captured past next";
	case 21:
		rec.e.type = USM_EVENT_CONN_CLOSE;
		rec.e.len = rec.e.captured = 0;
		return "close with a next";
	case 22:
		rec.e.type = USM_EVENT_CONN_CLOSE;
		rec.e.len = rec.e.captured = rec.e.next = 0;
		rec.e.offset = 4;
		return "close with an offset";
	}
	*want = DATA_EVENT_BAD_FIELD;
	switch (i) {
	case 14:
		rec.e.type = USM_EVENT_CONN_BIND;
		rec.e.tls = 1;
		rec.e.len = rec.e.captured = rec.e.next = 0;
		memset(&rec.e.tuple, 0, sizeof(rec.e.tuple));
		return "bind without a tuple";
	case 15:
		rec.e.type = USM_EVENT_CONN_BIND;
		rec.e.tls = 0;
		rec.e.len = rec.e.captured = rec.e.next = 0;
		return "bind of a plain socket";
	}
	return NULL;
}

static void test_each_bad_field_is_refused(void **state)
{
	(void)state;
	enum data_event_error want;
	const char *what;
	for (int i = 0; (valid_record(), what = spoil(i, &want)) != NULL; i++) {
		enum data_event_error got = check(sizeof(rec));
		if (got != want)
			fail_msg("%s: got %s, want %s", what, data_event_error_name(got),
				 data_event_error_name(want));
	}
	assert_string_equal(data_event_error_name(DATA_EVENT_BAD_LENGTH), "bad length");
	assert_string_equal(data_event_error_name((enum data_event_error)99), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_records_pass),
		cmocka_unit_test(test_short_records_are_refused),
		cmocka_unit_test(test_each_bad_field_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
