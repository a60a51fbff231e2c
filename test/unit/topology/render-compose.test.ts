import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadComposeBase } from "../../../src/topology/compose-base.js";
import { Label } from "../../../src/topology/labels.js";
import { renderCompose } from "../../../src/topology/render-compose.js";
import { assignNodePorts, renderKubernetes } from "../../../src/topology/render-kubernetes.js";
import { drupalTopology } from "../../support/drupal-topology.js";

const base = await loadComposeBase();

const golden = fileURLToPath(new URL("../../fixtures/golden/drupal-compose.yml", import.meta.url));

describe("renderCompose", () => {
  it("renders the Drupal preset to the golden compose file", async () => {
    const rendered = renderCompose(await drupalTopology(), {
      base,
      configDir: "/home/dev/shop/.prodlike/local/config",
    });
    if (process.env.UPDATE_GOLDEN === "1") await writeFile(golden, rendered.yaml);
    expect(rendered.yaml).toBe(await readFile(golden, "utf8"));
  });

  it("is deterministic and hashes what it renders", async () => {
    const options = { configDir: "/x", base };
    const a = renderCompose(await drupalTopology(), options);
    const b = renderCompose(await drupalTopology(), options);
    expect(a.yaml).toBe(b.yaml);
    expect(b.serviceHashes).toEqual(a.serviceHashes);
    expect(Object.keys(a.serviceHashes).sort()).toEqual(["cli", "db", "mail", "php-fpm", "web"]);
  });

  it("changes the hashes of the services an env change reaches, and only theirs", async () => {
    const options = { configDir: "/x", base };
    const a = renderCompose(await drupalTopology(), options).serviceHashes;
    // prodlike.yaml env: goes to the services with the application's environment.
    const changed = renderCompose(
      await drupalTopology({ env: { REL: "2" } }),
      options,
    ).serviceHashes;
    expect(changedNames(a, changed)).toEqual(["cli", "php-fpm"]);
  });

  it("changes the hash of the services mounting a config file whose content changed", async () => {
    const topology = await drupalTopology();
    const before = renderCompose(topology, { configDir: "/x", base }).serviceHashes;
    const nginx = topology.configFiles.find((file) => file.name === "nginx.conf");
    if (!nginx) throw new Error("preset has no nginx.conf");
    nginx.content += "\n# changed\n";
    const after = renderCompose(topology, { configDir: "/x", base }).serviceHashes;
    expect(changedNames(before, after)).toEqual(["web"]);
  });

  it("changes php-fpm's hash alone for a PHP extension's image", async () => {
    const options = { configDir: "/x", base };
    const a = renderCompose(await drupalTopology(), options).serviceHashes;
    const b = renderCompose(
      await drupalTopology({ phpExtensions: ["redis"] }),
      options,
    ).serviceHashes;
    // The extension is built into the PHP images (php-fpm and the cli): nothing else moves.
    expect(changedNames(a, b)).toEqual(["cli", "php-fpm"]);
  });

  it("binds every published port to 127.0.0.1", async () => {
    const { document } = renderCompose(await drupalTopology(), { configDir: "/x", base });
    const ports = Object.values(document.services).flatMap((service) => service.ports ?? []);
    expect(ports).toEqual(["127.0.0.1:8080:80", "127.0.0.1:13306:3306", "127.0.0.1:18025:8025"]);
  });

  it("labels every service, the network and the volumes with the environment", async () => {
    const { document } = renderCompose(await drupalTopology(), { configDir: "/x", base });
    for (const service of Object.values(document.services)) {
      expect(service.labels[Label.env]).toBe("shop-local");
      expect(service.labels[Label.managed]).toBe("true");
    }
    expect(document.networks.default?.labels[Label.env]).toBe("shop-local");
    expect(Object.keys(document.volumes ?? {})).toEqual(["db-data", "mail-data"]);
    expect(document.volumes?.["db-data"]).toMatchObject({ labels: { [Label.env]: "shop-local" } });
  });

  it("uses a volume layered on a seed as the engine has it, and hashes the database apart", async () => {
    const topology = await drupalTopology();
    const plain = renderCompose(topology, { configDir: "/x", base });
    const layered = renderCompose(topology, {
      configDir: "/x",
      base,
      externalVolumes: { "db-data": "shop-qa1_db-data" },
    });
    expect(layered.document.volumes?.["db-data"]).toEqual({
      external: true,
      name: "shop-qa1_db-data",
    });
    expect(layered.document.volumes?.["mail-data"]).toMatchObject({ labels: {} });
    // The database's container follows the volume it runs on; the others stay as they are.
    expect(layered.serviceHashes.db).not.toBe(plain.serviceHashes.db);
    expect(layered.serviceHashes.web).toBe(plain.serviceHashes.web);
  });

  it("mounts the live code at the same path in web, php-fpm and cli, and not in db", async () => {
    const { document } = renderCompose(await drupalTopology(), { configDir: "/x", base });
    const codeMount = "/home/dev/shop:/var/www/html";
    for (const name of ["web", "php-fpm", "cli"]) {
      expect(document.services[name]?.volumes).toContain(codeMount);
    }
    expect(document.services.db?.volumes).toEqual(["db-data:/var/lib/mysql"]);
  });

  it("parses back as YAML in the 2.4 format both compose versions accept", async () => {
    const { yaml } = renderCompose(await drupalTopology(), { configDir: "/x", base });
    const parsed = parse(yaml) as {
      version: string;
      services: Record<string, { depends_on?: unknown }>;
    };
    expect(parsed.version).toBe("2.4");
    expect(parsed.services.web?.depends_on).toEqual({
      "php-fpm": { condition: "service_healthy" },
    });
  });
});

