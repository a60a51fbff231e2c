// The layers docs/architecture.md draws, by top folder of src/ (the layers test checks the
// imports against them; the docs test checks the page names each with its rank).

/** Higher imports lower; equal ranks may import each other (but never in a cycle). */
export const RANK: Record<string, number> = {
  cli: 10,
  dashboard: 9,
  core: 8,
  db: 7,
  parity: 7,
  files: 7,
  images: 7,
  backends: 6,
  mirror: 5,
  router: 5,
  env: 5,
  topology: 4,
  kube: 4,
  config: 3,
  state: 2,
  errors: 1,
  ui: 1,
  waits: 1,
  process: 1,
  "version.ts": 1,
  "package-files.ts": 1,
};
