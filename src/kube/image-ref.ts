// Image references as Kubernetes manifests write them: `registry:5000/repo:tag`,
// `repo@sha256:…`, `repo:tag@sha256:…`, or a bare `repo` (which means `latest`).

/** The repository and the tag (the digest when pinned by one; `latest` when none). */
export function splitImage(image: string): { repository: string; tag: string } {
  const digest = /^(.*)@(sha256:[0-9a-f]+)$/.exec(image);
  if (digest) return { repository: withoutTag(digest[1] ?? ""), tag: digest[2] ?? "" };
  const tagged = /^(.*):([^/:]+)$/.exec(image);
  if (tagged) return { repository: tagged[1] ?? "", tag: tagged[2] ?? "" };
  return { repository: image, tag: "latest" };
}

function withoutTag(reference: string): string {
  return reference.replace(/:[^/:]+$/, "");
}
