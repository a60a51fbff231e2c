// What bin/prodlike.cjs runs: the module `npm run build` bundles into dist/prodlike.cjs
// (scripts/bundle-cli.js). `status` and `ls` in their plain forms start on quick.ts
// alone; main.ts (commander and every command's definition) is loaded only for the rest.
export { quickCommand, runQuick } from "./quick.js";

export async function main(argv: string[]): Promise<number> {
  const { main: run } = await import("./main.js");
  return run(argv);
}
