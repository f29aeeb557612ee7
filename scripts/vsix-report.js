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
const forbidden = entries.filter((e) => /(^|\/)(src|test|out|scripts|bench|node_modules|\.vscode-host|\.vscode-test-run|\.venv[^/]*|test-results)\//.test(e.name.replace(/^extension\//, '')) || /\.(map|ts)$/.test(e.name));
const total = entries.reduce((n, e) => n + e.size, 0);
console.log(`${file}: ${(fs.statSync(file).size / 1024).toFixed(0)} KB packed, ${(total / 1024).toFixed(0)} KB unpacked, ${entries.length} files`);
for (const e of entries.sort((a, b) => b.size - a.size)) console.log(`  ${(e.size / 1024).toFixed(1).padStart(8)} KB  ${e.name}`);
if (forbidden.length) {
  console.error(`the package ships files it should not:\n${forbidden.map((e) => `  ${e.name}`).join('\n')}`);
  process.exit(1);
}
