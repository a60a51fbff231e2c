import path from "node:path";
import { Readable } from "node:stream";
import type { Backend, EnvironmentStatus } from "../backends/backend.js";
import { pathExists } from "../env/generated-files.js";
import type { Progress } from "../ui/steps.js";
import type { Target } from "./plan.js";
import { withRouterUrls } from "./router.js";
import type { CoreServices } from "./services.js";

// After the data under an application changes (an import, a pull, a restore, a seed),
// what it keeps in memory is stale: php-fpm's APCu and opcache, and the framework's own
// caches. A reload of php-fpm (USR2 to its master, PID 1: workers restart, the shared
// memory with them) and the framework's cache clear make the next page read the new data.

/** What was refreshed, for the command's output. */
export type RefreshReport = string[];

export async function refreshApplication(
  services: CoreServices,
  backend: Backend,
  status: EnvironmentStatus,
  target: Target,
  progress: Progress,
  options: { proxies?: boolean } = {},
): Promise<RefreshReport> {
  const codeRoot = target.loaded.codeRoot;
  const done: string[] = [];
  // New data may be an installed site where there was none (a pull into a fresh
  // environment), or none where there was one: what reads the install state follows.
  const { followInstallState } = await import("./install.js");
  await followInstallState(services, target, backend, progress);
  const withRole = (role: string) =>
    status.services.filter((service) => service.role === role && service.state === "running");
  const run = (service: string, script: string) =>
    backend.execStream(status.id, { service, command: ["sh", "-c", script] });
  await progress.run([
    {
      title: "Refresh the application's caches",
      run: async (context) => {
        for (const php of withRole("php")) {
          const reloaded = await run(php.name, "kill -USR2 1");
          if (reloaded.exitCode === 0) done.push(`${php.name} reloaded (APCu, opcache)`);
        }
        const cli = withRole("cli")[0];
        if (cli && (await pathExists(path.join(codeRoot, "vendor", "bin", "drush")))) {
          const cleared = await run(cli.name, "vendor/bin/drush cache:rebuild");
          if (cleared.exitCode === 0) done.push("drush cache:rebuild");
          else
            progress.warn(
              `drush cache:rebuild failed (exit ${cleared.exitCode}); run it yourself.`,
            );
        }
        if (options.proxies) {
          for (const proxy of withRole("proxy")) {
            const banned = await run(proxy.name, "varnishadm 'ban req.url ~ .'");
            if (banned.exitCode === 0) done.push(`${proxy.name} cache banned`);
          }
        }
        if (status.preset === "openmage") {
          const db = withRole("db")[0];
          const [routed] = await withRouterUrls(services, [status]);
          const url = status.urls.web;
          // Through the local router, https pages (checkout, admin, a store that is https
          // everywhere) go to https://ENV.PROJECT.localhost; plain ones stay on the port.
          const secureUrl = routed?.urls.https ?? url;
          if (db && url && secureUrl) {
            const pointed = await backend.execStream(status.id, {
              service: db.name,
              command: ["sh", "-c", 'exec mariadb "$MARIADB_DATABASE"'],
              stdin: Readable.from([openMageBaseUrlsSql(url, secureUrl)]),
            });
            if (pointed.exitCode === 0) {
              done.push(
                secureUrl === url
                  ? `base URLs set to ${url}/`
                  : `base URLs set to ${url}/ and ${secureUrl.replace(/\/+$/, "")}/ (secure)`,
              );
            } else progress.warn(`Could not set OpenMage's base URLs: ${pointed.stderr.trim()}`);
          }
          const php = withRole("php")[0];
          if (php) {
            // The OpenMage preset mounts the code at /var/www/html (its codeMountPath).
            const cleared = await run(
              php.name,
              "cd /var/www/html && rm -rf var/cache/* var/full_page_cache/*",
            );
            if (cleared.exitCode === 0) done.push("var/cache emptied");
          }
          for (const cache of withRole("cache")) {
            const flushed = await run(cache.name, "redis-cli -n 0 FLUSHDB");
            if (flushed.exitCode === 0) done.push(`${cache.name} cache database flushed`);
          }
        }
        context.setTitle(
          done.length > 0 ? `Refreshed: ${done.join(", ")}` : "No application caches to refresh",
        );
      },
    },
  ]);
  return done;
}

/**
 * OpenMage keeps its URLs in core_config_data: after a pull they are production's, and
 * every page would redirect there. Points them at this environment (absolute link URLs
 * too; `{{unsecure_base_url}}` placeholders stay; absolute media, skin and JavaScript URLs,
 * a CDN's, become OpenMage's defaults under the base URL) and drops production's cookie
 * domain.
 * Its own mail transport (system/smtp: an SMTP server, SES) would send around PHP's
 * sendmail_path: any transport but sendmail or none becomes plain SMTP to the catcher,
 * without credentials. A database without the table (not a shop yet) is left alone.
 */
export function openMageBaseUrlsSql(url: string, secureUrl = url): string {
  const quoted = (value: string) => `'${value.replace(/\/+$/, "").replace(/'/g, "''")}/'`;
  const base = quoted(url);
  const secure = quoted(secureUrl);
  return [
    "DELIMITER //",
    "BEGIN NOT ATOMIC",
    "  IF EXISTS (SELECT 1 FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'core_config_data') THEN",
    `    UPDATE core_config_data SET value = ${base} WHERE path = 'web/unsecure/base_url';`,
    `    UPDATE core_config_data SET value = ${secure} WHERE path = 'web/secure/base_url';`,
    `    UPDATE core_config_data SET value = ${base} WHERE path = 'web/unsecure/base_link_url' AND value LIKE 'http%';`,
    `    UPDATE core_config_data SET value = ${secure} WHERE path = 'web/secure/base_link_url' AND value LIKE 'http%';`,
    // Media, skin and JavaScript from production's CDN: back to OpenMage's own default,
    // derived from this environment's base URL.
    ...["media", "skin", "js"].flatMap((kind) => [
      `    UPDATE core_config_data SET value = '{{unsecure_base_url}}${kind}/' WHERE path = 'web/unsecure/base_${kind}_url' AND value LIKE 'http%';`,
      `    UPDATE core_config_data SET value = '{{secure_base_url}}${kind}/' WHERE path = 'web/secure/base_${kind}_url' AND value LIKE 'http%';`,
    ]),
    "    UPDATE core_config_data SET value = NULL WHERE path = 'web/cookie/cookie_domain';",
    "    UPDATE core_config_data SET value = 'smtp' WHERE path = 'system/smtp/enabled' AND value NOT IN ('', '0', 'disabled', 'sendmail');",
    "    UPDATE core_config_data SET value = 'mail' WHERE path = 'system/smtp/host';",
    "    UPDATE core_config_data SET value = '1025' WHERE path = 'system/smtp/port';",
    "    UPDATE core_config_data SET value = NULL WHERE path IN ('system/smtp/username', 'system/smtp/password');",
    "  END IF;",
    "END//",
    "DELIMITER ;",
    "",
  ].join("\n");
}
