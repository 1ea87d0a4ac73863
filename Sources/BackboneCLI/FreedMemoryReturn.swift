import Foundation
import Logging
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// Gives memory the process freed back to the system after large requests.
///
/// glibc's allocator keeps freed memory in its arenas (one per thread that allocated,
/// up to eight per core) instead of returning it: after ten 100,000-row uploads the
/// process stayed at hundreds of MiB though it held a few dozen. Every `interval`, when
/// the resident size has grown by more than `growth` since the last look, this asks
/// glibc to return free pages (`malloc_trim(0)`, which walks every arena). A quiet
/// server costs one read of `/proc/self/statm` per interval. See docs/request-path.md.
struct FreedMemoryReturn: Service {
    var interval: Duration = .seconds(5)
    var growth = 32 * 1024 * 1024
    let logger: Logger

    func run() async throws {
        guard let trim = Self.mallocTrim, let start = Self.residentBytes() else { return }
        await cancelWhenGracefulShutdown {
            var settled = start
            while true {
                // Cancelled on shutdown: that ends the loop, it is not a failure of the service.
                guard (try? await Task.sleep(for: interval)) != nil, let resident = Self.residentBytes() else { return }
                guard resident > settled + growth else {
                    settled = min(settled, resident)
                    continue
                }
                _ = trim(0)
                settled = Self.residentBytes() ?? resident
                logger.debug(
                    "returned freed memory",
                    metadata: ["before_mib": "\(resident >> 20)", "after_mib": "\(settled >> 20)"])
            }
        }
    }

    /// The process's resident set in bytes (`/proc/self/statm`), when the system says.
    static func residentBytes() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// glibc's `malloc_trim`, looked up at run time: Swift's Glibc module does not import
    /// `<malloc.h>`, and another allocator (musl, macOS) has no such call.
    static let mallocTrim: (@convention(c) (Int) -> Int32)? = {
        #if canImport(Glibc)
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
        #else
        return nil
        #endif
    }()
}
