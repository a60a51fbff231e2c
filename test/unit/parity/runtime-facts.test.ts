import { describe, expect, it } from "vitest";
import { compareWorkloads } from "../../../src/parity/compare.js";
import {
  declaredFacts,
  factsFromImage,
  parseProbe,
  type RuntimeFacts,
  sameVersion,
} from "../../../src/parity/runtime-facts.js";
import type { WorkloadView } from "../../../src/parity/workload-view.js";

// Output of RUNTIME_PROBE as Debian's php8.2-fpm, MariaDB, MySQL and PostgreSQL print it
// (the first two captured from the preset images on the real engine).
const DEBIAN_FPM = [
  "php=PHP 8.2.32 (fpm-fcgi) (built: Jul  3 2026 12:22:11)",
  "php-modules=[PHP Modules],apcu,Core,gd,intl,PDO,pdo_mysql,Zend OPcache,,[Zend Modules],Zend OPcache,,",
].join("\n");

describe("runtime facts", () => {
  it("are read from official image references, not from custom ones", () => {
    expect(factsFromImage("php", "8.2-fpm-bookworm")).toEqual({ php: { version: "8.2" } });
    expect(factsFromImage("docker.io/library/mariadb", "10.11")).toEqual({
      db: { engine: "mariadb", version: "10.11" },
    });
    expect(factsFromImage("mysql", "8.0.36")).toEqual({
      db: { engine: "mysql", version: "8.0.36" },
    });
    expect(factsFromImage("postgres", "15-alpine")).toEqual({
      db: { engine: "postgresql", version: "15" },
    });
    expect(factsFromImage("drupal", "10-php8.3-fpm")).toEqual({ php: { version: "8.3" } });
    expect(factsFromImage("bitnami/php-fpm", "8.1.2")).toEqual({ php: { version: "8.1.2" } });
    expect(factsFromImage("registry.example.com/shop/php", "2024.11.3")).toEqual({});
    expect(factsFromImage("shop/mariadb", "10.11")).toEqual({});
    expect(factsFromImage("registry.example.com/shop/app", "8.2")).toEqual({});
    expect(factsFromImage("mariadb", "latest")).toEqual({});
  });

  it("parse what the probe prints in PHP and database containers", () => {
    expect(parseProbe(DEBIAN_FPM)).toEqual({
      php: {
        version: "8.2.32",
        extensions: ["apcu", "core", "gd", "intl", "opcache", "pdo", "pdo_mysql"],
      },
    });
    expect(
      parseProbe(
        "db=/usr/sbin/mariadbd  Ver 10.11.18-MariaDB-0+deb12u1 for debian-linux-gnu on x86_64 (Debian 12)",
      ),
    ).toEqual({ db: { engine: "mariadb", version: "10.11.18" } });
    expect(
      parseProbe("db=/usr/sbin/mysqld  Ver 10.3.39-MariaDB-0+deb10u1 for debian-linux-gnu"),
    ).toEqual({ db: { engine: "mariadb", version: "10.3.39" } });
    expect(
      parseProbe(
        "db=/usr/sbin/mysqld  Ver 8.0.36 for Linux on x86_64 (MySQL Community Server - GPL)",
      ),
    ).toEqual({ db: { engine: "mysql", version: "8.0.36" } });
    expect(parseProbe("db=postgres (PostgreSQL) 15.5 (Debian 15.5-0+deb12u1)")).toEqual({
      db: { engine: "postgresql", version: "15.5" },
    });
    expect(parseProbe("")).toEqual({});
  });

  it("take declarations from prodlike.yaml with extension names normalized", () => {
    expect(
      declaredFacts({ php: "8.2", extensions: ["Zend OPcache", "intl"], db: "mysql 8.0" }),
    ).toEqual({
      php: { version: "8.2", extensions: ["intl", "opcache"] },
      db: { engine: "mysql", version: "8.0" },
    });
  });

  it("compare versions to the precision production states", () => {
    expect(sameVersion("8.2", "8.2.32")).toBe(true);
    expect(sameVersion("8.2", "8.3.1")).toBe(false);
    expect(sameVersion("10.11.6", "10.11.18")).toBe(false);
  });
});

describe("runtime differences in parity", () => {
  const view = (runtime: RuntimeFacts, name = "php-fpm"): WorkloadView[] => [
    {
      kind: "Deployment",
      name: "web",
      containers: [
        {
          name,
          init: false,
          repository: "r",
          tag: "1",
          ports: [],
          envNames: [],
          configKeys: [],
          probes: [],
          command: [],
          args: [],
          runtime,
        },
      ],
    },
  ];
  const none = { transforms: [], policy: [] };

  it("name the PHP version, missing and extra extensions, and the database engine", () => {
    const differences = compareWorkloads(
      view({
        php: { version: "8.2", extensions: ["intl", "opcache", "redis"] },
        db: { engine: "mariadb", version: "10.11" },
      }),
      view({
        php: { version: "8.3.4", extensions: ["intl", "opcache", "xdebug"] },
        db: { engine: "mysql", version: "8.0.36" },
      }),
      none,
    );
    expect(differences.map(({ field, production, local }) => [field, production, local])).toEqual([
      ["php-version", "8.2", "8.3.4"],
      ["php-extensions-missing", "redis", ""],
      ["php-extensions-extra", "", "xdebug"],
      ["db-engine", "mariadb 10.11", "mysql 8.0.36"],
    ]);
    expect(differences.every((difference) => !difference.expected)).toBe(true);
  });

  it("compare nothing one side does not know, and nothing that matches", () => {
    expect(
      compareWorkloads(
        view({ php: { version: "8.2" } }),
        view({
          php: { version: "8.2.32", extensions: ["intl"] },
          db: { engine: "mariadb", version: "10.11.18" },
        }),
        none,
      ),
    ).toEqual([]);
    expect(compareWorkloads(view({}), view({ php: { version: "7.4.1" } }), none)).toEqual([]);
  });

  it("let the policy allow extra local extensions without hiding missing ones", () => {
    const differences = compareWorkloads(
      view({ php: { version: "8.2", extensions: ["intl", "redis"] } }),
      view({ php: { version: "8.2.1", extensions: ["intl", "xdebug"] } }),
      { transforms: [], policy: [{ field: "php-extensions-extra", reason: "debugging locally" }] },
    );
    expect(differences.map(({ field, expected }) => [field, expected])).toEqual([
      ["php-extensions-missing", false],
      ["php-extensions-extra", true],
    ]);
  });
});
