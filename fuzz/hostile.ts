/**
 * Hostile strings: what a crafted trace or config may put where a name is expected (comm, device
 * names, event names, JSON values). Used by the fuzzer's mutators and by the security tests.
 *
 * @module
 */

/** Strings that break naive HTML, CSV, JSON, SQL or terminal output. */
export const HOSTILE_STRINGS: readonly string[] = Object.freeze([
  "<script>alert(1)</script>",
  "</script><script>alert(document.domain)</script>",
  '"><img src=x onerror=alert(1)>',
  "'; DROP TABLE events; --",
  '"quoted","comma",',
  "a,b\nc,d",
  "line1\r\nline2",
  "tab\there",
  "\u001b[31mred\u001b[0m",
  "\u0000nul\u0000",
  "\u0007bell\u0008back",
  "\u2028\u2029",
  "\ud800",
  "\ufeffbom",
  "${7*7}{{7*7}}",
  "%s%n%x%p",
  "../../../../etc/passwd",
  "javascript:alert(1)",
  "<!--",
  "]]>",
  "\\\\server\\share",
  "é😀中文",
]);

/** Byte sequences that are not valid UTF-8. */
export const INVALID_UTF8: readonly Uint8Array[] = Object.freeze([
  new Uint8Array([0xff]),
  new Uint8Array([0xc3]),
  new Uint8Array([0xc0, 0xaf]),
  new Uint8Array([0xed, 0xa0, 0x80]),
  new Uint8Array([0xf8, 0x88, 0x80, 0x80, 0x80]),
  new Uint8Array([0xe2, 0x82]),
  new Uint8Array([0xfe, 0xfe, 0xff, 0xff]),
]);
