// Writes schema/prodlike.schema.json from the zod schema in src/config/schema.ts, for
// editors (yaml-language-server). A unit test fails when the committed file is stale.
import { writeFile } from "node:fs/promises";
import { jsonSchemaText } from "../dist/config/json-schema.js";

const target = new URL("../schema/prodlike.schema.json", import.meta.url);
await writeFile(target, jsonSchemaText());
process.stdout.write(`wrote ${target.pathname}\n`);
