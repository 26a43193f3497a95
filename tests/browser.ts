/**
 * Headless Debian chromium for the browser tests (playwright-core with `executablePath`): the
 * launch, and the watch every test keeps on a page (console errors, page errors, dialogs, and any
 * request that leaves the file).
 *
 * @module
 */
import { type Browser, chromium, type Page } from "playwright-core";

const CHROMIUM = Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium";
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * Launches headless chromium; fails (never skips) when it is missing.
 *
 * @param what the test, named in the error
 * @returns the browser (close it)
 */
export async function launchChromium(what: string): Promise<Browser> {
  let found = false;
  try {
    found = (await Deno.stat(CHROMIUM)).isFile;
  } catch { /* reported below */ }
  if (!found) {
    throw new Error(
      `chromium not found at ${CHROMIUM}: install it (apt-get install chromium) or set ` +
        `CHROMIUM_PATH; the ${what} cannot run without it`,
    );
  }
  return await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
}

/** What a watched page reported. */
export interface PageWatch {
  /** Console errors, page errors and opened dialogs (dismissed). */
  problems: string[];
  /** Requests to anything but `file:` and `data:` URLs. */
  requests: string[];
}

/**
 * Records a page's console errors, page errors, dialogs and network requests.
 *
 * @param page the page, before it loads anything
 * @returns the lists, filled as the page runs
 */
export function watchPage(page: Page): PageWatch {
  const w: PageWatch = { problems: [], requests: [] };
  page.on("console", (m) => {
    if (m.type() === "error") w.problems.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (err) => w.problems.push(`page error: ${err.message}`));
  page.on("request", (q) => {
    if (!q.url().startsWith("file:") && !q.url().startsWith("data:")) w.requests.push(q.url());
  });
  page.on("dialog", (d) => {
    w.problems.push(`dialog opened: ${d.message()}`);
    void d.dismiss();
  });
  return w;
}
