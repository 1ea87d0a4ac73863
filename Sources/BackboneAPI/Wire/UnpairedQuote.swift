import Foundation

/// A CSV body whose quotes do not pair up (RFC 4180 §2), found before the rows are read.
///
/// A CSV reader that meets an opening quote with no closing one reads every line after
/// it into that one field: rows 3 and 4 would silently become part of row 2's note. The
/// body is refused instead, naming the line where the quote opened.
struct UnpairedQuote: Sendable, Equatable {
    /// `unterminated-quote` (a quoted field never closed) or `text-after-quote` (a closing
    /// quote followed by something other than the separator or a line break).
    var code: String
    /// The line of the body (the header is line 1) where the problem starts.
    var line: Int
    /// The data row (counted from 1 after the header, as in the import's errors); 0 for the header.
    var row: Int
    /// Which field of its row (0-based); the caller names it from the header.
    var fieldIndex: Int

    private enum State { case fieldStart, unquoted, quoted, quoteInQuoted, afterQuote }

    /// Scans `bytes` once; `nil` when every quoted field is closed properly. `delimiter`
    /// separates fields (`,`, or `;` for a semicolon-separated spreadsheet export).
    static func check(_ bytes: Data, delimiter: UInt8 = UInt8(ascii: ",")) -> UnpairedQuote? {
        let quote = UInt8(ascii: "\""), comma = delimiter, lf: UInt8 = 0x0A, cr: UInt8 = 0x0D
        var state = State.fieldStart
        var line = 1, record = 0, field = 0
        var opened = (line: 1, record: 0, field: 0)
        var previous: UInt8 = 0
        for byte in bytes {
            defer { previous = byte }
            let isBlank = byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t")
            // CRLF is one line break; a break inside quotes belongs to the field.
            let isBreak = byte == cr || (byte == lf && previous != cr)
            if isBreak { line += 1 }
            if state == .quoted {
                if byte == quote { state = .quoteInQuoted }
                continue
            }
            if state == .quoteInQuoted, byte == quote {
                state = .quoted  // an escaped quote ("")
                continue
            }
            if byte == comma {
                state = .fieldStart
                field += 1
            } else if isBreak {
                state = .fieldStart
                record += 1
                field = 0
            } else if byte == lf {
                continue  // the LF of a CRLF
            } else {
                switch state {
                case .fieldStart:
                    if byte == quote {
                        state = .quoted
                        opened = (line, record, field)
                    } else if !isBlank {
                        state = .unquoted
                    }
                case .quoteInQuoted, .afterQuote:
                    guard isBlank else {
                        return UnpairedQuote(code: "text-after-quote", line: line, row: record, fieldIndex: field)
                    }
                    state = .afterQuote
                case .unquoted, .quoted:
                    break
                }
            }
        }
        if state == .quoted {
            return UnpairedQuote(
                code: "unterminated-quote", line: opened.line, row: opened.record, fieldIndex: opened.field)
        }
        return nil
    }
}
