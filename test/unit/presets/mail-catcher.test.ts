import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { connect, createServer, type Socket } from "node:net";
import os from "node:os";
import path from "node:path";
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
let store = "";
/** The store's bound, in MB, as the test starts it (small, to fill it). */
const STORE_MB = 2;

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

async function start(): Promise<void> {
  catcher = spawn(process.execPath, [SCRIPT], {
    env: {
      ...process.env,
      SMTP_PORT: String(smtpPort),
      HTTP_PORT: String(httpPort),
      LISTEN_HOST: "127.0.0.1",
      STORE_DIR: store,
      MAX_STORE_MB: String(STORE_MB),
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
}

beforeAll(async () => {
  [smtpPort, httpPort] = [await freePort(), await freePort()];
  store = await mkdtemp(path.join(os.tmpdir(), "prodlike-mail-store-"));
  await start();
});

afterAll(async () => {
  catcher?.kill();
  await rm(store, { recursive: true, force: true });
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

  it("keeps messages on disk within its bound, dropping the oldest, and reads them back", async () => {
    const big = (subject: string) =>
      converse([
        "EHLO test",
        "MAIL FROM:<app@example.com>",
        "RCPT TO:<user@example.com>",
        "DATA",
        `Subject: ${subject}\r\nTo: user@example.com\r\n\r\n${"0123456789abcdef"
          .repeat(4096)
          .match(/.{1,76}/g)
          ?.join("\r\n")}\r\n.`,
        "QUIT",
      ]);
    // 64 KB each, 40 of them: 2.5 MB into a 2 MB store.
    for (let index = 0; index < 40; index++) expect(await big(`big ${index}`)).toContain("250");
    const { messages: kept } = await messages();
    const subjects = kept.map((message) => message.Subject);
    expect(subjects).toContain("big 39");
    expect(subjects).not.toContain("big 0");
    const files = (await readdir(store)).filter((name) => name.endsWith(".eml"));
    expect(files.length).toBe(kept.length);
    expect(files.length * 64 * 1024).toBeLessThanOrEqual(STORE_MB * 1024 * 1024 + 64 * 1024);
    const newest = (await messages()).messages[0] as unknown as { ID: string };
    const whole = (await (
      await fetch(`http://127.0.0.1:${httpPort}/api/v1/message/${newest.ID}`)
    ).json()) as { Subject: string; Text: string };
    expect(whole.Subject).toBe("big 39");
    expect(whole.Text.length).toBeGreaterThan(60_000);
  });

  it("has its messages back after a restart", async () => {
    const before = (await messages()).messages.map((message) => message.Subject);
    catcher.kill();
    await new Promise((resolve) => catcher.once("exit", resolve));
    await start();
    expect((await messages()).messages.map((message) => message.Subject)).toEqual(before);
    await fetch(`http://127.0.0.1:${httpPort}/api/v1/messages`, { method: "DELETE" });
    expect((await readdir(store)).filter((name) => name.endsWith(".eml"))).toEqual([]);
  });

  it("shows a large message's start and streams its whole source, never holding it whole", async () => {
    const body = `${"a".repeat(76)}\r\n`.repeat(30_000);
    const reply = await converse([
      "EHLO test",
      "MAIL FROM:<app@example.com>",
      "RCPT TO:<user@example.com>",
      "DATA",
      `Subject: large\r\nTo: user@example.com\r\n\r\n${body}.`,
      "QUIT",
    ]);
    expect(reply).toContain("250 OK: captured");
    const newest = (await messages()).messages[0] as unknown as { ID: string; Size: number };
    expect(newest.Size).toBeGreaterThan(2_000_000);
    const shown = (await (
      await fetch(`http://127.0.0.1:${httpPort}/api/v1/message/${newest.ID}`)
    ).json()) as { Text: string; Truncated?: boolean };
    expect(shown.Truncated).toBe(true);
    expect(shown.Text.length).toBeLessThanOrEqual(1024 * 1024);
    const raw = await (
      await fetch(`http://127.0.0.1:${httpPort}/api/v1/message/${newest.ID}/raw`)
    ).text();
    expect(raw.length).toBe(newest.Size);
  });
});
