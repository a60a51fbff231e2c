import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyExample, docker, expectOk, jsonField, type TestProject } from "./support/harness.js";
import { routedRequest, routerOf } from "./support/routed.js";

// The local router on the real engine: two environments of one project and one of
// another at once, each on its own https name with a certificate the router's CA signed
// (verified with that CA), the app told it is https, the mail catcher on mail.NAME, one
// environment's destroy leaving the others' routes alone, and the last destroy leaving no
// router container or network behind.

let shop: TestProject;
let blog: TestProject;
const environments: { project: () => TestProject; name: string; urls: Record<string, string> }[] = [
  { project: () => shop, name: "qa1", urls: {} },
  { project: () => shop, name: "qa2", urls: {} },
  { project: () => blog, name: "local", urls: {} },
];

const ROUTER = { label: ["dev.prodlike.router=true"] };

async function phpFpmHostname(project: TestProject, name: string): Promise<string> {
  const [container] = await docker.listContainers({
    filters: {
      label: [`dev.prodlike.env=${project.name}-${name}`, "dev.prodlike.service=php-fpm"],
    },
  });
  if (!container) throw new Error(`no php-fpm container for ${project.name}-${name}`);
  return container.Id.slice(0, 12);
}

beforeAll(async () => {
  shop = await copyExample("it-route-shop");
  blog = await copyExample("it-route-blog");
  for (const environment of environments) {
    const up = await environment.project().cli(["up", "--name", environment.name, "--json"]);
    expectOk(up);
    environment.urls = jsonField<Record<string, string>>(up, "urls");
  }
}, 900_000);

afterAll(async () => {
  for (const environment of environments) {
    await environment
      .project()
      .cli(["destroy", "--name", environment.name, "--keep-images"])
      .catch(() => undefined);
  }
  await shop?.cleanup();
  await blog?.cleanup();
});

describe("the local router", { timeout: 300_000 }, () => {
  it("gives each environment its own https name, served with a certificate of the router's CA", async () => {
    const { ca } = await routerOf(shop);
    for (const environment of environments) {
      const project = environment.project();
      const https = environment.urls.https ?? "";
      expect(https).toMatch(
        new RegExp(`^https://${environment.name}\\.[a-z0-9-]+\\.localhost(:\\d+)?/$`),
      );
      const page = await routedRequest(https, { ca });
      expect(page.status, page.body).toBe(200);
      // This environment's own php-fpm answered, not a neighbour's.
      expect(page.body).toContain(`served by ${await phpFpmHostname(project, environment.name)}`);
      // The direct port keeps working beside it.
      expect((await fetch(environment.urls.web ?? "")).status).toBe(200);
    }
    // Until the CA is trusted, status says how.
    const status = await shop.cli(["status", "--name", "qa1"]);
    expectOk(status);
    expect(status.stdout).toContain("run `prodlike trust` once");
    const json = await shop.cli(["status", "--name", "qa1", "--json"]);
    expect(jsonField<{ router?: { trusted: boolean } }>(json, "environment").router).toEqual({
      trusted: false,
    });
    // Verified, not skipped: without the CA the same request is refused.
    await expect(routedRequest(environments[0]?.urls.https ?? "")).rejects.toThrow(
      /self[- ]signed|unable to (get|verify)|certificate/i,
    );
  });

  it("tells PHP the request is https, so redirects stay on the https name", async () => {
    const { ca } = await routerOf(shop);
    const https = environments[0]?.urls.https ?? "";
    const login = await routedRequest(`${https}user/login`, {
      ca,
      method: "POST",
      form: "name=router",
    });
    expect(login.status).toBe(303);
    expect(login.headers.location).toBe(`${https}user/1?check_logged_in=1`);
  });

  it("serves each environment's mail catcher on mail.ENV.PROJECT.localhost", async () => {
    const { ca } = await routerOf(blog);
    const blogLocal = environments[2];
    const mailUrl = blogLocal?.urls["https:mail"] ?? "";
    expect(mailUrl).toMatch(/^https:\/\/mail\.local\.[a-z0-9-]+\.localhost(:\d+)?\/$/);
    const messages = await routedRequest(`${mailUrl}api/v1/messages`, { ca });
    expect(messages.status).toBe(200);
    expect(JSON.parse(messages.body)).toMatchObject({ messages: expect.any(Array) });
    const mail = await blog.cli(["mail", "--json"]);
    expectOk(mail);
    expect(jsonField<string>(mail, "url")).toBe(mailUrl);
  });

  it("answers a name no environment has with a 404 that says so", async () => {
    const { ports } = await routerOf(shop);
    const unknown = await routedRequest(`http://nobody.nowhere.localhost:${ports.http}/`);
    expect(unknown.status).toBe(404);
    expect(unknown.body).toContain("No prodlike environment answers to nobody.nowhere.localhost");
  });

  it("keeps serving the others, without a restart, when one environment is destroyed", async () => {
    const { ca, ports } = await routerOf(shop);
    const [before] = await docker.listContainers({ filters: ROUTER });
    expectOk(await shop.cli(["destroy", "--name", "qa2", "--keep-images"]));
    const qa2 = new URL(environments[1]?.urls.https ?? "");
    const gone = await routedRequest(`http://${qa2.hostname}:${ports.http}/`);
    expect(gone.status).toBe(404);
    for (const environment of [environments[0], environments[2]]) {
      const page = await routedRequest(environment?.urls.https ?? "", { ca });
      expect(page.status).toBe(200);
    }
    const [after] = await docker.listContainers({ filters: ROUTER });
    expect(after?.Id).toBe(before?.Id);
    expect(after?.State).toBe("running");
  });

  it("is removed with its network when the last routed environment is destroyed; its CA volume stays", async () => {
    expectOk(await shop.cli(["destroy", "--name", "qa1", "--keep-images"]));
    expect((await docker.listContainers({ filters: ROUTER })).length).toBe(1);
    expectOk(await blog.cli(["destroy", "--keep-images"]));
    // Nothing else on this engine carries routes (other test files destroy theirs).
    const routed = await docker.listContainers({ filters: { label: ["dev.prodlike.routes"] } });
    expect(routed.map((container) => container.Names[0])).toEqual([]);
    expect(await docker.listContainers({ all: true, filters: ROUTER })).toEqual([]);
    expect(await docker.listNetworks({ filters: ROUTER })).toEqual([]);
    const volumes = (await docker.listVolumes({ filters: ROUTER })).Volumes ?? [];
    expect(volumes.map((volume) => volume.Name)).toEqual(["prodlike-router-data"]);
  });
});
