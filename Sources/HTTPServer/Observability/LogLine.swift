import JSON
import UTCTime

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How log lines are written: `text` (logfmt, `key=value`) or `json` (one object a line).
public enum LogFormat: String, Sendable, CaseIterable {
    case text
    case json
}

/// One log line, built into a byte buffer and handed whole to `LogOutput`.
///
/// The request log writes one of these per request, so it avoids what makes logging
/// expensive: no Foundation date formatting (the timestamp is `clock_gettime` and
/// arithmetic on the day number, digits written by hand), no metadata dictionary, no
/// string interpolation; a line is one small array, written in batches by `LogOutput`.
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

    /// Ends the line and hands it to `LogOutput`.
    mutating func write() {
        if format == .json { bytes.append(UInt8(ascii: "}")) }
        bytes.append(UInt8(ascii: "\n"))
        LogOutput.write(bytes)
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
        let plain =
            !value.isEmpty
            && value.utf8.allSatisfy { $0 > 0x20 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "=") && $0 != 0x7F }
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

    /// `2026-11-25T15:01:32.123Z`, UTC (`UTCTimestamp`).
    private mutating func appendTimestamp() {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        UTCTimestamp.write(
            seconds: Int(now.tv_sec), fraction: Int(now.tv_nsec) / 1_000_000, fractionDigits: 3, into: &bytes)
    }
}
