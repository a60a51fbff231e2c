import { describe, expect, it } from "vitest";
import { configSchema } from "../../../src/config/schema.js";
import { isProdlikeError } from "../../../src/errors/prodlike-error.js";
import { findService } from "../../../src/topology/model.js";
import { topologyFromPreset } from "../../../src/topology/preset-importer.js";
import { loadPreset } from "../../../src/topology/preset-loader.js";
import { DEVELOPER, drupalTopology, openmageTopology } from "../../support/drupal-topology.js";

describe("topologyFromPreset (drupal)", () => {
  it("injects the database settings into the code containers only", async () => {
    const topology = await drupalTopology();
    for (const name of ["php-fpm", "cli"]) {
      const env = findService(topology, name)?.env ?? {};
      expect(env).toMatchObject({
        DB_HOST: "db",
        DB_PORT: "3306",
        DB_NAME: "drupal",
        DB_USER: "drupal",
        DB_PASSWORD: "s3cret-password-123",
        PRODLIKE_ENV: "shop-local",
        PRODLIKE_URL: "http://127.0.0.1:8080",
      });
    }
    expect(findService(topology, "web")?.env).toEqual({});
    expect(findService(topology, "db")?.env).toEqual({
      MARIADB_DATABASE: "drupal",
      MARIADB_USER: "drupal",
      MARIADB_PASSWORD: "s3cret-password-123",
    });
  });

  it("applies prodlike.yaml: database names, docroot, extra env, per-service env", async () => {
    const topology = await drupalTopology({
      docroot: "docroot/",
      database: { name: "shopdb", user: "shop" },
      env: { APP_ENV: "local" },
      services: { cli: { env: { DRUSH_OPTIONS_URI: "http://shop.localhost" } } },
    });
    expect(findService(topology, "php-fpm")?.env).toMatchObject({
      DB_NAME: "shopdb",
      APP_ENV: "local",
    });
    expect(findService(topology, "cli")?.env.DRUSH_OPTIONS_URI).toBe("http://shop.localhost");
    expect(findService(topology, "web")?.env.APP_ENV).toBeUndefined();
    const nginx = topology.configFiles.find((file) => file.name === "nginx.conf")?.content ?? "";
    expect(nginx).toContain("root /var/www/html/docroot;");
    expect(topology.codeFiles.map((file) => file.path)).toEqual([
      "docroot/sites/default/settings.prodlike.php",
      "docroot/sites/default/settings.php",
      "docroot/sites/default/prodlike.services.yml",
    ]);
  });

  it("runs production's own image for a service, keeping its mounts, env and health check", async () => {
    const preset = findService(await drupalTopology(), "php-fpm");
    const topology = await drupalTopology({
      services: { "php-fpm": { image: "registry.example.com/shop/php:2024.11" } },
    });
    const php = findService(topology, "php-fpm");
    expect(php?.image).toEqual({ kind: "pull", ref: "registry.example.com/shop/php:2024.11" });
    expect(php?.mounts).toEqual(preset?.mounts);
    expect(php?.env).toEqual(preset?.env);
    expect(php?.health).toEqual(preset?.health);
    // The other services keep the preset's builds.
    expect(findService(topology, "web")?.image.kind).toBe("build");
  });

  it("sets a dev opcache so a saved file is served at once", async () => {
    const topology = await drupalTopology();
    const ini = topology.configFiles.find((file) => file.name === "php.ini")?.content ?? "";
    expect(ini).toMatch(/^opcache\.validate_timestamps = 1$/m);
    expect(ini).toMatch(/^opcache\.revalidate_freq = 0$/m);
  });

  it("keeps the password (and the app's own secret and key) in the topology's secrets for redaction", async () => {
    expect((await drupalTopology()).secrets).toEqual([
      "s3cret-password-123",
      expect.stringMatching(/^[0-9a-f]{32}$/),
      // The same secret as Laravel's APP_KEY takes it.
      expect.stringMatching(/^base64:[A-Za-z0-9+/]{43}=$/),
    ]);
  });

  it("gives the services running the code the CA bundle this machine trusts", async () => {
    const preset = await loadPreset("drupal");
    const topology = topologyFromPreset(preset, configSchema.parse({}), {
      identity: { project: "shop", name: "local", id: "shop-local" },
      codeRoot: "/home/dev/shop",
      hostPorts: { web: 8080, db: 13306, mail: 18025 },
      dbPassword: "s3cret-password-123",
      hostCaBundle: "/etc/ssl/certs/ca-certificates.crt",
    });
    const bundled = topology.services
      .filter((service) =>
        service.mounts.some(
          (mount) => mount.type === "host" && mount.target === "/etc/ssl/certs/ca-certificates.crt",
        ),
      )
      .map((service) => service.name)
      .sort();
    expect(bundled).toEqual(["cli", "php-fpm"]);
  });

  it("uses content-addressed image tags", async () => {
    const topology = await drupalTopology();
    for (const service of topology.services) {
      expect(service.image.kind).toBe("build");
      if (service.image.kind === "build")
        expect(service.image.tag).toMatch(/^prodlike\/(drupal-)?[a-z-]+:[0-9a-f]{12}-[0-9a-f]{6}$/);
    }
  });

  it("rejects an override for a service the preset does not have", async () => {
    const error = await drupalTopology({ services: { solr: { env: {} } } }).catch(
      (caught: unknown) => caught,
    );
    expect(isProdlikeError(error) && error.code).toBe("CONFIG_INVALID");
    expect(String((error as Error).message)).toContain("services.solr");
  });
});

