import type { Command, Option } from "commander";

// `prodlike completion bash|zsh`: scripts generated from the CLI's own command tree, so a
// new command or flag completes the day it exists. Static words only: completing never
// runs prodlike (a slow or failing engine must not hang the shell). The project's own
// commands (`prodlike run NAME`) are read from prodlike.yaml's `commands:` keys with awk.

// The keys of the `commands:` mapping in block style (two-space indent), of the project
// in -C/--dir or the current folder.
const PROJECT_COMMANDS_AWK = `/^commands:[[:space:]]*$/{on=1; next} on && /^[^[:space:]#]/{on=0} on && match($0, /^  [A-Za-z0-9_.-]+:/){print substr($0, 3, RLENGTH-3)}`;

export interface CommandNode {
  /** Words from the root: "", "db", "db pull". */
  path: string;
  description: string;
  subcommands: { name: string; description: string }[];
  options: string[];
}

/** Every command of the tree with its subcommands and flags (hidden `help` left out). */
export function commandNodes(root: Command): CommandNode[] {
  const nodes: CommandNode[] = [];
  const visit = (command: Command, path: string) => {
    const children = command.commands.filter((child) => child.name() !== "help");
    nodes.push({
      path,
      description: command.description(),
      subcommands: children.map((child) => ({
        name: child.name(),
        description: child.description(),
      })),
      options: [
        ...command.options.flatMap((option: Option) =>
          [option.short, option.long].filter((flag): flag is string => Boolean(flag)),
        ),
        "--help",
      ],
    });
    for (const child of children) visit(child, path ? `${path} ${child.name()}` : child.name());
  };
  visit(root, "");
  return nodes;
}

// Flags whose value has a known set of words, or is a folder.
const BACKENDS = "compose kind minikube";

export function bashCompletion(nodes: CommandNode[]): string {
  const paths = nodes.filter((node) => node.path !== "").map((node) => node.path);
  const cases = nodes
    .map((node) => {
      const words = [...node.subcommands.map((sub) => sub.name), ...node.options].join(" ");
      return `    ${shellQuote(node.path)}) words=${shellQuote(words)} ;;`;
    })
    .join("\n");
  return `# prodlike completion for bash. Load it with:
#   source <(prodlike completion bash)     (or save it in /etc/bash_completion.d/prodlike)
_prodlike() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}"
  local path="" candidate i dir=.
  for ((i = 1; i < COMP_CWORD; i++)); do
    [[ \${COMP_WORDS[i-1]} == -C || \${COMP_WORDS[i-1]} == --dir ]] && dir="\${COMP_WORDS[i]}"
    [[ \${COMP_WORDS[i]} == -* ]] && continue
    candidate="\${path:+$path }\${COMP_WORDS[i]}"
    case "$candidate" in
      ${paths.map(shellQuote).join("|")}) path="$candidate" ;;
    esac
  done
  case "$prev" in
    --backend) COMPREPLY=($(compgen -W "${BACKENDS}" -- "$cur")); return ;;
    -C|--dir) COMPREPLY=($(compgen -d -- "$cur")); return ;;
  esac
  local words=""
  case "$path" in
${cases}
  esac
  if [[ $path == run ]]; then
    words="$words $(awk '${PROJECT_COMMANDS_AWK}' "$dir/prodlike.yaml" 2>/dev/null)"
  fi
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _prodlike prodlike
`;
}

export function zshCompletion(nodes: CommandNode[]): string {
  const paths = nodes.filter((node) => node.path !== "").map((node) => node.path);
  const cases = nodes
    .map((node) => {
      const described = node.subcommands.map((sub) =>
        shellQuote(`${sub.name}:${sub.description.replace(/:/g, "\\:")}`),
      );
      const lines = [`    (${shellQuote(node.path)})`];
      if (described.length > 0) {
        lines.push(`      local -a commands=(${described.join(" ")})`);
        lines.push(`      _describe -t commands 'prodlike command' commands`);
      }
      lines.push(`      compadd -- ${node.options.map(shellQuote).join(" ")}`);
      lines.push("      ;;");
      return lines.join("\n");
    })
    .join("\n");
  return `#compdef prodlike
# prodlike completion for zsh. Load it with:
#   source <(prodlike completion zsh)      (or save it as _prodlike in a folder of $fpath)
_prodlike() {
  local path="" candidate word previous="" dir=.
  for word in "\${(@)words[2,CURRENT-1]}"; do
    [[ $previous == -C || $previous == --dir ]] && dir="$word"
    previous="$word"
    [[ $word == -* ]] && continue
    candidate="\${path:+$path }$word"
    case "$candidate" in
      (${paths.map(shellQuote).join("|")}) path="$candidate" ;;
    esac
  done
  case "\${words[CURRENT-1]}" in
    (--backend) compadd -- ${BACKENDS}; return ;;
    (-C|--dir) _files -/; return ;;
  esac
  case "$path" in
${cases}
  esac
  if [[ $path == run ]]; then
    compadd -- \${(f)"$(awk '${PROJECT_COMMANDS_AWK}' "$dir/prodlike.yaml" 2>/dev/null)"}
  fi
}
if [[ "\${zsh_eval_context[-1]}" == loadautofunc ]]; then
  _prodlike "$@"
else
  compdef _prodlike prodlike
fi
`;
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, "'\\''")}'`;
}
