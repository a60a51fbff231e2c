import { describe, expect, it } from "vitest";
import { openMageBaseUrlsSql } from "../../../src/core/app-refresh.js";

describe("openMageBaseUrlsSql", () => {
  it("points the store's URLs at the environment, only where the table exists, quoting the URL", () => {
    const sql = openMageBaseUrlsSql("http://127.0.0.1:8080");
    expect(sql).toContain("table_name = 'core_config_data'");
    expect(sql).toContain(
      "SET value = 'http://127.0.0.1:8080/' WHERE path = 'web/unsecure/base_url'",
    );
    expect(sql).toContain(
      "SET value = 'http://127.0.0.1:8080/' WHERE path = 'web/secure/base_url'",
    );
    expect(sql).toContain("AND value LIKE 'http%'");
    expect(sql).toContain("SET value = NULL WHERE path = 'web/cookie/cookie_domain'");
    // The shop's own SMTP transport goes to the catcher, without production's login.
    expect(sql).toContain("SET value = 'mail' WHERE path = 'system/smtp/host'");
    expect(sql).toContain("SET value = '1025' WHERE path = 'system/smtp/port'");
    expect(sql).toContain("AND value NOT IN ('', '0', 'disabled', 'sendmail')");
    // A CDN's absolute media, skin and JS URLs become OpenMage's defaults under the base URL.
    for (const kind of ["media", "skin", "js"]) {
      expect(sql).toContain(
        `SET value = '{{unsecure_base_url}}${kind}/' WHERE path = 'web/unsecure/base_${kind}_url' AND value LIKE 'http%'`,
      );
      expect(sql).toContain(
        `SET value = '{{secure_base_url}}${kind}/' WHERE path = 'web/secure/base_${kind}_url' AND value LIKE 'http%'`,
      );
    }
    const routed = openMageBaseUrlsSql("http://127.0.0.1:8080", "https://dev.shop.localhost:8443/");
    expect(routed).toContain(
      "SET value = 'http://127.0.0.1:8080/' WHERE path = 'web/unsecure/base_url'",
    );
    expect(routed).toContain(
      "SET value = 'https://dev.shop.localhost:8443/' WHERE path = 'web/secure/base_url'",
    );
    expect(openMageBaseUrlsSql("http://x/'; DROP TABLE t; --/")).toContain(
      "'http://x/''; DROP TABLE t; --/'",
    );
  });
});
