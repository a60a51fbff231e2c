import { describe, expect, it } from "vitest";
import { parsePortChoices, parsePortsLabel } from "../../../src/backends/router/local-router.js";
import { routedUrls, routerUrl } from "../../../src/core/router.js";
import { isProdlikeError } from "../../../src/errors/prodlike-error.js";

describe("the router's ports", () => {
  it("reads PRODLIKE_ROUTER_PORTS as HTTP:HTTPS pairs tried in order", () => {
    expect(parsePortChoices(undefined)[0]).toEqual({ http: 80, https: 443 });
    expect(parsePortChoices("9080:9443, 7080:7443")).toEqual([
      { http: 9080, https: 9443 },
      { http: 7080, https: 7443 },
    ]);
  });

  it.each(["443", "80:80", "a:b", "0:443", "80:70000"])("refuses %j with a usage error", (bad) => {
    let caught: unknown;
    try {
      parsePortChoices(bad);
    } catch (error) {
      caught = error;
    }
    expect(isProdlikeError(caught) && caught.code).toBe("USAGE");
  });

  it("reads the ports label of the router's container", () => {
    expect(parsePortsLabel("http:8880,https:8443")).toEqual({ http: 8880, https: 8443 });
    expect(parsePortsLabel("http:80")).toBeUndefined();
  });
});

describe("routedUrls", () => {
  const environment = { id: "shop-qa1", name: "qa1", project: "shop" };

  it("names the main host https and the others by their leading labels", () => {
    const urls = routedUrls(environment, {
      running: true,
      ports: { http: 8880, https: 8443 },
      hostsByEnv: new Map([
        [
          "shop-qa1",
          ["admin.shop.qa1.shop.localhost", "qa1.shop.localhost", "mail.qa1.shop.localhost"],
        ],
      ]),
      conflicts: [],
    });
    expect(urls).toEqual({
      https: "https://qa1.shop.localhost:8443/",
      "https:mail": "https://mail.qa1.shop.localhost:8443/",
      "https:admin.shop": "https://admin.shop.qa1.shop.localhost:8443/",
    });
  });

  it("adds nothing when the router is not running", () => {
    expect(
      routedUrls(environment, {
        running: false,
        hostsByEnv: new Map([["shop-qa1", ["qa1.shop.localhost"]]]),
        conflicts: [],
      }),
    ).toEqual({});
  });

  it("leaves the standard ports out of the URL", () => {
    expect(routerUrl("https", "a.localhost", { http: 80, https: 443 })).toBe(
      "https://a.localhost/",
    );
    expect(routerUrl("http", "a.localhost", { http: 80, https: 443 })).toBe("http://a.localhost/");
  });
});
