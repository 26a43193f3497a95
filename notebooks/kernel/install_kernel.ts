/**
 * Writes a Jupyter kernel spec for the Deno kernel into a directory of our choosing, so CI (and
 * anyone who wants a hermetic setup) can run the notebooks without touching `~/.local/share`:
 *
 * ```sh
 * deno run --allow-read --allow-write --allow-env notebooks/kernel/install_kernel.ts
 * export JUPYTER_PATH=$PWD/notebooks/kernel
 * jupyter nbconvert --to notebook --execute --output-dir /tmp/nb notebooks/explore_trace.ipynb
 * ```
 *
 * The spec lands in `<dir>/kernels/deno/kernel.json` (Jupyter looks for kernels in the `kernels/`
 * folder of every `JUPYTER_PATH` entry). `deno jupyter --install` would write to the user's data
 * directory whatever `JUPYTER_DATA_DIR` says, hence this script. The kernel name `deno` is the one
 * `deno jupyter --install` uses, and the one the notebooks' metadata names.
 *
 * Usage: `install_kernel.ts [--dir DIR] [--deno PATH]`; DIR defaults to `notebooks/kernel`, PATH
 * to the deno running the script. The spec holds an absolute path of this machine, so it is not
 * committed (notebooks/.gitignore).
 *
 * @module
 */
import { isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

/** The kernel name the notebooks ask for (`metadata.kernelspec.name`). */
export const KERNEL_NAME = "deno";

/** A Jupyter kernel spec (`kernel.json`). */
export interface KernelSpec {
  /** Command line; `{connection_file}` is replaced by Jupyter. */
  argv: string[];
  /** Name shown in front ends. */
  display_name: string;
  /** Language of the kernel. */
  language: string;
}

/**
 * The Deno kernel spec for a deno executable.
 *
 * @param deno absolute path of the deno executable
 * @returns the spec
 * @throws {Error} when the path is not absolute (Jupyter starts kernels from other directories)
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { kernelSpec } from "./install_kernel.ts";
 * const s = kernelSpec("/usr/bin/deno");
 * assert(s.argv.join(" ") === "/usr/bin/deno jupyter --kernel --conn {connection_file}");
 * ```
 */
export function kernelSpec(deno: string): KernelSpec {
  if (!isAbsolute(deno)) throw new Error(`the deno path must be absolute, got ${deno}`);
  return {
    argv: [deno, "jupyter", "--kernel", "--conn", "{connection_file}"],
    display_name: "Deno",
    language: "typescript",
  };
}

/**
 * Writes `<dataDir>/kernels/deno/kernel.json`; set `JUPYTER_PATH=<dataDir>` to use it.
 *
 * @param dataDir a Jupyter data directory (created if missing)
 * @param deno absolute path of deno (default: the deno running this code)
 * @returns the path of the written kernel.json
 * @throws {Error} when `deno` is not an executable file
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeKernelSpec } from "./install_kernel.ts";
 * const dir = await Deno.makeTempDir();
 * const file = await writeKernelSpec(dir);
 * assert(file === `${dir}/kernels/deno/kernel.json`);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeKernelSpec(
  dataDir: string,
  deno: string = Deno.execPath(),
): Promise<string> {
  const spec = kernelSpec(deno);
  const st = await Deno.stat(deno).catch(() => null);
  if (!st?.isFile || ((st.mode ?? 0o111) & 0o111) === 0) {
    throw new Error(`${deno} is not an executable file`);
  }
  const dir = join(resolve(dataDir), "kernels", KERNEL_NAME);
  await Deno.mkdir(dir, { recursive: true });
  const file = join(dir, "kernel.json");
  await Deno.writeTextFile(file, JSON.stringify(spec, null, 2) + "\n");
  return file;
}

const HELP = `Usage: install_kernel.ts [--dir DIR] [--deno PATH]

Writes DIR/kernels/${KERNEL_NAME}/kernel.json (a Jupyter kernel spec for the Deno kernel).
  --dir DIR    Jupyter data directory (default: notebooks/kernel); then export JUPYTER_PATH=DIR
  --deno PATH  absolute path of deno (default: the deno running this script)
`;

/**
 * The command line.
 *
 * @param args arguments
 * @returns exit code
 */
export async function main(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        dir: { type: "string" },
        deno: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const dir = values.dir ?? fileURLToPath(new URL("./", import.meta.url));
  try {
    const file = await writeKernelSpec(dir, values.deno ?? Deno.execPath());
    console.log(`wrote ${file}\nexport JUPYTER_PATH=${resolve(dir)}`);
    return 0;
  } catch (e) {
    console.error((e as Error).message);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
