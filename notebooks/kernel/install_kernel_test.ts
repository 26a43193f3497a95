import assert from "node:assert/strict";
import { KERNEL_NAME, kernelSpec, main, writeKernelSpec } from "./install_kernel.ts";

Deno.test("kernelSpec: the argv deno jupyter --install writes, for an absolute deno", () => {
  assert.deepEqual(kernelSpec("/opt/deno/bin/deno"), {
    argv: ["/opt/deno/bin/deno", "jupyter", "--kernel", "--conn", "{connection_file}"],
    display_name: "Deno",
    language: "typescript",
  });
  assert.throws(() => kernelSpec("deno"), /absolute/);
});

Deno.test("writeKernelSpec: <dir>/kernels/deno/kernel.json naming this deno", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = await writeKernelSpec(`${dir}/data`);
    assert.equal(file, `${dir}/data/kernels/${KERNEL_NAME}/kernel.json`);
    const spec = JSON.parse(await Deno.readTextFile(file));
    assert.equal(spec.argv[0], Deno.execPath());
    assert.deepEqual(spec.argv.slice(1), ["jupyter", "--kernel", "--conn", "{connection_file}"]);
    assert.equal(spec.language, "typescript");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeKernelSpec: refuses a deno that is missing or not executable", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(() => writeKernelSpec(dir, `${dir}/nope`), /not an executable/);
    await Deno.writeTextFile(`${dir}/deno`, "");
    await Deno.chmod(`${dir}/deno`, 0o644);
    await assert.rejects(() => writeKernelSpec(dir, `${dir}/deno`), /not an executable/);
    await assert.rejects(() => Deno.stat(`${dir}/kernels`), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("main: --dir and --deno; exit 2 on an unknown flag, 1 on a bad deno", async () => {
  const dir = await Deno.makeTempDir();
  const log = console.log, err = console.error;
  const out: string[] = [];
  console.log = (...a: unknown[]) => void out.push(a.join(" "));
  console.error = (...a: unknown[]) => void out.push(a.join(" "));
  try {
    assert.equal(await main(["--dir", dir, "--deno", Deno.execPath()]), 0);
    assert.ok(out.join("\n").includes(`export JUPYTER_PATH=${dir}`));
    const spec = JSON.parse(await Deno.readTextFile(`${dir}/kernels/deno/kernel.json`));
    assert.equal(spec.argv[0], Deno.execPath());
    assert.equal(await main(["--bogus"]), 2);
    assert.equal(await main(["--dir", dir, "--deno", "relative/deno"]), 1);
  } finally {
    console.log = log;
    console.error = err;
    await Deno.remove(dir, { recursive: true });
  }
});
