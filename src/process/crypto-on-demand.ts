// node:crypto loaded when first asked for, not when a module is: loading it costs ~8 ms,
// a tenth of `status`, which needs none of it. Modules on the start-up path of the short
// commands (status, ls) take their random names and digests from here.

/** `bytes` random bytes as hex: a name no other process picks (lock, claim, nonce). */
export async function randomHex(bytes: number): Promise<string> {
  const { randomBytes } = await import("node:crypto");
  return randomBytes(bytes).toString("hex");
}

/** The SHA-256 of `data`, as hex. */
export async function sha256Hex(data: string | Uint8Array): Promise<string> {
  const { createHash } = await import("node:crypto");
  return createHash("sha256").update(data).digest("hex");
}
