import { readFile } from "node:fs/promises";
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { request as httpsRequest } from "node:https";
import type { LookupFunction } from "node:net";
import { expectOk, jsonField, type TestProject } from "./harness.js";

// Requests to the local router's names as a browser makes them: `*.localhost` is loopback
// (RFC 6761; browsers and curl resolve it themselves, this machine's resolver does not),
// TLS verified against the CA given (never skipped), SNI and Host the URL's own name.

export interface RoutedResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

const loopback: LookupFunction = (_host, options, callback) => {
  if (options.all) callback(null, [{ address: "127.0.0.1", family: 4 }]);
  else callback(null, "127.0.0.1", 4);
};

export function routedRequest(
  url: string,
  options: { ca?: string; method?: string; form?: string; headers?: Record<string, string> } = {},
): Promise<RoutedResponse> {
  const target = new URL(url);
  const send = target.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const request = send(
      target,
      {
        method: options.method ?? "GET",
        lookup: loopback,
        ...(options.ca ? { ca: options.ca } : {}),
        headers: {
          ...(options.form ? { "content-type": "application/x-www-form-urlencoded" } : {}),
          ...options.headers,
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks).toString("utf8"),
          }),
        );
        response.on("error", reject);
      },
    );
    request.setTimeout(30_000, () => request.destroy(new Error(`no answer from ${url}`)));
    request.on("error", reject);
    request.end(options.form);
  });
}

/** `prodlike router status --json` of a project: the router's CA (PEM) and its ports. */
export async function routerOf(
  project: TestProject,
): Promise<{ ca: string; ports: { http: number; https: number } }> {
  const status = await project.cli(["router", "status", "--json"]);
  expectOk(status);
  const caFile = jsonField<string>(status, "caFile");
  return {
    ca: await readFile(caFile, "utf8"),
    ports: jsonField<{ http: number; https: number }>(status, "ports"),
  };
}
