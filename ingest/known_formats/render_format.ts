/**
 * Renders tracefs `format` files (and the `header_page` / `header_event` files) from short
 * declarations, the way the kernel prints them.
 *
 * The kernel lays a trace event out as a C struct (`struct trace_entry` first, then the
 * `TP_STRUCT__entry` fields with natural alignment) and prints one
 * `\tfield:TYPE NAME;\toffset:N;\tsize:N;\tsigned:N;` line per field (`f_show()` in
 * `kernel/trace/trace_events.c`). Syscall events and kprobe events are laid out by their own
 * code (`kernel/trace/trace_syscalls.c`, `kernel/trace/trace_probe.c`); both are modelled here.
 * The renderer computes offsets, sizes and signedness; the print format is given verbatim by
 * the caller (it is already macro-expanded text, e.g. `REC->pages`).
 *
 * @module
 */

/** One `TP_STRUCT__entry` item. */
export type FieldDecl =
  /** `__field(type, name)` */
  | { kind: "field"; type: string; name: string }
  /** `__array(type, name, len)` */
  | { kind: "array"; type: string; name: string; len: number }
  /** `__string(name, ...)` (type `char`) or `__dynamic_array(type, name, ...)` */
  | { kind: "dynamic"; type: string; name: string };

/** Fetch types of probe arguments (`kernel/trace/trace_probe.c`). */
export type ProbeFetchType =
  | "u8"
  | "u16"
  | "u32"
  | "u64"
  | "s8"
  | "s16"
  | "s32"
  | "s64"
  | "x8"
  | "x16"
  | "x32"
  | "x64"
  | "string";

/** How an event's record is laid out. */
export type EventShape =
  /** A `TRACE_EVENT` / `DEFINE_EVENT`: struct layout plus a print format. */
  | { shape: "trace_event"; fields: readonly FieldDecl[]; printFmt: string }
  /** `syscalls:sys_enter_*`: `int __syscall_nr`, then one `unsigned long` slot per argument. */
  | { shape: "syscall_enter"; args: readonly { type: string; name: string }[] }
  /** `syscalls:sys_exit_*`: `int __syscall_nr; long ret`. */
  | { shape: "syscall_exit" }
  /** A kprobe (`p:`) or kretprobe (`r:`) event with packed arguments. */
  | {
    shape: "kprobe" | "kretprobe";
    args: readonly { name: string; type: ProbeFetchType }[];
  };

/** The target's C ABI facts that change a layout. */
export interface Abi {
  /** `sizeof(long)` of the kernel: 8 on 64-bit, 4 on 32-bit. */
  longSize: 4 | 8;
  /** Alignment of 8-byte scalars: 8 on x86_64 and ARM, 4 on i386. */
  int64Align: 4 | 8;
  /** Whether plain `char` is signed (x86 before 6.2; every kernel since 6.2 uses -funsigned-char). */
  charSigned: boolean;
}

/** The 64-bit x86 ABI of a 6.2+ kernel. */
export const ABI_X86_64: Abi = Object.freeze({ longSize: 8, int64Align: 8, charSigned: false });

interface ScalarInfo {
  size: number;
  align: number;
  signed: boolean;
}

function scalar(type: string, abi: Abi): ScalarInfo {
  const L = abi.longSize;
  const sized = (size: number, signed: boolean): ScalarInfo => ({
    size,
    align: size === 8 ? abi.int64Align : size,
    signed,
  });
  const t = type.trim();
  if (t.endsWith("*")) return sized(L, false);
  if (t.startsWith("enum ")) return sized(4, false);
  switch (t) {
    case "char":
      return sized(1, abi.charSigned);
    case "signed char":
    case "s8":
      return sized(1, true);
    case "unsigned char":
    case "u8":
    case "bool":
      return sized(1, false);
    case "short":
    case "s16":
      return sized(2, true);
    case "unsigned short":
    case "u16":
      return sized(2, false);
    case "int":
    case "s32":
    case "pid_t":
      return sized(4, true);
    case "unsigned int":
    case "u32":
    case "gfp_t":
      return sized(4, false);
    case "long":
    case "ssize_t":
      return sized(L, true);
    case "unsigned long":
    case "size_t":
      return sized(L, false);
    case "long long":
    case "s64":
      return sized(8, true);
    case "unsigned long long":
    case "u64":
      return sized(8, false);
  }
  throw new Error(`render_format: unknown C type ${JSON.stringify(type)}`);
}

