/* The pre-flight checks (common/preflight.c) given bad environments this
 * machine may not have: directories of any mode, a port held here, a BTF
 * file that is not there, a kernel without Landlock or uprobe_multi,
 * tracefs that would not mount. */
#include <errno.h>
#include <mntent.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cmocka.h>

#include "preflight.h"

static char base[64], msg[512];
static struct usm_config cfg;

static int setup(void **state)
{
	(void)state;
	usm_config_defaults(&cfg);
	/* Three service users none of which owns the test's directories. */
	struct usm_user *users[] = {&cfg.bpf_user, &cfg.collector_user, &cfg.api_user};
	for (unsigned i = 0; i < 3; i++) {
		snprintf(users[i]->spec, sizeof(users[i]->spec), "user%u", i);
		users[i]->uid = 40000 + i;
		users[i]->gid = 40000 + i;
		users[i]->resolved = true;
	}
	snprintf(base, sizeof(base), "/tmp/usm-preflight-XXXXXX");
	assert_non_null(mkdtemp(base));
	msg[0] = '\0';
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "chmod -R u+rwx %s; rm -rf %s", base, base);
	return system(cmd) == 0 ? 0 : -1;
}

static void mkdir_mode(const char *path, mode_t mode)
{
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static void test_a_parent_of_mode_0700_is_refused_naming_it_and_the_fix(void **state)
{
	(void)state;
	char run[128], want[512];
	assert_int_equal(chmod(base, 0700), 0);
	snprintf(run, sizeof(run), "%s/run", base);
	assert_int_equal(usm_preflight_runtime_dir(run, &cfg, msg, sizeof(msg)),
			 USM_EXIT_RUNTIME_DIR_UNREACHABLE);
	snprintf(want, sizeof(want),
		 "runtime_dir %s: its parent %s is not searchable by the service users (user0 is "
		 "uid 40000; mode 0700, owner %u:%u); make it 0711 or choose another runtime_dir",
		 run, base, (unsigned)getuid(), (unsigned)getgid());
	assert_string_equal(msg, want);
}

static void test_a_parent_others_may_search_passes(void **state)
{
	(void)state;
	char run[128];
	assert_int_equal(chmod(base, 0711), 0);
	snprintf(run, sizeof(run), "%s/run", base);
	assert_int_equal(usm_preflight_runtime_dir(run, &cfg, msg, sizeof(msg)), 0);
}

static void test_an_ancestor_further_up_is_named_as_such(void **state)
{
	(void)state;
	char mid[128], run[160];
	assert_int_equal(chmod(base, 0700), 0);
	snprintf(mid, sizeof(mid), "%s/mid", base);
	mkdir_mode(mid, 0755);
	snprintf(run, sizeof(run), "%s/run", mid);
	assert_int_equal(usm_preflight_runtime_dir(run, &cfg, msg, sizeof(msg)),
			 USM_EXIT_RUNTIME_DIR_UNREACHABLE);
	assert_non_null(strstr(msg, ": its ancestor "));
	assert_non_null(strstr(msg, base));
}

static void test_an_existing_runtime_dir_of_mode_0700_is_refused_too(void **state)
{
	(void)state;
	char run[128], want[256];
	assert_int_equal(chmod(base, 0755), 0);
	snprintf(run, sizeof(run), "%s/run", base);
	mkdir_mode(run, 0700);
	assert_int_equal(usm_preflight_runtime_dir(run, &cfg, msg, sizeof(msg)),
			 USM_EXIT_RUNTIME_DIR_UNREACHABLE);
	snprintf(want, sizeof(want), "runtime_dir %s is not searchable by the service users", run);
	assert_int_equal(strncmp(msg, want, strlen(want)), 0);
}

static void test_group_search_counts_for_a_user_of_that_group_only(void **state)
{
	(void)state;
	char run[128];
	/* 0710, group of all three users: searchable by them (the owner is us). */
	assert_int_equal(chmod(base, 0710), 0);
	snprintf(run, sizeof(run), "%s/run", base);
	if (getuid() != 0)
		skip(); /* giving the directory another group needs root */
	assert_int_equal(chown(base, 0, 40001), 0);
	cfg.bpf_user.gid = cfg.api_user.gid = 40001;
	assert_int_equal(usm_preflight_runtime_dir(run, &cfg, msg, sizeof(msg)), 0);
	cfg.api_user.gid = 40002; /* apid in another group: refused, and named */
	assert_int_equal(usm_preflight_runtime_dir(run, &cfg, msg, sizeof(msg)),
			 USM_EXIT_RUNTIME_DIR_UNREACHABLE);
	assert_non_null(strstr(msg, "user2 is uid 40002"));
}

static void test_a_writable_file_system_passes_even_before_runtime_dir_exists(void **state)
{
	(void)state;
	char run[128];
	snprintf(run, sizeof(run), "%s/not/yet/run", base);
	assert_int_equal(usm_preflight_writable(run, msg, sizeof(msg)), 0);
}

static void test_a_read_only_mount_is_refused_naming_the_directory(void **state)
{
	(void)state;
	/* Any read-only mount this machine has (tests/e2e makes its own). */
	FILE *f = setmntent("/proc/self/mounts", "r");
	struct mntent *m;
	char ro[256] = "";
	struct statvfs vfs;
	while (f && (m = getmntent(f)) != NULL)
		if (!ro[0] && hasmntopt(m, "ro") && statvfs(m->mnt_dir, &vfs) == 0 &&
		    (vfs.f_flag & ST_RDONLY) && strlen(m->mnt_dir) < 200)
			snprintf(ro, sizeof(ro), "%s", m->mnt_dir);
	if (f)
		endmntent(f);
	if (!ro[0])
		skip();
	char run[256 + 16];
	snprintf(run, sizeof(run), "%s/usm-run-nope", strcmp(ro, "/") ? ro : "");
	assert_int_equal(usm_preflight_writable(run, msg, sizeof(msg)),
			 USM_EXIT_RUNTIME_DIR_READ_ONLY);
	assert_non_null(strstr(msg, "is on a read-only file system; choose a runtime_dir"));
}

static void test_a_port_held_by_a_listening_socket_is_refused(void **state)
{
	(void)state;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	char listen_at[64], want[256];
	snprintf(listen_at, sizeof(listen_at), "127.0.0.1:%u", ntohs(a.sin_port));
	assert_int_equal(usm_preflight_api_listen(listen_at, msg, sizeof(msg)),
			 USM_EXIT_API_ADDRESS_IN_USE);
	snprintf(want, sizeof(want), "api_listen %s: the port is in use by another program; stop it "
		 "or set api_listen to a free port", listen_at);
	assert_string_equal(msg, want);
	close(fd);
	/* Free again (the check leaves nothing bound either). */
	assert_int_equal(usm_preflight_api_listen(listen_at, msg, sizeof(msg)), 0);
	assert_int_equal(usm_preflight_api_listen(listen_at, msg, sizeof(msg)), 0);
}

static void test_an_address_not_of_this_host_is_refused(void **state)
{
	(void)state;
	/* 192.0.2.0/24 is TEST-NET-1: no host has it. */
	assert_int_equal(usm_preflight_api_listen("192.0.2.1:5050", msg, sizeof(msg)),
			 USM_EXIT_API_ADDRESS_IN_USE);
	assert_non_null(strstr(msg, "cannot bind it (Cannot assign requested address)"));
}

static void test_no_btf_is_refused_with_the_kernel_option(void **state)
{
	(void)state;
	char missing[128];
	snprintf(missing, sizeof(missing), "%s/vmlinux", base);
	assert_int_equal(usm_preflight_btf(missing, msg, sizeof(msg)), USM_EXIT_NO_BTF);
	assert_non_null(strstr(msg, "No such file or directory"));
	assert_non_null(strstr(msg, "CONFIG_DEBUG_INFO_BTF=y"));
	assert_int_equal(usm_preflight_btf("/proc/self/status", msg, sizeof(msg)), 0);
}

static void test_no_landlock_is_refused_and_any_abi_passes(void **state)
{
	(void)state;
	assert_int_equal(usm_preflight_landlock(0, msg, sizeof(msg)), USM_EXIT_NO_LANDLOCK);
	assert_non_null(strstr(msg, "the kernel has no Landlock"));
	assert_int_equal(usm_preflight_landlock(1, msg, sizeof(msg)), 0);
	assert_int_equal(usm_preflight_landlock(7, msg, sizeof(msg)), 0);
}

static void test_tracefs_that_would_not_mount_is_refused_with_the_cause(void **state)
{
	(void)state;
	assert_int_equal(usm_preflight_kernel(&cfg, -ENODEV, true, true, msg, sizeof(msg)),
			 USM_EXIT_NO_TRACEFS);
	assert_non_null(strstr(msg, "(No such device); mount it"));
	assert_int_equal(usm_preflight_kernel(&cfg, 0, true, false, msg, sizeof(msg)), 0);
}

static void test_a_kernel_without_uprobe_multi_needs_cap_sys_admin(void **state)
{
	(void)state;
	assert_int_equal(usm_preflight_kernel(&cfg, 0, false, false, msg, sizeof(msg)),
			 USM_EXIT_NO_UPROBES);
	assert_string_equal(msg, "the kernel has no uprobe_multi links (Linux 6.6 or later) and "
				 "classic uprobes need CAP_SYS_ADMIN, which usm-privd does not have; "
				 "give it CAP_SYS_ADMIN or run a newer kernel");
	assert_int_equal(usm_preflight_kernel(&cfg, 0, false, true, msg, sizeof(msg)), 0);
	cfg.uprobe_multi = false;
	assert_int_equal(usm_preflight_kernel(&cfg, 0, true, false, msg, sizeof(msg)),
			 USM_EXIT_NO_UPROBES);
	assert_non_null(strstr(msg, "uprobe_multi = false asks for classic uprobes"));
}

static void test_without_tls_monitoring_no_uprobe_is_needed(void **state)
{
	(void)state;
	cfg.enable_native_tls_monitoring = false; /* clear text only: no uprobes at all */
	assert_false(usm_config_need_process_monitor(&cfg));
	assert_int_equal(usm_preflight_kernel(&cfg, 0, false, false, msg, sizeof(msg)), 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_a_parent_of_mode_0700_is_refused_naming_it_and_the_fix),
		T(test_a_parent_others_may_search_passes),
		T(test_an_ancestor_further_up_is_named_as_such),
		T(test_an_existing_runtime_dir_of_mode_0700_is_refused_too),
		T(test_group_search_counts_for_a_user_of_that_group_only),
		T(test_a_writable_file_system_passes_even_before_runtime_dir_exists),
		T(test_a_read_only_mount_is_refused_naming_the_directory),
		T(test_a_port_held_by_a_listening_socket_is_refused),
		T(test_an_address_not_of_this_host_is_refused),
		T(test_no_btf_is_refused_with_the_kernel_option),
		T(test_no_landlock_is_refused_and_any_abi_passes),
		T(test_tracefs_that_would_not_mount_is_refused_with_the_cause),
		T(test_a_kernel_without_uprobe_multi_needs_cap_sys_admin),
		T(test_without_tls_monitoring_no_uprobe_is_needed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
