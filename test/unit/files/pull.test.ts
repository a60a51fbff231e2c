import { describe, expect, it } from "vitest";
import { parseRsyncStats, planFilesPull } from "../../../src/files/pull.js";

const base = {
  sourceName: "prod",
  source: {
    ssh: { host: "web1.example.com", user: "deploy", port: 2222 },
    database: { name: "site" },
  },
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

  it("never writes outside the code root, and wants an ssh source and a remote folder", () => {
    expect(() => planFilesPull({ ...base, local: "../elsewhere" })).toThrow(/inside the code root/);
    expect(() => planFilesPull({ ...base, local: "." })).toThrow(/inside the code root/);
    expect(() => planFilesPull({ ...base, source: undefined })).toThrow(/No pull source prod/);
    expect(() =>
      planFilesPull({
        ...base,
        source: { kubectl: { target: "pod/web-0" }, database: { name: "site" } },
      }),
    ).toThrow(/needs an ssh source/);
    expect(() => planFilesPull({ ...base, remote: undefined })).toThrow(/folder on production/);
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
