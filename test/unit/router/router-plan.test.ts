import { describe, expect, it } from "vitest";
import { caddyConfig } from "../../../src/router/caddy-config.js";
import {
  type RecordedEnvironment,
  type RoutableContainer,
  routerPlan,
} from "../../../src/router/router-plan.js";
import { Label } from "../../../src/topology/labels.js";

// Environments as their owner records have them: id PROJECT-NAME.
function recorded(...ids: [string, string, string?][]): Map<string, RecordedEnvironment> {
  return new Map(
    ids.map(([project, name, createdAt], index) => [
      `${project}-${name}`,
      { project, name, createdAt: createdAt ?? `2026-12-01T00:00:0${index}Z` },
    ]),
  );
}

function container(
  name: string,
  env: string,
  routes: string | undefined,
  extra: Partial<RoutableContainer> = {},
): RoutableContainer {
  const [project = "", envName = ""] = env.split("-");
  return {
    id: `id-${name}`,
    name,
    state: "running",
    labels: {
      [Label.env]: env,
      [Label.project]: project,
      [Label.name]: envName,
      [Label.backend]: "compose",
      "com.docker.compose.project": env,
      ...(routes ? { [Label.routes]: routes } : {}),
    },
    networks: [`${env}_default`],
    ...extra,
  };
}

const AB = recorded(["a", "qa1"], ["b", "local"], ["c", "local"]);

describe("routerPlan", () => {
  it("routes every running container's hosts to its name on its network", () => {
    const plan = routerPlan(
      [
        container("b-local_web_1", "b-local", "local.b.localhost=80"),
        container("a-qa1_web_1", "a-qa1", "qa1.a.localhost=80"),
        container("a-qa1_mail_1", "a-qa1", "mail.qa1.a.localhost=8025"),
        container("a-qa1_db_1", "a-qa1", undefined),
      ],
      { recorded: AB },
    );
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
        container("a_web_1", "a-qa1", "qa1.a.localhost=80", { state: "exited" }),
        container("b_web_1", "b-local", "local.b.localhost=80"),
        container("c_web_1", "c-local", "local.c.localhost=80"),
      ],
      { leaving: new Set(["c-local"]), recorded: AB },
    );
    expect(plan.sites.map((site) => site.host)).toEqual(["local.b.localhost"]);
    expect(plan.networks).toEqual(["b-local_default"]);
  });

  it("dials a pod's sidecar by the container whose network it shares", () => {
    const owner = container("m_shop_1", "m-local", undefined);
    const sidecar = container("m_shop-nginx_1", "m-local", "local.m.localhost=8080", {
      networks: [],
      networkMode: `container:${owner.id}`,
    });
    expect(routerPlan([owner, sidecar], { recorded: recorded(["m", "local"]) }).sites).toEqual([
      { host: "local.m.localhost", dial: "m_shop_1:8080" },
    ]);
  });

  it("keeps a host two containers of one environment claim for the older one, and says so", () => {
    const plan = routerPlan(
      [
        container("x_rogue_1", "x-local", "local.x.localhost=80", { createdAt: 2000 }),
        container("x_web_1", "x-local", "local.x.localhost=80", { createdAt: 1000 }),
      ],
      { recorded: recorded(["x", "local"]) },
    );
    expect(plan.sites).toEqual([{ host: "local.x.localhost", dial: "x_web_1:80" }]);
  });

  it("skips a routes label edited into nonsense", () => {
    const plan = routerPlan(
      [container("z_web_1", "z-local", "local.z.localhost=80,bad host=x,=1,a=99999")],
      { recorded: recorded(["z", "local"]) },
    );
    expect(plan.sites.map((site) => site.host)).toEqual(["local.z.localhost"]);
  });

  it("routes no container of an environment prodlike did not record (a rogue label)", () => {
    const rogue = container("rogue", "evil-x", "x.evil.localhost=80");
    const plan = routerPlan([rogue], { recorded: AB });
    expect(plan.sites).toEqual([]);
    // Nor one that says it is a recorded environment's but is not compose's container of it.
    const impostor = container("impostor", "a-qa1", "qa1.a.localhost=80", {
      labels: { ...rogue.labels, [Label.env]: "a-qa1", [Label.project]: "a", [Label.name]: "qa1" },
    });
    expect(routerPlan([impostor], { recorded: AB }).sites).toEqual([]);
  });

  it("serves an environment only names under its own host: never another's, never outside .localhost", () => {
    const plan = routerPlan(
      [
        container("b_web_1", "b-local", "qa1.a.localhost=80,ht-test.example.com=80,127.0.0.1=80"),
        container("b_web_2", "b-local", "local.b.localhost.evil.com=80,admin.local.b.localhost=80"),
      ],
      { recorded: AB },
    );
    expect(plan.sites.map((site) => site.host)).toEqual(["admin.local.b.localhost"]);
  });

  it("keeps a cluster environment's routes only under its own host", () => {
    const plan = routerPlan([container("node", "k-qa", undefined)], {
      recorded: recorded(["k", "qa"]),
      external: {
        "k-qa": {
          container: "node",
          network: "kind",
          sites: [
            { host: "shop.qa.k.localhost", dial: "node:30080" },
            { host: "evil.example.com", dial: "node:30081" },
          ],
        },
        "not-recorded": {
          container: "node",
          network: "kind",
          sites: [{ host: "recorded.not.localhost", dial: "node:30082" }],
        },
      },
    });
    expect(plan.sites.map((site) => site.host)).toEqual(["shop.qa.k.localhost"]);
  });

  it("routes an existing cluster's port-forwards before the router runs, while it is recorded; not a gone node's", () => {
    const external = {
      "x-local": {
        container: "prodlike-router",
        onThisMachine: true,
        network: "prodlike-router",
        sites: [{ host: "local.x.localhost", dial: "172.30.0.1:8123" }],
      },
      "k-qa": {
        container: "deleted-node",
        network: "kind",
        sites: [{ host: "qa.k.localhost", dial: "deleted-node:30080" }],
      },
    };
    const plan = routerPlan([], { recorded: recorded(["x", "local"], ["k", "qa"]), external });
    expect(plan.sites).toEqual([{ host: "local.x.localhost", dial: "172.30.0.1:8123" }]);
    expect(plan.networks).toEqual(["prodlike-router"]);
    // Destroyed (no longer recorded), or being removed: its names go.
    expect(routerPlan([], { recorded: recorded(["k", "qa"]), external }).sites).toEqual([]);
    expect(
      routerPlan([], {
        recorded: recorded(["x", "local"]),
        external,
        leaving: new Set(["x-local"]),
      }).sites,
    ).toEqual([]);
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

  it("signs with the name-constrained CA start-router makes, never Caddy's own", () => {
    expect(JSON.stringify(config.apps)).toContain(
      '"root":{"certificate":"/data/prodlike-ca/root.crt","private_key":"/data/prodlike-ca/root.key","format":"pem_file"}',
    );
  });

  it("answers an unknown host with a 404 that says what to do", () => {
    const last = JSON.stringify(config.apps.http.servers.https?.routes.at(-1));
    expect(last).toContain('"status_code":404');
    expect(last).toContain("prodlike ls");
  });
});

