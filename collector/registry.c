/* The collector's file registry (contract in registry.h).
 *
 * Layout: traced entries and blocked files are two instances of one keyed
 * table: an open-addressing hash on (dev, inode, type) for lookups, plus an
 * array of the same items ordered by sequence number for paging. Every new
 * item takes the next sequence number, so appending keeps the array sorted
 * and a cursor is found again by binary search; that order does not move
 * when other items come and go, which is what makes cursors stable.
 * Blocked files are also on an LRU list, which decides eviction.
 *
 * A pid index (pid -> number of entries holding it) lets the exit of a pid
 * the registry never saw, by far the most common exit, return at once
 * instead of searching every entry.
 *
 * ops->attach, ops->detach and prune's alive() must not call back into the
 * registry: they run while tables are being walked. */
#include "registry.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "ipc_codec.h"
#include "log.h"

/* Linux never hands out a pid above PID_MAX_LIMIT (4M on 64-bit), so no
 * entry can usefully hold more; bounding the limit by it keeps pid counts
 * within an int and a record index within RECORD_BITS of a cursor. */
#define PID_LIMIT (4u * 1024u * 1024u)

/* A traced cursor is (entry sequence << RECORD_BITS) | record index within
 * the entry. Sequence numbers start at 1, so a valid cursor is never 0 (the
 * "start" and "done" value). 40 bits of sequence last 10^12 new entries. */
#define RECORD_BITS 24
#define RECORD_MASK ((UINT64_C(1) << RECORD_BITS) - 1)
_Static_assert(PID_LIMIT / USM_PIDS_PER_RECORD <= RECORD_MASK, "record index fits the cursor");

#define TABLE_MIN_SLOTS 16u

struct key {
	uint64_t dev;
	uint64_t ino;
	uint8_t type;
};

/* The head shared by traced entries and blocked files. It is the first
 * member of both, so a pointer to it converts back to the containing one. */
struct item {
	struct key key;
	uint64_t seq;
};

struct table {
	struct item **slots; /* linear probing, NULL: free; at most half full */
	uint32_t nslots;     /* 0 or a power of two */
	struct item **order; /* the same items by increasing seq */
	uint32_t count;
	uint32_t order_cap;
};

struct entry {
	struct item item;
	uint64_t attachment;
	uint64_t linger_until; /* meaningful while lingering */
	bool lingering;        /* no pids left: detach at linger_until */
	bool resident;         /* kept without pids until registry_detach_all() */
	uint32_t npids;
	uint32_t pids_cap;
	uint32_t *pids; /* sorted, no duplicates */
	char path[USM_IPC_PATH_MAX];
};

struct blocked {
	struct item item;
	struct blocked *newer, *older; /* LRU list */
	char reason[sizeof(((struct usm_blocked_record *)0)->reason)];
	char sample_path[USM_IPC_PATH_MAX];
};

struct pid_slot {
	uint32_t pid;
	uint32_t refs; /* entries holding the pid; 0: free slot */
};

struct pid_index {
	struct pid_slot *slots; /* linear probing, at most half full */
	uint32_t nslots;        /* 0 or a power of two */
	uint32_t count;
};

struct registry {
	struct registry_limits limits;
	struct registry_ops ops;
	void *ctx;
	struct table entries;
	struct table blocked;
	struct blocked *newest, *oldest; /* blocklist LRU ends */
	struct pid_index pids;
	uint32_t nlingering; /* lets expire() return at once when none */
	uint64_t next_seq;
	uint64_t generation;
	struct registry_counters counters;
};

/* ---- hashing ---- */

/* splitmix64's finalizer: dev and inode numbers are far from uniform. */
static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= UINT64_C(0xbf58476d1ce4e5b9);
	x ^= x >> 27;
	x *= UINT64_C(0x94d049bb133111eb);
	x ^= x >> 31;
	return x;
}

