/* eslint @typescript-eslint/no-floating-promises: ["error", { allowForKnownSafeCalls: [{ from: "package", package: "node:test", name: ["test", "describe"] }] }] -- node:test awaits what test() and describe() return */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { buildSync } from 'esbuild';
import ts from 'typescript';
import * as main from './index.js';
import * as protocol from './protocol.js';

// The compiled entry beside this compiled test (shared/dist/protocol.js and .d.ts).
const entry = path.join(__dirname, 'protocol.js');

test('the protocol entry bundles for a browser with no Node built-in and no Buffer', () => {
  const result = buildSync({ entryPoints: [entry], bundle: true, platform: 'browser', format: 'esm', write: false, metafile: true, logLevel: 'silent' });
  const inputs = Object.keys(result.metafile.inputs);
  assert.ok(inputs.length > 1, 'the bundle follows the imports');
  for (const input of inputs) {
    assert.ok(!input.startsWith('node:') && input.startsWith(path.relative(process.cwd(), __dirname)), `${input} is not a module of shared/`);
  }
  const code = result.outputFiles[0].text;
  for (const global of ['Buffer', 'process', 'require', '__dirname']) {
    assert.doesNotMatch(code, new RegExp(`\\b${global}\\b`), `the bundle uses ${global}`);
  }
});

test('a Node built-in reachable from an entry fails that bundle (the check above can fail)', () => {
  assert.throws(() => buildSync({ entryPoints: [path.join(__dirname, 'resume.js')], bundle: true, platform: 'browser', write: false, logLevel: 'silent' }));
});

test("the protocol entry's types check with the DOM library and no Node types", () => {
  const probe = path.join(__dirname, 'protocol-probe.ts');
  const source = `import { classify, createError, ErrorCode, isErrorCode, Defaults, checkTunnelName } from ${JSON.stringify(entry)};
const kind: string = classify(createError(ErrorCode.TIMEOUT, 'x').code);
const ok: boolean = isErrorCode('TETHER_ERR_TIMEOUT') && checkTunnelName('box') === undefined && Defaults.maxFrameSize > 0;
document.title = kind + String(ok);
`;
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.Node16,
    moduleResolution: ts.ModuleResolutionKind.Node16,
    lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
    types: [],
    strict: true,
    noEmit: true,
    skipLibCheck: false,
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  host.readFile = (file) => (file === probe ? source : readFile(file));
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (file) => file === probe || fileExists(file);
  const program = ts.createProgram([probe], options, host);
  const problems = ts.getPreEmitDiagnostics(program).map((d) => `${d.file?.fileName ?? ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
  assert.deepEqual(problems, []);
});

test('the main entry still exports everything the protocol entry does, as the same values', () => {
  for (const [name, value] of Object.entries(protocol)) {
    assert.equal((main as Record<string, unknown>)[name], value, name);
  }
});
