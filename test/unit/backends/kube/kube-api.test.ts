import type { KubernetesObject } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { commandFor, exitCodeFromStatus } from "../../../../src/backends/kube/exec-session.js";
import {
  ClientNodeKubeApi,
  type ObjectClient,
  podInfo,
} from "../../../../src/backends/kube/kube-api.js";

// client-node's KubernetesObjectApi, recorded: which calls prodlike makes with which
// arguments. No API server is involved at this level.
class RecordingObjectClient implements ObjectClient {
  readonly calls: unknown[][] = [];
  notFound = false;

  async patch<T extends KubernetesObject>(spec: T, ...rest: unknown[]): Promise<T> {
    this.calls.push(["patch", spec, ...rest]);
    return spec;
  }
  async read<T extends KubernetesObject>(spec: KubernetesObject): Promise<T> {
    this.calls.push(["read", spec]);
    if (this.notFound) throw Object.assign(new Error("HTTP-Code: 404"), { code: 404 });
    return spec as T;
  }
  async delete(spec: KubernetesObject): Promise<unknown> {
    this.calls.push(["delete", spec]);
    return {};
  }
  async list(...args: unknown[]): Promise<{ items: KubernetesObject[] }> {
    this.calls.push(["list", ...args]);
    // As the API server answers: items without apiVersion and kind.
    return { items: [{ metadata: { name: "web", namespace: "shop" } }] };
  }
}

const deployment = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web", namespace: "shop" },
};

describe("ClientNodeKubeApi", () => {
  it("applies server-side as field manager prodlike, forcing conflicts", async () => {
    const client = new RecordingObjectClient();
    await new ClientNodeKubeApi(client).apply(deployment);
    expect(client.calls).toEqual([
      ["patch", deployment, undefined, undefined, "prodlike", true, "application/apply-patch+yaml"],
    ]);
  });

  it("scales with a merge patch that names the object", async () => {
    const client = new RecordingObjectClient();
    await new ClientNodeKubeApi(client).mergePatch(deployment, { spec: { replicas: 0 } });
    expect(client.calls[0]).toEqual([
      "patch",
      { ...deployment, spec: { replicas: 0 } },
      undefined,
      undefined,
      "prodlike",
      undefined,
      "application/merge-patch+json",
    ]);
  });

  it("reads an object by kind and name, undefined when the server says 404", async () => {
    const client = new RecordingObjectClient();
    const api = new ClientNodeKubeApi(client);
    expect(await api.read("apps/v1", "Deployment", "shop", "web")).toEqual(deployment);
    client.notFound = true;
    expect(await api.read("apps/v1", "Deployment", "shop", "web")).toBeUndefined();
  });

  it("gives listed items their apiVersion and kind back, so down can patch them", async () => {
    const client = new RecordingObjectClient();
    const api = new ClientNodeKubeApi(client);
    const [item] = await api.list("apps/v1", "Deployment", "shop", "prodlike.dev/env=shop-local");
    expect(item).toEqual(deployment);
    if (!item) throw new Error("no item");
    await api.mergePatch(item, { spec: { replicas: 0 } });
    expect(client.calls[1]?.[1]).toEqual({ ...deployment, spec: { replicas: 0 } });
  });

  it("lists pods by label selector", async () => {
    const client = new RecordingObjectClient();
    await new ClientNodeKubeApi(client).listPods("shop", "prodlike.dev/env=shop-local");
    expect(client.calls[0]).toEqual([
      "list",
      "v1",
      "Pod",
      "shop",
      undefined,
      undefined,
      undefined,
      undefined,
      "prodlike.dev/env=shop-local",
    ]);
  });
});

describe("exitCodeFromStatus", () => {
  it("reads the exit code from the exec channel's status", () => {
    expect(exitCodeFromStatus({ status: "Success" })).toEqual({ exitCode: 0 });
    expect(
      exitCodeFromStatus({
        status: "Failure",
        reason: "NonZeroExitCode",
        details: { causes: [{ reason: "ExitCode", message: "42" }] },
      }),
    ).toEqual({ exitCode: 42 });
  });

  it("answers a command that could not start as a shell would, with the server's words", () => {
    const notFound =
      'OCI runtime exec failed: exec: "drush": executable file not found in $PATH: unknown';
    expect(exitCodeFromStatus({ status: "Failure", message: notFound })).toEqual({
      exitCode: 127,
      message: notFound,
    });
    expect(exitCodeFromStatus({ status: "Failure", message: "container not found" })).toEqual({
      exitCode: 127,
      message: "container not found",
    });
    expect(exitCodeFromStatus({ status: "Failure", message: "exec: permission denied" })).toEqual({
      exitCode: 126,
      message: "exec: permission denied",
    });
  });
});

describe("commandFor", () => {
  it("wraps a command in the stdin decoder only for a v4 server", () => {
    expect(commandFor(["mariadb", "app"], false)).toEqual(["mariadb", "app"]);
    const framed = commandFor(["mariadb", "app"], true);
    expect(framed.slice(0, 2)).toEqual(["sh", "-c"]);
    expect(framed.slice(3)).toEqual(["prodlike-stdin", "mariadb", "app"]);
  });
});

describe("podInfo", () => {
  it("summarises container states, waiting reasons first", () => {
    expect(
      podInfo({
        metadata: { name: "web-1", labels: { a: "b" } },
        spec: { containers: [{ name: "web" }, { name: "php-fpm" }] },
        status: {
          phase: "Running",
          containerStatuses: [
            {
              name: "web",
              ready: true,
              restartCount: 0,
              image: "x",
              imageID: "x",
              state: { running: {} },
            },
            {
              name: "php-fpm",
              ready: false,
              restartCount: 4,
              image: "x",
              imageID: "x",
              state: { waiting: { reason: "CrashLoopBackOff" } },
            },
          ],
        },
      }),
    ).toEqual({
      name: "web-1",
      uid: "",
      labels: { a: "b" },
      annotations: {},
      terminating: false,
      phase: "Running",
      containers: [
        { name: "web", ready: true, state: "running", restarts: 0 },
        { name: "php-fpm", ready: false, state: "CrashLoopBackOff", restarts: 4 },
      ],
    });
  });
});