static uint32_t key_home(const struct key *k, uint32_t mask)
{
	return (uint32_t)mix64(k->dev ^ mix64(k->ino ^ ((uint64_t)k->type << 56))) & mask;
}

static bool key_eq(const struct key *a, const struct key *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->type == b->type;
}

static struct key make_key(struct path_id id, uint8_t type)
{
	return (struct key){.dev = id.dev, .ino = id.ino, .type = type};
}

/* In linear probing, the item at slot j (home slot `home`) may move back
 * into the hole at slot i when i lies on its probe path, [home, j]. */
static bool may_fill_hole(uint32_t home, uint32_t hole, uint32_t j, uint32_t mask)
{
	return ((j - hole) & mask) <= ((j - home) & mask);
}

/* ---- keyed table ---- */

static struct item *table_find(const struct table *t, const struct key *k)
{
	if (t->nslots == 0)
		return NULL;
	uint32_t mask = t->nslots - 1;
	for (uint32_t i = key_home(k, mask);; i = (i + 1) & mask) {
		struct item *it = t->slots[i];
		if (!it)
			return NULL;
		if (key_eq(&it->key, k))
			return it;
	}
}

static void slots_put(struct item **slots, uint32_t nslots, struct item *it)
{
	uint32_t mask = nslots - 1;
	uint32_t i = key_home(&it->key, mask);
	while (slots[i])
		i = (i + 1) & mask;
	slots[i] = it;
}

/* Makes room for one more item, so that table_insert() cannot fail. */
static int table_reserve(struct table *t)
{
	if (t->count == t->order_cap) {
		uint32_t cap = t->order_cap ? t->order_cap * 2 : TABLE_MIN_SLOTS;
		struct item **order = realloc(t->order, (size_t)cap * sizeof(*order));
		if (!order)
			return -ENOMEM;
		t->order = order;
		t->order_cap = cap;
	}
	if (((size_t)t->count + 1) * 2 > t->nslots) {
		uint32_t nslots = t->nslots ? t->nslots * 2 : TABLE_MIN_SLOTS;
		struct item **slots = calloc(nslots, sizeof(*slots));
		if (!slots)
			return -ENOMEM;
		for (uint32_t i = 0; i < t->count; i++)
			slots_put(slots, nslots, t->order[i]);
		free(t->slots);
		t->slots = slots;
		t->nslots = nslots;
	}
	return 0;
}

/* After table_reserve(); it->seq must be above every seq in the table. */
static void table_insert(struct table *t, struct item *it)
{
	slots_put(t->slots, t->nslots, it);
	t->order[t->count++] = it;
}

/* Removes it from the hash only (backward-shift deletion, no tombstones);
 * the caller removes it from the order array. */
static void table_unhash(struct table *t, const struct item *it)
{
	uint32_t mask = t->nslots - 1;
	uint32_t hole = key_home(&it->key, mask);
	while (t->slots[hole] != it)
		hole = (hole + 1) & mask;
	for (uint32_t j = (hole + 1) & mask; t->slots[j]; j = (j + 1) & mask) {
		if (may_fill_hole(key_home(&t->slots[j]->key, mask), hole, j, mask)) {
			t->slots[hole] = t->slots[j];
			hole = j;
		}
	}
	t->slots[hole] = NULL;
}

