/// Text made safe for HTML and SVG: every character that could end an element, an
/// attribute or start an entity is written as an entity, so partner-written names can
/// never become markup.
public enum Escape {
    /// Escapes `&`, `<`, `>`, `"` and `'` (safe in element content and in quoted attributes).
    public static func html(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            default:
                // Control characters other than tab and line breaks are not allowed in XML.
                if character.value < 0x20 && character != "\t" && character != "\n" && character != "\r" {
                    result += "\u{FFFD}"
                } else {
                    result.unicodeScalars.append(character)
                }
            }
        }
        return result
    }

    /// A fragment usable in an `id` or a URL path segment: slugs pass unchanged, anything else is percent-encoded.
    public static func slug(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            let scalar = Unicode.Scalar(byte)
            if (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A)
                || scalar == "-" || scalar == "_"
            {
                result.unicodeScalars.append(scalar)
            } else {
                result += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return result
    }
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
