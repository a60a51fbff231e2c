import type {
  V1CronJob,
  V1Deployment,
  V1PersistentVolumeClaim,
  V1Secret,
  V1StatefulSet,
} from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { loadComposeBase } from "../../../src/topology/compose-base.js";
import { renderCompose } from "../../../src/topology/render-compose.js";
import type { KubeObject } from "../../../src/topology/render-kubernetes.js";
import { drupalTopology, openmageTopology, renderForKind } from "../../support/drupal-topology.js";
import { validateKubeObject } from "../../support/kube-schemas.js";

const base = await loadComposeBase();

function find<T extends KubeObject>(objects: KubeObject[], kind: string, name: string): T {
  const found = objects.find((object) => object.kind === kind && object.metadata?.name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found as T;
}

describe("the openmage preset", () => {
  it("puts Varnish in front: the only published web port is Varnish's", async () => {
    const topology = await openmageTopology();
    const published = topology.services.flatMap((service) =>
      service.ports.map((port) => `${service.name}:${port.name}`),
    );
    expect(published.sort()).toEqual(["db:db", "mail:mail", "varnish:web"]);
    const vcl = topology.configFiles.find((file) => file.name === "default.vcl");
    expect(vcl?.content).toContain('.host = "web";');
  });

  it("mounts media/ as a named volume over the live code, and local.xml for the installer", async () => {
    const topology = await openmageTopology();
    const php = topology.services.find((service) => service.name === "php-fpm");
    expect(php?.mounts).toEqual(
      expect.arrayContaining([
        { type: "code", target: "/var/www/html" },
        { type: "volume", volume: "media", target: "/var/www/html/media" },
        {
          type: "config",
          file: "local.xml",
          target: "/var/www/html/app/etc/local.xml",
          writable: true,
        },
      ]),
    );
    // nginx reaches the checkout's own media/ beside the volume's.
    const web = topology.services.find((service) => service.name === "web");
    expect(web?.mounts).toContainEqual({ type: "code", target: "/var/www/checkout" });
    const localXml = topology.configFiles.find((file) => file.name === "local.xml");
    expect(localXml?.secret).toBe(true);
    expect(localXml?.content).toContain("<password><![CDATA[s3cret-password-123]]></password>");
    expect(localXml?.content).toContain("<dbname><![CDATA[openmage]]></dbname>");
  });

  it("dates local.xml's install only for a database that holds a shop", async () => {
    const dateOf = (topology: Awaited<ReturnType<typeof openmageTopology>>) =>
      /<date><!\[CDATA\[([^\]]*)\]\]><\/date>/.exec(
        topology.configFiles.find((file) => file.name === "local.xml")?.content ?? "",
      )?.[1];
    // An empty database: OpenMage must see an installable shop (no date), or its first
    // request runs every setup script against it.
    const empty = await openmageTopology();
    expect(dateOf(empty)).toBe("");
    expect(empty.install).toMatchObject({ installed: false, command: "install" });
    const installed = await openmageTopology({ installed: true });
    expect(dateOf(installed)).toBe("Sat, 01 Jan 2000 00:00:00 +0000");
    expect(installed.commands?.install?.run).toBe(
      "sh /usr/local/share/prodlike/openmage-install.sh",
    );
  });

  it("builds the shared MariaDB image under one name for every preset, one per version", async () => {
    const image = (topology: Awaited<ReturnType<typeof openmageTopology>>) =>
      topology.services.find((service) => service.name === "db")?.image;
    const openmage = image(await openmageTopology());
    expect(openmage).toMatchObject({
      kind: "build",
      tag: expect.stringMatching(/^prodlike\/mariadb:/),
      buildArgs: { DEBIAN_SUITE: "bookworm" },
    });
    expect(openmage).toEqual(
      image(await drupalTopology({ database: { version: "mariadb:10.11" } })),
    );
    expect(image(await drupalTopology())).toMatchObject({ buildArgs: { DEBIAN_SUITE: "trixie" } });
    expect(image(await drupalTopology())).not.toEqual(openmage);
  });

  it("runs cron on compose through prodlike-cron, the job as its command", async () => {
    const { document } = renderCompose(await openmageTopology(), {
      base,
      configDir: "/home/dev/shop/.prodlike/local/config",
    });
    expect(document.services.cron).toMatchObject({
      entrypoint: ["prodlike-cron", "* * * * *", "--"],
      command: ["php", "/var/www/html/cron.php"],
    });
  });

  it("renders valid manifests: nginx + php-fpm in one pod, local.xml from a Secret, cron that never overlaps", async () => {
    const topology = await openmageTopology();
    const { objects } = renderForKind(topology);
    for (const object of objects)
      expect(() => validateKubeObject(object), object.kind).not.toThrow();
    const web = find<V1Deployment>(objects, "Deployment", "web");
    expect(web.spec?.template.spec?.containers.map((container) => container.name)).toEqual([
      "web",
      "php-fpm",
    ]);
    const phpMounts = web.spec?.template.spec?.containers[1]?.volumeMounts ?? [];
    expect(phpMounts).toContainEqual({
      name: "secret-files",
      mountPath: "/var/www/html/app/etc/local.xml",
      subPath: "local.xml",
      readOnly: true,
    });
    const secret = find<V1Secret>(objects, "Secret", "prodlike-secret-files");
    expect(Object.keys(secret.stringData ?? {})).toEqual(["local.xml"]);
    const configMap = objects.find((object) => object.kind === "ConfigMap") as {
      data?: Record<string, string>;
    };
    expect(Object.keys(configMap.data ?? {})).not.toContain("local.xml");
    // media/ is one claim the web pod and the cron jobs share; the database keeps its own.
    find<V1PersistentVolumeClaim>(objects, "PersistentVolumeClaim", "media");
    expect(web.spec?.template.spec?.volumes).toContainEqual({
      name: "media",
      persistentVolumeClaim: { claimName: "media" },
    });
    const db = find<V1StatefulSet>(objects, "StatefulSet", "db");
    expect(db.spec?.volumeClaimTemplates?.map((claim) => claim.metadata?.name)).toEqual([
      "db-data",
    ]);
    const cron = find<V1CronJob>(objects, "CronJob", "cron");
    expect(cron.spec?.jobTemplate.spec?.template.spec?.volumes).toContainEqual({
      name: "media",
      persistentVolumeClaim: { claimName: "media" },
    });
    expect(cron.spec?.concurrencyPolicy).toBe("Forbid");
    expect(cron.spec?.schedule).toBe("* * * * *");
  });
});
