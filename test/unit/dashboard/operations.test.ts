import { describe, expect, it } from "vitest";
import { errorView, OperationRunner } from "../../../src/dashboard/operation-runner.js";
import { RecordedProgress } from "../../../src/dashboard/recorded-progress.js";
import type { OperationView } from "../../../src/dashboard/wire.js";
import { ProdlikeError } from "../../../src/errors/prodlike-error.js";

describe("RecordedProgress", () => {
  it("keeps the steps as the terminal's task list would show them", async () => {
    let changes = 0;
    const progress = new RecordedProgress(() => {
      changes += 1;
    });
    await progress.run([
      {
        title: "Build images",
        run: async (context) => {
          context.update("step 3/9");
          context.setTitle("Images up to date");
        },
      },
      {
        title: "Start",
        concurrent: true,
        children: [{ title: "web" }, { title: "db" }],
      },
    ]);
    progress.warn("careful");
    expect(progress.steps).toEqual([
      { title: "Images up to date", state: "done", detail: "step 3/9", children: [] },
      {
        title: "Start",
        state: "done",
        children: [
          { title: "web", state: "done", children: [] },
          { title: "db", state: "done", children: [] },
        ],
      },
    ]);
    expect(progress.messages).toEqual([{ level: "warn", text: "careful" }]);
    expect(changes).toBeGreaterThan(5);
  });

  it("marks the step that failed and rethrows", async () => {
    const progress = new RecordedProgress(() => undefined);
    await expect(
      progress.run([
        { title: "ok" },
        {
          title: "boom",
          run: async () => {
            throw new Error("no");
          },
        },
        { title: "never" },
      ]),
    ).rejects.toThrow("no");
    expect(progress.steps.map((step) => step.state)).toEqual(["done", "failed", "pending"]);
  });
});

describe("OperationRunner", () => {
  it("publishes an operation from start to end, with the error as the CLI says it", async () => {
    const published: OperationView[] = [];
    const finished: string[] = [];
    const runner = new OperationRunner(
      (operation) => published.push(structuredClone(operation)),
      (operation) => finished.push(operation.envId),
    );
    const started = runner.start("shop-local", "snapshot-create", async (progress) => {
      await progress.run([{ title: "Snapshot the database" }]);
      throw new ProdlikeError("ENV_BUSY", "shop-local is locked", { hint: "wait" });
    });
    expect(started.state).toBe("running");
    await new Promise((resolve) => setTimeout(resolve, 200));
    const last = published.at(-1);
    expect(last).toMatchObject({
      envId: "shop-local",
      action: "snapshot-create",
      state: "failed",
      error: { code: "ENV_BUSY", message: "shop-local is locked", hint: "wait" },
      steps: [{ title: "Snapshot the database", state: "done" }],
    });
    expect(runner.get(started.id)?.state).toBe("failed");
    expect(finished).toEqual(["shop-local"]);
  });

  it("reports anything else as INTERNAL, and a system error by its code", () => {
    expect(errorView(new Error("kaboom"))).toMatchObject({ code: "INTERNAL", message: "kaboom" });
    const full = Object.assign(new Error("ENOSPC: no space left"), { code: "ENOSPC", path: "/x" });
    expect(errorView(full).code).toBe("DISK_FULL");
  });
});
