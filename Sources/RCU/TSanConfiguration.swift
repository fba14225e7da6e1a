import CURCU

/// Traps when this module and the CURCU C files disagree about ThreadSanitizer annotations.
///
/// `swift build --sanitize=thread` alone instruments the C files with the annotations but
/// inlines the unannotated header paths into Swift, which makes TSan report liburcu's own
/// protocol as races (false reports) while the C side acquires a token nobody releases.
/// Writers check this before every grace period: cold path, one call.
@inline(never)
func checkTSanConfiguration() {
  if curcu_tsan_mismatch() {
    fatalError(
      "CURCU: TSan build without -Xcc -DCURCU_TSAN=1; the annotations would not reach Swift code (use Scripts/tsan.sh)"
    )
  }
}
