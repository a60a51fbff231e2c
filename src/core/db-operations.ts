import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";
import type { Readable, Writable } from "node:stream";
import type { Backend } from "../backends/backend.js";
import type { ExportReport } from "../db/export-dump.js";
import type { ImportReport } from "../db/import-dump.js";
import { LocalDatabase } from "../db/local-database.js";
import { ProdlikeError } from "../errors/prodlike-error.js";
import type { Progress } from "../ui/steps.js";
import { backendFor, type EnvRequest } from "./operations.js";
import type { CoreServices } from "./services.js";

// The `db` commands: the environment's database service found by its role, then the
// work done through the backend's exec, so every backend supports them unchanged.

async function localDatabase(
  services: CoreServices,
  request: EnvRequest,
): Promise<{ db: LocalDatabase; envId: string; backend: Backend }> {
  const { identity, backend } = await backendFor(services, request);
  const status = await backend.status(identity.id);
  if (!status) {
    throw new ProdlikeError("ENV_NOT_FOUND", `No environment ${identity.id}`, {
      hint: "`prodlike up` creates it.",
    });
  }
  const service = status.services.find((candidate) => candidate.role === "db");
  if (!service) {
    throw new ProdlikeError(
      "SERVICE_NOT_FOUND",
      `Environment ${identity.id} has no database service`,
      {
        hint: `Its services: ${status.services.map((candidate) => candidate.name).join(", ")}.`,
      },
    );
  }
  return { db: new LocalDatabase(backend, identity.id, service.name), envId: identity.id, backend };
}

export async function dbImport(
  services: CoreServices,
  request: EnvRequest & { file: string; stdin: Readable },
  progress: Progress,
): Promise<ImportReport & { id: string }> {
  const fromStdin = request.file === "-";
  let totalBytes: number | undefined;
  if (!fromStdin) {
    const info = await stat(request.file).catch(() => undefined);
    if (!info?.isFile()) {
      throw new ProdlikeError("USAGE", `No dump file ${request.file}`, {
        hint: "Give a .sql or .sql.gz file, or - to read stdin.",
      });
    }
    totalBytes = info.size;
  }
  const { db, envId } = await localDatabase(services, request);
  const { importDump } = await import("../db/import-dump.js");
  // Ctrl-C stops the load and drops the staging copy; the live data is untouched.
  const interrupt = new AbortController();
  const onSigint = () => interrupt.abort();
  process.once("SIGINT", onSigint);
  try {
    const report = await importDump(
      db,
      {
        open: () => (fromStdin ? request.stdin : createReadStream(request.file)),
        reopenable: !fromStdin,
        totalBytes,
        label: fromStdin ? "stdin" : path.basename(request.file),
      },
      progress,
      interrupt.signal,
    );
    return { id: envId, ...report };
  } finally {
    process.removeListener("SIGINT", onSigint);
  }
}

export async function dbExport(
  services: CoreServices,
  request: EnvRequest & { file: string | undefined; gzip: boolean; stdout: Writable },
  progress: Progress,
): Promise<ExportReport & { id: string }> {
  const { db, envId } = await localDatabase(services, request);
  const { exportDump } = await import("../db/export-dump.js");
  const toStdout = request.file === "-";
  const file = toStdout
    ? undefined
    : path.resolve(request.file ?? `${envId}-${timestamp()}.sql${request.gzip ? ".gz" : ""}`);
  const report = await exportDump(
    db,
    { file, ...(toStdout ? { out: request.stdout } : {}), gzip: request.gzip },
    progress,
  );
  return { id: envId, ...report };
}

function timestamp(): string {
  return new Date().toISOString().replace(/[-:]/g, "").replace(/\..*$/, "").replace("T", "-");
}
