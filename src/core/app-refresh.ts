import type { Backend, EnvironmentStatus } from "../backends/backend.js";
import type { Progress } from "../ui/steps.js";
import type { Target } from "./plan.js";
import { withRouterUrls } from "./router.js";
import type { CoreServices } from "./services.js";

// After the data under an application changes (an import, a pull, a restore, a seed),
// what it keeps in memory is stale: php-fpm's APCu and opcache, the framework's own
// caches, and URLs a pulled database carries. Each preset declares what refreshes its
// framework (preset.yaml `refresh:`, `purge:` for `cache purge`); this runs those steps.

/** What was refreshed, for the command's output. */
export type RefreshReport = string[];

export async function refreshApplication(
  services: CoreServices,
  backend: Backend,
  status: EnvironmentStatus,
  target: Target,
  progress: Progress,
  options: { proxies?: boolean } = {},
): Promise<RefreshReport> {
  // New data may be an installed site where there was none (a pull into a fresh
  // environment), or none where there was one: what reads the install state follows.
  const [{ followInstallState }, { loadPreset }, { runPresetSteps }] = await Promise.all([
    import("./install.js"),
    import("../topology/preset-loader.js"),
    import("./preset-steps.js"),
  ]);
  await followInstallState(services, target, backend, progress);
  const preset = (await loadPreset(target.loaded.config.preset)).definition;
  const steps = [...preset.refresh, ...(options.proxies ? preset.purge : [])];
  let done: RefreshReport = [];
  await progress.run([
    {
      title: "Refresh the application's caches",
      run: async (context) => {
        done = await runPresetSteps(backend, status, steps, {
          codeRoot: target.loaded.codeRoot,
          progress,
          values: async () => {
            // Through the local router, https pages (checkout, admin, a store that is
            // https everywhere) go to https://ENV.PROJECT.localhost; plain ones stay on
            // the published port.
            const [routed] = await withRouterUrls(services, [status]);
            const web = status.urls.web ?? "";
            return {
              codePath: preset.codeMountPath,
              urls: {
                web: web.replace(/\/+$/, ""),
                secure: (routed?.urls.https ?? web).replace(/\/+$/, ""),
              },
            };
          },
        });
        context.setTitle(
          done.length > 0 ? `Refreshed: ${done.join(", ")}` : "No application caches to refresh",
        );
      },
    },
  ]);
  return done;
}
