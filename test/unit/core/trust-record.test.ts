import { createHash } from "node:crypto";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { routerCaFile, trustRecorded, trustRecordFile } from "../../../src/core/router.js";
import type { CoreServices } from "../../../src/core/services.js";
import { stateStores } from "../../../src/core/state-stores.js";

// `status` says whether the router's CA is trusted from two local files: the exported
// CA and the record `prodlike trust` left. The record is the certificate itself (bytes
// compared, nothing hashed); records from before hold its SHA-256 fingerprint.

const PEM = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n";

async function servicesWithCa(pem: string | undefined): Promise<CoreServices> {
  const env = { PRODLIKE_HOME: await mkdtemp(path.join(os.tmpdir(), "prodlike-trust-")) };
  const services = { env, stores: stateStores(env) } as unknown as CoreServices;
  if (pem !== undefined) {
    await mkdir(path.dirname(routerCaFile(services)), { recursive: true });
    await writeFile(routerCaFile(services), pem);
  }
  return services;
}

describe("the trust record", () => {
  it("is trusted when the record holds the exported certificate", async () => {
    const services = await servicesWithCa(PEM);
    await writeFile(trustRecordFile(services), PEM);
    expect(await trustRecorded(services)).toBe(true);
  });

  it("is not trusted once the CA changed, nor without a record or a CA", async () => {
    const changed = await servicesWithCa(PEM);
    await writeFile(trustRecordFile(changed), PEM.replace("fake", "older"));
    expect(await trustRecorded(changed)).toBe(false);
    expect(await trustRecorded(await servicesWithCa(PEM))).toBe(false);
    const noCa = await servicesWithCa(undefined);
    await mkdir(path.dirname(trustRecordFile(noCa)), { recursive: true });
    await writeFile(trustRecordFile(noCa), PEM);
    expect(await trustRecorded(noCa)).toBe(false);
  });

  it("still reads a record from before, the fingerprint, and only a well-formed one", async () => {
    const services = await servicesWithCa(PEM);
    const fingerprint = createHash("sha256").update(PEM).digest("hex");
    await writeFile(trustRecordFile(services), `${fingerprint}\n`);
    expect(await trustRecorded(services)).toBe(true);
    await writeFile(trustRecordFile(services), `${fingerprint.toUpperCase()}x\n`);
    expect(await trustRecorded(services)).toBe(false);
  });
});
