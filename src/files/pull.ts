import { readdir, readlink, rm } from "node:fs/promises";
import path from "node:path";
import type { DrushAlias } from "../db/drush-aliases.js";
import { execWords, type PullConfig, type PullSourceConfig, sshOptions } from "../db/pull-plan.js";
import { printable } from "../errors/printable.js";
import { ProdlikeError } from "../errors/prodlike-error.js";
import type { CommandRunner } from "../process/command-runner.js";
import type { Progress } from "../ui/steps.js";
import { type CopyChanges, parseChanges } from "./volume-copy.js";

// `files pull`: production's user files (Drupal's public files) into the checkout with
// rsync over the pull source's transport (ssh, docker exec, kubectl exec; a drush alias's
// ssh host and root), production only ever the source. rsync moves only what changed, and with
// --delay-updates and --delete-delay it renames new files into place and deletes only
// once everything arrived: a connection cut halfway leaves the files as they were.
//
// Production's files are not trusted: a symlink in them that points outside the files
// folder (`../../../../etc/passwd`, `../settings.php`, an absolute path) is never copied
// (--safe-links), one an older pull left is removed, and the summary names them.

export interface FilesPullPlan {
  source: string;
  /** The pull lists what it changed (`>path`, `deleting path`): a volume copy needs it. */
  itemize: boolean;
  /** The folder on the source. */
  remote: string;
  /** The folder in the checkout, relative to the code root. */
  local: string;
  /** Where the files land, absolute (the checkout's folder, or prodlike's copy). */
  target: string;
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
  /** With an itemized plan: what changed. */
  changes?: CopyChanges;
  /** Symlinks pointing outside the files folder, left out (`name -> target`). */
  unsafeLinks: string[];
}

/** The partial-transfer folder rsync keeps inside the target (excluded from the copy). */
const PARTIAL_DIR = ".prodlike-partial";

/** Where production's files come from: a pull source, or a drush alias's host and root. */
export type FilesSource =
  | { kind: "source"; name: string; config: PullSourceConfig | undefined }
  | { kind: "alias"; alias: DrushAlias };

export function planFilesPull(input: {
  source: FilesSource;
  /** prodlike's own copy (absolute), for a files folder that lives in a volume. */
  into?: string | undefined;
  ssh: PullConfig["ssh"];
  remote: string | undefined;
  local: string | undefined;
  exclude: string[];
  codeRoot: string;
  home: string;
}): FilesPullPlan {
  const { source } = input;
  const sourceName = source.kind === "alias" ? source.alias.name : source.name;
  const remote = input.remote ?? aliasFilesFolder(source);
  if (!remote) {
    throw new ProdlikeError("USAGE", "files pull needs the folder on production", {
      hint: "Set files.remote in prodlike.yaml (e.g. /var/www/site/web/sites/default/files).",
    });
  }
  if (!input.local) {
    throw new ProdlikeError("NOT_SUPPORTED", "This preset has no files folder", {
      hint: "Set files.local to a folder of the checkout.",
    });
  }
  const target = input.into ?? path.resolve(input.codeRoot, input.local);
  if (
    !input.into &&
    (target === input.codeRoot || !target.startsWith(`${input.codeRoot}${path.sep}`))
  ) {
    throw new ProdlikeError("UNSAFE_TARGET", `files.local must be a folder inside the code root`, {
      hint: `${input.local} resolves to ${target}. Nothing was run.`,
    });
  }
  const shell = remoteShell(source, input.ssh, input.home);
  return {
    source: sourceName,
    itemize: input.into !== undefined,
    remote,
    local: input.local,
    target,
    exclude: input.exclude,
    command: {
      file: "rsync",
      args: [
        "--recursive",
        "--links",
        // Symlinks out of the tree (and every absolute one) are not copied; --verbose is
        // what makes rsync name them.
        "--safe-links",
        "--verbose",
        "--times",
        "--delete-delay",
        "--delay-updates",
        `--partial-dir=${PARTIAL_DIR}`,
        `--exclude=${PARTIAL_DIR}/`,
        ...input.exclude.map((pattern) => `--exclude=${pattern}`),
        "--stats",
        ...(input.into ? ["--out-format=>%n"] : []),
        "-e",
        shell.command,
        "--",
        `${shell.host}:${remote.replace(/\/+$/, "")}/`,
        `${target}/`,
      ],
    },
  };
}

/** The files folder a drush alias names: `paths.files` (under its root unless absolute),
 *  else Drupal's default under the root, as `drush rsync @alias:%files` reads it. */
