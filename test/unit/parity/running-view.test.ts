import { describe, expect, it } from "vitest";
import { runningViews } from "../../../src/parity/running-view.js";

const labels = (workload: string, container: string, service: string) => ({
  "dev.prodlike.mirror.workload": workload,
  "dev.prodlike.mirror.container": container,
  "dev.prodlike.service": service,
});

describe("runningViews", () => {
  it("reads what the environment set, leaving out what the image sets by itself", () => {
    const [web] = runningViews([
      {
        labels: labels("Deployment/web", "php-fpm", "web-php-fpm"),
        config: {
          image: "prodlike/php:abc",
          env: ["PATH=/usr/bin", "DB_HOST=db", "DB_PASSWORD=local", "affinity:container==1f2e"],
          entrypoint: ["docker-php-entrypoint"],
          cmd: ["php-fpm", "-F"],
          mounts: [
            {
              source: "/code/.prodlike/local/config/configmap-pool/www.conf",
              destination: "/etc/php/pool.d/www.conf",
            },
            { source: "/code", destination: "/var/www/html" },
          ],
          imageDefaults: {
            env: ["PATH=/usr/bin"],
            entrypoint: ["docker-php-entrypoint"],
            cmd: ["php-fpm", "-F"],
          },
        },
      },
      {
        labels: {},
        config: {
          image: "x",
          env: [],
          entrypoint: [],
          cmd: [],
          mounts: [],
          imageDefaults: { env: [], entrypoint: [], cmd: [] },
        },
      },
    ]);
    expect(web).toEqual({
      kind: "Deployment",
      name: "web",
      containers: [
        {
          name: "php-fpm",
          init: false,
          repository: "prodlike/php",
          tag: "abc",
          ports: [],
          envNames: ["DB_HOST", "DB_PASSWORD"],
          configKeys: ["configmap/pool@/etc/php/pool.d/www.conf"],
          probes: [],
          command: [],
          args: [],
          runtime: {},
        },
      ],
    });
  });

  it("tells an init container by its label", () => {
    const [web] = runningViews([
      {
        labels: {
          ...labels("Deployment/web", "migrate", "web-init-migrate"),
          "dev.prodlike.mirror.init": "true",
        },
        config: {
          image: "php:1",
          env: [],
          entrypoint: [],
          cmd: [],
          mounts: [],
          imageDefaults: { env: [], entrypoint: [], cmd: [] },
        },
      },
    ]);
    expect(web?.containers[0]?.init).toBe(true);
  });

  it("reads a CronJob's schedule and job from its loop", () => {
    const [cron] = runningViews([
      {
        labels: labels("CronJob/drush-cron", "cron", "drush-cron"),
        config: {
          image: "php:1",
          env: [],
          entrypoint: ["sh", "-c", "loop", "prodlike-cron", "*/5 * * * *"],
          cmd: ["vendor/bin/drush", "cron"],
          mounts: [],
          imageDefaults: { env: [], entrypoint: [], cmd: ["php", "-a"] },
        },
      },
    ]);
    expect(cron?.schedule).toBe("*/5 * * * *");
    expect(cron?.containers[0]?.command).toEqual(["vendor/bin/drush", "cron"]);
  });
});
