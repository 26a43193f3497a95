/**
 * A {@linkcode CommandSink} that records what a policy emits, as short strings, for tests.
 *
 * Commands read `kind@iommu[/device] 0xaddr+pages` (or `all` for full scope); waits read
 * `kind@iommu`; async flushes are prefixed with `async(<request>) `.
 *
 * @module
 */
import { type CommandSink, FULL, type ReplayPolicy, type RequestInfo } from "../policy.ts";
import type { BindingView } from "../state.ts";

/** Records commands. */
export class RecordingSink implements CommandSink {
  readonly log: string[] = [];
  #view: BindingView | null = null;
  #async: string | null = null;
  #asyncView: BindingView | null = null;

  constructor(readonly policy: ReplayPolicy) {}

  /** Sets the view used to name slots. */
  use(view: BindingView): void {
    this.#view = view;
  }

  cmd(
    kind: number,
    iommu: number,
    _group: number,
    device: number,
    addrPfn: number,
    pages: number,
  ): void {
    const v = (this.#async !== null ? this.#asyncView : this.#view)!;
    const dev = device >= 0 ? `/${v.deviceName[device]}` : "";
    const range = pages === FULL ? "all" : `0x${addrPfn.toString(16)}+${pages}`;
    this.log.push(
      `${this.#async ?? ""}${this.policy.kinds[kind]!.name}@${v.iommuName[iommu]}${dev} ${range}`,
    );
  }

  cmdRun(
    kind: number,
    iommu: number,
    group: number,
    device: number,
    addrPfn: number,
    pagesEach: number,
    count: number,
  ): void {
    for (let k = 0; k < count; k++) {
      this.cmd(kind, iommu, group, device, addrPfn + k * pagesEach, pagesEach);
    }
  }

  wait(iommu: number, kind: number = this.policy.waitKind): void {
    const v = (this.#async !== null ? this.#asyncView : this.#view)!;
    this.log.push(`${this.#async ?? ""}${this.policy.kinds[kind]!.name}@${v.iommuName[iommu]}`);
  }

  beginAsync(requestId: number, view: BindingView): void {
    this.#async = `async(${requestId}) `;
    this.#asyncView = view;
  }

  endAsync(): void {
    this.#async = null;
    this.#asyncView = null;
  }
}

/**
 * A policy-facing request.
 *
 * @param startPfn first page frame
 * @param pages pages
 * @param extra overrides
 * @returns the request info
 */
export function info(
  startPfn: number,
  pages: number,
  extra: Partial<RequestInfo> = {},
): RequestInfo {
  return {
    id: 0,
    ts: 0n,
    tsNs: 0,
    cpu: 0,
    startPfn,
    endPfn: startPfn + pages,
    pages,
    full: false,
    dma: false,
    source: "test",
    ...extra,
  };
}

/**
 * Runs one request through a policy and returns what it emitted.
 *
 * @param policy the policy
 * @param view the view
 * @param r the request
 * @returns the log
 */
export function emitted(policy: ReplayPolicy, view: BindingView, r: RequestInfo): string[] {
  const s = new RecordingSink(policy);
  s.use(view);
  policy.advance?.(r.tsNs, s);
  policy.evaluate(r, view, s);
  return s.log;
}
