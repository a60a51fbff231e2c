// The example Node service: a greeting, a health endpoint that checks its dependencies,
// a visit counter kept in Redis when REDIS_URL is set, and POST /mail, which sends a
// message to SMTP_URL (as a password reset would). No npm packages: Redis and SMTP are
// spoken over plain sockets, so the example runs without `npm install`.
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

// One message through SMTP_URL: the server's greeting, then one command per reply.
function sendMail({ to, subject, text }) {
  const url = new URL(process.env.SMTP_URL || "smtp://localhost:25");
  const body = `From: node-service <app@example.com>\r\nTo: ${to}\r\nSubject: ${subject}\r\n\r\n${text}\r\n`;
  const commands = [
    "EHLO node-service",
    "MAIL FROM:<app@example.com>",
    `RCPT TO:<${to}>`,
    "DATA",
    `${body.replace(/^\./gm, "..")}.`,
    "QUIT",
  ];
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port || 25), url.hostname);
    let buffered = "";
    socket.setTimeout(5000, () => socket.destroy(new Error("SMTP timed out")));
    socket.on("error", reject);
    socket.on("close", () => reject(new Error("SMTP connection closed early")));
    socket.on("data", (data) => {
      buffered += data.toString();
      // A reply is complete at a line "NNN text" (no hyphen after the code).
      while (/^\d{3} .*\r?\n/m.test(buffered)) {
        const line = /^(\d{3}) .*\r?\n/m.exec(buffered);
        buffered = buffered.slice(line.index + line[0].length);
        if (Number(line[1]) >= 400) return socket.destroy(new Error(line[0].trim()));
        const next = commands.shift();
        if (next === undefined) {
          socket.end();
          return resolve();
        }
        socket.write(`${next}\r\n`);
      }
    });
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
    if (request.url?.startsWith("/mail") && request.method === "POST") {
      const to = new URL(request.url, "http://x").searchParams.get("to") || "someone@example.com";
      await sendMail({ to, subject: "Reset your password", text: "Follow the link to reset it." });
      return send(202, { sent: to });
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
