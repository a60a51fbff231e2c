// npm run docs: writes the reference pages of docs/ that the code's own tables say (the
// command table, the error catalog, prodlike.yaml's JSON Schema), from the built dist/.
// A unit test fails when a committed page falls behind the code.
import { readFile, writeFile } from "node:fs/promises";

const root = new URL("../", import.meta.url);
const [{ commandProgram }, { commandsReference, errorsReference }, { configurationReference }] =
  await Promise.all([
    import(new URL("dist/cli/main.js", root)),
    import(new URL("dist/cli/reference-docs.js", root)),
    import(new URL("dist/config/config-docs.js", root)),
  ]);
const schema = JSON.parse(await readFile(new URL("schema/prodlike.schema.json", root), "utf8"));
const pages = {
  "docs/reference/commands.md": commandsReference(commandProgram(".").program),
  "docs/reference/errors.md": errorsReference(),
  "docs/reference/configuration.md": configurationReference(schema),
};
for (const [file, text] of Object.entries(pages)) {
  await writeFile(new URL(file, root), text);
  process.stdout.write(`wrote ${file}\n`);
}
