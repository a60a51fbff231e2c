import { describe, expect, it } from "vitest";
import { LineSplitter, parseEngineEvent } from "../../../../src/backends/docker/docker-engine.js";

function frame(stream: 1 | 2, text: string): Buffer {
  const body = Buffer.from(text, "utf8");
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

describe("LineSplitter", () => {
  it("cuts framed stdout and stderr into lines, across chunk and frame boundaries", () => {
    const lines: { stream: string; text: string }[] = [];
    const splitter = new LineSplitter(false, (line) => lines.push(line));
    const bytes = Buffer.concat([
      frame(1, "first li"),
      frame(1, "ne\nsecond\n"),
      frame(2, "oops\r\n"),
    ]);
    // Fed three bytes at a time: headers and lines both split.
    for (let offset = 0; offset < bytes.length; offset += 3) {
      splitter.push(bytes.subarray(offset, offset + 3));
    }
    splitter.push(frame(1, "no newline yet"));
    splitter.flush();
    expect(lines).toEqual([
      { stream: "stdout", text: "first line" },
      { stream: "stdout", text: "second" },
      { stream: "stderr", text: "oops" },
      { stream: "stdout", text: "no newline yet" },
    ]);
  });

  it("reads a TTY container's raw output as stdout", () => {
    const lines: string[] = [];
    const splitter = new LineSplitter(true, (line) => lines.push(`${line.stream}:${line.text}`));
    splitter.push(Buffer.from("a\nb"));
    splitter.push(Buffer.from("c\n"));
    expect(lines).toEqual(["stdout:a", "stdout:bc"]);
  });
});

describe("parseEngineEvent", () => {
  it("keeps container events with their labels and drops the rest", () => {
    const line = JSON.stringify({
      Type: "container",
      Action: "health_status: healthy",
      Actor: { ID: "abc", Attributes: { "dev.prodlike.env": "shop-local", name: "x" } },
    });
    expect(parseEngineEvent(line)).toEqual({
      action: "health_status: healthy",
      id: "abc",
      labels: { "dev.prodlike.env": "shop-local", name: "x" },
    });
    expect(
      parseEngineEvent(JSON.stringify({ Type: "network", Actor: { ID: "n" } })),
    ).toBeUndefined();
    expect(parseEngineEvent("not json")).toBeUndefined();
    expect(parseEngineEvent("")).toBeUndefined();
  });
});
