import { describe, expect, it } from "vitest";
import { lanAddress } from "../../../src/core/access.js";
import { ProdlikeError } from "../../../src/errors/prodlike-error.js";
import { caddyConfig, shareConfig } from "../../../src/router/caddy-config.js";

// Lock and share in Caddy's terms (the real router answering 401/200 is the integration
// suite's: qa-fleet.test.ts).

const HASH = "$2a$14$WVVVVkj9EydtaUvWJEdwFOaY.wyuzvADvAgCBDcWUQdfz0BDLJe4.";

type Route = { match?: unknown; handle: { handler: string; providers?: unknown }[] };
type Config = {
  apps: { http: { servers: Record<string, { listen: string[]; routes: Route[] }> } };
};

describe("a locked environment's names", () => {
  it("answer only with the credentials, on both schemes; the others stay open", () => {
    const config = caddyConfig(
      [
        {
          host: "qa1.shop.localhost",
          dial: "shop-qa1_web_1:80",
          auth: { username: "prodlike", hash: HASH },
        },
        { host: "qa2.shop.localhost", dial: "shop-qa2_web_1:80" },
      ],
      { http: 80, https: 443 },
    ) as Config;
    for (const server of ["http", "https"]) {
      const [locked, open] = config.apps.http.servers[server]?.routes ?? [];
      expect(locked?.handle.map((handler) => handler.handler)).toEqual([
        "authentication",
        "reverse_proxy",
      ]);
      expect(locked?.handle[0]?.providers).toEqual({
        http_basic: {
          accounts: [{ username: "prodlike", password: Buffer.from(HASH).toString("base64") }],
          hash: { algorithm: "bcrypt" },
          hash_cache: {},
          realm: "prodlike",
        },
      });
      expect(open?.handle.map((handler) => handler.handler)).toEqual(["reverse_proxy"]);
    }
  });
});

describe("a share listener", () => {
  it("serves one environment, whatever the Host, always behind its lock", () => {
    const config = shareConfig(
      { dial: "shop-qa1_web_1:80", auth: { username: "prodlike", hash: HASH } },
      41234,
    ) as Config & { admin: unknown };
    expect(config.admin).toEqual({ disabled: true });
    const server = config.apps.http.servers.share;
    expect(server?.listen).toEqual([":8080"]);
    expect(server?.routes).toHaveLength(1);
    expect(server?.routes[0]?.match).toBeUndefined();
    expect(server?.routes[0]?.handle.map((handler) => handler.handler)).toEqual([
      "authentication",
      "reverse_proxy",
    ]);
  });
});

describe("lanAddress", () => {
  const iface = (address: string, internal = false) => ({
    address,
    netmask: "255.255.255.0",
    family: "IPv4" as const,
    mac: "00:00:00:00:00:00",
    internal,
    cidr: `${address}/24`,
  });

  it("takes the first IPv4 address that is neither loopback nor an engine bridge", () => {
    expect(
      lanAddress({
        lo: [iface("127.0.0.1", true)],
        docker0: [iface("172.17.0.1")],
        "br-1234": [iface("172.18.0.1")],
        wlan0: [iface("192.168.1.20")],
      }),
    ).toBe("192.168.1.20");
  });

  it("says so when there is none", () => {
    expect(() => lanAddress({ lo: [iface("127.0.0.1", true)] })).toThrow(ProdlikeError);
  });
});
