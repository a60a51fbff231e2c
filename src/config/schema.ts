import { z } from "zod";

// prodlike.yaml: everything optional. No file at all means the Drupal preset with the
// current folder as the code root. Unknown keys are errors, so a typo never silently
// does nothing.

const identifier = z
  .string()
  .regex(/^[A-Za-z0-9_]{1,64}$/, "use letters, digits and _ only (at most 64)");

const projectName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,39}$/, "use lowercase letters, digits and - (at most 40)");

const port = z.number().int().min(1).max(65535);

const envKey = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "not a valid environment variable name");

const envMap = z.record(envKey, z.union([z.string(), z.number(), z.boolean()]).transform(String));

export const serviceOverrideSchema = z.strictObject({
  env: envMap.optional().describe("Extra environment variables for this service."),
});

export const configSchema = z
  .strictObject({
    $schema: z.string().optional(),
    name: projectName.optional().describe("Project name; defaults to the code root's folder name."),
    preset: z.string().default("drupal").describe("Preset: drupal."),
    backend: z
      .enum(["compose", "kind", "minikube"])
      .optional()
      .describe("Where `up` runs the environment: compose (default), kind or minikube."),
    docroot: z
      .string()
      .regex(/^(?!\/)(?!.*\.\.)[A-Za-z0-9._/-]*$/, "a relative path inside the code root")
      .optional()
      .describe("Web document root relative to the code root (Drupal: web)."),
    ports: z
      .record(z.string(), port)
      .optional()
      .describe("Preferred host ports by port name (web, db). A taken port moves to a free one."),
    database: z
      .strictObject({
        name: identifier.optional(),
        user: identifier.optional(),
      })
      .optional(),
    env: envMap.optional().describe("Extra environment variables for every code container."),
    services: z.record(z.string(), serviceOverrideSchema).optional(),
  })
  .describe("prodlike.yaml: a local environment shaped like production.");

export type ProdlikeConfig = z.output<typeof configSchema>;
