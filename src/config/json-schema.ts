import { z } from "zod";
import { configSchema } from "./schema.js";

// prodlike.yaml as JSON Schema (draft 2020-12), generated from the zod schema so the two
// never disagree.
export function jsonSchemaText(): string {
  const schema = z.toJSONSchema(configSchema, { io: "input", target: "draft-2020-12" });
  return `${JSON.stringify({ ...schema, $id: "https://prodlike.dev/schema/prodlike.schema.json", title: "prodlike.yaml" }, null, 2)}\n`;
}
