// files.proxy (stage_file_proxy in the web server): a file missing under the files folder
// is fetched once from production's public URL, stored where it belongs and served from
// disk after that. Rendered into the preset's nginx.conf; empty when it is off.

/** nginx locations for `urlPath` (/sites/default/files/) falling back to `origin`. */
export function filesProxyLocations(urlPath: string, origin: string): string {
  const base = `/${urlPath.replace(/^\/+|\/+$/g, "")}/`;
  const escaped = base.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const host = new URL(origin).host;
  return [
    "# files.proxy: a file missing here is fetched once from production, stored, then served",
    "    # from disk (derivatives such as image styles are still generated locally).",
    `    location ~ ^${escaped}(?!styles/) {`,
    "        try_files $uri @prodlike_files_proxy;",
    "    }",
    "    location @prodlike_files_proxy {",
    `        set $prodlike_files_origin ${origin.replace(/\/+$/, "")};`,
    "        proxy_pass $prodlike_files_origin;",
    `        proxy_set_header Host ${host};`,
    "        proxy_ssl_server_name on;",
    "        proxy_store on;",
    "        proxy_store_access user:rw group:r all:r;",
    "        proxy_intercept_errors on;",
    "        error_page 404 = @drupal;",
    "    }",
  ].join("\n");
}
