// Views cannot move between databases with RENAME TABLE (the switch of an import moves
// base tables only), and the server stores a view's query with its tables qualified by
// the database it was created in. So a view loaded into the staging database is
// re-created in the live one from its stored definition, retargeted, after the switch.

/** A view as the server describes it (information_schema.views). */
export interface StoredView {
  name: string;
  definition: string;
  algorithm: string;
  security: string;
  checkOption: string;
}

/**
 * CREATE statements for `views` of database `from`, made in `to`, each after the views
 * it reads from (a view over a view fails if the inner one does not exist yet).
 */
export function recreateViewStatements(views: StoredView[], from: string, to: string): string[] {
  const retarget = (text: string) =>
    text.split(`\`${identifier(from)}\`.`).join(`\`${identifier(to)}\`.`);
  const statements = new Map(
    views.map((view) => {
      const check = view.checkOption === "NONE" ? "" : ` WITH ${view.checkOption} CHECK OPTION`;
      return [
        view.name,
        `CREATE OR REPLACE ALGORITHM=${view.algorithm} SQL SECURITY ${view.security} VIEW \`${identifier(to)}\`.\`${identifier(view.name)}\` AS ${retarget(view.definition)}${check};`,
      ] as const;
    }),
  );
  const readsFrom = (view: StoredView) =>
    views.filter(
      (other) =>
        other.name !== view.name && view.definition.includes(`\`${identifier(other.name)}\``),
    );
  const ordered: string[] = [];
  const placed = new Set<string>();
  const place = (view: StoredView, path: Set<string>) => {
    if (placed.has(view.name) || path.has(view.name)) return;
    path.add(view.name);
    for (const inner of readsFrom(view)) place(inner, path);
    placed.add(view.name);
    ordered.push(statements.get(view.name) ?? "");
  };
  for (const view of views) place(view, new Set());
  return ordered;
}

function identifier(name: string): string {
  return name.replace(/`/g, "``");
}
