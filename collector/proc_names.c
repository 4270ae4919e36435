/* The names processes chose, by pid (contract in proc_names.h): a chained
 * hash on the pid; few processes name themselves, so chains stay short. */
#include "proc_names.h"

#include <errno.h>
#include <stdlib.h>

struct node {
	struct node *next;
	uint32_t pid;
	struct proc_name name;
};

struct proc_names {
	struct node *buckets[PROC_NAMES_BUCKETS];
	uint32_t count, max;
};

static struct node **slot(const struct proc_names *t, uint32_t pid)
{
	struct node *const *p = &t->buckets[pid % PROC_NAMES_BUCKETS];
	while (*p && (*p)->pid != pid)
		p = &(*p)->next;
	return (struct node **)p;
}

struct proc_names *proc_names_new(uint32_t max)
{
	struct proc_names *t = calloc(1, sizeof(*t));
	if (t)
		t->max = max;
	return t;
}

void proc_names_free(struct proc_names *t)
{
	if (!t)
		return;
	for (unsigned b = 0; b < PROC_NAMES_BUCKETS; b++)
		while (t->buckets[b]) {
			struct node *n = t->buckets[b];
			t->buckets[b] = n->next;
			free(n);
		}
	free(t);
}

int proc_names_set(struct proc_names *t, uint32_t pid, const struct proc_name *n)
{
	if (!n->service[0] && !n->container_id[0]) {
		proc_names_remove(t, pid);
		return 0;
	}
	struct node **p = slot(t, pid);
	if (!*p) {
		if (t->count >= t->max)
			return -ENOSPC;
		if (!(*p = calloc(1, sizeof(**p))))
			return -ENOMEM;
		(*p)->pid = pid;
		t->count++;
	}
	(*p)->name = *n;
	return 0;
}

int proc_names_inherit(struct proc_names *t, uint32_t parent, uint32_t child)
{
	const struct proc_name *p = proc_names_get(t, parent);
	if (!p)
		return -ENOENT;
	struct proc_name copy = *p; /* p may move when child's node is made */
	return proc_names_set(t, child, &copy);
}

void proc_names_remove(struct proc_names *t, uint32_t pid)
{
	struct node **p = slot(t, pid);
	struct node *n = *p;
	if (!n)
		return;
	*p = n->next;
	free(n);
	t->count--;
}

const struct proc_name *proc_names_get(const struct proc_names *t, uint32_t pid)
{
	if (!t)
		return NULL;
	struct node *n = *slot(t, pid);
	return n ? &n->name : NULL;
}

uint32_t proc_names_count(const struct proc_names *t)
{
	return t->count;
}

unsigned proc_names_prune(struct proc_names *t, bool (*alive)(void *ctx, uint32_t pid),
			  void *ctx)
{
	unsigned gone = 0;
	for (unsigned b = 0; b < PROC_NAMES_BUCKETS; b++) {
		struct node **p = &t->buckets[b];
		while (*p) {
			if (alive(ctx, (*p)->pid)) {
				p = &(*p)->next;
				continue;
			}
			struct node *n = *p;
			*p = n->next;
			free(n);
			t->count--;
			gone++;
		}
	}
	return gone;
}
