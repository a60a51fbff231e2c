import { describe, expect, it } from "vitest";
import { gatewayFromRoutes, parseXdebugIni, xdebugIni } from "../../../src/core/xdebug.js";

describe("xdebug settings", () => {
  it("finds the containers' default gateway in /proc/net/route", () => {
    const routes = [
      "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT",
      "eth0\t00000000\t010013AC\t0003\t0\t0\t0\t00000000\t0\t0\t0",
      "eth0\t000013AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0",
    ].join("\n");
    expect(gatewayFromRoutes(routes)).toBe("172.19.0.1");
    expect(gatewayFromRoutes("Iface\tDestination\tGateway\n")).toBeUndefined();
  });

  it("writes step debugging on trigger (or always) and reads it back", () => {
    const ini = xdebugIni({ host: "172.19.0.1", port: 9003, everyRequest: false });
    expect(ini).toContain("zend_extension=xdebug.so");
    expect(ini).toContain("xdebug.start_with_request=trigger");
    expect(parseXdebugIni(ini)).toEqual({ host: "172.19.0.1", port: 9003, everyRequest: false });
    const always = xdebugIni({ host: "10.0.0.2", port: 9000, everyRequest: true });
    expect(parseXdebugIni(always)).toEqual({ host: "10.0.0.2", port: 9000, everyRequest: true });
    expect(parseXdebugIni("")).toBeUndefined();
  });
});
