import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  type FilesSource,
  parseRsyncStats,
  parseUnsafeLinks,
  planFilesPull,
  removeEscapingLinks,
} from "../../../src/files/pull.js";

const ssh = {
  kind: "source" as const,
  name: "prod",
  config: {
    ssh: { host: "web1.example.com", user: "deploy", port: 2222 },
    database: { name: "site" },
  },
};

const base = {
  source: ssh as FilesSource,
  ssh: { identityFile: "~/.ssh/prod key", knownHosts: "/etc/team/known_hosts" },
  remote: "/var/www/site/web/sites/default/files/",
  local: "web/sites/default/files",
  exclude: ["styles/", "css/"],
  codeRoot: "/home/dev/site",
  home: "/home/dev",
};

describe("planFilesPull", () => {
  it("copies production's folder into the checkout with rsync over the source's ssh, deleting only at the end", () => {
    const plan = planFilesPull(base);
    expect(plan.command.file).toBe("rsync");
    expect(plan.command.args).toEqual([
      "--recursive",
      "--links",
      "--safe-links",
      "--verbose",
      "--times",
      "--delete-delay",
      "--delay-updates",
      "--partial-dir=.prodlike-partial",
      "--exclude=.prodlike-partial/",
      "--exclude=styles/",
      "--exclude=css/",
      "--stats",
      "-e",
      "ssh -o BatchMode=yes -o UserKnownHostsFile=/etc/team/known_hosts -i '/home/dev/.ssh/prod key' -o IdentitiesOnly=yes -p 2222 -l deploy",
      "--",
      "web1.example.com:/var/www/site/web/sites/default/files/",
      "/home/dev/site/web/sites/default/files/",
    ]);
  });

  it("never writes outside the code root, and wants a known source and a remote folder", () => {
    expect(() => planFilesPull({ ...base, local: "../elsewhere" })).toThrow(/inside the code root/);
    expect(() => planFilesPull({ ...base, local: "." })).toThrow(/inside the code root/);
    expect(() =>
      planFilesPull({ ...base, source: { kind: "source", name: "prod", config: undefined } }),
    ).toThrow(/No pull source prod/);
    expect(() => planFilesPull({ ...base, remote: undefined })).toThrow(/folder on production/);
  });

  it("reaches a pod with kubectl exec and a container with docker exec, through sh -c", () => {
    const through = (config: Record<string, unknown>) => {
      const args = planFilesPull({
        ...base,
        source: { kind: "source", name: "prod", config: { ...config, database: { name: "site" } } },
      }).command.args;
      return args.slice(args.indexOf("-e") + 1, args.indexOf("-e") + 5);
    };
    expect(
      through({
        kubectl: { context: "prod", namespace: "shop", target: "deploy/web", container: "php" },
      }),
    ).toEqual([
      `sh -c 'exec kubectl --context prod --namespace shop exec -i deploy/web -c php -- "$@"'`,
      "--",
      "production:/var/www/site/web/sites/default/files/",
      "/home/dev/site/web/sites/default/files/",
    ]);
    expect(through({ docker: { container: "shop_web_1", host: "ssh://deploy@prod" } })[0]).toBe(
      `sh -c 'exec docker -H ssh://deploy@prod exec -i shop_web_1 "$@"'`,
    );
    expect(() => through({ docker: { container: "web'; rm -rf /" } })).toThrow(
      /cannot be passed to rsync's remote shell/,
    );
  });

  it("takes a drush alias's ssh host, user and files folder (paths.files under its root)", () => {
    const alias = {
      name: "@prod",
      file: "drush/sites/self.site.yml",
      transport: "ssh" as const,
      host: "web1.example.com",
      user: "deploy",
      root: "/var/www/site/web",
    };
    const args = planFilesPull({
      ...base,
      remote: undefined,
      source: { kind: "alias", alias },
    }).command.args;
    expect(args.slice(-3)).toEqual([
      "--",
      "web1.example.com:/var/www/site/web/sites/default/files/",
      "/home/dev/site/web/sites/default/files/",
    ]);
    expect(args[args.indexOf("-e") + 1]).toContain("-l deploy");
    const custom = planFilesPull({
      ...base,
      remote: undefined,
      source: { kind: "alias", alias: { ...alias, filesPath: "files-shared" } },
    }).command.args;
    expect(custom.at(-2)).toBe("web1.example.com:/var/www/site/web/files-shared/");
    expect(() =>
      planFilesPull({
        ...base,
        source: { kind: "alias", alias: { ...alias, transport: "kubectl" } },
      }),
    ).toThrow(/over ssh only/);
  });
});

describe("parseRsyncStats", () => {
  it("reads the files on the source, those copied and their bytes", () => {
    const stats = [
      "Number of files: 5,012 (reg: 5,000, dir: 12)",
      "Number of created files: 3 (reg: 3)",
      "Number of regular files transferred: 3",
      "Total file size: 524,288,000 bytes",
      "Total transferred file size: 1,048,576 bytes",
    ].join("\n");
    expect(parseRsyncStats(stats)).toEqual({ files: 5000, transferred: 3, bytes: 1048576 });
  });
});

describe("symlinks from production", () => {
  it("reads the links rsync left out", () => {
    expect(
      parseUnsafeLinks(
        'sending incremental file list\nignoring unsafe symlink "rel-passwd" -> "../../../../etc/passwd"\nignoring unsafe symlink "a b/s" -> "/etc/shadow"\n./\n',
      ),
    ).toEqual(["rel-passwd -> ../../../../etc/passwd", "a b/s -> /etc/shadow"]);
  });

  it("removes links an older pull left that point outside the folder, keeps the ones inside", async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), "prodlike-files-"));
    await mkdir(path.join(root, "sub"));
    await writeFile(path.join(root, "a.txt"), "a");
    await symlink("../../../../etc/passwd", path.join(root, "rel-passwd"));
    await symlink("../settings.php", path.join(root, "site-settings"));
    await symlink("/etc/hostname", path.join(root, "sub", "abs"));
    await symlink("a.txt", path.join(root, "ok"));
    await symlink("../a.txt", path.join(root, "sub", "ok2"));
    expect((await removeEscapingLinks(root)).sort()).toEqual([
      "rel-passwd -> ../../../../etc/passwd",
      "site-settings -> ../settings.php",
      "sub/abs -> /etc/hostname",
    ]);
    expect((await readdir(root, { recursive: true })).sort()).toEqual([
      "a.txt",
      "ok",
      "sub",
      "sub/ok2",
    ]);
    await rm(root, { recursive: true, force: true });
  });
});
