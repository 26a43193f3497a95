/**
 * Parsed tracefs `format` files: the only schema a trace carries.
 *
 * @module
 */

/** How a field's bytes are laid out. */
export type FieldKind =
  /** integer of `size` bytes (1, 2, 4, 8) */
  | "int"
  /** fixed array of `count` elements of `elemSize` bytes (`char comm[16]` is a string) */
  | "array"
  /** `__data_loc T[] x`: u32 = len<<16 | offset from record start */
  | "data_loc"
  /** `__rel_loc T[] x`: u32 = len<<16 | offset from the end of this field */
  | "rel_loc"
  /** `T x[]` with size 0: runs to the end of the record */
  | "flex";

/** One `field:` line of a format file. */
export interface FieldFormat {
  /** Field name (`iova`, `common_pid`). */
  name: string;
  /** Declared C type text without the name (`unsigned long`, `__data_loc char[]`, `char[16]`). */
  type: string;
  /** Element C type (`char`, `u64`, `unsigned int`), without `__data_loc` and brackets. */
  elemType: string;
  /** Byte offset of the field from the start of the record. */
  offset: number;
  /** Byte size as the format file says (trusted over the declared array length). */
  size: number;
  /** True if `signed:1` (or inferred from the type when the line has no `signed:`). */
  signed: boolean;
  /** How the field's bytes are laid out. */
  kind: FieldKind;
  /** Element size in bytes for arrays / dynamic arrays (1 for char). */
  elemSize: number;
  /** Number of elements for fixed arrays (`size / elemSize`), 0 otherwise. */
  count: number;
  /** True when the elements are characters: decode as a NUL-terminated string. */
  isString: boolean;
  /** True for the `common_*` fields. */
  common: boolean;
}

/** A parsed event format. */
export interface EventFormat {
  /** Event id (`ID:`), per boot/kernel. */
  id: number;
  /** Trace system (`ftrace`, `tlb`, `intel_iommu`). */
  system: string;
  /** Event name. */
  name: string;
  /** All fields including the common ones, in file order. */
  fields: FieldFormat[];
  /** The event's own (non-common) fields. */
  ownFields: FieldFormat[];
  /** The `print fmt:` text after the colon (quoted format, then arguments), `""` if absent. */
  printFmt: string;
}

/** The `header_page` facts a ring-buffer reader needs. */
export interface HeaderPage {
  /** Size of the `timestamp` field (8). */
  timestampSize: number;
  /** Size of `commit` (4 on 32-bit kernels, 8 on 64-bit): the kernel's `long`. */
  commitSize: number;
  /** Offset of `data` in the page (12 or 16). */
  dataOffset: number;
  /** Size of the data area. */
  dataSize: number;
}
