import type http from "node:http";
import { parse as parseYaml } from "yaml";
import { type ResourceType, typeOfKind, typeOfPlural } from "./resources.js";
import { badRequest } from "./status.js";
import type { KubeJson } from "./store.js";

// The API's URL scheme (/api/v1/..., /apis/GROUP/VERSION/..., namespaced or not, a
// subresource last) and request bodies (JSON, or YAML for server-side apply).

export interface Route {
  type: ResourceType;
  namespace: string;
  name: string | undefined;
  subresource: string | undefined;
}

export function parseRoute(path: string): Route | undefined {
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  let group = "";
  let rest: string[];
  if (parts[0] === "api" && parts[1] === "v1") rest = parts.slice(2);
  else if (parts[0] === "apis" && parts.length >= 3) {
    group = parts[1] ?? "";
    rest = parts.slice(3);
  } else return undefined;
  const version = parts[0] === "api" ? "v1" : (parts[2] ?? "");
  let namespace = "";
  if (rest[0] === "namespaces" && rest.length >= 3) {
    namespace = rest[1] ?? "";
    rest = rest.slice(2);
  }
  const type = typeOfPlural(group, version, rest[0] ?? "");
  if (!type) return undefined;
  return { type, namespace, name: rest[1], subresource: rest[2] };
}

export function requireType(apiVersion: string, kind: string): ResourceType {
  const type = typeOfKind(apiVersion, kind);
  if (!type) throw badRequest(`no kind "${kind}" is registered for version "${apiVersion}"`);
  return type;
}

export async function readBody(request: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export function parseBody(text: string, contentType: string | undefined): KubeJson {
  try {
    return (contentType?.includes("yaml") ? parseYaml(text) : JSON.parse(text)) as KubeJson;
  } catch (error) {
    throw badRequest(`the body of the request could not be decoded: ${String(error)}`);
  }
}
