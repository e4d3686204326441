#!/usr/bin/env node
// Steward runs its TypeScript sources directly (Node strips types since 22.18).
// `npm start` / `npx steward` use the project's pinned Node 24; a bare system Node that
// is too old gets a clear message instead of a syntax error.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  console.error(`steward: Node ${process.versions.node} is too old; Steward needs Node >= 22.18.\n` +
    'Run it through npm (npm start, npx steward …), which uses the Node 24 pinned in package.json.');
  process.exit(1);
}
await import('../src/cli/main.ts');