describe("running as the developer", () => {
  it("runs every service that touches the code as the host user, the database as its image", async () => {
    const topology = await drupalTopology();
    const users = Object.fromEntries(
      topology.services.map((service) => [service.name, service.user]),
    );
    expect(users).toEqual({ web: DEVELOPER, "php-fpm": DEVELOPER, cli: DEVELOPER, db: undefined });
    expect(topology.codeFolders).toEqual(["web/sites/default/files", "private", "config/sync"]);
    const cli = topology.services.find((service) => service.name === "cli");
    expect(cli?.env.DRUSH_OPTIONS_URI).toBe("http://127.0.0.1:8080");
  });

  it("lets OpenMage's root cron drop to the developer, with a crypt key that is not the password", async () => {
    const topology = await openmageTopology();
    const cron = topology.services.find((service) => service.name === "cron");
    expect(cron?.user).toBeUndefined();
    expect(cron?.env.PRODLIKE_RUN_AS).toBe("1001:1001");
    const localXml = topology.configFiles.find((file) => file.name === "local.xml")?.content ?? "";
    expect(localXml).toContain("<password><![CDATA[s3cret-password-123]]></password>");
    expect(localXml).not.toContain("<key><![CDATA[s3cret-password-123]]></key>");
    const nginx = topology.configFiles.find((file) => file.name === "nginx.conf")?.content ?? "";
    expect(nginx).toContain("fastcgi_param SERVER_PORT $prodlike_server_port;");
    expect(nginx).toContain(`"" 8080;`);
  });
});

describe("files.proxy", () => {
  it("renders nginx locations that fetch a missing file once from production and store it", async () => {
    const off = await drupalTopology();
    const nginxOff = off.configFiles.find((file) => file.name === "nginx.conf")?.content ?? "";
    expect(nginxOff).not.toContain("prodlike_files_proxy");
    const on = await drupalTopology({ files: { proxy: "https://www.example.com/" } });
    const nginx = on.configFiles.find((file) => file.name === "nginx.conf")?.content ?? "";
    expect(nginx).toContain("location ~ ^/sites/default/files/(?!styles/) {");
    expect(nginx).toContain("set $prodlike_files_origin https://www.example.com;");
    expect(nginx).toContain("proxy_set_header Host www.example.com;");
    expect(nginx).toContain("proxy_store on;");
    // The PHP-in-files denial still comes first.
    expect(nginx.indexOf("files/.*\\.php$ { return 403; }")).toBeLessThan(
      nginx.indexOf("prodlike_files_proxy"),
    );
  });
});

describe("the Drupal preset's development settings", () => {
  it("recompile a Twig template when its file changes, without debug markup", async () => {
    const topology = await drupalTopology();
    const services = topology.codeFiles.find((file) =>
      file.path.endsWith("sites/default/prodlike.services.yml"),
    );
    const settings = topology.codeFiles.find((file) =>
      file.path.endsWith("sites/default/settings.prodlike.php"),
    );
    const { parse } = await import("yaml");
    expect(parse(services?.content ?? "")).toEqual({
      parameters: { "twig.config": { debug: false, auto_reload: true, cache: true } },
    });
    // settings.prodlike.php loads it (and prodlike checks that it does).
    expect(settings?.content).toContain(
      "$settings['container_yamls'][] = __DIR__ . '/prodlike.services.yml';",
    );
    expect(services?.referencedBy).toBe("web/sites/default/settings.prodlike.php");
  });
});
