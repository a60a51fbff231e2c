// The example Node service: a greeting, a health endpoint that checks its dependencies,
// and a visit counter kept in Redis when REDIS_URL is set. No npm packages: Redis is
// spoken over a plain socket (RESP), so the example runs without `npm install`.
const http = require("node:http");
const net = require("node:net");

const MESSAGE = "hello from node-service";

function redis(command) {
  const url = process.env.REDIS_URL ? new URL(process.env.REDIS_URL) : undefined;
  if (!url) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port || 6379), url.hostname);
    const parts = command.map((part) => `$${Buffer.byteLength(part)}\r\n${part}\r\n`);
    socket.setTimeout(2000, () => socket.destroy(new Error("redis timed out")));
    socket.on("error", reject);
    socket.on("data", (data) => {
      socket.end();
      const text = data.toString();
      if (text.startsWith("-")) reject(new Error(text.slice(1).trim()));
      else resolve(text.slice(1).trim());
    });
    socket.write(`*${command.length}\r\n${parts.join("")}`);
  });
}

function postgresReachable() {
  if (!process.env.PGHOST) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const socket = net.connect(Number(process.env.PGPORT || 5432), process.env.PGHOST);
    socket.setTimeout(2000, () => socket.destroy());
    socket.on("connect", () => {
      socket.end();
      resolve(true);
    });
    socket.on("error", () => resolve(false));
    socket.on("close", () => resolve(false));
  });
}

const server = http.createServer(async (request, response) => {
  const send = (status, body) => {
    response.writeHead(status, { "content-type": "application/json" });
    response.end(`${JSON.stringify(body)}\n`);
  };
  try {
    if (request.url === "/healthz") {
      const [redisPing, postgres] = await Promise.all([redis(["PING"]), postgresReachable()]);
      const healthy = redisPing !== undefined ? redisPing === "PONG" : true;
      return send(healthy && postgres !== false ? 200 : 503, {
        redis: redisPing ?? null,
        postgres: postgres ?? null,
      });
    }
    const visits = await redis(["INCR", "visits"]);
    return send(200, { message: MESSAGE, visits: visits === undefined ? null : Number(visits) });
  } catch (error) {
    return send(503, { error: error.message });
  }
});

const port = Number(process.env.PORT || 3000);
server.listen(port, process.env.HOST || "0.0.0.0", () => {
  process.stdout.write(`node-service listening on ${port}\n`);
});
