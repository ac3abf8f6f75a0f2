/// Every target, by name; `Fuzz/Corpus/` holds one directory per name, and the runner
/// (scripts/fuzz.sh) checks the two lists are the same.
let allTargets: [FuzzTarget] = WireTargets.targets + PayloadTargets.targets
