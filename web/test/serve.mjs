// Serves the built page the way the hospital node does, from any deployment file:
//
//   node test/serve.mjs --deployment FILE --blobs DIR [--port 8080] [--dist DIR]
//
// where DIR holds one sealed scan per file, named by its CID (e.g. from `crypdoc store get`).
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { blobDir, startServer } from "./server.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const deploymentFile = arg("deployment");
if (!deploymentFile) {
  console.error("usage: node test/server.mjs --deployment FILE --blobs DIR [--port N] [--dist DIR]");
  process.exit(2);
}
const server = await startServer({
  dist: arg("dist", resolve(here, "../dist")),
  deployment: async () => JSON.parse(await readFile(deploymentFile, "utf8")),
  getBlob: blobDir(arg("blobs", ".")),
  port: Number(arg("port", "8080")),
});
console.log(`serving the doctors' page at ${server.url}`);
