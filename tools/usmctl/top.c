/* usmctl top: the stats table, read again every interval and drawn with
 * ncurses until q (or -n refreshes, or SIGINT/SIGTERM). With --json, no
 * screen: one table_to_json document per line and interval.
 *
 * The first read must succeed (otherwise the error and its exit status,
 * before the screen is taken); later failures are shown on the screen's
 * second line and the last table stays, so that a usm restart does not
 * end the view. */
#include <curses.h>
#include <locale.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "exit_status.h"
#include "format_table.h"
#include "snapshot.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* SIGINT and SIGTERM end the loop; without SA_RESTART they cut a sleep
 * or getch short. */
static void catch_signals(void)
{
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

struct view {
	struct api *api;
	const struct usmctl_opts *o;
	const char *target;
	enum table_sort sort;
	struct snapshot prev, now; /* the tables point into now */
	bool have_prev;
	struct table services, endpoints;
	char error[API_ERROR_MAX]; /* the last refresh's failure, or "" */
	unsigned refreshes;
};

/* Reads again; on success now becomes the latest and prev the one
 * before, and the tables are rebuilt. Returns the read's status. */
static int reread(struct view *v)
{
	struct snapshot next;
	int rc = snapshot_read(v->api, v->target, &next, v->error, sizeof(v->error));
	if (rc != USMCTL_OK)
		return rc;
	v->error[0] = '\0';
	if (v->refreshes > 0) {
		snapshot_free(&v->prev);
		v->prev = v->now;
		v->have_prev = true;
	}
	v->now = next;
	v->refreshes++;
	table_free(&v->services);
	table_free(&v->endpoints);
	if (snapshot_tables(&v->now, v->have_prev ? &v->prev : NULL, v->sort, &v->services,
			    &v->endpoints) != 0) {
		snprintf(v->error, sizeof(v->error), "out of memory");
		return USMCTL_EFAIL;
	}
	return USMCTL_OK;
}

static void view_free(struct view *v)
{
	table_free(&v->services);
	table_free(&v->endpoints);
	if (v->refreshes > 0)
		snapshot_free(&v->now);
	if (v->have_prev)
		snapshot_free(&v->prev);
}

/* Rows of t from screen line y, at most max_rows; returns the next line. */
static int draw_table(const struct table *t, int y, int max_rows, int width)
{
	char line[HTTP_ROW_PATH_MAX + 512];
	format_table_header(t->level, line, sizeof(line), (size_t)width);
	attron(A_REVERSE);
	mvaddstr(y++, 0, line);
	attroff(A_REVERSE);
	for (size_t i = 0; i < t->n && (int)i < max_rows; i++) {
		format_table_row(&t->v[i], t->level, line, sizeof(line), (size_t)width);
		mvaddstr(y++, 0, line);
	}
	if (t->n > (size_t)(max_rows > 0 ? max_rows : 0) && max_rows >= 0)
		mvprintw(y - 1, 0, "... %zu more",
			 t->n - (size_t)(max_rows > 1 ? max_rows - 1 : 0));
	return y;
}

static void draw(const struct view *v)
{
	int height = LINES, width = COLS;
	erase();
	char clock[16];
	time_t t = time(NULL);
	strftime(clock, sizeof(clock), "%H:%M:%S", localtime(&t));
	mvprintw(0, 0, "usmctl top  %s  every %.1f s  sort: %s  %s   q quit, s sort", v->api->where,
		 v->o->interval_ms / 1000.0, table_sort_name(v->sort), clock);
	if (v->error[0]) {
		attron(A_BOLD);
		mvaddnstr(1, 0, v->error, width);
		attroff(A_BOLD);
	} else if (!v->have_prev) {
		mvaddstr(1, 0, "rates after the next read");
	}
	/* Services get at most a third of what is left; endpoints the rest. */
	int room = height - 5;
	int service_rows = (int)v->services.n < room / 3 ? (int)v->services.n : room / 3;
	int y = draw_table(&v->services, 2, service_rows, width);
	draw_table(&v->endpoints, y + 1, height - (y + 2), width);
	refresh();
}

static int run_screen(struct view *v)
{
	setlocale(LC_ALL, ""); /* UTF-8 paths */
	if (!initscr())
		return cmd_fail(USMCTL_EFAIL, "cannot start the terminal screen");
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	curs_set(0);
	draw(v);
	struct timespec next;
	clock_gettime(CLOCK_MONOTONIC, &next);
	unsigned frames = 1; /* drawn, failed reads included: -n counts them */
	while (!stop && !(v->o->iterations && frames >= v->o->iterations)) {
		next.tv_sec += v->o->interval_ms / 1000;
		next.tv_nsec += (long)(v->o->interval_ms % 1000) * 1000000;
		if (next.tv_nsec >= 1000000000) {
			next.tv_sec++;
			next.tv_nsec -= 1000000000;
		}
		/* Keys until the next refresh is due. */
		for (;;) {
			struct timespec now;
			clock_gettime(CLOCK_MONOTONIC, &now);
			long left = (next.tv_sec - now.tv_sec) * 1000 +
				    (next.tv_nsec - now.tv_nsec) / 1000000;
			if (left <= 0 || stop)
				break;
			timeout((int)left);
			int c = getch();
			if (c == 'q' || c == 'Q')
				stop = 1;
			else if (c == 's' || c == 'S') {
				v->sort = (enum table_sort)((v->sort + 1) % 3);
				table_sort(&v->services, v->sort);
				table_sort(&v->endpoints, v->sort);
				draw(v);
			} else if (c == KEY_RESIZE) {
				draw(v);
			}
		}
		if (stop)
			break;
		(void)reread(v); /* a failure shows on the screen */
		frames++;
		draw(v);
	}
	endwin();
	return USMCTL_OK;
}

static int run_json(struct view *v)
{
	while (!stop && !(v->o->iterations && v->refreshes > v->o->iterations)) {
		cmd_sleep_ms(v->o->interval_ms);
		if (stop)
			break;
		int rc = reread(v);
		if (rc != USMCTL_OK)
			return cmd_fail(rc, v->error);
		json_object *doc = table_to_json(&v->services, &v->endpoints,
						 snapshot_interval(&v->now, &v->prev), v->sort);
		rc = doc ? cmd_print_json(doc) : cmd_fail(USMCTL_EFAIL, "out of memory");
		json_object_put(doc);
		if (rc != USMCTL_OK)
			return rc;
	}
	return USMCTL_OK;
}

int cmd_top(struct api *a, const struct usmctl_opts *o)
{
	char target[1024];
	if (api_http_stats_target(o->path, target, sizeof(target)) != 0)
		return cmd_fail(USMCTL_EUSAGE, "--path is too long");
	if (!o->json && (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)))
		return cmd_fail(USMCTL_EUSAGE, "top needs a terminal (or --json)");
	struct view v = {.api = a, .o = o, .target = target, .sort = o->sort};
	catch_signals();
	int rc = reread(&v);
	if (rc == USMCTL_OK)
		rc = o->json ? run_json(&v) : run_screen(&v);
	else
		cmd_fail(rc, v.error);
	view_free(&v);
	return rc;
}
