export declare const PRODUCTION_IMAGE: string;

export interface ProductionServer {
  /** Container name (and its network's). */
  name: string;
  /** Its address on its bridge network, reachable from this host. */
  ip: string;
  /** A private key `deploy` accepts. */
  identityFile: string;
  /** A known_hosts file holding the server's host key. */
  knownHosts: string;
  /** Runs SQL as MariaDB root on drupal_prod; resolves tab-separated rows. */
  sql(statements: string): Promise<string>;
  stop(): Promise<void>;
}

export declare function startProductionServer(prefix?: string): Promise<ProductionServer>;
export declare function productionSeedSql(nodes?: number): string;
export declare function pullConfigYaml(production: {
  ip: string;
  identityFile: string;
  knownHosts: string;
}): string;
