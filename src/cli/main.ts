/**
 * `cowpool` command dispatch. Exit codes: 0 success, 1 a run that found a
 * problem (e.g. a module that falls back), 2 bad input (arguments, config,
 * unreadable or malformed files).
 */
import { readFileSync } from 'node:fs';
import { CowpoolError, isCowpoolError } from '../errors.js';
import { loadConfig, loadRawSlotPoolConfig } from '../config/load-config.js';
import { prepareLayout } from '../wasm/prepare-layout.js';
import { reuseRefusals } from '../wasm/reuse-eligibility.js';
import { stubImports } from '../bench/stub-imports.js';
import { takeSnapshot } from '../snapshot/take-snapshot.js';
import type { SnapshotReport } from '../snapshot/snapshot-report.js';
import { benchCommand } from './bench-command.js';
import { serveCommand } from './serve-command.js';
import { flagHelp, parseArgs, type FlagSpec } from './cli-args.js';
import type { CliIo } from './cli-io.js';

export type { CliIo } from './cli-io.js';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const HELP = `cowpool ${VERSION} — copy-on-write WebAssembly instance pooling for Node.js on Linux

Usage:
  cowpool bench [module.wasm ...] [--quick]   compare the strategies side by side (ratios vs fresh)
  cowpool inspect <module.wasm> [--json]      how the pool would serve a module (and why not);
                                              --initialize <export>: its snapshot after that export ran
  cowpool serve [module.wasm] [--config F]    run a WASI module per HTTP request, a fresh instance each time
  cowpool check-config <pool.json>            validate a pool configuration file (--raw-slots: a raw slot pool's)
  cowpool --help | --version

Run \`cowpool <command> --help\` for a command's options.
`;

const INSPECT_FLAGS: Record<string, FlagSpec> = {
  json: { value: false, description: 'print the layout as JSON' },
  initialize: {
    value: true,
    placeholder: 'EXPORT',
    description: 'snapshot the instance after its start function and this exported function ran (imports stubbed: functions return 0) and report the snapshot, or what refused it',
  },
  help: { value: false, description: 'show this help' },
};

const CHECK_FLAGS: Record<string, FlagSpec> = {
  'raw-slots': {
    value: false,
    description: 'check a raw slot pool configuration (RawSlotPool); the default when the file\'s $schema names raw-slot-pool.schema.json',
  },
  help: { value: false, description: 'show this help' },
};

const processIo: CliIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
};

