import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { integrityMatches, newestOfMajor } from "../../../../src/backends/docker/npm-package.js";

describe("the npm package an image is built from", () => {
  it("takes the newest release of the asked major version, never a pre-release", () => {
    const versions = ["22.9.0", "22.10.1", "22.23.3", "24.1.0", "22.24.0-rc.1", "2.22.0"];
    expect(newestOfMajor(versions, "22")).toBe("22.23.3");
    expect(newestOfMajor(versions, "24")).toBe("24.1.0");
    expect(newestOfMajor(versions, "26")).toBeUndefined();
  });

  it("accepts the bytes only when they match the registry's sha512", () => {
    const bytes = Buffer.from("node binary");
    const integrity = `sha512-${createHash("sha512").update(bytes).digest("base64")}`;
    expect(integrityMatches(bytes, integrity)).toBe(true);
    expect(integrityMatches(Buffer.from("node binarY"), integrity)).toBe(false);
    expect(integrityMatches(bytes, "sha1-abc")).toBe(false);
  });
});
