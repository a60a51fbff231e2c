import path from "node:path";
import { type PullConfig, type PullSourceConfig, sshOptions } from "../db/pull-plan.js";
import { printable } from "../errors/printable.js";
import { ProdlikeError } from "../errors/prodlike-error.js";
import type { CommandRunner } from "../process/command-runner.js";
import type { Progress } from "../ui/steps.js";

// `files pull`: production's user files (Drupal's public files) into the checkout with
// rsync over ssh, production only ever the source. rsync moves only what changed, and with
// --delay-updates and --delete-delay it renames new files into place and deletes only
// once everything arrived: a connection cut halfway leaves the files as they were.

export interface FilesPullPlan {
  source: string;
  /** The folder on the source. */
  remote: string;
  /** The folder in the checkout, relative to the code root. */
  local: string;
  exclude: string[];
  command: { file: string; args: string[] };
}

export interface FilesPullReport {
  source: string;
  remote: string;
  local: string;
  /** Files on the source (after excludes). */
  files: number;
  /** Files this pull copied (new or changed). */
  transferred: number;
  /** Bytes of those files. */
  bytes: number;
  durationMs: number;
  megabytesPerSecond: number;
}

/** The partial-transfer folder rsync keeps inside the target (excluded from the copy). */
const PARTIAL_DIR = ".prodlike-partial";

export function planFilesPull(input: {
  sourceName: string;
  source: PullSourceConfig | undefined;
  ssh: PullConfig["ssh"];
  remote: string | undefined;
  local: string | undefined;
  exclude: string[];
  codeRoot: string;
  home: string;
}): FilesPullPlan {
  const { source, sourceName } = input;
  if (!source?.ssh) {
    throw new ProdlikeError(
      "USAGE",
      source
        ? `files pull needs an ssh source; ${sourceName} is reached another way`
        : `No pull source ${sourceName} in prodlike.yaml`,
      {
        hint: "Name a source under pull.sources with ssh: { host, user } (files.from, or the argument).",
      },
    );
  }
  if (!input.remote) {
    throw new ProdlikeError("USAGE", "files pull needs the folder on production", {
      hint: "Set files.remote in prodlike.yaml (e.g. /var/www/site/web/sites/default/files).",
    });
  }
  if (!input.local) {
    throw new ProdlikeError("NOT_SUPPORTED", "This preset has no files folder in the code tree", {
      hint: "Set files.local to a folder of the checkout (OpenMage's media/ volume is not supported yet).",
    });
  }
  const target = path.resolve(input.codeRoot, input.local);
  if (target === input.codeRoot || !target.startsWith(`${input.codeRoot}${path.sep}`)) {
    throw new ProdlikeError("UNSAFE_TARGET", `files.local must be a folder inside the code root`, {
      hint: `${input.local} resolves to ${target}. Nothing was run.`,
    });
  }
  const shell = ["ssh", ...sshOptions(source.ssh, input.ssh, input.home)]
    .map((part) => (/^[\w./:=@,+-]+$/.test(part) ? part : `'${part.replace(/'/g, "'\\''")}'`))
    .join(" ");
  const remote = `${source.ssh.host}:${input.remote.replace(/\/+$/, "")}/`;
  return {
    source: sourceName,
    remote: input.remote,
    local: input.local,
    exclude: input.exclude,
    command: {
      file: "rsync",
      args: [
        "--recursive",
        "--links",
        "--times",
        "--delete-delay",
        "--delay-updates",
        `--partial-dir=${PARTIAL_DIR}`,
        `--exclude=${PARTIAL_DIR}/`,
        ...input.exclude.map((pattern) => `--exclude=${pattern}`),
        "--stats",
        "-e",
        shell,
        "--",
        remote,
        `${target}/`,
      ],
    },
  };
}

export async function runFilesPull(
  plan: FilesPullPlan,
  runner: CommandRunner,
  progress: Progress,
): Promise<FilesPullReport> {
  const started = Date.now();
  let stats = { files: 0, transferred: 0, bytes: 0 };
  await progress.run([
    {
      title: `rsync ${plan.remote} from ${plan.source} into ${plan.local}`,
      run: async (context) => {
        const result = await runner.run(plan.command.file, plan.command.args);
        if (result.notFound) {
          throw new ProdlikeError("TOOL_MISSING", "rsync is not installed on this machine", {
            hint: "Install it (Debian: apt-get install rsync); production needs rsync too.",
          });
        }
        if (result.exitCode !== 0) {
          throw new ProdlikeError(
            "PULL_FAILED",
            `rsync from ${plan.source} failed (exit ${result.exitCode})`,
            {
              hint: `${printable(result.stderr.trim().split("\n").slice(-6).join("\n"))}\nThe files already here were left as they were.`,
            },
          );
        }
        stats = parseRsyncStats(result.stdout);
        context.setTitle(
          `Pulled ${plan.local}: ${stats.transferred} of ${stats.files} files changed, ${(stats.bytes / 1e6).toFixed(1)} MB`,
        );
      },
    },
  ]);
  const durationMs = Date.now() - started;
  return {
    source: plan.source,
    remote: plan.remote,
    local: plan.local,
    ...stats,
    durationMs,
    megabytesPerSecond: stats.bytes / 1e6 / Math.max(durationMs / 1000, 0.001),
  };
}

/** rsync --stats: files on the source, regular files copied, and their bytes. */
export function parseRsyncStats(output: string): {
  files: number;
  transferred: number;
  bytes: number;
} {
  const number = (label: RegExp) => {
    const match = label.exec(output);
    return match?.[1] ? Number(match[1].replace(/[,.](?=\d{3}\b)/g, "")) : 0;
  };
  return {
    files: number(/Number of files: [\d,.]+ \(reg: (\d(?:[\d,.]*\d)?)/),
    transferred: number(/Number of regular files transferred: (\d(?:[\d,.]*\d)?)/),
    bytes: number(/Total transferred file size: (\d(?:[\d,.]*\d)?) bytes/),
  };
}
