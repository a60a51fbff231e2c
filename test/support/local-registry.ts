import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";

// A real image registry on 127.0.0.1 for the suite: Debian's docker-registry package
// (the CNCF distribution registry), serving a folder of its own on a free port. The
// Docker engine pushes to and pulls from localhost without TLS.

export interface LocalRegistry {
  /** localhost:PORT, as images name it. */
  host: string;
  /** How many blobs (layers, configs) it stores. */
  blobCount(): Promise<number>;
  close(): Promise<void>;
}

export async function startLocalRegistry(): Promise<LocalRegistry> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "kube-wire-registry-"));
  const port = await freePort();
  const config = path.join(dir, "config.yml");
  await writeFile(
    config,
    [
      "version: 0.1",
      "log: { level: error }",
      `storage: { filesystem: { rootdirectory: ${path.join(dir, "data")} }, delete: { enabled: true } }`,
      `http: { addr: "127.0.0.1:${port}" }`,
      "",
    ].join("\n"),
  );
  const child: ChildProcess = spawn("docker-registry", ["serve", config], { stdio: "ignore" });
  const failed = new Promise<never>((_resolve, reject) =>
    child.once("error", (error) =>
      reject(
        new Error(
          `docker-registry did not start (apt-get install docker-registry): ${error.message}`,
        ),
      ),
    ),
  );
  await Promise.race([failed, waitForPort(port)]);
  return {
    host: `localhost:${port}`,
    async blobCount() {
      const blobs = path.join(dir, "data", "docker", "registry", "v2", "blobs", "sha256");
      let count = 0;
      for (const prefix of await readdir(blobs).catch(() => [])) {
        count += (await readdir(path.join(blobs, prefix))).length;
      }
      return count;
    },
    async close() {
      child.kill("SIGTERM");
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.once("error", reject);
  });
}

async function waitForPort(port: number): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`docker-registry did not listen on 127.0.0.1:${port}`);
}
