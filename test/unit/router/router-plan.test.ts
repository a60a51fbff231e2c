import { describe, expect, it } from "vitest";
import { caddyConfig } from "../../../src/router/caddy-config.js";
import { type RoutableContainer, routerPlan } from "../../../src/router/router-plan.js";
import { Label } from "../../../src/topology/labels.js";

function container(
  name: string,
  env: string,
  routes: string | undefined,
  extra: Partial<RoutableContainer> = {},
): RoutableContainer {
  return {
    id: `id-${name}`,
    name,
    state: "running",
    labels: { [Label.env]: env, ...(routes ? { [Label.routes]: routes } : {}) },
    networks: [`${env}_default`],
    ...extra,
  };
}

describe("routerPlan", () => {
  it("routes every running container's hosts to its name on its network", () => {
    const plan = routerPlan([
      container("b-local_web_1", "b-local", "local.b.localhost=80"),
      container("a-qa1_web_1", "a-qa1", "qa1.a.localhost=80"),
      container("a-qa1_mail_1", "a-qa1", "mail.qa1.a.localhost=8025"),
      container("a-qa1_db_1", "a-qa1", undefined),
    ]);
    expect(plan.sites).toEqual([
      { host: "qa1.a.localhost", dial: "a-qa1_web_1:80" },
      { host: "mail.qa1.a.localhost", dial: "a-qa1_mail_1:8025" },
      { host: "local.b.localhost", dial: "b-local_web_1:80" },
    ]);
    expect(plan.networks).toEqual(["a-qa1_default", "b-local_default"]);
    expect(plan.hostsByEnv.get("a-qa1")).toEqual(["qa1.a.localhost", "mail.qa1.a.localhost"]);
  });

  it("leaves out stopped containers and the environment being removed", () => {
    const plan = routerPlan(
      [
        container("a_web_1", "a", "a.localhost=80", { state: "exited" }),
        container("b_web_1", "b", "b.localhost=80"),
        container("c_web_1", "c", "c.localhost=80"),
      ],
      { leaving: "c" },
    );
    expect(plan.sites.map((site) => site.host)).toEqual(["b.localhost"]);
    expect(plan.networks).toEqual(["b_default"]);
  });

  it("dials a pod's sidecar by the container whose network it shares", () => {
    const owner = container("m_shop_1", "m", undefined);
    const sidecar = container("m_shop-nginx_1", "m", "m.localhost=8080", {
      networks: [],
      networkMode: `container:${owner.id}`,
    });
    expect(routerPlan([owner, sidecar]).sites).toEqual([
      { host: "m.localhost", dial: "m_shop_1:8080" },
    ]);
  });

  it("keeps a host two environments claim for the first, and says so", () => {
    const plan = routerPlan([
      container("y_web_1", "y", "same.localhost=80"),
      container("x_web_1", "x", "same.localhost=80"),
    ]);
    expect(plan.sites).toEqual([{ host: "same.localhost", dial: "x_web_1:80" }]);
    expect(plan.conflicts).toEqual([{ host: "same.localhost", kept: "x", dropped: "y" }]);
  });

  it("skips a routes label edited into nonsense", () => {
    const plan = routerPlan([container("z_web_1", "z", "ok.localhost=80,bad host=x,=1,a=99999")]);
    expect(plan.sites.map((site) => site.host)).toEqual(["ok.localhost"]);
  });
});

describe("caddyConfig", () => {
  const config = caddyConfig([{ host: "qa1.a.localhost", dial: "a-qa1_web_1:80" }], {
    http: 8880,
    https: 8443,
  }) as {
    apps: {
      http: { servers: Record<string, { routes: object[]; automatic_https: object }> };
      tls: object;
    };
  };

  it("serves each host on both schemes, telling the app the scheme and host port", () => {
    const { https, http } = config.apps.http.servers;
    expect(JSON.stringify(https?.routes[0])).toContain('"X-Forwarded-Proto":["https"]');
    expect(JSON.stringify(https?.routes[0])).toContain('"X-Forwarded-Port":["8443"]');
    expect(JSON.stringify(http?.routes[0])).toContain('"X-Forwarded-Port":["8880"]');
    expect(JSON.stringify(http?.routes[0])).toContain('"dial":"a-qa1_web_1:80"');
    expect(https?.automatic_https).toEqual({ disable_redirects: true });
  });

  it("issues certificates from its own CA only, never ACME", () => {
    expect(config.apps.tls).toEqual({
      automation: { policies: [{ issuers: [{ module: "internal", ca: "local" }] }] },
    });
  });

  it("answers an unknown host with a 404 that says what to do", () => {
    const last = JSON.stringify(config.apps.http.servers.https?.routes.at(-1));
    expect(last).toContain('"status_code":404');
    expect(last).toContain("prodlike ls");
  });
});
