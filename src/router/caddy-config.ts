// The local router's whole configuration, as Caddy's JSON config: one route per host name
// an environment answers to, served on both HTTP and HTTPS, with certificates from
// Caddy's own local CA (never ACME: `*.localhost` names cannot have public certificates,
// and this machine may have no internet).

/** One name the router serves, and the container:port on a shared network it goes to. */
export interface RouterSite {
  host: string;
  dial: string;
  /** A locked environment's (`up --lock`): every request needs these credentials. */
  auth?: BasicAuth;
}

/** HTTP basic authentication: the user and the bcrypt hash of the password (what
 *  `caddy hash-password` prints; the password itself never reaches the router). */
export interface BasicAuth {
  username: string;
  hash: string;
}

/** The host ports the router is published on (127.0.0.1), told to the app as
 *  X-Forwarded-Port so it builds links back to the port the browser used. */
export interface RouterPorts {
  http: number;
  https: number;
}

/** Inside the router's container: the ports Caddy listens on, whatever the host ports. */
export const ROUTER_CONTAINER_PORTS: RouterPorts = { http: 80, https: 443 };

/** Where Caddy keeps its CA and certificates (the router's volume). */
export const ROUTER_DATA_DIR = "/data";

/** The router's CA (start-router makes it: name-constrained to `.localhost`). */
export const ROUTER_CA_DIR = `${ROUTER_DATA_DIR}/prodlike-ca`;
/** Where Caddy keeps the certificates the CA signed. */
export const ROUTER_CERT_STORE = `${ROUTER_DATA_DIR}/certificates-localhost-ca`;
/** The root certificate of the router's CA, inside its container. */
export const ROUTER_ROOT_CERT = `${ROUTER_CA_DIR}/root.crt`;

/** The configuration file start-router runs Caddy with; prodlike replaces it on a sync. */
export const ROUTER_CONFIG_FILE = `${ROUTER_DATA_DIR}/prodlike.json`;

export function caddyConfig(sites: readonly RouterSite[], ports: RouterPorts): object {
  const sorted = [...sites].sort((a, b) => a.host.localeCompare(b.host));
  return {
    admin: { listen: "localhost:2019" },
    // Certificates of this CA only: those an earlier CA signed (Caddy's own, before the
    // name-constrained one) stay in /data/caddy and are never served again.
    storage: { module: "file_system", root: ROUTER_CERT_STORE },
    apps: {
      http: {
        http_port: ROUTER_CONTAINER_PORTS.http,
        https_port: ROUTER_CONTAINER_PORTS.https,
        servers: {
          https: {
            listen: [`:${ROUTER_CONTAINER_PORTS.https}`],
            routes: [...sorted.map((site) => siteRoute(site, "https", ports.https)), notFound()],
            tls_connection_policies: [{}],
            // Both schemes answer: http:// stays plain instead of being redirected.
            automatic_https: { disable_redirects: true },
          },
          http: {
            listen: [`:${ROUTER_CONTAINER_PORTS.http}`],
            routes: [...sorted.map((site) => siteRoute(site, "http", ports.http)), notFound()],
            automatic_https: { disable: true },
          },
        },
      },
      tls: {
        automation: { policies: [{ issuers: [{ module: "internal", ca: "local" }] }] },
      },
      // The CA's root and intermediate are start-router's, never Caddy's own: only they
      // carry the name constraints (an unconstrained CA a system trusts could vouch for
      // any name).
      pki: {
        certificate_authorities: {
          local: {
            name: "prodlike local CA",
            install_trust: false,
            root: {
              certificate: ROUTER_ROOT_CERT,
              private_key: `${ROUTER_CA_DIR}/root.key`,
              format: "pem_file",
            },
            intermediate: {
              certificate: `${ROUTER_CA_DIR}/intermediate.crt`,
              private_key: `${ROUTER_CA_DIR}/intermediate.key`,
              format: "pem_file",
            },
          },
        },
      },
    },
  };
}

// Host is passed through as the browser sent it (with the port), so an app that builds
// redirects from HTTP_HOST stays on the router; the scheme and port it cannot see are
// told in the X-Forwarded headers (nginx turns the scheme into HTTPS=on for PHP).
function siteRoute(
  site: RouterSite,
  scheme: "http" | "https",
  hostPort: number,
  options: { anyHost?: boolean } = {},
): object {
  return {
    ...(options.anyHost ? {} : { match: [{ host: [site.host] }] }),
    handle: [
      ...(site.auth ? [basicAuthHandler(site.auth)] : []),
      {
        handler: "reverse_proxy",
        upstreams: [{ dial: site.dial }],
        headers: {
          request: {
            set: {
              "X-Forwarded-Proto": [scheme],
              "X-Forwarded-Port": [String(hostPort)],
            },
          },
        },
      },
    ],
    terminal: true,
  };
}

function notFound(): object {
  return {
    handle: [
      {
        handler: "static_response",
        status_code: 404,
        headers: { "Content-Type": ["text/plain; charset=utf-8"] },
        body: "No prodlike environment answers to {http.request.host}. `prodlike ls` lists them.\n",
      },
    ],
  };
}

/** Caddy's basic authentication in front of a site: a request without the credentials
 *  gets 401 and never reaches the environment. Checked hashes are cached, so a page's
 *  many requests cost one bcrypt comparison. */
export function basicAuthHandler(auth: BasicAuth): object {
  return {
    handler: "authentication",
    providers: {
      http_basic: {
        // Caddy 2.6 reads the hash base64-encoded.
        accounts: [
          { username: auth.username, password: Buffer.from(auth.hash).toString("base64") },
        ],
        hash: { algorithm: "bcrypt" },
        hash_cache: {},
        realm: "prodlike",
      },
    },
  };
}

/** Inside a share listener's container: the port it listens on (any user may bind it). */
export const SHARE_CONTAINER_PORT = 8080;

/** A share listener's whole configuration (`prodlike share`): one environment's site on
 *  the address it is published on, every request behind the lock, plain HTTP (the
 *  router's CA vouches for `.localhost` names only, never for an address). */
export function shareConfig(site: { dial: string; auth: BasicAuth }, hostPort: number): object {
  return {
    admin: { disabled: true },
    apps: {
      http: {
        servers: {
          share: {
            listen: [`:${SHARE_CONTAINER_PORT}`],
            routes: [siteRoute({ host: "", ...site }, "http", hostPort, { anyHost: true })],
            automatic_https: { disable: true },
          },
        },
      },
    },
  };
}
