import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { PassThrough, Readable, Writable } from "node:stream";
import { KubeConfig, type KubernetesObject, PortForward, Watch } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClientNodeKubeApi, type KubeApi } from "../../src/backends/kube/kube-api.js";
import { EXEC_PROTOCOLS_V4, EXEC_PROTOCOLS_V5 } from "../support/kube-wire/channels.js";
import { KubeWireServer } from "../support/kube-wire/server.js";

// prodlike's Kubernetes adapter (client-node underneath, unchanged) against the wire-level
// API server double: exec and logs over the real protocols, on a server that negotiates
// v4.channel.k8s.io only (Kubernetes before 1.29: no way to say stdin ended) and on one
// that negotiates v5. Pods run as processes on this machine.

const NAMESPACE = "wire";
const MAIN = ["sh", "-c", "echo started; for i in 1 2 3 4; do echo line$i; done; exec sleep 600"];

async function podNamed(api: KubeApi, app: string): Promise<string> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const pod = (await api.listPods(NAMESPACE, `app=${app}`)).find(
      (candidate) => candidate.containers[0]?.state === "running",
    );
    if (pod) return pod.name;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`pod of ${app} never ran`);
}

function deployment(name: string, command: string[], extra: Record<string, unknown> = {}) {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: NAMESPACE },
    spec: {
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: "shell", image: "wire.test/shell", command, ...extra }] },
      },
    },
  };
}

function collector() {
  let text = "";
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString("utf8");
      done();
    },
  });
  return { stream, text: () => text };
}

