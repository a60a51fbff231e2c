// Names prodlike.yaml accepts whose meaning lives further up (the mirror's transforms,
// parity's runtime declarations): declared here, at the bottom, so the schema that
// validates them and the code that acts on them read one list without importing upward.

/** The mirror's local transforms, each of which `mirror.transforms.ID: false` turns off. */
export const TRANSFORM_IDS = [
  "replicas",
  "autoscaling",
  "disruption-budgets",
  "resources",
  "images",
  "secrets",
  "ingress-hosts",
  "storage-class",
  "cloud-specific",
  "code-mount",
] as const;

export type TransformId = (typeof TRANSFORM_IDS)[number];

/** A declared database runtime: `mariadb 10.11`, `mysql 8.0`, `postgresql 15`. */
export const DB_DECLARATION = /^(mariadb|mysql|postgresql) (\d+(?:\.\d+){0,2})$/;

// Runtime versions prodlike.yaml may choose; topology/runtime-versions.ts says where each comes from.
export const DEBIAN_SUITES = ["bookworm", "trixie"] as const;
export type DebianSuite = (typeof DEBIAN_SUITES)[number];

export const PHP_VERSIONS = ["8.2", "8.3", "8.4"] as const;
export type PhpVersion = (typeof PHP_VERSIONS)[number];

/** The Debian release each PHP comes from; 8.3 from none (only the official image). */
export const PHP_SUITES: Readonly<Record<PhpVersion, DebianSuite | undefined>> = {
  "8.2": "bookworm",
  "8.3": undefined,
  "8.4": "trixie",
};

export const DATABASE_VERSIONS = [
  "mariadb:10.11",
  "mariadb:11.8",
  "mysql:8.0",
  "mysql:8.4",
  "postgres:15",
  "postgres:17",
] as const;
export type DatabaseVersion = (typeof DATABASE_VERSIONS)[number];
