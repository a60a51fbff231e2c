import { describe, expect, it } from "vitest";
import { RegistryDelivery } from "../../../../src/backends/kube/registry-delivery.js";
import { FakeRunner } from "../../../support/fake-runner.js";

// How a registry behind a login answers the "has it already" question: the developer's
// docker credentials sent as Basic, and the two refusals told apart (none, or a stale one).

const challenge = () =>
  new Response(null, { status: 401, headers: { "www-authenticate": 'Basic realm="team"' } });

function delivery(
  answer: (authorization: string | null) => Response,
  login?: { username: string; password: string },
) {
  const seen: (string | null)[] = [];
  const fetch = (async (_url: string, init?: RequestInit) => {
    const authorization = new Headers(init?.headers).get("authorization");
    seen.push(authorization);
    return answer(authorization);
  }) as typeof globalThis.fetch;
  return {
    seen,
    registry: new RegistryDelivery(new FakeRunner(), { fetch, credentials: async () => login }),
  };
}

describe("RegistryDelivery.has behind a login", () => {
  const login = { username: "qa", password: "s3cret" };
  const basic = `Basic ${Buffer.from("qa:s3cret").toString("base64")}`;

  it("asks again with the developer's credentials as Basic", async () => {
    const { registry, seen } = delivery(
      (authorization) =>
        authorization === basic ? new Response(null, { status: 200 }) : challenge(),
      login,
    );
    expect(await registry.has("registry.test", "team/nginx", "id-1")).toBe(true);
    expect(seen).toEqual([null, basic]);
  });

  it("says a login is wanted when docker has none for the registry", async () => {
    const { registry } = delivery(() => challenge());
    await expect(registry.has("registry.test", "team/nginx", "id-1")).rejects.toMatchObject({
      code: "CLUSTER_FAILED",
      message: "The registry registry.test wants a login",
    });
  });

  it("says the login was refused when docker has one the registry does not take", async () => {
    const { registry } = delivery(() => challenge(), login);
    await expect(registry.has("registry.test", "team/nginx", "id-1")).rejects.toMatchObject({
      code: "CLUSTER_FAILED",
      message: expect.stringContaining("refused the login docker has for it"),
      hint: expect.stringContaining("docker login registry.test` again"),
    });
  });
});
