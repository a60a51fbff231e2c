import { type ChildProcess, spawn } from "node:child_process";
import { connect, createServer, type Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// The mail catcher's own script (presets/_shared/images/mail), run on 127.0.0.1 as its
// container runs it: concurrent senders, and clients that break the protocol, answered
// and cut off while the messages already caught stay readable.

const SCRIPT = fileURLToPath(
  new URL("../../../presets/_shared/images/mail/prodlike-mail.mjs", import.meta.url),
);

let catcher: ChildProcess;
let smtpPort = 0;
let httpPort = 0;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** One SMTP conversation: each line sent after the previous reply; all replies back. */
function converse(lines: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(smtpPort, "127.0.0.1");
    let replies = "";
    const queue = [...lines];
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      replies += chunk;
      if (!/^\d{3} .*\r\n$/m.test(chunk)) return;
      const next = queue.shift();
      if (next === undefined) socket.end();
      else socket.write(`${next}\r\n`);
    });
    socket.on("close", () => resolve(replies));
    socket.on("error", reject);
  });
}

const messages = async () =>
  (await (await fetch(`http://127.0.0.1:${httpPort}/api/v1/messages`)).json()) as {
    total: number;
    messages: { Subject: string }[];
  };

function send(subject: string): Promise<string> {
  return converse([
    "EHLO test",
    "MAIL FROM:<app@example.com>",
    "RCPT TO:<user@example.com>",
    "DATA",
    `Subject: ${subject}\r\nTo: user@example.com\r\n\r\nbody\r\n.`,
    "QUIT",
  ]);
}

beforeAll(async () => {
  [smtpPort, httpPort] = [await freePort(), await freePort()];
  catcher = spawn(process.execPath, [SCRIPT], {
    env: {
      ...process.env,
      SMTP_PORT: String(smtpPort),
      HTTP_PORT: String(httpPort),
      LISTEN_HOST: "127.0.0.1",
    },
    stdio: "ignore",
  });
  const deadline = Date.now() + 10_000;
  for (;;) {
    const live = await fetch(`http://127.0.0.1:${httpPort}/livez`).catch(() => undefined);
    if (live?.ok) break;
    if (Date.now() > deadline) throw new Error("the catcher did not start");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
});

afterAll(() => {
  catcher?.kill();
});

describe("the mail catcher", () => {
  it("keeps every message of ten senders at once", async () => {
    const replies = await Promise.all(
      Array.from({ length: 10 }, (_, index) => send(`concurrent ${index}`)),
    );
    for (const reply of replies) expect(reply).toContain("250 OK: captured");
    const subjects = (await messages()).messages.map((message) => message.Subject);
    for (let index = 0; index < 10; index++) expect(subjects).toContain(`concurrent ${index}`);
  });

  it("refuses DATA before a recipient", async () => {
    expect(await converse(["EHLO test", "MAIL FROM:<a@example.com>", "DATA", "QUIT"])).toContain(
      "503 RCPT first",
    );
  });

  it("cuts off a client that never ends its line, and keeps serving", async () => {
    const before = (await messages()).total;
    const reply = await new Promise<string>((resolve) => {
      const socket = connect(smtpPort, "127.0.0.1");
      let text = "";
      socket.setEncoding("latin1");
      socket.on("data", (chunk: string) => {
        text += chunk;
      });
      socket.on("close", () => resolve(text));
      socket.on("error", () => resolve(text));
      socket.write("X".repeat(64 * 1024));
    });
    expect(reply).toContain("500 Line too long");
    expect((await messages()).total).toBe(before);
    expect(await send("after a long line")).toContain("250 OK: captured");
  });

  it("survives binary garbage and a client gone in the middle of DATA, keeping nothing half-sent", async () => {
    const before = (await messages()).total;
    await new Promise<void>((resolve) => {
      const socket = connect(smtpPort, "127.0.0.1", () => {
        socket.write(Buffer.from([0, 255, 13, 10, 7, 0, 200, 13, 10]));
        socket.write(
          "EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nSubject: cut\r\n\r\nhalf",
        );
        setTimeout(() => socket.destroy(), 100);
      });
      socket.on("close", () => resolve());
      socket.on("error", () => resolve());
    });
    expect((await messages()).total).toBe(before);
    expect(await send("after garbage")).toContain("250 OK: captured");
  });
});
