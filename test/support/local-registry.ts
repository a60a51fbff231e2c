import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
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

export interface RegistryLogin {
  username: string;
  password: string;
}

// With `login`, the registry answers only that user (basic auth from an htpasswd file, as
// a team's registry behind a login does).
export async function startLocalRegistry(
  options: { login?: RegistryLogin } = {},
): Promise<LocalRegistry> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "kube-wire-registry-"));
  const port = await freePort();
  const config = path.join(dir, "config.yml");
  const htpasswd = path.join(dir, "htpasswd");
  if (options.login) {
    const { username, password } = options.login;
    await writeFile(htpasswd, `${username}:${await bcrypt(password)}\n`, { mode: 0o600 });
  }
  await writeFile(
    config,
    [
      "version: 0.1",
      "log: { level: error }",
      `storage: { filesystem: { rootdirectory: ${path.join(dir, "data")} }, delete: { enabled: true } }`,
      `http: { addr: "127.0.0.1:${port}" }`,
      ...(options.login ? [`auth: { htpasswd: { realm: prodlike-test, path: ${htpasswd} } }`] : []),
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

// docker-registry's htpasswd takes bcrypt only. Neither apache2-utils' htpasswd nor a
// bcrypt package is on the machine, and `openssl passwd` has no bcrypt; libcrypt does
// (libxcrypt, `$2b$`), and perl (essential on Debian) calls it: Python's crypt module is
// gone from 3.13.
async function bcrypt(password: string): Promise<string> {
  const alphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  // 22 characters of bcrypt's base64; the last one carries 2 bits, so "." (zero) there.
  const salt = `${[...randomBytes(21)].map((byte) => alphabet[byte % 64]).join("")}.`;
  const hash = await new Promise<string>((resolve, reject) =>
    execFile(
      "perl",
      ["-e", "print crypt($ARGV[0], $ARGV[1])", password, `$2b$10$${salt}`],
      (error, stdout) => (error ? reject(error) : resolve(stdout)),
    ),
  );
  if (!hash.startsWith("$2b$10$")) throw new Error("libcrypt made no bcrypt hash (perl crypt)");
  return hash;
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
