import { ExitCode, type ExitCodeValue } from "./exit-codes.js";

// Every error a user can see, by code. The message says what happened; the hint says what
// to do about it. docs/reference/errors.md is generated from this catalog (npm run docs).
export const errorCatalog = {
  CONFIG_SYNTAX: { exitCode: ExitCode.invalidInput, title: "prodlike.yaml is not valid YAML" },
  CONFIG_INVALID: { exitCode: ExitCode.invalidInput, title: "prodlike.yaml has an invalid field" },
  CONFIG_EXISTS: { exitCode: ExitCode.invalidInput, title: "prodlike.yaml already exists" },
  USAGE: { exitCode: ExitCode.invalidInput, title: "Invalid command line" },
  PRESET_UNKNOWN: { exitCode: ExitCode.invalidInput, title: "Unknown preset" },
  MANIFEST_INVALID: {
    exitCode: ExitCode.invalidInput,
    title: "A production manifest cannot be read",
  },
  CODE_ROOT_MISSING: { exitCode: ExitCode.invalidInput, title: "Code root not found" },
  CODE_NOT_WRITABLE: {
    exitCode: ExitCode.invalidInput,
    title: "A file prodlike writes into the code tree is read-only",
  },
  DOCKER_UNAVAILABLE: {
    exitCode: ExitCode.missingPrerequisite,
    title: "The Docker engine is not reachable",
  },
  COMPOSE_MISSING: {
    exitCode: ExitCode.missingPrerequisite,
    title: "Neither `docker compose` nor `docker-compose` is installed",
  },
  BASE_IMAGE_MISSING: {
    exitCode: ExitCode.missingPrerequisite,
    title: "The base image is missing and cannot be pulled",
  },
  TOOL_MISSING: { exitCode: ExitCode.missingPrerequisite, title: "A required tool is missing" },
  ENV_NOT_FOUND: { exitCode: ExitCode.notFound, title: "Environment not found" },
  SERVICE_NOT_FOUND: { exitCode: ExitCode.notFound, title: "Service not found" },
  SERVICE_NOT_RUNNING: { exitCode: ExitCode.failed, title: "Service is not running" },
  ENV_BUSY: { exitCode: ExitCode.busy, title: "Environment is locked by another prodlike" },
  ENV_OWNED: {
    exitCode: ExitCode.invalidInput,
    title: "The environment belongs to another checkout or user",
  },
  PORT_UNAVAILABLE: { exitCode: ExitCode.failed, title: "No free port" },
  IMAGE_BUILD_FAILED: { exitCode: ExitCode.failed, title: "Image build failed" },
  ROUTER_FAILED: { exitCode: ExitCode.failed, title: "The local router failed" },
  ROLLED_BACK: {
    exitCode: ExitCode.rolledBack,
    title: "The new release did not come up; the previous one runs again",
  },
  COMPOSE_FAILED: { exitCode: ExitCode.failed, title: "docker compose failed" },
  HEALTH_TIMEOUT: { exitCode: ExitCode.failed, title: "A service did not become healthy" },
  HEALTH_FAILED: {
    exitCode: ExitCode.failed,
    title: "The page answers with errors (PHP fatal, 5xx, 403/404)",
  },
  COMMAND_FAILED: { exitCode: ExitCode.failed, title: "A command failed" },
  CLUSTER_FAILED: { exitCode: ExitCode.failed, title: "kind, minikube or the cluster failed" },
  IMPORT_FAILED: { exitCode: ExitCode.failed, title: "The dump did not load" },
  IMPORT_EMPTY: { exitCode: ExitCode.failed, title: "The dump is empty" },
  IMPORT_REFUSED: {
    exitCode: ExitCode.failed,
    title: "The dump holds statements an import never runs",
  },
  DISK_FULL: { exitCode: ExitCode.failed, title: "The disk is full" },
  IO_FAILED: { exitCode: ExitCode.failed, title: "A file could not be read or written" },
  STATE_INVALID: {
    exitCode: ExitCode.failed,
    title: "A record prodlike keeps is damaged (cut short, edited, or from another version)",
  },
  PULL_FAILED: { exitCode: ExitCode.failed, title: "The pull from production failed" },
  UNSAFE_TARGET: {
    exitCode: ExitCode.invalidInput,
    title: "Refused: production is only ever a source",
  },
  NAMESPACE_FOREIGN: {
    exitCode: ExitCode.invalidInput,
    title: "Refused: the namespace is not this environment's (prodlike did not make it for you)",
  },
  SNAPSHOT_NOT_FOUND: { exitCode: ExitCode.notFound, title: "Snapshot not found" },
  RELEASE_NOT_FOUND: { exitCode: ExitCode.notFound, title: "No previous release to go back to" },
  SNAPSHOT_CORRUPT: { exitCode: ExitCode.failed, title: "Snapshot does not match its checksum" },
  ROLLOUT_FAILED: { exitCode: ExitCode.failed, title: "A workload did not roll out" },
  NOT_SUPPORTED: {
    exitCode: ExitCode.invalidInput,
    title: "The backend cannot do this",
  },
  XDEBUG_UNAVAILABLE: {
    exitCode: ExitCode.invalidInput,
    title: "Xdebug cannot reach the IDE on this machine from where the environment runs",
  },
  HOOK_FAILED: {
    exitCode: ExitCode.failed,
    title: "A hook from prodlike.yaml failed (exit: the hook's own code)",
  },
  HOOK_TIMEOUT: {
    exitCode: ExitCode.failed,
    title: "A hook from prodlike.yaml did not end in time",
  },
  COMMAND_UNKNOWN: { exitCode: ExitCode.notFound, title: "No such project command" },
  TOKEN_UNSAFE: {
    exitCode: ExitCode.failed,
    title: "The dashboard's token file is not yours alone",
  },
  INTERRUPTED: { exitCode: ExitCode.interrupted, title: "Interrupted" },
  INTERNAL: { exitCode: ExitCode.failed, title: "Unexpected internal error" },
} as const satisfies Record<string, { exitCode: ExitCodeValue; title: string }>;

export type ErrorCode = keyof typeof errorCatalog;