describe("routerPlan with sleeping environments", () => {
  const waker = (hosts: string[]) => ({
    hosts,
    dial: "172.22.0.1:41000",
    network: "prodlike-router",
  });

  it("sends a sleeping environment's names to its owner's waker, on the router's network", () => {
    const plan = routerPlan(
      [container("a-qa1_web_1", "a-qa1", "qa1.a.localhost=80", { state: "exited" })],
      {
        recorded: AB,
        asleep: { "b-local": waker(["local.b.localhost", "mail.local.b.localhost"]) },
      },
    );
    expect(plan.sites).toEqual([
      { host: "local.b.localhost", dial: "172.22.0.1:41000" },
      { host: "mail.local.b.localhost", dial: "172.22.0.1:41000" },
    ]);
    expect(plan.networks).toEqual(["prodlike-router"]);
    expect(plan.hostsByEnv.get("b-local")).toEqual(["local.b.localhost", "mail.local.b.localhost"]);
  });

  it("never for a name outside its own, an unrecorded environment, one leaving, or one running", () => {
    const plan = routerPlan([container("a-qa1_web_1", "a-qa1", "qa1.a.localhost=80")], {
      recorded: AB,
      leaving: new Set(["c-local"]),
      asleep: {
        "b-local": waker(["local.b.localhost", "qa1.a.localhost", "evil.example.com"]),
        "z-local": waker(["local.z.localhost"]),
        "c-local": waker(["local.c.localhost"]),
        "a-qa1": waker(["qa1.a.localhost"]),
      },
    });
    expect(plan.sites).toEqual([
      { host: "qa1.a.localhost", dial: "a-qa1_web_1:80" },
      { host: "local.b.localhost", dial: "172.22.0.1:41000" },
    ]);
  });
});
