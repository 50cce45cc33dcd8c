// Compile a Solidity source tree with solc-js's raw soljson (no npm dependencies needed).
// usage: node solc_compile.js <soljson.js> <src root> <out.json> <optimizer runs> <evm version>
"use strict";
const fs = require("fs");
const path = require("path");
const [soljsonPath, root, out, runs, evmVersion] = process.argv.slice(2);
const soljson = require(path.resolve(soljsonPath));
const compile = soljson.cwrap("solidity_compile", "string", ["string", "number", "number"]);
const sources = {};
(function walk(dir) {
  for (const name of fs.readdirSync(dir).sort()) {
    const p = path.join(dir, name);
    if (fs.statSync(p).isDirectory()) walk(p);
    else if (p.endsWith(".sol")) sources[path.relative(root, p)] = { content: fs.readFileSync(p, "utf8") };
  }
})(root);
const input = {
  language: "Solidity",
  sources,
  settings: {
    optimizer: { enabled: true, runs: Number(runs) },
    evmVersion,
    outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } },
  },
};
const result = JSON.parse(compile(JSON.stringify(input), 0, 0));
const errors = (result.errors || []).filter((e) => e.severity === "error");
if (errors.length) {
  process.stderr.write(errors.map((e) => e.formattedMessage).join("\n"));
  process.exit(1);
}
fs.writeFileSync(out, JSON.stringify({ version: soljson.cwrap("solidity_version", "string", [])(), contracts: result.contracts }));
