import { describe, expect, it } from "vitest";
import {
  cpuMillicores,
  memoryBytes,
  usageFromWorkloads,
} from "../../../../src/backends/kube/kube-usage.js";
import type { KubeObject } from "../../../../src/topology/model.js";

describe("cluster usage from requests and limits", () => {
  it("reads Kubernetes quantities", () => {
    expect(cpuMillicores("250m")).toBe(250);
    expect(cpuMillicores("2")).toBe(2000);
    expect(cpuMillicores("0.5")).toBe(500);
    expect(cpuMillicores("lots")).toBeUndefined();
    expect(memoryBytes("256Mi")).toBe(256 * 1024 * 1024);
    expect(memoryBytes("1G")).toBe(1e9);
    expect(memoryBytes("512")).toBe(512);
    expect(memoryBytes(undefined)).toBeUndefined();
  });

  it("gives each workload container's requests and memory limit", () => {
    const deployment = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web" },
      spec: {
        template: {
          spec: {
            containers: [
              {
                name: "nginx",
                resources: {
                  requests: { cpu: "100m", memory: "64Mi" },
                  limits: { memory: "128Mi" },
                },
              },
              { name: "sidecar" },
            ],
          },
        },
      },
    } as unknown as KubeObject;
    const cron = {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: "cron" },
      spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: "cron" }] } } } } },
    } as unknown as KubeObject;
    expect(usageFromWorkloads([deployment, cron])).toEqual([
      {
        service: "nginx",
        memoryLimitBytes: 128 * 1024 ** 2,
        requests: { cpuMillis: 100, memoryBytes: 64 * 1024 ** 2 },
      },
      { service: "sidecar", requests: {} },
      { service: "cron", requests: {} },
    ]);
  });
});
