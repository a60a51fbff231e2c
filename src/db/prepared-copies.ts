import type { Readable } from "node:stream";
import type { Backend, StreamExecResult } from "../backends/backend.js";
import { ProdlikeError } from "../errors/prodlike-error.js";

// Snapshots kept ready to switch: each one unpacked and prepared (mariabackup --prepare)
// once, in .prodlike-prepared/NAME on the database's own volume, beside the live data
// folder. A restore then renames it into place (one rename on the same file system, in
// no time whatever the database's size) and restarts the server on it.
//
// Integrity: the stream was checked against the snapshot's sha256 as it was prepared;
// the prepared folder carries a manifest (each file's size, and hashes of every file's
// first and last 16 KiB: InnoDB's page 0, which holds the tablespace's id, size and
// flags, and the newest pages) that is checked again before the switch. That catches a truncated,
// replaced or emptied file without reading the whole database; a bit flipped in the
// middle of a page is InnoDB's own page checksum's to catch at read time.
//
// The live data must itself be in a folder of the volume (as every volume made since
// prepared copies exist is): a copy beside data at the volume's top level would sit
// inside the server's data directory. Such an environment keeps the cold path until its
// first restore or seed moves the data into a folder.

/**
 * Shell lines that give a prepared backup in `dir` the mariadb_upgrade_info its server
 * had: mariabackup leaves the file out, and without it the entrypoint would take the data
 * for another MariaDB's and run mariadb-upgrade on a private server first (most of a
 * restore's time). The version is the one the backup itself records, so data from an
 * older MariaDB is still upgraded.
 */
export function upgradeInfoFromBackup(dir: string): string {
  return `if [ ! -f "${dir}/mariadb_upgrade_info" ]; then
  version=$(sed -n 's/^server_version = \\([0-9][0-9.]*-MariaDB\\).*/\\1/p' "${dir}/mariadb_backup_info" "${dir}/xtrabackup_info" 2>/dev/null | head -n 1)
  if [ -n "$version" ]; then printf '%s\\n' "$version" > "${dir}/mariadb_upgrade_info"; fi
fi`;
}

/** How many of the newest snapshots are kept prepared when prodlike.yaml does not say. */
export const DEFAULT_READY_SNAPSHOTS = 2;

const ROOT = "/var/lib/mysql";
const PREPARED = `${ROOT}/.prodlike-prepared`;

// $1: the snapshot name. Exit 3: the live data is at the volume's top level.
const PREPARE_COPY_SCRIPT = `set -eu
[ -f ${ROOT}/.prodlike-current ] || exit 3
mkdir -p ${PREPARED}
new="${PREPARED}/$1"
trap 'rm -rf "$new.partial" "$new.manifest.partial"' EXIT
# What a preparation killed with its container left (its trap never ran): one prodlike
# at a time works on an environment's data, so no other preparation is under way.
rm -rf ${PREPARED}/*.partial
rm -rf "$new" "$new.manifest"
mkdir "$new.partial"
mbstream -x -C "$new.partial"
mariabackup --prepare --target-dir="$new.partial" >/tmp/prodlike-prepare-copy.log 2>&1 || { tail -n 20 /tmp/prodlike-prepare-copy.log >&2; exit 1; }
${upgradeInfoFromBackup("$new.partial")}
chown -R mysql:mysql "$new.partial"
cd "$new.partial"
{ ${manifestCommand()}; } > "$new.manifest.partial"
cd /
mv "$new.partial" "$new"
mv "$new.manifest.partial" "$new.manifest"
trap - EXIT`;

// $1: the snapshot name, $2: the new live folder's name. Exit 4: the manifest no longer
// matches (nothing was moved). Prints the folder in use before.
const TAKE_COPY_SCRIPT = `set -eu
copy="${PREPARED}/$1"
[ -d "$copy" ] && [ -f "$copy.manifest" ] || exit 5
actual=$(cd "$copy" && ${manifestCommand()})
[ "$actual" = "$(cat "$copy.manifest")" ] || exit 4
mv "$copy" "${ROOT}/$2"
rm -f "$copy.manifest"
cat ${ROOT}/.prodlike-current 2>/dev/null || true`;

// $1: the snapshot name. Exit 5: no copy; exit 4: its manifest no longer matches.
const CHECK_COPY_SCRIPT = `set -eu
copy="${PREPARED}/$1"
[ -d "$copy" ] && [ -f "$copy.manifest" ] || exit 5
actual=$(cd "$copy" && ${manifestCommand()})
[ "$actual" = "$(cat "$copy.manifest")" ] || exit 4`;

