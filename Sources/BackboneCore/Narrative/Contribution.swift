import Aggregation
import Foundation

/// What a partner writes about an indicator for a period: what it did, what it sees. Seen by
/// the coordinator and its partner only, until the coordinator quotes it (docs/stories.md).
public struct Contribution: Sendable {
    public var id: Int
    public var indicator: String
    public var period: Period
    /// The partner that wrote it.
    public var partner: String
    public var text: String
    /// Whether the coordinator quotes it (in the board packet, under the partner's name):
    /// then every key may read it.
    public var quoted: Bool
    public var createdAt: Date
    public var updatedAt: Date

    /// The most characters (Unicode code points) a contribution may hold.
    public static let maximumLength = 2000
}
