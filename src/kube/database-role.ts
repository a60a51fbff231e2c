// Which of production's containers is the environment's database, for prodlike's own
// database work (snapshots before a release, import, pull, restore): one that is told its
// database the way prodlike's database operations ask it (MARIADB_DATABASE), as the
// official MariaDB image and prodlike's presets are. Init containers never are.

export const DATABASE_ENV = "MARIADB_DATABASE";

export function isDatabaseContainer(container: { env?: readonly { name: string }[] }): boolean {
  return (container.env ?? []).some((variable) => variable.name === DATABASE_ENV);
}
