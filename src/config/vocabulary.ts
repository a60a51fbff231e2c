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
