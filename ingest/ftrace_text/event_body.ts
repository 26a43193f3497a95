/**
 * The part of an ftrace text line after its context: which event it is, and its payload.
 *
 * - `tlb_flush: pages:1 reason:...` (kernel) or `tlb_flush:            pages=1 ...` (trace-cmd,
 *   name padded to 20 columns): an event and its payload.
 * - `sys_munmap(addr: 0x7f5f00038000, len: 0x8c5f)`: the kernel prints syscall entry events
 *   without the `event:` token (`print_syscall_enter`); this is `syscalls:sys_enter_munmap`.
 *   With the `verbose` option each argument is preceded by its type.
 * - `sys_munmap -> 0x0`: a syscall exit (`print_syscall_exit`), `syscalls:sys_exit_munmap`.
 * - `do_sys_open <-SyS_open`: the function tracer (`ftrace:function`).
 *
 * @module
 */

/** What a body is. */
export type BodyKind = "event" | "syscall_enter" | "syscall_exit" | "function";

/** A classified body. */
export interface EventBody {
  /** The form of the body. */
  kind: BodyKind;
  /** Event name (`tlb_flush`, `sys_enter_munmap`, `function`). */
  name: string;
  /** Payload text (for syscalls: the argument list or the return value; for functions: `ip <-parent`). */
  payload: string;
}

const EVENT = /^([A-Za-z_][\w.-]{0,127}):(?: +|$)/;
const SYS_ENTER = /^sys_(\w{1,64})\((.*)\)$/;
const SYS_EXIT = /^sys_(\w{1,64}) -> (-?(?:0x)?[0-9a-fA-F]{1,20})$/;
const FUNC = /^(\S{1,256}) <-(\S{1,256})$/;

/**
 * Classifies the body of a line.
 *
 * @param body text after the context
 * @returns the event and payload, or null when the body is none of the known forms
 * @example
 * ```ts
 * import { parseEventBody } from "./event_body.ts";
 * console.assert(parseEventBody("tlb_flush:            pages=1")!.payload === "pages=1");
 * console.assert(parseEventBody("sys_munmap(addr: 0x1, len: 0x2)")!.name === "sys_enter_munmap");
 * console.assert(parseEventBody("sys_read -> 0x0")!.name === "sys_exit_read");
 * ```
 */
export function parseEventBody(body: string): EventBody | null {
  const m = EVENT.exec(body);
  if (m) return { kind: "event", name: m[1]!, payload: body.slice(m[0].length) };
  if (body.startsWith("sys_")) {
    const e = SYS_ENTER.exec(body);
    if (e) return { kind: "syscall_enter", name: `sys_enter_${e[1]!}`, payload: e[2]! };
    const x = SYS_EXIT.exec(body);
    if (x) return { kind: "syscall_exit", name: `sys_exit_${x[1]!}`, payload: x[2]! };
  }
  const f = FUNC.exec(body);
  if (f) return { kind: "function", name: "function", payload: body };
  return null;
}
