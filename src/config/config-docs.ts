// docs/reference/configuration.md from prodlike.yaml's JSON Schema (itself generated from
// the zod schema): every field, its type and what it does. A field's nested fields follow
// it; records (ports, services, sources) show their value's fields under `NAME`.

interface SchemaNode {
  description?: string;
  type?: string | string[];
  enum?: unknown[];
  properties?: Record<string, SchemaNode>;
  additionalProperties?: SchemaNode | boolean;
  propertyNames?: SchemaNode;
  items?: SchemaNode;
  anyOf?: SchemaNode[];
  oneOf?: SchemaNode[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  pattern?: string;
}

export function configurationReference(schema: SchemaNode): string {
  const lines = [
    "# Configuration: `prodlike.yaml`",
    "",
    "<!-- Generated from schema/prodlike.schema.json by `npm run docs`; do not edit. -->",
    "",
    "Every field is optional. Editors validate the file against",
    "`schema/prodlike.schema.json` (`prodlike init` writes the `$schema` line); prodlike",
    "reports a wrong field with its file, line and a hint (exit 2).",
    "",
    "| field | type | what it does |",
    "| --- | --- | --- |",
  ];
  const visit = (node: SchemaNode, path: string) => {
    if (path !== "" && path !== "$schema") {
      lines.push(`| \`${path}\` | ${typeOf(node)} | ${cell(node.description ?? "")} |`);
    }
    for (const [name, child] of Object.entries(objectOf(node)?.properties ?? {})) {
      visit(child, path ? `${path}.${name}` : name);
    }
    const values = objectOf(node)?.additionalProperties;
    if (values && typeof values === "object" && objectOf(values)?.properties) {
      for (const [name, child] of Object.entries(objectOf(values)?.properties ?? {})) {
        visit(child, `${path}.NAME.${name}`);
      }
    }
    const items = node.items;
    if (items && objectOf(items)?.properties) {
      for (const [name, child] of Object.entries(objectOf(items)?.properties ?? {})) {
        visit(child, `${path}[].${name}`);
      }
    }
  };
  visit(schema, "");
  return `${lines.join("\n")}\n`;
}

// The object form of a node that may be given as a string or an object (database:).
function objectOf(node: SchemaNode): SchemaNode | undefined {
  if (node.properties || node.additionalProperties) return node;
  return [...(node.anyOf ?? []), ...(node.oneOf ?? [])].find(
    (candidate) => candidate.properties !== undefined,
  );
}

function typeOf(node: SchemaNode): string {
  if (node.enum) return node.enum.map((value) => `\`${String(value)}\``).join(", ");
  const alternatives = node.anyOf ?? node.oneOf;
  if (alternatives) return [...new Set(alternatives.map(typeOf))].join(" or ");
  if (node.type === "array") return `list of ${node.items ? typeOf(node.items) : "values"}`;
  if (node.type === "object" && node.additionalProperties && !node.properties) return "map";
  const type = Array.isArray(node.type) ? node.type.join(" or ") : (node.type ?? "value");
  const range =
    node.minimum !== undefined && node.maximum !== undefined
      ? ` ${node.minimum}–${node.maximum}`
      : "";
  return `${type}${range}`;
}

function cell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("\n", " ");
}
