import Glibc

/// The first line of a `/proc` file (its first 255 bytes at most), or nil when the file
/// cannot be read (a thread's entry vanishes when the thread ends).
func procFirstLine(_ path: String) -> String? {
  let descriptor = open(path, O_RDONLY | O_CLOEXEC)
  guard descriptor >= 0 else { return nil }
  defer { close(descriptor) }
  var buffer = [UInt8](repeating: 0, count: 256)
  let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count - 1) }
  guard count > 0 else { return nil }
  return String(decoding: buffer[..<count].prefix { $0 != UInt8(ascii: "\n") }, as: UTF8.self)
}

/// The space-separated fields of a `/proc` file's first line, each as a number (nil for a
/// field that is not one); nil when the file cannot be read.
func procFirstLineNumbers(_ path: String) -> [UInt64?]? {
  procFirstLine(path)?.split(separator: " ").map { UInt64($0) }
}
