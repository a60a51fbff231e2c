import { PHP_SUITES, PHP_VERSIONS, type PhpVersion } from "./vocabulary.js";

// `prodlike init`: the PHP a Composer project asks for, as a version prodlike builds.
// composer.json's `config.platform.php` (what the team pinned its lock file to) wins over
// `require.php` (a constraint: the newest offered version that satisfies it).

export type ComposerPhp =
  | { php: PhpVersion; from: string }
  | { php: undefined; from: string }
  | undefined;

export function phpFromComposer(composer: Record<string, unknown> | undefined): ComposerPhp {
  const platform = (composer?.config as { platform?: { php?: unknown } } | undefined)?.platform
    ?.php;
  if (typeof platform === "string") {
    const minor = /^(\d+\.\d+)/.exec(platform)?.[1];
    const offered = PHP_VERSIONS.find((version) => version === minor && PHP_SUITES[version]);
    return { php: offered, from: `config.platform.php ${platform}` };
  }
  const constraint = (composer?.require as Record<string, unknown> | undefined)?.php;
  if (typeof constraint !== "string") return undefined;
  // Newest first of those built offline; a minor satisfies when its first or a late patch
  // release does.
  const offered = [...PHP_VERSIONS]
    .filter((version) => PHP_SUITES[version])
    .reverse()
    .find((version) =>
      [`${version}.0`, `${version}.99`].some((release) => satisfies(release, constraint)),
    );
  return offered === undefined && !parses(constraint)
    ? undefined
    : { php: offered, from: `require.php ${constraint}` };
}

type Version = [number, number, number];

function parse(text: string): Version | undefined {
  const match = /^v?(\d+)(?:\.(\d+|\*))?(?:\.(\d+|\*))?/.exec(text);
  if (!match) return undefined;
  const part = (value: string | undefined) =>
    value === undefined || value === "*" ? 0 : Number(value);
  return [part(match[1]), part(match[2]), part(match[3])];
}

function compare(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/** Composer's constraint syntax: `||` alternatives, terms joined by spaces or commas,
 *  `^`, `~`, comparison operators, `8.2.*` wildcards. */
export function satisfies(version: string, constraint: string): boolean {
  const release = parse(version);
  if (!release) return false;
  return alternatives(constraint).some((terms) =>
    terms.every((term) => termHolds(release, term) === true),
  );
}

function parses(constraint: string): boolean {
  return alternatives(constraint).every((terms) =>
    terms.every((term) => termHolds([0, 0, 0], term) !== undefined),
  );
}

function alternatives(constraint: string): string[][] {
  return constraint.split(/\s*\|\|?\s*/).map((alternative) =>
    alternative
      .replace(/(>=|<=|!=|>|<|=|\^|~)\s+/g, "$1")
      .split(/[\s,]+/)
      .filter(Boolean),
  );
}

function termHolds(release: Version, term: string): boolean | undefined {
  const match = /^(>=|<=|!=|>|<|=|\^|~)?(.+)$/.exec(term);
  const operator = match?.[1] ?? "";
  const text = match?.[2] ?? "";
  const bound = parse(text);
  if (!bound) return undefined;
  const parts = text.replace(/^v/, "").split(".");
  const order = compare(release, bound);
  switch (operator) {
    case ">=":
      return order >= 0;
    case ">":
      return order > 0;
    case "<=":
      return order <= 0;
    case "<":
      return order < 0;
    case "!=":
      return order !== 0;
    case "^":
      return order >= 0 && release[0] === bound[0];
    case "~":
      return (
        order >= 0 &&
        (parts.length >= 3
          ? release[0] === bound[0] && release[1] === bound[1]
          : release[0] === bound[0])
      );
    default: {
      // `8.2`, `8.2.*`, `=8.2.3`: the parts given must match.
      const given = parts.filter((part) => part !== "*").length;
      return release.slice(0, given).every((value, index) => value === bound[index]);
    }
  }
}
