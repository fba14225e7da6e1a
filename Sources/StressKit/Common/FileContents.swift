import Foundation

/// A file's bytes, or nil when it cannot be opened.
///
/// Through FileHandle: `String(contentsOf:encoding:)` leaks its buffer in this Foundation,
/// and under Scripts/asan.sh LeakSanitizer then replaces the process's exit status (a
/// `stress faults` report was lost that way). The tests read their children's output
/// through this too.
func fileContents(at url: URL) -> Data? {
  guard let file = FileHandle(forReadingAtPath: url.path) else { return nil }
  defer { try? file.close() }
  return file.readDataToEndOfFile()
}