/* Index of the first item with seq >= seq in the order array. */
static uint32_t table_lower_bound(const struct table *t, uint64_t seq)
{
	uint32_t lo = 0, hi = t->count;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (t->order[mid]->seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void table_remove(struct table *t, const struct item *it)
{
	table_unhash(t, it);
	uint32_t i = table_lower_bound(t, it->seq);
	memmove(&t->order[i], &t->order[i + 1], (size_t)(t->count - i - 1) * sizeof(t->order[0]));
	t->count--;
}

/* Forgets every item (the owner frees them). */
static void table_clear(struct table *t)
{
	if (t->nslots)
		memset(t->slots, 0, (size_t)t->nslots * sizeof(t->slots[0]));
	t->count = 0;
}

static void table_free(struct table *t)
{
	free(t->slots);
	free(t->order);
	memset(t, 0, sizeof(*t));
}

/* ---- pid index ---- */

static uint32_t pid_home(uint32_t pid, uint32_t mask) { return (uint32_t)mix64(pid) & mask; }

static struct pid_slot *pid_index_find(const struct pid_index *pi, uint32_t pid)
{
	if (pi->nslots == 0)
		return NULL;
	uint32_t mask = pi->nslots - 1;
	for (uint32_t i = pid_home(pid, mask);; i = (i + 1) & mask) {
		struct pid_slot *s = &pi->slots[i];
		if (s->refs == 0)
			return NULL;
		if (s->pid == pid)
			return s;
	}
}

static uint32_t pid_index_refs(const struct pid_index *pi, uint32_t pid)
{
	const struct pid_slot *s = pid_index_find(pi, pid);
	return s ? s->refs : 0;
}

static struct pid_slot *pid_slot_for(struct pid_slot *slots, uint32_t nslots, uint32_t pid)
{
	uint32_t mask = nslots - 1;
	uint32_t i = pid_home(pid, mask);
	while (slots[i].refs && slots[i].pid != pid)
		i = (i + 1) & mask;
	return &slots[i];
}

/* Makes room for one more pid, so that pid_index_add() cannot fail. */
static int pid_index_reserve(struct pid_index *pi)
{
	if (((size_t)pi->count + 1) * 2 <= pi->nslots)
		return 0;
	uint32_t nslots = pi->nslots ? pi->nslots * 2 : TABLE_MIN_SLOTS;
	struct pid_slot *slots = calloc(nslots, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (uint32_t i = 0; i < pi->nslots; i++)
		if (pi->slots[i].refs)
			*pid_slot_for(slots, nslots, pi->slots[i].pid) = pi->slots[i];
	free(pi->slots);
	pi->slots = slots;
	pi->nslots = nslots;
	return 0;
}

static void pid_index_add(struct pid_index *pi, uint32_t pid)
{
	struct pid_slot *s = pid_slot_for(pi->slots, pi->nslots, pid);
	if (s->refs == 0) {
		s->pid = pid;
		pi->count++;
	}
	s->refs++;
}

static void pid_index_drop(struct pid_index *pi, uint32_t pid)
{
	struct pid_slot *s = pid_index_find(pi, pid);
	if (!s || --s->refs > 0)
		return;
	uint32_t mask = pi->nslots - 1;
	uint32_t hole = (uint32_t)(s - pi->slots);
	for (uint32_t j = (hole + 1) & mask; pi->slots[j].refs; j = (j + 1) & mask) {
		if (may_fill_hole(pid_home(pi->slots[j].pid, mask), hole, j, mask)) {
			pi->slots[hole] = pi->slots[j];
			hole = j;
		}
	}
	pi->slots[hole] = (struct pid_slot){0};
	pi->count--;
}

/* ---- traced entries ---- */

static struct entry *find_entry(const struct registry *r, const struct key *k)
{
	return (struct entry *)table_find(&r->entries, k);
}

static struct entry *entry_at(const struct registry *r, uint32_t i)
{
	return (struct entry *)r->entries.order[i];
}

static void entry_start_linger(struct registry *r, struct entry *e, uint64_t now_ms)
{
	uint64_t until = now_ms + r->limits.linger_ms;
	e->linger_until = until < now_ms ? UINT64_MAX : until;
	if (!e->lingering) {
		e->lingering = true;
		r->nlingering++;
	}
}

/* Index of the first pid >= pid in e->pids. */
static uint32_t pid_lower_bound(const struct entry *e, uint32_t pid)
{
	uint32_t lo = 0, hi = e->npids;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (e->pids[mid] < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* A new entry starts without pids, lingering: if its first pid cannot be
 * recorded, it is detached at its deadline like any other empty entry. */
static struct entry *entry_create(struct registry *r, const struct key *k, const char *path,
				  uint64_t attachment, uint64_t now_ms)
{
	struct entry *e = calloc(1, sizeof(*e));
	if (!e || table_reserve(&r->entries) != 0) {
		free(e);
		return NULL;
	}
	e->item.key = *k;
	e->item.seq = r->next_seq++;
	e->attachment = attachment;
	usm_copy_printable(e->path, sizeof(e->path), path ? path : "");
	entry_start_linger(r, e, now_ms);
	table_insert(&r->entries, &e->item);
	r->generation++;
	return e;
}

/* REGISTRY_ADDED, REGISTRY_PRESENT, or the pid is not recorded (counted in
 * pids_dropped): REGISTRY_FULL at the limit, REGISTRY_FAILED without memory. */
static enum registry_result entry_add_pid(struct registry *r, struct entry *e, uint32_t pid)
{
	uint32_t pos = pid_lower_bound(e, pid);
	if (pos < e->npids && e->pids[pos] == pid)
		return REGISTRY_PRESENT;
	if (e->npids >= r->limits.max_pids_per_entry) {
		r->counters.pids_dropped++;
		return REGISTRY_FULL;
	}
	if (e->npids == e->pids_cap) {
		uint32_t cap = e->pids_cap ? e->pids_cap * 2 : 4;
		if (cap > r->limits.max_pids_per_entry)
			cap = r->limits.max_pids_per_entry;
		uint32_t *pids = realloc(e->pids, (size_t)cap * sizeof(*pids));
		if (!pids)
			goto nomem;
		e->pids = pids;
		e->pids_cap = cap;
	}
	if (pid_index_reserve(&r->pids) != 0)
		goto nomem;
	memmove(&e->pids[pos + 1], &e->pids[pos], (size_t)(e->npids - pos) * sizeof(e->pids[0]));
	e->pids[pos] = pid;
	e->npids++;
	pid_index_add(&r->pids, pid);
	if (e->lingering) {
		e->lingering = false;
		r->nlingering--;
	}
	r->generation++;
	return REGISTRY_ADDED;
nomem:
	log_error("registry: out of memory recording pid %u for %s", pid, e->path);
	r->counters.pids_dropped++;
	return REGISTRY_FAILED;
}

static enum registry_result add_to_existing(struct registry *r, struct entry *e, uint32_t pid)
{
	enum registry_result res = entry_add_pid(r, e, pid);
	if (res == REGISTRY_ADDED)
		r->counters.already_registered++;
	return res;
}

/* Returns 1 if the pid was in e, else 0. */
static unsigned entry_remove_pid(struct registry *r, struct entry *e, uint32_t pid,
				 uint64_t now_ms)
{
	uint32_t pos = pid_lower_bound(e, pid);
	if (pos >= e->npids || e->pids[pos] != pid)
		return 0;
	memmove(&e->pids[pos], &e->pids[pos + 1], (size_t)(e->npids - pos - 1) * sizeof(e->pids[0]));
	e->npids--;
	pid_index_drop(&r->pids, pid);
	r->counters.unregistered++;
	r->generation++;
	if (e->npids == 0) {
		/* Lingering entries hold no pid memory. */
		free(e->pids);
		e->pids = NULL;
		e->pids_cap = 0;
		if (!e->resident)
			entry_start_linger(r, e, now_ms);
	}
	return 1;
}

/* The entry is already out of the tables. */
static void entry_detach(struct registry *r, struct entry *e)
{
	r->ops.detach(r->ctx, e->attachment);
	r->counters.detached++;
	if (e->lingering)
		r->nlingering--;
	free(e->pids);
	free(e);
}

/* ---- blocklist ---- */

static struct blocked *find_blocked(const struct registry *r, const struct key *k)
{
	return (struct blocked *)table_find(&r->blocked, k);
}

static struct blocked *blocked_at(const struct registry *r, uint32_t i)
{
	return (struct blocked *)r->blocked.order[i];
}

static void lru_unlink(struct registry *r, struct blocked *b)
{
	if (b->newer)
		b->newer->older = b->older;
	else
		r->newest = b->older;
	if (b->older)
		b->older->newer = b->newer;
	else
		r->oldest = b->newer;
	b->newer = b->older = NULL;
}

static void lru_push_newest(struct registry *r, struct blocked *b)
{
	b->older = r->newest;
	b->newer = NULL;
	if (r->newest)
		r->newest->newer = b;
	else
		r->oldest = b;
	r->newest = b;
}

/* A blocked file that keeps being asked for stays blocked the longest. The
 * paging order is by seq, so it does not change, nor does the generation. */
static void lru_touch(struct registry *r, struct blocked *b)
{
	if (r->newest == b)
		return;
	lru_unlink(r, b);
	lru_push_newest(r, b);
}

static void evict_oldest(struct registry *r)
{
	struct blocked *b = r->oldest;
	lru_unlink(r, b);
	table_remove(&r->blocked, &b->item);
	free(b);
	r->counters.blocked_evicted++;
	r->generation++;
}

static enum registry_result block(struct registry *r, const struct key *k, const char *path,
				  const char *reason)
{
	struct blocked *b = find_blocked(r, k);
	if (b) {
		/* Reached under another hint (or none); already blocked. */
		lru_touch(r, b);
		r->counters.blocked_hits++;
		return REGISTRY_BLOCKED;
	}
	r->counters.blocked++;
	if (r->limits.max_blocked == 0) {
		/* Configured not to remember: blocked and evicted at once. */
		r->counters.blocked_evicted++;
		return REGISTRY_BLOCKED;
	}
	while (r->blocked.count >= r->limits.max_blocked)
		evict_oldest(r);
	b = calloc(1, sizeof(*b));
	if (!b || table_reserve(&r->blocked) != 0) {
		free(b);
		log_error("registry: out of memory blocking a file; it will be retried");
		r->counters.blocked_evicted++;
		return REGISTRY_BLOCKED;
	}
	b->item.key = *k;
	b->item.seq = r->next_seq++;
	usm_copy_printable(b->reason, sizeof(b->reason), reason);
	usm_copy_printable(b->sample_path, sizeof(b->sample_path), path);
	table_insert(&r->blocked, &b->item);
	lru_push_newest(r, b);
	r->generation++;
	log_info("registry: blocked %s (%s, dev %llu inode %llu): %s", b->sample_path,
		 usm_program_type_name(k->type), (unsigned long long)k->dev,
		 (unsigned long long)k->ino, b->reason);
	return REGISTRY_BLOCKED;
}

/* ---- public ---- */

struct registry *registry_new(const struct registry_limits *limits, const struct registry_ops *ops,
			      void *ctx)
{
	if (!limits || !ops || !ops->attach || !ops->detach || limits->max_pids_per_entry == 0) {
		errno = EINVAL;
		return NULL;
	}
	struct registry *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->limits = *limits;
	if (r->limits.max_pids_per_entry > PID_LIMIT)
		r->limits.max_pids_per_entry = PID_LIMIT;
	r->ops = *ops;
	r->ctx = ctx;
	r->next_seq = 1;
	return r;
}

void registry_free(struct registry *r)
{
	if (!r)
		return;
	/* No detach: privd closes what it holds when it stops (DESIGN.md);
	 * call registry_detach_all() first to give attachments back. */
	for (uint32_t i = 0; i < r->entries.count; i++) {
		struct entry *e = entry_at(r, i);
		free(e->pids);
		free(e);
	}
	for (uint32_t i = 0; i < r->blocked.count; i++)
		free(blocked_at(r, i));
	table_free(&r->entries);
	table_free(&r->blocked);
	free(r->pids.slots);
	free(r);
}

/* Asks privd to attach `path` as `pid` sees it and records the result:
 * REGISTRY_ATTACHED with *e a new entry (no pids, lingering), or
 * REGISTRY_PRESENT with *e the entry privd's identity already had (its
 * attach is idempotent); else blocked, failed or full, *e untouched.
 * Checked before attaching: an attachment the registry cannot record
 * could never be detached. */
static enum registry_result attach_entry(struct registry *r, uint32_t pid, const char *path,
					 uint8_t program_type, struct path_id hint,
					 uint64_t now_ms, struct entry **e)
{
	if (r->entries.count >= r->limits.max_entries) {
		r->counters.full++;
		return REGISTRY_FULL;
	}

	struct attach_outcome out;
	memset(&out, 0, sizeof(out));
	r->ops.attach(r->ctx, pid, path, program_type, hint, &out);
	out.reason[sizeof(out.reason) - 1] = '\0';
	struct key k = make_key(out.id, program_type);

	if (out.rc == 0) {
		*e = find_entry(r, &k);
		if (*e) {
			if ((*e)->attachment != out.attachment)
				log_warn("registry: %s: privd returned attachment %llu, registry has "
					 "%llu",
					 (*e)->path, (unsigned long long)out.attachment,
					 (unsigned long long)(*e)->attachment);
			return REGISTRY_PRESENT;
		}
		*e = entry_create(r, &k, path, out.attachment, now_ms);
		if (!*e) {
			/* Nobody would ever detach it: give it back now. */
			char shown[USM_IPC_PATH_MAX];
			usm_copy_printable(shown, sizeof(shown), path);
			log_error("registry: out of memory recording %s; detaching it", shown);
			r->ops.detach(r->ctx, out.attachment);
			r->counters.hook_failed++;
			return REGISTRY_FAILED;
		}
		r->counters.registered++;
		return REGISTRY_ATTACHED;
	}
	if (out.reason[0])
		return block(r, &k, path, out.reason);
	r->counters.hook_failed++;
	return REGISTRY_FAILED;
}

enum registry_result registry_register(struct registry *r, uint32_t pid, const char *path,
				       uint8_t program_type, struct path_id hint, uint64_t now_ms)
{
	if (program_type >= USM_PROG_TYPE_COUNT) {
		log_warn("registry: pid %u: unknown program type %u", pid, program_type);
		r->counters.hook_failed++;
		return REGISTRY_FAILED;
	}
	if (!path)
		path = "";
	if (hint.dev || hint.ino) {
		struct key k = make_key(hint, program_type);
		struct entry *e = find_entry(r, &k);
		if (e)
			return add_to_existing(r, e, pid);
		struct blocked *b = find_blocked(r, &k);
		if (b) {
			lru_touch(r, b);
			r->counters.blocked_hits++;
			return REGISTRY_BLOCKED;
		}
	}
	struct entry *e;
	enum registry_result res = attach_entry(r, pid, path, program_type, hint, now_ms, &e);
	if (res == REGISTRY_ATTACHED) {
		res = entry_add_pid(r, e, pid);
		return res == REGISTRY_ADDED ? REGISTRY_ATTACHED : res;
	}
	return res == REGISTRY_PRESENT ? add_to_existing(r, e, pid) : res;
}

enum registry_result registry_register_resident(struct registry *r, uint32_t root_pid,
						const char *path, uint8_t program_type,
						uint64_t now_ms)
{
	if (program_type >= USM_PROG_TYPE_COUNT || !path)
		return REGISTRY_FAILED;
	struct entry *e;
	enum registry_result res =
		attach_entry(r, root_pid, path, program_type, (struct path_id){0, 0}, now_ms, &e);
	if (res != REGISTRY_ATTACHED && res != REGISTRY_PRESENT)
		return res;
	if (!e->resident) {
		e->resident = true;
		r->generation++;
	}
	if (e->lingering) {
		e->lingering = false;
		r->nlingering--;
	}
	return res;
}

unsigned registry_unregister(struct registry *r, uint32_t pid, uint64_t now_ms)
{
	uint32_t refs = pid_index_refs(&r->pids, pid);
	unsigned removed = 0;
	for (uint32_t i = 0; i < r->entries.count && removed < refs; i++)
		removed += entry_remove_pid(r, entry_at(r, i), pid, now_ms);
	return removed;
}

int registry_expire(struct registry *r, uint64_t now_ms)
{
	if (r->nlingering == 0)
		return -1;
	uint64_t next = UINT64_MAX;
	uint32_t kept = 0;
	bool changed = false;
	/* Compacts the order array in the same pass. */
	for (uint32_t i = 0; i < r->entries.count; i++) {
		struct entry *e = entry_at(r, i);
		if (e->lingering && e->linger_until <= now_ms) {
			table_unhash(&r->entries, &e->item);
			entry_detach(r, e);
			changed = true;
			continue;
		}
		if (e->lingering && e->linger_until - now_ms < next)
			next = e->linger_until - now_ms;
		r->entries.order[kept++] = &e->item;
	}
	r->entries.count = kept;
	if (changed)
		r->generation++;
	if (next == UINT64_MAX)
		return -1;
	return next > INT_MAX ? INT_MAX : (int)next;
}

unsigned registry_detach_all(struct registry *r)
{
	unsigned n = r->entries.count;
	for (uint32_t i = 0; i < n; i++)
		entry_detach(r, entry_at(r, i));
	table_clear(&r->entries);
	free(r->pids.slots);
	memset(&r->pids, 0, sizeof(r->pids));
	r->nlingering = 0;
	if (n)
		r->generation++;
	return n;
}

int registry_adopt(struct registry *r, struct path_id id, uint8_t program_type, const char *path,
		   uint64_t attachment, uint64_t now_ms)
{
	if (program_type >= USM_PROG_TYPE_COUNT)
		return -EINVAL;
	struct key k = make_key(id, program_type);
	if (find_entry(r, &k))
		return -EEXIST;
	if (r->entries.count >= r->limits.max_entries) {
		r->counters.full++;
		return -ENOSPC;
	}
	if (!entry_create(r, &k, path, attachment, now_ms))
		return -ENOMEM;
	return 0;
}

unsigned registry_prune(struct registry *r, bool (*alive)(void *ctx, uint32_t pid), void *ctx,
			uint64_t now_ms)
{
	if (r->pids.count == 0)
		return 0;
	/* Collected first: unregistering reshapes the index being walked. */
	uint32_t *dead = malloc((size_t)r->pids.count * sizeof(*dead));
	if (!dead) {
		log_error("registry: out of memory pruning pids; next prune retries");
		return 0;
	}
	uint32_t ndead = 0;
	for (uint32_t i = 0; i < r->pids.nslots; i++) {
		const struct pid_slot *s = &r->pids.slots[i];
		if (s->refs && !alive(ctx, s->pid))
			dead[ndead++] = s->pid;
	}
	for (uint32_t i = 0; i < ndead; i++)
		registry_unregister(r, dead[i], now_ms);
	free(dead);
	return ndead;
}

unsigned registry_unregister_type(struct registry *r, uint32_t pid, uint8_t program_type,
				  uint64_t now_ms)
{
	if (pid_index_refs(&r->pids, pid) == 0)
		return 0;
	unsigned affected = 0;
	for (uint32_t i = 0; i < r->entries.count; i++) {
		struct entry *e = entry_at(r, i);
		if (e->item.key.type == program_type)
			affected += entry_remove_pid(r, e, pid, now_ms);
	}
	return affected;
}

unsigned registry_clear_blocked(struct registry *r)
{
	unsigned n = r->blocked.count;
	for (uint32_t i = 0; i < n; i++)
		free(blocked_at(r, i));
	table_clear(&r->blocked);
	r->newest = r->oldest = NULL;
	if (n)
		r->generation++;
	return n;
}

bool registry_is_blocked(const struct registry *r, struct path_id id, uint8_t program_type)
{
	struct key k = make_key(id, program_type);
	return find_blocked(r, &k) != NULL;
}

uint32_t registry_traced_count(const struct registry *r) { return r->entries.count; }

uint32_t registry_blocked_count(const struct registry *r) { return r->blocked.count; }

int registry_entry_pids(const struct registry *r, struct path_id id, uint8_t program_type,
			uint32_t *pids, uint32_t max)
{
	struct key k = make_key(id, program_type);
	const struct entry *e = find_entry(r, &k);
	if (!e)
		return -ENOENT;
	uint32_t n = e->npids < max ? e->npids : max;
	if (n)
		memcpy(pids, e->pids, (size_t)n * sizeof(*pids));
	return (int)e->npids;
}

uint64_t registry_generation(const struct registry *r) { return r->generation; }

const struct registry_counters *registry_counters(const struct registry *r)
{
	return &r->counters;
}

/* ---- paging ---- */

/* Records an entry takes: one per USM_PIDS_PER_RECORD pids, and one for a
 * lingering entry (still attached, listed without pids). */
static uint32_t entry_records(const struct entry *e)
{
	return e->npids ? (e->npids + USM_PIDS_PER_RECORD - 1) / USM_PIDS_PER_RECORD : 1;
}

int registry_page_traced(const struct registry *r, uint64_t cursor, struct usm_traced_record *out,
			 uint32_t max, uint32_t *count, uint64_t *next_cursor)
{
	uint32_t i = 0, rec = 0;
	if (cursor) {
		i = table_lower_bound(&r->entries, cursor >> RECORD_BITS);
		rec = (uint32_t)(cursor & RECORD_MASK);
		if (i >= r->entries.count || entry_at(r, i)->item.seq != cursor >> RECORD_BITS ||
		    rec >= entry_records(entry_at(r, i))) {
			i = 0;
			rec = 0;
		}
	}
	uint32_t n = 0;
	while (i < r->entries.count && n < max) {
		const struct entry *e = entry_at(r, i);
		struct usm_traced_record *o = &out[n++];
		uint32_t first = rec * USM_PIDS_PER_RECORD;
		uint32_t left = e->npids - first;
		memset(o, 0, sizeof(*o));
		o->dev = e->item.key.dev;
		o->inode = e->item.key.ino;
		o->program_type = e->item.key.type;
		o->flags = e->resident ? USM_TRACED_RESIDENT : 0;
		o->npids = left < USM_PIDS_PER_RECORD ? left : USM_PIDS_PER_RECORD;
		if (o->npids)
			memcpy(o->pids, &e->pids[first], (size_t)o->npids * sizeof(o->pids[0]));
		memcpy(o->path, e->path, sizeof(o->path));
		if (++rec >= entry_records(e)) {
			i++;
			rec = 0;
		}
	}
	*count = n;
	*next_cursor = i < r->entries.count ? (entry_at(r, i)->item.seq << RECORD_BITS) | rec : 0;
	return 0;
}

int registry_page_blocked(const struct registry *r, uint64_t cursor,
			  struct usm_blocked_record *out, uint32_t max, uint32_t *count,
			  uint64_t *next_cursor)
{
	uint32_t i = 0;
	if (cursor) {
		i = table_lower_bound(&r->blocked, cursor);
		if (i >= r->blocked.count || blocked_at(r, i)->item.seq != cursor)
			i = 0;
	}
	uint32_t n = 0;
	for (; i < r->blocked.count && n < max; i++) {
		const struct blocked *b = blocked_at(r, i);
		struct usm_blocked_record *o = &out[n++];
		memset(o, 0, sizeof(*o));
		o->dev = b->item.key.dev;
		o->inode = b->item.key.ino;
		o->program_type = b->item.key.type;
		memcpy(o->reason, b->reason, sizeof(o->reason));
		memcpy(o->sample_path, b->sample_path, sizeof(o->sample_path));
	}
	*count = n;
	*next_cursor = i < r->blocked.count ? blocked_at(r, i)->item.seq : 0;
	return 0;
}
