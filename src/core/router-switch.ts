// Whether the local router is on (PRODLIKE_ROUTER=off turns it off): apart from router.ts
// so the composition root can ask without importing the operations that use it.

export function routerEnabled(env: NodeJS.ProcessEnv): boolean {
  return !["off", "0", "false", "no"].includes((env.PRODLIKE_ROUTER ?? "").toLowerCase());
}
