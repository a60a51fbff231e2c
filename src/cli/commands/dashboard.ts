import { openDashboard } from "../../dashboard/open-dashboard.js";
import { ProdlikeError } from "../../errors/prodlike-error.js";
import type { Output } from "../output.js";
import { services } from "./common.js";

// `prodlike dashboard [--port N] [--open]`: serves the dashboard until Ctrl-C (or
// SIGTERM); the URL with the token is printed once it listens.
export default async function dashboardCommand(
  output: Output,
  flags: { port: string; open: boolean },
): Promise<number> {
  const port = Number(flags.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new ProdlikeError("USAGE", `--port must be a port number, got \`${flags.port}\``, {
      hint: "Leave it out for a free port.",
    });
  }
  const opened = await openDashboard(await services(), {
    port,
    open: flags.open,
    // The router started (or went) after the dashboard: said on stderr, the --json
    // document on stdout stays the one printed at the start.
    onRouteChange: (state) => {
      if (output.mode === "json") return;
      const line = state.routedUrl
        ? `Now also at ${state.routedUrl}`
        : (state.routeWarning ?? "No longer served through the local router");
      process.stderr.write(`${line}\n`);
    },
  });
  const { url, routedUrl, routeWarning } = opened;
  output.result(
    "dashboard",
    {
      url,
      port: opened.dashboard.port,
      ...(routedUrl ? { routedUrl } : {}),
      ...(routeWarning ? { routeWarning } : {}),
    },
    () =>
      [
        `Dashboard: ${output.colour.cyan(url)}`,
        ...(routedUrl ? [`       or: ${output.colour.cyan(routedUrl)}`] : []),
        ...(routeWarning ? [`${output.colour.yellow("warning:")} ${routeWarning}`] : []),
        "Only you can open it (the token is yours, kept in your state folder). Ctrl-C stops it.",
      ].join("\n"),
  );
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await opened.close();
  return 0;
}
