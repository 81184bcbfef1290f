// Builds the page into dist/ (esbuild: one minified ES module, the HTML and the CSS) and prints
// the gzipped sizes. `--tests` also bundles test/unit/*.test.ts into test-build/ for node --test.
import { build } from "esbuild";
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "dist");
const BUDGET_GZ = 300 * 1024;

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });
await build({
  entryPoints: [join(here, "src/main.ts")],
  outfile: join(dist, "app.js"),
  bundle: true,
  format: "esm",
  platform: "browser",
  target: ["es2022", "chrome111", "firefox111", "safari16"],
  minify: true,
  sourcemap: "linked",
  legalComments: "eof",
  metafile: true,
  logLevel: "warning",
}).then((result) => writeFileSync(join(here, "dist/meta.json"), JSON.stringify(result.metafile)));
copyFileSync(join(here, "src/index.html"), join(dist, "index.html"));
copyFileSync(join(here, "src/style.css"), join(dist, "style.css"));

const sizes = {};
let totalGz = 0;
for (const file of ["app.js", "style.css", "index.html"]) {
  const bytes = readFileSync(join(dist, file));
  const gz = gzipSync(bytes, { level: 9 }).length;
  sizes[file] = { bytes: bytes.length, gzip: gz };
  totalGz += gz;
}
sizes.total = { gzip: totalGz, budget: BUDGET_GZ };
writeFileSync(join(dist, "size.json"), JSON.stringify(sizes, null, 2));
rmSync(join(dist, "meta.json"));
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
console.log(
  `web/dist: app.js ${kb(sizes["app.js"].bytes)} (${kb(sizes["app.js"].gzip)} gzipped), ` +
    `style.css ${kb(sizes["style.css"].gzip)} gz, index.html ${kb(sizes["index.html"].gzip)} gz; ` +
    `total ${kb(totalGz)} gzipped (budget ${kb(BUDGET_GZ)})`,
);
if (totalGz > BUDGET_GZ) {
  console.error(`bundle over budget: ${kb(totalGz)} > ${kb(BUDGET_GZ)}`);
  process.exit(1);
}

if (process.argv.includes("--tests")) {
  const out = join(here, "test-build");
  rmSync(out, { recursive: true, force: true });
  const unitDir = join(here, "test/unit");
  const entries = readdirSync(unitDir).filter((f) => f.endsWith(".test.ts")).map((f) => join(unitDir, f));
  await build({
    entryPoints: entries,
    outdir: join(out, "unit"),
    outExtension: { ".js": ".mjs" },
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    packages: "external",
    sourcemap: "inline",
    logLevel: "warning",
  });
  await build({
    entryPoints: [join(here, "test/e2e/run.mjs")],
    outfile: join(out, "e2e/run.mjs"),
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    packages: "external",
    logLevel: "warning",
  });
  console.log(`tests bundled into ${out}: ${entries.length} unit files${statSync(join(out, "e2e/run.mjs")).isFile() ? ", e2e/run.mjs" : ""}`);
}
