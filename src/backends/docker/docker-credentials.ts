import { readFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import type { CommandRunner } from "../../process/command-runner.js";

// The developer's credentials for a registry, where `docker login` keeps them: the
// config.json's `auths` (base64 user:password), or a credential helper it names
// (`credHelpers` per registry, `credsStore` for all), asked as docker asks it
// (`docker-credential-NAME get`, the registry on stdin). Never printed nor written.

export interface RegistryCredentials {
  username: string;
  password: string;
}

const configSchema = z.object({
  auths: z.record(z.string(), z.object({ auth: z.string().optional() })).optional(),
  credHelpers: z.record(z.string(), z.string()).optional(),
  credsStore: z.string().optional(),
});

const helperAnswer = z.object({ Username: z.string(), Secret: z.string() });

export class DockerCredentials {
  constructor(
    /** DOCKER_CONFIG, else ~/.docker. */
    private readonly configDir: string,
    private readonly runner: CommandRunner,
  ) {}

  /** The credentials for a registry host (host[:port]); undefined when there are none. */
  async forHost(host: string): Promise<RegistryCredentials | undefined> {
    const text = await readFile(path.join(this.configDir, "config.json"), "utf8").catch(
      () => undefined,
    );
    if (text === undefined) return undefined;
    let parsed: z.infer<typeof configSchema>;
    try {
      parsed = configSchema.parse(JSON.parse(text));
    } catch {
      return undefined;
    }
    const keys = [host, `https://${host}`, `http://${host}`, `https://${host}/v1/`];
    const helper = parsed.credHelpers?.[host] ?? parsed.credsStore;
    if (helper) {
      const answer = await this.runner.run(`docker-credential-${helper}`, ["get"], {
        input: host,
      });
      if (answer.exitCode === 0) {
        try {
          const found = helperAnswer.parse(JSON.parse(answer.stdout));
          return { username: found.Username, password: found.Secret };
        } catch {
          // A helper that knows nothing of this registry: the plain entries may.
        }
      }
    }
    for (const key of keys) {
      const auth = parsed.auths?.[key]?.auth;
      if (!auth) continue;
      const decoded = Buffer.from(auth, "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      if (colon > 0)
        return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    }
    return undefined;
  }
}

/** A `kubernetes.io/dockerconfigjson` Secret's data for one registry. */
export function dockerConfigJson(host: string, credentials: RegistryCredentials): string {
  const auth = Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64");
  return JSON.stringify({
    auths: { [host]: { username: credentials.username, password: credentials.password, auth } },
  });
}
