import { access, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { ProdlikeError } from "../errors/prodlike-error.js";
import { formatCommand } from "../process/command-runner.js";
import { exportRootCertificate, openRouter, routerCaFile, trustRecordFile } from "./router.js";
import type { CoreServices } from "./services.js";

// `prodlike trust`: the router CA's root certificate into the system trust store and the
// browsers' NSS stores, through mkcert (Debian's package). Only the certificate is handed
// over: mkcert installs a CA it has no key for ("keyless" CAROOT), and the router's key
// never leaves its volume. mkcert asks for sudo itself where the system store needs it.

export interface TrustReport {
  action: "installed" | "uninstalled" | "nothing to uninstall";
  caFile?: string;
  tool: string;
}

export async function trust(
  services: CoreServices,
  request: { uninstall: boolean; terminal: boolean },
): Promise<TrustReport> {
  const saved = routerCaFile(services);
  if (request.uninstall) {
    const caFile = (await exists(saved)) ? saved : undefined;
    if (!caFile) return { action: "nothing to uninstall", tool: "mkcert" };
    await mkcert(services, ["-uninstall"], caFile, request.terminal);
    await rm(trustRecordFile(services), { force: true });
    return { action: "uninstalled", caFile, tool: "mkcert" };
  }
  const router = await openRouter(services);
  if (!(await router.state()).running) {
    throw new ProdlikeError("ROUTER_FAILED", "The local router is not running", {
      hint: "It starts with the first environment: run `prodlike up`, then `prodlike trust`.",
    });
  }
  const caFile = await exportRootCertificate(services, router);
  await mkcert(services, ["-install"], caFile, request.terminal);
  // The record is the certificate itself: status compares bytes, with no digest to load.
  await writeFile(trustRecordFile(services), await readFile(caFile), { mode: 0o600 });
  return { action: "installed", caFile, tool: "mkcert" };
}

async function mkcert(
  services: CoreServices,
  args: string[],
  caFile: string,
  terminal: boolean,
): Promise<void> {
  const result = await services.runner.run("mkcert", args, {
    env: { CAROOT: path.dirname(caFile) },
    // sudo may ask for a password: the terminal is handed over when there is one.
    stdio: terminal ? "inherit" : "pipe",
  });
  if (result.notFound) {
    throw new ProdlikeError("TOOL_MISSING", "mkcert is not installed", {
      hint: `Install it (Debian/Ubuntu: sudo apt install mkcert libnss3-tools; macOS: brew install mkcert nss) and run prodlike trust again, or trust the CA by hand: sudo cp ${caFile} /usr/local/share/ca-certificates/prodlike-router.crt && sudo update-ca-certificates`,
      data: { caFile },
    });
  }
  if (result.exitCode !== 0) {
    throw new ProdlikeError(
      "COMMAND_FAILED",
      `${formatCommand("mkcert", args)} failed (exit ${result.exitCode})`,
      {
        hint: `${result.stderr.trim().split("\n").at(-1) ?? ""} The CA certificate is ${caFile}; mkcert needs sudo for the system store.`,
        data: { caFile },
      },
    );
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