export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        io.stdout(HELP);
        return 0;
      case '--version':
      case '-v':
        io.stdout(`${VERSION}\n`);
        return 0;
      case 'inspect':
        return await inspect(rest, io);
      case 'check-config':
        return checkConfig(rest, io);
      case 'serve':
        return await serveCommand(rest, io);
      case 'bench':
        return await benchCommand(rest, io, { stderrIsTTY: io === processIo && process.stderr.isTTY === true, columns: process.stderr.columns });
      default:
        io.stderr(`cowpool: unknown command '${command}'\n\n${HELP}`);
        return 2;
    }
  } catch (e) {
    if (isCowpoolError(e)) {
      io.stderr(`cowpool: ${e.code}: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

function readModule(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? 'error';
    throw new CowpoolError('INVALID_ARGUMENT', `cannot read ${path} (${code}); pass the path of a .wasm file`, { cause });
  }
}

type SnapshotOutcome = { report: SnapshotReport } | { refused: { code: string; message: string } };

/** The snapshot of `bytes` after `exportName` ran, with every import stubbed; a refusal is an outcome, not an error. */
async function inspectSnapshot(bytes: Uint8Array, exportName: string, path: string): Promise<{ outcome: SnapshotOutcome; bytes: Uint8Array }> {
  const imports = stubImports(prepareLayout(bytes), path, true).next().imports;
  try {
    const snapshot = await takeSnapshot(bytes, { export: exportName, imports }, path);
    return { outcome: { report: snapshot.report }, bytes: snapshot.bytes };
  } catch (e) {
    if (isCowpoolError(e, 'SNAPSHOT_UNSUPPORTED') || isCowpoolError(e, 'INSTANTIATE_FAILED')) {
      return { outcome: { refused: { code: e.code, message: e.message } }, bytes };
    }
    throw e;
  }
}

function snapshotLines(outcome: SnapshotOutcome, exportName: string): string[] {
  if ('refused' in outcome) return [`snapshot        refused after "${exportName}" — ${outcome.refused.code}: ${outcome.refused.message}`];
  const r = outcome.report;
  const lines = [
    `snapshot        after start${r.startFunction === null ? ' (none)' : ` (function ${r.startFunction})`} and "${exportName}"; module ${r.moduleBytes} bytes`,
    `  memory        ${r.memory === null ? 'none' : `${r.memory.pages} pages (declared ${r.memory.declaredPages}), ${r.memory.dataBytes} bytes in ${r.memory.segments} data segments`}`,
    `  globals       ${r.globals.length === 0 ? 'none mutable' : r.globals.map((g) => `${g.index}: ${g.valtype} ${g.value}`).join('; ')}`,
    `  tables        ${r.tables.length === 0 ? 'none defined' : r.tables.map((t) => `${t.index}: ${t.length} entries (declared ${t.declaredLength}), ${t.entries} functions`).join('; ')}`,
  ];
  if (r.droppedData.length > 0 || r.droppedElements.length > 0) {
    lines.push(`  dropped       data ${r.droppedData.join(', ') || 'none'}; elements ${r.droppedElements.join(', ') || 'none'}`);
  }
  return lines;
}

async function inspect(argv: readonly string[], io: CliIo): Promise<number> {
  const args = parseArgs(argv, INSPECT_FLAGS, 'inspect');
  if (args.flags.has('help') || args.positionals.length !== 1) {
    io.stdout(`Usage: cowpool inspect <module.wasm> [--json] [--initialize <export>]\n\n${flagHelp(INSPECT_FLAGS)}\n`);
    return args.flags.has('help') ? 0 : 2;
  }
  const path = args.positionals[0] as string;
  const initialize = args.flags.get('initialize')?.[0];
  let bytes = readModule(path);
  let snapshot: SnapshotOutcome | null = null;
  if (initialize !== undefined) {
    const taken = await inspectSnapshot(bytes, initialize, path);
    snapshot = taken.outcome;
    bytes = taken.bytes;
  }
  const layout = prepareLayout(bytes);
  // Whether a virtual size applies (growth 'virtual'), and whether it is this module's default (a WASI module).
  const virtualLayout = layout.cow ? prepareLayout(bytes, { virtualSize: true }) : null;
  const wasiDefault = layout.cow && prepareLayout(bytes, { virtualSize: 'wasi' }).virtualSize !== null;
  const growth = {
    virtual: virtualLayout?.virtualSize !== null && virtualLayout !== null,
    reason: virtualLayout === null ? 'not pooled' : virtualLayout.virtualSizeRefusal,
    default: wasiDefault ? 'virtual' : 'retire',
  };
  // Whether the `reuse` strategy would keep this module's instance (and every reason it would not).
  const refusals = layout.cow ? reuseRefusals(bytes, layout.image) : [];
  const summary = {
    module: path,
    cow: layout.cow,
    fallbackReason: layout.fallbackReason,
    fallbackDetail: layout.fallbackDetail,
    memory: layout.memory,
    memoryImported: layout.memoryImported,
    imageBytes: layout.image.length,
    imageDataBytes: layout.imageDataBytes,
    activeSegments: layout.activeSegments,
    passiveSegments: layout.passiveSegments,
    tables: layout.tables.length,
    exports: layout.exports.length,
    reuse: { eligible: layout.cow && refusals.length === 0, refusals },
    growth,
    ...(snapshot === null ? {} : { snapshot }),
  };
  if (args.flags.has('json')) {
    io.stdout(`${JSON.stringify(summary, null, 2)}\n`);
  } else {
    const mem = layout.memory;
    io.stdout(
      [
        `module          ${path}`,
        `served as       ${layout.cow ? 'copy-on-write (pooled)' : `plain V8 instantiation — ${layout.fallbackReason}: ${layout.fallbackDetail}`}`,
        `memory          ${mem === null ? 'none' : `${mem.initialPages} pages initial, ${mem.maximumPages ?? 'no'} maximum${layout.memoryImported ? ' (imported)' : ''}`}`,
        `image           ${layout.image.length} bytes (${layout.activeSegments} active segments, ${layout.imageDataBytes} data bytes)`,
        `passive data    ${layout.passiveSegments} segments`,
        `tables/exports  ${layout.tables.length} / ${layout.exports.length}`,
        `growth          ${growth.virtual ? `virtual size possible (memory.size/grow rewritten); default ${growth.default}${growth.default === 'virtual' ? ' (a WASI module)' : " — prepare with growth: 'virtual' or host bindings"}` : `a memory that grew is retired — ${growth.reason}`}`,
        `reuse           ${!layout.cow ? 'not pooled' : refusals.length === 0 ? 'instance kept and rewound (exact)' : `new instance per tenant — ${refusals.map((r) => `${r.reason}: ${r.detail}`).join('; ')}`}`,
        ...(snapshot === null ? [] : snapshotLines(snapshot, initialize!)),
      ].join('\n') + '\n',
    );
  }
  return layout.cow && (snapshot === null || 'report' in snapshot) ? 0 : 1;
}

function checkConfig(argv: readonly string[], io: CliIo): number {
  const args = parseArgs(argv, CHECK_FLAGS, 'check-config');
  if (args.flags.has('help') || args.positionals.length !== 1) {
    io.stdout(`Usage: cowpool check-config [--raw-slots] <pool.json>\n\n${flagHelp(CHECK_FLAGS)}\n`);
    return args.flags.has('help') ? 0 : 2;
  }
  const path = args.positionals[0] as string;
  const raw = args.flags.has('raw-slots') || namesRawSlotSchema(path);
  const config = raw ? loadRawSlotPoolConfig(path) : loadConfig(path);
  io.stdout(`${path}: valid ${raw ? 'raw slot pool' : 'instance pool'} configuration\n${JSON.stringify(config, null, 2)}\n`);
  return 0;
}

/** True when the file's `$schema` points at the raw slot pool's schema (the file is read again, validated, below). */
function namesRawSlotSchema(path: string): boolean {
  try {
    const value = JSON.parse(readFileSync(path, 'utf8').replace(/^\uFEFF/, '')) as { $schema?: unknown };
    return typeof value.$schema === 'string' && value.$schema.endsWith('raw-slot-pool.schema.json');
  } catch {
    return false;
  }
}
