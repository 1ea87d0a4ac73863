import Foundation
import Logging
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// Gives memory the process freed back to the system after large requests.
///
/// glibc's allocator keeps freed memory instead of returning it, and spreads a busy
/// process over up to eight arenas a core, each keeping its own: after ten 100,000-row
/// uploads the process held 199–262 MiB though it used a few dozen, and `malloc_trim`
/// alone brought it down only to 205–252 MiB (what is free is scattered between what is
/// not, in every arena). So `limitArenas()` caps the arenas at two before the server
/// starts (no slower: ten uploads took 40.6 s with two, 44.1 s with the default), and
/// once a burst is over (the resident size steady for an `interval`) while the process
/// holds more than `growth` above where it started, this asks glibc to return free pages
/// (`malloc_trim(0)`), once per burst. A quiet server costs one read of `/proc/self/statm`
/// per interval. Figures: BENCH.md; see docs/request-path.md, "Memory".
struct FreedMemoryReturn: Service {
    var interval: Duration = .seconds(5)
    var growth = 8 * 1024 * 1024
    let logger: Logger

    func run() async throws {
        guard let trim = Self.glibc("malloc_trim", as: (@convention(c) (Int) -> Int32).self),
            let baseline = Self.residentBytes()
        else { return }
        await cancelWhenGracefulShutdown {
            var previous = baseline
            var trimmed = true
            while true {
                // Cancelled on shutdown: that ends the loop, it is not a failure of the service.
                guard (try? await Task.sleep(for: interval)) != nil, let resident = Self.residentBytes() else { return }
                if abs(resident - previous) > 1024 * 1024 {  // busy: wait until it is over
                    (previous, trimmed) = (resident, false)
                    continue
                }
                guard !trimmed, resident > baseline + growth else { continue }
                _ = trim(0)
                (previous, trimmed) = (Self.residentBytes() ?? resident, true)
                logger.debug(
                    "returned freed memory",
                    metadata: ["before_mib": "\(resident >> 20)", "after_mib": "\(previous >> 20)"])
            }
        }
    }

    /// Caps glibc's arenas at two (`mallopt(M_ARENA_MAX, 2)`); call it before the threads start.
    static func limitArenas() {
        guard let mallopt = glibc("mallopt", as: (@convention(c) (Int32, Int32) -> Int32).self) else { return }
        let arenaMax: Int32 = -8  // M_ARENA_MAX in <malloc.h>
        _ = mallopt(arenaMax, 2)
    }

    /// The process's resident set in bytes (`/proc/self/statm`), when the system says.
    static func residentBytes() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// A glibc function looked up at run time: Swift's Glibc module does not import
    /// `<malloc.h>`, and another C library (musl, macOS) has no such call.
    static func glibc<Function>(_ name: String, as type: Function.Type) -> Function? {
        #if canImport(Glibc)
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else { return nil }
        return unsafeBitCast(symbol, to: type)
        #else
        return nil
        #endif
    }
}
