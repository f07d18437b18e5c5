/**
 * A small argument parser for the CLI: `--flag`, `--key value`, `--key=value`
 * and positionals. Unknown flags are errors that name the flag.
 */
import { CowpoolError } from '../errors.js';

export interface FlagSpec {
  /** Takes a value (`--json FILE`) or is a boolean switch. */
  value: boolean;
  /** May be given more than once (values collected). */
  repeat?: boolean;
  description: string;
  placeholder?: string;
}

export interface ParsedArgs {
  positionals: string[];
  flags: Map<string, string[]>;
}

export function parseArgs(argv: readonly string[], specs: Record<string, FlagSpec>, command: string): ParsedArgs {
  const positionals: string[] = [];
  const flags = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const spec = specs[name];
    if (spec === undefined) {
      const known = Object.keys(specs).map((k) => `--${k}`).join(', ');
      throw new CowpoolError('INVALID_ARGUMENT', `${command}: unknown option --${name} (known: ${known}); see \`cowpool ${command} --help\``);
    }
    let value = 'true';
    if (spec.value) {
      if (eq !== -1) value = arg.slice(eq + 1);
      else {
        const next = argv[i + 1];
        if (next === undefined || next.startsWith('--')) {
          throw new CowpoolError('INVALID_ARGUMENT', `${command}: --${name} needs a value (${spec.placeholder ?? 'VALUE'})`);
        }
        value = next;
        i++;
      }
    } else if (eq !== -1) {
      throw new CowpoolError('INVALID_ARGUMENT', `${command}: --${name} takes no value`);
    }
    const list = flags.get(name) ?? [];
    if (list.length > 0 && spec.repeat !== true) {
      throw new CowpoolError('INVALID_ARGUMENT', `${command}: --${name} given twice`);
    }
    list.push(value);
    flags.set(name, list);
  }
  return { positionals, flags };
}

/** Help lines for the flags of a command. */
export function flagHelp(specs: Record<string, FlagSpec>): string {
  const rows = Object.entries(specs).map(([name, s]) => [`--${name}${s.value ? ` ${s.placeholder ?? 'VALUE'}` : ''}`, s.description] as const);
  const width = Math.max(...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`).join('\n');
}
