// Lists what a .vsix contains and fails if it ships anything it should not (sources, tests, the
// VS Code host, virtualenvs, source maps), so .vscodeignore regressions are caught.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');

const file = process.argv[2];
if (!file || !fs.existsSync(file)) {
  console.error('usage: node scripts/vsix-report.js <file.vsix>');
  process.exit(2);
}
const listing = execFileSync('python3', ['-c', 'import sys,zipfile;[print(i.file_size, i.filename) for i in zipfile.ZipFile(sys.argv[1]).infolist()]', file], { encoding: 'utf8' });
const entries = listing.trim().split('\n').map((l) => {
  const i = l.indexOf(' ');
  return { size: Number(l.slice(0, i)), name: l.slice(i + 1) };
});
const forbidden = entries.filter((e) => /(^|\/)(src|test|out|scripts|bench|node_modules|\.vscode-host|\.vscode-test-run|\.venv[^/]*|test-results)(\/|$)/.test(e.name.replace(/^extension\//, '')) || /\.(map|ts)$/.test(e.name));
const total = entries.reduce((n, e) => n + e.size, 0);
console.log(`${file}: ${(fs.statSync(file).size / 1024).toFixed(0)} KB packed, ${(total / 1024).toFixed(0)} KB unpacked, ${entries.length} files`);
for (const e of entries.sort((a, b) => b.size - a.size)) console.log(`  ${(e.size / 1024).toFixed(1).padStart(8)} KB  ${e.name}`);
if (forbidden.length) {
  console.error(`the package ships files it should not:\n${forbidden.map((e) => `  ${e.name}`).join('\n')}`);
  process.exit(1);
}

// The extension forks dist/cli.js from its installed folder as the tracking server: it must be in
// the package with the WASM beside it, and run from an unpacked copy with no node_modules at all.
const required = ['extension/dist/extension.js', 'extension/dist/cli.js', 'extension/dist/cli-main.js', 'extension/dist/sql-wasm.wasm', 'extension/package.json'];
const missing = required.filter((r) => !entries.some((e) => e.name === r));
if (missing.length) {
  console.error(`the package lacks what the extension needs at run time:\n${missing.map((m) => `  ${m}`).join('\n')}`);
  process.exit(1);
}
smokeInstalledCli(file).then(
  (line) => console.log(`installed CLI: ${line}`),
  (err) => {
    console.error(`the packaged dist/cli.js does not serve from an unpacked copy: ${err.message}`);
    process.exit(1);
  },
);

async function smokeInstalledCli(vsix) {
  const os = require('node:os');
  const path = require('node:path');
  const { spawn } = require('node:child_process');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-vsix-'));
  try {
    execFileSync('python3', ['-c', 'import sys,zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])', vsix, dir]);
    const cli = path.join(dir, 'extension', 'dist', 'cli.js');
    const version = execFileSync(process.execPath, [cli, '--version'], { cwd: dir, encoding: 'utf8' }).trim();
    const child = spawn(process.execPath, [cli, 'serve', '--port', '0', '--root', path.join(dir, 'store')], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const url = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "listening" line in 30 s; stderr: ${err}`)), 30_000);
      child.stdout.on('data', (d) => {
        out += d;
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      child.once('exit', (code) => reject(new Error(`exited with ${code}; stderr: ${err}`)));
    });
    const health = await (await fetch(`${url}/health`)).text();
    const stopped = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const code = await stopped;
    if (health !== 'OK' || code !== 0) throw new Error(`health ${health}, exit ${code}; stderr: ${err}`);
    return `version ${version}; served ${url} from ${path.relative(dir, cli)} (health OK, clean stop)`;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
