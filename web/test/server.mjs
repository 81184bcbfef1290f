// The hospital node's page routes, for tests and local use (same origin, node:http only):
//   GET /                  web/dist/index.html, and the static assets beside it
//   GET /deployment.json   {"chainId","rpcUrl","market","registry","reputation","stablecoin","startBlock","gateway"}
//   GET /ipfs/{cid}        the raw sealed-scan bytes (application/octet-stream),
//                          404 {"error","message"} when unknown
// Swap it for the node by pointing the browser at the node instead (the e2e test does, when its
// chain is the Rust CLI: `crypdoc hospital run --web-dir web/dist`). Command line: serve.mjs.
import { createServer } from "node:http";
import { readFile, stat } from "node:fs/promises";
import { dirname, extname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".png": "image/png",
  ".svg": "image/svg+xml",
};
const CID = /^[a-zA-Z0-9]{8,128}$/;

function json(res, status, body) {
  const bytes = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { "content-type": "application/json", "content-length": bytes.length, "cache-control": "no-store" });
  res.end(bytes);
}

/**
 * Starts the server. `deployment` is the object served as /deployment.json (or a function that
 * returns it, read on every request); `getBlob(cid)` returns the bytes or null.
 */
export async function startServer({ dist = resolve(here, "../dist"), deployment, getBlob, port = 0, host = "127.0.0.1" }) {
  const root = resolve(dist);
  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? "/", "http://x");
      if (req.method !== "GET" && req.method !== "HEAD") {
        return json(res, 405, { error: "method_not_allowed", message: `${req.method} is not served here` });
      }
      if (url.pathname === "/deployment.json") {
        return json(res, 200, typeof deployment === "function" ? await deployment() : deployment);
      }
      if (url.pathname.startsWith("/ipfs/")) {
        const cid = decodeURIComponent(url.pathname.slice("/ipfs/".length));
        if (!CID.test(cid)) return json(res, 400, { error: "bad_cid", message: `not a CID: ${cid}` });
        const bytes = await getBlob(cid);
        if (!bytes) return json(res, 404, { error: "not_found", message: `no content with CID ${cid}` });
        res.writeHead(200, {
          "content-type": "application/octet-stream",
          "content-length": bytes.length,
          "cache-control": "public, max-age=31536000, immutable",
        });
        return res.end(req.method === "HEAD" ? undefined : bytes);
      }
      const path = url.pathname === "/" ? "/index.html" : decodeURIComponent(url.pathname);
      const file = resolve(root, `.${path}`);
      if (!file.startsWith(root + sep)) return json(res, 404, { error: "not_found", message: path });
      let body;
      try {
        if (!(await stat(file)).isFile()) throw new Error("not a file");
        body = await readFile(file);
      } catch {
        return json(res, 404, { error: "not_found", message: `no such file: ${path}` });
      }
      res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "content-length": body.length, "cache-control": "no-cache" });
      res.end(req.method === "HEAD" ? undefined : body);
    } catch (e) {
      json(res, 500, { error: "internal", message: String(e?.message ?? e) });
    }
  });
  await new Promise((ok, fail) => {
    server.once("error", fail);
    server.listen(port, host, ok);
  });
  const { port: bound } = server.address();
  return {
    url: `http://${host}:${bound}/`,
    close: () => new Promise((ok) => server.close(() => ok())),
  };
}

/** A blob source over a directory of files named by CID. */
export function blobDir(dir) {
  return async (cid) => {
    try {
      return await readFile(join(dir, cid));
    } catch {
      return null;
    }
  };
}
