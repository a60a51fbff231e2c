import net from "node:net";
import type { V1Probe } from "@kubernetes/client-node";
import type { ContainerProcess, ExecExit } from "./runtime.js";

// One run of a container probe as the kubelet makes it: a command in the container (exit
// 0), an HTTP GET (200-399) or a TCP connect to the pod's address, within timeoutSeconds.
// Resolves undefined when it passed, else why it failed in the kubelet's words.

export interface ProbeTarget {
  exec(command: readonly string[]): Promise<ContainerProcess>;
  ip(): Promise<string>;
}

export async function runProbe(probe: V1Probe, target: ProbeTarget): Promise<string | undefined> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  try {
    if (probe.exec?.command) {
      const run = await target.exec(probe.exec.command);
      let output = "";
      run.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
      run.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
      const exit = await Promise.race([
        run.exited,
        new Promise<ExecExit>((resolve) =>
          setTimeout(
            () => resolve({ error: `command timed out after ${timeoutMs / 1000}s` }),
            timeoutMs,
          ),
        ),
      ]);
      if ("error" in exit) return exit.error;
      return exit.exitCode === 0 ? undefined : `${output.trim()} (exit ${exit.exitCode})`.trim();
    }
    const ip = await target.ip();
    const port = Number(probe.httpGet?.port ?? probe.tcpSocket?.port);
    if (probe.httpGet) {
      const response = await fetch(`http://${ip}:${port}${probe.httpGet.path ?? "/"}`, {
        signal: AbortSignal.timeout(timeoutMs),
        redirect: "manual",
      });
      await response.arrayBuffer();
      return response.status >= 200 && response.status < 400
        ? undefined
        : `HTTP probe failed with statuscode: ${response.status}`;
    }
    if (probe.tcpSocket) {
      await new Promise<void>((resolve, reject) => {
        const socket = net.connect(port, ip, () => {
          socket.destroy();
          resolve();
        });
        socket.setTimeout(timeoutMs, () => socket.destroy(new Error("timeout")));
        socket.once("error", reject);
      });
    }
    return undefined;
  } catch (error) {
    return String(error instanceof Error ? error.message : error);
  }
}
