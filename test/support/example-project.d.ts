export declare const repoRoot: string;

export interface ExampleProject {
  /** The project name written into its prodlike.yaml. */
  name: string;
  /** The temp folder holding the copy and its PRODLIKE_HOME; remove it to clean up. */
  base: string;
  dir: string;
  home: string;
}

export declare function copyExampleProject(
  prefix: string,
  tmpPrefix: string,
  /** A folder of examples/; drupal-basic by default. */
  example?: string,
): Promise<ExampleProject>;