function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

function line(type: string, name: string, offset: number, size: number, signed: boolean): string {
  return `\tfield:${type} ${name};\toffset:${offset};\tsize:${size};\tsigned:${signed ? 1 : 0};\n`;
}

const COMMON_FIELDS = line("unsigned short", "common_type", 0, 2, false) +
  line("unsigned char", "common_flags", 2, 1, false) +
  line("unsigned char", "common_preempt_count", 3, 1, false) +
  line("int", "common_pid", 4, 4, true);

/** Size of `struct trace_entry` (the common fields). */
const ENTRY_SIZE = 8;

const PROBE_TYPES: Record<
  ProbeFetchType,
  { size: number; signed: boolean; field: string; fmt: string }
> = {
  u8: { size: 1, signed: false, field: "u8", fmt: "%u" },
  u16: { size: 2, signed: false, field: "u16", fmt: "%u" },
  u32: { size: 4, signed: false, field: "u32", fmt: "%u" },
  u64: { size: 8, signed: false, field: "u64", fmt: "%Lu" },
  s8: { size: 1, signed: true, field: "s8", fmt: "%d" },
  s16: { size: 2, signed: true, field: "s16", fmt: "%d" },
  s32: { size: 4, signed: true, field: "s32", fmt: "%d" },
  s64: { size: 8, signed: true, field: "s64", fmt: "%Ld" },
  x8: { size: 1, signed: false, field: "u8", fmt: "0x%x" },
  x16: { size: 2, signed: false, field: "u16", fmt: "0x%x" },
  x32: { size: 4, signed: false, field: "u32", fmt: "0x%x" },
  x64: { size: 8, signed: false, field: "u64", fmt: "0x%Lx" },
  string: { size: 4, signed: true, field: "__data_loc char[]", fmt: '\\"%s\\"' },
};

/**
 * The field lines (own fields only) and print format of an event shape.
 *
 * @param shape the declaration
 * @param abi target ABI
 * @returns the text of the own-field lines and the print format
 */
function renderBody(shape: EventShape, abi: Abi): { fields: string; printFmt: string } {
  const L = abi.longSize;
  let out = "";
  switch (shape.shape) {
    case "trace_event": {
      let off = ENTRY_SIZE;
      for (const f of shape.fields) {
        if (f.kind === "dynamic") {
          off = alignUp(off, 4);
          out += line(`__data_loc ${f.type}[]`, f.name, off, 4, scalar(f.type, abi).signed);
          off += 4;
        } else if (f.kind === "array") {
          const s = scalar(f.type, abi);
          off = alignUp(off, s.align);
          out += line(f.type, `${f.name}[${f.len}]`, off, s.size * f.len, s.signed);
          off += s.size * f.len;
        } else {
          const s = scalar(f.type, abi);
          off = alignUp(off, s.align);
          out += line(f.type, f.name, off, s.size, s.signed);
          off += s.size;
        }
      }
      return { fields: out, printFmt: shape.printFmt };
    }
    case "syscall_enter": {
      out += line("int", "__syscall_nr", ENTRY_SIZE, 4, true);
      let off = alignUp(ENTRY_SIZE + 4, L);
      for (const a of shape.args) {
        out += line(a.type, a.name, off, L, false);
        off += L;
      }
      const fmt = shape.args.map((a) => `${a.name}: 0x%0${L}lx`).join(", ");
      const args = shape.args.map((a) => `, ((unsigned long)(REC->${a.name}))`).join("");
      return { fields: out, printFmt: `"${fmt}"${args}` };
    }
    case "syscall_exit": {
      out += line("int", "__syscall_nr", ENTRY_SIZE, 4, true);
      out += line("long", "ret", alignUp(ENTRY_SIZE + 4, L), L, true);
      return { fields: out, printFmt: `"0x%lx", REC->ret` };
    }
    case "kprobe":
    case "kretprobe": {
      let off = ENTRY_SIZE;
      const heads = shape.shape === "kprobe" ? ["__probe_ip"] : ["__probe_func", "__probe_ret_ip"];
      for (const h of heads) {
        out += line("unsigned long", h, off, L, false);
        off += L;
      }
      let fmt = shape.shape === "kprobe" ? "(%lx)" : "(%lx <- %lx)";
      let args = heads.map((h) => `, REC->${h}`).join("");
      for (const a of shape.args) {
        const t = PROBE_TYPES[a.type];
        out += line(t.field, a.name, off, t.size, t.signed);
        off += t.size;
        fmt += ` ${a.name}=${t.fmt}`;
        args += a.type === "string" ? `, __get_str(${a.name})` : `, REC->${a.name}`;
      }
      return { fields: out, printFmt: `"${fmt}"${args}` };
    }
  }
}

