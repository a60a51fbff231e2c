// The local router's cost: request latency through https://ENV.PROJECT.localhost (Caddy,
// TLS, a reverse-proxy hop) against the direct http://127.0.0.1:PORT on the same page,
// alternated request by request on kept-alive connections as a browser holds them; and
// the live-edit latency (file written -> new content served) through the router.
import { readFile, writeFile } from "node:fs/promises";
import { Agent as HttpAgent, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import path from "node:path";
import { benchProject, percentile } from "./lib.js";

const REQUESTS = 300;

// *.localhost is loopback (RFC 6761); Node asks the system resolver, which may not know.
const loopback = (_host, options, callback) =>
  options.all
    ? callback(null, [{ address: "127.0.0.1", family: 4 }])
    : callback(null, "127.0.0.1", 4);

function get(url, agent) {
  const target = new URL(url);
  const send = target.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const request = send(target, { agent, lookup: loopback }, (response) => {
      const chunks = [];
      response.on("data", (chunk) => chunks.push(chunk));
      response.on("end", () =>
        resolve({ status: response.statusCode, body: Buffer.concat(chunks).toString() }),
      );
    });
    request.on("error", reject);
    request.end();
  });
}

async function timedGet(url, agent) {
  const started = process.hrtime.bigint();
  const response = await get(url, agent);
  if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

export async function routerBench() {
  const project = await benchProject("bench-router");
  try {
    const up = await project.cli(["up", "--json"]);
    const direct = `${up.urls.web}/`;
    const routed = up.urls.https;
    if (!routed) {
      const skipped = "no https URL: the local router is off or did not start";
      return [
        { name: "router: request p50 overhead vs direct port", goal: "<= 2 ms", skipped },
        { name: "router: live edit latency through https", goal: "p95 <= 100 ms", skipped },
      ];
    }
    const router = await project.cli(["router", "status", "--json"]);
    const ca = await readFile(router.caFile, "utf8");
    const plain = new HttpAgent({ keepAlive: true, maxSockets: 1 });
    const tls = new HttpsAgent({ keepAlive: true, maxSockets: 1, ca });
    // Warm both paths: php-fpm workers, opcache, the TLS session.
    for (let warm = 0; warm < 20; warm++) {
      await timedGet(direct, plain);
      await timedGet(routed, tls);
    }
    const directTimes = [];
    const routedTimes = [];
    for (let round = 0; round < REQUESTS; round++) {
      directTimes.push(await timedGet(direct, plain));
      routedTimes.push(await timedGet(routed, tls));
    }
    const directP50 = percentile(directTimes, 50);
    const routedP50 = percentile(routedTimes, 50);
    const overhead = routedP50 - directP50;

    const file = path.join(project.dir, "web", "bench-router-edit.php");
    const page = `${routed}bench-router-edit.php`;
    await writeFile(file, "<?php echo 'start';\n");
    await poll(page, tls, "start");
    const edits = [];
    for (let edit = 0; edit < 50; edit++) {
      const marker = `edit-${edit}`;
      const started = process.hrtime.bigint();
      await writeFile(file, `<?php echo '${marker}';\n`);
      await poll(page, tls, marker);
      edits.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    plain.destroy();
    tls.destroy();
    return [
      {
        name: "router: request p50 overhead vs direct port",
        ours: routedP50,
        raw: directP50,
        ratio: routedP50 / directP50,
        goal: "<= 2 ms",
        met: overhead <= 2,
        detail: `${REQUESTS} alternated GETs of the same page, kept-alive: https via router p50 ${routedP50.toFixed(2)} ms (p95 ${percentile(routedTimes, 95).toFixed(2)}), direct http p50 ${directP50.toFixed(2)} ms (p95 ${percentile(directTimes, 95).toFixed(2)}); overhead ${overhead.toFixed(2)} ms`,
      },
      {
        name: "router: live edit latency through https",
        ours: percentile(edits, 95),
        raw: undefined,
        ratio: undefined,
        goal: "p95 <= 100 ms",
        met: percentile(edits, 95) <= 100,
        detail: `50 edits: p50 ${percentile(edits, 50).toFixed(1)} ms, p95 ${percentile(edits, 95).toFixed(1)} ms, max ${Math.max(...edits).toFixed(1)} ms`,
      },
    ];
  } finally {
    await project.cli(["destroy", "--keep-images"]).catch(() => undefined);
    await project.cleanup();
  }
}

async function poll(url, agent, expected) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const response = await get(url, agent).catch(() => undefined);
    if (response?.body === expected) return;
    if (Date.now() > deadline) throw new Error(`${url} never served ${expected}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