function aliasFilesFolder(source: FilesSource): string | undefined {
  if (source.kind !== "alias" || !source.alias.root) return undefined;
  const files = source.alias.filesPath ?? "sites/default/files";
  return files.startsWith("/") ? files : path.posix.join(source.alias.root, files);
}

/**
 * How rsync reaches the source (its `-e`, and the host part of the remote path): ssh as
 * it is; `docker exec -i` and `kubectl exec -i` through `sh -c`, which drops the host
 * word rsync puts before its server command (a kubectl target such as deploy/web cannot
 * be that word: rsync would take a path with a slash before the colon for a local one).
 */
function remoteShell(
  source: FilesSource,
  ssh: PullConfig["ssh"],
  home: string,
): { command: string; host: string } {
  if (source.kind === "alias") {
    const { alias } = source;
    if (alias.transport !== "ssh" || !alias.host) {
      throw new ProdlikeError(
        "NOT_SUPPORTED",
        `files pull reads drush alias ${alias.name} over ssh only; it uses ${alias.transport}`,
        {
          hint: "Name a pull source under pull.sources (kubectl: or docker:) and pass it: prodlike files pull SOURCE.",
        },
      );
    }
    return {
      command: shellWords([
        "ssh",
        ...sshOptions({ host: alias.host, user: alias.user }, ssh, home),
      ]),
      host: alias.host,
    };
  }
  const config = source.config;
  if (!config) {
    throw new ProdlikeError("USAGE", `No pull source ${source.name} in prodlike.yaml`, {
      hint: "Name a source under pull.sources (ssh:, kubectl: or docker:), or a drush alias (@prod).",
    });
  }
  if (config.ssh) {
    return {
      command: shellWords(["ssh", ...sshOptions(config.ssh, ssh, home)]),
      host: config.ssh.host,
    };
  }
  if (!config.kubectl && !config.docker) {
    throw new ProdlikeError("INTERNAL", `pull source ${source.name} has no transport`);
  }
  return { command: throughShell(execWords(config)), host: "production" };
}

// `sh -c 'exec WORDS "$@"'` as one rsync -e string: rsync runs it with the host word as $0
// and its server command as "$@". The words are names from prodlike.yaml, checked to need
// no quoting inside the single quotes.
function throughShell(words: readonly string[]): string {
  for (const word of words) {
    if (!/^[\w./:=@,+-]+$/.test(word)) {
      throw new ProdlikeError("USAGE", `\`${word}\` cannot be passed to rsync's remote shell`, {
        hint: "Use plain names (letters, digits, . / : = @ , + -) in the pull source.",
      });
    }
  }
  return `sh -c 'exec ${words.join(" ")} "$@"'`;
}

/** Words as one rsync -e string: rsync splits on spaces and honours quotes. */
function shellWords(words: readonly string[]): string {
  return words
    .map((part) => (/^[\w./:=@,+-]+$/.test(part) ? part : `'${part.replace(/'/g, "'\\''")}'`))
    .join(" ");
}

export async function runFilesPull(
  plan: FilesPullPlan,
  runner: CommandRunner,
  progress: Progress,
): Promise<FilesPullReport> {
  const started = Date.now();
  let stats = { files: 0, transferred: 0, bytes: 0 };
  let changes: CopyChanges | undefined;
  let unsafeLinks: string[] = [];
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
        if (plan.itemize) changes = parseChanges(result.stdout);
        unsafeLinks = [
          ...new Set([
            ...parseUnsafeLinks(`${result.stdout}\n${result.stderr}`),
            ...(await removeEscapingLinks(plan.target)),
          ]),
        ].sort();
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
    ...(changes ? { changes } : {}),
    unsafeLinks,
  };
}

/** rsync --safe-links --verbose: `ignoring unsafe symlink "NAME" -> "TARGET"`. */
export function parseUnsafeLinks(output: string): string[] {
  return [...output.matchAll(/^ignoring unsafe symlink "(.*)" -> "(.*)"$/gm)].map(
    ([, name, target]) => `${name} -> ${target}`,
  );
}

/** Removes the symlinks under `root` that point outside it (or anywhere absolute): what an
 *  older pull copied, which rsync's --safe-links leaves in place. Resolves `name -> target`. */
export async function removeEscapingLinks(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  const removed: string[] = [];
  for (const entry of entries) {
    if (!entry.isSymbolicLink()) continue;
    const link = path.join(entry.parentPath, entry.name);
    const target = await readlink(link);
    const resolved = path.resolve(path.dirname(link), target);
    const inside = !path.isAbsolute(target) && resolved.startsWith(`${root}${path.sep}`);
    if (inside) continue;
    await rm(link, { force: true });
    removed.push(`${path.relative(root, link)} -> ${target}`);
  }
  return removed;
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
