// Runs before every npm script that starts Node on this project's TypeScript. Plain JavaScript that any Node
// can parse, so an old Node gets one line naming the version it needs instead of ERR_UNKNOWN_FILE_EXTENSION.
// Node runs .ts files itself (type stripping) from 22.18 on the 22 line, and from 23.6.
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
const supported = major >= 24 || (major === 23 && minor >= 6) || (major === 22 && minor >= 18);
if (!supported) {
  console.error(
    `hubspot-sync needs Node.js 22.18 or newer (24 recommended); this is Node.js ${process.versions.node}`,
  );
  process.exit(1);
}
