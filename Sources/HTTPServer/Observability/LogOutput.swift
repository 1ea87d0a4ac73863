import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
private let systemWrite = Glibc.write
#elseif canImport(Darwin)
import Darwin
private let systemWrite = Darwin.write
#endif

/// Writes finished log lines to standard error, in batches on event loops.
///
/// A line logged on an event loop's thread joins that thread's pending batch; the first
/// line of a batch asks the loop to write the batch once it has handled the events at hand,
/// so under load one `write(2)` carries many lines, and when idle a line still goes out in
/// the same turn of the loop. Lines logged on any other thread are written at once. One
/// thread's lines keep their order; lines of different threads never had one.
enum LogOutput {
    /// One thread's pending lines; only that thread ever touches it.
    private final class Batch: @unchecked Sendable {
        var bytes: [UInt8] = []
        var scheduled = false
    }

    private static let batches = ThreadSpecificVariable<Batch>()
    /// A batch this large is written without waiting for the end of the loop's turn.
    private static let limit = 64 * 1024

    static func write(_ line: [UInt8]) {
        guard let loop = MultiThreadedEventLoopGroup.currentEventLoop else {
            writeAll(line)
            return
        }
        let batch: Batch
        if let current = batches.currentValue {
            batch = current
        } else {
            batch = Batch()
            batch.bytes.reserveCapacity(limit)
            batches.currentValue = batch
        }
        batch.bytes.append(contentsOf: line)
        if batch.bytes.count >= limit {
            flush(batch)
        } else if !batch.scheduled {
            batch.scheduled = true
            loop.execute { flush(batch) }
        }
    }

    private static func flush(_ batch: Batch) {
        writeAll(batch.bytes)
        batch.bytes.removeAll(keepingCapacity: true)
        batch.scheduled = false
    }

    private static func writeAll(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = systemWrite(2, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }
}