for (const [label, protocols] of [
  ["v4", EXEC_PROTOCOLS_V4],
  ["v5", EXEC_PROTOCOLS_V5],
] as const) {
  describe(`the Kubernetes adapter on a ${label} server`, () => {
    let server: KubeWireServer;
    let dir: string;
    let api: KubeApi;
    let pod: string;

    beforeAll(async () => {
      server = await KubeWireServer.start({ execProtocols: protocols });
      dir = await mkdtemp(path.join(os.tmpdir(), "kube-wire-test-"));
      const kubeconfig = path.join(dir, "kubeconfig");
      await server.writeKubeconfig(kubeconfig);
      api = await ClientNodeKubeApi.connect(kubeconfig, "wire");
      await api.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: NAMESPACE } });
      await api.apply(deployment("main", MAIN));
      pod = await podNamed(api, "main");
    });

    afterAll(async () => {
      await server?.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    const exec = async (command: string[], stdin: Readable | null, tty = false) => {
      const out = collector();
      const err = collector();
      const code = await api.exec(NAMESPACE, pod, "shell", command, {
        stdin,
        stdout: out.stream,
        stderr: err.stream,
        tty,
      });
      return { code, stdout: out.text(), stderr: err.text() };
    };

    it("passes exit codes 0, 4 and 137 (killed) through, stdin at EOF", async () => {
      for (const [script, code] of [
        ["echo hi", 0],
        ["echo hi; exit 4", 4],
        ["echo hi; kill -9 $$", 137],
      ] as const) {
        const result = await exec(["sh", "-c", script], Readable.from([]));
        expect({ code: result.code, stdout: result.stdout }).toEqual({ code, stdout: "hi\n" });
      }
    });

    it("runs without stdin, stderr apart", async () => {
      const result = await exec(["sh", "-c", "echo out; echo err >&2; exit 3"], null);
      expect(result).toEqual({ code: 3, stdout: "out\n", stderr: "err\n" });
    });

    it("streams piped stdin to the command, which sees it end", async () => {
      const lines = Array.from({ length: 2000 }, (_, index) => `row ${index}\n`);
      const result = await exec(["sh", "-c", "wc -l; echo done"], Readable.from(lines));
      expect(result.stdout.trim().split("\n")).toEqual(["2000", "done"]);
      expect(result.code).toBe(0);
      // v4 never closed the socket for it: the decoder gave the command its EOF.
      expect(server.sessions.at(-1)).toMatchObject({
        protocol: protocols[0],
        stdinClosed: label === "v4" ? undefined : "signal",
      });
    });

    it("delivers binary stdin larger than a frame unchanged", async () => {
      const bytes = randomBytes(3 * 1024 * 1024 + 17);
      const result = await exec(
        ["sha256sum"],
        Readable.from([bytes.subarray(0, 100_000), bytes.subarray(100_000)]),
      );
      expect(result.stdout.split(" ")[0]).toBe(createHash("sha256").update(bytes).digest("hex"));
    });

    it("settles when the command ends while stdin stays open", async () => {
      const open = new PassThrough();
      const result = await exec(["sh", "-c", "echo hi; exit 4"], open);
      expect(result).toMatchObject({ code: 4, stdout: "hi\n" });
      expect(open.listenerCount("data")).toBe(0);
    });

    it("runs a command on a terminal and returns its exit code", async () => {
      const keys = new PassThrough();
      const running = exec(["sh"], keys, true);
      keys.write("echo typed-$((1+1))\n");
      keys.write("exit 5\n");
      const result = await running;
      expect(result.code).toBe(5);
      expect(result.stdout).toContain("typed-2");
    });

    it("says why a command could not start", async () => {
      const result = await exec(["no-such-command-here"], null);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain("executable file not found");
    });

    it("says so when the server refuses the exec (no such container), with its answer", async () => {
      const out = collector();
      await expect(
        api.exec(NAMESPACE, pod, "no-such-container", ["true"], {
          stdin: null,
          stdout: out.stream,
          stderr: out.stream,
          tty: false,
        }),
      ).rejects.toMatchObject({ code: "COMMAND_FAILED", hint: expect.stringContaining("400") });
    });

    it("prints logs, the last lines only with a tail", async () => {
      const all = collector();
      await api.logs(NAMESPACE, pod, "shell", all.stream, { follow: false, tail: -1 });
      expect(all.text()).toBe("started\nline1\nline2\nline3\nline4\n");
      const tail = collector();
      await api.logs(NAMESPACE, pod, "shell", tail.stream, { follow: false, tail: 2 });
      expect(tail.text()).toBe("line3\nline4\n");
    });

    it("follows logs until the container's stream ends", async () => {
      await api.apply(
        deployment("short", ["sh", "-c", "echo one; sleep 0.5; echo two; sleep 0.5; exit 0"]),
      );
      const short = await podNamed(api, "short");
      const followed = collector();
      await api.logs(NAMESPACE, short, "shell", followed.stream, { follow: true, tail: -1 });
      expect(followed.text()).toBe("one\ntwo\n");
    });
  });
}

