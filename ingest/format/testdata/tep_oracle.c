/*
 * tep_oracle: prints what libtraceevent (the library trace-cmd and perf use) prints for event
 * records, so that tep_vectors.json.gz can be regenerated. Not part of the toolkit.
 *
 *   apt-get install libtraceevent-dev
 *   cc -O1 -o tep_oracle tep_oracle.c -ltraceevent
 *
 * stdin, one command per line:
 *   LONG <n>                 kernel sizeof(long) of the trace
 *   FORMAT <path> <system>   parse an event format file
 *   FUNC <hexaddr> <name>    add a kallsyms entry (before the first REC)
 *   PRINTK <hexaddr> <fmt>   add a printk format as the printk table spells it (with quotes)
 *   REC <hex bytes>          a record (common fields first); prints two lines:
 *                            P:<payload>   (trace-cmd report -N)
 *                            R:<payload>   (trace-cmd report -R)
 * Newlines inside a payload are printed as \x01.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <traceevent/event-parse.h>
#include <traceevent/trace-seq.h>

static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 1 << 16, len = 0, r;
	char *b;

	if (!f) {
		perror(path);
		exit(1);
	}
	b = malloc(cap);
	while ((r = fread(b + len, 1, cap - len - 1, f)) > 0) {
		len += r;
		if (len + 1 >= cap) {
			cap *= 2;
			b = realloc(b, cap);
		}
	}
	b[len] = 0;
	fclose(f);
	*n = len;
	return b;
}

static void print_info(struct tep_handle *tep, struct tep_record *rec, const char *tag,
		       const char *what)
{
	struct trace_seq s;
	char *q;

	trace_seq_init(&s);
	tep_print_event(tep, &s, rec, "%s", what);
	trace_seq_terminate(&s);
	for (q = s.buffer; *q; q++)
		if (*q == '\n')
			*q = 1;
	printf("%s:%s\n", tag, s.buffer);
	trace_seq_destroy(&s);
}

int main(void)
{
	struct tep_handle *tep = tep_alloc();
	static char line[1 << 20];

	tep_set_long_size(tep, 8);
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = 0;
		if (!strncmp(line, "LONG ", 5)) {
			tep_set_long_size(tep, atoi(line + 5));
		} else if (!strncmp(line, "FORMAT ", 7)) {
			char path[4096], sys[256];
			size_t n;
			char *b;

			if (sscanf(line + 7, "%4095s %255s", path, sys) != 2)
				continue;
			b = slurp(path, &n);
			if (tep_parse_event(tep, b, n, sys))
				printf("E:%s\n", path);
			free(b);
		} else if (!strncmp(line, "FUNC ", 5)) {
			unsigned long long a;
			char name[512];

			if (sscanf(line + 5, "%llx %511s", &a, name) == 2)
				tep_register_function(tep, strdup(name), a, NULL);
		} else if (!strncmp(line, "PRINTK ", 7)) {
			unsigned long long a;
			int off = 0;

			if (sscanf(line + 7, "%llx %n", &a, &off) >= 1)
				tep_register_print_string(tep, strdup(line + 7 + off), a);
		} else if (!strncmp(line, "REC ", 4)) {
			const char *hex = line + 4;
			size_t hl = strlen(hex), i;
			unsigned char *d = calloc(hl / 2 + 8, 1);
			struct tep_record rec;

			for (i = 0; i + 1 < hl; i += 2) {
				unsigned v;

				sscanf(hex + i, "%2x", &v);
				d[i / 2] = v;
			}
			memset(&rec, 0, sizeof(rec));
			rec.data = d;
			rec.size = hl / 2;
			rec.record_size = hl / 2;
			print_info(tep, &rec, "P", TEP_PRINT_INFO);
			print_info(tep, &rec, "R", TEP_PRINT_INFO_RAW);
			fflush(stdout);
			free(d);
		}
	}
	return 0;
}
