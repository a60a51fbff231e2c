import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { stateDir } from "../config/user-settings.js";
import { readStateOrNothing, writeState } from "../state/json-state.js";

// A locked environment's credentials (`up --lock`, `lock: true`, `share`): generated
// once, shown once, kept 0600 in the user's state folder (never in the code tree), so
// `prodlike share` can hand them to a colleague again. The router only ever gets the
// password's bcrypt hash.

export interface Credentials {
  envId: string;
  username: string;
  password: string;
  createdAt: string;
}

const credentialsSchema = z.object({
  envId: z.string(),
  username: z.string().min(1),
  password: z.string().min(16),
  createdAt: z.string(),
});

export class CredentialStore {
  constructor(private readonly dir: string) {}

  file(envId: string): string {
    return path.join(this.dir, `${envId}.json`);
  }

  async get(envId: string): Promise<Credentials | undefined> {
    return readStateOrNothing(this.file(envId), credentialsSchema);
  }

  /** The environment's credentials, made (a random password) when it has none. */
  async ensure(envId: string, now: Date): Promise<{ credentials: Credentials; made: boolean }> {
    const existing = await this.get(envId);
    if (existing) return { credentials: existing, made: false };
    const credentials: Credentials = {
      envId,
      username: "prodlike",
      password: randomBytes(18).toString("base64url"),
      createdAt: now.toISOString(),
    };
    await writeState(this.file(envId), credentials);
    return { credentials, made: true };
  }

  async remove(envId: string): Promise<void> {
    await rm(this.file(envId), { force: true });
  }
}

export function openCredentialStore(env: NodeJS.ProcessEnv): CredentialStore {
  return new CredentialStore(path.join(stateDir(env), "credentials"));
}
