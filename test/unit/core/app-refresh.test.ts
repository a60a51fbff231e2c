import { describe, expect, it } from "vitest";
import { openMageBaseUrlsSql } from "../../../src/core/app-refresh.js";

describe("openMageBaseUrlsSql", () => {
  it("points the store's URLs at the environment, only where the table exists, quoting the URL", () => {
    const sql = openMageBaseUrlsSql("http://127.0.0.1:8080");
    expect(sql).toContain("table_name = 'core_config_data'");
    expect(sql).toContain(
      "SET value = 'http://127.0.0.1:8080/' WHERE path IN ('web/unsecure/base_url', 'web/secure/base_url')",
    );
    expect(sql).toContain("AND value LIKE 'http%'");
    expect(sql).toContain("SET value = NULL WHERE path = 'web/cookie/cookie_domain'");
    expect(openMageBaseUrlsSql("http://x/'; DROP TABLE t; --/")).toContain(
      "'http://x/''; DROP TABLE t; --/'",
    );
  });
});
