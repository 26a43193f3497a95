/**
 * Parser for tracefs `format` files and the `header_page` text.
 *
 * ```
 * name: tlb_flush
 * ID: 188
 * format:
 * 	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
 * 	...
 * print fmt: "pages:%ld reason:%s", REC->pages, ...
 * ```
 *
 * Offsets and sizes are taken from the file (they win over the declared C type).
 *
 * @module
 */
import type { EventFormat, FieldFormat, FieldKind, HeaderPage } from "./types.ts";

/** A format file that cannot be understood. */
export class FormatParseError extends Error {
  /** @param message what is wrong */
  constructor(message: string) {
    super(message);
    this.name = "FormatParseError";
  }
}

const FIELD_RE =
  /^\s*field:\s*(?:special\s+)?(.*?);\s*offset:\s*(\d+);\s*size:\s*(\d+);(?:\s*signed:\s*(-?\d+);)?/;

/**
 * Size in bytes of a C element type as the kernel lays it out, or 0 if unknown.
 *
 * @param t C type text (`unsigned long`, `u64`, `char`, `void *`)
 * @param longSize the kernel's `sizeof(long)` (4 or 8)
 * @returns size in bytes, 0 when unknown
 */
export function cTypeSize(t: string, longSize: number): number {
  const s = t.replace(/\b(const|volatile|__user|__iomem|__percpu|struct|enum)\b/g, "").trim();
  if (s.endsWith("*")) return longSize;
  switch (s.replace(/\s+/g, " ")) {
    case "char":
    case "signed char":
    case "unsigned char":
    case "u8":
    case "s8":
    case "__u8":
    case "__s8":
    case "bool":
    case "_Bool":
      return 1;
    case "short":
    case "unsigned short":
    case "signed short":
    case "short int":
    case "unsigned short int":
    case "u16":
    case "s16":
    case "__u16":
    case "__s16":
    case "__le16":
    case "__be16":
      return 2;
    case "int":
    case "unsigned int":
    case "signed int":
    case "unsigned":
    case "signed":
    case "u32":
    case "s32":
    case "__u32":
    case "__s32":
    case "__le32":
    case "__be32":
    case "pid_t":
    case "gfp_t":
    case "uid_t":
    case "gid_t":
    case "dev_t":
    case "umode_t":
    case "fmode_t":
    case "slab_flags_t":
    case "isolate_mode_t":
    case "blk_opf_t":
    case "ioasid_t":
      return 4;
    case "long long":
    case "unsigned long long":
    case "signed long long":
    case "long long int":
    case "unsigned long long int":
    case "u64":
    case "s64":
    case "__u64":
    case "__s64":
    case "__le64":
    case "__be64":
    case "ktime_t":
    case "loff_t":
    case "sector_t":
      return 8;
    case "long":
    case "unsigned long":
    case "signed long":
    case "long int":
    case "unsigned long int":
    case "size_t":
    case "ssize_t":
    case "uintptr_t":
    case "intptr_t":
    case "atomic_long_t":
    case "local_t":
    case "pgoff_t":
    case "time64_t":
      return longSize;
    default:
      return 0;
  }
}

/** Whether a C type is unsigned when the format file has no `signed:` column. */
function inferUnsigned(t: string): boolean {
  return /\b(unsigned|u8|u16|u32|u64|__u\d+|size_t|gfp_t|dma_addr_t|phys_addr_t|bool)\b/.test(t) ||
    t.includes("*");
}

function isCharType(t: string): boolean {
  const s = t.replace(/\b(const|volatile)\b/g, "").trim();
  return s === "char" || s === "signed char";
}

/**
 * Parses one `field:` declaration (without `field:`), e.g. `__data_loc char[] name`.
 *
 * @param decl declaration text
 * @param offset `offset:` value
 * @param size `size:` value
 * @param signedCol `signed:` value, or undefined when the line has none
 * @param longSize kernel long size
 * @returns the field
 */
