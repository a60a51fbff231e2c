import { describe, expect, it } from "vitest";
import { deploymentRollout, statefulSetRollout } from "../../../../src/backends/kube/rollout.js";

const deployment = (status: Record<string, unknown>, generation = 2, replicas = 1) => ({
  metadata: { name: "web", generation },
  spec: { replicas, selector: {}, template: {} },
  status,
});

describe("deploymentRollout (kubectl's rules)", () => {
  it("waits until the controller has seen the new spec", () => {
    expect(deploymentRollout(deployment({ observedGeneration: 1 })).phase).toBe("progressing");
  });

  it("fails when the progress deadline passed", () => {
    const state = deploymentRollout(
      deployment({
        observedGeneration: 2,
        conditions: [{ type: "Progressing", status: "False", reason: "ProgressDeadlineExceeded" }],
      }),
    );
    expect(state).toEqual({ phase: "failed", message: "web: exceeded its progress deadline" });
  });

  it("waits for updated, then old replicas gone, then available", () => {
    expect(
      deploymentRollout(deployment({ observedGeneration: 2, updatedReplicas: 0 })).message,
    ).toBe("web: 0 of 1 updated replicas");
    expect(
      deploymentRollout(deployment({ observedGeneration: 2, updatedReplicas: 1, replicas: 2 }))
        .message,
    ).toBe("web: 1 old replicas pending termination");
    expect(
      deploymentRollout(
        deployment({
          observedGeneration: 2,
          updatedReplicas: 1,
          replicas: 1,
          availableReplicas: 0,
        }),
      ).message,
    ).toBe("web: 0 of 1 available");
    expect(
      deploymentRollout(
        deployment({
          observedGeneration: 2,
          updatedReplicas: 1,
          replicas: 1,
          availableReplicas: 1,
        }),
      ).phase,
    ).toBe("done");
  });

  it("is done at once for a deployment scaled to zero", () => {
    expect(deploymentRollout(deployment({ observedGeneration: 2 }, 2, 0)).phase).toBe("done");
  });
});

const statefulSet = (status: Record<string, unknown>, spec: Record<string, unknown> = {}) => ({
  metadata: { name: "db", generation: 3 },
  spec: { replicas: 1, serviceName: "db", selector: {}, template: {}, ...spec },
  status: { replicas: 1, ...status },
});

describe("statefulSetRollout (kubectl's rules)", () => {
  it("waits for observation, readiness, then the current revision", () => {
    expect(statefulSetRollout(statefulSet({ observedGeneration: 2 })).phase).toBe("progressing");
    expect(
      statefulSetRollout(statefulSet({ observedGeneration: 3, readyReplicas: 0 })).message,
    ).toBe("db: 0 of 1 pods ready");
    expect(
      statefulSetRollout(
        statefulSet({
          observedGeneration: 3,
          readyReplicas: 1,
          currentRevision: "db-1",
          updateRevision: "db-2",
        }),
      ).phase,
    ).toBe("progressing");
    expect(
      statefulSetRollout(
        statefulSet({
          observedGeneration: 3,
          readyReplicas: 1,
          currentRevision: "db-2",
          updateRevision: "db-2",
        }),
      ).phase,
    ).toBe("done");
  });

  it("honours a partition and does not watch OnDelete sets", () => {
    expect(
      statefulSetRollout(
        statefulSet(
          { observedGeneration: 3, readyReplicas: 2, updatedReplicas: 1 },
          {
            replicas: 2,
            updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 1 } },
          },
        ),
      ).phase,
    ).toBe("done");
    expect(
      statefulSetRollout(statefulSet({}, { updateStrategy: { type: "OnDelete" } })).phase,
    ).toBe("done");
  });
});
