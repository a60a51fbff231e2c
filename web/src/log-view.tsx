import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import type { LogLevel, LogLineView } from "../../src/dashboard/wire.js";
import { follow } from "./api.js";
import { type LogFilter, matcher } from "./log-filter.js";

// An environment's logs, all services merged, live. The page keeps at most MAX_LINES
// (the server keeps as many) and draws only the rows in view: a virtual list of fixed-
// height rows, so 100,000 lines scroll like 100. New lines are filtered as they come;
// the whole buffer is filtered again only when the filter changes.

const MAX_LINES = 100_000;
const ROW_HEIGHT = 18;
const OVERSCAN = 20;

export function LogView(props: { envId: string; services: string[] }) {
  const lines = useRef<LogLineView[]>([]);
  const shown = useRef<LogLineView[]>([]);
  const [version, setVersion] = useState(0);
  const [filter, setFilter] = useState<LogFilter>({
    service: "",
    level: "debug",
    text: "",
    regex: false,
  });
  const [followTail, setFollowTail] = useState(true);
  const match = useMemo(() => matcher(filter), [filter]);
  const matchRef = useRef(match);

  useEffect(() => {
    matchRef.current = match;
    shown.current = lines.current.filter(match);
    setVersion((value) => value + 1);
  }, [match]);

  useEffect(() => {
    lines.current = [];
    shown.current = [];
    return follow<{ type: "lines"; lines: LogLineView[]; reset: boolean }>(
      `/api/environments/${encodeURIComponent(props.envId)}/logs`,
      (message) => {
        // The first message of a connection (also after a reconnect) is everything the
        // server keeps: it replaces what the page had.
        if (message.reset) {
          lines.current = [];
          shown.current = [];
        }
        // concat, not push(...lines): a 100,000-line buffer is too many arguments.
        lines.current = lines.current.concat(message.lines);
        shown.current = shown.current.concat(message.lines.filter(matchRef.current));
        if (lines.current.length > MAX_LINES) {
          const dropped = lines.current.length - MAX_LINES;
          const firstKept = lines.current[dropped]?.seq ?? 0;
          lines.current.splice(0, dropped);
          const cut = shown.current.findIndex((line) => line.seq >= firstKept);
          shown.current.splice(0, cut < 0 ? shown.current.length : cut);
        }
        setVersion((value) => value + 1);
      },
    );
  }, [props.envId]);

  return (
    <section class="logs" data-testid="logs">
      <div class="log-controls">
        <select
          aria-label="service"
          value={filter.service}
          onChange={(event) => setFilter({ ...filter, service: event.currentTarget.value })}
        >
          <option value="">all services</option>
          {props.services.map((service) => (
            <option key={service} value={service}>
              {service}
            </option>
          ))}
        </select>
        <select
          aria-label="level"
          value={filter.level}
          onChange={(event) =>
            setFilter({ ...filter, level: event.currentTarget.value as LogLevel })
          }
        >
          <option value="debug">all levels</option>
          <option value="info">info and up</option>
          <option value="warn">warnings and errors</option>
          <option value="error">errors</option>
        </select>
        <input
          type="search"
          placeholder="filter text"
          aria-label="filter"
          value={filter.text}
          onInput={(event) => setFilter({ ...filter, text: event.currentTarget.value })}
        />
        <label>
          <input
            type="checkbox"
            checked={filter.regex}
            onChange={(event) => setFilter({ ...filter, regex: event.currentTarget.checked })}
          />
          regex
        </label>
        <label>
          <input
            type="checkbox"
            checked={followTail}
            onChange={(event) => setFollowTail(event.currentTarget.checked)}
          />
          follow
        </label>
        <span class="count" data-testid="log-count">
          {shown.current.length} / {lines.current.length} lines
        </span>
        {match.error ? <span class="error">{match.error}</span> : null}
      </div>
      <VirtualRows
        rows={shown.current}
        version={version}
        followTail={followTail}
        onScrolledUp={() => setFollowTail(false)}
      />
    </section>
  );
}

// Scrolling up to read stops following the tail (new lines would pull the view away);
// the `follow` box turns it on again.
function VirtualRows(props: {
  rows: LogLineView[];
  version: number;
  followTail: boolean;
  onScrolledUp: () => void;
}) {
  const box = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(400);
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    setHeight(element.clientHeight);
    if (props.followTail) element.scrollTop = element.scrollHeight;
  }, [props.version, props.followTail]);
  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(props.rows.length, Math.ceil((scrollTop + height) / ROW_HEIGHT) + OVERSCAN);
  const visible = props.rows.slice(first, last);
  return (
    <div
      class="log-box"
      ref={box}
      onScroll={(event) => {
        const element = event.currentTarget;
        if (
          element.scrollTop < scrollTop &&
          element.scrollTop + element.clientHeight < element.scrollHeight - ROW_HEIGHT
        )
          props.onScrolledUp();
        setScrollTop(element.scrollTop);
      }}
      data-testid="log-box"
    >
      <div class="log-spacer" style={{ height: `${props.rows.length * ROW_HEIGHT}px` }}>
        <div class="log-rows" style={{ transform: `translateY(${first * ROW_HEIGHT}px)` }}>
          {visible.map((line) => (
            <div key={line.seq} class={`log-line level-${line.level} ${line.stream}`}>
              <span class="service">{line.service}</span>
              <span class="text">{line.text}</span>
            </div>
          ))}
        </div>
      </div>
    </div>
  );
}
