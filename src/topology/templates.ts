import { ProdlikeError } from "../errors/prodlike-error.js";

export type TemplateValues = Readonly<Record<string, string>>;

const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}/g;

// Fills `{{name}}` placeholders. An unknown name is a preset bug, reported with where it
// was found rather than rendered as an empty string.
export function fillTemplate(text: string, values: TemplateValues, where: string): string {
  return text.replace(PLACEHOLDER, (_match, key: string) => {
    const value = values[key];
    if (value === undefined) {
      throw new ProdlikeError("INTERNAL", `${where}: unknown template value {{${key}}}`, {
        hint: `Known values: ${Object.keys(values).sort().join(", ")}`,
      });
    }
    return value;
  });
}

export function fillRecord(
  record: Readonly<Record<string, string>>,
  values: TemplateValues,
  where: string,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(record).map(([key, value]) => [
      key,
      fillTemplate(value, values, `${where}.${key}`),
    ]),
  );
}
