import Foundation

/// A representation a route can answer with: its media type and its `?format=` name.
public struct Representation: Sendable, Hashable, CustomStringConvertible {
    /// The media type, lowercased, without parameters (`text/csv`).
    public let mediaType: String
    /// The name `?format=` selects it by (`csv`).
    public let format: String

    /// A representation named `format` in `?format=`, sent as `mediaType`.
    public init(mediaType: String, format: String) {
        self.mediaType = mediaType.lowercased()
        self.format = format
    }

    /// `application/json`, `?format=json`.
    public static let json = Representation(mediaType: "application/json", format: "json")
    /// `text/csv`, `?format=csv`.
    public static let csv = Representation(mediaType: "text/csv", format: "csv")
    /// `application/yaml` (the contract).
    public static let yaml = Representation(mediaType: "application/yaml", format: "yaml")

    public var description: String { mediaType }
}

/// Proactive content negotiation on `Accept` (RFC 9110 §12.5.1).
///
/// Each offer gets the weight of the most specific media range that matches it
/// (`text/csv` before `text/*` before `*/*`; parameters other than `q` are ignored);
/// an offer no range matches, or whose range says `q=0`, is not acceptable. The offer
/// with the highest weight wins, and among equals the route's first offer (JSON), so a
/// client that allows both equally gets JSON. Without an `Accept` header (or with one
/// that has no readable media range) the first offer is chosen.
public enum ContentNegotiation {
    /// One element of an `Accept` header.
    public struct MediaRange: Sendable, Equatable {
        public var type: String
        public var subtype: String
        /// The weight, 0…1 (`q`; 1 when absent).
        public var quality: Double

        /// A range such as `text/*;q=0.5` (`type` and `subtype` lowercased).
        public init(type: String, subtype: String, quality: Double = 1) {
            self.type = type
            self.subtype = subtype
            self.quality = quality
        }

        /// 3 for `type/subtype`, 2 for `type/*`, 1 for `*/*`, nil if it does not match.
        func specificity(for mediaType: String) -> Int? {
            let parts = mediaType.split(separator: "/", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { return nil }
            if type == "*" && subtype == "*" { return 1 }
            guard type == parts[0] else { return nil }
            if subtype == "*" { return 2 }
            return subtype == parts[1] ? 3 : nil
        }
    }

    /// The media ranges of an `Accept` header; malformed elements are skipped.
    public static func parse(_ header: String) -> [MediaRange] {
        header.split(separator: ",").compactMap { element -> MediaRange? in
            let pieces = element.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let range = pieces.first else { return nil }
            let parts = range.lowercased().split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, parts[0] != "*" || parts[1] == "*" else {
                return nil
            }
            var quality = 1.0
            for parameter in pieces.dropFirst() {
                let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard pair.count == 2, pair[0].lowercased() == "q" else { continue }
                guard let weight = Double(pair[1]), (0...1).contains(weight) else { return nil }
                quality = weight
            }
            return MediaRange(type: parts[0], subtype: parts[1], quality: quality)
        }
    }

    /// The weight `ranges` give `offer`: that of the most specific matching range, 0 if none.
    public static func quality(of offer: Representation, in ranges: [MediaRange]) -> Double {
        var best: (specificity: Int, quality: Double)?
        for range in ranges {
            guard let specificity = range.specificity(for: offer.mediaType) else { continue }
            if best == nil || specificity > best!.specificity
                || (specificity == best!.specificity && range.quality > best!.quality)
            {
                best = (specificity, range.quality)
            }
        }
        return best?.quality ?? 0
    }

    /// The representation to answer with, or nil when the client accepts none of `offers`.
    public static func choose(_ offers: [Representation], accept: String?) -> Representation? {
        guard let first = offers.first else { return nil }
        guard let accept else { return first }
        let ranges = parse(accept)
        guard !ranges.isEmpty else { return first }
        var chosen: (offer: Representation, quality: Double)?
        for offer in offers {
            let quality = quality(of: offer, in: ranges)
            if quality > 0, quality > (chosen?.quality ?? 0) { chosen = (offer, quality) }
        }
        return chosen?.offer
    }
}
