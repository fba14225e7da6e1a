import ConcurrentBus

// Runs each probe once so they are linked and exercised; the interesting output is the
// machine code, read by Scripts/check-hot-path.sh.
runProbes()
runQSBRProbes()
