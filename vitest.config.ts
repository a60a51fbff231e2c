import { defineConfig } from "vitest/config";

// Two projects: `unit` is pure logic with fakes and runs anywhere; `integration` drives a
// real Docker engine and runs one file at a time (the engine and this 2-core machine are
// shared, and the files create and destroy real environments).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          environment: "node",
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          environment: "node",
          testTimeout: 600_000,
          hookTimeout: 900_000,
          fileParallelism: false,
          sequence: { concurrent: false },
        },
      },
    ],
  },
});
