import { useState } from "preact/hooks";
import type { ErrorView } from "../../src/dashboard/wire.js";
import { post } from "./api.js";

// A new QA environment: a checkout with its prodlike.yaml, its preset or production's
// layout (--mirror), a name, a lifetime, and data from another environment or snapshot.

export function CreateForm(props: { onDone: () => void }) {
  const [dir, setDir] = useState("");
  const [name, setName] = useState("qa");
  const [ttl, setTtl] = useState("8h");
  const [mirror, setMirror] = useState(false);
  const [seedFrom, setSeedFrom] = useState("");
  const [refused, setRefused] = useState<ErrorView | undefined>();
  const submit = async (event: Event) => {
    event.preventDefault();
    const answer = await post("/api/environments", { dir, name, ttl, mirror, seedFrom });
    if (answer.error) setRefused(answer.error);
    else props.onDone();
  };
  return (
    <form class="create" onSubmit={submit} data-testid="create-form">
      <label>
        Project folder
        <input
          required
          value={dir}
          placeholder="/home/you/shop"
          onInput={(event) => setDir(event.currentTarget.value)}
        />
      </label>
      <label>
        Layout
        <select
          value={mirror ? "mirror" : "preset"}
          onChange={(event) => setMirror(event.currentTarget.value === "mirror")}
        >
          <option value="preset">its preset (prodlike.yaml)</option>
          <option value="mirror">production's manifests (mirror)</option>
        </select>
      </label>
      <label>
        Name
        <input value={name} onInput={(event) => setName(event.currentTarget.value)} />
      </label>
      <label>
        TTL
        <input class="short" value={ttl} onInput={(event) => setTtl(event.currentTarget.value)} />
      </label>
      <label>
        Seed from
        <input
          value={seedFrom}
          placeholder="env or env:snapshot"
          onInput={(event) => setSeedFrom(event.currentTarget.value)}
        />
      </label>
      <button type="submit">Create</button>
      {refused ? (
        <p class="failure" role="alert">
          <code>error[{refused.code}]</code> {refused.message}
          {refused.hint ? <span class="hint"> hint: {refused.hint}</span> : null}
        </p>
      ) : null}
    </form>
  );
}