// $1: the snapshot name. Run in a throwaway container with the data volume mounted
// read-only at ${ROOT} and a new seed volume at $SEED (see backends' seed volumes): the
// prepared copy, checked against its manifest, copied into the seed as a data volume lays
// it out (a data folder and the pointer to it), checked again there, then shaped for the
// environments layered on it (SEED_SHAPE_SCRIPT); the pointer is written last, so a seed
// without it is one whose filling did not finish.
// Exit 5: no copy; exit 4: a manifest did not match; exit 6: the shaping server failed
// (its log's end on stderr).
function exportSeedScript(seed: string): string {
  return `set -eu
copy="${PREPARED}/$1"
[ -d "$copy" ] && [ -f "$copy.manifest" ] || exit 5
actual=$(cd "$copy" && ${manifestCommand()})
[ "$actual" = "$(cat "$copy.manifest")" ] || exit 4
rm -rf "${seed}/${SEED_DATA}" "${seed}/.prodlike-current"
cp -a "$copy" "${seed}/${SEED_DATA}"
copied=$(cd "${seed}/${SEED_DATA}" && ${manifestCommand()})
[ "$copied" = "$actual" ] || exit 4
${SEED_SHAPE_SCRIPT.replaceAll("$DATA", `${seed}/${SEED_DATA}`)}
printf '%s\\n' ${SEED_SERVER_OPTIONS.join(" ")} > "${seed}/.prodlike-server-options"
printf %s ${SEED_DATA} > "${seed}/.prodlike-current"`;
}

// What a server layered on a seed runs with (the MariaDB image's entrypoint reads them
// from the volume). Overlayfs copies a file up whole when it is first opened for writing,
// and InnoDB opens its system files read-write at every start: each of them costs its
// full size in every environment's own layer before the first row is written. So they
// are made small: the redo log and temporary tablespace InnoDB writes at every start
// (not 96 MB and 12 MB, grown by 64 MB at a time), no undo tablespaces (three of 10 MB
// each by default; the undo log lives in the system tablespace instead, which is copied
// up anyway), and the system tablespace as small as the seed's shaping left it.
const SEED_SERVER_OPTIONS = [
  "--innodb-log-file-size=4M",
  "--innodb-temp-data-file-path=ibtmp1:1M:autoextend",
  "--innodb-autoextend-increment=1",
  "--innodb-undo-tablespaces=0",
  "--innodb-data-file-path=ibdata1:1M:autoextend",
];

// Run once on a seed's copy, as root in the source's database image, with $DATA its data
// folder. The copy's undo tablespaces can only be given up after a slow shutdown (every
// undo record purged): a first server runs with the copy's own count and shuts down
// slowly; a second one reinitialises them as none, shrinks the system tablespace to what
// it uses (autoshrink) and shuts down slowly too, so environments start on clean data,
// with no recovery to run. Grant tables are skipped: the copy's accounts are whatever the
// snapshot held, and nothing but this script can reach the socket.
const SEED_SHAPE_SCRIPT = `shape_log=/tmp/prodlike-seed-shape.log
shape_socket=/tmp/prodlike-seed-shape.sock
undo=$(ls "$DATA" | grep -c '^undo[0-9][0-9]*$' || true)
shape() {
  mariadbd --user=mysql --datadir="$DATA" --skip-networking --skip-grant-tables \\
    --socket="$shape_socket" --log-error="$shape_log" --innodb-log-file-size=4M "$@" &
  shape_pid=$!
  i=0
  until mariadb-admin --socket="$shape_socket" ping >/dev/null 2>&1; do
    i=$((i + 1))
    if [ "$i" -gt 2400 ] || ! kill -0 "$shape_pid" 2>/dev/null; then
      kill "$shape_pid" 2>/dev/null || true
      tail -n 5 "$shape_log" >&2
      exit 6
    fi
    sleep 0.25
  done
  mariadb --socket="$shape_socket" -e "SET GLOBAL innodb_fast_shutdown = 0" &&
    mariadb-admin --socket="$shape_socket" shutdown || { tail -n 5 "$shape_log" >&2; exit 6; }
  wait "$shape_pid" || { tail -n 5 "$shape_log" >&2; exit 6; }
}
shape --innodb-undo-tablespaces="$undo" --innodb-data-file-path=ibdata1:1M:autoextend
shape --innodb-undo-tablespaces=0 --innodb-data-file-path=ibdata1:1M:autoextend:autoshrink`;

/** The data folder's name in a seed (and so in every environment layered on it). */
const SEED_DATA = "data-seed";