export function parseFieldDecl(
  decl: string,
  offset: number,
  size: number,
  signedCol: number | undefined,
  longSize: number,
): FieldFormat {
  let d = decl.trim();
  let loc: "data_loc" | "rel_loc" | null = null;
  if (d.startsWith("__data_loc ")) {
    loc = "data_loc";
    d = d.slice(11).trim();
  } else if (d.startsWith("__rel_loc ")) {
    loc = "rel_loc";
    d = d.slice(10).trim();
  }
  // Name is the last identifier, optionally followed by [..]. For __data_loc the brackets sit on the type:
  // `__data_loc char[] name`.
  const m = /^(.*?)([A-Za-z_$][\w$]*)\s*(\[([^\]]*)\])?\s*$/.exec(d);
  if (!m) throw new FormatParseError(`cannot parse field declaration '${decl}'`);
  let typePart = m[1]!.trim();
  const name = m[2]!;
  const arr = m[3] !== undefined ? m[4]!.trim() : null;
  let typeBrackets = false;
  if (typePart.endsWith("[]")) {
    typeBrackets = true;
    typePart = typePart.slice(0, -2).trim();
  }
  const elemType = typePart;
  const known = cTypeSize(elemType, longSize);
  const signed = signedCol !== undefined ? signedCol === 1 : !inferUnsigned(elemType);
  const isChar = isCharType(elemType);
  let kind: FieldKind;
  let elemSize = known;
  let count = 0;
  if (loc) {
    kind = loc;
    if (elemSize === 0) elemSize = 1;
  } else if ((arr !== null && arr === "") || size === 0) {
    // `char buf[]` (and old kernels' `char buf; size:0`) run to the end of the record.
    kind = "flex";
    if (elemSize === 0) elemSize = 1;
  } else if (arr !== null || typeBrackets) {
    kind = "array";
    const declared = arr !== null && /^\d+$/.test(arr) ? Number(arr) : 0;
    if (elemSize === 0 || elemSize > size) {
      elemSize = declared > 0 ? Math.max(1, size / declared) : 1;
    }
    if (!Number.isInteger(elemSize)) elemSize = 1;
    count = Math.floor(size / elemSize);
  } else {
    kind = "int";
    elemSize = size;
  }
  const type = loc ? `__${loc} ${elemType}[]` : arr !== null ? `${elemType}[${arr}]` : elemType;
  return {
    name,
    type,
    elemType,
    offset,
    size,
    signed,
    kind,
    elemSize,
    count,
    isString: isChar && kind !== "int",
    common: name.startsWith("common_"),
  };
}

function parseFields(lines: string[], longSize: number): FieldFormat[] {
  const fields: FieldFormat[] = [];
  for (const line of lines) {
    const m = FIELD_RE.exec(line);
    if (!m) continue;
    fields.push(
      parseFieldDecl(
        m[1]!,
        Number(m[2]),
        Number(m[3]),
        m[4] !== undefined ? Number(m[4]) : undefined,
        longSize,
      ),
    );
  }
  return fields;
}

/**
 * Parses an event `format` file.
 *
 * @param text the file's text
 * @param system trace system the event belongs to (`ftrace` for the ftrace formats block)
 * @param longSize the kernel's `sizeof(long)`, from header_page (default 8)
 * @returns the parsed format
 * @throws {FormatParseError} when `name:` or `ID:` is missing or a field line is malformed
 * @example
 * ```ts
 * import { parseFormatFile } from "./format_file.ts";
 * const f = parseFormatFile(
 *   "name: tlb_flush\nID: 188\nformat:\n\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\n" +
 *     "\tfield:int reason;\toffset:8;\tsize:4;\tsigned:1;\n\nprint fmt: \"r=%d\", REC->reason\n",
 *   "tlb",
 * );
 * console.assert(f.id === 188 && f.ownFields[0]!.name === "reason");
 * ```
 */
export function parseFormatFile(text: string, system: string, longSize = 8): EventFormat {
  const lines = text.split("\n");
  let name: string | null = null;
  let id: number | null = null;
  let printFmt = "";
  const fieldLines: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith("name:")) name = line.slice(5).trim();
    else if (line.startsWith("ID:")) {
      const v = line.slice(3).trim();
      if (!/^\d+$/.test(v)) throw new FormatParseError(`bad ID '${v}'`);
      id = Number(v);
    } else if (line.startsWith("print fmt:")) {
      printFmt = lines.slice(i).join("\n").slice(10).trim();
      break;
    } else if (/^\s*field/.test(line)) {
      if (!FIELD_RE.test(line)) throw new FormatParseError(`bad field line '${line.trim()}'`);
      fieldLines.push(line);
    }
  }
  if (name === null || name === "") throw new FormatParseError("format has no name: line");
  if (id === null) throw new FormatParseError(`format ${name} has no ID: line`);
  const fields = parseFields(fieldLines, longSize);
  return { id, system, name, fields, ownFields: fields.filter((f) => !f.common), printFmt };
}

/**
 * Parses the `header_page` text (the ring-buffer page header layout).
 *
 * @param text header_page text
 * @returns the layout
 * @throws {FormatParseError} when `timestamp`, `commit` or `data` is missing
 * @example
 * ```ts
 * import { parseHeaderPage } from "./format_file.ts";
 * const h = parseHeaderPage(
 *   "\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n" +
 *     "\tfield: local_t commit;\toffset:8;\tsize:4;\tsigned:1;\n" +
 *     "\tfield: char data;\toffset:12;\tsize:4084;\tsigned:1;\n",
 * );
 * console.assert(h.commitSize === 4 && h.dataOffset === 12);
 * ```
 */
export function parseHeaderPage(text: string): HeaderPage {
  const fields = parseFields(text.split("\n"), 8);
  const get = (n: string) => {
    const f = fields.find((x) => x.name === n);
    if (!f) throw new FormatParseError(`header_page has no '${n}' field`);
    return f;
  };
  const ts = get("timestamp");
  const commit = get("commit");
  const data = get("data");
  if (commit.size !== 4 && commit.size !== 8) {
    throw new FormatParseError(`header_page commit size ${commit.size} is not 4 or 8`);
  }
  return {
    timestampSize: ts.size,
    commitSize: commit.size,
    dataOffset: data.offset,
    dataSize: data.size,
  };
}
