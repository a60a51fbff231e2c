import type { BackendName } from "../../backends/backend.js";
import { connect, SESSION_READY_LINE } from "../../core/connect.js";
import type { Output } from "../output.js";
import { services } from "./common.js";

interface ConnectFlags {
  dir: string;
  name?: string;
  backend?: BackendName;
  background: boolean;
}

// Runs until Ctrl-C (or SIGTERM: `down` stopping the background session).
export default async function connectCommand(output: Output, flags: ConnectFlags): Promise<number> {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const line = (text: string) => process.stderr.write(`${new Date().toISOString()} ${text}\n`);
  try {
    const kept = await connect(await services(), {
      dir: flags.dir,
      name: flags.name,
      backend: flags.backend,
      background: flags.background === true,
      signal: stop.signal,
      onLine: line,
      onReady: () => line(flags.background ? SESSION_READY_LINE : "ready (Ctrl-C stops)"),
    });
    output.result("connect", { kept }, () =>
      kept ? "Stopped." : "Nothing to keep open: this backend's ports and code need no session.",
    );
    return 0;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