describe("ssh access for the cli container (drush sql:sync)", () => {
  const OPTIONS = { configDir: "/home/dev/shop/.prodlike/local/config", base };
  const ssh = {
    agentSocket: "/tmp/ssh-XYZ/agent.123",
    identityFile: "/home/dev/.ssh/id_ed25519",
    knownHosts: "/home/dev/.ssh/known_hosts",
  };

  it("forwards the agent and mounts known_hosts read-only; the key stays on the host", async () => {
    const topology = await drupalTopology({}, ssh);
    const rendered = parse(renderCompose(topology, OPTIONS).yaml);
    const cli = rendered.services.cli;
    expect(cli.volumes).toContain("/tmp/ssh-XYZ/agent.123:/run/prodlike/ssh/agent.sock");
    expect(cli.volumes).toContain("/home/dev/.ssh/known_hosts:/run/prodlike/ssh/known_hosts:ro");
    expect(cli.volumes.join(" ")).not.toContain("id_ed25519");
    expect(cli.environment.SSH_AUTH_SOCK).toBe("/run/prodlike/ssh/agent.sock");
    // Only the cli container gets it.
    expect(JSON.stringify(rendered.services["php-fpm"])).not.toContain("/run/prodlike/ssh");
    const config = topology.configFiles.find((file) => file.name === "ssh_config")?.content;
    expect(config).toContain("BatchMode yes");
    expect(config).not.toContain("StrictHostKeyChecking");
  });

  it("mounts the configured key read-only when there is no agent", async () => {
    const topology = await drupalTopology({}, { ...ssh, agentSocket: undefined });
    const cli = parse(renderCompose(topology, OPTIONS).yaml).services.cli;
    expect(cli.volumes).toContain("/home/dev/.ssh/id_ed25519:/run/prodlike/ssh/id:ro");
    expect(cli.environment.SSH_AUTH_SOCK).toBeUndefined();
  });

  it("is left out on Kubernetes, where the host's socket does not exist", async () => {
    const topology = await drupalTopology({}, ssh);
    const { objects } = renderKubernetes(topology, {
      backend: "kind",
      code: { kind: "node-mount" as const, nodeCodePath: "/prodlike/code" },
      nodePorts: assignNodePorts(topology),
    });
    expect(JSON.stringify(objects)).not.toContain("/run/prodlike/ssh");
    expect(JSON.stringify(objects)).not.toContain("ssh_config");
  });
});

function changedNames(a: Record<string, string>, b: Record<string, string>): string[] {
  return Object.keys(b)
    .filter((name) => a[name] !== b[name])
    .sort();
}