describe("the wire double's other endpoints, through client-node", () => {
  let server: KubeWireServer;
  let dir: string;
  let config: KubeConfig;

  beforeAll(async () => {
    server = await KubeWireServer.start();
    dir = await mkdtemp(path.join(os.tmpdir(), "kube-wire-test-"));
    const kubeconfig = path.join(dir, "kubeconfig");
    await server.writeKubeconfig(kubeconfig);
    config = new KubeConfig();
    config.loadFromFile(kubeconfig);
  });

  afterAll(async () => {
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("refuses a request without the kubeconfig's token", async () => {
    const response = await server.request("/api/v1/namespaces", { token: "wrong" });
    expect(response.status).toBe(401);
    expect(JSON.parse(response.body)).toMatchObject({ kind: "Status", reason: "Unauthorized" });
  });

  it("server-side apply: a 422 for an immutable field, a 409 for another manager's field", async () => {
    const api = await ClientNodeKubeApi.connect(path.join(dir, "kubeconfig"), "wire");
    const claim = {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: "data", namespace: "default" },
      spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
    };
    await api.apply(claim);
    await expect(
      api.apply({
        ...claim,
        spec: { ...claim.spec, accessModes: ["ReadWriteMany"] },
      } as KubernetesObject),
    ).rejects.toMatchObject({ code: 422 });
    const objects = await ClientNodeKubeApi.objectClient(path.join(dir, "kubeconfig"), "wire");
    const map = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "owned", namespace: "default" },
      data: { key: "one" },
    };
    await objects.patch(
      map,
      undefined,
      undefined,
      "someone-else",
      false,
      "application/apply-patch+yaml",
    );
    await expect(
      objects.patch(
        { ...map, data: { key: "two" } },
        undefined,
        undefined,
        "prodlike",
        false,
        "application/apply-patch+yaml",
      ),
    ).rejects.toMatchObject({ code: 409 });
    await api.apply({ ...map, data: { key: "two" } } as KubernetesObject);
    expect(
      (
        await api.read<{ data: Record<string, string> } & typeof map>(
          "v1",
          "ConfigMap",
          "default",
          "owned",
        )
      )?.data,
    ).toEqual({ key: "two" });
  });

  it("watches from a resourceVersion: the changes after it, then new ones", async () => {
    const api = await ClientNodeKubeApi.connect(path.join(dir, "kubeconfig"), "wire");
    const map = (value: string) => ({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "watched", namespace: "default", labels: { watched: "yes" } },
      data: { value },
    });
    await api.apply(map("1"));
    const list = JSON.parse(
      (await server.request("/api/v1/namespaces/default/configmaps")).body,
    ) as {
      metadata: { resourceVersion: string };
    };
    await api.apply(map("2"));
    const seen: string[] = [];
    const done = new Promise<void>((resolve, reject) => {
      void new Watch(config)
        .watch(
          "/api/v1/namespaces/default/configmaps",
          { resourceVersion: list.metadata.resourceVersion, labelSelector: "watched=yes" },
          (type, object: { data?: { value?: string } }) => {
            seen.push(`${type} ${object.data?.value}`);
            if (seen.length === 2) resolve();
          },
          (error) => (error ? reject(error) : undefined),
        )
        .then(() => api.apply(map("3")));
    });
    await done;
    expect(seen).toEqual(["MODIFIED 2", "MODIFIED 3"]);
  });

  it("forwards a pod's port over the port-forward channels", async () => {
    const echo = net.createServer((socket) => socket.pipe(socket));
    await new Promise<void>((resolve) => echo.listen(0, "127.0.0.1", resolve));
    const port = (echo.address() as net.AddressInfo).port;
    try {
      const api = await ClientNodeKubeApi.connect(path.join(dir, "kubeconfig"), "wire");
      await api.apply(deployment("forwarded", ["sleep", "600"], {}));
      await api.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: NAMESPACE } });
      const pod = await podNamed(api, "forwarded");
      const received = new PassThrough();
      const input = new PassThrough();
      const socket = await new PortForward(config).portForward(
        NAMESPACE,
        pod,
        [port],
        received,
        null,
        input,
      );
      input.write("ping over the tunnel");
      const echoed = await new Promise<string>((resolve) =>
        received.once("data", (chunk: Buffer) => resolve(chunk.toString("utf8"))),
      );
      expect(echoed).toBe("ping over the tunnel");
      (socket as { close(): void }).close();
    } finally {
      echo.close();
    }
  });
});

describe("a log stream the API server cuts off", () => {
  it("ends logs -f with a typed error, never a hang or a crash", async () => {
    const server = await KubeWireServer.start();
    const dir = await mkdtemp(path.join(os.tmpdir(), "kube-wire-test-"));
    try {
      const kubeconfig = path.join(dir, "kubeconfig");
      await server.writeKubeconfig(kubeconfig);
      const api = await ClientNodeKubeApi.connect(kubeconfig, "wire");
      await api.apply(deployment("endless", ["sh", "-c", "echo first; exec sleep 600"]));
      const pod = await podNamed(api, "endless");
      const followed = collector();
      const following = api.logs(NAMESPACE, pod, "shell", followed.stream, {
        follow: true,
        tail: -1,
      });
      for (let attempt = 0; attempt < 100 && !followed.text(); attempt += 1)
        await new Promise((resolve) => setTimeout(resolve, 20));
      server.cutConnections();
      await expect(following).rejects.toMatchObject({ code: "COMMAND_FAILED" });
      expect(followed.text()).toBe("first\n");
    } finally {
      await server.close().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    }
  });
});
