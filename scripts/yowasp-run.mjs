// Runs a YoWASP tool (WebAssembly, in-memory file system) like a command-line program: every argument naming an
// existing file is copied in, every file named after an output option is copied out, exit code passed through.
// Usage: node yowasp-run.mjs nextpnr-ice40 ARGS...   (installed by scripts/setup-pnr.sh beside node_modules)
import fs from 'node:fs';
import path from 'node:path';

const packages = { 'nextpnr-ice40': '@yowasp/nextpnr-ice40' };
const outputOptions = new Set(['--asc', '--write', '--report', '--sdf', '--placed-svg', '--routed-svg', '--log', '-l']);
const [tool, ...args] = process.argv.slice(2);
if (!packages[tool]) {
  process.stderr.write(`yowasp-run: unknown tool '${tool}' (known: ${Object.keys(packages).join(', ')})\n`);
  process.exit(2);
}
const { commands } = await import(packages[tool]);

const files = { in: {}, out: {} };
const outputs = [];
const mapped = args.map((a, i) => {
  const name = `${i}_${path.basename(a)}`;
  if (i > 0 && outputOptions.has(args[i - 1])) {
    outputs.push([`out/${name}`, a]);
    return `out/${name}`;
  }
  if (!a.startsWith('-') && fs.existsSync(a) && fs.statSync(a).isFile()) {
    files.in[name] = fs.readFileSync(a);
    return `in/${name}`;
  }
  return a;
});

const write = stream => bytes => { if (bytes !== null) stream.write(bytes); };
let code = 0, tree;
try {
  tree = await commands[tool](mapped, files, { stdout: write(process.stdout), stderr: write(process.stderr), decodeASCII: false });
} catch (e) {
  if (e && typeof e.code === 'number' && e.files) { code = e.code; tree = e.files; }
  else throw e;
}
for (const [virtual, real] of outputs) {
  const content = virtual.split('/').reduce((t, k) => (t && typeof t === 'object' && !(t instanceof Uint8Array) ? t[k] : undefined), tree);
  if (content !== undefined && typeof content !== 'object' || content instanceof Uint8Array) fs.writeFileSync(real, content);
}
process.exitCode = code;
