import type { ConfigFile, ServiceSpec } from "./model.js";

// The developer's ssh, given to the cli container so drush sql:sync can reach production:
// mounts of the host's own files (compose honours them; a cluster leaves them out) and a
// client config that never prompts.

export interface SshAccess {
  /** The host's ssh-agent socket (SSH_AUTH_SOCK), forwarded when set. */
  agentSocket?: string | undefined;
  /** A private key, mounted read-only, when there is no agent. */
  identityFile?: string | undefined;
  /** The known_hosts the developer controls, mounted read-only. */
  knownHosts?: string | undefined;
  strictHostKeyChecking?: "yes" | "accept-new" | "no" | undefined;
}

const SSH_DIR = "/run/prodlike/ssh";
const SSH_CONFIG_FILE = "ssh_config";

/** The client config, host-only: of no use without the host mounts beside it. */
export function sshConfigFile(ssh: SshAccess): ConfigFile {
  return { name: SSH_CONFIG_FILE, content: sshClientConfig(ssh), hostOnly: true };
}

export function hasSshAccess(ssh: SshAccess): boolean {
  return Boolean(ssh.agentSocket || ssh.identityFile || ssh.knownHosts);
}

// drush sql:sync runs ssh inside the cli container: it gets the developer's agent (the key
// never leaves the host) or, without one, the configured key read-only, and checks host
// keys against the developer's own known_hosts. Nothing here turns checking off unless
// pull.ssh.strictHostKeyChecking says so.
export function giveSshAccess(service: ServiceSpec, ssh: SshAccess): void {
  service.mounts.push({
    type: "config",
    file: SSH_CONFIG_FILE,
    target: "/etc/ssh/ssh_config.d/prodlike.conf",
  });
  if (ssh.agentSocket) {
    service.mounts.push({
      type: "host",
      source: ssh.agentSocket,
      target: `${SSH_DIR}/agent.sock`,
      readOnly: false,
      env: { SSH_AUTH_SOCK: `${SSH_DIR}/agent.sock` },
    });
  } else if (ssh.identityFile) {
    service.mounts.push({
      type: "host",
      source: ssh.identityFile,
      target: `${SSH_DIR}/id`,
      readOnly: true,
    });
  }
  if (ssh.knownHosts) {
    service.mounts.push({
      type: "host",
      source: ssh.knownHosts,
      target: `${SSH_DIR}/known_hosts`,
      readOnly: true,
    });
  }
}

export function sshClientConfig(ssh: SshAccess): string {
  return [
    "# Written by prodlike: ssh from this container never prompts, and checks host keys",
    "# against the developer's known_hosts (mounted read-only).",
    "Host *",
    "  BatchMode yes",
    ...(ssh.knownHosts ? [`  UserKnownHostsFile ${SSH_DIR}/known_hosts`] : []),
    ...(ssh.strictHostKeyChecking ? [`  StrictHostKeyChecking ${ssh.strictHostKeyChecking}`] : []),
    ...(!ssh.agentSocket && ssh.identityFile ? [`  IdentityFile ${SSH_DIR}/id`] : []),
    "",
  ].join("\n");
}
