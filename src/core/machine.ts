import { ImageClaims } from "../backends/docker/image-claims.js";
import type { Claim } from "../backends/docker/machine-claims.js";
import { MachineClaims } from "../backends/docker/machine-claims.js";
import { PortReservations } from "../backends/docker/port-reservations.js";
import type { Topology } from "../topology/model.js";
import type { CoreServices } from "./services.js";

// What an `up` claims for the whole engine while it runs (see machine-claims.ts): the
// host ports it chose, until its containers hold them, and the images it is about to
// use, until its containers use them. Released when the `up` ends, whatever the outcome.

export async function machineClaims(
  services: Pick<CoreServices, "engine" | "clock" | "developer">,
): Promise<MachineClaims> {
  return new MachineClaims({
    engine: await services.engine(),
    clock: services.clock,
    uid: services.developer?.uid ?? -1,
  });
}

export interface UpClaims {
  ports: PortReservations;
  intendImages(topology: Topology): Promise<void>;
  release(): Promise<void>;
}

export async function upClaims(
  services: Pick<CoreServices, "engine" | "clock" | "developer">,
  envId: string,
): Promise<UpClaims> {
  const claims = await machineClaims(services);
  const ports = new PortReservations(claims, envId);
  const images = new ImageClaims(claims);
  let intent: Claim | undefined;
  return {
    ports,
    async intendImages(topology) {
      const refs = [
        ...new Set(
          topology.services.map((service) =>
            service.image.kind === "build" ? service.image.tag : service.image.ref,
          ),
        ),
      ].sort();
      intent = await images.intend(envId, refs, {
        sleep: (ms) => services.clock.sleep(ms),
        now: () => services.clock.now(),
      });
    },
    async release() {
      await ports.release();
      if (intent) await images.release(intent);
    },
  };
}
