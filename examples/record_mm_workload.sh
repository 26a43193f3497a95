#!/usr/bin/env bash
# Records examples/mm_workload.dat: a real trace of mm activity (no IOMMU events) made with
# trace-cmd on the machine that runs this script, for a what-if replay against
# examples/topology.json:
#
#   bash examples/record_mm_workload.sh [OUT]        (default: examples/mm_workload.dat)
#   deno task replay examples/mm_workload.dat --topology examples/topology.json
#
# The workload is one small C program built three times under the names the topology binds:
# dsa_copy (two threads), iaa_comp (run twice, one after the other) and db_worker (forks a child
# that renames itself db_child, so the topology does not bind it). Each run maps a 64 MiB arena
# (half of it THP-eligible), touches it, and issues a few hundred munmap / mprotect / madvise
# calls of 1 page to 2 MiB, aligned and unaligned.
#
# Needs root, tracefs, gcc and trace-cmd. The recording is system-wide (--no-filter): tlb_flush
# events of other tasks on the machine are in it too.
set -euo pipefail
out=${1:-examples/mm_workload.dat}
mkdir -p "$(dirname "$out")"
tracefs=/sys/kernel/tracing
[ -d "$tracefs/events" ] || mount -t tracefs nodev "$tracefs"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat > "$work/mm_workload.c" <<'C'
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG 4096UL
#define HUGE (2UL << 20)
#define ARENA (64UL << 20)

struct worker { char *arena; unsigned seed; int ops; };

static unsigned next(unsigned *s) { /* xorshift32 */
	*s ^= *s << 13; *s ^= *s >> 17; *s ^= *s << 5; return *s;
}

/* pages: 40% 1, 22% 2-8, 13% 9-33, 10% 34-256, 5% 257-511, 10% 512 (2 MiB) */
static unsigned long pick_pages(unsigned *s) {
	unsigned u = next(s) % 100;
	if (u < 40) return 1;
	if (u < 62) return 2 + next(s) % 7;
	if (u < 75) return 9 + next(s) % 25;
	if (u < 85) return 34 + next(s) % 223;
	if (u < 90) return 257 + next(s) % 255;
	return 512;
}

static void *run(void *arg) {
	struct worker *w = arg;
	unsigned s = w->seed;
	for (int i = 0; i < w->ops; i++) {
		unsigned long pages = pick_pages(&s), len = pages * PG, off;
		if (pages == 512 && next(&s) % 2) /* a whole THP-eligible 2 MiB block */
			off = ARENA / 2 + (next(&s) % (ARENA / 2 / HUGE)) * HUGE;
		else {
			unsigned long align = 1;
			while (align < pages) align <<= 1;
			unsigned long slot = next(&s) % (ARENA / 2 / PG - 512);
			if (next(&s) % 2) slot -= slot % align;
			off = slot * PG;
		}
		char *p = w->arena + off;
		memset(p, i & 0xff, len); /* populate, so the call has PTEs to zap or change */
		switch (next(&s) % 20) {
		case 0 ... 8: /* munmap, then map it again so the arena stays whole */
			munmap(p, len - (next(&s) % 4 == 0 ? 123 : 0));
			mmap(p, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
			break;
		case 9 ... 12: /* write-protect, then make it writable again (no flush) */
			mprotect(p, len, PROT_READ);
			mprotect(p, len, PROT_READ | PROT_WRITE);
			break;
		case 13 ... 16:
			madvise(p, len, MADV_DONTNEED);
			break;
		case 17 ... 18:
			madvise(p, len, MADV_FREE);
			break;
		default:
			madvise(p, len, MADV_WILLNEED); /* does not zap */
		}
		usleep(100 + next(&s) % 400);
	}
	return NULL;
}

int main(int argc, char **argv) {
	const char *name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	int ops = argc > 1 ? atoi(argv[1]) : 300;
	unsigned seed = 2166136261u;
	for (const char *c = name; *c; c++) seed = (seed ^ (unsigned char)*c) * 16777619u;
	char *raw = mmap(NULL, ARENA + HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *arena = (char *)(((uintptr_t)raw + HUGE - 1) & ~(HUGE - 1));
	madvise(arena + ARENA / 2, ARENA / 2, MADV_HUGEPAGE);
	struct worker main_w = { arena, seed, ops };
	if (!strcmp(name, "dsa_copy")) {
		struct worker t = { arena, seed * 7 + 1, ops / 2 };
		pthread_t th;
		pthread_create(&th, NULL, run, &t);
		run(&main_w);
		pthread_join(th, NULL);
	} else if (!strcmp(name, "db_worker")) {
		pid_t child = fork();
		if (child == 0) {
			prctl(PR_SET_NAME, "db_child");
			struct worker c = { arena, seed * 13 + 5, 40 };
			run(&c);
			_exit(0);
		}
		run(&main_w);
		waitpid(child, NULL, 0);
	} else {
		run(&main_w);
	}
	return 0;
}
C
gcc -O2 -pthread -o "$work/mm_workload" "$work/mm_workload.c"
for n in dsa_copy iaa_comp db_worker; do cp "$work/mm_workload" "$work/$n"; done
cat > "$work/run.sh" <<SH
#!/usr/bin/env bash
cd "$work"
./dsa_copy 300 & ./iaa_comp 200 & ./db_worker 200 &
wait
./iaa_comp 150
SH
chmod +x "$work/run.sh"

trace-cmd record --no-filter -d \
  -e tlb:tlb_flush \
  -e syscalls:sys_enter_munmap -e syscalls:sys_enter_mprotect -e syscalls:sys_enter_madvise \
  -e sched:sched_process_fork -e sched:sched_process_exec -e sched:sched_process_exit \
  -e task:task_newtask -e mmap:exit_mmap \
  -o "$out" -- "$work/run.sh" >/dev/null || true
# trace-cmd may fail while restoring tracefs settings after the data is written (e.g. when
# set_ftrace_filter is not writable); the file counts when trace-cmd can read it back.
trace-cmd report "$out" >/dev/null 2>&1 || { echo "recording failed: $out unreadable" >&2; exit 1; }
echo "$out: $(stat -c %s "$out") bytes, $(trace-cmd report "$out" 2>/dev/null | grep -c ': ') event lines"
