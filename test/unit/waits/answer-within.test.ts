import { describe, expect, it } from "vitest";
import { answerWithin } from "../../../src/waits/answer-within.js";

describe("answerWithin", () => {
  it("gives the answer that comes in time", async () => {
    await expect(answerWithin(Promise.resolve(42), 1_000, "team-a")).resolves.toBe(42);
  });

  it("says who gave no answer when it does not come", async () => {
    const never = new Promise<never>(() => undefined);
    await expect(answerWithin(never, 20, "team-a")).rejects.toThrow(
      "no answer from team-a within 0.02 s",
    );
  });

  it("passes the work's own failure through", async () => {
    await expect(answerWithin(Promise.reject(new Error("refused")), 1_000, "x")).rejects.toThrow(
      "refused",
    );
  });
});
