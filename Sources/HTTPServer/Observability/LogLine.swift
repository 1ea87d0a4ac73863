#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import JSON

/// How log lines are written: `text` (logfmt, `key=value`) or `json` (one object a line).
public enum LogFormat: String, Sendable, CaseIterable {
    case text
    case json
}

/// One log line, built into a byte buffer and written with a single `write(2)`.
///
/// The request log writes one of these per request, so it avoids what makes logging
/// expensive: no Foundation date formatting (the timestamp is `clock_gettime` and
/// `gmtime_r`, digits written by hand), no metadata dictionary, no string
/// interpolation; a line is one small array and one system call.
struct LogLine {
    private(set) var bytes: [UInt8] = []
    let format: LogFormat

    init(format: LogFormat, level: StaticString, message: String) {
        self.format = format
        bytes.reserveCapacity(320)
        switch format {
        case .text:
            appendTimestamp()
            bytes.append(UInt8(ascii: " "))
            append(level)
            bytes.append(UInt8(ascii: " "))
            appendText(message)
        case .json:
            append("{\"time\":\"")
            appendTimestamp()
            append("\",\"level\":\"")
            append(level)
            append("\",\"message\":")
            appendQuoted(message)
        }
    }

    /// A text field; an absent value writes nothing.
    mutating func field(_ name: String, _ value: String?) {
        guard let value else { return }
        beginField(name)
        switch format {
        case .text: appendText(value)
        case .json: appendQuoted(value)
        }
    }

    /// A whole number.
    mutating func field(_ name: String, _ value: Int) {
        beginField(name)
        appendInteger(value)
    }

    /// Thousandths written as a decimal (`duration_ms` from microseconds: 1234 → 1.234).
    mutating func field(_ name: String, thousandths value: Int) {
        beginField(name)
        appendInteger(value / 1000)
        bytes.append(UInt8(ascii: "."))
        let fraction = value % 1000
        if fraction < 100 { bytes.append(UInt8(ascii: "0")) }
        if fraction < 10 { bytes.append(UInt8(ascii: "0")) }
        appendInteger(fraction)
    }

    /// Ends the line and writes it to standard error in one call.
    mutating func write() {
        if format == .json { bytes.append(UInt8(ascii: "}")) }
        bytes.append(UInt8(ascii: "\n"))
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(2, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }

    // MARK: Pieces

    private mutating func beginField(_ name: String) {
        switch format {
        case .text:
            bytes.append(UInt8(ascii: " "))
            bytes.append(contentsOf: name.utf8)
            bytes.append(UInt8(ascii: "="))
        case .json:
            bytes.append(UInt8(ascii: ","))
            appendQuoted(name)
            bytes.append(UInt8(ascii: ":"))
        }
    }

    private mutating func append(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// logfmt: plain when it can be, otherwise quoted with `\"`, `\\`, `\n` escapes.
    private mutating func appendText(_ value: String) {
        let plain = !value.isEmpty && value.utf8.allSatisfy { $0 > 0x20 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "=") && $0 != 0x7F }
        if plain {
            bytes.append(contentsOf: value.utf8)
        } else {
            appendQuoted(value)
        }
    }

    /// A JSON string literal (also valid as a quoted logfmt value).
    private mutating func appendQuoted(_ value: String) {
        JSONValue.writeString(value, into: &bytes)
    }

    private mutating func appendInteger(_ value: Int) {
        if value < 0 {
            bytes.append(UInt8(ascii: "-"))
            appendInteger(-value)
            return
        }
        if value >= 10 { appendInteger(value / 10) }
        bytes.append(UInt8(ascii: "0") + UInt8(value % 10))
    }

    private mutating func appendDigits(_ value: Int, width: Int) {
        var divisor = 1
        for _ in 1..<width { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(rest / divisor % 10))
            rest %= divisor
            divisor /= 10
        }
    }

    /// `2026-11-25T15:01:32.123Z`, UTC.
    private mutating func appendTimestamp() {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        appendDigits(Int(parts.tm_year) + 1900, width: 4)
        bytes.append(UInt8(ascii: "-"))
        appendDigits(Int(parts.tm_mon) + 1, width: 2)
        bytes.append(UInt8(ascii: "-"))
        appendDigits(Int(parts.tm_mday), width: 2)
        bytes.append(UInt8(ascii: "T"))
        appendDigits(Int(parts.tm_hour), width: 2)
        bytes.append(UInt8(ascii: ":"))
        appendDigits(Int(parts.tm_min), width: 2)
        bytes.append(UInt8(ascii: ":"))
        appendDigits(Int(parts.tm_sec), width: 2)
        bytes.append(UInt8(ascii: "."))
        appendDigits(Int(now.tv_nsec) / 1_000_000, width: 3)
        bytes.append(UInt8(ascii: "Z"))
    }
}
