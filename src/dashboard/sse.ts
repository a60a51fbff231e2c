import type { ServerResponse } from "node:http";

// Server-sent events: one long response per subscription, a `data:` line per message.
// A comment every 15 s keeps proxies (the local router) from closing an idle stream.

const HEARTBEAT_MS = 15_000;

export class EventStream {
  private readonly heartbeat: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly response: ServerResponse,
    headers: Readonly<Record<string, string>>,
    onClose: () => void,
  ) {
    response.writeHead(200, {
      ...headers,
      "Content-Type": "text/event-stream; charset=utf-8",
      Connection: "keep-alive",
      "X-Accel-Buffering": "no",
    });
    response.write(": prodlike\n\n");
    this.heartbeat = setInterval(() => response.write(": ping\n\n"), HEARTBEAT_MS);
    this.heartbeat.unref();
    response.on("close", () => {
      this.closed = true;
      clearInterval(this.heartbeat);
      onClose();
    });
  }

  /** Sends one message; JSON never holds a raw newline, so it is one `data:` line. */
  send(message: unknown): void {
    if (this.closed) return;
    this.response.write(`data: ${JSON.stringify(message)}\n\n`);
  }

  close(): void {
    this.response.end();
  }
}
