import type { OperationView, StepView } from "../../src/dashboard/wire.js";

// Operations as the terminal shows them: the listr2 steps as a live list, then how it
// ended (the error's code, message and hint, as the CLI prints them).

export function Operations(props: { operations: OperationView[] }) {
  if (props.operations.length === 0) return null;
  return (
    <section class="operations" data-testid="operations">
      {props.operations.map((operation) => (
        <article
          key={operation.id}
          class={`operation op-${operation.state}`}
          data-operation={operation.action}
        >
          <header>
            <strong>{operation.action}</strong> <span class="env">{operation.envId}</span>{" "}
            <span class={`state state-${operation.state}`}>{operation.state}</span>
          </header>
          <Steps steps={operation.steps} />
          {operation.messages.map((message, index) => (
            <p key={index} class={`message ${message.level}`}>
              {message.text}
            </p>
          ))}
          {operation.error ? (
            <div class="failure" role="alert">
              <p>
                <code>error[{operation.error.code}]</code> {operation.error.message}
              </p>
              {operation.error.hint ? <p class="hint">hint: {operation.error.hint}</p> : null}
            </div>
          ) : null}
        </article>
      ))}
    </section>
  );
}

function Steps(props: { steps: StepView[] }) {
  if (props.steps.length === 0) return null;
  return (
    <ul class="steps">
      {props.steps.map((step, index) => (
        <li key={`${index}-${step.title}`} class={`step step-${step.state}`}>
          <span class="mark">{MARKS[step.state]}</span> {step.title}
          {step.detail && step.state === "running" ? <small> {step.detail}</small> : null}
          <Steps steps={step.children} />
        </li>
      ))}
    </ul>
  );
}

const MARKS: Record<StepView["state"], string> = {
  pending: "·",
  running: "›",
  done: "✓",
  failed: "✗",
};