/**
 * Renders the text of `events/<system>/<name>/format`.
 *
 * @param name event name (`name:` line)
 * @param id event id (`ID:` line)
 * @param shape how the record is laid out
 * @param abi target ABI (defaults to x86_64 on a 6.2+ kernel)
 * @returns the file text, ending in a newline
 * @example
 * ```ts
 * import { renderFormat } from "./render_format.ts";
 * const text = renderFormat("tlb_flush", 188, {
 *   shape: "trace_event",
 *   fields: [
 *     { kind: "field", type: "int", name: "reason" },
 *     { kind: "field", type: "unsigned long", name: "pages" },
 *   ],
 *   printFmt: '"pages:%ld", REC->pages',
 * });
 * console.assert(text.includes("\tfield:unsigned long pages;\toffset:16;\tsize:8;\tsigned:0;\n"));
 * ```
 */
export function renderFormat(
  name: string,
  id: number,
  shape: EventShape,
  abi: Abi = ABI_X86_64,
): string {
  const body = renderBody(shape, abi);
  return `name: ${name}\nID: ${id}\nformat:\n${COMMON_FIELDS}\n${body.fields}\nprint fmt: ${body.printFmt}\n`;
}

/**
 * Renders `events/header_page`: the ring-buffer page header the kernel prints
 * (`ring_buffer_print_page_header()`).
 *
 * @param abi target ABI (`longSize` is the size of the page's `commit` word)
 * @param pageSize sub-buffer size in bytes (4096 unless `buffer_subbuf_size_kb` changed it)
 * @returns the file text
 * @example
 * ```ts
 * import { renderHeaderPage } from "./render_format.ts";
 * const t = renderHeaderPage({ longSize: 4, int64Align: 8, charSigned: false }, 4096);
 * console.assert(t.includes("\tfield: char data;\toffset:12;\tsize:4084;\tsigned:0;\n"));
 * ```
 */
export function renderHeaderPage(abi: Abi = ABI_X86_64, pageSize = 4096): string {
  const L = abi.longSize;
  return `\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n` +
    `\tfield: local_t commit;\toffset:8;\tsize:${L};\tsigned:1;\n` +
    `\tfield: int overwrite;\toffset:8;\tsize:1;\tsigned:1;\n` +
    `\tfield: char data;\toffset:${8 + L};\tsize:${pageSize - 8 - L};\tsigned:${
      abi.charSigned ? 1 : 0
    };\n`;
}

/** The text of `events/header_event` (`ring_buffer_print_entry_header()`, kernels 5.x–6.x). */
export const HEADER_EVENT_TEXT: string = "# compressed entry header\n" +
  "\ttype_len    :    5 bits\n" +
  "\ttime_delta  :   27 bits\n" +
  "\tarray       :   32 bits\n" +
  "\n" +
  "\tpadding     : type == 29\n" +
  "\ttime_extend : type == 30\n" +
  "\ttime_stamp : type == 31\n" +
  "\tdata max type_len  == 28\n";