/** The command that fills a seed mounted at `seed` from snapshot `name`'s prepared copy. */
export function exportSeedCommand(name: string, seed: string): string[] {
  return ["sh", "-c", exportSeedScript(seed), "export-seed", name];
}

/** A shell script given a data volume's folder as $1: passes when it holds a whole seed. */
export const SEED_CHECK_SCRIPT = `[ -f "$1/.prodlike-current" ] && [ -d "$1/$(cat "$1/.prodlike-current")/mysql" ]`;

// One line per prepared copy: name and bytes.
const LIST_COPIES_SCRIPT = `cd ${PREPARED} 2>/dev/null || exit 0
for manifest in *.manifest; do
  [ -f "$manifest" ] || continue
  name=\${manifest%.manifest}
  [ -d "$name" ] && printf '%s %s\\n' "$name" "$(du -sb "$name" | cut -f1)"
done`;

// A handful of processes whatever the number of tables: every file's size and path in
// one listing, then one hash over all first 16 KiB and one over all last 16 KiB (head
// and tail take the whole sorted list at once).
function manifestCommand(): string {
  return `find . -type f -printf '%s %p\\n' | LC_ALL=C sort -k2 > /tmp/prodlike-manifest.list && cat /tmp/prodlike-manifest.list && cut -d' ' -f2- /tmp/prodlike-manifest.list | tr '\\n' '\\0' | xargs -0 head -q -c 16384 | sha256sum && cut -d' ' -f2- /tmp/prodlike-manifest.list | tr '\\n' '\\0' | xargs -0 tail -q -c 16384 | sha256sum`;
}

export interface PreparedCopy {
  name: string;
  bytes: number;
}

export class PreparedCopies {
  constructor(
    private readonly backend: Backend,
    private readonly envId: string,
    private readonly service: string,
  ) {}

  /** Unpacks and prepares a snapshot's stream as its ready copy; false when the live data
   *  is at the volume's top level (no copy is kept then). */
  async prepare(name: string, stream: Readable): Promise<boolean> {
    const result = await this.exec(["sh", "-c", PREPARE_COPY_SCRIPT, "prepare-copy", name], stream);
    if (result.exitCode === 3) {
      stream.resume();
      return false;
    }
    if (result.exitCode !== 0) {
      throw new ProdlikeError(
        "COMMAND_FAILED",
        `Preparing snapshot ${name} for a fast restore failed (exit ${result.exitCode})`,
        {
          hint: `${result.stderr.split("\n").slice(-8).join("\n")}\nThe live data was not touched.`,
        },
      );
    }
    return true;
  }

  async list(): Promise<PreparedCopy[]> {
    const result = await this.exec(["sh", "-c", LIST_COPIES_SCRIPT]);
    if (result.exitCode !== 0) return [];
    return result.stdout
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) => {
        const [name = "", bytes = "0"] = line.trim().split(" ");
        return { name, bytes: Number(bytes) };
      });
  }

  /**
   * Moves the prepared copy into place as a new live folder, once its manifest matched.
   * "missing": there is no copy; "corrupt": it no longer matches (it was left as it was).
   */
  async take(
    name: string,
  ): Promise<{ previous: string | undefined; next: string } | "missing" | "corrupt"> {
    const next = `data-${Date.now()}`;
    const result = await this.exec(["sh", "-c", TAKE_COPY_SCRIPT, "take-copy", name, next]);
    if (result.exitCode === 5) return "missing";
    if (result.exitCode === 4) return "corrupt";
    if (result.exitCode !== 0) {
      throw new ProdlikeError(
        "COMMAND_FAILED",
        `Switching to snapshot ${name}'s prepared copy failed (exit ${result.exitCode})`,
        { hint: result.stderr.split("\n").slice(-8).join("\n") },
      );
    }
    const previous = result.stdout.trim();
    return { previous: previous === "" ? undefined : previous, next };
  }

  /** Whether a snapshot's prepared copy is there and still matches its manifest; nothing
   *  is moved (a check before a change that must not start without it). */
  async check(name: string): Promise<"ready" | "missing" | "corrupt"> {
    const result = await this.exec(["sh", "-c", CHECK_COPY_SCRIPT, "check-copy", name]);
    if (result.exitCode === 0) return "ready";
    if (result.exitCode === 4) return "corrupt";
    return "missing";
  }

  async remove(name: string): Promise<void> {
    await this.exec(["rm", "-rf", "--", `${PREPARED}/${name}`, `${PREPARED}/${name}.manifest`]);
  }

  private exec(command: string[], stdin?: Readable): Promise<StreamExecResult> {
    return this.backend.execStream(this.envId, {
      service: this.service,
      command,
      ...(stdin ? { stdin } : {}),
    });
  }
}
